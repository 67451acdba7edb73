//! Kernels that move elements by position: concat, index_select / index_add,
//! gather / scatter_add. Each pair is the other's adjoint, which is how their gradients
//! are written.

use super::Array;
use super::parallel::{Layout, PARALLEL_THRESHOLD, SharedMut, for_ranges};
use crate::element::Element;
use crate::indices::Indices;
use crate::shape::{Shape, Strides, contiguous_strides, numel, shape_panic};

impl<T: Element> Array<T> {
    /// The arrays joined along `axis`; all other sizes must agree.
    ///
    /// # Panics
    /// If `parts` is empty or the shapes disagree off `axis`.
    #[track_caller]
    pub fn concat(parts: &[Array<T>], axis: usize) -> Array<T> {
        let Some(first) = parts.first() else { shape_panic("concat: no arrays to join") };
        let shapes: Vec<&[usize]> = parts.iter().map(|p| p.shape()).collect();
        let fits = |s: &[usize]| {
            s.len() == first.ndim() && s.iter().zip(first.shape()).enumerate().all(|(d, (a, b))| d == axis || a == b)
        };
        if axis >= first.ndim() || !shapes.iter().all(|s| fits(s)) {
            shape_panic(format!("concat: shapes {shapes:?} differ off axis {axis}"));
        }
        let mut shape: Shape = first.shape().into();
        shape[axis] = parts.iter().map(|p| p.shape()[axis]).sum();
        let outer = numel(&shape[..axis]);
        let inner = numel(&shape[axis + 1..]);
        let row = shape[axis] * inner;
        Array::build_overwriting(&shape, |out| {
            let mut column = 0;
            for part in parts {
                let width = part.shape()[axis] * inner;
                let part = part.contiguous();
                let src = part.as_slice().expect("contiguous");
                for o in 0..outer {
                    out[o * row + column..o * row + column + width].copy_from_slice(&src[o * width..(o + 1) * width]);
                }
                column += width;
            }
        })
    }

    /// The slices at positions `index` along `axis`, in that order (repeats allowed).
    ///
    /// # Panics
    /// If an index is out of range for the axis.
    #[track_caller]
    pub fn index_select(&self, axis: usize, index: &[usize]) -> Array<T> {
        check_range("index_select", index, axis, self.shape());
        let (outer, size, inner) = split_at_axis(self.shape(), axis);
        let mut shape: Shape = self.shape().into();
        shape[axis] = index.len();
        let src = self.contiguous();
        let src = src.as_slice().expect("contiguous");
        Array::build_overwriting(&shape, |out| {
            for o in 0..outer {
                for (j, &i) in index.iter().enumerate() {
                    let from = (o * size + i) * inner;
                    let to = (o * index.len() + j) * inner;
                    out[to..to + inner].copy_from_slice(&src[from..from + inner]);
                }
            }
        })
    }

    /// Zeros of this array's shape with `axis` resized to `size`, where slice `j` of this
    /// array is added at position `index[j]`: the adjoint of [`Array::index_select`].
    ///
    /// # Panics
    /// If `index` does not have one entry per slice or an index is out of range.
    #[track_caller]
    pub fn index_add(&self, axis: usize, index: &[usize], size: usize) -> Array<T> {
        if self.shape()[axis] != index.len() {
            shape_panic(format!("index_add: {} indices for axis {axis} of shape {:?}", index.len(), self.shape()));
        }
        let mut shape: Shape = self.shape().into();
        shape[axis] = size;
        check_range("index_add", index, axis, &shape);
        let (outer, count, inner) = split_at_axis(self.shape(), axis);
        let src = self.contiguous();
        let src = src.as_slice().expect("contiguous");
        Array::build(&shape, |out| {
            for o in 0..outer {
                for (j, &i) in index.iter().enumerate() {
                    let from = (o * count + j) * inner;
                    let to = (o * size + i) * inner;
                    for (d, &s) in out[to..to + inner].iter_mut().zip(&src[from..from + inner]) {
                        *d = *d + s;
                    }
                }
            }
        })
    }

    /// PyTorch's gather: `out[p] = self[p with axis replaced by index[p]]` for every position
    /// `p` of `index`, which has as many axes as this array and no larger sizes off `axis`.
    ///
    /// # Panics
    /// If the index shape does not fit or an index is out of range.
    #[track_caller]
    pub fn gather(&self, axis: usize, index: &Indices) -> Array<T> {
        check_gather("gather", self.shape(), axis, index);
        let (data, offset, strides) = self.raw();
        let rows = IndexRows::new(index, axis, (strides, offset), None);
        Array::build_overwriting(index.shape(), |out| {
            // Each output element is written once, so a split over rows is deterministic.
            let (step, along) = (rows.step, rows.along);
            // (`move`: the loop keeps its steps in registers, not behind the captured references.)
            rows.layout.fill_rows(out, move |out, [mut at, first, _]| {
                let picks = &index.as_slice()[first..first + out.len()];
                for (o, &i) in out.iter_mut().zip(picks) {
                    *o = data[at + i * along];
                    at += step;
                }
            });
        })
    }

