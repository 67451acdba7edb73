//! Integer tensors of indices: class labels, `gather` positions, `argmax` results.

use std::sync::Arc;

use crate::error::Error;
use crate::shape::{Shape, numel, shape_panic};

/// An n-d array of `usize` indices, as PyTorch's `LongTensor` is used: targets for
/// cross-entropy, positions for [`crate::Tensor::gather`], results of
/// [`crate::Tensor::argmax`]. Cloning is cheap.
///
/// ```
/// use tapegrad_autograd::Indices;
/// let labels = Indices::from(vec![3, 0, 2]);
/// assert_eq!(labels.shape(), &[3]);
/// let column = labels.reshape(&[3, 1]);
/// assert_eq!(column.as_slice(), &[3, 0, 2]);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Indices {
    data: Arc<[usize]>,
    shape: Shape,
}

impl Indices {
    /// Indices laid out row-major in `shape`.
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] if `data.len()` is not the product of `shape`.
    pub fn new(data: Vec<usize>, shape: &[usize]) -> Result<Self, Error> {
        if data.len() != numel(shape) {
            return Err(Error::LengthMismatch { len: data.len(), shape: shape.to_vec(), expected: numel(shape) });
        }
        Ok(Indices { data: data.into(), shape: shape.into() })
    }

    /// Indices over data a kernel made (not copied again), laid out row-major in `shape`.
    pub(crate) fn from_shared(data: Arc<[usize]>, shape: &[usize]) -> Self {
        assert_eq!(data.len(), numel(shape), "indices: {} positions for shape {shape:?}", data.len());
        Indices { data, shape: shape.into() }
    }

    /// The sizes of the axes.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// The number of indices.
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// Whether there are no indices.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The indices in row-major order.
    pub fn as_slice(&self) -> &[usize] {
        &self.data
    }

    /// The indices in row-major order, copied.
    pub fn to_vec(&self) -> Vec<usize> {
        self.data.to_vec()
    }

    /// The same indices in another shape of equal size.
    ///
    /// # Panics
    /// If the sizes differ.
    #[track_caller]
    pub fn reshape(&self, shape: &[usize]) -> Indices {
        if numel(shape) != self.len() {
            shape_panic(format!("reshape: cannot reshape indices {:?} to {shape:?}", self.shape));
        }
        Indices { data: self.data.clone(), shape: shape.into() }
    }

    /// The largest index, if any: for checking against a size.
    pub fn max(&self) -> Option<usize> {
        self.data.iter().copied().max()
    }
}

impl From<Vec<usize>> for Indices {
    /// A one-dimensional list of indices.
    fn from(data: Vec<usize>) -> Self {
        let len = data.len();
        Indices { data: data.into(), shape: Shape::from_slice(&[len]) }
    }
}

impl From<&[usize]> for Indices {
    fn from(data: &[usize]) -> Self {
        Indices::from(data.to_vec())
    }
}

impl<const N: usize> From<[usize; N]> for Indices {
    fn from(data: [usize; N]) -> Self {
        Indices::from(data.to_vec())
    }
}
