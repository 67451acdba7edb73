//! The convolutional layers: `Conv2d` and `Conv1d`, filters slid over images or signals.
//!
//! Shapes: `Conv2d` takes `[batch, in_channels, h, w]` to `[batch, out_channels, oh, ow]`
//! with weight `[out_channels, in_channels/groups, kh, kw]` and bias `[out_channels]`, as
//! PyTorch; `Conv1d` the same with one spatial axis.

use rand::Rng;
use tapegrad_autograd::{ConvOptions, Element, Pair, Tensor};

use crate::init::Init;
use crate::module::Module;

/// A bank of learned 2-D filters: each output channel is one filter over a window of every
/// input channel (of its group), plus a bias.
///
/// ```
/// use rand::SeedableRng;
/// use tapegrad_autograd::Tensor;
/// use tapegrad_nn::{Conv2d, Module};
///
/// let conv: Conv2d = Conv2d::new(1, 6, 5, &mut rand::rngs::StdRng::seed_from_u64(0)).padding(2);
/// assert_eq!(conv.forward(&Tensor::zeros(&[8, 1, 28, 28])).shape(), &[8, 6, 28, 28]);
/// assert_eq!(conv.weight().shape(), &[6, 1, 5, 5]);
/// ```
pub struct Conv2d<T: Element = f32> {
    weight: Tensor<T>,
    bias: Option<Tensor<T>>,
    options: ConvOptions,
}

impl<T: Element> Conv2d<T> {
    /// A layer of `out_channels` filters of size `kernel` (`5` or `[5, 3]`) over
    /// `in_channels`, stride 1, no padding, with Kaiming-uniform weights (He et al., for
    /// ReLU networks) and zero biases. Set stride and padding with the builder methods.
    pub fn new(in_channels: usize, out_channels: usize, kernel: impl Pair, rng: &mut impl Rng) -> Self {
        Self::with_options(in_channels, out_channels, kernel, ConvOptions::default(), Init::KaimingUniform, true, rng)
    }

    /// A layer with every option: stride, padding, dilation and groups in `options`;
    /// weights drawn by `init` (fan-in = in_channels/groups·kh·kw); biases as [`Linear`]'s:
    /// PyTorch's default range for `Init::Default` (PyTorch's own `Conv2d` initialisation),
    /// zeros otherwise.
    ///
    /// # Panics
    /// If the groups do not divide both channel counts.
    ///
    /// [`Linear`]: crate::Linear
    ///
    /// ```
    /// use rand::SeedableRng;
    /// use tapegrad_autograd::ConvOptions;
    /// use tapegrad_nn::{Conv2d, Init};
    /// let depthwise = Conv2d::<f32>::with_options(8, 8, 3, ConvOptions::default().groups(8).padding(1), Init::Default, false, &mut rand::rngs::StdRng::seed_from_u64(1));
    /// assert_eq!(depthwise.weight().shape(), &[8, 1, 3, 3]);
    /// ```
    #[track_caller]
    pub fn with_options(
        in_channels: usize,
        out_channels: usize,
        kernel: impl Pair,
        options: ConvOptions,
        init: Init,
        bias: bool,
        rng: &mut impl Rng,
    ) -> Self {
        let [kh, kw] = kernel.pair();
        let groups = options.groups;
        if groups == 0 || !in_channels.is_multiple_of(groups) || !out_channels.is_multiple_of(groups) {
            panic!("Conv2d: {groups} groups must divide in_channels {in_channels} and out_channels {out_channels}");
        }
        let fan_in = in_channels / groups * kh * kw;
        let fan_out = out_channels / groups * kh * kw;
        let shape = [out_channels, in_channels / groups, kh, kw];
        let weight = init.tensor(&shape, fan_in, fan_out, rng).requires_grad();
        let bias = bias.then(|| {
            let bias_init = if init == Init::Default { Init::Default } else { Init::Zeros };
            bias_init.tensor(&[out_channels], fan_in, fan_out, rng).requires_grad()
        });
        Conv2d { weight, bias, options }
    }

