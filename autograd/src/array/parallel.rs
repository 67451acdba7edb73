//! Walking strided arrays row by row, on the calling thread or on all threads.
//!
//! A kernel over K same-shaped arrays sees them as rows: the last (collapsed) axis is an
//! inner loop with one stride per array, every other axis an outer counter. Work runs on
//! all threads only above [`PARALLEL_THRESHOLD`] elements, so tiny tensors pay no
//! hand-over, and the calling thread takes a share (see [`run_tasks`]). The thread count
//! is rayon's (`RAYON_NUM_THREADS`, or the rayon pool the caller runs in). Where work is
//! cut by thread count, each output element is still computed by the same code in the
//! same order; sums are cut in pieces whose boundaries depend on the sizes alone. So the
//! bits never depend on the number of threads.

use std::ops::Range;

use smallvec::SmallVec;

pub(crate) use super::threads::run_tasks;

/// Kernels with at least this many elements run on all threads; smaller ones stay on the
/// caller.
pub const PARALLEL_THRESHOLD: usize = 1 << 15;

/// The size of the fixed pieces a long sum is cut into, whose partials add left to right
/// (so a sum's bits do not depend on the thread count); also a reduction's column pieces.
pub(crate) const CHUNK: usize = 1 << 14;

/// K arrays of one shape, reduced to the fewest axes that describe all their layouts.
pub(crate) struct Layout<const K: usize> {
    shape: SmallVec<[usize; 4]>,
    strides: [SmallVec<[usize; 4]>; K],
    offsets: [usize; K],
}

impl<const K: usize> Layout<K> {
    /// The layout of K arrays of `shape`, each given by its strides and offset.
    pub(crate) fn new(shape: &[usize], arrays: [(&[usize], usize); K]) -> Self {
        let mut dims: SmallVec<[usize; 4]> = SmallVec::new();
        let mut strides: [SmallVec<[usize; 4]>; K] = std::array::from_fn(|_| SmallVec::new());
        for (axis, &size) in shape.iter().enumerate() {
            if size == 1 {
                continue;
            }
            // Merge into the previous axis when every array steps over both as one.
            let mergeable = dims.last().is_some()
                && size != 0
                && (0..K).all(|k| *strides[k].last().unwrap() == arrays[k].0[axis] * size);
            if mergeable {
                *dims.last_mut().unwrap() *= size;
                for k in 0..K {
                    *strides[k].last_mut().unwrap() = arrays[k].0[axis];
                }
            } else {
                dims.push(size);
                for k in 0..K {
                    strides[k].push(arrays[k].0[axis]);
                }
            }
        }
        if dims.is_empty() {
            dims.push(1);
            for s in &mut strides {
                s.push(0);
            }
        }
        Layout { shape: dims, strides, offsets: arrays.map(|a| a.1) }
    }

    /// The length of a row (the innermost collapsed axis).
    pub(crate) fn inner(&self) -> usize {
        *self.shape.last().unwrap()
    }

    /// Each array's step along a row.
    pub(crate) fn inner_strides(&self) -> [usize; K] {
        std::array::from_fn(|k| *self.strides[k].last().unwrap())
    }

    /// The number of rows.
    pub(crate) fn rows(&self) -> usize {
        self.shape[..self.shape.len() - 1].iter().product::<usize>() * usize::from(self.inner() > 0)
    }

    /// Calls `f(row, starts)` for each row in `range`, `starts` being each array's offset of
    /// the row's first element.
    pub(crate) fn for_rows(&self, range: Range<usize>, mut f: impl FnMut(usize, [usize; K])) {
        let outer = &self.shape[..self.shape.len() - 1];
        let mut index: SmallVec<[usize; 4]> = SmallVec::from_elem(0, outer.len());
        let mut rest = range.start;
        for d in (0..outer.len()).rev() {
            index[d] = rest % outer[d];
            rest /= outer[d];
        }
        let mut starts: [usize; K] = std::array::from_fn(|k| {
            self.offsets[k] + index.iter().zip(&self.strides[k]).map(|(i, s)| i * s).sum::<usize>()
        });
        for row in range {
            f(row, starts);
            for d in (0..outer.len()).rev() {
                index[d] += 1;
                for (start, strides) in starts.iter_mut().zip(&self.strides) {
                    *start += strides[d];
                }
                if index[d] < outer[d] {
                    break;
                }
                index[d] = 0;
                for (start, strides) in starts.iter_mut().zip(&self.strides) {
                    *start -= strides[d] * outer[d];
                }
            }
        }
    }

