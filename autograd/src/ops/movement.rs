//! Ops that move elements without arithmetic: reshape, permute, expand and narrow (views
//! that copy nothing) and concat (primitives); transpose, squeeze, unsqueeze, flatten,
//! stack and split (composites).

use smallvec::{SmallVec, smallvec};

use super::{Grads, Op, grad_if};
use crate::array::Array;
use crate::element::Element;
use crate::shape::{Dim, IntoShape, normalize_axis, resolve_shape, shape_panic};
use crate::tensor::Tensor;

#[derive(Clone, Debug)]
pub(crate) enum Movement {
    Reshape,
    Permute(SmallVec<[usize; 4]>),
    Expand,
    Narrow { axis: usize, start: usize },
    Concat { axis: usize },
}

impl Movement {
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Movement::Reshape => "reshape",
            Movement::Permute(_) => "permute",
            Movement::Expand => "expand",
            Movement::Narrow { .. } => "narrow",
            Movement::Concat { .. } => "concat",
        }
    }

    /// Each input's gradient: the same elements moved back where they came from.
    pub(crate) fn backward<T: Element>(&self, inputs: &[Tensor<T>], g: &Tensor<T>) -> Grads<T> {
        let x = &inputs[0];
        match self {
            Movement::Reshape => smallvec![Some(g.reshape(x.shape()))],
            Movement::Permute(perm) => {
                let mut inverse: SmallVec<[usize; 4]> = smallvec![0; perm.len()];
                perm.iter().enumerate().for_each(|(i, &p)| inverse[p] = i);
                smallvec![Some(g.permute(&inverse))]
            }
            Movement::Expand => smallvec![Some(g.sum_to(x.shape()))], // repeated reads add up
            Movement::Narrow { axis, start } => {
                // Zeros around the narrowed window.
                let (axis, start) = (*axis, *start);
                let mut before = x.shape().to_vec();
                before[axis] = start;
                let mut after = x.shape().to_vec();
                after[axis] = x.shape()[axis] - start - g.shape()[axis];
                let parts = [Tensor::zeros(&before), g.clone(), Tensor::zeros(&after)];
                smallvec![Some(Tensor::concat(&[&parts[0], &parts[1], &parts[2]], axis as isize))]
            }
            Movement::Concat { axis } => {
                let mut start = 0;
                inputs
                    .iter()
                    .map(|input| {
                        let len = input.shape()[*axis];
                        start += len;
                        grad_if(input, || g.narrow(*axis as isize, start - len, len))
                    })
                    .collect()
            }
        }
    }
}

impl<T: Element> Tensor<T> {
    #[track_caller]
    fn movement(&self, value: Array<T>, op: Movement) -> Tensor<T> {
        Tensor::from_op(value, Op::Movement(op), &[self])
    }

    /// The same elements in a new shape; one size may be `-1` (inferred). A view when the
    /// layout allows, else a copy.
    ///
    /// # Panics
    /// If the element counts differ.
    ///
    /// ```
    /// use tapegrad_autograd::Tensor;
    /// let x = Tensor::<f32>::zeros(&[4, 6]);
    /// assert_eq!(x.reshape([-1, 3]).shape(), &[8, 3]);
    /// ```
    #[doc(alias = "view")]
    #[track_caller]
    pub fn reshape(&self, shape: impl IntoShape) -> Tensor<T> {
        let shape = resolve_shape("reshape", self.shape(), &shape.sizes());
        if shape.as_slice() == self.shape() {
            return self.clone();
        }
        self.movement(self.value_ref().reshape(&shape), Movement::Reshape)
    }

    /// A view with the axes reordered: axis `i` of the result is axis `perm[i]` here.
    ///
    /// # Panics
    /// If `perm` is not a permutation of the axes.
    #[track_caller]
    pub fn permute(&self, perm: &[usize]) -> Tensor<T> {
        self.movement(self.value_ref().permute(perm), Movement::Permute(perm.into()))
    }

