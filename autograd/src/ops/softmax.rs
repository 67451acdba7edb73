//! softmax, log_softmax and logsumexp: composites of primitives, made stable by shifting by
//! the (constant) maximum, so logits of ±1000 give exact probabilities instead of NaN.

use crate::element::Element;
use crate::ops::How;
use crate::shape::{Dim, Dims, normalize_axes, reduced_shape};
use crate::tensor::Tensor;

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
        let e = (self - &self.stable_shift(&axis)).exp();
        &e / &e.sum_dim(axis, true)
    }

    /// ln softmax(x) along `axis`, computed as x − logsumexp(x): finite even where softmax
    /// underflows to 0.
    ///
    /// ```
    /// use tapegrad_autograd::Tensor;
    /// let x = Tensor::from_vec(vec![-1000.0f32, 1000.0], &[2]).unwrap();
    /// assert_eq!(x.log_softmax(0).to_vec(), vec![-2000.0, 0.0]);
    /// ```
    #[track_caller]
    pub fn log_softmax(&self, axis: impl Dim) -> Tensor<T> {
        self - &self.logsumexp(axis, true)
    }
}
