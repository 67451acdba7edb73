//! Reductions over axes: sum, max, min, argmax, argmin.
//!
//! Each run of adjacent reduced axes is seen as `[outer, reduced, inner]` over contiguous
//! data. Sums add in a fixed order (eight lanes within a piece of [`CHUNK`] elements, pieces
//! left to right), whether or not other threads run the pieces, so a sum has the same bits on
//! every thread count.

use super::Array;
use super::parallel::{CHUNK, PARALLEL_THRESHOLD, SharedMut, for_each_index, for_ranges};
use crate::element::Element;
use crate::shape::{numel, reduced_shape};

#[derive(Clone, Copy)]
enum Reduction {
    Sum,
    Max,
    Min,
}

impl<T: Element> Array<T> {
    /// The sum over `axes` (sorted, distinct, in range), keeping them as size 1 if `keepdim`.
    pub fn sum_axes(&self, axes: &[usize], keepdim: bool) -> Array<T> {
        self.reduce(axes, keepdim, Reduction::Sum)
    }

    /// The maximum over `axes`; NaN wins, as in PyTorch. Reducing an empty axis gives -inf.
    pub fn max_axes(&self, axes: &[usize], keepdim: bool) -> Array<T> {
        self.reduce(axes, keepdim, Reduction::Max)
    }

    /// The minimum over `axes`; NaN wins. Reducing an empty axis gives +inf.
    pub fn min_axes(&self, axes: &[usize], keepdim: bool) -> Array<T> {
        self.reduce(axes, keepdim, Reduction::Min)
    }

    /// The index of the largest element along `axis` (the first on ties), for each position
    /// of the other axes, in row-major order of the reduced shape.
    pub fn argmax_axis(&self, axis: usize) -> Vec<usize> {
        self.arg_reduce(axis, |candidate, best| candidate > best || (candidate.is_nan() && !best.is_nan()))
    }

    /// The index of the smallest element along `axis` (the first on ties).
    pub fn argmin_axis(&self, axis: usize) -> Vec<usize> {
        self.arg_reduce(axis, |candidate, best| candidate < best || (candidate.is_nan() && !best.is_nan()))
    }

    fn reduce(&self, axes: &[usize], keepdim: bool, how: Reduction) -> Array<T> {
        let mut current = self.contiguous();
        let mut shape: Vec<usize> = self.shape().to_vec();
        // Runs of adjacent axes, reduced from the last run to the first so earlier axis
        // numbers stay valid.
        let mut runs: Vec<(usize, usize)> = Vec::new();
        for &axis in axes {
            match runs.last_mut() {
                Some((_, end)) if *end == axis => *end += 1,
                _ => runs.push((axis, axis + 1)),
            }
        }
        for &(start, end) in runs.iter().rev() {
            let outer = numel(&shape[..start]);
            let reduced = numel(&shape[start..end]);
            let inner = numel(&shape[end..]);
            shape.drain(start..end);
            let data = current.as_slice().expect("contiguous");
            current = Array::build_overwriting(&shape, |out| reduce_run(data, out, outer, reduced, inner, how));
        }
        current.reshape(&reduced_shape(self.shape(), axes, keepdim))
    }

    fn arg_reduce(&self, axis: usize, better: impl Fn(T, T) -> bool) -> Vec<usize> {
        let data = self.contiguous();
        let data = data.as_slice().expect("contiguous");
        let outer = numel(&self.shape()[..axis]);
        let reduced = self.shape()[axis];
        let inner = numel(&self.shape()[axis + 1..]);
        let mut out = vec![0usize; outer * inner];
        for o in 0..outer {
            for i in 0..inner {
                let at = |r: usize| data[(o * reduced + r) * inner + i];
                let mut best = 0;
                for r in 1..reduced {
                    if better(at(r), at(best)) {
                        best = r;
                    }
                }
                out[o * inner + i] = best;
            }
        }
        out
    }
}

/// Reduces `data` seen as `[outer, reduced, inner]` into `out` seen as `[outer, inner]`.
fn reduce_run<T: Element>(data: &[T], out: &mut [T], outer: usize, reduced: usize, inner: usize, how: Reduction) {
    let work = outer * reduced * inner;
    if out.is_empty() {
        return;
    }
    if inner == 1 {
        let rows = SharedMut(out.as_mut_ptr());
        for_each_index(outer, work, |o| {
            let value = reduce_slice(&data[o * reduced..(o + 1) * reduced], how, outer == 1);
            // SAFETY: each index `o` writes only its own element of `out`.
            unsafe { *rows.at(o) = value };
        });
        return;
    }
    // Accumulate whole rows: out[o, :] ⊕= data[o, r, :] for r in order. Pieces split the
    // output into column ranges; each element's order of accumulation is unchanged.
    let piece = if work >= PARALLEL_THRESHOLD { CHUNK.div_ceil(reduced.max(1)).max(64) } else { usize::MAX };
    let accumulate = |o: usize, cols: std::ops::Range<usize>, acc: &mut [T]| {
        let first = (o * reduced) * inner;
        match how {
            Reduction::Sum => acc.fill(T::zero()),
            Reduction::Max => acc.fill(T::neg_infinity()),
            Reduction::Min => acc.fill(T::infinity()),
        }
        for r in 0..reduced {
            let row = &data[first + r * inner + cols.start..first + r * inner + cols.end];
            match how {
                Reduction::Sum => acc.iter_mut().zip(row).for_each(|(a, &x)| *a = *a + x),
                Reduction::Max => acc.iter_mut().zip(row).for_each(|(a, &x)| *a = max_nan(*a, x)),
                Reduction::Min => acc.iter_mut().zip(row).for_each(|(a, &x)| *a = min_nan(*a, x)),
            }
        }
    };
    if piece == usize::MAX {
        for (o, acc) in out.chunks_mut(inner).enumerate() {
            accumulate(o, 0..inner, acc);
        }
    } else {
        // Pieces (row, column range) in row-major order, cut among the threads.
        let per_row = inner.div_ceil(piece);
        let shared = SharedMut(out.as_mut_ptr());
        for_ranges(outer * per_row, true, |pieces| {
            for at in pieces {
                let (o, start) = (at / per_row, at % per_row * piece);
                let len = piece.min(inner - start);
                // SAFETY: each piece of the output is written by the one task holding it.
                let acc = unsafe { std::slice::from_raw_parts_mut(shared.at(o * inner + start), len) };
                accumulate(o, start..start + len, acc);
            }
        });
    }
}

