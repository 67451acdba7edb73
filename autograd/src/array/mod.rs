//! The n-d array: shared storage seen through a shape, strides and an offset.
//!
//! This is the numerics layer. It holds the data and every loop over it (elementwise maps,
//! reductions, matmul, gathers) and knows nothing of gradients; [`crate::Tensor`] builds the
//! tape on top of it. Views (reshape of contiguous data, permute, expand, narrow) share the
//! storage and copy nothing. Kernels always write a fresh contiguous array, so an array's
//! data never changes once it is shared.

mod conv;
mod elementwise;
pub(crate) mod gemm;
mod index;
pub(crate) mod math;
mod matmul;
mod parallel;
mod pool;
mod reduce;
mod storage;
mod threads;

use std::fmt;
use std::mem::ManuallyDrop;
use std::sync::Arc;

use crate::element::Element;
use crate::error::Error;
use crate::shape::{Shape, Strides, contiguous_strides, numel, shape_of, shape_panic};

pub use conv::ConvGeometry;
pub(crate) use conv::{conv2d, conv2d_input, conv2d_weight};
pub(crate) use matmul::blocked_gemm;
pub use parallel::{PARALLEL_THRESHOLD, for_each_piece};
pub(crate) use pool::max_pool2d;
use storage::Storage;
pub use storage::{BufferCache, CACHE_BYTES, CACHE_MIN, INLINE, release_cached_memory};

/// An n-dimensional array of `T` over shared, immutable storage.
///
/// Cloning is cheap: it copies the shape and bumps a reference count.
///
/// ```
/// use tapegrad_autograd::Array;
/// let a = Array::from_vec(vec![1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]).unwrap();
/// let t = a.permute(&[1, 0]); // a view: no copy
/// assert_eq!(t.shape(), &[3, 2]);
/// assert_eq!(t.to_vec(), vec![1.0, 4.0, 2.0, 5.0, 3.0, 6.0]);
/// ```
pub struct Array<T: Element> {
    /// Dropped by `Drop for Array`, which recycles the allocation (see `recycle.rs`).
    data: ManuallyDrop<Arc<Storage<T>>>,
    shape: Shape,
    strides: Strides,
    offset: usize,
}

