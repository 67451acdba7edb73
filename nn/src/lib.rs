//! # tapegrad-nn
//!
//! Layers, activations, losses and metrics: what a neural-networks course teaches, as small
//! pieces a PyTorch or Keras user recognises at once.
//!
//! ```
//! use rand::SeedableRng;
//! use tapegrad_autograd::{Indices, Tensor};
//! use tapegrad_nn::{Linear, Module, ReLU, Reduction, Sequential, accuracy, cross_entropy};
//!
//! let mut rng = rand::rngs::StdRng::seed_from_u64(0);
//! let model = Sequential::new().add(Linear::new(2, 16, &mut rng)).add(ReLU).add(Linear::new(16, 2, &mut rng));
//! let x = Tensor::from_vec(vec![0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0], &[4, 2]).unwrap();
//! let y = Indices::from(vec![0, 1, 1, 0]); // XOR
//! let logits = model.forward(&x);
//! let loss = cross_entropy(&logits, &y, Reduction::Mean);
//! loss.backward();
//! assert!(model.parameters().iter().all(|p| p.grad().is_some()));
//! let _ = accuracy(&logits, &y);
//! ```
//!
//! Layers implement [`Module`]; [`Sequential`] stacks them; custom models are plain structs.

mod activation;
mod batchnorm;
pub mod checkpoint;
mod conv;
mod dropout;
mod init;
mod layernorm;
mod linear;
mod loss;
mod metrics;
mod module;
mod pool;

pub use activation::{Activation, GELU, Identity, LeakyReLU, LogSoftmax, ReLU, Sigmoid, Softmax, Tanh};
pub use batchnorm::{BatchNorm, BatchNorm1d, BatchNorm2d};
pub use conv::{Conv1d, Conv2d};
pub use dropout::{Dropout, Flatten, Unflatten};
pub use init::Init;
pub use layernorm::LayerNorm;
pub use linear::Linear;
pub use loss::{
    Reduction, binary_cross_entropy, binary_cross_entropy_with_logits, cross_entropy, cross_entropy_soft, huber_loss,
    l1_loss, mse_loss, nll_loss,
};
pub use metrics::{ConfusionMatrix, accuracy, binary_accuracy, mae, r2_score, rmse};
pub use module::{Module, Sequential, prefixed};
pub use pool::{AdaptiveAvgPool2d, AvgPool2d, MaxPool2d};