    /// Fills the contiguous `out` (one row of `inner()` elements per row of the layout) by
    /// `f(out_piece, starts)`, on all threads when large. `f` sees a whole row or a piece of
    /// one (`starts` are then the piece's own), so it must treat elements independently:
    /// a few long rows, like a flat array's one, are cut in pieces for the threads to share.
    pub(crate) fn fill_rows<T: Send>(&self, out: &mut [T], f: impl Fn(&mut [T], [usize; K]) + Sync) {
        let (inner, rows) = (self.inner(), self.rows());
        if inner == 0 || out.is_empty() {
            return;
        }
        let parallel = out.len() >= PARALLEL_THRESHOLD;
        // Enough pieces for every thread to get about as much (four per thread), none
        // smaller than a cut is worth.
        let parts = if parallel {
            (4 * rayon_core::current_num_threads()).div_ceil(rows).clamp(1, inner.div_ceil(MIN_PIECE))
        } else {
            1
        };
        let steps = self.inner_strides();
        let shared = SharedMut(out.as_mut_ptr());
        for_ranges(rows * parts, parallel, |pieces| {
            if pieces.is_empty() {
                return;
            }
            let (first, last) = (pieces.start, pieces.end - 1);
            self.for_rows(first / parts..last / parts + 1, |row, starts| {
                let from = if row == first / parts { first % parts } else { 0 };
                let to = if row == last / parts { last % parts + 1 } else { parts };
                let (c0, c1) = (from * inner / parts, to * inner / parts);
                // SAFETY: each piece of each row is written by the one task whose range holds it.
                let out = unsafe { std::slice::from_raw_parts_mut(shared.at(row * inner + c0), c1 - c0) };
                f(out, std::array::from_fn(|k| starts[k] + c0 * steps[k]))
            });
        });
    }
}

/// The smallest piece a row is cut into for the threads to share.
const MIN_PIECE: usize = 1 << 12;

/// Runs `f(i)` for every `i` in `0..n`, on all threads when `work` (elements touched) is
/// large. Each `i` must write its own output, so the result is the same on any thread count.
pub(crate) fn for_each_index(n: usize, work: usize, f: impl Fn(usize) + Sync + Send) {
    for_ranges(n, work >= PARALLEL_THRESHOLD, |range| range.for_each(&f));
}

/// Cuts `0..n` into one contiguous range per thread (if `parallel`; else one range) and
/// runs `f` on each by [`run_tasks`]. Whatever `f` computes per index must not depend on
/// where the ranges are cut (the cuts follow the thread count).
pub(crate) fn for_ranges(n: usize, parallel: bool, f: impl Fn(Range<usize>) + Sync) {
    let threads = if parallel { rayon_core::current_num_threads().min(n) } else { 1 };
    if threads <= 1 {
        return f(0..n);
    }
    run_tasks(threads, &|t| f(t * n / threads..(t + 1) * n / threads));
}

/// Runs `f(range, pieces)` over `0..len` cut into one contiguous range per thread (once,
/// on the calling thread, below [`PARALLEL_THRESHOLD`] elements), with each of `slices`
/// cut the same way: an elementwise update, such as an optimizer's step, on all threads.
/// An empty slice stays empty in every piece (a buffer not in use). `f` reads other,
/// shared slices at `range`. As long as each element's update depends on its own index
/// alone, the result does not depend on the cuts, hence not on the number of threads.
///
/// ```
/// use tapegrad_autograd::array::for_each_piece;
///
/// // w ← w − 0.1·g, and a running sum of squares, in pieces
/// let (mut w, mut sum, g) = (vec![1.0f32; 100_000], vec![0.0f32; 100_000], vec![2.0f32; 100_000]);
/// for_each_piece(w.len(), [&mut w[..], &mut sum[..]], |range, [w, sum]| {
///     for ((w, sum), g) in w.iter_mut().zip(sum.iter_mut()).zip(&g[range]) {
///         *w -= 0.1 * g;
///         *sum += g * g;
///     }
/// });
/// assert!(w.iter().all(|&w| w == 0.8) && sum.iter().all(|&s| s == 4.0));
/// ```
///
/// # Panics
/// If a slice is neither empty nor `len` long (naming both lengths).
#[track_caller]
pub fn for_each_piece<T: Send, const N: usize>(
    len: usize,
    slices: [&mut [T]; N],
    f: impl Fn(Range<usize>, [&mut [T]; N]) + Sync,
) {
    for (i, slice) in slices.iter().enumerate() {
        if !slice.is_empty() && slice.len() != len {
            crate::shape::shape_panic(format!(
                "for_each_piece: slice {i} has {} elements, expected {len} (or none)",
                slice.len()
            ));
        }
    }
    if len < PARALLEL_THRESHOLD {
        return f(0..len, slices); // one piece: no pointers to share
    }
    let starts = slices.map(|s| (!s.is_empty()).then_some(SharedMut(s.as_mut_ptr())));
    for_ranges(len, true, |range| {
        let pieces = starts.map(|start| match start {
            // SAFETY: each range is handed to one task, and the slice (borrowed mutably for
            // this call) holds `len` elements.
            Some(start) => unsafe { std::slice::from_raw_parts_mut(start.at(range.start), range.len()) },
            None => <&mut [T]>::default(),
        });
        f(range, pieces)
    });
}

