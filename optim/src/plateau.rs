//! ReduceLROnPlateau: the learning-rate schedule driven by a metric rather than the epoch
//! count, as `torch.optim.lr_scheduler.ReduceLROnPlateau`.

use tapegrad_autograd::Element;

use crate::error::OptimError;
use crate::optimizer::{Optimizer, check};

/// Whether a smaller or a larger metric is better (PyTorch's `mode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum PlateauMode {
    /// Lower is better: a loss (the default).
    #[default]
    Min,
    /// Higher is better: an accuracy.
    Max,
}

/// How an improvement is measured against the best metric so far (PyTorch's
/// `threshold_mode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ThresholdMode {
    /// Better than best · (1 ∓ threshold) (the default).
    #[default]
    Rel,
    /// Better than best ∓ threshold.
    Abs,
}

/// [`ReduceLROnPlateau`]'s settings, with PyTorch's names and defaults.
///
/// ```
/// use tapegrad_optim::PlateauConfig;
/// let config = PlateauConfig { patience: 3, ..PlateauConfig::default() };
/// assert_eq!((config.factor, config.threshold), (0.1, 1e-4));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct PlateauConfig {
    /// Whether lower or higher metrics are better (default [`PlateauMode::Min`]).
    pub mode: PlateauMode,
    /// Multiplies the learning rate on a plateau, in [0, 1) (default 0.1).
    pub factor: f64,
    /// Epochs without improvement tolerated before reducing (default 10).
    pub patience: usize,
    /// The least change that counts as an improvement (default 1e-4).
    pub threshold: f64,
    /// Relative or absolute threshold (default [`ThresholdMode::Rel`]).
    pub threshold_mode: ThresholdMode,
    /// Epochs to wait after a reduction before counting bad epochs again (default 0).
    pub cooldown: usize,
    /// The learning rate never goes below this (default 0).
    pub min_lr: f64,
    /// Reductions smaller than this are skipped (default 1e-8).
    pub eps: f64,
}

impl Default for PlateauConfig {
    fn default() -> Self {
        PlateauConfig {
            mode: PlateauMode::Min,
            factor: 0.1,
            patience: 10,
            threshold: 1e-4,
            threshold_mode: ThresholdMode::Rel,
            cooldown: 0,
            min_lr: 0.0,
            eps: 1e-8,
        }
    }
}

/// Reduces the learning rate by `factor` once a metric (a validation loss, say) has not
/// improved for more than `patience` epochs, as PyTorch's:
///
/// ```text
/// each epoch: if metric beats best by the threshold { best = metric; bad = 0 } else { bad += 1 }
///             in cooldown: cooldown −= 1, bad = 0
///             if bad > patience { lr ← max(lr · factor, min_lr) unless that changes lr by ≤ eps;
///                                 cooldown = cooldown setting; bad = 0 }
/// ```
///
/// A NaN metric never improves, so it counts as a bad epoch.
///
/// ```
/// use tapegrad_autograd::Tensor;
/// use tapegrad_optim::{Optimizer, PlateauConfig, ReduceLROnPlateau, Sgd, SgdConfig};
/// let mut opt = Sgd::new(vec![Tensor::<f32>::zeros(&[1]).requires_grad()], SgdConfig { lr: 0.1, ..SgdConfig::default() }).unwrap();
/// let mut schedule = ReduceLROnPlateau::new(&opt, PlateauConfig { patience: 1, factor: 0.5, ..PlateauConfig::default() }).unwrap();
/// for loss in [1.0, 0.8, 0.8, 0.8] {
///     schedule.step(&mut opt, loss);
/// }
/// assert_eq!(opt.lr(), 0.05); // two epochs without improvement exceed a patience of 1
/// ```
#[derive(Clone, Debug)]
pub struct ReduceLROnPlateau {
    config: PlateauConfig,
    best: f64,
    num_bad_epochs: usize,
    cooldown_counter: usize,
    last_epoch: usize,
    last_lr: f64,
}

