//! RMSprop: gradients divided by a running root mean square of recent gradients, optionally
//! centered and with momentum; `torch.optim.RMSprop`, step for step. The update rule is on
//! [`RmsProp`].

use tapegrad_autograd::array::for_each_piece;
use tapegrad_autograd::{Element, Tensor, lit};

use crate::error::OptimError;
use crate::optimizer::{Optimizer, assert_lr, check, check_lr, check_params, contiguous_grad, lerp};
use crate::state::{OptimizerState, StateReader};

/// RMSprop's hyperparameters, with PyTorch's names and defaults.
///
/// ```
/// use tapegrad_optim::RmsPropConfig;
/// let config = RmsPropConfig { centered: true, ..RmsPropConfig::default() };
/// assert_eq!((config.lr, config.alpha), (1e-2, 0.99));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct RmsPropConfig {
    /// Learning rate γ (default 1e-2).
    pub lr: f64,
    /// Smoothing constant α of the running averages, in [0, 1] (default 0.99).
    pub alpha: f64,
    /// Added to the root mean square for numerical stability (default 1e-8).
    pub eps: f64,
    /// Coupled L2 weight decay λ (default 0).
    pub weight_decay: f64,
    /// Momentum factor μ (default 0).
    pub momentum: f64,
    /// Normalize by the estimated variance rather than the second moment (default false).
    pub centered: bool,
}

impl Default for RmsPropConfig {
    fn default() -> Self {
        RmsPropConfig { lr: 1e-2, alpha: 0.99, eps: 1e-8, weight_decay: 0.0, momentum: 0.0, centered: false }
    }
}

/// One parameter's state, as PyTorch's `step`, `square_avg`, `momentum_buffer`, `grad_avg`.
#[derive(Clone)]
struct Averages<T> {
    step: u64,
    square_avg: Vec<T>,
    /// Empty unless momentum > 0.
    momentum_buffer: Vec<T>,
    /// Empty unless centered.
    grad_avg: Vec<T>,
}

/// RMSprop, as `torch.optim.RMSprop`: gradients divided by a running root mean square of
/// recent gradients, optionally centered and with momentum.
///
/// For each parameter θ with gradient g (γ learning rate, α smoothing constant, ε eps,
/// λ weight decay, μ momentum; the averages v, ḡ and the buffer b start at zero):
///
/// ```text
/// g ← g + λθ                                if λ ≠ 0
/// v ← αv + (1 − α)g²
/// ḡ ← ḡ + (1 − α)(g − ḡ)                    centered only (a lerp, as PyTorch)
/// a = √(v − ḡ²) + ε    (centered)    or    a = √v + ε
/// b ← μb + g/a,  θ ← θ − γb                 if μ > 0
/// θ ← θ − γ g/a                             otherwise
/// ```
///
/// ε is added outside the square root, as PyTorch does (TensorFlow adds it inside).
/// Centering divides by an estimate of the gradient's variance instead of its raw second
/// moment, which helps when gradients have a large steady component.
///
/// ```
/// use tapegrad_autograd::Tensor;
/// use tapegrad_optim::{Optimizer, RmsProp, RmsPropConfig};
/// let w = Tensor::from_vec(vec![1.0f64], &[1]).unwrap().requires_grad();
/// let mut opt = RmsProp::new(vec![w.clone()], RmsPropConfig { lr: 0.01, ..RmsPropConfig::default() }).unwrap();
/// (&w * 5.0).sum().backward();
/// opt.step();
/// // v = 0.01·25, so the step is 0.01·5/√0.25 = 0.1 (up to ε)
/// assert!((w.item() - 0.9).abs() < 1e-7);
/// ```
#[doc(alias = "RMSprop")]
pub struct RmsProp<T: Element = f32> {
    params: Vec<Tensor<T>>,
    config: RmsPropConfig,
    averages: Vec<Option<Averages<T>>>,
}

impl<T: Element> RmsProp<T> {
    /// RMSprop over `params`.
    ///
    /// # Errors
    /// [`OptimError::InvalidHyperparameter`] for a negative or non-finite lr, eps, weight
    /// decay or momentum, or an alpha outside [0, 1]; and the parameter-list errors.
    ///
    /// ```
    /// use tapegrad_autograd::Tensor;
    /// use tapegrad_optim::{RmsProp, RmsPropConfig};
    /// let w = Tensor::<f32>::zeros(&[3]).requires_grad();
    /// let err = RmsProp::new(vec![w], RmsPropConfig { alpha: 1.5, ..RmsPropConfig::default() }).err().unwrap();
    /// assert_eq!(err.to_string(), "RMSprop: invalid alpha 1.5: must be in [0, 1]");
    /// ```
    pub fn new(params: Vec<Tensor<T>>, config: RmsPropConfig) -> Result<Self, OptimError> {
        check_lr("RMSprop", config.lr)?;
        let non_negative = |v: f64| v >= 0.0;
        check("RMSprop", "alpha", config.alpha, |v| (0.0..=1.0).contains(&v), "must be in [0, 1]")?;
        check("RMSprop", "eps", config.eps, non_negative, "must be finite and ≥ 0")?;
        check("RMSprop", "weight_decay", config.weight_decay, non_negative, "must be finite and ≥ 0")?;
        check("RMSprop", "momentum", config.momentum, non_negative, "must be finite and ≥ 0")?;
        check_params("RMSprop", &params)?;
        let averages = vec![None; params.len()];
        Ok(RmsProp { params, config, averages })
    }

