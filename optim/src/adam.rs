//! Adam and AdamW: adaptive moment estimation, with the AMSGrad variant and either coupled
//! (Adam) or decoupled (AdamW) weight decay; `torch.optim.Adam` and `torch.optim.AdamW`.
//! The update rule is on [`Adam`].

use tapegrad_autograd::array::for_each_piece;
use tapegrad_autograd::{Element, Tensor, lit};

use crate::error::OptimError;
use crate::optimizer::{Optimizer, assert_lr, check, check_lr, check_params, contiguous_grad, lerp, maximum};
use crate::state::{OptimizerState, StateReader};

/// Adam's hyperparameters, with PyTorch's names and defaults.
///
/// ```
/// use tapegrad_optim::AdamConfig;
/// let config = AdamConfig { lr: 3e-4, amsgrad: true, ..AdamConfig::default() };
/// assert_eq!(config.betas, (0.9, 0.999));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct AdamConfig {
    /// Learning rate γ (default 1e-3).
    pub lr: f64,
    /// Decay rates (β₁, β₂) of the moment estimates, each in [0, 1) (default (0.9, 0.999)).
    pub betas: (f64, f64),
    /// Added to the denominator for numerical stability (default 1e-8).
    pub eps: f64,
    /// Weight decay λ (default 0): coupled (added to the gradient) unless
    /// `decoupled_weight_decay`.
    pub weight_decay: f64,
    /// Use the maximum of past second moments (AMSGrad; default false).
    pub amsgrad: bool,
    /// Decay the weights directly, as AdamW (default false; PyTorch's flag of the same name).
    pub decoupled_weight_decay: bool,
}

impl Default for AdamConfig {
    fn default() -> Self {
        AdamConfig {
            lr: 1e-3,
            betas: (0.9, 0.999),
            eps: 1e-8,
            weight_decay: 0.0,
            amsgrad: false,
            decoupled_weight_decay: false,
        }
    }
}

/// AdamW's hyperparameters: Adam's, with decoupled weight decay and PyTorch's AdamW default
/// weight decay of 1e-2.
///
/// ```
/// use tapegrad_optim::AdamWConfig;
/// assert_eq!(AdamWConfig::default().weight_decay, 1e-2);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct AdamWConfig {
    /// Learning rate γ (default 1e-3).
    pub lr: f64,
    /// Decay rates (β₁, β₂), each in [0, 1) (default (0.9, 0.999)).
    pub betas: (f64, f64),
    /// Added to the denominator for numerical stability (default 1e-8).
    pub eps: f64,
    /// Decoupled weight decay λ: each step multiplies θ by 1 − γλ (default 1e-2).
    pub weight_decay: f64,
    /// Use the maximum of past second moments (AMSGrad; default false).
    pub amsgrad: bool,
}

impl Default for AdamWConfig {
    fn default() -> Self {
        AdamWConfig { lr: 1e-3, betas: (0.9, 0.999), eps: 1e-8, weight_decay: 1e-2, amsgrad: false }
    }
}

impl From<AdamWConfig> for AdamConfig {
    fn from(c: AdamWConfig) -> Self {
        AdamConfig {
            lr: c.lr,
            betas: c.betas,
            eps: c.eps,
            weight_decay: c.weight_decay,
            amsgrad: c.amsgrad,
            decoupled_weight_decay: true,
        }
    }
}

/// One parameter's moments, as PyTorch's `exp_avg`, `exp_avg_sq`, `max_exp_avg_sq`, `step`.
#[derive(Clone)]
struct Moments<T> {
    step: u64,
    exp_avg: Vec<T>,
    exp_avg_sq: Vec<T>,
    /// Empty unless amsgrad.
    max_exp_avg_sq: Vec<T>,
}

