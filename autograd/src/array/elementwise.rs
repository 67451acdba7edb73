//! Elementwise kernels: one, two or three same-shaped arrays in, a new contiguous array out.

use super::Array;
use super::parallel::{Layout, PARALLEL_THRESHOLD};
use crate::element::Element;
use crate::shape::shape_panic;

/// Elements per block of a fused elementwise pass: small enough to stay in L1.
pub(crate) const BLOCK: usize = 2048;
/// Outputs with at least this many elements are written with streaming stores.
const STREAM_MIN: usize = 1 << 21;

impl<T: Element> Array<T> {
    /// `f` applied to every element, into a new contiguous array.
    ///
    /// ```
    /// use tapegrad_autograd::Array;
    /// let a = Array::from_vec(vec![1.0f32, 4.0, 9.0], &[3]).unwrap();
    /// assert_eq!(a.map(|x| x.sqrt()).to_vec(), vec![1.0, 2.0, 3.0]);
    /// ```
    pub fn map(&self, f: impl Fn(T) -> T + Sync + Send) -> Array<T> {
        if let Some(source) = self.as_slice()
            && source.len() < PARALLEL_THRESHOLD
        {
            // Contiguous and small: a plain loop, no layout (as in `zip_map`).
            return Array::build_overwriting(self.shape(), |out| {
                for (o, &x) in out.iter_mut().zip(source) {
                    *o = f(x);
                }
            });
        }
        let layout = Layout::new(self.shape(), [(self.strides(), self.offset)]);
        let [step] = layout.inner_strides();
        Array::build_overwriting(self.shape(), |out| {
            layout.fill_rows(out, |row, [start]| {
                let n = row.len();
                if step == 1 {
                    for (o, &x) in row.iter_mut().zip(&self.data[start..start + n]) {
                        *o = f(x);
                    }
                } else {
                    for (j, o) in row.iter_mut().enumerate() {
                        *o = f(self.data[start + j * step]);
                    }
                }
            })
        })
    }

    /// A copy of the elements into a new contiguous array, with `f` applied in place to
    /// each block of at most [`BLOCK`] elements while it is in cache: elementwise functions
    /// (and chains of them) in a single pass over memory.
    pub(crate) fn map_blocks(&self, f: impl Fn(&mut [T]) + Sync + Send) -> Array<T> {
        if let Some(source) = self.as_slice()
            && source.len() <= BLOCK
        {
            // Small and contiguous (the usual case for tiny tensors): one block, no layout.
            return Array::build_from_copy(self.shape(), source, f);
        }
        let layout = Layout::new(self.shape(), [(self.strides(), self.offset)]);
        let [step] = layout.inner_strides();
        let read = |block: &mut [T], first: usize| {
            if step == 1 {
                block.copy_from_slice(&self.data[first..first + block.len()]);
            } else {
                for (j, o) in block.iter_mut().enumerate() {
                    *o = self.data[first + j * step];
                }
            }
        };
        // Outputs larger than the caches are written with streaming stores from a scratch
        // block, which skips reading each output line before writing it (a third of the
        // memory traffic of a one-pass map).
        let stream = self.numel() >= STREAM_MIN;
        Array::build_overwriting(self.shape(), |out| {
            layout.fill_rows(out, |row, [start]| {
                let mut scratch = if stream { Some([T::zero(); BLOCK]) } else { None };
                for (k, block) in row.chunks_mut(BLOCK).enumerate() {
                    let first = start + k * BLOCK * step;
                    match &mut scratch {
                        Some(scratch) => {
                            let scratch = &mut scratch[..block.len()];
                            read(scratch, first);
                            f(scratch);
                            T::stream_copy(block, scratch);
                        }
                        None => {
                            read(block, first);
                            f(block);
                        }
                    }
                }
            })
        })
    }