    /// Zeros of `shape` where each element of this array (shaped like `index`) is added at
    /// its position with `axis` replaced by `index`: the adjoint of [`Array::gather`].
    ///
    /// # Panics
    /// If this array's shape differs from the index's, or an index is out of range.
    #[track_caller]
    pub fn scatter_add(&self, shape: &[usize], axis: usize, index: &Indices) -> Array<T> {
        if self.shape() != index.shape() {
            shape_panic(format!(
                "scatter_add: source {:?} and index {:?} differ in shape",
                self.shape(),
                index.shape()
            ));
        }
        check_gather("scatter_add", shape, axis, index);
        let last = shape.len() - 1;
        if axis == last && index.shape()[..last] == shape[..last] {
            return self.scatter_add_by_rows(shape, index);
        }
        let (src, offset, strides) = self.raw();
        let rows = IndexRows::new(index, axis, (&contiguous_strides(shape), 0), Some((strides, offset)));
        let (step, along, src_step) = (rows.step, rows.along, rows.layout.inner_strides()[2]);
        Array::build(shape, |out| {
            if index.is_empty() {
                return;
            }
            // Positions may repeat: on one thread, in the index's row-major order, every
            // sum adds its terms in the same order.
            let inner = rows.layout.inner();
            rows.layout.for_rows(0..rows.layout.rows(), move |_, [mut at, first, mut from]| {
                for &i in &index.as_slice()[first..first + inner] {
                    let o = &mut out[at + i * along];
                    *o = *o + src[from];
                    at += step;
                    from += src_step;
                }
            });
        })
    }

    /// [`Array::scatter_add`] along the last axis of an index that covers every other axis
    /// of `shape` (max pooling's gradient): index row r adds only into output row r. So each
    /// output row is zeroed just before its additions, while in cache, rather than in a
    /// pass over the whole output first; and the rows may run on all threads, each still
    /// adding its terms in the index's order.
    fn scatter_add_by_rows(&self, shape: &[usize], index: &Indices) -> Array<T> {
        let last = shape.len() - 1;
        let (width, count) = (shape[last], index.shape()[last]);
        if numel(shape) == 0 {
            return Array::full(shape, T::zero());
        }
        let (src, offset, strides) = self.raw();
        // Each row's first source element (the source may be strided, or broadcast).
        let outer = Layout::new(&index.shape()[..last], [(&strides[..last], offset)]);
        let [step] = outer.inner_strides();
        let mut starts = Vec::with_capacity(outer.rows() * outer.inner());
        outer.for_rows(0..outer.rows(), |_, [start]| starts.extend((0..outer.inner()).map(|j| start + j * step)));
        let src_step = strides[last];
        Array::build_overwriting(shape, |out| {
            // (width > 0: the shape is not empty.)
            let (rows, parallel) = (out.len() / width, out.len().max(index.len()) >= PARALLEL_THRESHOLD);
            let shared = SharedMut(out.as_mut_ptr());
            for_ranges(rows, parallel, |range| {
                for r in range {
                    // SAFETY: each output row is written by the one task holding it.
                    let out = unsafe { std::slice::from_raw_parts_mut(shared.at(r * width), width) };
                    out.fill(T::zero());
                    let mut from = starts[r];
                    for &i in &index.as_slice()[r * count..(r + 1) * count] {
                        out[i] = out[i] + src[from];
                        from += src_step;
                    }
                }
            });
        })
    }
}

/// The positions of `index` walked row by row (its last axis inner), with the offsets of
/// the row's first element in the indexed array (`axis` left out: the index supplies it),
/// in the index, and in a source shaped like the index, if any.
struct IndexRows {
    layout: Layout<3>,
    /// The indexed array's step along a row, off `axis`.
    step: usize,
    /// The indexed array's stride along `axis`.
    along: usize,
}