/// Adam, as `torch.optim.Adam`; with `decoupled_weight_decay` it is AdamW.
///
/// For each parameter θ with gradient g, at its step t (γ learning rate, β₁ β₂ betas,
/// ε eps, λ weight decay):
///
/// ```text
/// θ ← θ(1 − γλ)                                  AdamW (decoupled), if λ ≠ 0
/// g ← g + λθ                                     Adam (coupled), if λ ≠ 0
/// m ← m + (1 − β₁)(g − m)                        first moment (a lerp, as PyTorch)
/// v ← β₂v + (1 − β₂)g²                           second moment
/// v̂ ← max(v̂, v)                                  amsgrad only; then v̂ replaces v below
/// θ ← θ − (γ / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)
/// ```
///
/// ε is added to the bias-corrected √v̂ = √v / √(1 − β₂ᵗ), as in PyTorch and Algorithm 1 of
/// the paper (TensorFlow adds its ε to the uncorrected √v, an effectively smaller ε early
/// in training). The bias corrections are computed in f64 from the step count, as PyTorch
/// does in Python floats. State is created at a parameter's first step with a gradient.
///
/// Why AdamW: with coupled decay, λθ is divided by √v like the gradient, so parameters
/// with large gradients are barely regularized. AdamW shrinks every parameter by the same
/// factor (1 − γλ) outside the adaptive scaling (Loshchilov & Hutter, 2019).
///
/// ```
/// use tapegrad_autograd::Tensor;
/// use tapegrad_optim::{Adam, AdamConfig, Optimizer};
/// let w = Tensor::from_vec(vec![1.0f64, -2.0], &[2]).unwrap().requires_grad();
/// let mut opt = Adam::new(vec![w.clone()], AdamConfig { lr: 0.1, ..AdamConfig::default() }).unwrap();
/// w.square().sum().backward();
/// opt.step();
/// // The first step moves each weight by ≈ lr against its gradient's sign.
/// let moved: Vec<f64> = w.to_vec();
/// assert!((moved[0] - 0.9).abs() < 1e-6 && (moved[1] + 1.9).abs() < 1e-6);
/// ```
pub struct Adam<T: Element = f32> {
    name: &'static str,
    params: Vec<Tensor<T>>,
    config: AdamConfig,
    moments: Vec<Option<Moments<T>>>,
}

impl<T: Element> Adam<T> {
    /// Adam over `params`.
    ///
    /// # Errors
    /// [`OptimError::InvalidHyperparameter`] for a negative or non-finite lr, eps or weight
    /// decay, or a beta outside [0, 1); and the parameter-list errors.
    ///
    /// ```
    /// use tapegrad_autograd::Tensor;
    /// use tapegrad_optim::{Adam, AdamConfig};
    /// let w = Tensor::<f32>::zeros(&[3]).requires_grad();
    /// let err = Adam::new(vec![w], AdamConfig { betas: (0.9, 1.0), ..AdamConfig::default() }).err().unwrap();
    /// assert_eq!(err.to_string(), "Adam: invalid betas.1 1: must be in [0, 1)");
    /// ```
    pub fn new(params: Vec<Tensor<T>>, config: AdamConfig) -> Result<Self, OptimError> {
        Self::build("Adam", params, config)
    }

    fn build(name: &'static str, params: Vec<Tensor<T>>, config: AdamConfig) -> Result<Self, OptimError> {
        check_lr(name, config.lr)?;
        let unit = |v: f64| (0.0..1.0).contains(&v);
        check(name, "betas.0", config.betas.0, unit, "must be in [0, 1)")?;
        check(name, "betas.1", config.betas.1, unit, "must be in [0, 1)")?;
        check(name, "eps", config.eps, |v| v >= 0.0, "must be finite and ≥ 0")?;
        check(name, "weight_decay", config.weight_decay, |v| v >= 0.0, "must be finite and ≥ 0")?;
        check_params(name, &params)?;
        let moments = vec![None; params.len()];
        Ok(Adam { name, params, config, moments })
    }

    /// The hyperparameters (with the current learning rate).
    ///
    /// ```
    /// use tapegrad_autograd::Tensor;
    /// use tapegrad_optim::{Adam, AdamConfig};
    /// let opt = Adam::new(vec![Tensor::<f32>::ones(&[1]).requires_grad()], AdamConfig::default()).unwrap();
    /// assert_eq!(opt.config().eps, 1e-8);
    /// ```
    pub fn config(&self) -> &AdamConfig {
        &self.config
    }

