//! Array storage, and a per-thread cache of large buffers.
//!
//! A training step makes and frees the same arrays every time (activations, gradients).
//! Fresh memory for large ones comes from the operating system zeroed, page by page, on
//! first touch: those page faults cost more than the arithmetic (a fifth of an MLP epoch
//! before this cache); and fresh memory for smaller ones is zeroed by the allocator, though
//! most kernels overwrite every element (a tenth of an MLP epoch's instructions). So a freed
//! buffer of at least [`CACHE_MIN`] elements goes to its thread's cache, and the next
//! request for that exact size takes it back, zeroed only if asked. The cache holds at most
//! [`CACHE_BYTES`] per thread; [`release_cached_memory`] empties it. Arrays of at most
//! [`INLINE`] elements hold them inline instead, beside the reference count.

use std::collections::HashMap;
use std::ops::{Deref, DerefMut};

use smallvec::SmallVec;

use crate::element::Element;

/// Buffers smaller than this many elements come from the allocator directly.
pub const CACHE_MIN: usize = 1 << 8;
/// The most a thread's cache keeps, in bytes.
pub const CACHE_BYTES: usize = 256 << 20;
/// The most buffers of one size a cache keeps.
const PER_SIZE: usize = 16;

/// Freed buffers of one element type, by length.
#[derive(Default)]
pub struct BufferCache<T> {
    buffers: HashMap<usize, Vec<Vec<T>>>,
    bytes: usize,
}

impl<T: Element> BufferCache<T> {
    fn take(&mut self, len: usize) -> Option<Vec<T>> {
        let buffer = self.buffers.get_mut(&len)?.pop()?;
        self.bytes -= len * size_of::<T>();
        Some(buffer)
    }

    fn keep(&mut self, buffer: Vec<T>) {
        let (len, bytes) = (buffer.len(), buffer.len() * size_of::<T>());
        let same_size = self.buffers.entry(len).or_default();
        if same_size.len() < PER_SIZE && self.bytes + bytes <= CACHE_BYTES {
            same_size.push(buffer);
            self.bytes += bytes;
        }
    }

    fn clear(&mut self) {
        self.buffers.clear();
        self.bytes = 0;
    }
}

/// Arrays of at most this many elements keep them inline, in the same allocation as the
/// reference count: a small tensor costs one allocation, not two.
pub const INLINE: usize = 16;

/// The elements of an array: inline when small, else a buffer that returns to its thread's
/// cache when the last array using it is dropped.
pub(crate) struct Storage<T: Element> {
    data: SmallVec<[T; INLINE]>,
}

impl<T: Element> Storage<T> {
    /// Storage owning `data` (no copy, unless small enough to go inline).
    pub(crate) fn from_vec(data: Vec<T>) -> Self {
        Storage { data: SmallVec::from_vec(data) }
    }

    /// `len` zeros.
    pub(crate) fn zeros(len: usize) -> Self {
        match Self::cached(len) {
            Some(mut data) => {
                data.fill(T::zero());
                Storage { data: SmallVec::from_vec(data) }
            }
            // Large zeroed allocations come as untouched pages from the OS: no pass here.
            None => Self::fresh(len),
        }
    }

    /// `len` elements with unspecified (but initialised) values, for a caller that writes
    /// every one of them.
    pub(crate) fn for_overwrite(len: usize) -> Self {
        match Self::cached(len) {
            Some(data) => Storage { data: SmallVec::from_vec(data) },
            None => Self::fresh(len),
        }
    }

    /// A copy of `source`.
    pub(crate) fn copy_of(source: &[T]) -> Self {
        match Self::cached(source.len()) {
            Some(mut data) => {
                data.copy_from_slice(source);
                Storage { data: SmallVec::from_vec(data) }
            }
            None => Storage { data: SmallVec::from_slice(source) },
        }
    }

    /// `len` zeros from the allocator (or inline).
    fn fresh(len: usize) -> Self {
        if len <= INLINE {
            return Storage { data: SmallVec::from_elem(T::zero(), len) };
        }
        Storage { data: SmallVec::from_vec(vec![T::zero(); len]) }
    }

    fn cached(len: usize) -> Option<Vec<T>> {
        if len < CACHE_MIN {
            return None;
        }
        T::with_buffer_cache(|cache| cache.take(len)).flatten()
    }
}

impl<T: Element> Drop for Storage<T> {
    fn drop(&mut self) {
        if self.data.len() >= CACHE_MIN {
            let buffer = std::mem::take(&mut self.data).into_vec();
            T::with_buffer_cache(move |cache| cache.keep(buffer));
        }
    }
}

impl<T: Element> Deref for Storage<T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        &self.data
    }
}

impl<T: Element> DerefMut for Storage<T> {
    fn deref_mut(&mut self) -> &mut [T] {
        &mut self.data
    }
}

/// Frees the buffers this thread keeps for reuse, and the emptied allocations of dropped
/// tensors and arrays (as `torch.cuda.empty_cache` does for its GPU memory): for a
/// long-lived program that has finished with large arrays.
///
/// ```
/// use tapegrad_autograd::{Array, release_cached_memory};
/// drop(Array::<f32>::full(&[1 << 20], 1.0)); // 4 MB, kept for reuse
/// release_cached_memory();                    // returned to the allocator
/// ```
pub fn release_cached_memory() {
    f32::with_buffer_cache(BufferCache::clear);
    f64::with_buffer_cache(BufferCache::clear);
    crate::recycle::release();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_buffers_are_reused_and_zeroed_on_request() {
        let len = CACHE_MIN * 2;
        let mut first = Storage::<f32>::zeros(len);
        first[5] = 7.0;
        let address = first.as_ptr() as usize;
        drop(first);
        let again = Storage::<f32>::for_overwrite(len);
        assert_eq!(again.as_ptr() as usize, address, "the freed buffer is reused");
        drop(again);
        let zeroed = Storage::<f32>::zeros(len);
        assert!(zeroed.iter().all(|&v| v == 0.0));
        release_cached_memory();
    }

    #[test]
    fn small_buffers_bypass_the_cache() {
        let s = Storage::<f64>::zeros(10);
        assert_eq!(s.len(), 10);
        drop(s);
        assert!(f64::with_buffer_cache(|c| !c.buffers.contains_key(&10)).unwrap());
    }
}