/// Reduces a slice, in pieces of [`CHUNK`] (on all threads if `parallel` and large).
fn reduce_slice<T: Element>(s: &[T], how: Reduction, parallel: bool) -> T {
    let piece = |c: &[T]| match how {
        Reduction::Sum => lane_sum(c),
        Reduction::Max => c.iter().fold(T::neg_infinity(), |a, &x| max_nan(a, x)),
        Reduction::Min => c.iter().fold(T::infinity(), |a, &x| min_nan(a, x)),
    };
    let combine = |a: T, b: T| match how {
        Reduction::Sum => a + b,
        Reduction::Max => max_nan(a, b),
        Reduction::Min => min_nan(a, b),
    };
    if s.len() <= CHUNK {
        return piece(s);
    }
    let mut partials = vec![T::zero(); s.len().div_ceil(CHUNK)];
    let shared = SharedMut(partials.as_mut_ptr());
    for_ranges(partials.len(), parallel && s.len() >= PARALLEL_THRESHOLD, |pieces| {
        for i in pieces {
            let value = piece(&s[i * CHUNK..((i + 1) * CHUNK).min(s.len())]);
            // SAFETY: each partial is written by the one task holding its index.
            unsafe { *shared.at(i) = value };
        }
    });
    partials.into_iter().reduce(combine).expect("at least one piece")
}

/// A sum in eight lanes (which the compiler turns into vector adds), then the lanes in a
/// fixed tree.
fn lane_sum<T: Element>(s: &[T]) -> T {
    let mut lanes = [T::zero(); 8];
    let mut chunks = s.chunks_exact(8);
    for c in &mut chunks {
        for l in 0..8 {
            lanes[l] = lanes[l] + c[l];
        }
    }
    let mut total = ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) + ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7]));
    for &x in chunks.remainder() {
        total = total + x;
    }
    total
}

fn max_nan<T: Element>(a: T, b: T) -> T {
    if a.is_nan() || a >= b { a } else { b }
}

fn min_nan<T: Element>(a: T, b: T) -> T {
    if a.is_nan() || a <= b { a } else { b }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arange(shape: &[usize]) -> Array<f64> {
        Array::from_vec((0..numel(shape)).map(|i| i as f64).collect(), shape).unwrap()
    }

    #[test]
    fn sums_over_any_axes() {
        let a = arange(&[2, 3, 4]);
        assert_eq!(a.sum_axes(&[0, 1, 2], false).to_vec(), vec![276.0]);
        assert_eq!(a.sum_axes(&[1], false).to_vec(), vec![12.0, 15.0, 18.0, 21.0, 48.0, 51.0, 54.0, 57.0]);
        let ends = a.sum_axes(&[0, 2], true);
        assert_eq!(ends.shape(), &[1, 3, 1]);
        assert_eq!(ends.to_vec(), vec![60.0, 92.0, 124.0]);
        let t = arange(&[3, 2]).permute(&[1, 0]);
        assert_eq!(t.sum_axes(&[1], false).to_vec(), vec![6.0, 9.0]);
    }

    #[test]
    fn max_min_and_their_indices() {
        let a = Array::from_vec(vec![1.0, 5.0, 5.0, -2.0, 0.0, 3.0], &[2, 3]).unwrap();
        assert_eq!(a.max_axes(&[1], false).to_vec(), vec![5.0, 3.0]);
        assert_eq!(a.min_axes(&[0], false).to_vec(), vec![-2.0, 0.0, 3.0]);
        assert_eq!(a.argmax_axis(1), vec![1, 2]);
        assert_eq!(a.argmin_axis(0), vec![1, 1, 1]);
    }

    #[test]
    fn large_sums_match_a_chunked_reference() {
        let n = 5 * CHUNK + 3;
        let a = Array::from_vec((0..n).map(|i| ((i * 7919) % 1000) as f64 * 0.001).collect(), &[n]).unwrap();
        let expected: f64 = a.to_vec().chunks(CHUNK).map(lane_sum).sum();
        assert_eq!(a.sum_axes(&[0], false).item(), expected);
    }
}