impl<T: Element> Array<T> {
    /// An array owning `data`, laid out row-major in `shape`.
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] if `data.len()` is not the product of `shape`.
    pub fn from_vec(data: Vec<T>, shape: &[usize]) -> Result<Self, Error> {
        if data.len() != numel(shape) {
            return Err(Error::LengthMismatch { len: data.len(), shape: shape.to_vec(), expected: numel(shape) });
        }
        Ok(Self::from_storage(Storage::from_vec(data), shape))
    }

    /// A contiguous array over a whole buffer whose length is the product of `shape`.
    fn from_storage(data: Storage<T>, shape: &[usize]) -> Self {
        debug_assert_eq!(data.len(), numel(shape));
        let data = ManuallyDrop::new(crate::recycle::new_arc(|| data));
        Array { data, strides: contiguous_strides(shape), shape: shape_of(shape), offset: 0 }
    }

    /// A new contiguous array of `shape` whose elements `fill` writes (row-major, into a
    /// zeroed buffer): building large data in place, with no second copy.
    ///
    /// ```
    /// use tapegrad_autograd::Array;
    /// let squares = Array::<f32>::build(&[2, 2], |out| out.iter_mut().enumerate().for_each(|(i, v)| *v = (i * i) as f32));
    /// assert_eq!(squares.to_vec(), vec![0.0, 1.0, 4.0, 9.0]);
    /// ```
    pub fn build(shape: &[usize], fill: impl FnOnce(&mut [T])) -> Self {
        let mut buffer = Storage::zeros(numel(shape));
        fill(&mut buffer);
        Self::from_storage(buffer, shape)
    }

    /// Like [`Array::build`] for a `fill` that writes every element: the buffer may hold
    /// old values instead of zeros (it may come from the cache of freed buffers).
    pub(crate) fn build_overwriting(shape: &[usize], fill: impl FnOnce(&mut [T])) -> Self {
        let mut buffer = Storage::for_overwrite(numel(shape));
        fill(&mut buffer);
        Self::from_storage(buffer, shape)
    }

    /// A new contiguous array of `shape` holding a copy of `source` (row-major), which
    /// `change` then changes in place: no pass to initialise the buffer first.
    pub(crate) fn build_from_copy(shape: &[usize], source: &[T], change: impl FnOnce(&mut [T])) -> Self {
        let mut buffer = Storage::copy_of(source);
        change(&mut buffer);
        Self::from_storage(buffer, shape)
    }

    /// An array of `shape` with every element `value`.
    pub fn full(shape: &[usize], value: T) -> Self {
        if value == T::zero() {
            return Self::from_storage(Storage::zeros(numel(shape)), shape);
        }
        Self::build_overwriting(shape, |out| out.fill(value))
    }

    /// A zero-dimensional array holding one value.
    pub fn scalar(value: T) -> Self {
        Self::full(&[], value)
    }

    /// The sizes of the axes.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// The step in elements along each axis (0 on broadcast axes).
    pub fn strides(&self) -> &[usize] {
        &self.strides
    }

    /// The number of axes.
    pub fn ndim(&self) -> usize {
        self.shape.len()
    }

    /// The number of elements.
    pub fn numel(&self) -> usize {
        numel(&self.shape)
    }

    /// Whether the elements lie row-major and gap-free in storage (an empty array always
    /// does).
    pub fn is_contiguous(&self) -> bool {
        self.contiguous_len().is_some()
    }

    /// The number of elements if they lie row-major and gap-free: one pass over the axes,
    /// for [`Array::as_slice`], which every kernel asks first.
    fn contiguous_len(&self) -> Option<usize> {
        let (shape, strides) = (&self.shape[..], &self.strides[..]);
        let mut step = 1;
        for axis in (0..shape.len()).rev() {
            let size = shape[axis];
            if size == 0 {
                return Some(0);
            }
            if size != 1 && strides[axis] != step {
                // An empty array is contiguous whatever its strides.
                return shape.contains(&0).then_some(0);
            }
            step *= size;
        }
        Some(step)
    }

    /// The elements in row-major order, if the array is contiguous.
    #[inline]
    pub fn as_slice(&self) -> Option<&[T]> {
        // A vector with unit stride, the usual case for small tensors, without the loop.
        if let ([len], [1]) = (&self.shape[..], &self.strides[..])
            && *len > 0
        {
            return Some(&self.data[self.offset..self.offset + len]);
        }
        match self.contiguous_len()? {
            0 => Some(&[]),
            n => Some(&self.data[self.offset..self.offset + n]),
        }
    }

    /// The elements, to overwrite in place, if this array is the only one using its buffer
    /// and covers all of it row-major: then nothing else can see the change.
    pub(crate) fn unique_slice_mut(&mut self) -> Option<&mut [T]> {
        let len = self.contiguous_len()?;
        let storage = Arc::get_mut(&mut self.data)?;
        (self.offset == 0 && storage.len() == len).then_some(&mut storage[..])
    }

    /// The elements in row-major (logical) order, copied.
    pub fn to_vec(&self) -> Vec<T> {
        match self.as_slice() {
            Some(s) => s.to_vec(),
            None => self.contiguous().as_slice().expect("contiguous").to_vec(),
        }
    }

    /// This array if contiguous, else a contiguous copy.
    pub fn contiguous(&self) -> Array<T> {
        if self.is_contiguous() { self.clone() } else { T::copy(self) }
    }

    /// The element at a multi-index.
    ///
    /// # Panics
    /// If the index has the wrong length or is out of bounds.
    #[track_caller]
    pub fn get(&self, index: &[usize]) -> T {
        if index.len() != self.ndim() || index.iter().zip(&self.shape).any(|(&i, &s)| i >= s) {
            shape_panic(format!("get: index {index:?} is out of bounds for shape {:?}", self.shape));
        }
        self.data[self.offset + index.iter().zip(&self.strides).map(|(i, s)| i * s).sum::<usize>()]
    }

    /// The single element of an array with one element.
    ///
    /// # Panics
    /// If the array has more or fewer than one element.
    #[track_caller]
    pub fn item(&self) -> T {
        if self.numel() != 1 {
            shape_panic(format!("item: shape {:?} has {} elements, not 1", self.shape, self.numel()));
        }
        self.data[self.offset]
    }

    /// The same elements in a new shape of equal size: a view when the layout allows (the
    /// array is contiguous, or only size-1 axes are added or removed), else a copy.
    ///
    /// # Panics
    /// If the element counts differ.
    #[track_caller]
    pub fn reshape(&self, shape: &[usize]) -> Array<T> {
        if numel(shape) != self.numel() {
            shape_panic(format!(
                "reshape: cannot reshape {:?} ({} elements) to {shape:?} ({} elements)",
                self.shape,
                self.numel(),
                numel(shape)
            ));
        }
        if self.is_contiguous() {
            return Array {
                data: self.data.clone(),
                shape: shape.into(),
                strides: contiguous_strides(shape),
                offset: self.offset,
            };
        }
        // Adding or removing axes of size 1 keeps any layout.
        let kept: Vec<(usize, usize)> =
            self.shape.iter().zip(&self.strides).filter(|(s, _)| **s != 1).map(|(&s, &st)| (s, st)).collect();
        if kept.iter().map(|k| k.0).eq(shape.iter().copied().filter(|&s| s != 1)) {
            let mut next = kept.iter();
            let strides = shape.iter().map(|&s| if s == 1 { 0 } else { next.next().expect("same sizes").1 }).collect();
            return Array { data: self.data.clone(), shape: shape.into(), strides, offset: self.offset };
        }
        self.contiguous().reshape(shape)
    }

    /// A view with the axes reordered: axis `i` of the result is axis `perm[i]` of this array.
    ///
    /// # Panics
    /// If `perm` is not a permutation of `0..ndim`.
    #[track_caller]
    pub fn permute(&self, perm: &[usize]) -> Array<T> {
        let mut seen = vec![false; self.ndim()];
        if perm.len() != self.ndim() || perm.iter().any(|&p| p >= self.ndim() || std::mem::replace(&mut seen[p], true))
        {
            shape_panic(format!("permute: {perm:?} is not a permutation of the axes of shape {:?}", self.shape));
        }
        Array {
            data: self.data.clone(),
            shape: perm.iter().map(|&p| self.shape[p]).collect(),
            strides: perm.iter().map(|&p| self.strides[p]).collect(),
            offset: self.offset,
        }
    }

    /// A view repeating size-1 axes (and new leading axes) to `shape`, without copying.
    ///
    /// # Panics
    /// If an axis of size other than 1 would have to change size.
    #[track_caller]
    pub fn expand(&self, shape: &[usize]) -> Array<T> {
        if shape.len() < self.ndim() {
            shape_panic(format!("expand: cannot expand {:?} to fewer axes {shape:?}", self.shape));
        }
        let lead = shape.len() - self.ndim();
        let mut strides = Strides::from_elem(0, shape.len());
        for (i, &size) in self.shape.iter().enumerate() {
            if size == shape[lead + i] {
                strides[lead + i] = self.strides[i];
            } else if size != 1 {
                shape_panic(format!(
                    "expand: cannot expand {:?} to {shape:?}: axis {} has size {size}, not 1",
                    self.shape, i
                ));
            }
        }
        Array { data: self.data.clone(), shape: shape.into(), strides, offset: self.offset }
    }

    /// A view of `len` elements along `axis`, starting at `start`.
    ///
    /// # Panics
    /// If the range does not fit in the axis.
    #[track_caller]
    pub fn narrow(&self, axis: usize, start: usize, len: usize) -> Array<T> {
        if axis >= self.ndim() || start + len > self.shape[axis] {
            shape_panic(format!(
                "narrow: range {start}..{} on axis {axis} does not fit shape {:?}",
                start + len,
                self.shape
            ));
        }
        let mut view = self.clone();
        view.shape[axis] = len;
        if len > 0 {
            view.offset += start * self.strides[axis];
        }
        view
    }

    /// Writes the elements into `out` in logical order.
    pub(crate) fn copy_into(&self, out: &mut [T]) {
        match self.as_slice() {
            Some(s) => out.copy_from_slice(s),
            None => {
                let copied = self.contiguous();
                out.copy_from_slice(copied.as_slice().expect("contiguous"));
            }
        }
    }

    /// The storage, offset and strides, for kernels that walk them directly.
    pub(crate) fn raw(&self) -> (&[T], usize, &[usize]) {
        (&self.data, self.offset, &self.strides)
    }

    /// Mutable access to the elements, copying first unless this array is the only user of
    /// a contiguous, whole buffer: the copy-on-write behind an optimizer's in-place step.
    pub(crate) fn make_mut(&mut self) -> &mut [T] {
        let whole = self.offset == 0 && self.data.len() == self.numel() && self.is_contiguous();
        if !whole || Arc::get_mut(&mut self.data).is_none() {
            *self = Array::build_overwriting(&self.shape.clone(), |out| self.copy_into(out));
        }
        self.strides = contiguous_strides(&self.shape);
        Arc::get_mut(&mut self.data).expect("unique after copy")
    }

    /// Whether two arrays share storage (a test aid for "views do not copy").
    pub fn shares_storage(&self, other: &Array<T>) -> bool {
        Arc::ptr_eq(&self.data, &other.data)
    }
}

