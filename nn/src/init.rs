//! Weight initialisation from a seeded generator: Xavier/Glorot, He/Kaiming, and PyTorch's
//! default for `Linear`.
//!
//! Each scheme picks the spread of the initial weights from the layer's fan-in and fan-out
//! so that signals neither vanish nor explode through many layers: Xavier for tanh and
//! sigmoid, Kaiming for ReLU.

use rand::Rng;
use tapegrad_autograd::{Element, Tensor, lit};

/// How to draw a layer's initial weights.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Init {
    /// PyTorch's default for `nn.Linear`: uniform on ±1/√fan_in.
    Default,
    /// Glorot & Bengio (2010): uniform on ±√(6/(fan_in + fan_out)).
    XavierUniform,
    /// Glorot & Bengio: normal with std √(2/(fan_in + fan_out)).
    XavierNormal,
    /// He et al. (2015) for ReLU: uniform on ±√(6/fan_in).
    KaimingUniform,
    /// He et al. for ReLU: normal with std √(2/fan_in).
    KaimingNormal,
    /// All zeros (for biases, or to watch symmetry break down in class).
    Zeros,
}

impl Init {
    /// A tensor of `shape` drawn by this scheme, for a layer with `fan_in` inputs and
    /// `fan_out` outputs.
    ///
    /// ```
    /// use rand::SeedableRng;
    /// use tapegrad_nn::Init;
    /// let w = Init::KaimingNormal.tensor::<f64>(&[256, 512], 512, 256, &mut rand::rngs::StdRng::seed_from_u64(0));
    /// let std = w.var().sqrt().item();
    /// assert!((std - (2.0f64 / 512.0).sqrt()).abs() < 0.002);
    /// ```
    pub fn tensor<T: Element>(self, shape: &[usize], fan_in: usize, fan_out: usize, rng: &mut impl Rng) -> Tensor<T> {
        let (fan_in, fan_out) = (fan_in.max(1) as f64, fan_out.max(1) as f64);
        let uniform = |bound: f64, rng: &mut _| Tensor::uniform(shape, lit(-bound), lit(bound), rng);
        let normal = |std: f64, rng: &mut _| Tensor::normal(shape, T::zero(), lit(std), rng);
        match self {
            Init::Default => uniform(1.0 / fan_in.sqrt(), rng),
            Init::XavierUniform => uniform((6.0 / (fan_in + fan_out)).sqrt(), rng),
            Init::XavierNormal => normal((2.0 / (fan_in + fan_out)).sqrt(), rng),
            Init::KaimingUniform => uniform((6.0 / fan_in).sqrt(), rng),
            Init::KaimingNormal => normal((2.0 / fan_in).sqrt(), rng),
            Init::Zeros => Tensor::zeros(shape),
        }
    }
}
