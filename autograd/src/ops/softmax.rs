//! log_softmax (a primitive: one pass forward, a four-op backward), softmax and logsumexp
//! (composites), all made stable by shifting by the maximum, so logits of ±1000 give exact
//! probabilities instead of NaN.
//!
//! log_softmax was a composite (x − logsumexp x) until measured: it made eight tape nodes
//! forward and a dozen ops backward per call, a fifth of an MLP step's bookkeeping.

use super::Op;
use crate::array::Array;
use crate::element::Element;
use crate::ops::How;
use crate::shape::{Dim, Dims, normalize_axes, normalize_axis, reduced_shape};
use crate::tensor::Tensor;

/// dL/dx of y = log_softmax(x) along `axis`, given y and g = dL/dy:
/// g − exp(y)·Σ g (the Jacobian is I − softmax·1ᵀ per slice).
pub(crate) fn log_softmax_backward<T: Element>(axis: usize, y: &Tensor<T>, g: &Tensor<T>) -> Tensor<T> {
    g - &(y.exp() * &g.sum_dim(axis, true))
}

/// log_softmax of an array along `axis`, one slice at a time: x − max − ln Σ exp(x − max).
pub(crate) fn log_softmax_forward<T: Element>(x: &Array<T>, axis: usize) -> Array<T> {
    let x = x.contiguous();
    let data = x.as_slice().expect("contiguous");
    let shape = x.shape();
    let (outer, n) = (shape[..axis].iter().product::<usize>(), shape[axis]);
    let inner: usize = shape[axis + 1..].iter().product();
    Array::build_overwriting(shape, |out| {
        for o in 0..outer {
            for i in 0..inner {
                let at = |k: usize| (o * n + k) * inner + i;
                let max = (0..n).map(|k| data[at(k)]).fold(T::neg_infinity(), |m, v| if v > m { v } else { m });
                let shift = if max.is_finite() { max } else { T::zero() };
                let total = (0..n).map(|k| (data[at(k)] - shift).exp()).fold(T::zero(), |s, e| s + e);
                let offset = shift + total.ln();
                for k in 0..n {
                    out[at(k)] = data[at(k)] - offset;
                }
            }
        }
    })
}

impl<T: Element> Tensor<T> {
    /// The maximum over `axes` (kept as size 1) as a constant, 0 where it is not finite:
    /// subtracting it changes no result mathematically and keeps every `exp` ≤ 1.
    fn stable_shift(&self, axes: &impl Dims) -> Tensor<T> {
        let axes = normalize_axes("softmax", axes, self.shape());
        let max = T::reduce(How::Max, &self.value_ref(), &axes, true);
        Tensor::from_array(max.map(|m| if m.is_finite() { m } else { T::zero() }))
    }

    /// ln Σ exp(x) over `axes`, computed without overflow.
    ///
    /// ```
    /// use tapegrad_autograd::Tensor;
    /// let x = Tensor::from_vec(vec![1000.0f64, 1000.0], &[2]).unwrap();
    /// assert_eq!(x.logsumexp(0, false).item(), 1000.0 + 2f64.ln());
    /// ```
    #[track_caller]
    pub fn logsumexp(&self, axes: impl Dims, keepdim: bool) -> Tensor<T> {
        let shift = self.stable_shift(&axes);
        let lse = (self - &shift).exp().sum_dim(axes.indices().as_slice(), true).ln() + &shift;
        if keepdim {
            lse
        } else {
            let axes = normalize_axes("logsumexp", &axes, self.shape());
            lse.reshape(reduced_shape(self.shape(), &axes, false))
        }
    }

    /// exp(x) / Σ exp(x) along `axis`: probabilities that sum to 1.
    ///
    /// ```
    /// use tapegrad_autograd::Tensor;
    /// let p = Tensor::from_vec(vec![2.0f64, 1.0, 0.1], &[3]).unwrap().softmax(0);
    /// assert!((p.sum().item() - 1.0).abs() < 1e-12);
    /// assert!((p.get(&[0]) - 0.659).abs() < 1e-3);
    /// ```
    #[track_caller]
    pub fn softmax(&self, axis: impl Dim) -> Tensor<T> {
        let axis = normalize_axis("softmax", axis.index(), self.shape());
        self.log_softmax(axis).exp()
    }

    /// ln softmax(x) along `axis`: x − max − ln Σ exp(x − max), finite even where softmax
    /// underflows to 0.
    ///
    /// ```
    /// use tapegrad_autograd::Tensor;
    /// let x = Tensor::from_vec(vec![-1000.0f32, 1000.0], &[2]).unwrap();
    /// assert_eq!(x.log_softmax(0).to_vec(), vec![-2000.0, 0.0]);
    /// ```
    #[track_caller]
    pub fn log_softmax(&self, axis: impl Dim) -> Tensor<T> {
        let axis = normalize_axis("log_softmax", axis.index(), self.shape());
        let value = T::log_softmax(&self.value_ref(), axis);
        Tensor::from_op(value, Op::LogSoftmax(axis), &[self])
    }
}