    fn hyperparameters(&self) -> [(&'static str, f64); 6] {
        let c = &self.config;
        [
            ("betas.0", c.betas.0),
            ("betas.1", c.betas.1),
            ("eps", c.eps),
            ("weight_decay", c.weight_decay),
            ("amsgrad", f64::from(u8::from(c.amsgrad))),
            ("decoupled_weight_decay", f64::from(u8::from(c.decoupled_weight_decay))),
        ]
    }
}

impl<T: Element> Optimizer<T> for Adam<T> {
    fn step(&mut self) {
        let c = &self.config;
        let (beta1, beta2) = c.betas;
        let (one_minus_beta1, one_minus_beta2) = (lit::<T>(1.0 - beta1), lit::<T>(1.0 - beta2));
        let (beta2_t, eps) = (lit::<T>(beta2), lit::<T>(c.eps));
        let coupled_decay = if c.decoupled_weight_decay { T::zero() } else { lit::<T>(c.weight_decay) };
        let decoupled = c.decoupled_weight_decay && c.weight_decay != 0.0;
        let shrink = lit::<T>(1.0 - c.lr * c.weight_decay);
        let amsgrad = c.amsgrad;
        for (p, moments) in self.params.iter().zip(&mut self.moments) {
            let Some(grad) = contiguous_grad(p) else { continue };
            let g = grad.as_slice().expect("contiguous");
            let s = moments.get_or_insert_with(|| Moments {
                step: 0,
                exp_avg: vec![T::zero(); g.len()],
                exp_avg_sq: vec![T::zero(); g.len()],
                max_exp_avg_sq: if amsgrad { vec![T::zero(); g.len()] } else { Vec::new() },
            });
            s.step += 1;
            // Bias corrections in f64 from the step count, as PyTorch does in Python floats.
            let step = s.step as f64;
            let bias_correction1 = 1.0 - beta1.powf(step);
            let bias_correction2 = 1.0 - beta2.powf(step);
            let neg_step_size = lit::<T>(-(c.lr / bias_correction1));
            let bias_correction2_sqrt = lit::<T>(bias_correction2.powf(0.5));
            let (m, v, v_max) = (&mut s.exp_avg, &mut s.exp_avg_sq, &mut s.max_exp_avg_sq);
            let k = Coefficients {
                shrink,
                decay: coupled_decay,
                one_minus_beta1,
                beta2: beta2_t,
                one_minus_beta2,
                bias_correction2_sqrt,
                eps,
                neg_step_size,
            };
            // On all threads for a large parameter (elementwise, so the same bits).
            p.update_data(|w| {
                for_each_piece(g.len(), [w, m, v, v_max], |range, [w, m, v, v_max]| {
                    let g = &g[range];
                    match (amsgrad, decoupled, coupled_decay != T::zero()) {
                        (true, _, _) => update_amsgrad(w, g, m, v, v_max, &k, decoupled),
                        (false, false, false) => update::<T, false, false>(w, g, m, v, &k),
                        (false, false, true) => update::<T, false, true>(w, g, m, v, &k),
                        (false, true, false) => update::<T, true, false>(w, g, m, v, &k),
                        (false, true, true) => update::<T, true, true>(w, g, m, v, &k),
                    }
                })
            });
        }
    }

    fn lr(&self) -> f64 {
        self.config.lr
    }

    fn set_lr(&mut self, lr: f64) {
        assert_lr(self.name, lr);
        self.config.lr = lr;
    }

    fn params(&self) -> &[Tensor<T>] {
        &self.params
    }

