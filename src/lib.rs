//! # tapegrad
//!
//! A define-by-run, reverse-mode automatic differentiation tensor framework for training
//! neural networks on the CPU. This crate gathers the workspace's crates:
//!
//! - [`autograd`]: tensors, the tape of ops, gradients, gradient checking;
//! - [`nn`]: layers, activations, losses;
//! - [`optim`]: optimizers, regularizers, schedules;
//! - [`datasets`]: data sets and loaders;
//! - [`distributed`]: data-parallel training over MPI (feature `mpi`), bit-identical to one
//!   process in its deterministic mode;
//!
//! and adds what sits on top of all of them: [`Fit`], a Keras-style training loop with a
//! progress bar and a [`History`]; [`save_training`]/[`load_training`] to resume runs
//! bit-identically; and [`plot`], pictures in PNG.
//!
//! ```
//! use tapegrad::prelude::*;
//! let x = Tensor::from_vec(vec![-1.5f64, 0.0, 1.5], &[3]).unwrap().requires_grad();
//! (&x * &x - 2.0).sum().backward(); // d/dx (x² − 2) = 2x
//! assert_eq!(x.grad().unwrap().to_vec(), vec![-3.0, 0.0, 3.0]);
//! ```

pub use tapegrad_autograd as autograd;
pub use tapegrad_datasets as datasets;
pub use tapegrad_distributed as distributed;
pub use tapegrad_nn as nn;
pub use tapegrad_optim as optim;

mod fit;
mod history;
pub mod plot;
mod progress;
mod resume;

pub use fit::{Evaluation, Fit, Objective, evaluate, summary};
pub use history::{EpochRecord, History};
pub use progress::ProgressBar;
pub use resume::{ResumeError, load_training, save_training};

/// The names a training script needs, in one `use`.
pub mod prelude {
    pub use rand::SeedableRng;
    pub use rand::rngs::StdRng;
    pub use tapegrad_autograd::{
        Array, ConvOptions, Function, GradcheckOptions, Indices, Tensor, detect_anomaly, grad, gradcheck,
        gradgradcheck, no_grad,
    };
    pub use tapegrad_datasets::{Batch, DataLoader, Dataset, Targets};
    pub use tapegrad_nn::{
        Activation, AdaptiveAvgPool2d, AvgPool2d, BatchNorm1d, BatchNorm2d, Conv1d, Conv2d, Dropout, Flatten, GELU,
        Identity, Init, LayerNorm, LeakyReLU, Linear, LogSoftmax, MaxPool2d, Module, ReLU, Reduction, Sequential,
        Sigmoid, Softmax, Tanh, Unflatten, accuracy, cross_entropy, mse_loss,
    };
    pub use tapegrad_optim::{
        Adagrad, AdagradConfig, Adam, AdamConfig, AdamW, AdamWConfig, Optimizer, RmsProp, RmsPropConfig, Sgd, SgdConfig,
    };
}

/// The README's code, compiled and run as a doc test so it cannot go stale.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