    /// The hyperparameters (with the current learning rate).
    ///
    /// ```
    /// use tapegrad_autograd::Tensor;
    /// use tapegrad_optim::{RmsProp, RmsPropConfig};
    /// let opt = RmsProp::new(vec![Tensor::<f32>::ones(&[1]).requires_grad()], RmsPropConfig::default()).unwrap();
    /// assert_eq!(opt.config().alpha, 0.99);
    /// ```
    pub fn config(&self) -> &RmsPropConfig {
        &self.config
    }

    fn hyperparameters(&self) -> [(&'static str, f64); 5] {
        let c = &self.config;
        [
            ("alpha", c.alpha),
            ("eps", c.eps),
            ("weight_decay", c.weight_decay),
            ("momentum", c.momentum),
            ("centered", f64::from(u8::from(c.centered))),
        ]
    }
}

impl<T: Element> Optimizer<T> for RmsProp<T> {
    fn step(&mut self) {
        let c = &self.config;
        let (alpha, one_minus_alpha) = (lit::<T>(c.alpha), lit::<T>(1.0 - c.alpha));
        let (eps, weight_decay, momentum, neg_lr) =
            (lit::<T>(c.eps), lit::<T>(c.weight_decay), lit::<T>(c.momentum), lit::<T>(-c.lr));
        let (use_momentum, centered) = (c.momentum > 0.0, c.centered);
        for (p, averages) in self.params.iter().zip(&mut self.averages) {
            let Some(grad) = contiguous_grad(p) else { continue };
            let g = grad.as_slice().expect("contiguous");
            let zeros = |on: bool| if on { vec![T::zero(); g.len()] } else { Vec::new() };
            let s = averages.get_or_insert_with(|| Averages {
                step: 0,
                square_avg: zeros(true),
                momentum_buffer: zeros(use_momentum),
                grad_avg: zeros(centered),
            });
            s.step += 1;
            let (v, buf, g_avg) = (&mut s.square_avg, &mut s.momentum_buffer, &mut s.grad_avg);
            // On all threads for a large parameter (elementwise, so the same bits).
            p.update_data(|w| {
                for_each_piece(g.len(), [w, v, buf, g_avg], |range, [w, v, buf, g_avg]| {
                    let g = &g[range];
                    if weight_decay == T::zero() && !centered && !use_momentum {
                        // PyTorch's defaults: a branch-free loop the compiler vectorizes.
                        for ((w, &d), v) in w.iter_mut().zip(g).zip(v.iter_mut()) {
                            *v = *v * alpha + one_minus_alpha * d * d;
                            *w = *w + neg_lr * d / (v.sqrt() + eps);
                        }
                        return;
                    }
                    for i in 0..w.len() {
                        let mut d = g[i];
                        if weight_decay != T::zero() {
                            d = d + weight_decay * w[i];
                        }
                        v[i] = v[i] * alpha + one_minus_alpha * d * d;
                        let avg = if centered {
                            g_avg[i] = lerp(g_avg[i], d, one_minus_alpha);
                            (v[i] - g_avg[i] * g_avg[i]).sqrt() + eps
                        } else {
                            v[i].sqrt() + eps
                        };
                        if use_momentum {
                            buf[i] = buf[i] * momentum + d / avg;
                            w[i] = w[i] + neg_lr * buf[i];
                        } else {
                            w[i] = w[i] + neg_lr * d / avg;
                        }
                    }
                });
            });
        }
    }

    fn lr(&self) -> f64 {
        self.config.lr
    }

    fn set_lr(&mut self, lr: f64) {
        assert_lr("RMSprop", lr);
        self.config.lr = lr;
    }

    fn params(&self) -> &[Tensor<T>] {
        &self.params
    }

    fn state(&self) -> OptimizerState<T> {
        let mut state = OptimizerState::new();
        for (i, (p, averages)) in self.params.iter().zip(&self.averages).enumerate() {
            let Some(s) = averages else { continue };
            state.push_scalar(format!("state.{i}.step"), s.step as f64);
            state.push_tensor(format!("state.{i}.square_avg"), p.shape(), &s.square_avg);
            if self.config.momentum > 0.0 {
                state.push_tensor(format!("state.{i}.momentum_buffer"), p.shape(), &s.momentum_buffer);
            }
            if self.config.centered {
                state.push_tensor(format!("state.{i}.grad_avg"), p.shape(), &s.grad_avg);
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
        let mut reader = StateReader::new("RMSprop", self.params.len(), state)?;
        let lr = reader.lr();
        for (name, value) in self.hyperparameters() {
            reader.hyperparameter(name, value);
        }
        let (use_momentum, centered) = (self.config.momentum > 0.0, self.config.centered);
        let mut all = Vec::with_capacity(self.params.len());
        for (i, p) in self.params.iter().enumerate() {
            let averages = reader.has_param_state(i).then(|| Averages {
                step: reader.step(i),
                square_avg: reader.buffer(i, "square_avg", p.shape()),
                momentum_buffer: if use_momentum { reader.buffer(i, "momentum_buffer", p.shape()) } else { Vec::new() },
                grad_avg: if centered { reader.buffer(i, "grad_avg", p.shape()) } else { Vec::new() },
            });
            all.push(averages);
        }
        reader.finish()?;
        self.config.lr = lr;
        self.averages = all;
        Ok(())
    }
}