    /// A view with two axes swapped.
    ///
    /// ```
    /// use tapegrad_autograd::Tensor;
    /// let x = Tensor::from_vec(vec![1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]).unwrap();
    /// assert_eq!(x.transpose(0, 1).to_vec(), vec![1.0, 4.0, 2.0, 5.0, 3.0, 6.0]);
    /// ```
    #[track_caller]
    pub fn transpose(&self, a: impl Dim, b: impl Dim) -> Tensor<T> {
        let a = normalize_axis("transpose", a.index(), self.shape());
        let b = normalize_axis("transpose", b.index(), self.shape());
        let mut perm: SmallVec<[usize; 4]> = (0..self.ndim()).collect();
        perm.swap(a, b);
        self.permute(&perm)
    }

    /// The transpose of a matrix (the last two axes swapped).
    ///
    /// # Panics
    /// If the tensor has fewer than two axes.
    #[track_caller]
    pub fn t(&self) -> Tensor<T> {
        if self.ndim() < 2 {
            shape_panic(format!("t: shape {:?} has fewer than two axes", self.shape()));
        }
        self.transpose(-2, -1)
    }

    /// A view repeating size-1 axes (and adding leading axes) up to `shape`; the backward
    /// sums over the repeats.
    ///
    /// # Panics
    /// If an axis of size other than 1 would change.
    #[doc(alias = "broadcast_to")]
    #[track_caller]
    pub fn expand(&self, shape: &[usize]) -> Tensor<T> {
        if shape == self.shape() {
            return self.clone();
        }
        self.movement(self.value_ref().expand(shape), Movement::Expand)
    }

    /// A view of `len` elements along `axis` from `start` (a slice).
    ///
    /// # Panics
    /// If the range does not fit.
    ///
    /// ```
    /// use tapegrad_autograd::Tensor;
    /// let x = Tensor::arange(0.0f32, 6.0, 1.0).reshape([2, 3]);
    /// assert_eq!(x.narrow(1, 1, 2).to_vec(), vec![1.0, 2.0, 4.0, 5.0]);
    /// ```
    #[doc(alias = "slice")]
    #[track_caller]
    pub fn narrow(&self, axis: impl Dim, start: usize, len: usize) -> Tensor<T> {
        let axis = normalize_axis("narrow", axis.index(), self.shape());
        self.movement(self.value_ref().narrow(axis, start, len), Movement::Narrow { axis, start })
    }

    /// The tensor without axis `axis`, which must have size 1.
    ///
    /// # Panics
    /// If the axis does not have size 1.
    #[track_caller]
    pub fn squeeze(&self, axis: impl Dim) -> Tensor<T> {
        let axis = normalize_axis("squeeze", axis.index(), self.shape());
        if self.shape()[axis] != 1 {
            shape_panic(format!(
                "squeeze: axis {axis} of shape {:?} has size {}, not 1",
                self.shape(),
                self.shape()[axis]
            ));
        }
        let mut shape = self.shape().to_vec();
        shape.remove(axis);
        self.reshape(shape)
    }

    /// The tensor with a new axis of size 1 at `axis` (`-1` appends).
    ///
    /// ```
    /// use tapegrad_autograd::Tensor;
    /// assert_eq!(Tensor::<f32>::zeros(&[3]).unsqueeze(0).shape(), &[1, 3]);
    /// assert_eq!(Tensor::<f32>::zeros(&[3]).unsqueeze(-1).shape(), &[3, 1]);
    /// ```
    #[track_caller]
    pub fn unsqueeze(&self, axis: impl Dim) -> Tensor<T> {
        let with_new: Vec<usize> = vec![0; self.ndim() + 1];
        let axis = normalize_axis("unsqueeze", axis.index(), &with_new);
        let mut shape = self.shape().to_vec();
        shape.insert(axis, 1);
        self.reshape(shape)
    }

