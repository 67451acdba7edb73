//! Bad configuration is an error with a clear message, never a silent wrong answer:
//! PyTorch's checks (negative lr, betas outside [0, 1), nesterov without momentum…), plus
//! NaN and infinity everywhere, and bad parameter lists.

use tapegrad_autograd::Tensor;
use tapegrad_optim::{
    Adagrad, AdagradConfig, Adam, AdamConfig, AdamW, AdamWConfig, OptimError, Optimizer, RmsProp, RmsPropConfig, Sgd,
    SgdConfig,
};

fn param() -> Vec<Tensor<f32>> {
    vec![Tensor::zeros(&[2]).requires_grad()]
}

fn message<O>(result: Result<O, OptimError>) -> String {
    result.err().expect("the configuration is rejected").to_string()
}

#[test]
fn sgd_rejects_bad_hyperparameters() {
    let sgd = |c: SgdConfig| message(Sgd::new(param(), c));
    let d = SgdConfig::default;
    assert_eq!(sgd(SgdConfig { lr: -0.1, ..d() }), "SGD: invalid lr -0.1: must be finite and ≥ 0");
    assert_eq!(sgd(SgdConfig { lr: f64::NAN, ..d() }), "SGD: invalid lr NaN: must be finite and ≥ 0");
    assert_eq!(sgd(SgdConfig { momentum: -0.9, ..d() }), "SGD: invalid momentum -0.9: must be finite and ≥ 0");
    assert_eq!(sgd(SgdConfig { dampening: 1.5, ..d() }), "SGD: invalid dampening 1.5: must be in [0, 1]");
    assert_eq!(
        sgd(SgdConfig { weight_decay: f64::INFINITY, ..d() }),
        "SGD: invalid weight_decay inf: must be finite and ≥ 0"
    );
    assert_eq!(
        sgd(SgdConfig { nesterov: true, ..d() }),
        "SGD: nesterov momentum needs momentum > 0 and dampening = 0 (got momentum 0, dampening 0)"
    );
    assert_eq!(
        sgd(SgdConfig { nesterov: true, momentum: 0.9, dampening: 0.1, ..d() }),
        "SGD: nesterov momentum needs momentum > 0 and dampening = 0 (got momentum 0.9, dampening 0.1)"
    );
}

#[test]
fn adam_and_adamw_reject_bad_hyperparameters() {
    let adam = |c: AdamConfig| message(Adam::new(param(), c));
    let d = AdamConfig::default;
    assert_eq!(adam(AdamConfig { lr: -1e-3, ..d() }), "Adam: invalid lr -0.001: must be finite and ≥ 0");
    assert_eq!(adam(AdamConfig { betas: (1.0, 0.999), ..d() }), "Adam: invalid betas.0 1: must be in [0, 1)");
    assert_eq!(adam(AdamConfig { betas: (0.9, -0.1), ..d() }), "Adam: invalid betas.1 -0.1: must be in [0, 1)");
    assert_eq!(adam(AdamConfig { eps: -1e-8, ..d() }), "Adam: invalid eps -1e-8: must be finite and ≥ 0");
    assert_eq!(
        adam(AdamConfig { weight_decay: -0.5, ..d() }),
        "Adam: invalid weight_decay -0.5: must be finite and ≥ 0"
    );
    let adamw = message(AdamW::new(param(), AdamWConfig { betas: (0.9, f64::NAN), ..AdamWConfig::default() }));
    assert_eq!(adamw, "AdamW: invalid betas.1 NaN: must be in [0, 1)");
}

