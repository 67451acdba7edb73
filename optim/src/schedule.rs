//! Learning-rate schedules driven by the epoch count, as `torch.optim.lr_scheduler`:
//! the [`Scheduler`] trait, StepLR, ExponentialLR and CosineAnnealingLR.

use tapegrad_autograd::Element;

use crate::error::OptimError;
use crate::optimizer::{Optimizer, check};

/// A schedule driven by the epoch count alone, as `torch.optim.lr_scheduler`: call `step`
/// once per epoch, after the epoch's optimizer steps, and the optimizer's learning rate
/// follows the schedule.
///
/// | schedule | learning rate during epoch e (γ₀ the optimizer's lr when the schedule was made) |
/// | --- | --- |
/// | [`StepLR`] | γ₀ · gamma^⌊e / step_size⌋ |
/// | [`ExponentialLR`] | γ₀ · gamma^e |
/// | [`CosineAnnealingLR`] | η_min + (γ₀ − η_min) · (1 + cos(π e / T_max)) / 2 |
/// | [`ReduceLROnPlateau`](crate::ReduceLROnPlateau) | multiplied by `factor` when the metric stops improving |
///
/// ReduceLROnPlateau needs the epoch's metric, so it has its own `step(optimizer, metric)`
/// instead of this trait.
///
/// StepLR and ExponentialLR multiply the optimizer's *current* lr, as PyTorch's `step()`
/// does, so they compose with other changes to it. CosineAnnealingLR uses PyTorch's closed
/// form above rather than its recursive update, which is the same curve without the
/// rounding drift (they agree to about 1e-16 relative). Past T_max the cosine climbs back
/// up, as PyTorch's does.
///
/// ```
/// use tapegrad_autograd::Tensor;
/// use tapegrad_optim::{Optimizer, Scheduler, Sgd, SgdConfig, StepLR};
/// let w = Tensor::<f32>::zeros(&[1]).requires_grad();
/// let mut opt = Sgd::new(vec![w], SgdConfig { lr: 0.1, ..SgdConfig::default() }).unwrap();
/// let mut schedule = StepLR::new(&opt, 2, 0.5).unwrap();
/// let mut lrs = Vec::new();
/// for _epoch in 0..5 {
///     lrs.push(opt.lr());
///     // … train one epoch with opt …
///     schedule.step(&mut opt);
/// }
/// assert_eq!(lrs, vec![0.1, 0.1, 0.05, 0.05, 0.025]);
/// ```
pub trait Scheduler<T: Element> {
    /// Ends an epoch: advances the epoch count and sets the optimizer's learning rate for
    /// the next epoch.
    ///
    /// ```
    /// use tapegrad_autograd::Tensor;
    /// use tapegrad_optim::{ExponentialLR, Optimizer, Scheduler, Sgd, SgdConfig};
    /// let mut opt = Sgd::new(vec![Tensor::<f64>::zeros(&[1]).requires_grad()], SgdConfig { lr: 1.0, ..SgdConfig::default() }).unwrap();
    /// let mut schedule = ExponentialLR::new(&opt, 0.5).unwrap();
    /// schedule.step(&mut opt);
    /// assert_eq!(opt.lr(), 0.5);
    /// ```
    fn step(&mut self, optimizer: &mut dyn Optimizer<T>);

    /// The learning rate the schedule last set (PyTorch's `get_last_lr()`).
    ///
    /// ```
    /// use tapegrad_autograd::Tensor;
    /// use tapegrad_optim::{CosineAnnealingLR, Scheduler, Sgd, SgdConfig};
    /// let mut opt = Sgd::new(vec![Tensor::<f64>::zeros(&[1]).requires_grad()], SgdConfig { lr: 1.0, ..SgdConfig::default() }).unwrap();
    /// let mut schedule = CosineAnnealingLR::new(&opt, 1, 0.0).unwrap();
    /// schedule.step(&mut opt);
    /// assert_eq!(Scheduler::<f64>::lr(&schedule), 0.0);
    /// ```
    fn lr(&self) -> f64;
}

/// Multiplies the learning rate by `gamma` every `step_size` epochs.
///
/// ```
/// use tapegrad_autograd::Tensor;
/// use tapegrad_optim::{Optimizer, Scheduler, Sgd, SgdConfig, StepLR};
/// let mut opt = Sgd::new(vec![Tensor::<f32>::zeros(&[1]).requires_grad()], SgdConfig { lr: 1.0, ..SgdConfig::default() }).unwrap();
/// let mut schedule = StepLR::new(&opt, 3, 0.1).unwrap();
/// for _ in 0..3 { schedule.step(&mut opt); }
/// assert_eq!(Scheduler::<f32>::lr(&schedule), 0.1);
/// ```
#[derive(Clone, Debug)]
pub struct StepLR {
    step_size: usize,
    gamma: f64,
    last_epoch: usize,
    last_lr: f64,
}

