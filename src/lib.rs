//! # tapegrad
//!
//! A define-by-run, reverse-mode automatic differentiation tensor framework for training
//! neural networks on the CPU. This crate gathers the workspace's crates:
//!
//! - [`autograd`]: tensors, the tape of ops, gradients, gradient checking;
//! - [`nn`]: layers, activations, losses;
//! - [`optim`]: optimizers, regularizers, schedules;
//! - [`datasets`]: data sets and loaders.
//!
//! ```
//! use tapegrad::prelude::*;
//! let x = Tensor::from_vec(vec![-1.5f64, 0.0, 1.5], &[3]).unwrap().requires_grad();
//! (&x * &x - 2.0).sum().backward(); // d/dx (x² − 2) = 2x
//! assert_eq!(x.grad().unwrap().to_vec(), vec![-3.0, 0.0, 3.0]);
//! ```

pub use tapegrad_autograd as autograd;
pub use tapegrad_datasets as datasets;
pub use tapegrad_nn as nn;
pub use tapegrad_optim as optim;
pub mod plot;

/// The names a training script needs, in one `use`.
pub mod prelude {
    pub use rand::SeedableRng;
    pub use rand::rngs::StdRng;
    pub use tapegrad_autograd::{
        Array, Function, GradcheckOptions, Indices, Tensor, detect_anomaly, grad, gradcheck, gradgradcheck, no_grad,
    };
}

/// The README's code, compiled and run as a doc test so it cannot go stale.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