impl IndexRows {
    fn new(index: &Indices, axis: usize, indexed: (&[usize], usize), source: Option<(&[usize], usize)>) -> Self {
        let mut off_axis: Strides = indexed.0.into();
        off_axis[axis] = 0;
        let positions = contiguous_strides(index.shape());
        let source = source.unwrap_or((&positions, 0));
        let layout = Layout::new(index.shape(), [(&off_axis, indexed.1), (&positions, 0), source]);
        // The index is contiguous, so its rows are runs of consecutive positions.
        debug_assert!(layout.inner() <= 1 || layout.inner_strides()[1] == 1);
        IndexRows { step: layout.inner_strides()[0], along: indexed.0[axis], layout }
    }
}

/// `(outer, size, inner)`: the products of the sizes before, at and after `axis`.
fn split_at_axis(shape: &[usize], axis: usize) -> (usize, usize, usize) {
    (numel(&shape[..axis]), shape[axis], numel(&shape[axis + 1..]))
}

#[track_caller]
fn check_range(op: &str, index: &[usize], axis: usize, shape: &[usize]) {
    if let Some((j, &i)) = index.iter().enumerate().find(|(_, i)| **i >= shape[axis]) {
        shape_panic(format!("{op}: index {i} (at position {j}) is out of range for axis {axis} of shape {shape:?}"));
    }
}

#[track_caller]
fn check_gather(op: &str, shape: &[usize], axis: usize, index: &Indices) {
    let fits = index.shape().len() == shape.len()
        && index.shape().iter().zip(shape).enumerate().all(|(d, (i, s))| d == axis || i <= s);
    if axis >= shape.len() || !fits {
        shape_panic(format!("{op}: index shape {:?} does not fit shape {shape:?} along axis {axis}", index.shape()));
    }
    // The largest index first: a vectorized pass; the search for the culprit only on failure.
    if index.max().is_some_and(|i| i >= shape[axis])
        && let Some((j, &i)) = index.as_slice().iter().enumerate().find(|(_, i)| **i >= shape[axis])
    {
        shape_panic(format!(
            "{op}: index {i} (at flat position {j}) is out of range for axis {axis} of shape {shape:?}"
        ));
    }
}

#[cfg(test)]
mod tests {
    use rand::rngs::StdRng;
    use rand::{RngExt, SeedableRng};

    use super::*;

    /// Every multi-index of `shape`, in row-major order.
    fn positions(shape: &[usize]) -> Vec<Vec<usize>> {
        let mut all = vec![vec![]];
        for &size in shape {
            all = all.into_iter().flat_map(|p| (0..size).map(move |i| [p.clone(), vec![i]].concat())).collect();
        }
        all
    }

    /// A non-contiguous view of `shape`, by the case number: a transpose of distinct values
    /// starting past the storage's first element, the same broadcast along one axis, or
    /// the first two axes swapped.
    fn strided(shape: &[usize], case: usize) -> Array<f64> {
        let [a, b, c] = [shape[0], shape[1], shape[2]];
        let transposed = arange(&[c + 1, b, a]).permute(&[2, 1, 0]).narrow(2, 1, c);
        match case % 3 {
            0 => transposed,
            1 => transposed.narrow(case % 2, 0, 1).expand(shape),
            _ => arange(&[b, a, c]).permute(&[1, 0, 2]),
        }
    }

    #[test]
    fn gather_and_scatter_add_match_the_definition_on_strided_arrays() {
        let mut rng = StdRng::seed_from_u64(5);
        for case in 0..600 {
            let shape: Vec<usize> = (0..3).map(|_| rng.random_range(1..5)).collect();
            let axis = rng.random_range(0..3);
            let x = strided(&shape, case);
            // Sizes off the axis up to the array's (zero too); any size along it.
            // Every other case along the last axis covers the other axes whole: scatter_add's
            // row-by-row path.
            let whole = axis == 2 && case % 2 == 0;
            let index_shape: Vec<usize> = (0..3)
                .map(|d| match d {
                    _ if d == axis => rng.random_range(0..6),
                    _ if whole => shape[d],
                    _ => rng.random_range(0..=shape[d]),
                })
                .collect();
            let picks = (0..numel(&index_shape)).map(|_| rng.random_range(0..shape[axis])).collect();
            let index = Indices::new(picks, &index_shape).unwrap();
            let replaced = |p: &[usize], i: usize| {
                let mut p = p.to_vec();
                p[axis] = i;
                p
            };

            let gathered = x.gather(axis, &index);
            let expected: Vec<f64> =
                positions(&index_shape).iter().zip(index.as_slice()).map(|(p, &i)| x.get(&replaced(p, i))).collect();
            assert_eq!(gathered.to_vec(), expected, "case {case}: gather {shape:?} along {axis} by {index_shape:?}");

            let src = strided(&index_shape.iter().map(|&s| s.max(1)).collect::<Vec<_>>(), case + 1);
            let src = src.narrow(0, 0, index_shape[0]).narrow(1, 0, index_shape[1]).narrow(2, 0, index_shape[2]);
            let mut expected = Array::<f64>::full(&shape, 0.0).to_vec();
            for (p, &i) in positions(&index_shape).iter().zip(index.as_slice()) {
                let at: usize = replaced(p, i).iter().zip(contiguous_strides(&shape)).map(|(i, s)| i * s).sum();
                expected[at] += src.get(p);
            }
            let scattered = src.scatter_add(&shape, axis, &index);
            assert_eq!(scattered.to_vec(), expected, "case {case}: scatter_add to {shape:?} along {axis}");
        }
    }