    fn state(&self) -> OptimizerState<T> {
        let mut state = OptimizerState::new();
        for (i, (p, moments)) in self.params.iter().zip(&self.moments).enumerate() {
            let Some(s) = moments else { continue };
            state.push_scalar(format!("state.{i}.step"), s.step as f64);
            state.push_tensor(format!("state.{i}.exp_avg"), p.shape(), &s.exp_avg);
            state.push_tensor(format!("state.{i}.exp_avg_sq"), p.shape(), &s.exp_avg_sq);
            if self.config.amsgrad {
                state.push_tensor(format!("state.{i}.max_exp_avg_sq"), p.shape(), &s.max_exp_avg_sq);
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
        let mut reader = StateReader::new(self.name, self.params.len(), state)?;
        let lr = reader.lr();
        for (name, value) in self.hyperparameters() {
            reader.hyperparameter(name, value);
        }
        let mut all = Vec::with_capacity(self.params.len());
        for (i, p) in self.params.iter().enumerate() {
            let moments = reader.has_param_state(i).then(|| Moments {
                step: reader.step(i),
                exp_avg: reader.buffer(i, "exp_avg", p.shape()),
                exp_avg_sq: reader.buffer(i, "exp_avg_sq", p.shape()),
                max_exp_avg_sq: if self.config.amsgrad {
                    reader.buffer(i, "max_exp_avg_sq", p.shape())
                } else {
                    Vec::new()
                },
            });
            all.push(moments);
        }
        reader.finish()?;
        self.config.lr = lr;
        self.moments = all;
        Ok(())
    }
}

/// AdamW, as `torch.optim.AdamW`: Adam with decoupled weight decay (default λ = 1e-2).
/// The update rule is on [`Adam`]; state names and semantics are Adam's.
///
/// ```
/// use tapegrad_autograd::Tensor;
/// use tapegrad_optim::{AdamW, AdamWConfig, Optimizer};
/// let w = Tensor::from_vec(vec![2.0f64], &[1]).unwrap().requires_grad();
/// let mut opt = AdamW::new(vec![w.clone()], AdamWConfig { lr: 0.1, weight_decay: 0.5, ..AdamWConfig::default() }).unwrap();
/// (&w * 0.0).sum().backward(); // a zero gradient: only the decay acts
/// opt.step();
/// assert!((w.item() - 2.0 * (1.0 - 0.1 * 0.5)).abs() < 1e-15);
/// ```
pub struct AdamW<T: Element = f32> {
    adam: Adam<T>,
}

impl<T: Element> AdamW<T> {
    /// AdamW over `params`.
    ///
    /// # Errors
    /// As [`Adam::new`], naming `AdamW`.
    ///
    /// ```
    /// use tapegrad_autograd::Tensor;
    /// use tapegrad_optim::{AdamW, AdamWConfig};
    /// let w = Tensor::<f32>::zeros(&[3]).requires_grad();
    /// let err = AdamW::new(vec![w], AdamWConfig { weight_decay: -0.1, ..AdamWConfig::default() }).err().unwrap();
    /// assert_eq!(err.to_string(), "AdamW: invalid weight_decay -0.1: must be finite and ≥ 0");
    /// ```
    pub fn new(params: Vec<Tensor<T>>, config: AdamWConfig) -> Result<Self, OptimError> {
        Ok(AdamW { adam: Adam::build("AdamW", params, config.into())? })
    }

    /// The hyperparameters (with the current learning rate).
    ///
    /// ```
    /// use tapegrad_autograd::Tensor;
    /// use tapegrad_optim::{AdamW, AdamWConfig};
    /// let opt = AdamW::new(vec![Tensor::<f32>::ones(&[1]).requires_grad()], AdamWConfig::default()).unwrap();
    /// assert_eq!(opt.config().weight_decay, 1e-2);
    /// ```
    pub fn config(&self) -> AdamWConfig {
        let c = &self.adam.config;
        AdamWConfig { lr: c.lr, betas: c.betas, eps: c.eps, weight_decay: c.weight_decay, amsgrad: c.amsgrad }
    }
}

impl<T: Element> Optimizer<T> for AdamW<T> {
    fn step(&mut self) {
        self.adam.step();
    }

    fn lr(&self) -> f64 {
        self.adam.lr()
    }

    fn set_lr(&mut self, lr: f64) {
        self.adam.set_lr(lr);
    }

    fn params(&self) -> &[Tensor<T>] {
        self.adam.params()
    }

    fn state(&self) -> OptimizerState<T> {
        self.adam.state()
    }

    fn load_state(&mut self, state: &OptimizerState<T>) -> Result<(), OptimError> {
        self.adam.load_state(state)
    }
}

/// The constants of one Adam step.
struct Coefficients<T> {
    shrink: T,
    decay: T,
    one_minus_beta1: T,
    beta2: T,
    one_minus_beta2: T,
    bias_correction2_sqrt: T,
    eps: T,
    neg_step_size: T,
}

/// One Adam step over a parameter's elements, one copy per weight-decay style so the loop
/// has no branches and vectorizes (the optimizer's hot path).
fn update<T: Element, const DECOUPLED: bool, const COUPLED: bool>(
    w: &mut [T],
    g: &[T],
    m: &mut [T],
    v: &mut [T],
    k: &Coefficients<T>,
) {
    for (((w, &g), m), v) in w.iter_mut().zip(g).zip(m.iter_mut()).zip(v.iter_mut()) {
        if DECOUPLED {
            *w = *w * k.shrink;
        }
        let mut d = g;
        if COUPLED {
            d = d + k.decay * *w;
        }
        *m = lerp(*m, d, k.one_minus_beta1);
        *v = *v * k.beta2 + k.one_minus_beta2 * d * d;
        let denom = v.sqrt() / k.bias_correction2_sqrt + k.eps;
        *w = *w + k.neg_step_size * *m / denom;
    }
}

/// The same step with AMSGrad's running maximum of the second moment.
fn update_amsgrad<T: Element>(
    w: &mut [T],
    g: &[T],
    m: &mut [T],
    v: &mut [T],
    v_max: &mut [T],
    k: &Coefficients<T>,
    decoupled: bool,
) {
    for i in 0..w.len() {
        if decoupled {
            w[i] = w[i] * k.shrink;
        }
        let mut d = g[i];
        if k.decay != T::zero() {
            d = d + k.decay * w[i];
        }
        m[i] = lerp(m[i], d, k.one_minus_beta1);
        v[i] = v[i] * k.beta2 + k.one_minus_beta2 * d * d;
        v_max[i] = maximum(v_max[i], v[i]);
        let denom = v_max[i].sqrt() / k.bias_correction2_sqrt + k.eps;
        w[i] = w[i] + k.neg_step_size * m[i] / denom;
    }
}
