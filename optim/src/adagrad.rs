//! Adagrad: per-coordinate learning rates shrinking with the sum of squared gradients;
//! `torch.optim.Adagrad`, step for step. The update rule is on [`Adagrad`].

use tapegrad_autograd::array::for_each_piece;
use tapegrad_autograd::{Element, Tensor, lit};

use crate::error::OptimError;
use crate::optimizer::{Optimizer, assert_lr, check, check_lr, check_params, contiguous_grad};
use crate::state::{OptimizerState, StateReader};

/// Adagrad's hyperparameters, with PyTorch's names and defaults.
///
/// ```
/// use tapegrad_optim::AdagradConfig;
/// let config = AdagradConfig { lr_decay: 1e-4, ..AdagradConfig::default() };
/// assert_eq!((config.lr, config.eps), (1e-2, 1e-10));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct AdagradConfig {
    /// Learning rate γ (default 1e-2).
    pub lr: f64,
    /// Learning-rate decay η: step t uses γ / (1 + (t − 1)η) (default 0).
    pub lr_decay: f64,
    /// Coupled L2 weight decay λ (default 0).
    pub weight_decay: f64,
    /// Starting value of the sum of squared gradients (default 0).
    pub initial_accumulator_value: f64,
    /// Added to √s for numerical stability (default 1e-10).
    pub eps: f64,
}

impl Default for AdagradConfig {
    fn default() -> Self {
        AdagradConfig { lr: 1e-2, lr_decay: 0.0, weight_decay: 0.0, initial_accumulator_value: 0.0, eps: 1e-10 }
    }
}

/// Adagrad, as `torch.optim.Adagrad`: per-coordinate learning rates that shrink with the
/// sum of squared gradients.
///
/// For each parameter θ with gradient g, at its step t (γ learning rate, η lr_decay,
/// λ weight decay, ε eps; the sum s starts at `initial_accumulator_value`):
///
/// ```text
/// g ← g + λθ                       if λ ≠ 0
/// γₜ = γ / (1 + (t − 1)η)
/// s ← s + g²
/// θ ← θ − γₜ · g / (√s + ε)
/// ```
///
/// ε is added outside the square root, as PyTorch does. Unlike the other optimizers, and as
/// in PyTorch, the state (`sum`, `step`) exists for every parameter from construction.
///
/// ```
/// use tapegrad_autograd::Tensor;
/// use tapegrad_optim::{Adagrad, AdagradConfig, Optimizer};
/// let w = Tensor::from_vec(vec![1.0f64, 1.0], &[2]).unwrap().requires_grad();
/// let mut opt = Adagrad::new(vec![w.clone()], AdagradConfig { lr: 0.5, ..AdagradConfig::default() }).unwrap();
/// (&w * Tensor::from_vec(vec![3.0, 0.01], &[2]).unwrap()).sum().backward();
/// opt.step();
/// // The first step is γ·g/|g| = γ for every coordinate, whatever the gradient's scale.
/// let w = w.to_vec();
/// assert!((w[0] - 0.5).abs() < 1e-9 && (w[1] - 0.5).abs() < 1e-8);
/// ```
pub struct Adagrad<T: Element = f32> {
    params: Vec<Tensor<T>>,
    config: AdagradConfig,
    steps: Vec<u64>,
    sums: Vec<Vec<T>>,
}

impl<T: Element> Adagrad<T> {
    /// Adagrad over `params`.
    ///
    /// # Errors
    /// [`OptimError::InvalidHyperparameter`] for any negative or non-finite hyperparameter;
    /// and the parameter-list errors.
    ///
    /// ```
    /// use tapegrad_autograd::Tensor;
    /// use tapegrad_optim::{Adagrad, AdagradConfig};
    /// let w = Tensor::<f32>::zeros(&[3]).requires_grad();
    /// let err = Adagrad::new(vec![w], AdagradConfig { lr_decay: -1.0, ..AdagradConfig::default() }).err().unwrap();
    /// assert_eq!(err.to_string(), "Adagrad: invalid lr_decay -1: must be finite and ≥ 0");
    /// ```
    pub fn new(params: Vec<Tensor<T>>, config: AdagradConfig) -> Result<Self, OptimError> {
        check_lr("Adagrad", config.lr)?;
        let non_negative = |v: f64| v >= 0.0;
        check("Adagrad", "lr_decay", config.lr_decay, non_negative, "must be finite and ≥ 0")?;
        check("Adagrad", "weight_decay", config.weight_decay, non_negative, "must be finite and ≥ 0")?;
        let initial = config.initial_accumulator_value;
        check("Adagrad", "initial_accumulator_value", initial, non_negative, "must be finite and ≥ 0")?;
        check("Adagrad", "eps", config.eps, non_negative, "must be finite and ≥ 0")?;
        check_params("Adagrad", &params)?;
        let sums = params.iter().map(|p| vec![lit::<T>(initial); p.numel()]).collect();
        let steps = vec![0; params.len()];
        Ok(Adagrad { params, config, steps, sums })
    }

