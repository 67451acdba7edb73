//! Layer normalization (Ba, Kiros & Hinton, 2016), as PyTorch's `LayerNorm`: each sample
//! standardized over its last axes (mean and biased variance), then scaled and shifted by
//! learned γ and β of those axes' shape. The same in training and evaluation.
//!
//! Shapes: input `[..., *normalized_shape]`, output the same.

use tapegrad_autograd::{Element, Tensor, lit};

use crate::module::Module;

/// y = (x − mean) / √(var + eps) · γ + β over the trailing `normalized_shape` axes.
///
/// ```
/// use tapegrad_autograd::Tensor;
/// use tapegrad_nn::{LayerNorm, Module};
/// let ln: LayerNorm = LayerNorm::new(&[4]);
/// let y = ln.forward(&Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0], &[1, 4]).unwrap());
/// assert!(y.mean().item().abs() < 1e-6);
/// ```
pub struct LayerNorm<T: Element = f32> {
    weight: Tensor<T>,
    bias: Tensor<T>,
    eps: f64,
}

impl<T: Element> LayerNorm<T> {
    /// Normalization over trailing axes of `normalized_shape`: γ = 1, β = 0, eps 1e-5.
    pub fn new(normalized_shape: &[usize]) -> Self {
        LayerNorm {
            weight: Tensor::ones(normalized_shape).requires_grad(),
            bias: Tensor::zeros(normalized_shape).requires_grad(),
            eps: 1e-5,
        }
    }

    /// This layer with another eps.
    pub fn eps(self, eps: f64) -> Self {
        LayerNorm { eps, ..self }
    }
}

impl<T: Element> Module<T> for LayerNorm<T> {
    /// # Panics
    /// If the input's trailing axes are not `normalized_shape`.
    #[track_caller]
    fn forward(&self, x: &Tensor<T>) -> Tensor<T> {
        let shape = self.weight.shape();
        let k = shape.len();
        if x.ndim() < k || &x.shape()[x.ndim() - k..] != shape {
            panic!("LayerNorm: input {:?} does not end in normalized_shape {shape:?}", x.shape());
        }
        let axes: Vec<isize> = (x.ndim() - k..x.ndim()).map(|a| a as isize).collect();
        let mean = x.mean_dim(axes.as_slice(), true);
        let var = x.var_dim(axes.as_slice(), 0, true);
        (x - &mean) / (var + lit::<T>(self.eps)).sqrt() * &self.weight + &self.bias
    }

    fn named_parameters(&self) -> Vec<(String, Tensor<T>)> {
        vec![("weight".to_string(), self.weight.clone()), ("bias".to_string(), self.bias.clone())]
    }
}
