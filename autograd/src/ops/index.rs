//! Picking elements by position: index_select and gather, and their adjoints index_add and
//! scatter_add. Each pair's backward is the other, so both are differentiable to any order.

use std::sync::Arc;

use super::Op;
use crate::array::Array;
use crate::element::Element;
use crate::indices::Indices;
use crate::shape::{Dim, Shape, normalize_axis, shape_panic};
use crate::tensor::Tensor;

#[derive(Clone, Debug)]
pub(crate) enum Indexing {
    /// Slices at positions `index` along `axis`.
    Select { axis: usize, index: Arc<[usize]> },
    /// Slices added into zeros of size `size` at positions `index`.
    Add { axis: usize, index: Arc<[usize]>, size: usize },
    /// Elements at positions `index` along `axis`.
    Gather { axis: usize, index: Indices },
    /// Elements added into zeros of `shape` at positions `index`.
    Scatter { axis: usize, index: Indices, shape: Shape },
}

impl Indexing {
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Indexing::Select { .. } => "index_select",
            Indexing::Add { .. } => "index_add",
            Indexing::Gather { .. } => "gather",
            Indexing::Scatter { .. } => "scatter_add",
        }
    }

    /// The op on an array.
    pub(crate) fn forward_array<T: Element>(&self, v: &Array<T>) -> Array<T> {
        match self {
            Indexing::Select { axis, index } => v.index_select(*axis, index),
            Indexing::Add { axis, index, size } => v.index_add(*axis, index, *size),
            Indexing::Gather { axis, index } => v.gather(*axis, index),
            Indexing::Scatter { axis, index, shape } => v.scatter_add(shape, *axis, index),
        }
    }

    #[track_caller]
    fn forward<T: Element>(&self, x: &Tensor<T>) -> Tensor<T> {
        let value = T::indexing(self, &x.value_ref());
        Tensor::from_op(value, Op::Indexing(Box::new(self.clone())), &[x])
    }

    /// Each op's adjoint applied to g: where elements were picked, their gradients go back.
    pub(crate) fn backward<T: Element>(&self, x: &Tensor<T>, g: &Tensor<T>) -> Tensor<T> {
        let adjoint = match self {
            Indexing::Select { axis, index } => {
                Indexing::Add { axis: *axis, index: index.clone(), size: x.shape()[*axis] }
            }
            Indexing::Add { axis, index, .. } => Indexing::Select { axis: *axis, index: index.clone() },
            Indexing::Gather { axis, index } => {
                Indexing::Scatter { axis: *axis, index: index.clone(), shape: x.shape().into() }
            }
            Indexing::Scatter { axis, index, .. } => Indexing::Gather { axis: *axis, index: index.clone() },
        };
        adjoint.forward(g)
    }
}

impl<T: Element> Tensor<T> {
    /// The slices at positions `index` along `axis`, in that order (repeats allowed): rows
    /// of a batch, embeddings of tokens.
    ///
    /// # Panics
    /// If an index is out of range; the message names it and its position.
    ///
    /// ```
    /// use tapegrad_autograd::Tensor;
    /// let x = Tensor::arange(0.0f32, 6.0, 1.0).reshape([3, 2]);
    /// assert_eq!(x.index_select(0, &[2, 0]).to_vec(), vec![4.0, 5.0, 0.0, 1.0]);
    /// ```
    #[track_caller]
    pub fn index_select(&self, axis: impl Dim, index: &[usize]) -> Tensor<T> {
        let axis = normalize_axis("index_select", axis.index(), self.shape());
        Indexing::Select { axis, index: index.into() }.forward(self)
    }

    /// PyTorch's gather: for every position `p` of `index` (which has as many axes as this
    /// tensor), the element at `p` with its `axis` coordinate replaced by `index[p]`. With
    /// logits `[n, classes]` and labels shaped `[n, 1]`, it picks each row's class.
    ///
    /// # Panics
    /// If the index shape does not fit or an index is out of range.
    ///
    /// ```
    /// use tapegrad_autograd::{Indices, Tensor};
    /// let logits = Tensor::from_vec(vec![0.1f32, 0.9, 0.7, 0.3], &[2, 2]).unwrap();
    /// let labels = Indices::new(vec![1, 0], &[2, 1]).unwrap();
    /// assert_eq!(logits.gather(1, &labels).to_vec(), vec![0.9, 0.7]);
    /// ```
    #[track_caller]
    pub fn gather(&self, axis: impl Dim, index: &Indices) -> Tensor<T> {
        let axis = normalize_axis("gather", axis.index(), self.shape());
        Indexing::Gather { axis, index: index.clone() }.forward(self)
    }

    /// [`Tensor::gather`] whose value the caller already has (max pooling finds the maxima
    /// with their positions), recorded as a gather: it differentiates as one.
    #[track_caller]
    pub(crate) fn gathered(&self, axis: usize, index: Indices, value: Array<T>) -> Tensor<T> {
        debug_assert_eq!(value.shape(), index.shape());
        Tensor::from_op(value, Op::Indexing(Box::new(Indexing::Gather { axis, index })), &[self])
    }

    /// This tensor plus `src` added at the positions of `index` along `axis`, as PyTorch's
    /// `scatter_add` (`src` is shaped like `index`).
    ///
    /// # Panics
    /// If the shapes do not fit or an index is out of range.
    ///
    /// ```
    /// use tapegrad_autograd::{Indices, Tensor};
    /// let counts = Tensor::<f32>::zeros(&[3]);
    /// let ones = Tensor::<f32>::ones(&[4]);
    /// let y = counts.scatter_add(0, &Indices::from(vec![0, 2, 2, 2]), &ones);
    /// assert_eq!(y.to_vec(), vec![1.0, 0.0, 3.0]);
    /// ```
    #[track_caller]
    pub fn scatter_add(&self, axis: impl Dim, index: &Indices, src: &Tensor<T>) -> Tensor<T> {
        let axis = normalize_axis("scatter_add", axis.index(), self.shape());
        self + &Indexing::Scatter { axis, index: index.clone(), shape: self.shape().into() }.forward(src)
    }

    /// This tensor plus the slices of `src` added at positions `index` along `axis`, as
    /// PyTorch's `index_add`.
    ///
    /// # Panics
    /// If the shapes do not fit or an index is out of range.
    #[track_caller]
    pub fn index_add(&self, axis: impl Dim, index: &[usize], src: &Tensor<T>) -> Tensor<T> {
        let axis = normalize_axis("index_add", axis.index(), self.shape());
        let fits = src.ndim() == self.ndim()
            && src.shape().iter().zip(self.shape()).enumerate().all(|(d, (s, t))| d == axis || s == t);
        if !fits || src.shape()[axis] != index.len() {
            shape_panic(format!(
                "index_add: source {:?} with {} indices does not fit {:?} along axis {axis}",
                src.shape(),
                index.len(),
                self.shape()
            ));
        }
        self + &Indexing::Add { axis, index: index.into(), size: self.shape()[axis] }.forward(src)
    }
}
