//! 2-D convolution (and 1-D, as 2-D with a unit height) over NCHW inputs with OIHW
//! weights, as PyTorch's `conv2d`, `conv1d` and `conv_transpose2d`.
//!
//! Three bilinear primitives, each of which is the others' backward: the convolution
//! y = conv(x, w); its input gradient, the transposed convolution dx = convᵀ(g, w); and its
//! weight gradient dw = wgrad(x, g). For ⟨h, conv(x, w)⟩ = ⟨convᵀ(h, w), x⟩ =
//! ⟨wgrad(x, h), w⟩, so every derivative of one is another of the three, to any order.

use smallvec::smallvec;

use super::{Grads, Op, grad_if};
use crate::array::{Array, ConvGeometry, conv2d, conv2d_input, conv2d_weight};
use crate::element::Element;
use crate::shape::{conv_geometry, shape_panic};
use crate::tensor::Tensor;

#[derive(Clone, Debug)]
pub(crate) enum Conv {
    /// conv(x, w).
    Forward(ConvGeometry),
    /// convᵀ(g, w) to an input of spatial size `[h, w]`.
    Input(ConvGeometry, [usize; 2]),
    /// wgrad(x, g).
    Weight(ConvGeometry),
}

impl Conv {
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Conv::Forward(_) => "conv2d",
            Conv::Input(..) => "conv_transpose2d",
            Conv::Weight(_) => "conv2d_weight",
        }
    }

    /// The op on arrays.
    pub(crate) fn forward_array<T: Element>(&self, a: &Array<T>, b: &Array<T>) -> Array<T> {
        match self {
            Conv::Forward(geo) => conv2d(a, b, geo),
            Conv::Input(geo, hw) => conv2d_input(a, b, geo, *hw),
            Conv::Weight(geo) => conv2d_weight(a, b, geo),
        }
    }

    #[track_caller]
    fn apply<T: Element>(self, a: &Tensor<T>, b: &Tensor<T>) -> Tensor<T> {
        let value = T::conv(&self, &a.value_ref(), &b.value_ref());
        Tensor::from_op(value, Op::Conv(Box::new(self)), &[a, b])
    }

    /// With h the upstream gradient: d⟨h, conv(x, w)⟩ = (convᵀ(h, w), wgrad(x, h));
    /// d⟨h, convᵀ(g, w)⟩ = (conv(h, w), wgrad(h, g)); d⟨h, wgrad(x, g)⟩ = (convᵀ(g, h), conv(x, h)).
    pub(crate) fn backward<T: Element>(&self, a: &Tensor<T>, b: &Tensor<T>, h: &Tensor<T>) -> Grads<T> {
        match *self {
            Conv::Forward(geo) => {
                let hw = [a.shape()[2], a.shape()[3]];
                smallvec![grad_if(a, || Conv::Input(geo, hw).apply(h, b)), grad_if(b, || Conv::Weight(geo).apply(a, h))]
            }
            Conv::Input(geo, _) => {
                smallvec![grad_if(a, || Conv::Forward(geo).apply(h, b)), grad_if(b, || Conv::Weight(geo).apply(h, a))]
            }
            Conv::Weight(geo) => {
                let hw = [a.shape()[2], a.shape()[3]];
                smallvec![
                    grad_if(a, || Conv::Input(geo, hw).apply(b, h)),
                    grad_if(b, || Conv::Forward(geo).apply(a, h))
                ]
            }
        }
    }
}

/// A size given once for both spatial axes (`3`) or per axis (`[3, 1]`, height first).
pub trait Pair {
    /// `[height, width]`.
    fn pair(self) -> [usize; 2];
}

impl Pair for usize {
    fn pair(self) -> [usize; 2] {
        [self, self]
    }
}

impl Pair for [usize; 2] {
    fn pair(self) -> [usize; 2] {
        self
    }
}

/// Zeros around the input of a convolution, as PyTorch's `padding` argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Padding {
    /// This many zeros on both sides of each spatial axis, `[h, w]`.
    Explicit([usize; 2]),
    /// Enough zeros that the output is as large as the input (stride 1 only); an odd total
    /// puts the extra zero after, as PyTorch's `padding="same"`.
    Same,
}

/// Stride, padding, dilation and groups of a convolution, PyTorch's keyword arguments with
/// their defaults (1, 0, 1, 1).
///
/// ```
/// use tapegrad_autograd::ConvOptions;
/// let options = ConvOptions::default().stride(2).padding(1).groups(4);
/// assert_eq!(options.stride, [2, 2]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConvOptions {
    /// Steps between windows, `[h, w]`.
    pub stride: [usize; 2],
    /// Zeros around the input.
    pub padding: Padding,
    /// Steps between a kernel's taps, `[h, w]` ("atrous" convolution).
    pub dilation: [usize; 2],
    /// Channel groups: input and output channels split into this many independent
    /// convolutions (as many as channels: depthwise).
    pub groups: usize,
}

