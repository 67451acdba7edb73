//! Stochastic gradient descent with momentum, dampening, Nesterov momentum and L2 weight
//! decay: `torch.optim.SGD`, step for step. The update rule is on [`Sgd`].

use tapegrad_autograd::array::for_each_piece;
use tapegrad_autograd::{Element, Tensor, lit};

use crate::error::OptimError;
use crate::optimizer::{Optimizer, assert_lr, check, check_lr, check_params, contiguous_grad};
use crate::state::{OptimizerState, StateReader};

/// SGD's hyperparameters, with PyTorch's names and defaults.
///
/// ```
/// use tapegrad_optim::SgdConfig;
/// let config = SgdConfig { lr: 0.1, momentum: 0.9, nesterov: true, ..SgdConfig::default() };
/// assert_eq!(config.dampening, 0.0);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct SgdConfig {
    /// Learning rate γ (default 1e-3, PyTorch's).
    pub lr: f64,
    /// Momentum factor μ (default 0: no momentum).
    pub momentum: f64,
    /// Dampening τ for momentum, in [0, 1] (default 0).
    pub dampening: f64,
    /// Coupled L2 weight decay λ (default 0).
    pub weight_decay: f64,
    /// Nesterov momentum (default false); needs momentum > 0 and dampening 0.
    pub nesterov: bool,
}

impl Default for SgdConfig {
    fn default() -> Self {
        SgdConfig { lr: 1e-3, momentum: 0.0, dampening: 0.0, weight_decay: 0.0, nesterov: false }
    }
}

/// Stochastic gradient descent, optionally with (Nesterov) momentum and weight decay, as
/// `torch.optim.SGD`.
///
/// For each parameter θ with gradient g, at step t (λ weight decay, μ momentum, τ dampening,
/// γ learning rate):
///
/// ```text
/// g ← g + λθ                         if λ ≠ 0   (coupled L2 weight decay)
/// b ← g                              at t = 1   (no dampening on the first step)
/// b ← μb + (1 − τ)g                  at t > 1   if μ ≠ 0
/// g ← g + μb  (nesterov)   or   g ← b           if μ ≠ 0
/// θ ← θ − γg
/// ```
///
/// SGD's weight decay is *coupled*: λθ joins the gradient and so passes through the
/// momentum buffer. It equals adding the penalty ½λ‖θ‖² to the loss
/// ([`crate::l2_penalty`] with rate λ). [`crate::AdamW`] instead decays θ directly,
/// outside the adaptive moments; for plain SGD without momentum the two coincide.
///
/// ```
/// use tapegrad_autograd::Tensor;
/// use tapegrad_optim::{Optimizer, Sgd, SgdConfig};
/// let w = Tensor::from_vec(vec![1.0f64], &[1]).unwrap().requires_grad();
/// let mut opt = Sgd::new(vec![w.clone()], SgdConfig { lr: 0.1, momentum: 0.9, ..SgdConfig::default() }).unwrap();
/// for _ in 0..2 {
///     opt.zero_grad();
///     (&w * 2.0).sum().backward(); // g = 2
///     opt.step();
/// }
/// // b₁ = 2, θ₁ = 1 − 0.2 = 0.8; b₂ = 0.9·2 + 2 = 3.8, θ₂ = 0.8 − 0.38 = 0.42
/// assert!((w.item() - 0.42).abs() < 1e-15);
/// ```
#[doc(alias = "SGD")]
pub struct Sgd<T: Element = f32> {
    params: Vec<Tensor<T>>,
    config: SgdConfig,
    /// Created at a parameter's first step with a gradient, as PyTorch's `momentum_buffer`.
    momentum_buffers: Vec<Option<Vec<T>>>,
}

impl<T: Element> Sgd<T> {
    /// SGD over `params` (e.g. `model.parameters()`).
    ///
    /// # Errors
    /// [`OptimError::InvalidHyperparameter`] for a negative or non-finite lr, momentum or
    /// weight decay, or a dampening outside [0, 1]; [`OptimError::NesterovWithoutMomentum`];
    /// and the parameter-list errors (empty, not a parameter, a tensor twice).
    ///
    /// ```
    /// use tapegrad_autograd::Tensor;
    /// use tapegrad_optim::{Sgd, SgdConfig};
    /// let w = Tensor::<f32>::zeros(&[3]).requires_grad();
    /// let err = Sgd::new(vec![w], SgdConfig { nesterov: true, ..SgdConfig::default() }).err().unwrap();
    /// assert!(err.to_string().contains("nesterov momentum needs momentum > 0"));
    /// ```
    pub fn new(params: Vec<Tensor<T>>, config: SgdConfig) -> Result<Self, OptimError> {
        check_lr("SGD", config.lr)?;
        check("SGD", "momentum", config.momentum, |v| v >= 0.0, "must be finite and ≥ 0")?;
        check("SGD", "dampening", config.dampening, |v| (0.0..=1.0).contains(&v), "must be in [0, 1]")?;
        check("SGD", "weight_decay", config.weight_decay, |v| v >= 0.0, "must be finite and ≥ 0")?;
        if config.nesterov && (config.momentum <= 0.0 || config.dampening != 0.0) {
            return Err(OptimError::NesterovWithoutMomentum { momentum: config.momentum, dampening: config.dampening });
        }
        check_params("SGD", &params)?;
        let momentum_buffers = vec![None; params.len()];
        Ok(Sgd { params, config, momentum_buffers })
    }

