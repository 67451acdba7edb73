//! Activation layers: the nonlinearities between linear layers, as modules (shapes
//! unchanged), and [`Activation`], the same chosen by name at run time (`--activation tanh`).

use std::fmt;
use std::str::FromStr;

use tapegrad_autograd::{Element, Tensor, lit};

use crate::module::Module;

/// max(x, 0).
#[derive(Clone, Copy, Debug, Default)]
pub struct ReLU;

/// x for x ≥ 0, `negative_slope`·x below.
#[derive(Clone, Copy, Debug)]
pub struct LeakyReLU {
    /// The slope for negative inputs (PyTorch's default 0.01).
    pub negative_slope: f64,
}

impl Default for LeakyReLU {
    fn default() -> Self {
        LeakyReLU { negative_slope: 0.01 }
    }
}

/// 1/(1 + e⁻ˣ).
#[derive(Clone, Copy, Debug, Default)]
pub struct Sigmoid;

/// The hyperbolic tangent.
#[derive(Clone, Copy, Debug, Default)]
pub struct Tanh;

/// x·Φ(x), the Gaussian error linear unit.
#[derive(Clone, Copy, Debug, Default)]
pub struct GELU;

/// The identity: the course's "linear" activation.
#[derive(Clone, Copy, Debug, Default)]
pub struct Identity;

/// Probabilities along `axis` (−1: the last).
#[derive(Clone, Copy, Debug)]
pub struct Softmax {
    /// The axis that sums to 1.
    pub axis: isize,
}

/// ln softmax along `axis`.
#[derive(Clone, Copy, Debug)]
pub struct LogSoftmax {
    /// The axis of the classes.
    pub axis: isize,
}

impl<T: Element> Module<T> for ReLU {
    fn forward(&self, x: &Tensor<T>) -> Tensor<T> {
        x.relu()
    }
}

impl<T: Element> Module<T> for LeakyReLU {
    fn forward(&self, x: &Tensor<T>) -> Tensor<T> {
        x.leaky_relu(lit(self.negative_slope))
    }
}

impl<T: Element> Module<T> for Sigmoid {
    fn forward(&self, x: &Tensor<T>) -> Tensor<T> {
        x.sigmoid()
    }
}

impl<T: Element> Module<T> for Tanh {
    fn forward(&self, x: &Tensor<T>) -> Tensor<T> {
        x.tanh()
    }
}

impl<T: Element> Module<T> for GELU {
    fn forward(&self, x: &Tensor<T>) -> Tensor<T> {
        x.gelu()
    }
}

impl<T: Element> Module<T> for Identity {
    fn forward(&self, x: &Tensor<T>) -> Tensor<T> {
        x.clone()
    }
}

impl<T: Element> Module<T> for Softmax {
    fn forward(&self, x: &Tensor<T>) -> Tensor<T> {
        x.softmax(self.axis)
    }
}

impl<T: Element> Module<T> for LogSoftmax {
    fn forward(&self, x: &Tensor<T>) -> Tensor<T> {
        x.log_softmax(self.axis)
    }
}

/// An activation chosen by name, as the Playground's menu offers them.
///
/// ```
/// use tapegrad_autograd::Tensor;
/// use tapegrad_nn::{Activation, Module};
/// let act: Activation = "tanh".parse().unwrap();
/// let x = Tensor::from_vec(vec![0.0f32], &[1]).unwrap();
/// assert_eq!(act.forward(&x).to_vec(), vec![0.0]);
/// assert!("swish".parse::<Activation>().unwrap_err().contains("relu, leaky_relu, tanh, sigmoid, gelu, linear"));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Activation {
    /// [`ReLU`]
    Relu,
    /// [`LeakyReLU`] with slope 0.01
    LeakyRelu,
    /// [`Tanh`]
    Tanh,
    /// [`Sigmoid`]
    Sigmoid,
    /// [`GELU`]
    Gelu,
    /// [`Identity`]
    Linear,
}

impl<T: Element> Module<T> for Activation {
    fn forward(&self, x: &Tensor<T>) -> Tensor<T> {
        match self {
            Activation::Relu => x.relu(),
            Activation::LeakyRelu => x.leaky_relu(lit(0.01)),
            Activation::Tanh => x.tanh(),
            Activation::Sigmoid => x.sigmoid(),
            Activation::Gelu => x.gelu(),
            Activation::Linear => x.clone(),
        }
    }
}

impl FromStr for Activation {
    type Err = String;

    fn from_str(name: &str) -> Result<Self, String> {
        Ok(match name.to_ascii_lowercase().as_str() {
            "relu" => Activation::Relu,
            "leaky_relu" | "leakyrelu" => Activation::LeakyRelu,
            "tanh" => Activation::Tanh,
            "sigmoid" => Activation::Sigmoid,
            "gelu" => Activation::Gelu,
            "linear" | "identity" | "none" => Activation::Linear,
            other => {
                return Err(format!(
                    "unknown activation {other:?}: expected one of relu, leaky_relu, tanh, sigmoid, gelu, linear"
                ));
            }
        })
    }
}

impl fmt::Display for Activation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            Activation::Relu => "relu",
            Activation::LeakyRelu => "leaky_relu",
            Activation::Tanh => "tanh",
            Activation::Sigmoid => "sigmoid",
            Activation::Gelu => "gelu",
            Activation::Linear => "linear",
        };
        f.write_str(name)
    }
}