impl ReduceLROnPlateau {
    /// A plateau schedule for `optimizer`.
    ///
    /// # Errors
    /// [`OptimError::InvalidHyperparameter`] for a `factor` outside [0, 1) or a negative or
    /// non-finite `threshold`, `min_lr` or `eps`.
    ///
    /// ```
    /// use tapegrad_autograd::Tensor;
    /// use tapegrad_optim::{PlateauConfig, PlateauMode, ReduceLROnPlateau, Sgd, SgdConfig};
    /// let opt = Sgd::new(vec![Tensor::<f32>::zeros(&[1]).requires_grad()], SgdConfig::default()).unwrap();
    /// let accuracy = PlateauConfig { mode: PlateauMode::Max, patience: 5, ..PlateauConfig::default() };
    /// assert!(ReduceLROnPlateau::new(&opt, accuracy).is_ok());
    /// assert!(ReduceLROnPlateau::new(&opt, PlateauConfig { factor: 2.0, ..PlateauConfig::default() }).is_err());
    /// ```
    pub fn new<T: Element>(
        optimizer: &(impl Optimizer<T> + ?Sized),
        config: PlateauConfig,
    ) -> Result<Self, OptimError> {
        let owner = "ReduceLROnPlateau";
        check(owner, "factor", config.factor, |v| (0.0..1.0).contains(&v), "must be in [0, 1)")?;
        check(owner, "threshold", config.threshold, |v| v >= 0.0, "must be finite and ≥ 0")?;
        check(owner, "min_lr", config.min_lr, |v| v >= 0.0, "must be finite and ≥ 0")?;
        check(owner, "eps", config.eps, |v| v >= 0.0, "must be finite and ≥ 0")?;
        let best = match config.mode {
            PlateauMode::Min => f64::INFINITY,
            PlateauMode::Max => f64::NEG_INFINITY,
        };
        let last_lr = optimizer.lr();
        Ok(ReduceLROnPlateau { config, best, num_bad_epochs: 0, cooldown_counter: 0, last_epoch: 0, last_lr })
    }

    /// Ends an epoch whose metric was `metric`, reducing the optimizer's learning rate if
    /// the metric has stalled.
    ///
    /// ```
    /// use tapegrad_autograd::Tensor;
    /// use tapegrad_optim::{Optimizer, PlateauConfig, ReduceLROnPlateau, Sgd, SgdConfig};
    /// let mut opt = Sgd::new(vec![Tensor::<f64>::zeros(&[1]).requires_grad()], SgdConfig { lr: 1.0, ..SgdConfig::default() }).unwrap();
    /// let mut schedule = ReduceLROnPlateau::new(&opt, PlateauConfig { patience: 0, ..PlateauConfig::default() }).unwrap();
    /// schedule.step(&mut opt, 0.5);
    /// schedule.step(&mut opt, 0.6); // worse: patience 0 reduces at once
    /// assert_eq!(schedule.lr(), 0.1);
    /// ```
    pub fn step<T: Element>(&mut self, optimizer: &mut (impl Optimizer<T> + ?Sized), metric: f64) {
        self.last_epoch += 1;
        if self.is_better(metric) {
            self.best = metric;
            self.num_bad_epochs = 0;
        } else {
            self.num_bad_epochs += 1;
        }
        if self.cooldown_counter > 0 {
            self.cooldown_counter -= 1;
            self.num_bad_epochs = 0; // bad epochs in cooldown do not count
        }
        if self.num_bad_epochs > self.config.patience {
            let old_lr = optimizer.lr();
            let new_lr = (old_lr * self.config.factor).max(self.config.min_lr);
            if old_lr - new_lr > self.config.eps {
                optimizer.set_lr(new_lr);
            }
            self.cooldown_counter = self.config.cooldown;
            self.num_bad_epochs = 0;
        }
        self.last_lr = optimizer.lr();
    }

    /// The optimizer's learning rate after the last step (PyTorch's `get_last_lr()`); see
    /// [`ReduceLROnPlateau::step`].
    pub fn lr(&self) -> f64 {
        self.last_lr
    }

    /// The best metric seen so far (±∞ before the first step).
    ///
    /// ```
    /// use tapegrad_autograd::Tensor;
    /// use tapegrad_optim::{PlateauConfig, ReduceLROnPlateau, Sgd, SgdConfig};
    /// let mut opt = Sgd::new(vec![Tensor::<f32>::zeros(&[1]).requires_grad()], SgdConfig::default()).unwrap();
    /// let mut schedule = ReduceLROnPlateau::new(&opt, PlateauConfig::default()).unwrap();
    /// assert_eq!(schedule.best(), f64::INFINITY);
    /// for loss in [0.9, 0.5, 0.7] {
    ///     schedule.step(&mut opt, loss);
    /// }
    /// assert_eq!((schedule.best(), schedule.last_epoch()), (0.5, 3));
    /// ```
    pub fn best(&self) -> f64 {
        self.best
    }

    /// How many epochs have ended (see [`ReduceLROnPlateau::best`]).
    pub fn last_epoch(&self) -> usize {
        self.last_epoch
    }

    fn is_better(&self, metric: f64) -> bool {
        let (best, threshold) = (self.best, self.config.threshold);
        match (self.config.mode, self.config.threshold_mode) {
            (PlateauMode::Min, ThresholdMode::Rel) => metric < best * (1.0 - threshold),
            (PlateauMode::Min, ThresholdMode::Abs) => metric < best - threshold,
            (PlateauMode::Max, ThresholdMode::Rel) => metric > best * (threshold + 1.0),
            (PlateauMode::Max, ThresholdMode::Abs) => metric > best + threshold,
        }
    }
}
