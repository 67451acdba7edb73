//! `+ - * /` and unary `-` on tensors, references to tensors and scalars.
//!
//! `&a + &b` borrows, `a + b` consumes (both are cheap handles, so either is fine);
//! `x * 0.5`, `1.0 - x` and friends take a scalar on either side. One macro writes the
//! combinations; each forwards to a named method that does the work.

use std::ops::{Add, Div, Mul, Neg, Sub};

use crate::element::Element;
use crate::ops::Unary;
use crate::tensor::Tensor;

impl<T: Element> Tensor<T> {
    #[track_caller]
    fn sub_scalar(&self, c: T) -> Tensor<T> {
        self.add_scalar(-c)
    }

    #[track_caller]
    fn scalar_add(&self, c: T) -> Tensor<T> {
        self.add_scalar(c)
    }

    /// c − x
    #[track_caller]
    fn scalar_sub(&self, c: T) -> Tensor<T> {
        (-self).add_scalar(c)
    }

    #[track_caller]
    fn scalar_mul(&self, c: T) -> Tensor<T> {
        self.mul_scalar(c)
    }

    /// c / x
    #[track_caller]
    fn scalar_div(&self, c: T) -> Tensor<T> {
        self.recip().mul_scalar(c)
    }

    /// −x, elementwise (also the unary `-` operator).
    #[track_caller]
    pub fn neg(&self) -> Tensor<T> {
        self.unary(Unary::Neg)
    }
}

macro_rules! operator {
    ($trait:ident, $method:ident, $tensor_op:ident, $tensor_scalar:ident, $scalar_tensor:ident) => {
        impl<T: Element> $trait<&Tensor<T>> for &Tensor<T> {
            type Output = Tensor<T>;
            #[track_caller]
            fn $method(self, rhs: &Tensor<T>) -> Tensor<T> {
                Tensor::$tensor_op(self, rhs)
            }
        }
        impl<T: Element> $trait<Tensor<T>> for Tensor<T> {
            type Output = Tensor<T>;
            #[track_caller]
            fn $method(self, rhs: Tensor<T>) -> Tensor<T> {
                Tensor::$tensor_op(&self, &rhs)
            }
        }
        impl<T: Element> $trait<&Tensor<T>> for Tensor<T> {
            type Output = Tensor<T>;
            #[track_caller]
            fn $method(self, rhs: &Tensor<T>) -> Tensor<T> {
                Tensor::$tensor_op(&self, rhs)
            }
        }
        impl<T: Element> $trait<Tensor<T>> for &Tensor<T> {
            type Output = Tensor<T>;
            #[track_caller]
            fn $method(self, rhs: Tensor<T>) -> Tensor<T> {
                Tensor::$tensor_op(self, &rhs)
            }
        }
        impl<T: Element> $trait<T> for &Tensor<T> {
            type Output = Tensor<T>;
            #[track_caller]
            fn $method(self, rhs: T) -> Tensor<T> {
                self.$tensor_scalar(rhs)
            }
        }
        impl<T: Element> $trait<T> for Tensor<T> {
            type Output = Tensor<T>;
            #[track_caller]
            fn $method(self, rhs: T) -> Tensor<T> {
                self.$tensor_scalar(rhs)
            }
        }
        operator!(@scalar_left $trait, $method, $scalar_tensor, f32);
        operator!(@scalar_left $trait, $method, $scalar_tensor, f64);
    };
    (@scalar_left $trait:ident, $method:ident, $scalar_tensor:ident, $float:ty) => {
        impl $trait<Tensor<$float>> for $float {
            type Output = Tensor<$float>;
            #[track_caller]
            fn $method(self, rhs: Tensor<$float>) -> Tensor<$float> {
                rhs.$scalar_tensor(self)
            }
        }
        impl $trait<&Tensor<$float>> for $float {
            type Output = Tensor<$float>;
            #[track_caller]
            fn $method(self, rhs: &Tensor<$float>) -> Tensor<$float> {
                rhs.$scalar_tensor(self)
            }
        }
    };
}

operator!(Add, add, add, add_scalar, scalar_add);
operator!(Sub, sub, sub, sub_scalar, scalar_sub);
operator!(Mul, mul, mul, mul_scalar, scalar_mul);
operator!(Div, div, div, div_scalar, scalar_div);

impl<T: Element> Neg for &Tensor<T> {
    type Output = Tensor<T>;
    #[track_caller]
    fn neg(self) -> Tensor<T> {
        Tensor::neg(self)
    }
}

impl<T: Element> Neg for Tensor<T> {
    type Output = Tensor<T>;
    #[track_caller]
    fn neg(self) -> Tensor<T> {
        Tensor::neg(&self)
    }
}

#[cfg(test)]
mod tests {
    use crate::Tensor;

    #[test]
    fn scalars_on_either_side() {
        let x = Tensor::from_vec(vec![1.0f32, 2.0, 4.0], &[3]).unwrap();
        assert_eq!((1.0 - &x).to_vec(), vec![0.0, -1.0, -3.0]);
        assert_eq!((4.0 / &x).to_vec(), vec![4.0, 2.0, 1.0]);
        assert_eq!((&x / 2.0).to_vec(), vec![0.5, 1.0, 2.0]);
        assert_eq!((-(&x * 2.0) + 1.0).to_vec(), vec![-1.0, -3.0, -7.0]);
    }
}
