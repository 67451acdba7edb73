//! Elementwise functions of two tensors, with NumPy broadcasting; `where_cond`; comparisons.
//!
//! Broadcasting is a node of its own: the operands are expanded to the common shape (views,
//! no copy), then the same-shape primitive runs. The expand's backward sums over the
//! stretched axes, so the rules below never mention shapes.

use smallvec::smallvec;

use super::{Grads, Op, constant, grad_if};
use crate::array::Array;
use crate::element::{Element, lit};
use crate::shape::broadcast_shapes;
use crate::tensor::Tensor;

#[derive(Clone, Copy, Debug)]
pub(crate) enum Binary {
    Add,
    Sub,
    Mul,
    Div,
    Pow,
    Maximum,
    Minimum,
}

impl Binary {
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Binary::Add => "add",
            Binary::Sub => "sub",
            Binary::Mul => "mul",
            Binary::Div => "div",
            Binary::Pow => "pow",
            Binary::Maximum => "maximum",
            Binary::Minimum => "minimum",
        }
    }

    /// z = f(a, b), elementwise over same-shaped arrays.
    pub(crate) fn forward<T: Element>(&self, a: &Array<T>, b: &Array<T>) -> Array<T> {
        match self {
            Binary::Add => a.zip_map(b, |x, y| x + y),
            Binary::Sub => a.zip_map(b, |x, y| x - y),
            Binary::Mul => a.zip_map(b, |x, y| x * y),
            Binary::Div => a.zip_map(b, |x, y| x / y),
            Binary::Pow => a.zip_map(b, |x, y| x.powf(y)),
            Binary::Maximum => a.zip_map(b, |x, y| if x.is_nan() || x >= y { x } else { y }),
            Binary::Minimum => a.zip_map(b, |x, y| if x.is_nan() || x <= y { x } else { y }),
        }
    }

    /// (dL/da, dL/db) given a, b, z = f(a, b) and g = dL/dz.
    pub(crate) fn backward<T: Element>(&self, a: &Tensor<T>, b: &Tensor<T>, z: &Tensor<T>, g: &Tensor<T>) -> Grads<T> {
        let one = T::one();
        match self {
            Binary::Add => smallvec![grad_if(a, || g.clone()), grad_if(b, || g.clone())],
            Binary::Sub => smallvec![grad_if(a, || g.clone()), grad_if(b, || -g)],
            Binary::Mul => smallvec![grad_if(a, || g * b), grad_if(b, || g * a)], // ∂(ab) = b da + a db
            Binary::Div => smallvec![grad_if(a, || g / b), grad_if(b, || -(g * z) / b)], // ∂(a/b)/∂b = −a/b²
            Binary::Pow => smallvec![
                grad_if(a, || g * b * a.pow(&(b - one))), // ∂aᵇ/∂a = b·aᵇ⁻¹
                grad_if(b, || {
                    // ∂aᵇ/∂b = aᵇ·ln a, taken as 0 where a = 0 (the limit for b > 0)
                    let at_zero = constant(a, |v| if v == T::zero() { one } else { T::zero() });
                    at_zero.where_cond(&g.zeros_like(), &(g * z * a.ln()))
                }),
            ],
            Binary::Maximum | Binary::Minimum => {
                // The gradient goes to the chosen operand; ties split it evenly.
                let wins: fn(T, T) -> bool = if matches!(self, Binary::Maximum) { |x, y| x > y } else { |x, y| x < y };
                let share_a = Tensor::from_array(a.value_ref().zip_map(&b.value_ref(), |x, y| {
                    if wins(x, y) {
                        one
                    } else if x == y {
                        lit(0.5)
                    } else {
                        T::zero()
                    }
                }));
                smallvec![grad_if(a, || g * &share_a), grad_if(b, || g * &(-&share_a + one))]
            }
        }
    }
}

/// The comparisons, which give 0/1 masks and no gradient.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Comparison {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Comparison {
    fn name(self) -> &'static str {
        match self {
            Comparison::Eq => "eq",
            Comparison::Ne => "ne",
            Comparison::Lt => "lt",
            Comparison::Le => "le",
            Comparison::Gt => "gt",
            Comparison::Ge => "ge",
        }
    }

    /// 1 where `a op b`, else 0.
    pub(crate) fn forward<T: Element>(self, a: &Array<T>, b: &Array<T>) -> Array<T> {
        let mask = |test: fn(T, T) -> bool| a.zip_map(b, move |x, y| if test(x, y) { T::one() } else { T::zero() });
        match self {
            Comparison::Eq => mask(|x, y| x == y),
            Comparison::Ne => mask(|x, y| x != y),
            Comparison::Lt => mask(|x, y| x < y),
            Comparison::Le => mask(|x, y| x <= y),
            Comparison::Gt => mask(|x, y| x > y),
            Comparison::Ge => mask(|x, y| x >= y),
        }
    }
}

/// `where_cond`'s primitive: picks from `on_true` where the constant mask is non-zero.
pub(crate) struct Select<T: Element> {
    mask: Tensor<T>,
}

impl<T: Element> Select<T> {
    /// The gradient flows to whichever operand was picked, elementwise.
    pub(crate) fn backward(&self, on_true: &Tensor<T>, on_false: &Tensor<T>, g: &Tensor<T>) -> Grads<T> {
        let zeros = g.zeros_like();
        smallvec![
            grad_if(on_true, || self.mask.where_cond(g, &zeros)),
            grad_if(on_false, || self.mask.where_cond(&zeros, g)),
        ]
    }
}