    /// The hyperparameters (with the current learning rate).
    ///
    /// ```
    /// use tapegrad_autograd::Tensor;
    /// use tapegrad_optim::{Sgd, SgdConfig};
    /// let opt = Sgd::new(vec![Tensor::<f32>::ones(&[1]).requires_grad()], SgdConfig::default()).unwrap();
    /// assert_eq!(opt.config().lr, 1e-3);
    /// ```
    pub fn config(&self) -> &SgdConfig {
        &self.config
    }

    fn hyperparameters(&self) -> [(&'static str, f64); 4] {
        let c = &self.config;
        [
            ("momentum", c.momentum),
            ("dampening", c.dampening),
            ("weight_decay", c.weight_decay),
            ("nesterov", f64::from(u8::from(c.nesterov))),
        ]
    }
}

impl<T: Element> Optimizer<T> for Sgd<T> {
    fn step(&mut self) {
        let c = &self.config;
        let (lr, weight_decay, momentum) = (lit::<T>(c.lr), lit::<T>(c.weight_decay), lit::<T>(c.momentum));
        let one_minus_dampening = lit::<T>(1.0 - c.dampening);
        let (use_momentum, nesterov) = (c.momentum != 0.0, c.nesterov);
        for (p, buffer) in self.params.iter().zip(&mut self.momentum_buffers) {
            let Some(grad) = contiguous_grad(p) else { continue };
            let g = grad.as_slice().expect("contiguous");
            let first = buffer.is_none();
            let buf: &mut [T] = match (use_momentum, buffer) {
                (true, buffer) => buffer.get_or_insert_with(|| vec![T::zero(); g.len()]),
                (false, _) => &mut [],
            };
            // On all threads for a large parameter: each element's update reads its own
            // index only, so the bits do not depend on the thread count.
            p.update_data(|w| {
                for_each_piece(g.len(), [w, buf], |range, [w, buf]| {
                    let g = &g[range];
                    if !use_momentum && weight_decay == T::zero() {
                        // Plain gradient descent, the common case: a loop the compiler vectorizes.
                        w.iter_mut().zip(g).for_each(|(w, &g)| *w = *w + -lr * g);
                        return;
                    }
                    if use_momentum && !first && !nesterov && weight_decay == T::zero() {
                        // Heavy-ball momentum after the first step: likewise branch-free.
                        for ((w, &d), b) in w.iter_mut().zip(g).zip(buf.iter_mut()) {
                            *b = *b * momentum + one_minus_dampening * d;
                            *w = *w + -lr * *b;
                        }
                        return;
                    }
                    for i in 0..w.len() {
                        let mut d = g[i];
                        if weight_decay != T::zero() {
                            d = d + weight_decay * w[i];
                        }
                        if use_momentum {
                            buf[i] = if first { d } else { buf[i] * momentum + one_minus_dampening * d };
                            d = if nesterov { d + momentum * buf[i] } else { buf[i] };
                        }
                        w[i] = w[i] + -lr * d;
                    }
                });
            });
        }
    }

    fn lr(&self) -> f64 {
        self.config.lr
    }

    fn set_lr(&mut self, lr: f64) {
        assert_lr("SGD", lr);
        self.config.lr = lr;
    }

    fn params(&self) -> &[Tensor<T>] {
        &self.params
    }

    fn state(&self) -> OptimizerState<T> {
        let mut state = OptimizerState::new();
        for (i, (p, buffer)) in self.params.iter().zip(&self.momentum_buffers).enumerate() {
            if let Some(buffer) = buffer {
                state.push_tensor(format!("state.{i}.momentum_buffer"), p.shape(), buffer);
            }
        }
        state.push_scalar("params", self.params.len() as f64);
        state.push_scalar("lr", self.config.lr);
        for (name, value) in self.hyperparameters() {
            state.push_scalar(name, value);
        }
        state
    }

    fn load_state(&mut self, state: &OptimizerState<T>) -> Result<(), OptimError> {
        let mut reader = StateReader::new("SGD", self.params.len(), state)?;
        let lr = reader.lr();
        for (name, value) in self.hyperparameters() {
            reader.hyperparameter(name, value);
        }
        let mut buffers = Vec::with_capacity(self.params.len());
        for (i, p) in self.params.iter().enumerate() {
            let has = self.config.momentum != 0.0 && reader.has_param_state(i);
            buffers.push(has.then(|| reader.buffer(i, "momentum_buffer", p.shape())));
        }
        reader.finish()?;
        self.config.lr = lr;
        self.momentum_buffers = buffers;
        Ok(())
    }
}