#[test]
fn adagrad_and_rmsprop_reject_bad_hyperparameters() {
    let adagrad = |c: AdagradConfig| message(Adagrad::new(param(), c));
    let d = AdagradConfig::default;
    assert_eq!(adagrad(AdagradConfig { lr: -1.0, ..d() }), "Adagrad: invalid lr -1: must be finite and ≥ 0");
    assert_eq!(
        adagrad(AdagradConfig { initial_accumulator_value: -0.1, ..d() }),
        "Adagrad: invalid initial_accumulator_value -0.1: must be finite and ≥ 0"
    );
    assert_eq!(adagrad(AdagradConfig { eps: f64::NAN, ..d() }), "Adagrad: invalid eps NaN: must be finite and ≥ 0");
    let rmsprop = |c: RmsPropConfig| message(RmsProp::new(param(), c));
    let d = RmsPropConfig::default;
    assert_eq!(rmsprop(RmsPropConfig { alpha: -0.5, ..d() }), "RMSprop: invalid alpha -0.5: must be in [0, 1]");
    assert_eq!(
        rmsprop(RmsPropConfig { momentum: -0.1, ..d() }),
        "RMSprop: invalid momentum -0.1: must be finite and ≥ 0"
    );
    assert_eq!(rmsprop(RmsPropConfig { eps: -1.0, ..d() }), "RMSprop: invalid eps -1: must be finite and ≥ 0");
}

#[test]
fn bad_parameter_lists_are_rejected() {
    assert_eq!(message(Sgd::<f32>::new(vec![], SgdConfig::default())), "SGD: the parameter list is empty");
    let constant = Tensor::<f32>::zeros(&[2, 3]);
    assert_eq!(
        message(Adam::new(vec![param().remove(0), constant], AdamConfig::default())),
        "Adam: tensor 1 (shape [2, 3]) is not a parameter; make it with requires_grad()"
    );
    let w = param().remove(0);
    assert_eq!(
        message(RmsProp::new(vec![w.clone(), param().remove(0), w], RmsPropConfig::default())),
        "RMSprop: parameters 0 and 2 are the same tensor (it would be stepped twice)"
    );
}

#[test]
fn defaults_are_pytorchs() {
    assert_eq!(
        SgdConfig::default(),
        SgdConfig { lr: 1e-3, momentum: 0.0, dampening: 0.0, weight_decay: 0.0, nesterov: false }
    );
    let adam = AdamConfig::default();
    assert_eq!(
        (adam.lr, adam.betas, adam.eps, adam.weight_decay, adam.amsgrad),
        (1e-3, (0.9, 0.999), 1e-8, 0.0, false)
    );
    let adamw = AdamWConfig::default();
    assert_eq!(
        (adamw.lr, adamw.betas, adamw.eps, adamw.weight_decay, adamw.amsgrad),
        (1e-3, (0.9, 0.999), 1e-8, 1e-2, false)
    );
    let adagrad = AdagradConfig::default();
    assert_eq!(
        (adagrad.lr, adagrad.lr_decay, adagrad.weight_decay, adagrad.initial_accumulator_value, adagrad.eps),
        (1e-2, 0.0, 0.0, 0.0, 1e-10)
    );
    let rmsprop = RmsPropConfig::default();
    assert_eq!(
        (rmsprop.lr, rmsprop.alpha, rmsprop.eps, rmsprop.weight_decay, rmsprop.momentum, rmsprop.centered),
        (1e-2, 0.99, 1e-8, 0.0, 0.0, false)
    );
}

#[test]
#[should_panic(expected = "Adam.set_lr: learning rate -0.5 must be finite and ≥ 0")]
fn set_lr_rejects_a_negative_rate() {
    Adam::new(param(), AdamConfig::default()).unwrap().set_lr(-0.5);
}

#[test]
fn non_contiguous_gradients_are_read_in_logical_order() {
    // w is used transposed, so its gradient arrives as a transposed view.
    let w = Tensor::from_vec(vec![1.0f64, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]).unwrap().requires_grad();
    let x = Tensor::from_vec(vec![1.0, 0.0, -1.0, 2.0], &[2, 2]).unwrap();
    let c = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[3, 2]).unwrap();
    (w.t().matmul(&x) * &c).sum().backward();
    let grad = w.grad().unwrap();
    let expected = grad.to_vec();
    let before = w.to_vec();
    let mut opt = Sgd::new(vec![w.clone()], SgdConfig { lr: 1.0, ..SgdConfig::default() }).unwrap();
    opt.step();
    let moved: Vec<f64> = before.iter().zip(w.to_vec()).map(|(b, a)| b - a).collect();
    assert_eq!(moved, expected, "θ − 1·g, element by element in row-major order");
}
