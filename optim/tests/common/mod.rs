//! Shared by the integration tests: the PyTorch reference fixture
//! (`tests/reference/reference.json`, format in `make_reference.py`), the two reference
//! problems rebuilt with tapegrad tensors, and optimizers built from the fixture's options.

#![allow(dead_code)] // each test binary uses its own part of this module

use std::sync::OnceLock;

use serde_json::Value;
use tapegrad_autograd::{Element, Tensor, lit};
use tapegrad_optim::{
    Adagrad, AdagradConfig, Adam, AdamConfig, AdamW, AdamWConfig, Optimizer, RmsProp, RmsPropConfig, Sgd, SgdConfig,
};

/// The parsed fixture.
pub fn reference() -> &'static Value {
    static REFERENCE: OnceLock<Value> = OnceLock::new();
    REFERENCE.get_or_init(|| {
        serde_json::from_str(include_str!("../reference/reference.json")).expect("reference.json is valid JSON")
    })
}

pub fn f64s(v: &Value) -> Vec<f64> {
    v.as_array().expect("an array").iter().map(|x| x.as_f64().expect("a number")).collect()
}

pub fn usizes(v: &Value) -> Vec<usize> {
    v.as_array().expect("an array").iter().map(|x| x.as_u64().expect("an integer") as usize).collect()
}

/// A fixture tensor `{"shape", "values"}` as a tapegrad tensor.
pub fn tensor<T: Element>(v: &Value) -> Tensor<T> {
    let values = f64s(&v["values"]).into_iter().map(lit::<T>).collect();
    Tensor::from_vec(values, &usizes(&v["shape"])).expect("shape matches values")
}

/// One of the fixture's problems: fresh parameters at the start values, and its loss.
pub struct Problem<T: Element> {
    pub name: String,
    pub params: Vec<Tensor<T>>,
    data: Vec<(String, Tensor<T>)>,
}

impl<T: Element> Problem<T> {
    pub fn new(name: &str) -> Self {
        let spec = &reference()["problems"][name];
        let params = spec["params"].as_array().unwrap().iter().map(|p| tensor::<T>(p).requires_grad()).collect();
        let data = spec["data"].as_object().unwrap().iter().map(|(k, v)| (k.clone(), tensor::<T>(v))).collect();
        Problem { name: name.to_string(), params, data }
    }

    fn data(&self, name: &str) -> &Tensor<T> {
        &self.data.iter().find(|(n, _)| n == name).expect("data tensor").1
    }

    /// The loss, written as make_reference.py's `loss_fn`.
    pub fn loss(&self) -> Tensor<T> {
        match self.name.as_str() {
            // f(w) = ½ wᵀAw − bᵀw; params[1] ("unused") never enters the loss.
            "quadratic" => {
                let w = &self.params[0];
                let quadratic = w.mul_scalar(lit(0.5)).matmul(&self.data("A").matmul(w));
                quadratic - self.data("b").matmul(w)
            }
            // tanh(X W1ᵀ + b1) W2ᵀ + b2, mean squared error against Y.
            "mlp" => {
                let [w1, b1, w2, b2] = &self.params[..] else { panic!("mlp has four parameters") };
                let hidden = (self.data("X").matmul(&w1.t()) + b1).tanh();
                let out = hidden.matmul(&w2.t()) + b2;
                (out - self.data("Y")).square().mean()
            }
            other => panic!("unknown problem {other}"),
        }
    }

    /// One training step: fresh gradients, then the optimizer's update. Returns the loss.
    pub fn train_step(&self, opt: &mut dyn Optimizer<T>) -> f64 {
        opt.zero_grad();
        let loss = self.loss();
        loss.backward();
        opt.step();
        loss.item().to_f64().unwrap()
    }
}

fn number(v: &Value) -> f64 {
    v.as_f64().expect("a number")
}

fn flag(v: &Value) -> bool {
    v.as_bool().expect("a boolean")
}

