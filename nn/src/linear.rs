//! The fully connected layer (dense, in Keras's words): y = x·Wᵀ + b.
//!
//! Shapes: input `[batch, in_features]` (or any `[..., in_features]`), output
//! `[..., out_features]`; weight `[out_features, in_features]` as in PyTorch, bias
//! `[out_features]`.

use rand::Rng;
use tapegrad_autograd::{Element, Tensor};

use crate::init::Init;
use crate::module::Module;

/// A layer of neurons, each a weighted sum of all inputs plus a bias.
///
/// ```
/// use rand::SeedableRng;
/// use tapegrad_autograd::Tensor;
/// use tapegrad_nn::{Linear, Module};
///
/// let layer: Linear = Linear::new(784, 128, &mut rand::rngs::StdRng::seed_from_u64(0));
/// let y = layer.forward(&Tensor::zeros(&[64, 784]));
/// assert_eq!(y.shape(), &[64, 128]);
/// assert_eq!(layer.weight().shape(), &[128, 784]);
/// ```
pub struct Linear<T: Element = f32> {
    weight: Tensor<T>,
    bias: Option<Tensor<T>>,
}

impl<T: Element> Linear<T> {
    /// A layer initialised as PyTorch's `nn.Linear` (weight and bias uniform on ±1/√in).
    pub fn new(in_features: usize, out_features: usize, rng: &mut impl Rng) -> Self {
        Self::with_init(in_features, out_features, Init::Default, true, rng)
    }

    /// A layer with weights drawn by `init` (biases: PyTorch's default range for
    /// `Init::Default`, zeros otherwise), with or without a bias.
    ///
    /// ```
    /// use rand::SeedableRng;
    /// use tapegrad_nn::{Init, Linear};
    /// let layer = Linear::<f32>::with_init(4, 3, Init::XavierUniform, false, &mut rand::rngs::StdRng::seed_from_u64(1));
    /// assert!(layer.bias().is_none());
    /// ```
    pub fn with_init(in_features: usize, out_features: usize, init: Init, bias: bool, rng: &mut impl Rng) -> Self {
        let weight = init.tensor(&[out_features, in_features], in_features, out_features, rng).requires_grad();
        let bias = bias.then(|| {
            let bias_init = if init == Init::Default { Init::Default } else { Init::Zeros };
            bias_init.tensor(&[out_features], in_features, out_features, rng).requires_grad()
        });
        Linear { weight, bias }
    }

    /// A layer with the given weight `[out, in]` and bias `[out]` (made parameters).
    ///
    /// # Panics
    /// If the weight is not 2-D or the bias does not have one value per output.
    #[track_caller]
    pub fn from_weights(weight: Tensor<T>, bias: Option<Tensor<T>>) -> Self {
        if weight.ndim() != 2 {
            panic!("Linear::from_weights: weight must be [out, in], got {:?}", weight.shape());
        }
        if let Some(b) = &bias
            && b.shape() != [weight.shape()[0]]
        {
            panic!(
                "Linear::from_weights: bias {:?} for weight {:?}; expected [{}]",
                b.shape(),
                weight.shape(),
                weight.shape()[0]
            );
        }
        Linear { weight: weight.detach().requires_grad(), bias: bias.map(|b| b.detach().requires_grad()) }
    }

    /// The weight `[out_features, in_features]`.
    pub fn weight(&self) -> &Tensor<T> {
        &self.weight
    }

    /// The bias `[out_features]`, if the layer has one.
    pub fn bias(&self) -> Option<&Tensor<T>> {
        self.bias.as_ref()
    }

    /// The number of inputs.
    pub fn in_features(&self) -> usize {
        self.weight.shape()[1]
    }

    /// The number of outputs (neurons).
    pub fn out_features(&self) -> usize {
        self.weight.shape()[0]
    }
}

impl<T: Element> Module<T> for Linear<T> {
    /// y = x·Wᵀ + b.
    ///
    /// # Panics
    /// If the input's last axis is not `in_features` (the message names both shapes).
    #[track_caller]
    fn forward(&self, input: &Tensor<T>) -> Tensor<T> {
        let y = input.matmul(&self.weight.t());
        match &self.bias {
            Some(b) => y + b,
            None => y,
        }
    }

    fn named_parameters(&self) -> Vec<(String, Tensor<T>)> {
        let mut named = vec![("weight".to_string(), self.weight.clone())];
        if let Some(b) = &self.bias {
            named.push(("bias".to_string(), b.clone()));
        }
        named
    }
}