impl StepLR {
    /// A step schedule starting from the optimizer's current learning rate.
    ///
    /// # Errors
    /// [`OptimError::InvalidHyperparameter`] for a `step_size` of 0 or a negative or
    /// non-finite `gamma`.
    ///
    /// ```
    /// use tapegrad_autograd::Tensor;
    /// use tapegrad_optim::{Sgd, SgdConfig, StepLR};
    /// let opt = Sgd::new(vec![Tensor::<f32>::zeros(&[1]).requires_grad()], SgdConfig::default()).unwrap();
    /// assert!(StepLR::new(&opt, 30, 0.1).is_ok());
    /// assert!(StepLR::new(&opt, 0, 0.1).is_err());
    /// ```
    pub fn new<T: Element>(
        optimizer: &(impl Optimizer<T> + ?Sized),
        step_size: usize,
        gamma: f64,
    ) -> Result<Self, OptimError> {
        check("StepLR", "step_size", step_size as f64, |v| v >= 1.0, "must be ≥ 1")?;
        check("StepLR", "gamma", gamma, |v| v >= 0.0, "must be finite and ≥ 0")?;
        Ok(StepLR { step_size, gamma, last_epoch: 0, last_lr: optimizer.lr() })
    }

    /// How many epochs have ended.
    ///
    /// ```
    /// use tapegrad_autograd::Tensor;
    /// use tapegrad_optim::{StepLR, Scheduler, Sgd, SgdConfig};
    /// let mut opt = Sgd::new(vec![Tensor::<f32>::zeros(&[1]).requires_grad()], SgdConfig::default()).unwrap();
    /// let mut schedule = StepLR::new(&opt, 10, 0.5).unwrap();
    /// schedule.step(&mut opt);
    /// assert_eq!(schedule.last_epoch(), 1);
    /// ```
    pub fn last_epoch(&self) -> usize {
        self.last_epoch
    }
}

impl<T: Element> Scheduler<T> for StepLR {
    fn step(&mut self, optimizer: &mut dyn Optimizer<T>) {
        self.last_epoch += 1;
        let lr = optimizer.lr();
        self.last_lr = if self.last_epoch.is_multiple_of(self.step_size) { lr * self.gamma } else { lr };
        optimizer.set_lr(self.last_lr);
    }

    fn lr(&self) -> f64 {
        self.last_lr
    }
}

/// Multiplies the learning rate by `gamma` every epoch.
///
/// ```
/// use tapegrad_autograd::Tensor;
/// use tapegrad_optim::{ExponentialLR, Optimizer, Scheduler, Sgd, SgdConfig};
/// let mut opt = Sgd::new(vec![Tensor::<f32>::zeros(&[1]).requires_grad()], SgdConfig { lr: 0.1, ..SgdConfig::default() }).unwrap();
/// let mut schedule = ExponentialLR::new(&opt, 0.9).unwrap();
/// schedule.step(&mut opt);
/// schedule.step(&mut opt);
/// assert!((opt.lr() - 0.081).abs() < 1e-15);
/// ```
#[derive(Clone, Debug)]
pub struct ExponentialLR {
    gamma: f64,
    last_epoch: usize,
    last_lr: f64,
}

impl ExponentialLR {
    /// An exponential schedule starting from the optimizer's current learning rate.
    ///
    /// # Errors
    /// [`OptimError::InvalidHyperparameter`] for a negative or non-finite `gamma`.
    ///
    /// ```
    /// use tapegrad_autograd::Tensor;
    /// use tapegrad_optim::{ExponentialLR, Sgd, SgdConfig};
    /// let opt = Sgd::new(vec![Tensor::<f32>::zeros(&[1]).requires_grad()], SgdConfig::default()).unwrap();
    /// assert!(ExponentialLR::new(&opt, 0.95).is_ok());
    /// assert!(ExponentialLR::new(&opt, -0.95).is_err());
    /// ```
    pub fn new<T: Element>(optimizer: &(impl Optimizer<T> + ?Sized), gamma: f64) -> Result<Self, OptimError> {
        check("ExponentialLR", "gamma", gamma, |v| v >= 0.0, "must be finite and ≥ 0")?;
        Ok(ExponentialLR { gamma, last_epoch: 0, last_lr: optimizer.lr() })
    }

