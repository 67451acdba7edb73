//! Batched matrix multiplication on strided operands.
//!
//! The GEMM itself is the `matrixmultiply` crate's (packing, cache blocking and SIMD
//! micro-kernels; see ARCHITECTURE.md for why). It reads any row and column strides, so a
//! transposed operand in a backward pass is never copied. Large products are split into
//! blocks of rows whose size depends on the shapes only, and each block is one
//! single-threaded GEMM call on rayon: the same bits on any thread count.

use rayon::prelude::*;

use super::Array;
use super::parallel::SharedMut;
use crate::element::Element;
use crate::shape::{Shape, numel, shape_panic};

/// Products below this many multiply-adds run as one call on the calling thread.
const PARALLEL_MACS: usize = 1 << 20;

impl<T: Element> Array<T> {
    /// The matrix product of `[..., m, k]` and `[..., k, n]` arrays whose batch axes are equal
    /// (broadcast them first): a `[..., m, n]` array.
    ///
    /// # Panics
    /// If either has fewer than two axes, the batch axes differ or the inner sizes differ.
    #[track_caller]
    pub fn matmul(&self, other: &Array<T>) -> Array<T> {
        let (a, b) = (self, other);
        let nd = a.ndim();
        if nd < 2
            || b.ndim() != nd
            || a.shape()[..nd - 2] != b.shape()[..nd - 2]
            || a.shape()[nd - 1] != b.shape()[nd - 2]
        {
            shape_panic(format!(
                "matmul: {:?} x {:?}: expected [..., m, k] x [..., k, n] with equal batch axes",
                a.shape(),
                b.shape()
            ));
        }
        let (m, k, n) = (a.shape()[nd - 2], a.shape()[nd - 1], b.shape()[nd - 1]);
        let batch_shape = &a.shape()[..nd - 2];
        let batches = numel(batch_shape);
        let mut out_shape: Shape = batch_shape.into();
        out_shape.extend([m, n]);
        let (a_data, a_off, a_str) = a.raw();
        let (b_data, b_off, b_str) = b.raw();
        let rows_per_block = row_block(m, k, n);
        let blocks = m.div_ceil(rows_per_block.max(1));
        Array::build(&out_shape, |out| {
            if m == 0 || n == 0 || k == 0 {
                return;
            }
            let c = SharedMut(out.as_mut_ptr());
            let run = |item: usize| {
                let (batch, block) = (item / blocks, item % blocks);
                let (a_base, b_base) = batch_offsets(batch, batch_shape, a_str, b_str);
                let row0 = block * rows_per_block;
                let rows = rows_per_block.min(m - row0);
                let a_ptr = a_data[a_off + a_base..].as_ptr().wrapping_add(row0 * a_str[nd - 2]);
                let b_ptr = b_data[b_off + b_base..].as_ptr();
                let c_ptr = c.at(batch * m * n + row0 * n);
                // SAFETY: A's rows row0..row0+rows, all of B and C's block of rows lie inside
                // their buffers (the shapes were checked above), and blocks write disjoint
                // rows of C, which is a fresh buffer overlapping neither input.
                unsafe {
                    T::gemm(
                        rows,
                        k,
                        n,
                        (a_ptr, a_str[nd - 2] as isize, a_str[nd - 1] as isize),
                        (b_ptr, b_str[nd - 2] as isize, b_str[nd - 1] as isize),
                        T::zero(),
                        (c_ptr, n as isize, 1),
                    )
                }
            };
            let items = batches * blocks;
            if batches * m * k * n < PARALLEL_MACS || items < 2 {
                (0..items).for_each(run);
            } else {
                (0..items).into_par_iter().for_each(run);
            }
        })
    }
}

/// Rows per parallel block: a function of the shape only, never of the thread count. At most
/// four blocks, since each block packs all of B again.
fn row_block(m: usize, k: usize, n: usize) -> usize {
    if m * k * n < PARALLEL_MACS {
        return m.max(1);
    }
    let blocks = m.div_ceil(32).clamp(1, 4);
    m.div_ceil(blocks).next_multiple_of(8)
}

/// The storage offsets of batch number `batch` in A and B (batch axes in row-major order).
fn batch_offsets(batch: usize, batch_shape: &[usize], a_strides: &[usize], b_strides: &[usize]) -> (usize, usize) {
    let (mut rest, mut a, mut b) = (batch, 0, 0);
    for d in (0..batch_shape.len()).rev() {
        let i = rest % batch_shape[d];
        rest /= batch_shape[d];
        a += i * a_strides[d];
        b += i * b_strides[d];
    }
    (a, b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(a: &Array<f64>, b: &Array<f64>) -> Vec<f64> {
        let (m, k, n) = (a.shape()[0], a.shape()[1], b.shape()[1]);
        let mut out = vec![0.0; m * n];
        for i in 0..m {
            for j in 0..n {
                out[i * n + j] = (0..k).map(|p| a.get(&[i, p]) * b.get(&[p, j])).sum();
            }
        }
        out
    }

    fn filled(shape: &[usize], seed: usize) -> Array<f64> {
        Array::from_vec((0..numel(shape)).map(|i| ((i * 31 + seed * 17) % 23) as f64 - 11.0).collect(), shape).unwrap()
    }

    #[test]
    fn matches_the_textbook_loop_on_strided_operands() {
        let a = filled(&[5, 3], 1);
        let b = filled(&[4, 3], 2).permute(&[1, 0]);
        assert_eq!(a.matmul(&b).to_vec(), naive(&a, &b));
    }

    #[test]
    fn large_products_split_in_row_blocks_exactly() {
        let a = filled(&[200, 70], 3);
        let b = filled(&[70, 90], 4);
        assert_eq!(a.matmul(&b).to_vec(), naive(&a, &b));
    }

    #[test]
    fn batches_may_be_broadcast() {
        let a = filled(&[2, 3, 4], 5);
        let b = filled(&[4, 2], 6).expand(&[2, 4, 2]);
        let c = a.matmul(&b);
        for batch in 0..2 {
            let ab = a.narrow(0, batch, 1).reshape(&[3, 4]);
            assert_eq!(c.narrow(0, batch, 1).to_vec(), naive(&ab, &filled(&[4, 2], 6)));
        }
    }

    #[test]
    fn empty_inner_dimension_gives_zeros() {
        let a = Array::<f64>::from_vec(vec![], &[2, 0]).unwrap();
        let b = Array::<f64>::from_vec(vec![], &[0, 3]).unwrap();
        assert_eq!(a.matmul(&b).to_vec(), vec![0.0; 6]);
    }
}
