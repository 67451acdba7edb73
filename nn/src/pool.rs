//! Pooling layers: `MaxPool2d`, `AvgPool2d`, `AdaptiveAvgPool2d`, over `[batch, channels,
//! h, w]` inputs, to `[batch, channels, oh, ow]`. No parameters.

use tapegrad_autograd::{Element, Pair, Tensor};

use crate::module::Module;

/// The largest value of each window (PyTorch's `nn.MaxPool2d`): stride defaults to the
/// kernel size, so windows tile the image.
///
/// ```
/// use tapegrad_autograd::Tensor;
/// use tapegrad_nn::{MaxPool2d, Module};
/// let y = Module::<f32>::forward(&MaxPool2d::new(2), &Tensor::zeros(&[8, 6, 28, 28]));
/// assert_eq!(y.shape(), &[8, 6, 14, 14]);
/// ```
#[derive(Clone, Copy, Debug)]
pub struct MaxPool2d {
    kernel: [usize; 2],
    stride: [usize; 2],
    padding: [usize; 2],
}

impl MaxPool2d {
    /// Windows of `kernel`, stride `kernel`, no padding.
    pub fn new(kernel: impl Pair) -> Self {
        let kernel = kernel.pair();
        MaxPool2d { kernel, stride: kernel, padding: [0, 0] }
    }

    /// This layer with another stride.
    pub fn stride(self, stride: impl Pair) -> Self {
        MaxPool2d { stride: stride.pair(), ..self }
    }

    /// This layer with padding (never picked; at most half the kernel).
    pub fn padding(self, padding: impl Pair) -> Self {
        MaxPool2d { padding: padding.pair(), ..self }
    }
}

impl<T: Element> Module<T> for MaxPool2d {
    #[track_caller]
    fn forward(&self, input: &Tensor<T>) -> Tensor<T> {
        input.max_pool2d(self.kernel, self.stride, self.padding)
    }
}

/// The mean of each window (PyTorch's `nn.AvgPool2d`, padding zeros counted): stride
/// defaults to the kernel size.
///
/// ```
/// use tapegrad_autograd::Tensor;
/// use tapegrad_nn::{AvgPool2d, Module};
/// let y = Module::<f32>::forward(&AvgPool2d::new(2), &Tensor::ones(&[1, 1, 4, 4]));
/// assert_eq!(y.to_vec(), vec![1.0; 4]);
/// ```
#[derive(Clone, Copy, Debug)]
pub struct AvgPool2d {
    kernel: [usize; 2],
    stride: [usize; 2],
    padding: [usize; 2],
}

impl AvgPool2d {
    /// Windows of `kernel`, stride `kernel`, no padding.
    pub fn new(kernel: impl Pair) -> Self {
        let kernel = kernel.pair();
        AvgPool2d { kernel, stride: kernel, padding: [0, 0] }
    }

    /// This layer with another stride.
    pub fn stride(self, stride: impl Pair) -> Self {
        AvgPool2d { stride: stride.pair(), ..self }
    }

    /// This layer with zero padding (at most half the kernel).
    pub fn padding(self, padding: impl Pair) -> Self {
        AvgPool2d { padding: padding.pair(), ..self }
    }
}

impl<T: Element> Module<T> for AvgPool2d {
    #[track_caller]
    fn forward(&self, input: &Tensor<T>) -> Tensor<T> {
        input.avg_pool2d(self.kernel, self.stride, self.padding)
    }
}

/// Average pooling to a fixed output size (PyTorch's `nn.AdaptiveAvgPool2d`); with `1`,
/// global average pooling: one number per channel, whatever the image size.
///
/// ```
/// use tapegrad_autograd::Tensor;
/// use tapegrad_nn::{AdaptiveAvgPool2d, Module};
/// let y = Module::<f32>::forward(&AdaptiveAvgPool2d::new(1), &Tensor::ones(&[2, 64, 7, 7]));
/// assert_eq!(y.shape(), &[2, 64, 1, 1]);
/// ```
#[derive(Clone, Copy, Debug)]
pub struct AdaptiveAvgPool2d {
    output: [usize; 2],
}

impl AdaptiveAvgPool2d {
    /// Pooling to `output` (`1` or `[oh, ow]`; they must divide the input's sizes).
    pub fn new(output: impl Pair) -> Self {
        AdaptiveAvgPool2d { output: output.pair() }
    }
}

impl<T: Element> Module<T> for AdaptiveAvgPool2d {
    #[track_caller]
    fn forward(&self, input: &Tensor<T>) -> Tensor<T> {
        input.adaptive_avg_pool2d(self.output)
    }
}