impl Default for ConvOptions {
    fn default() -> Self {
        ConvOptions { stride: [1, 1], padding: Padding::Explicit([0, 0]), dilation: [1, 1], groups: 1 }
    }
}

impl ConvOptions {
    /// With this stride.
    pub fn stride(self, stride: impl Pair) -> Self {
        ConvOptions { stride: stride.pair(), ..self }
    }
    /// With this many zeros on both sides.
    pub fn padding(self, padding: impl Pair) -> Self {
        ConvOptions { padding: Padding::Explicit(padding.pair()), ..self }
    }
    /// With "same" padding: output as large as the input.
    pub fn padding_same(self) -> Self {
        ConvOptions { padding: Padding::Same, ..self }
    }
    /// With this dilation.
    pub fn dilation(self, dilation: impl Pair) -> Self {
        ConvOptions { dilation: dilation.pair(), ..self }
    }
    /// With this many groups.
    pub fn groups(self, groups: usize) -> Self {
        ConvOptions { groups, ..self }
    }

    /// The checked geometry for `input` and `weight`.
    #[track_caller]
    fn geometry(&self, op: &str, input: &[usize], weight: &[usize]) -> ConvGeometry {
        let padding = match self.padding {
            Padding::Explicit([h, w]) => [[h, h], [w, w]],
            Padding::Same => {
                if self.stride != [1, 1] {
                    shape_panic(format!("{op}: padding \"same\" needs stride 1, got {:?}", self.stride));
                }
                let kernel = [weight.get(2).copied().unwrap_or(1), weight.get(3).copied().unwrap_or(1)];
                [0, 1].map(|a| {
                    let total = self.dilation[a] * kernel[a].saturating_sub(1);
                    [total / 2, total - total / 2]
                })
            }
        };
        conv_geometry(op, input, weight, self.stride, padding, self.dilation, self.groups)
    }
}

impl<T: Element> Tensor<T> {
    /// The 2-D convolution (cross-correlation, as every framework) of this `[n, c, h, w]`
    /// batch with filters `weight` `[o, c/groups, kh, kw]`, plus `bias` `[o]` per output
    /// channel: `[n, o, oh, ow]` with oh = ⌊(h + 2·pad − dilation·(kh − 1) − 1)/stride⌋ + 1.
    ///
    /// # Panics
    /// If the shapes do not fit (see [`ConvOptions`]), e.g.
    /// `conv2d: input [8, 3, 32, 32] has 3 channels but weight [16, 1, 3, 3] with groups 1 expects 1 …`.
    ///
    /// ```
    /// use tapegrad_autograd::{ConvOptions, Tensor};
    /// let image = Tensor::arange(0.0f32, 16.0, 1.0).reshape([1, 1, 4, 4]);
    /// let box_filter = Tensor::ones(&[1, 1, 2, 2]);
    /// let y = image.conv2d(&box_filter, None, ConvOptions::default().stride(2));
    /// assert_eq!(y.shape(), &[1, 1, 2, 2]);
    /// assert_eq!(y.to_vec(), vec![10.0, 18.0, 42.0, 50.0]);
    /// ```
    #[track_caller]
    pub fn conv2d(&self, weight: &Tensor<T>, bias: Option<&Tensor<T>>, options: ConvOptions) -> Tensor<T> {
        let geo = options.geometry("conv2d", self.shape(), weight.shape());
        let y = Conv::Forward(geo).apply(self, weight);
        add_bias("conv2d", y, bias)
    }