    /// The hyperparameters (with the current learning rate).
    ///
    /// ```
    /// use tapegrad_autograd::Tensor;
    /// use tapegrad_optim::{Adagrad, AdagradConfig};
    /// let opt = Adagrad::new(vec![Tensor::<f32>::ones(&[1]).requires_grad()], AdagradConfig::default()).unwrap();
    /// assert_eq!(opt.config().lr, 1e-2);
    /// ```
    pub fn config(&self) -> &AdagradConfig {
        &self.config
    }

    fn hyperparameters(&self) -> [(&'static str, f64); 4] {
        let c = &self.config;
        [
            ("lr_decay", c.lr_decay),
            ("weight_decay", c.weight_decay),
            ("initial_accumulator_value", c.initial_accumulator_value),
            ("eps", c.eps),
        ]
    }
}

impl<T: Element> Optimizer<T> for Adagrad<T> {
    fn step(&mut self) {
        let c = &self.config;
        let (weight_decay, eps) = (lit::<T>(c.weight_decay), lit::<T>(c.eps));
        for ((p, step), sum) in self.params.iter().zip(&mut self.steps).zip(&mut self.sums) {
            let Some(grad) = contiguous_grad(p) else { continue };
            let g = grad.as_slice().expect("contiguous");
            *step += 1;
            // The decayed rate in f64 from the step count, as PyTorch computes it in Python floats.
            let neg_clr = lit::<T>(-(c.lr / (1.0 + (*step as f64 - 1.0) * c.lr_decay)));
            // On all threads for a large parameter (elementwise, so the same bits).
            p.update_data(|w| {
                for_each_piece(g.len(), [w, sum], |range, [w, sum]| {
                    let g = &g[range];
                    if weight_decay == T::zero() {
                        // The default: a branch-free loop the compiler vectorizes.
                        for ((w, &d), sum) in w.iter_mut().zip(g).zip(sum.iter_mut()) {
                            *sum = *sum + d * d;
                            *w = *w + neg_clr * d / (sum.sqrt() + eps);
                        }
                        return;
                    }
                    for i in 0..w.len() {
                        let mut d = g[i];
                        if weight_decay != T::zero() {
                            d = d + weight_decay * w[i];
                        }
                        sum[i] = sum[i] + d * d;
                        let std = sum[i].sqrt() + eps;
                        w[i] = w[i] + neg_clr * d / std;
                    }
                });
            });
        }
    }

    fn lr(&self) -> f64 {
        self.config.lr
    }

    fn set_lr(&mut self, lr: f64) {
        assert_lr("Adagrad", lr);
        self.config.lr = lr;
    }

    fn params(&self) -> &[Tensor<T>] {
        &self.params
    }

    fn state(&self) -> OptimizerState<T> {
        let mut state = OptimizerState::new();
        for (i, p) in self.params.iter().enumerate() {
            state.push_scalar(format!("state.{i}.step"), self.steps[i] as f64);
            state.push_tensor(format!("state.{i}.sum"), p.shape(), &self.sums[i]);
        }
        state.push_scalar("params", self.params.len() as f64);
        state.push_scalar("lr", self.config.lr);
        for (name, value) in self.hyperparameters() {
            state.push_scalar(name, value);
        }
        state
    }

    fn load_state(&mut self, state: &OptimizerState<T>) -> Result<(), OptimError> {
        let mut reader = StateReader::new("Adagrad", self.params.len(), state)?;
        let lr = reader.lr();
        for (name, value) in self.hyperparameters() {
            reader.hyperparameter(name, value);
        }
        let steps: Vec<u64> = (0..self.params.len()).map(|i| reader.step(i)).collect();
        let sums: Vec<Vec<T>> =
            self.params.iter().enumerate().map(|(i, p)| reader.buffer(i, "sum", p.shape())).collect();
        reader.finish()?;
        self.config.lr = lr;
        self.steps = steps;
        self.sums = sums;
        Ok(())
    }
}
