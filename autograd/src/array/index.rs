//! Kernels that move elements by position: concat, index_select / index_add,
//! gather / scatter_add. Each pair is the other's adjoint, which is how their gradients
//! are written.

use super::Array;
use crate::element::Element;
use crate::indices::Indices;
use crate::shape::{Shape, numel, shape_panic};

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
        Array::build_overwriting(index.shape(), |out| {
            for_each_position(index.shape(), |flat, position| {
                let at: usize = position
                    .iter()
                    .enumerate()
                    .map(|(d, &i)| if d == axis { index.as_slice()[flat] } else { i } * strides[d])
                    .sum();
                out[flat] = data[offset + at];
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
        let src = self.contiguous();
        let src = src.as_slice().expect("contiguous");
        let strides = crate::shape::contiguous_strides(shape);
        Array::build(shape, |out| {
            for_each_position(index.shape(), |flat, position| {
                let at: usize = position
                    .iter()
                    .enumerate()
                    .map(|(d, &i)| if d == axis { index.as_slice()[flat] } else { i } * strides[d])
                    .sum();
                out[at] = out[at] + src[flat];
            });
        })
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
    if let Some((j, &i)) = index.as_slice().iter().enumerate().find(|(_, i)| **i >= shape[axis]) {
        shape_panic(format!(
            "{op}: index {i} (at flat position {j}) is out of range for axis {axis} of shape {shape:?}"
        ));
    }
}

/// Calls `f(flat, multi_index)` for every position of `shape` in row-major order.
fn for_each_position(shape: &[usize], mut f: impl FnMut(usize, &[usize])) {
    let total = numel(shape);
    let mut position = vec![0usize; shape.len()];
    for flat in 0..total {
        f(flat, &position);
        for d in (0..shape.len()).rev() {
            position[d] += 1;
            if position[d] < shape[d] {
                break;
            }
            position[d] = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    #[should_panic(expected = "gather: index 4 (at flat position 1) is out of range for axis 1 of shape [3, 4]")]
    fn gather_names_the_bad_index() {
        arange(&[3, 4]).gather(1, &Indices::new(vec![1, 4, 0], &[3, 1]).unwrap());
    }
}