/// A pointer into an output buffer that parallel workers share because each writes its own,
/// disjoint elements (the caller's promise, stated at each use).
pub(crate) struct SharedMut<T>(pub(crate) *mut T);

// Copy for any T (a derive would ask T: Copy): it is only a pointer.
impl<T> Clone for SharedMut<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for SharedMut<T> {}

impl<T> SharedMut<T> {
    /// The pointer `i` elements on. (A method, so closures capture the whole `SharedMut`.)
    pub(crate) fn at(self, i: usize) -> *mut T {
        self.0.wrapping_add(i)
    }
}
// SAFETY: a `SharedMut` is only written through at elements no other worker touches.
unsafe impl<T> Sync for SharedMut<T> {}
// SAFETY: as above.
unsafe impl<T> Send for SharedMut<T> {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contiguous_axes_collapse_into_one_row() {
        let layout = Layout::new(&[2, 3, 4], [(&[12, 4, 1], 0)]);
        assert_eq!(layout.inner(), 24);
        assert_eq!(layout.rows(), 1);
    }

    #[test]
    fn long_rows_are_cut_into_pieces_that_cover_each_element_once() {
        // A flat array (one row), three rows, and a strided view (step 2 from offset 7).
        for (shape, strides, offset) in
            [(vec![100_003], vec![1], 0), (vec![3, 40_000], vec![40_000, 1], 0), (vec![70_001], vec![2], 7)]
        {
            let layout = Layout::new(&shape, [(&strides, offset)]);
            let step = layout.inner_strides()[0];
            for threads in [1, 2, 3, 5] {
                let pool = rayon_core::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
                let mut out = vec![usize::MAX; shape.iter().product()];
                pool.install(|| {
                    layout.fill_rows(&mut out, |piece, [start]| {
                        piece.iter_mut().enumerate().for_each(|(j, o)| *o = start + j * step);
                    })
                });
                let expected: Vec<usize> = match shape.len() {
                    1 => (0..shape[0]).map(|i| offset + i * strides[0]).collect(),
                    _ => (0..out.len()).collect(),
                };
                assert!(out == expected, "{shape:?} on {threads} threads");
            }
        }
    }

    #[test]
    fn broadcast_rows_restart_at_the_same_offset() {
        // a [2, 3] array and a [3] row broadcast over it
        let layout = Layout::new(&[2, 3], [(&[3, 1], 0), (&[0, 1], 5)]);
        let mut seen = vec![];
        layout.for_rows(0..layout.rows(), |row, s| seen.push((row, s)));
        assert_eq!(seen, vec![(0, [0, 5]), (1, [3, 5])]);
    }

    #[test]
    fn pieces_cover_each_element_once_at_its_own_index() {
        let len = PARALLEL_THRESHOLD * 3 + 7;
        for threads in [1, 2, 3] {
            let pool = rayon_core::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            let (mut a, mut b, mut unused) = (vec![0usize; len], vec![1usize; len], Vec::<usize>::new());
            let calls = std::sync::atomic::AtomicUsize::new(0);
            pool.install(|| {
                for_each_piece(len, [&mut a[..], &mut b[..], &mut unused[..]], |range, [a, b, unused]| {
                    calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    assert!(unused.is_empty() && a.len() == range.len() && b.len() == range.len());
                    for (i, (a, b)) in range.zip(a.iter_mut().zip(b.iter_mut())) {
                        *a += i;
                        *b += i;
                    }
                })
            });
            assert!(a.iter().enumerate().all(|(i, &a)| a == i), "{threads} threads");
            assert!(b.iter().enumerate().all(|(i, &b)| b == i + 1), "{threads} threads");
            assert_eq!(calls.into_inner(), threads, "one piece per thread");
        }
        // Short slices stay on the calling thread, in one piece.
        let (mut short, calls) = (vec![0u8; 10], std::sync::atomic::AtomicUsize::new(0));
        for_each_piece(10, [&mut short[..]], |_, _| {
            calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        });
        assert_eq!(calls.into_inner(), 1);
    }

    #[test]
    fn a_slice_of_another_length_is_named() {
        let (mut a, mut b) = (vec![0.0f32; 4], vec![0.0f32; 3]);
        // The caller's line (the call below), not this module's check.
        let line = line!() + 2;
        let err = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            for_each_piece(4, [&mut a[..], &mut b[..]], |_, _| {})
        }))
        .unwrap_err();
        let message = err.downcast_ref::<String>().unwrap();
        assert_eq!(
            message,
            &format!("for_each_piece: slice 1 has 3 elements, expected 4 (or none) (at {}:{line})", file!())
        );
    }
}
