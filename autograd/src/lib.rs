//! # tapegrad-autograd
//!
//! Tensors, the tape of ops, reverse-mode gradients and gradient checking: the core of
//! [tapegrad](https://github.com/tapegrad/tapegrad).
//!
//! Models are plain Rust code. Every op on a tensor that tracks gradients records itself
//! (define-by-run); `backward()` walks the record in reverse and fills each parameter's
//! gradient.
//!
//! ```
//! use tapegrad_autograd::Tensor;
//!
//! // One ReLU neuron: y = relu(w·x + b)
//! let x = Tensor::from_vec(vec![1.0f32, 4.0, 2.0], &[3]).unwrap();
//! let w = Tensor::from_vec(vec![0.5, -0.8, 0.4], &[3]).unwrap().requires_grad();
//! let b = Tensor::scalar(0.1f32).requires_grad();
//! let y = (w.matmul(&x) + &b).relu();
//! assert_eq!(y.item(), 0.0); // 0.5 − 3.2 + 0.8 + 0.1 < 0
//! y.backward();
//! assert_eq!(w.grad().unwrap().to_vec(), vec![0.0, 0.0, 0.0]); // a dead ReLU passes nothing
//! ```
//!
//! Layers: [`array`](mod@array) holds storage and kernels (no gradients); [`Tensor`] and the
//! derivative table in `ops` build the tape on top; `graph` walks it.

mod anomaly;
pub mod array;
mod creation;
mod custom;
mod dot;
mod element;
mod error;
pub mod gradcheck;
mod graph;
mod indices;
mod kernels;
mod operators;
mod ops;
mod recycle;
pub mod shape;
mod tensor;
#[cfg(feature = "proptest")]
pub mod testing;

// Lets `testing.rs` name this crate the way its users (and tapegrad's own tests) do.
#[cfg(feature = "proptest")]
extern crate self as tapegrad_autograd;

pub use anomaly::detect_anomaly;
pub use array::{Array, release_cached_memory};
pub use custom::{Context, Function, Saved, apply};
pub use element::{Element, lit};
pub use error::Error;
pub use gradcheck::{GradcheckError, GradcheckOptions, gradcheck, gradgradcheck};
pub use graph::{enable_grad, grad, grad_with, is_grad_enabled, no_grad};
pub use indices::Indices;
pub use ops::{ConvOptions, Padding, Pair};
pub use shape::{Dim, Dims, IntoShape, Shape};
pub use tensor::{Tensor, live_tensors};
