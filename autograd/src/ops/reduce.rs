//! Reductions: sum, max and min over axes (primitives); mean, var and sum_to (composites);
//! argmax and argmin (not differentiable).

use smallvec::SmallVec;

use super::Op;
use crate::array::Array;
use crate::element::{Element, lit};
use crate::indices::Indices;
use crate::shape::{Dims, normalize_axes, normalize_axis, reduced_shape, shape_panic};
use crate::tensor::Tensor;

#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum How {
    Sum,
    Max,
    Min,
}

#[derive(Clone, Debug)]
pub(crate) struct Reduce {
    how: How,
    axes: SmallVec<[usize; 4]>,
}

impl How {
    /// The reduction of `x` over sorted, distinct `axes`.
    pub(crate) fn forward<T: Element>(self, x: &Array<T>, axes: &[usize], keepdim: bool) -> Array<T> {
        match self {
            How::Sum => x.sum_axes(axes, keepdim),
            How::Max => x.max_axes(axes, keepdim),
            How::Min => x.min_axes(axes, keepdim),
        }
    }

    fn name(self) -> &'static str {
        match self {
            How::Sum => "sum",
            How::Max => "max",
            How::Min => "min",
        }
    }
}

impl Reduce {
    pub(crate) fn name(&self) -> &'static str {
        self.how.name()
    }

    /// dL/dx given x, y and g = dL/dy.
    pub(crate) fn backward<T: Element>(&self, x: &Tensor<T>, y: &Tensor<T>, g: &Tensor<T>) -> Tensor<T> {
        // g brought back to x's shape: reduced axes restored as size 1, then repeated (a view).
        let kept = reduced_shape(x.shape(), &self.axes, true);
        let spread = g.reshape(&kept).expand(x.shape());
        match self.how {
            How::Sum => spread, // ∂(Σ x)/∂xᵢ = 1
            How::Max | How::Min => {
                // ∂ max/∂xᵢ = 1 at the extreme element; ties share it evenly.
                let extreme = y.value_ref().reshape(&kept).expand(x.shape());
                let hits = Tensor::from_array(
                    x.value_ref().zip_map(&extreme, |a, b| if a == b { T::one() } else { T::zero() }),
                );
                let count = hits.sum_dim(self.axes.as_slice(), true);
                spread * &(hits / &count)
            }
        }
    }
}

impl<T: Element> Tensor<T> {
    #[track_caller]
    fn reduce(&self, how: How, axes: &impl Dims, keepdim: bool) -> Tensor<T> {
        let op = Reduce { how, axes: normalize_axes(how.name(), axes, self.shape()) };
        if how != How::Sum && op.axes.iter().any(|&a| self.shape()[a] == 0) {
            shape_panic(format!("{}: cannot reduce an empty axis of shape {:?}", op.name(), self.shape()));
        }
        let value = T::reduce(how, &self.value_ref(), &op.axes, keepdim);
        Tensor::from_op(value, Op::Reduce(op), &[self])
    }

    fn all_axes(&self) -> Vec<usize> {
        (0..self.ndim()).collect()
    }

    /// The sum of all elements, as a zero-dimensional tensor.
    ///
    /// ```
    /// use tapegrad_autograd::Tensor;
    /// assert_eq!(Tensor::<f32>::ones(&[2, 3]).sum().item(), 6.0);
    /// ```
    #[track_caller]
    pub fn sum(&self) -> Tensor<T> {
        self.reduce(How::Sum, &self.all_axes(), false)
    }

    /// The sum over `axes` (one axis, e.g. `-1`, or several, e.g. `[0, 2]`), keeping them as
    /// size 1 if `keepdim`.
    ///
    /// ```
    /// use tapegrad_autograd::Tensor;
    /// let x = Tensor::from_vec(vec![1.0f32, 2.0, 3.0, 4.0], &[2, 2]).unwrap();
    /// assert_eq!(x.sum_dim(0, false).to_vec(), vec![4.0, 6.0]);
    /// assert_eq!(x.sum_dim(-1, true).shape(), &[2, 1]);
    /// ```
    #[track_caller]
    pub fn sum_dim(&self, axes: impl Dims, keepdim: bool) -> Tensor<T> {
        self.reduce(How::Sum, &axes, keepdim)
    }

    /// The largest element, as a zero-dimensional tensor (ties share the gradient).
    ///
    /// # Panics
    /// If the tensor is empty.
    #[track_caller]
    pub fn max(&self) -> Tensor<T> {
        self.reduce(How::Max, &self.all_axes(), false)
    }

    /// The largest element over `axes`.
    #[doc(alias = "amax")]
    #[track_caller]
    pub fn max_dim(&self, axes: impl Dims, keepdim: bool) -> Tensor<T> {
        self.reduce(How::Max, &axes, keepdim)
    }

    /// The smallest element, as a zero-dimensional tensor.
    #[track_caller]
    pub fn min(&self) -> Tensor<T> {
        self.reduce(How::Min, &self.all_axes(), false)
    }

    /// The smallest element over `axes`.
    #[doc(alias = "amin")]
    #[track_caller]
    pub fn min_dim(&self, axes: impl Dims, keepdim: bool) -> Tensor<T> {
        self.reduce(How::Min, &axes, keepdim)
    }