    fn arange(shape: &[usize]) -> Array<f64> {
        Array::from_vec((0..numel(shape)).map(|i| i as f64).collect(), shape).unwrap()
    }

    #[test]
    fn concat_joins_along_any_axis() {
        let a = arange(&[2, 2]);
        let b = arange(&[2, 1]);
        assert_eq!(Array::concat(&[a.clone(), b], 1).to_vec(), vec![0.0, 1.0, 0.0, 2.0, 3.0, 1.0]);
        assert_eq!(Array::concat(&[a.clone(), a], 0).shape(), &[4, 2]);
    }

    #[test]
    fn index_add_is_the_adjoint_of_index_select() {
        let x = arange(&[3, 2]);
        let picked = x.index_select(0, &[2, 0, 2]);
        assert_eq!(picked.to_vec(), vec![4.0, 5.0, 0.0, 1.0, 4.0, 5.0]);
        let back = picked.index_add(0, &[2, 0, 2], 3);
        assert_eq!(back.to_vec(), vec![0.0, 1.0, 0.0, 0.0, 8.0, 10.0]);
    }

    #[test]
    fn gather_picks_each_rows_class() {
        let logits = arange(&[3, 4]);
        let labels = Indices::new(vec![1, 3, 0], &[3, 1]).unwrap();
        assert_eq!(logits.gather(1, &labels).to_vec(), vec![1.0, 7.0, 8.0]);
        let back = logits.gather(1, &labels).scatter_add(&[3, 4], 1, &labels);
        assert_eq!(back.to_vec(), vec![0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 7.0, 8.0, 0.0, 0.0, 0.0]);
    }

    #[test]
    fn a_gather_large_enough_for_all_threads_matches_too() {
        let x = strided(&[40, 30, 40], 0);
        let picks = (0..40 * 30 * 40).map(|p| (p * 7 + p / 13) % 30).collect();
        let index = Indices::new(picks, &[40, 30, 40]).unwrap();
        let expected: Vec<f64> =
            positions(&[40, 30, 40]).iter().zip(index.as_slice()).map(|(p, &i)| x.get(&[p[0], i, p[2]])).collect();
        assert_eq!(x.gather(1, &index).to_vec(), expected);
    }

    #[test]
    fn scatter_add_by_rows_of_nothing_is_empty_or_zeros() {
        let empty = Indices::new(vec![], &[0, 3]).unwrap();
        assert_eq!(arange(&[0, 3]).scatter_add(&[0, 5], 1, &empty).shape(), &[0, 5]);
        let no_columns = Indices::new(vec![], &[2, 0]).unwrap();
        assert_eq!(arange(&[2, 0]).scatter_add(&[2, 3], 1, &no_columns).to_vec(), vec![0.0; 6]);
    }

    #[test]
    fn a_scatter_add_by_rows_large_enough_for_all_threads_matches_too() {
        // Max pooling's gradient: rows of positions into rows of the output, from a strided
        // source; some positions repeat within a row.
        let src = strided(&[40, 30, 50], 0);
        let picks = (0..40 * 30 * 50).map(|p| (p * 7 + p / 13) % 60).collect();
        let index = Indices::new(picks, &[40, 30, 50]).unwrap();
        let mut expected = vec![0.0; 40 * 30 * 60];
        for (p, &i) in positions(&[40, 30, 50]).iter().zip(index.as_slice()) {
            expected[(p[0] * 30 + p[1]) * 60 + i] += src.get(p);
        }
        assert_eq!(src.scatter_add(&[40, 30, 60], 2, &index).to_vec(), expected);
    }

    #[test]
    #[should_panic(expected = "gather: index 4 (at flat position 1) is out of range for axis 1 of shape [3, 4]")]
    fn gather_names_the_bad_index() {
        arange(&[3, 4]).gather(1, &Indices::new(vec![1, 4, 0], &[3, 1]).unwrap());
    }
}
