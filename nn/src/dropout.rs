//! Dropout (zeroes a random fraction of activations while training, so no neuron can rely
//! on another), Flatten (images to vectors) and Unflatten (vectors to images). Any input
//! shape; output shape: the same for dropout, `[batch, rest…]` merged for flatten,
//! `[batch, *shape]` for unflatten.

use std::marker::PhantomData;
use std::sync::Mutex;

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use tapegrad_autograd::{Element, Tensor, lit};

use crate::module::Module;

/// Zeroes each element with probability `p` while training, scaling the rest by 1/(1 − p)
/// so the expected activation is unchanged ("inverted dropout", as PyTorch); the identity
/// in evaluation mode. Its random mask comes from its own seeded generator.
///
/// ```
/// use tapegrad_autograd::Tensor;
/// use tapegrad_nn::{Dropout, Module};
/// let mut dropout: Dropout = Dropout::new(0.5, 42);
/// let x = Tensor::<f32>::ones(&[1000]);
/// let y = dropout.forward(&x).to_vec();
/// assert!(y.iter().all(|&v| v == 0.0 || v == 2.0));
/// dropout.eval();
/// assert_eq!(dropout.forward(&x).to_vec(), x.to_vec());
/// ```
pub struct Dropout<T: Element = f32> {
    p: f64,
    training: bool,
    rng: Mutex<StdRng>,
    element: PhantomData<fn() -> T>,
}

impl<T: Element> Dropout<T> {
    /// Dropout with drop probability `p`, its masks drawn from a generator seeded by `seed`.
    ///
    /// # Panics
    /// If `p` is not in [0, 1).
    #[track_caller]
    pub fn new(p: f64, seed: u64) -> Self {
        if !(0.0..1.0).contains(&p) {
            panic!("Dropout: probability {p} must be in [0, 1)");
        }
        Dropout { p, training: true, rng: Mutex::new(StdRng::seed_from_u64(seed)), element: PhantomData }
    }

    /// The drop probability.
    pub fn p(&self) -> f64 {
        self.p
    }
}

impl<T: Element> Module<T> for Dropout<T> {
    fn forward(&self, x: &Tensor<T>) -> Tensor<T> {
        if !self.training || self.p == 0.0 {
            return x.clone();
        }
        let keep = lit::<T>(1.0 / (1.0 - self.p));
        let mut rng = self.rng.lock().unwrap_or_else(|e| e.into_inner());
        let mask: Vec<T> =
            (0..x.numel()).map(|_| if rng.random::<f64>() < self.p { T::zero() } else { keep }).collect();
        x * &Tensor::from_vec(mask, x.shape()).expect("one mask value per element")
    }

    fn set_training(&mut self, training: bool) {
        self.training = training;
    }
}

/// Merges every axis after the first: `[batch, c, h, w]` → `[batch, c·h·w]`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Flatten;

impl<T: Element> Module<T> for Flatten {
    fn forward(&self, x: &Tensor<T>) -> Tensor<T> {
        if x.ndim() <= 2 { x.clone() } else { x.flatten(1, -1) }
    }
}

/// Splits the features of `[batch, features]` rows into `[batch, *shape]`, as PyTorch's
/// `nn.Unflatten(1, shape)`: flat image vectors back to `[batch, c, h, w]` for a CNN.
///
/// ```
/// use tapegrad_autograd::Tensor;
/// use tapegrad_nn::{Module, Unflatten};
/// let images = Module::<f32>::forward(&Unflatten::new(&[1, 28, 28]), &Tensor::zeros(&[64, 784]));
/// assert_eq!(images.shape(), &[64, 1, 28, 28]);
/// ```
#[derive(Clone, Debug)]
pub struct Unflatten {
    shape: Vec<usize>,
}

impl Unflatten {
    /// Rows to `shape` (whose sizes multiply to the row length).
    pub fn new(shape: &[usize]) -> Self {
        Unflatten { shape: shape.to_vec() }
    }
}

impl<T: Element> Module<T> for Unflatten {
    /// # Panics
    /// If the input's features do not fill `shape`.
    #[track_caller]
    fn forward(&self, x: &Tensor<T>) -> Tensor<T> {
        let features: usize = self.shape.iter().product();
        if x.ndim() != 2 || x.shape()[1] != features {
            panic!("Unflatten: input {:?} does not split into [batch, {:?}]", x.shape(), self.shape);
        }
        let mut shape = vec![x.shape()[0]];
        shape.extend(&self.shape);
        x.reshape(shape.as_slice())
    }
}