/// The optimizer `kind` (torch's class name) over `params`, configured by the fixture's
/// `options` (torch's keyword arguments). An option this function does not know fails the
/// test, so options added to the script cannot be silently ignored.
pub fn optimizer<T: Element>(kind: &str, options: &Value, params: Vec<Tensor<T>>) -> Box<dyn Optimizer<T>> {
    let options = options.as_object().expect("options object");
    let unknown = |key: &str| -> ! { panic!("{kind}: the tests do not know option {key}") };
    match kind {
        "SGD" => {
            let mut c = SgdConfig::default();
            for (key, v) in options {
                match key.as_str() {
                    "lr" => c.lr = number(v),
                    "momentum" => c.momentum = number(v),
                    "dampening" => c.dampening = number(v),
                    "weight_decay" => c.weight_decay = number(v),
                    "nesterov" => c.nesterov = flag(v),
                    _ => unknown(key),
                }
            }
            Box::new(Sgd::new(params, c).unwrap())
        }
        "Adam" | "AdamW" => {
            let mut c = if kind == "Adam" { AdamConfig::default() } else { AdamWConfig::default().into() };
            for (key, v) in options {
                match key.as_str() {
                    "lr" => c.lr = number(v),
                    "betas" => c.betas = (number(&v[0]), number(&v[1])),
                    "eps" => c.eps = number(v),
                    "weight_decay" => c.weight_decay = number(v),
                    "amsgrad" => c.amsgrad = flag(v),
                    _ => unknown(key),
                }
            }
            if kind == "Adam" {
                Box::new(Adam::new(params, c).unwrap())
            } else {
                let c = AdamWConfig {
                    lr: c.lr,
                    betas: c.betas,
                    eps: c.eps,
                    weight_decay: c.weight_decay,
                    amsgrad: c.amsgrad,
                };
                Box::new(AdamW::new(params, c).unwrap())
            }
        }
        "Adagrad" => {
            let mut c = AdagradConfig::default();
            for (key, v) in options {
                match key.as_str() {
                    "lr" => c.lr = number(v),
                    "lr_decay" => c.lr_decay = number(v),
                    "weight_decay" => c.weight_decay = number(v),
                    "initial_accumulator_value" => c.initial_accumulator_value = number(v),
                    "eps" => c.eps = number(v),
                    _ => unknown(key),
                }
            }
            Box::new(Adagrad::new(params, c).unwrap())
        }
        "RMSprop" => {
            let mut c = RmsPropConfig::default();
            for (key, v) in options {
                match key.as_str() {
                    "lr" => c.lr = number(v),
                    "alpha" => c.alpha = number(v),
                    "eps" => c.eps = number(v),
                    "weight_decay" => c.weight_decay = number(v),
                    "momentum" => c.momentum = number(v),
                    "centered" => c.centered = flag(v),
                    _ => unknown(key),
                }
            }
            Box::new(RmsProp::new(params, c).unwrap())
        }
        other => panic!("unknown optimizer {other}"),
    }
}

/// The fixture's optimizer cases.
pub fn optimizer_cases() -> &'static [Value] {
    reference()["optimizers"].as_array().expect("optimizer cases")
}

/// |actual − expected| ≤ tol · (1 + |expected|): absolute near zero, relative for large values.
pub fn close(actual: f64, expected: f64, tol: f64) -> bool {
    (actual - expected).abs() <= tol * (1.0 + expected.abs())
}

/// The largest |actual − expected| / (1 + |expected|): the error `close` measures.
pub fn deviation(actual: &[f64], expected: &[f64]) -> f64 {
    assert_eq!(actual.len(), expected.len());
    actual.iter().zip(expected).map(|(a, e)| (a - e).abs() / (1.0 + e.abs())).fold(0.0, f64::max)
}

pub fn to_f64<T: Element>(t: &Tensor<T>) -> Vec<f64> {
    t.to_vec().into_iter().map(|x| x.to_f64().unwrap()).collect()
}
