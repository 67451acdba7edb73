//! Pooling over NCHW inputs, as PyTorch's `max_pool2d`, `avg_pool2d` and
//! `adaptive_avg_pool2d`: composites, with no backward of their own.
//!
//! Max pooling finds each window's maximum and arg-max (a kernel, not differentiated: the
//! positions are constant almost everywhere) and records the maxima as the gather at those
//! positions, so its gradient is a scatter to the arg-max. Average pooling is a depthwise
//! convolution with a constant 1/(kh·kw) kernel, so its gradient is that convolution's
//! transpose.

use crate::anomaly;
use crate::array::ConvGeometry;
use crate::element::{Element, lit};
use crate::graph::is_grad_enabled;
use crate::ops::conv::{ConvOptions, Pair};
use crate::shape::{conv_geometry, shape_panic};
use crate::tensor::Tensor;

/// The window geometry of a pooling op over `input` `[n, c, h, w]`.
///
/// # Panics
/// If the input is not 4-D or has an empty plane, the kernel or stride is zero, the padding exceeds half the
/// kernel (as PyTorch) or the window does not fit.
#[track_caller]
fn pool_geometry(
    op: &str,
    input: &[usize],
    kernel: [usize; 2],
    stride: [usize; 2],
    padding: [usize; 2],
) -> ConvGeometry {
    if input.len() != 4 || input[2] == 0 || input[3] == 0 {
        shape_panic(format!("{op}: input {input:?}: expected [n, c, h, w] with h and w at least 1"));
    }
    if kernel.contains(&0) || (0..2).any(|a| 2 * padding[a] > kernel[a]) {
        shape_panic(format!(
            "{op}: kernel {kernel:?} with padding {padding:?}: kernel must be positive and padding at most half of it"
        ));
    }
    let window = [1, 1, kernel[0], kernel[1]];
    let padding = padding.map(|p| [p, p]);
    conv_geometry(op, &[input[0], 1, input[2], input[3]], &window, stride, padding, [1, 1], 1)
}

impl<T: Element> Tensor<T> {
    /// The largest element of each `kernel` window, moved by `stride`, over this
    /// `[n, c, h, w]` batch padded by `padding` (never picked): `[n, c, oh, ow]`. The
    /// gradient flows to the arg-max; on ties, to the first maximum in row-major window
    /// order (PyTorch's CPU choice).
    ///
    /// # Panics
    /// If the input is not 4-D or the window does not fit.
    ///
    /// ```
    /// use tapegrad_autograd::Tensor;
    /// let x = Tensor::arange(0.0f32, 16.0, 1.0).reshape([1, 1, 4, 4]);
    /// assert_eq!(x.max_pool2d(2, 2, 0).to_vec(), vec![5.0, 7.0, 13.0, 15.0]);
    /// ```
    #[track_caller]
    pub fn max_pool2d(&self, kernel: impl Pair, stride: impl Pair, padding: impl Pair) -> Tensor<T> {
        let geo = pool_geometry("max_pool2d", self.shape(), kernel.pair(), stride.pair(), padding.pair());
        let s = self.shape();
        let out = [0, 1].map(|a| geo.output_size(a, s[2 + a]).expect("checked"));
        // Positions serve only the recorded gather (and anomaly mode's check, which names
        // it): inference skips them.
        let record = (is_grad_enabled() && self.tracks_grad()) || anomaly::is_enabled();
        let (pooled, positions) = T::max_pool(&self.value_ref(), &geo, record);
        let pooled = match positions {
            Some(index) => self.reshape([s[0], s[1], s[2] * s[3]]).gathered(2, index, pooled),
            None => Tensor::from_array(pooled),
        };
        pooled.reshape([s[0], s[1], out[0], out[1]])
    }

    /// The mean of each `kernel` window, moved by `stride`, over this `[n, c, h, w]` batch
    /// padded by `padding` zeros, which count in the mean (PyTorch's default,
    /// `count_include_pad=True`): `[n, c, oh, ow]`.
    ///
    /// # Panics
    /// If the input is not 4-D or the window does not fit.
    ///
    /// ```
    /// use tapegrad_autograd::Tensor;
    /// let x = Tensor::arange(0.0f32, 16.0, 1.0).reshape([1, 1, 4, 4]);
    /// assert_eq!(x.avg_pool2d(2, 2, 0).to_vec(), vec![2.5, 4.5, 10.5, 12.5]);
    /// ```
    #[track_caller]
    pub fn avg_pool2d(&self, kernel: impl Pair, stride: impl Pair, padding: impl Pair) -> Tensor<T> {
        let (kernel, stride, padding) = (kernel.pair(), stride.pair(), padding.pair());
        pool_geometry("avg_pool2d", self.shape(), kernel, stride, padding);
        let c = self.shape()[1];
        let weight = Tensor::full(&[c, 1, kernel[0], kernel[1]], lit::<T>(1.0 / (kernel[0] * kernel[1]) as f64));
        self.conv2d(&weight, None, ConvOptions::default().stride(stride).padding(padding).groups(c.max(1)))
    }

    /// Average pooling to an `output` size `[oh, ow]` whatever the input's, as PyTorch's
    /// `adaptive_avg_pool2d`; `[1, 1]` is global average pooling. Here the output sizes
    /// must divide the input's (then the windows are equal and do not overlap).
    ///
    /// # Panics
    /// If the input is not 4-D or an output size does not divide the input's.
    ///
    /// ```
    /// use tapegrad_autograd::Tensor;
    /// let x = Tensor::arange(0.0f32, 8.0, 1.0).reshape([1, 2, 2, 2]);
    /// assert_eq!(x.adaptive_avg_pool2d(1).to_vec(), vec![1.5, 5.5]);
    /// ```
    #[track_caller]
    pub fn adaptive_avg_pool2d(&self, output: impl Pair) -> Tensor<T> {
        let out = output.pair();
        let s = self.shape();
        if s.len() != 4 || out.contains(&0) || !s[2].is_multiple_of(out[0]) || !s[3].is_multiple_of(out[1]) {
            shape_panic(format!(
                "adaptive_avg_pool2d: input {s:?} to output {out:?}: expected [n, c, h, w] with output sizes dividing h and w"
            ));
        }
        if out == [1, 1] {
            return self.mean_dim([2, 3], true);
        }
        let kernel = [s[2] / out[0], s[3] / out[1]];
        self.avg_pool2d(kernel, kernel, 0)
    }
}
