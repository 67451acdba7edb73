//! # tapegrad-optim
//!
//! Optimizers, regularizers, gradient clipping and learning-rate schedules for
//! [tapegrad](https://github.com/tapegrad/tapegrad), each matching `torch.optim` update
//! for update: SGD (momentum, dampening, Nesterov, weight decay), Adam (AMSGrad), AdamW,
//! Adagrad and RMSprop (momentum, centered); L1/L2 penalties; `clip_grad_norm` and
//! `clip_grad_value`; StepLR, ExponentialLR, CosineAnnealingLR and ReduceLROnPlateau.
//! Names and defaults are PyTorch's. The tests compare every optimizer, schedule and clip
//! with trajectories computed by PyTorch itself (`tests/reference/`).
//!
//! A training loop: fit y = 2x − 1 with a linear model and SGD with momentum.
//!
//! ```
//! use tapegrad_autograd::Tensor;
//! use tapegrad_optim::{Optimizer, Sgd, SgdConfig};
//!
//! let x = Tensor::from_vec(vec![-1.0f64, 0.0, 1.0, 2.0], &[4, 1]).unwrap();
//! let y = Tensor::from_vec(vec![-3.0, -1.0, 1.0, 3.0], &[4, 1]).unwrap();
//! let w = Tensor::from_vec(vec![0.0], &[1, 1]).unwrap().requires_grad();
//! let b = Tensor::from_vec(vec![0.0], &[1]).unwrap().requires_grad();
//!
//! let config = SgdConfig { lr: 0.1, momentum: 0.5, ..SgdConfig::default() };
//! let mut opt = Sgd::new(vec![w.clone(), b.clone()], config).unwrap();
//! for _ in 0..200 {
//!     opt.zero_grad();
//!     let prediction = x.matmul(&w) + &b;
//!     let loss = (prediction - &y).square().mean();
//!     loss.backward();
//!     opt.step();
//! }
//! assert!((w.item() - 2.0).abs() < 1e-6);
//! assert!((b.item() + 1.0).abs() < 1e-6);
//! ```
//!
//! Files: [`Optimizer`] and [`OptimizerState`] (the interface and resumable state), one
//! module per update rule, `regularize` (penalties), `clip` (gradient clipping),
//! `schedule` and `plateau` (learning-rate schedules).

mod adagrad;
mod adam;
mod clip;
mod error;
mod optimizer;
mod plateau;
mod regularize;
mod rmsprop;
mod schedule;
mod sgd;
mod state;

pub use adagrad::{Adagrad, AdagradConfig};
pub use adam::{Adam, AdamConfig, AdamW, AdamWConfig};
pub use clip::{clip_grad_norm, clip_grad_value};
pub use error::OptimError;
pub use optimizer::Optimizer;
pub use plateau::{PlateauConfig, PlateauMode, ReduceLROnPlateau, ThresholdMode};
pub use regularize::{l1_penalty, l2_penalty};
pub use rmsprop::{RmsProp, RmsPropConfig};
pub use schedule::{CosineAnnealingLR, ExponentialLR, Scheduler, StepLR};
pub use sgd::{Sgd, SgdConfig};
pub use state::OptimizerState;