    /// `f` applied to pairs of elements of two arrays of the same shape.
    ///
    /// # Panics
    /// If the shapes differ (broadcast first with [`Array::expand`]).
    #[track_caller]
    pub fn zip_map(&self, other: &Array<T>, f: impl Fn(T, T) -> T + Sync + Send) -> Array<T> {
        if self.shape() != other.shape() {
            shape_panic(format!("zip_map: shapes {:?} and {:?} differ", self.shape(), other.shape()));
        }
        if let (Some(a), Some(b)) = (self.as_slice(), other.as_slice())
            && a.len() < PARALLEL_THRESHOLD
        {
            // Both contiguous and small: a plain loop, no layout.
            return Array::build_overwriting(self.shape(), |out| {
                for ((o, &x), &y) in out.iter_mut().zip(a).zip(b) {
                    *o = f(x, y);
                }
            });
        }
        let layout = Layout::new(self.shape(), [(self.strides(), self.offset), (other.strides(), other.offset)]);
        let [sa, sb] = layout.inner_strides();
        let (a, b) = (&self.data, &other.data);
        Array::build_overwriting(self.shape(), |out| {
            layout.fill_rows(out, |row, [ia, ib]| {
                let n = row.len();
                match (sa, sb) {
                    (1, 1) => {
                        for ((o, &x), &y) in row.iter_mut().zip(&a[ia..ia + n]).zip(&b[ib..ib + n]) {
                            *o = f(x, y);
                        }
                    }
                    (1, 0) => {
                        let y = b[ib];
                        for (o, &x) in row.iter_mut().zip(&a[ia..ia + n]) {
                            *o = f(x, y);
                        }
                    }
                    (0, 1) => {
                        let x = a[ia];
                        for (o, &y) in row.iter_mut().zip(&b[ib..ib + n]) {
                            *o = f(x, y);
                        }
                    }
                    _ => {
                        for (j, o) in row.iter_mut().enumerate() {
                            *o = f(a[ia + j * sa], b[ib + j * sb]);
                        }
                    }
                }
            })
        })
    }

    /// `f` applied to triples of elements of three arrays of the same shape.
    ///
    /// # Panics
    /// If the shapes differ.
    #[track_caller]
    pub fn zip3_map(&self, b: &Array<T>, c: &Array<T>, f: impl Fn(T, T, T) -> T + Sync + Send) -> Array<T> {
        if self.shape() != b.shape() || self.shape() != c.shape() {
            shape_panic(format!("zip3_map: shapes {:?}, {:?} and {:?} differ", self.shape(), b.shape(), c.shape()));
        }
        let layout = Layout::new(
            self.shape(),
            [(self.strides(), self.offset), (b.strides(), b.offset), (c.strides(), c.offset)],
        );
        let [s0, s1, s2] = layout.inner_strides();
        Array::build_overwriting(self.shape(), |out| {
            layout.fill_rows(out, |row, [i0, i1, i2]| {
                for (j, o) in row.iter_mut().enumerate() {
                    *o = f(self.data[i0 + j * s0], b.data[i1 + j * s1], c.data[i2 + j * s2]);
                }
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arange(n: usize, shape: &[usize]) -> Array<f64> {
        Array::from_vec((0..n).map(|i| i as f64).collect(), shape).unwrap()
    }

    #[test]
    fn zip_map_follows_broadcast_and_transposed_layouts() {
        let a = arange(6, &[2, 3]);
        let row = arange(3, &[3]).expand(&[2, 3]);
        assert_eq!(a.zip_map(&row, |x, y| x + y).to_vec(), vec![0.0, 2.0, 4.0, 3.0, 5.0, 7.0]);
        let t = arange(6, &[3, 2]).permute(&[1, 0]);
        assert_eq!(a.zip_map(&t, |x, y| 10.0 * x + y).to_vec(), vec![0.0, 12.0, 24.0, 31.0, 43.0, 55.0]);
        let col = arange(2, &[2, 1]).expand(&[2, 3]);
        assert_eq!(col.zip_map(&a, |x, y| x * 100.0 + y).to_vec(), vec![0.0, 1.0, 2.0, 103.0, 104.0, 105.0]);
    }

    #[test]
    fn large_maps_run_in_pieces_and_agree_with_small_ones() {
        let n = 7 * 15_000; // above PARALLEL_THRESHOLD
        let a = arange(n, &[n / 7, 7]).permute(&[1, 0]);
        let doubled = a.map(|x| 2.0 * x);
        let expected: Vec<f64> = a.to_vec().iter().map(|x| 2.0 * x).collect();
        assert_eq!(doubled.to_vec(), expected);
    }

    #[test]
    fn streamed_outputs_equal_cached_ones_at_any_alignment() {
        let n = super::STREAM_MIN + 37;
        let big = Array::from_vec((0..n + 3).map(|i| (i % 1000) as f64 * 0.5).collect(), &[n + 3]).unwrap();
        for start in 0..3 {
            let view = big.narrow(0, start, n); // source offsets of 0, 1, 2 elements
            let streamed = view.map_blocks(|b| b.iter_mut().for_each(|v| *v = *v * 3.0 + 1.0));
            let expected: Vec<f64> = view.to_vec().iter().map(|v| v * 3.0 + 1.0).collect();
            assert_eq!(streamed.to_vec(), expected);
        }
    }

    #[test]
    fn zero_sized_arrays_map_to_zero_sized_arrays() {
        let a = Array::<f32>::from_vec(vec![], &[0, 3]).unwrap();
        assert_eq!(a.map(|x| x + 1.0).shape(), &[0, 3]);
    }
}
