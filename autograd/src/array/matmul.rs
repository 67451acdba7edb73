//! Batched matrix multiplication on strided operands.
//!
//! Each batch is one call of the element type's GEMM (`gemm.rs` for f32 on AVX2 + FMA,
//! the `matrixmultiply` crate otherwise), which reads any row and column strides, so a
//! transposed operand in a backward pass is never copied. A large product parallelises
//! inside its call; many small ones run their batches in parallel instead. Either way each
//! output element is computed the same way on any thread count.

use super::Array;
use super::parallel::{SharedMut, for_ranges};
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
        Array::build_overwriting(&out_shape, |out| {
            if m == 0 || n == 0 || k == 0 {
                out.fill(T::zero());
                return;
            }
            let c = SharedMut(out.as_mut_ptr());
            let per_batch_parallel = batches == 1 || m * k * n >= PARALLEL_MACS;
            let run = |batch: usize| {
                let (a_base, b_base) = batch_offsets(batch, batch_shape, a_str, b_str);
                // SAFETY: the shapes were checked above, so every element the strides address
                // lies inside the arrays' storage; C's batch is a disjoint part of a fresh buffer.
                unsafe {
                    T::gemm(
                        m,
                        k,
                        n,
                        (a_data.as_ptr().wrapping_add(a_off + a_base), a_str[nd - 2] as isize, a_str[nd - 1] as isize),
                        (b_data.as_ptr().wrapping_add(b_off + b_base), b_str[nd - 2] as isize, b_str[nd - 1] as isize),
                        c.at(batch * m * n),
                        per_batch_parallel,
                    )
                }
            };
            let parallel = !per_batch_parallel && batches * m * k * n >= PARALLEL_MACS;
            for_ranges(batches, parallel, |range| range.for_each(run));
        })
    }
}

/// C = A·B by a single-threaded GEMM `kernel` (taking pointer/row-stride/column-stride
/// triples), split into blocks of rows on all threads when `parallel` and large. The blocks
/// depend on the shape alone.
///
/// # Safety
/// As [`Element::gemm`].
#[allow(clippy::type_complexity, clippy::too_many_arguments)]
pub(crate) unsafe fn blocked_gemm<T: Element>(
    m: usize,
    k: usize,
    n: usize,
    a: (*const T, isize, isize),
    b: (*const T, isize, isize),
    c: *mut T,
    parallel: bool,
    kernel: unsafe fn(usize, usize, usize, (*const T, isize, isize), (*const T, isize, isize), (*mut T, isize, isize)),
) {
    let rows = if parallel && m * k * n >= PARALLEL_MACS { m.div_ceil(m.div_ceil(32).clamp(1, 4)) } else { m.max(1) };
    let (a, b, c) = (SharedConst(a.0, a.1, a.2), SharedConst(b.0, b.1, b.2), SharedMut(c));
    let block = |i: usize| {
        let row0 = i * rows;
        let count = rows.min(m - row0);
        let (a, b) = (a.get(), b.get());
        let a_block = (a.0.wrapping_offset(row0 as isize * a.1), a.1, a.2);
        // SAFETY: rows row0..row0+count of A and C exist; blocks write disjoint rows of C.
        unsafe { kernel(count, k, n, a_block, b, (c.at(row0 * n), n as isize, 1)) };
    };
    for_ranges(m.div_ceil(rows), true, |range| range.for_each(block));
}

/// A read-only matrix pointer with its strides, shared by parallel blocks.
#[derive(Clone, Copy)]
struct SharedConst<T>(*const T, isize, isize);
impl<T> SharedConst<T> {
    /// The pointer and strides. (A method, so closures capture the whole value.)
    fn get(self) -> (*const T, isize, isize) {
        (self.0, self.1, self.2)
    }
}

// SAFETY: only read, while the caller keeps the matrix alive.
unsafe impl<T> Sync for SharedConst<T> {}
// SAFETY: as above.
unsafe impl<T> Send for SharedConst<T> {}

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