    /// How many epochs have ended.
    ///
    /// ```
    /// use tapegrad_autograd::Tensor;
    /// use tapegrad_optim::{ExponentialLR, Scheduler, Sgd, SgdConfig};
    /// let mut opt = Sgd::new(vec![Tensor::<f32>::zeros(&[1]).requires_grad()], SgdConfig::default()).unwrap();
    /// let mut schedule = ExponentialLR::new(&opt, 0.9).unwrap();
    /// schedule.step(&mut opt);
    /// assert_eq!(schedule.last_epoch(), 1);
    /// ```
    pub fn last_epoch(&self) -> usize {
        self.last_epoch
    }
}

impl<T: Element> Scheduler<T> for ExponentialLR {
    fn step(&mut self, optimizer: &mut dyn Optimizer<T>) {
        self.last_epoch += 1;
        self.last_lr = optimizer.lr() * self.gamma;
        optimizer.set_lr(self.last_lr);
    }

    fn lr(&self) -> f64 {
        self.last_lr
    }
}

/// Anneals the learning rate from its starting value to `eta_min` along half a cosine over
/// `t_max` epochs (and back up over the next `t_max`, as PyTorch's).
///
/// ```
/// use tapegrad_autograd::Tensor;
/// use tapegrad_optim::{CosineAnnealingLR, Optimizer, Scheduler, Sgd, SgdConfig};
/// let mut opt = Sgd::new(vec![Tensor::<f32>::zeros(&[1]).requires_grad()], SgdConfig { lr: 0.1, ..SgdConfig::default() }).unwrap();
/// let mut schedule = CosineAnnealingLR::new(&opt, 4, 0.0).unwrap();
/// schedule.step(&mut opt);
/// schedule.step(&mut opt);
/// assert!((opt.lr() - 0.05).abs() < 1e-15); // halfway: (1 + cos(π/2)) / 2
/// ```
#[derive(Clone, Debug)]
pub struct CosineAnnealingLR {
    t_max: usize,
    eta_min: f64,
    base_lr: f64,
    last_epoch: usize,
    last_lr: f64,
}

impl CosineAnnealingLR {
    /// A cosine schedule from the optimizer's current learning rate down to `eta_min` at
    /// epoch `t_max` (PyTorch's `T_max`).
    ///
    /// # Errors
    /// [`OptimError::InvalidHyperparameter`] for a `t_max` of 0 or a negative or non-finite
    /// `eta_min`.
    ///
    /// ```
    /// use tapegrad_autograd::Tensor;
    /// use tapegrad_optim::{CosineAnnealingLR, Sgd, SgdConfig};
    /// let opt = Sgd::new(vec![Tensor::<f32>::zeros(&[1]).requires_grad()], SgdConfig::default()).unwrap();
    /// assert!(CosineAnnealingLR::new(&opt, 100, 1e-5).is_ok());
    /// assert!(CosineAnnealingLR::new(&opt, 0, 1e-5).is_err());
    /// ```
    pub fn new<T: Element>(
        optimizer: &(impl Optimizer<T> + ?Sized),
        t_max: usize,
        eta_min: f64,
    ) -> Result<Self, OptimError> {
        check("CosineAnnealingLR", "T_max", t_max as f64, |v| v >= 1.0, "must be ≥ 1")?;
        check("CosineAnnealingLR", "eta_min", eta_min, |v| v >= 0.0, "must be finite and ≥ 0")?;
        let base_lr = optimizer.lr();
        Ok(CosineAnnealingLR { t_max, eta_min, base_lr, last_epoch: 0, last_lr: base_lr })
    }

    /// How many epochs have ended.
    ///
    /// ```
    /// use tapegrad_autograd::Tensor;
    /// use tapegrad_optim::{CosineAnnealingLR, Scheduler, Sgd, SgdConfig};
    /// let mut opt = Sgd::new(vec![Tensor::<f32>::zeros(&[1]).requires_grad()], SgdConfig::default()).unwrap();
    /// let mut schedule = CosineAnnealingLR::new(&opt, 10, 0.0).unwrap();
    /// schedule.step(&mut opt);
    /// assert_eq!(schedule.last_epoch(), 1);
    /// ```
    pub fn last_epoch(&self) -> usize {
        self.last_epoch
    }
}

impl<T: Element> Scheduler<T> for CosineAnnealingLR {
    fn step(&mut self, optimizer: &mut dyn Optimizer<T>) {
        self.last_epoch += 1;
        // PyTorch's _get_closed_form_lr, operation for operation.
        let angle = std::f64::consts::PI * self.last_epoch as f64 / self.t_max as f64;
        self.last_lr = self.eta_min + (self.base_lr - self.eta_min) * (1.0 + angle.cos()) / 2.0;
        optimizer.set_lr(self.last_lr);
    }

    fn lr(&self) -> f64 {
        self.last_lr
    }
}