    /// This layer with another stride.
    pub fn stride(self, stride: impl Pair) -> Self {
        Conv2d { options: self.options.stride(stride), ..self }
    }

    /// This layer with `padding` zeros around its input.
    pub fn padding(self, padding: impl Pair) -> Self {
        Conv2d { options: self.options.padding(padding), ..self }
    }

    /// This layer with "same" padding (stride 1: the output as large as the input).
    pub fn padding_same(self) -> Self {
        Conv2d { options: self.options.padding_same(), ..self }
    }

    /// This layer with another dilation.
    pub fn dilation(self, dilation: impl Pair) -> Self {
        Conv2d { options: self.options.dilation(dilation), ..self }
    }

    /// The filters `[out_channels, in_channels/groups, kh, kw]`.
    pub fn weight(&self) -> &Tensor<T> {
        &self.weight
    }

    /// The bias `[out_channels]`, if any.
    pub fn bias(&self) -> Option<&Tensor<T>> {
        self.bias.as_ref()
    }

    /// Stride, padding, dilation and groups.
    pub fn options(&self) -> ConvOptions {
        self.options
    }
}

impl<T: Element> Module<T> for Conv2d<T> {
    /// # Panics
    /// If the input is not `[batch, in_channels, h, w]` or smaller than the kernel.
    #[track_caller]
    fn forward(&self, input: &Tensor<T>) -> Tensor<T> {
        input.conv2d(&self.weight, self.bias.as_ref(), self.options)
    }

    fn named_parameters(&self) -> Vec<(String, Tensor<T>)> {
        let mut named = vec![("weight".to_string(), self.weight.clone())];
        if let Some(b) = &self.bias {
            named.push(("bias".to_string(), b.clone()));
        }
        named
    }
}

/// A bank of learned 1-D filters over `[batch, in_channels, length]` signals: a
/// [`Conv2d`] of height 1, weight `[out_channels, in_channels/groups, k]`.
///
/// ```
/// use rand::SeedableRng;
/// use tapegrad_autograd::Tensor;
/// use tapegrad_nn::{Conv1d, Module};
/// let conv: Conv1d = Conv1d::new(2, 4, 3, &mut rand::rngs::StdRng::seed_from_u64(0));
/// assert_eq!(conv.forward(&Tensor::zeros(&[5, 2, 10])).shape(), &[5, 4, 8]);
/// ```
pub struct Conv1d<T: Element = f32> {
    inner: Conv2d<T>,
}

impl<T: Element> Conv1d<T> {
    /// `out_channels` filters of length `kernel`, Kaiming-uniform weights, zero biases.
    pub fn new(in_channels: usize, out_channels: usize, kernel: usize, rng: &mut impl Rng) -> Self {
        let inner = Conv2d::new(in_channels, out_channels, [1, kernel], rng);
        let weight = inner.weight.detach().squeeze(2).requires_grad();
        Conv1d { inner: Conv2d { weight, ..inner } }
    }

    /// This layer with another stride.
    pub fn stride(self, stride: usize) -> Self {
        Conv1d { inner: self.inner.stride(stride) }
    }

    /// This layer with `padding` zeros at both ends.
    pub fn padding(self, padding: usize) -> Self {
        Conv1d { inner: self.inner.padding(padding) }
    }

    /// The filters `[out_channels, in_channels/groups, k]`.
    pub fn weight(&self) -> &Tensor<T> {
        &self.inner.weight
    }
}

impl<T: Element> Module<T> for Conv1d<T> {
    #[track_caller]
    fn forward(&self, input: &Tensor<T>) -> Tensor<T> {
        input.conv1d(&self.inner.weight, self.inner.bias.as_ref(), self.inner.options)
    }

    fn named_parameters(&self) -> Vec<(String, Tensor<T>)> {
        self.inner.named_parameters()
    }
}
