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

/// log_softmax of an array along `axis`: (x − max) − ln Σ exp(x − max) in each slice.
/// The exponentials are taken in one call over the whole array, so that f32's vectorize
/// (a call per element and per slice was most of a 64 × 10 log_softmax).
pub(crate) fn log_softmax_forward<T: Element>(x: &Array<T>, axis: usize) -> Array<T> {
    let x = x.contiguous();
    let data = x.as_slice().expect("contiguous");
    let shape = x.shape();
    let n = shape[axis];
    let inner: usize = shape[axis + 1..].iter().product();
    Array::build_overwriting(shape, |out| {
        if out.is_empty() {
            return;
        }
        each_slice(n, inner, data, out, |x, out, stride, first| {
            let at = |k: usize| first + k * stride;
            let max = (0..n).map(|k| x[at(k)]).fold(T::neg_infinity(), |m, v| if v > m { v } else { m });
            let shift = if max.is_finite() { max } else { T::zero() };
            (0..n).for_each(|k| out[at(k)] = x[at(k)] - shift);
        });
        let mut exps = out.to_vec();
        T::exp_in_place(&mut exps);
        each_slice(n, inner, &exps, out, |exps, out, stride, first| {
            let at = |k: usize| first + k * stride;
            let log_total = (0..n).map(|k| exps[at(k)]).fold(T::zero(), |s, e| s + e).ln();
            (0..n).for_each(|k| out[at(k)] = out[at(k)] - log_total);
        });
    })
}

/// Calls `f(x, out, stride, first)` for every slice of `n` elements along an axis with
/// `inner` elements after it: the slice's element k is at `first + k·stride` of `x` and
/// `out` (blocks of n·inner elements). The last axis (stride 1) gets its own call, so
/// that its loops compile as plain rows.
fn each_slice<T: Element>(n: usize, inner: usize, x: &[T], out: &mut [T], f: impl Fn(&[T], &mut [T], usize, usize)) {
    for (x, out) in x.chunks_exact(n * inner).zip(out.chunks_exact_mut(n * inner)) {
        if inner == 1 {
            f(x, out, 1, 0);
        } else {
            (0..inner).for_each(|i| f(x, out, inner, i));
        }
    }
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
