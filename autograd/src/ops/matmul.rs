//! Matrix multiplication with numpy.matmul's rules: 1-D operands gain and lose a unit axis,
//! batch axes broadcast, and the primitive multiplies equal batches of matrices.

use smallvec::smallvec;

use super::{Grads, Op, grad_if};
use crate::element::Element;
use crate::shape::{Shape, broadcast_shapes, shape_panic};
use crate::tensor::Tensor;

/// For C = A·B: dA = dC·Bᵀ and dB = Aᵀ·dC (per batch). An operand stored transposed (such
/// as `Linear`'s weight, used as `w.t()`) gets its gradient computed transposed too,
/// (dB)ᵀ = dCᵀ·A, so it arrives in its own layout, contiguous: the same products in the
/// same order, hence the same bits.
pub(crate) fn backward<T: Element>(a: &Tensor<T>, b: &Tensor<T>, g: &Tensor<T>) -> Grads<T> {
    smallvec![
        grad_if(a, || if column_major(a) { b.matmul(&g.t()).t() } else { g.matmul(&b.t()) }),
        grad_if(b, || if column_major(b) { g.t().matmul(a).t() } else { a.t().matmul(g) }),
    ]
}

/// Whether a matrix's columns, not its rows, are contiguous (a transposed view).
fn column_major<T: Element>(t: &Tensor<T>) -> bool {
    let value = t.value_ref();
    let strides = value.strides();
    let n = strides.len();
    n >= 2 && strides[n - 2] == 1 && strides[n - 1] != 1 && value.shape()[n - 2] > 1
}

impl<T: Element> Tensor<T> {
    /// The matrix product, as `numpy.matmul`: `[m, k] x [k, n] → [m, n]`; 1-D operands are
    /// vectors; leading batch axes broadcast (`[b, m, k] x [k, n] → [b, m, n]`).
    ///
    /// # Panics
    /// If an operand is zero-dimensional, the inner sizes differ or the batch axes cannot
    /// broadcast, e.g. `matmul: [64, 784] x [128, 10]: inner dimensions 784 and 128 differ`.
    ///
    /// ```
    /// use tapegrad_autograd::Tensor;
    /// let a = Tensor::from_vec(vec![1.0f32, 2.0, 3.0, 4.0], &[2, 2]).unwrap();
    /// let v = Tensor::from_vec(vec![1.0f32, 1.0], &[2]).unwrap();
    /// assert_eq!(a.matmul(&v).to_vec(), vec![3.0, 7.0]);
    /// assert_eq!(a.matmul(&a).to_vec(), vec![7.0, 10.0, 15.0, 22.0]);
    /// ```
    #[doc(alias = "mm")]
    #[doc(alias = "bmm")]
    #[doc(alias = "dot")]
    #[track_caller]
    pub fn matmul(&self, other: &Tensor<T>) -> Tensor<T> {
        let (a, b) = (self, other);
        if a.ndim() == 0 || b.ndim() == 0 {
            shape_panic(format!(
                "matmul: {:?} x {:?}: operands need at least one axis (use * for scalars)",
                a.shape(),
                b.shape()
            ));
        }
        let k_a = a.shape()[a.ndim() - 1];
        let k_b = b.shape()[b.ndim().saturating_sub(2)];
        if k_a != k_b {
            shape_panic(format!("matmul: {:?} x {:?}: inner dimensions {k_a} and {k_b} differ", a.shape(), b.shape()));
        }
        match (a.ndim(), b.ndim()) {
            (1, 1) => a.unsqueeze(0).matmul(&b.unsqueeze(1)).reshape([0usize; 0]),
            (1, _) => a.unsqueeze(0).matmul(b).squeeze(-2),
            (_, 1) => a.matmul(&b.unsqueeze(1)).squeeze(-1),
            _ => {
                let batch_a = &a.shape()[..a.ndim() - 2];
                let batch_b = &b.shape()[..b.ndim() - 2];
                let batch = broadcast_shapes("matmul", batch_a, batch_b);
                let with = |t: &Tensor<T>| {
                    let mut shape: Shape = batch.clone();
                    shape.extend_from_slice(&t.shape()[t.ndim() - 2..]);
                    t.expand(&shape)
                };
                let (a, b) = (with(a), with(b));
                let value = T::matmul(&a.value_ref(), &b.value_ref());
                Tensor::from_op(value, Op::Matmul, &[&a, &b])
            }
        }
    }
}