    /// The 1-D convolution of this `[n, c, l]` batch with `weight` `[o, c/groups, k]`, plus
    /// `bias` `[o]`: `[n, o, l_out]`. Options apply along the length (their width part).
    ///
    /// # Panics
    /// If the shapes do not fit.
    ///
    /// ```
    /// use tapegrad_autograd::{ConvOptions, Tensor};
    /// let signal = Tensor::from_vec(vec![1.0f32, 2.0, 3.0, 4.0], &[1, 1, 4]).unwrap();
    /// let diff = Tensor::from_vec(vec![-1.0f32, 1.0], &[1, 1, 2]).unwrap();
    /// assert_eq!(signal.conv1d(&diff, None, ConvOptions::default()).to_vec(), vec![1.0, 1.0, 1.0]);
    /// ```
    #[track_caller]
    pub fn conv1d(&self, weight: &Tensor<T>, bias: Option<&Tensor<T>>, options: ConvOptions) -> Tensor<T> {
        if self.ndim() != 3 || weight.ndim() != 3 {
            shape_panic(format!(
                "conv1d: input {:?} and weight {:?}: expected input [n, c, l] and weight [o, c/groups, k]",
                self.shape(),
                weight.shape()
            ));
        }
        let padding = match options.padding {
            Padding::Explicit([_, w]) => Padding::Explicit([0, w]),
            Padding::Same => Padding::Same,
        };
        let options = ConvOptions {
            stride: [1, options.stride[1]],
            padding,
            dilation: [1, options.dilation[1]],
            groups: options.groups,
        };
        self.unsqueeze(2).conv2d(&weight.unsqueeze(2), bias, options).squeeze(2)
    }

    /// The transposed convolution ("deconvolution"): the gradient of [`conv2d`](Self::conv2d)
    /// with respect to its input, as PyTorch's `conv_transpose2d`. This `[n, c_in, h, w]`
    /// batch, `weight` `[c_in, c_out/groups, kh, kw]`, `bias` `[c_out]`; output
    /// `[n, c_out, (h − 1)·stride − 2·pad + dilation·(kh − 1) + output_padding + 1, …]`.
    ///
    /// # Panics
    /// If the shapes do not fit, padding is "same", or `output_padding` is not smaller than
    /// the stride (PyTorch also allows it below the dilation; here it is not).
    ///
    /// ```
    /// use tapegrad_autograd::{ConvOptions, Tensor};
    /// let x = Tensor::<f32>::ones(&[1, 1, 2, 2]);
    /// let up = x.conv_transpose2d(&Tensor::ones(&[1, 1, 2, 2]), None, ConvOptions::default().stride(2), [0, 0]);
    /// assert_eq!(up.shape(), &[1, 1, 4, 4]);
    /// assert_eq!(up.sum().item(), 16.0f32);
    /// ```
    #[track_caller]
    pub fn conv_transpose2d(
        &self,
        weight: &Tensor<T>,
        bias: Option<&Tensor<T>>,
        options: ConvOptions,
        output_padding: impl Pair,
    ) -> Tensor<T> {
        let op = "conv_transpose2d";
        let Padding::Explicit(pad) = options.padding else {
            shape_panic(format!("{op}: padding \"same\" is not defined for transposed convolutions"))
        };
        let extra = output_padding.pair();
        if self.ndim() != 4 || weight.ndim() != 4 || self.shape()[1] != weight.shape()[0] {
            shape_panic(format!(
                "{op}: input {:?} and weight {:?}: expected input [n, c_in, h, w] and weight [c_in, c_out/groups, kh, kw]",
                self.shape(),
                weight.shape()
            ));
        }
        let (s, w) = (self.shape(), weight.shape());
        let hw = [0, 1].map(|a| {
            let full = (s[2 + a].max(1) - 1) * options.stride[a] + options.dilation[a] * w[2 + a].saturating_sub(1) + 1;
            if extra[a] >= options.stride[a] || full + extra[a] < 2 * pad[a] {
                shape_panic(format!(
                    "{op}: input {s:?}, weight {w:?}, padding {pad:?} and output_padding {extra:?} give no valid output \
                     (output_padding must be smaller than the stride {:?})",
                    options.stride
                ));
            }
            full + extra[a] - 2 * pad[a]
        });
        // The geometry of the convolution this one transposes: its input is our output.
        let forward_input = [s[0], w[1] * options.groups, hw[0], hw[1]];
        let geo = options.geometry(op, &forward_input, w);
        let out = [0, 1].map(|a| geo.output_size(a, hw[a]));
        if out != [Some(s[2]), Some(s[3])] {
            shape_panic(format!("{op}: input {s:?} does not fit weight {w:?} with {options:?}"));
        }
        let y = Conv::Input(geo, hw).apply(self, weight);
        add_bias(op, y, bias)
    }
}

/// y plus `bias` `[o]` on every output channel.
#[track_caller]
fn add_bias<T: Element>(op: &str, y: Tensor<T>, bias: Option<&Tensor<T>>) -> Tensor<T> {
    let Some(b) = bias else { return y };
    if b.shape() != [y.shape()[1]] {
        shape_panic(format!("{op}: bias {:?} for output {:?}: expected [{}]", b.shape(), y.shape(), y.shape()[1]));
    }
    let channels = y.shape()[1];
    y + b.reshape([1, channels, 1, 1])
}