impl<T: Element> Clone for Array<T> {
    fn clone(&self) -> Self {
        Array { data: self.data.clone(), shape: self.shape.clone(), strides: self.strides.clone(), offset: self.offset }
    }
}

impl<T: Element> Drop for Array<T> {
    fn drop(&mut self) {
        // SAFETY: `data` is not used again.
        crate::recycle::drop_arc(unsafe { ManuallyDrop::take(&mut self.data) });
    }
}

impl<T: Element> fmt::Debug for Array<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Array(shape={:?}, ", self.shape)?;
        let values = self.to_vec();
        let shown = values.len().min(8);
        write!(f, "{:?}", &values[..shown])?;
        if values.len() > shown {
            write!(f, " … {} more", values.len() - shown)?;
        }
        write!(f, ")")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arange(shape: &[usize]) -> Array<f64> {
        Array::from_vec((0..numel(shape)).map(|i| i as f64).collect(), shape).unwrap()
    }

    #[test]
    fn views_share_storage() {
        let a = arange(&[2, 3]);
        let t = a.permute(&[1, 0]);
        assert!(t.shares_storage(&a));
        assert!(!t.is_contiguous());
        assert_eq!(t.get(&[2, 1]), 5.0);
        let e = arange(&[3]).expand(&[2, 3]);
        assert_eq!(e.strides(), &[0, 1]);
        assert_eq!(e.to_vec(), vec![0.0, 1.0, 2.0, 0.0, 1.0, 2.0]);
        let n = a.narrow(1, 1, 2);
        assert_eq!(n.to_vec(), vec![1.0, 2.0, 4.0, 5.0]);
        assert!(n.shares_storage(&a));
    }

    #[test]
    fn as_slice_gives_the_elements_of_contiguous_arrays_only() {
        let a = arange(&[2, 3]);
        assert_eq!(a.as_slice(), Some(&[0.0, 1.0, 2.0, 3.0, 4.0, 5.0][..]));
        assert_eq!(a.narrow(0, 1, 1).as_slice(), Some(&[3.0, 4.0, 5.0][..]), "a row is contiguous");
        assert_eq!(a.narrow(1, 1, 2).as_slice(), None, "a column block is not");
        assert_eq!(a.permute(&[1, 0]).as_slice(), None);
        // Unit axes may have any stride.
        assert_eq!(a.narrow(0, 0, 1).permute(&[1, 0]).reshape(&[3, 1]).as_slice(), Some(&[0.0, 1.0, 2.0][..]));
        // An empty array is contiguous, whatever its strides.
        let empty = arange(&[2, 3]).narrow(1, 0, 0).permute(&[1, 0]);
        assert_eq!((empty.shape(), empty.strides()), (&[0, 2][..], &[1, 3][..]));
        assert!(empty.is_contiguous());
        assert_eq!(empty.as_slice(), Some(&[][..]));
    }

    #[test]
    fn reshape_of_a_transpose_adding_unit_axes_is_a_view() {
        let t = arange(&[2, 3]).permute(&[1, 0]);
        let u = t.reshape(&[3, 1, 2]);
        assert!(u.shares_storage(&t));
        assert_eq!(u.to_vec(), t.to_vec());
        let flat = t.reshape(&[6]);
        assert!(!flat.shares_storage(&t));
        assert_eq!(flat.to_vec(), vec![0.0, 3.0, 1.0, 4.0, 2.0, 5.0]);
    }

    #[test]
    fn from_vec_checks_the_length() {
        let err = Array::<f32>::from_vec(vec![1.0; 5], &[2, 3]).unwrap_err();
        assert_eq!(err.to_string(), "from_vec: 5 values cannot fill shape [2, 3] (6 elements)");
    }

    #[test]
    fn make_mut_copies_when_shared() {
        let a = arange(&[3]);
        let mut b = a.clone();
        b.make_mut()[0] = 10.0;
        assert_eq!(a.to_vec(), vec![0.0, 1.0, 2.0]);
        assert_eq!(b.to_vec(), vec![10.0, 1.0, 2.0]);
    }
}
