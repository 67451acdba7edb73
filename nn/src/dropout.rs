//! Dropout (zeroes a random fraction of activations while training, so no neuron can rely
//! on another) and Flatten (images to vectors). Any input shape; output shape: the same for
//! dropout, `[batch, rest…]` merged for flatten.

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