    /// The mean of all elements (NaN for an empty tensor, as in PyTorch).
    ///
    /// ```
    /// use tapegrad_autograd::Tensor;
    /// assert_eq!(Tensor::arange(0.0f32, 4.0, 1.0).mean().item(), 1.5);
    /// ```
    #[track_caller]
    pub fn mean(&self) -> Tensor<T> {
        self.mean_dim(self.all_axes(), false)
    }

    /// The mean over `axes`.
    #[track_caller]
    pub fn mean_dim(&self, axes: impl Dims, keepdim: bool) -> Tensor<T> {
        let count = self.count_over(&axes);
        self.sum_dim(axes, keepdim) / lit::<T>(count as f64)
    }

    /// The unbiased variance of all elements (dividing by n − 1, as `torch.var`).
    ///
    /// ```
    /// use tapegrad_autograd::Tensor;
    /// assert_eq!(Tensor::from_vec(vec![1.0f64, 2.0, 3.0, 4.0], &[4]).unwrap().var().item(), 5.0 / 3.0);
    /// ```
    #[track_caller]
    pub fn var(&self) -> Tensor<T> {
        self.var_dim(self.all_axes(), 1, false)
    }

    /// The variance over `axes`, dividing by n − `correction` (1: unbiased, 0: population).
    #[track_caller]
    pub fn var_dim(&self, axes: impl Dims, correction: usize, keepdim: bool) -> Tensor<T> {
        let count = self.count_over(&axes);
        let centered = self - &self.mean_dim(axes.indices().as_slice(), true);
        let divisor = count.saturating_sub(correction) as f64;
        centered.square().sum_dim(axes, keepdim) / lit::<T>(divisor)
    }

    #[track_caller]
    fn count_over(&self, axes: &impl Dims) -> usize {
        normalize_axes("reduce", axes, self.shape()).iter().map(|&a| self.shape()[a]).product()
    }

    /// This tensor summed down to `shape`, the shape it was broadcast from: the backward of
    /// broadcasting (PyTorch's `sum_to_size`).
    ///
    /// # Panics
    /// If this tensor's shape is not a broadcast of `shape`.
    #[track_caller]
    pub fn sum_to(&self, shape: &[usize]) -> Tensor<T> {
        if self.shape() == shape {
            return self.clone();
        }
        let lead = self
            .ndim()
            .checked_sub(shape.len())
            .unwrap_or_else(|| shape_panic(format!("sum_to: cannot sum {:?} to the larger {shape:?}", self.shape())));
        let mut axes: Vec<usize> = (0..lead).collect();
        for (i, &size) in shape.iter().enumerate() {
            match (size, self.shape()[lead + i]) {
                (a, b) if a == b => {}
                (1, _) => axes.push(lead + i),
                _ => shape_panic(format!("sum_to: {:?} is not a broadcast of {shape:?}", self.shape())),
            }
        }
        self.sum_dim(axes, true).reshape(shape)
    }

    /// The position of the largest element along `axis` (the first on ties).
    ///
    /// ```
    /// use tapegrad_autograd::Tensor;
    /// let logits = Tensor::from_vec(vec![0.1f32, 2.0, 0.3, 5.0, 1.0, 0.0], &[2, 3]).unwrap();
    /// assert_eq!(logits.argmax(1, false).to_vec(), vec![1, 0]);
    /// ```
    #[track_caller]
    pub fn argmax(&self, axis: impl crate::shape::Dim, keepdim: bool) -> Indices {
        self.arg_reduce("argmax", axis.index(), keepdim, true)
    }

    /// The position of the smallest element along `axis` (the first on ties).
    #[track_caller]
    pub fn argmin(&self, axis: impl crate::shape::Dim, keepdim: bool) -> Indices {
        self.arg_reduce("argmin", axis.index(), keepdim, false)
    }

    #[track_caller]
    fn arg_reduce(&self, op: &str, axis: isize, keepdim: bool, largest: bool) -> Indices {
        let axis = normalize_axis(op, axis, self.shape());
        if self.shape()[axis] == 0 {
            shape_panic(format!("{op}: cannot reduce an empty axis of shape {:?}", self.shape()));
        }
        let found = T::arg_reduce(&self.value_ref(), axis, largest);
        Indices::new(found, &reduced_shape(self.shape(), &[axis], keepdim)).expect("sizes match")
    }
}

#[cfg(test)]
mod tests {
    use crate::Tensor;

    #[test]
    fn max_ties_share_the_gradient() {
        let x = Tensor::from_vec(vec![1.0f64, 3.0, 3.0], &[3]).unwrap().requires_grad();
        x.max().backward();
        assert_eq!(x.grad().unwrap().to_vec(), vec![0.0, 0.5, 0.5]);
    }

    #[test]
    fn sum_backward_spreads_the_gradient() {
        let x = Tensor::<f64>::ones(&[2, 3]).requires_grad();
        let w = Tensor::from_vec(vec![1.0, 2.0], &[2]).unwrap();
        (x.sum_dim(1, false) * &w).sum().backward();
        assert_eq!(x.grad().unwrap().to_vec(), vec![1.0, 1.0, 1.0, 2.0, 2.0, 2.0]);
    }
}