    /// Axes `start..=end` merged into one, as `torch.flatten(x, start, end)`.
    ///
    /// ```
    /// use tapegrad_autograd::Tensor;
    /// let images = Tensor::<f32>::zeros(&[8, 1, 28, 28]);
    /// assert_eq!(images.flatten(1, -1).shape(), &[8, 784]);
    /// ```
    #[track_caller]
    pub fn flatten(&self, start: impl Dim, end: impl Dim) -> Tensor<T> {
        if self.ndim() == 0 {
            return self.reshape([1usize]);
        }
        let start = normalize_axis("flatten", start.index(), self.shape());
        let end = normalize_axis("flatten", end.index(), self.shape());
        if start > end {
            shape_panic(format!("flatten: start axis {start} comes after end axis {end}"));
        }
        let mut shape: Vec<usize> = self.shape()[..start].to_vec();
        shape.push(self.shape()[start..=end].iter().product());
        shape.extend_from_slice(&self.shape()[end + 1..]);
        self.reshape(shape)
    }

    /// The tensors joined along `axis` (also known as `cat`).
    ///
    /// # Panics
    /// If `tensors` is empty or their shapes differ off `axis`.
    ///
    /// ```
    /// use tapegrad_autograd::Tensor;
    /// let a = Tensor::<f32>::zeros(&[2, 3]);
    /// let b = Tensor::<f32>::ones(&[1, 3]);
    /// assert_eq!(Tensor::concat(&[&a, &b], 0).shape(), &[3, 3]);
    /// ```
    #[doc(alias = "cat")]
    #[track_caller]
    pub fn concat(tensors: &[&Tensor<T>], axis: impl Dim) -> Tensor<T> {
        let Some(first) = tensors.first() else { shape_panic("concat: no tensors to join") };
        let axis = normalize_axis("concat", axis.index(), first.shape());
        let values: Vec<Array<T>> = tensors.iter().map(|t| t.value()).collect();
        Tensor::from_op(T::concat(&values, axis), Op::Movement(Movement::Concat { axis }), tensors)
    }

    /// The tensors, all of one shape, stacked along a new axis.
    ///
    /// ```
    /// use tapegrad_autograd::Tensor;
    /// let a = Tensor::<f32>::zeros(&[3]);
    /// assert_eq!(Tensor::stack(&[&a, &a], 0).shape(), &[2, 3]);
    /// ```
    #[track_caller]
    pub fn stack(tensors: &[&Tensor<T>], axis: impl Dim) -> Tensor<T> {
        let Some(first) = tensors.first() else { shape_panic("stack: no tensors to stack") };
        if let Some(other) = tensors.iter().find(|t| t.shape() != first.shape()) {
            shape_panic(format!("stack: shapes {:?} and {:?} differ", first.shape(), other.shape()));
        }
        let expanded: Vec<Tensor<T>> = tensors.iter().map(|t| t.unsqueeze(axis)).collect();
        let refs: Vec<&Tensor<T>> = expanded.iter().collect();
        Tensor::concat(&refs, axis)
    }

    /// Pieces of `size` elements along `axis` (the last may be shorter), as `torch.split`.
    ///
    /// ```
    /// use tapegrad_autograd::Tensor;
    /// let parts = Tensor::arange(0.0f32, 5.0, 1.0).split(2, 0);
    /// assert_eq!(parts.iter().map(|p| p.to_vec()).collect::<Vec<_>>(),
    ///            vec![vec![0.0, 1.0], vec![2.0, 3.0], vec![4.0]]);
    /// ```
    #[track_caller]
    pub fn split(&self, size: usize, axis: impl Dim) -> Vec<Tensor<T>> {
        if size == 0 {
            shape_panic("split: pieces must have at least one element");
        }
        let axis = normalize_axis("split", axis.index(), self.shape());
        let total = self.shape()[axis];
        (0..total).step_by(size).map(|start| self.narrow(axis, start, size.min(total - start))).collect()
    }
}