impl<T: Element> Tensor<T> {
    /// Both operands expanded to their broadcast shape (unchanged if already there).
    #[track_caller]
    pub(crate) fn broadcast_pair(&self, other: &Tensor<T>, op: &str) -> (Tensor<T>, Tensor<T>) {
        if self.shape() == other.shape() {
            return (self.clone(), other.clone());
        }
        let shape = broadcast_shapes(op, self.shape(), other.shape());
        (self.expand(&shape), other.expand(&shape))
    }

    #[track_caller]
    fn binary(&self, other: &Tensor<T>, op: Binary) -> Tensor<T> {
        if self.shape() != other.shape() {
            let (a, b) = self.broadcast_pair(other, op.name());
            return a.binary(&b, op);
        }
        let value = T::binary(op, &self.value_ref(), &other.value_ref());
        Tensor::from_op(value, Op::Binary(op), &[self, other])
    }

    /// a + b, broadcasting (also the `+` operator).
    #[track_caller]
    pub fn add(&self, other: &Tensor<T>) -> Tensor<T> {
        self.binary(other, Binary::Add)
    }

    /// a − b, broadcasting (also the `-` operator).
    #[track_caller]
    pub fn sub(&self, other: &Tensor<T>) -> Tensor<T> {
        self.binary(other, Binary::Sub)
    }

    /// a · b elementwise, broadcasting (also the `*` operator).
    ///
    /// ```
    /// use tapegrad_autograd::Tensor;
    /// let a = Tensor::from_vec(vec![1.0f32, 2.0, 3.0, 4.0], &[2, 2]).unwrap();
    /// let row = Tensor::from_vec(vec![10.0f32, 100.0], &[2]).unwrap();
    /// assert_eq!(a.mul(&row).to_vec(), vec![10.0, 200.0, 30.0, 400.0]);
    /// ```
    #[track_caller]
    pub fn mul(&self, other: &Tensor<T>) -> Tensor<T> {
        self.binary(other, Binary::Mul)
    }

    /// a / b elementwise, broadcasting (also the `/` operator).
    #[track_caller]
    pub fn div(&self, other: &Tensor<T>) -> Tensor<T> {
        self.binary(other, Binary::Div)
    }

    /// aᵇ elementwise with a tensor exponent, broadcasting.
    #[track_caller]
    pub fn pow(&self, exponent: &Tensor<T>) -> Tensor<T> {
        self.binary(exponent, Binary::Pow)
    }

    /// The larger of a and b elementwise (ties share the gradient evenly).
    #[track_caller]
    pub fn maximum(&self, other: &Tensor<T>) -> Tensor<T> {
        self.binary(other, Binary::Maximum)
    }

    /// The smaller of a and b elementwise (ties share the gradient evenly).
    #[track_caller]
    pub fn minimum(&self, other: &Tensor<T>) -> Tensor<T> {
        self.binary(other, Binary::Minimum)
    }

    /// Where this mask is non-zero, `on_true`, else `on_false` (torch.where), broadcasting
    /// all three. The mask itself gets no gradient.
    ///
    /// ```
    /// use tapegrad_autograd::Tensor;
    /// let x = Tensor::from_vec(vec![-2.0f32, 3.0], &[2]).unwrap();
    /// let y = x.gt(&Tensor::scalar(0.0)).where_cond(&x, &(&x * 0.1));
    /// assert_eq!(y.to_vec(), vec![-0.2, 3.0]);
    /// ```
    #[doc(alias = "where")]
    #[track_caller]
    pub fn where_cond(&self, on_true: &Tensor<T>, on_false: &Tensor<T>) -> Tensor<T> {
        let (a, b) = on_true.broadcast_pair(on_false, "where_cond");
        let (a, mask) = a.broadcast_pair(&self.detach(), "where_cond");
        let (b, _) = b.broadcast_pair(&mask, "where_cond");
        let value = T::select(&mask.value_ref(), &a.value_ref(), &b.value_ref());
        Tensor::from_op(value, Op::Select(Select { mask }), &[&a, &b])
    }

    #[track_caller]
    fn compare(&self, other: &Tensor<T>, op: Comparison) -> Tensor<T> {
        let (a, b) = self.broadcast_pair(other, op.name());
        Tensor::from_array(T::compare(op, &a.value_ref(), &b.value_ref()))
    }

    /// A mask (1 where true, 0 where false) of a == b, broadcasting. Not differentiable.
    #[track_caller]
    pub fn eq(&self, other: &Tensor<T>) -> Tensor<T> {
        self.compare(other, Comparison::Eq)
    }

    /// A mask of a != b.
    #[track_caller]
    pub fn ne(&self, other: &Tensor<T>) -> Tensor<T> {
        self.compare(other, Comparison::Ne)
    }

    /// A mask of a < b.
    #[track_caller]
    pub fn lt(&self, other: &Tensor<T>) -> Tensor<T> {
        self.compare(other, Comparison::Lt)
    }

    /// A mask of a ≤ b.
    #[track_caller]
    pub fn le(&self, other: &Tensor<T>) -> Tensor<T> {
        self.compare(other, Comparison::Le)
    }

    /// A mask of a > b.
    ///
    /// ```
    /// use tapegrad_autograd::Tensor;
    /// let x = Tensor::from_vec(vec![1.0f32, 5.0], &[2]).unwrap();
    /// assert_eq!(x.gt(&Tensor::scalar(2.0)).to_vec(), vec![0.0, 1.0]);
    /// ```
    #[track_caller]
    pub fn gt(&self, other: &Tensor<T>) -> Tensor<T> {
        self.compare(other, Comparison::Gt)
    }

    /// A mask of a ≥ b.
    #[track_caller]
    pub fn ge(&self, other: &Tensor<T>) -> Tensor<T> {
        self.compare(other, Comparison::Ge)
    }
}
