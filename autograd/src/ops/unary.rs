//! Elementwise functions of one tensor: each a value and a derivative, next to each other.
//!
//! Adding an activation is one variant, one line in `forward`, one line in `backward`, one
//! public method and one gradcheck row.

use std::f64::consts::{FRAC_1_SQRT_2, PI};

use smallvec::smallvec;

use super::{Op, constant};
use crate::anomaly;
use crate::array::for_each_piece;
use crate::element::{Element, lit};
use crate::graph::is_grad_enabled;
use crate::tensor::FUSE_MIN;
use crate::tensor::Tensor;

#[derive(Clone, Copy, Debug)]
pub(crate) enum Unary<T> {
    Neg,
    Recip,
    Exp,
    Ln,
    Sqrt,
    Abs,
    Sin,
    Cos,
    Erf,
    Relu,
    LeakyRelu(T),
    Sigmoid,
    Tanh,
    Softplus,
    Gelu,
    AddScalar(T),
    MulScalar(T),
    DivScalar(T),
    Powf(T),
    Clamp(T, T),
}

impl<T: Element> Unary<T> {
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Unary::Neg => "neg",
            Unary::Recip => "recip",
            Unary::Exp => "exp",
            Unary::Ln => "ln",
            Unary::Sqrt => "sqrt",
            Unary::Abs => "abs",
            Unary::Sin => "sin",
            Unary::Cos => "cos",
            Unary::Erf => "erf",
            Unary::Relu => "relu",
            Unary::LeakyRelu(_) => "leaky_relu",
            Unary::Sigmoid => "sigmoid",
            Unary::Tanh => "tanh",
            Unary::Softplus => "softplus",
            Unary::Gelu => "gelu",
            Unary::AddScalar(_) => "add_scalar",
            Unary::MulScalar(_) => "mul_scalar",
            Unary::DivScalar(_) => "div_scalar",
            Unary::Powf(_) => "powf",
            Unary::Clamp(..) => "clamp",
        }
    }

    /// y = f(x), elementwise, in place: the op's value function. Chains of these are fused
    /// (see `Tensor::unary`).
    pub(crate) fn apply(&self, x: &mut [T]) {
        let zero = T::zero();
        match *self {
            Unary::Neg => each(x, |v| -v),
            Unary::Recip => each(x, |v| v.recip()),
            Unary::Exp => T::exp_in_place(x),
            Unary::Ln => each(x, |v| v.ln()),
            Unary::Sqrt => each(x, |v| v.sqrt()),
            Unary::Abs => each(x, |v| v.abs()),
            Unary::Sin => each(x, |v| v.sin()),
            Unary::Cos => each(x, |v| v.cos()),
            Unary::Erf => each(x, |v| v.erf()),
            // Ops that keep some elements as they are add zero (exact; -0 becomes +0): the
            // store is then unconditional. Otherwise LLVM, built for AVX2, writes only the
            // changed elements with masked stores, which AMD CPUs run microcoded (relu ran
            // at a third of memory speed: BENCHMARKS.md, W4).
            Unary::Relu => each(x, |v| (if v < zero { zero } else { v }) + zero),
            Unary::LeakyRelu(slope) => each(x, |v| (if v < zero { v * slope } else { v }) + zero),
            Unary::Sigmoid => each(x, sigmoid),
            Unary::Tanh => T::tanh_in_place(x),
            Unary::Softplus => each(x, |v| v.max(zero) + (-v.abs()).exp().ln_1p()),
            Unary::Gelu => each(x, |v| lit::<T>(0.5) * v * (T::one() + (v * lit(FRAC_1_SQRT_2)).erf())),
            Unary::AddScalar(c) => each(x, |v| v + c),
            Unary::MulScalar(c) => each(x, |v| v * c),
            Unary::DivScalar(c) => each(x, |v| v / c),
            Unary::Powf(p) => each(x, |v| v.powf(p)),
            Unary::Clamp(low, high) => each(x, |v| {
                (if v < low {
                    low
                } else if v > high {
                    high
                } else {
                    v
                }) + zero
            }),
        }
    }

    /// dL/dx = dL/dy · f′(x), given x, y = f(x) and g = dL/dy.
    pub(crate) fn backward(&self, x: &Tensor<T>, y: &Tensor<T>, g: Tensor<T>) -> Tensor<T> {
        let g = if is_grad_enabled() {
            g
        } else {
            match self.backward_in_one_pass(x, y, g) {
                Ok(dx) => return dx,
                Err(g) => g,
            }
        };
        let g = &g;
        let (zero, one) = (T::zero(), T::one());
        match *self {
            Unary::Neg => -g,                     // d(−x) = −1
            Unary::Recip => -(g * y * y),         // d(1/x) = −1/x²
            Unary::Exp => g * y,                  // d eˣ = eˣ
            Unary::Ln => g / x,                   // d ln x = 1/x
            Unary::Sqrt => g / y * lit::<T>(0.5), // d √x = 1/(2√x)
            Unary::Abs => {
                g * constant(x, |v| {
                    if v > zero {
                        one
                    } else if v < zero {
                        -one
                    } else {
                        zero
                    }
                })
            } // d|x| = sign x
            Unary::Sin => g * x.cos(),            // d sin x = cos x
            Unary::Cos => -(g * x.sin()),         // d cos x = −sin x
            Unary::Erf => g * (-(x * x)).exp() * lit::<T>(2.0 / PI.sqrt()), // d erf x = 2/√π e^(−x²)
            Unary::Relu => g * constant(x, |v| if v > zero { one } else { zero }), // 1 where x > 0
            Unary::LeakyRelu(s) => g * constant(x, |v| if v > zero { one } else { s }),
            Unary::Sigmoid => g * &(y - y * y),   // σ′ = σ(1 − σ)
            Unary::Tanh => g * &(-(y * y) + one), // tanh′ = 1 − tanh²
            Unary::Softplus => g * x.sigmoid(),   // d ln(1 + eˣ) = σ(x)
            Unary::Gelu => {
                // d/dx x·Φ(x) = Φ(x) + x·φ(x)
                let cdf = ((x * lit::<T>(FRAC_1_SQRT_2)).erf() + one) * lit::<T>(0.5);
                let pdf = (-(x * x) * lit::<T>(0.5)).exp() * lit::<T>(1.0 / (2.0 * PI).sqrt());
                g * &(cdf + x * &pdf)
            }
            Unary::AddScalar(_) => g.clone(),          // d(x + c) = 1
            Unary::MulScalar(c) => g * c,              // d(cx) = c
            Unary::DivScalar(c) => g / c,              // d(x/c) = 1/c
            Unary::Powf(p) if p == zero => g * zero,   // d x⁰ = 0, even at x = 0
            Unary::Powf(p) => g * x.powf(p - one) * p, // d xᵖ = p·xᵖ⁻¹
            Unary::Clamp(low, high) => g * constant(x, |v| if v >= low && v <= high { one } else { zero }),
        }
    }
}

impl<T: Element> Unary<T> {
    /// The rules above whose tensor-op form takes several passes, computed in one: used when
    /// no graph of the gradient is recorded (a plain `backward()`), where each of those ops
    /// would cost an allocation and a trip through memory (and, for the one-op rules of
    /// the scalar ops, the bookkeeping of a tensor op, which is most of their cost on
    /// small tensors). When the walk holds the only handle to `g` (as along a chain of
    /// ops), the result is written over `g`'s own buffer: no allocation, and no freeing of
    /// `g` after. The arithmetic is the rule's own, operation for operation, so the two
    /// agree to the bit (tested below); the tensor-op form stays the definition, and the one
    /// second derivatives differentiate. Values are read only by the ops that have such a
    /// rule (reading a lazy value computes it). `Err(g)` for an op with no such rule.
    fn backward_in_one_pass(&self, x: &Tensor<T>, y: &Tensor<T>, g: Tensor<T>) -> Result<Tensor<T>, Tensor<T>> {
        let (zero, one) = (T::zero(), T::one());
        Ok(match *self {
            Unary::MulScalar(c) => scaled(g, move |g| g * c),
            Unary::DivScalar(c) => scaled(g, move |g| g / c),
            Unary::Tanh => with(g, y, move |g, y| g * (-(y * y) + one)),
            Unary::Sigmoid => with(g, y, |g, y| g * (y - y * y)),
            Unary::Relu => with(g, x, move |g, x| g * if x > zero { one } else { zero }),
            Unary::LeakyRelu(s) => with(g, x, move |g, x| g * if x > zero { one } else { s }),
            Unary::Clamp(low, high) => with(g, x, move |g, x| g * if x >= low && x <= high { one } else { zero }),
            _ => return Err(g),
        })
    }
}

/// `f(g, a)` elementwise: in `g`'s own buffer if nothing else can see it and `a` is laid
/// out like it (contiguous), else into a new one. Large ones in pieces on all threads.
fn with<T: Element>(mut g: Tensor<T>, a: &Tensor<T>, f: impl Fn(T, T) -> T + Sync + Send) -> Tensor<T> {
    let a = a.value_ref();
    if let Some(a) = a.as_slice()
        && let Some(out) = g.unique_data_mut()
        && out.len() == a.len()
    {
        for_each_piece(a.len(), [out], |range, [out]| {
            out.iter_mut().zip(&a[range]).for_each(|(o, &v)| *o = f(*o, v));
        });
        return g;
    }
    Tensor::from_array(g.value_ref().zip_map(&a, f))
}

/// `f(g)` elementwise, in `g`'s own buffer if nothing else can see it (as [`with`]).
fn scaled<T: Element>(mut g: Tensor<T>, f: impl Fn(T) -> T + Sync + Send) -> Tensor<T> {
    if let Some(out) = g.unique_data_mut() {
        for_each_piece(out.len(), [out], |_, [out]| each(out, &f));
        return g;
    }
    Tensor::from_array(g.value_ref().map(f))
}

/// `f` applied to every element in place (a loop the compiler vectorizes).
#[inline(always)]
fn each<T: Element>(x: &mut [T], f: impl Fn(T) -> T) {
    for v in x {
        *v = f(*v);
    }
}

/// The logistic function, computed without overflow for large |v|.
fn sigmoid<T: Element>(v: T) -> T {
    if v >= T::zero() {
        T::one() / (T::one() + (-v).exp())
    } else {
        let e = v.exp();
        e / (T::one() + e)
    }
}

impl<T: Element> Tensor<T> {
    /// Applies `op`. On a large tensor whose result is not recorded (no gradient tracked),
    /// the result is lazy: it keeps the source and the chain of ops, which further unary ops
    /// extend, and is computed in one pass when first read. A chain like
    /// `(x * a + b).relu()` then reads x once and writes the result once.
    #[track_caller]
    pub(crate) fn unary(&self, op: Unary<T>) -> Tensor<T> {
        let recorded = is_grad_enabled() && self.tracks_grad();
        if !recorded && !anomaly::is_enabled() && self.numel() >= FUSE_MIN {
            return match self.pending_chain() {
                Some((source, mut chain)) => {
                    chain.push(op);
                    Tensor::lazy(source, chain)
                }
                None => Tensor::lazy(self.value(), smallvec![op]),
            };
        }
        let value = T::unary(&op, &self.value_ref());
        Tensor::from_op(value, Op::Unary(op), &[self])
    }

    /// 1/x, elementwise.
    #[track_caller]
    pub fn recip(&self) -> Tensor<T> {
        self.unary(Unary::Recip)
    }

    /// eˣ, elementwise.
    ///
    /// ```
    /// use tapegrad_autograd::Tensor;
    /// assert_eq!(Tensor::<f64>::zeros(&[2]).exp().to_vec(), vec![1.0, 1.0]);
    /// ```
    #[track_caller]
    pub fn exp(&self) -> Tensor<T> {
        self.unary(Unary::Exp)
    }

    /// The natural logarithm, elementwise.
    #[doc(alias = "log")]
    #[track_caller]
    pub fn ln(&self) -> Tensor<T> {
        self.unary(Unary::Ln)
    }

    /// √x, elementwise.
    #[track_caller]
    pub fn sqrt(&self) -> Tensor<T> {
        self.unary(Unary::Sqrt)
    }

    /// |x|, elementwise (gradient 0 at 0, as in PyTorch).
    #[track_caller]
    pub fn abs(&self) -> Tensor<T> {
        self.unary(Unary::Abs)
    }

    /// sin x, elementwise.
    #[track_caller]
    pub fn sin(&self) -> Tensor<T> {
        self.unary(Unary::Sin)
    }

    /// cos x, elementwise.
    #[track_caller]
    pub fn cos(&self) -> Tensor<T> {
        self.unary(Unary::Cos)
    }

    /// The error function, elementwise.
    #[track_caller]
    pub fn erf(&self) -> Tensor<T> {
        self.unary(Unary::Erf)
    }

    /// max(x, 0), elementwise (gradient 0 at 0).
    ///
    /// ```
    /// use tapegrad_autograd::Tensor;
    /// let x = Tensor::from_vec(vec![-1.0f32, 0.0, 2.0], &[3]).unwrap();
    /// assert_eq!(x.relu().to_vec(), vec![0.0, 0.0, 2.0]);
    /// ```
    #[track_caller]
    pub fn relu(&self) -> Tensor<T> {
        self.unary(Unary::Relu)
    }

    /// x for x ≥ 0, `negative_slope`·x below.
    #[track_caller]
    pub fn leaky_relu(&self, negative_slope: T) -> Tensor<T> {
        self.unary(Unary::LeakyRelu(negative_slope))
    }

    /// The logistic function 1/(1 + e⁻ˣ), elementwise; exact at large |x|.
    ///
    /// ```
    /// use tapegrad_autograd::Tensor;
    /// let y = Tensor::from_vec(vec![-1000.0f32, 0.0, 1000.0], &[3]).unwrap().sigmoid();
    /// assert_eq!(y.to_vec(), vec![0.0, 0.5, 1.0]);
    /// ```
    #[track_caller]
    pub fn sigmoid(&self) -> Tensor<T> {
        self.unary(Unary::Sigmoid)
    }

    /// The hyperbolic tangent, elementwise.
    #[track_caller]
    pub fn tanh(&self) -> Tensor<T> {
        self.unary(Unary::Tanh)
    }

    /// ln(1 + eˣ), elementwise, computed without overflow.
    #[track_caller]
    pub fn softplus(&self) -> Tensor<T> {
        self.unary(Unary::Softplus)
    }

    /// x·Φ(x) with Φ the standard normal CDF (PyTorch's default, exact GELU).
    #[track_caller]
    pub fn gelu(&self) -> Tensor<T> {
        self.unary(Unary::Gelu)
    }

    /// xᵖ for a constant exponent, elementwise.
    ///
    /// ```
    /// use tapegrad_autograd::Tensor;
    /// assert_eq!(Tensor::from_vec(vec![3.0f32], &[1]).unwrap().powf(2.0).to_vec(), vec![9.0]);
    /// ```
    #[doc(alias = "pow")]
    #[track_caller]
    pub fn powf(&self, exponent: T) -> Tensor<T> {
        self.unary(Unary::Powf(exponent))
    }

    /// x², elementwise.
    #[track_caller]
    pub fn square(&self) -> Tensor<T> {
        self.unary(Unary::Powf(lit(2.0)))
    }

    /// x limited to `[low, high]`; the gradient passes where `low ≤ x ≤ high`.
    #[track_caller]
    pub fn clamp(&self, low: T, high: T) -> Tensor<T> {
        self.unary(Unary::Clamp(low, high))
    }

    /// x + c for a constant c.
    #[track_caller]
    pub fn add_scalar(&self, c: T) -> Tensor<T> {
        self.unary(Unary::AddScalar(c))
    }

    /// c·x for a constant c.
    #[track_caller]
    pub fn mul_scalar(&self, c: T) -> Tensor<T> {
        self.unary(Unary::MulScalar(c))
    }

    /// x/c for a constant c.
    #[track_caller]
    pub fn div_scalar(&self, c: T) -> Tensor<T> {
        self.unary(Unary::DivScalar(c))
    }
}

#[cfg(test)]
mod tests {
    use crate::{Tensor, grad, grad_with};

    /// The one-pass rules give the tensor-op rules' bits, on a non-contiguous gradient too.
    #[test]
    fn one_pass_backward_rules_agree_bitwise_with_the_tensor_op_rules() {
        let values: Vec<f32> = (0..24).map(|i| (i as f32 - 11.5) * 0.37).chain([0.0, -0.5, 0.5, 1e-3]).collect();
        let n = values.len();
        let x = Tensor::from_vec(values, &[n]).unwrap().requires_grad();
        let g = Tensor::<f32>::from_vec((0..2 * n).map(|i| (i as f32 * 0.61).sin()).collect(), &[n, 2]).unwrap();
        let g = g.narrow(1, 1, 1).reshape([n]); // every second element: a strided view
        type Activation = fn(&Tensor) -> Tensor;
        let ops: [(&str, Activation); 7] = [
            ("mul_scalar", |x| x * 0.3),
            ("div_scalar", |x| x / 0.7),
            ("tanh", |x| x.tanh()),
            ("sigmoid", |x| x.sigmoid()),
            ("relu", |x| x.relu()),
            ("leaky_relu", |x| x.leaky_relu(0.1)),
            ("clamp", |x| x.clamp(-0.5, 0.5)),
        ];
        for (name, f) in ops {
            let y = f(&x);
            let fast = grad_with(&[&y], &[&g], &[&x], false).remove(0).to_vec();
            let composed = grad_with(&[&y], &[&g], &[&x], true).remove(0).to_vec();
            let bits = |v: &[f32]| v.iter().map(|e| e.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&fast), bits(&composed), "{name}");

            // Through `backward()`, where the walk holds the only handle to each gradient
            // after the first (`sum`'s is a broadcast view): the rules write over it.
            let loss = (&(&f(&x) * 1.5) / 0.7).sum();
            let composed = grad(&[&loss], &[&x], true).remove(0).to_vec();
            x.zero_grad();
            loss.backward();
            assert_eq!(bits(&x.grad().unwrap().to_vec()), bits(&composed), "{name} in place");
        }
    }

    /// Large gradients are written over in pieces on all threads, with the same bits.
    #[test]
    fn large_gradients_in_place_agree_bitwise() {
        let n = crate::array::PARALLEL_THRESHOLD + 1000;
        let x = Tensor::from_vec((0..n).map(|i| ((i % 97) as f32 - 48.0) * 0.05).collect(), &[n]).unwrap();
        let x = x.requires_grad();
        for (name, f) in [("tanh", Tensor::tanh as fn(&Tensor) -> Tensor), ("relu", Tensor::relu)] {
            let loss = (&(&f(&x) * 1.5) / 0.7).sum();
            let composed = grad(&[&loss], &[&x], true).remove(0).to_vec();
            x.zero_grad();
            loss.backward();
            let bits = |v: Vec<f32>| v.into_iter().map(f32::to_bits).collect::<Vec<_>>();
            assert!(bits(x.grad().unwrap().to_vec()) == bits(composed), "{name}");
        }
    }

    /// Writing a gradient in place never changes a tensor someone else holds.
    #[test]
    fn gradients_in_use_elsewhere_are_not_overwritten() {
        let x = Tensor::from_vec(vec![0.5f64, -1.0, 2.0], &[3]).unwrap().requires_grad();
        let y = x.tanh();
        let g = Tensor::from_vec(vec![1.0f64, 2.0, 3.0], &[3]).unwrap();
        y.backward_with(&g);
        assert_eq!(g.to_vec(), vec![1.0, 2.0, 3.0]);
        let expected: Vec<f64> =
            [0.5f64, -1.0, 2.0].iter().zip([1.0, 2.0, 3.0]).map(|(x, g)| g * (1.0 - x.tanh().powi(2))).collect();
        let got = x.grad().unwrap().to_vec();
        assert!(got.iter().zip(&expected).all(|(a, b)| (a - b).abs() < 1e-15), "{got:?} vs {expected:?}");

        // A gradient returned by `grad` for an intermediate tensor is not reused further down.
        let mid = &x * 3.0;
        let loss = (&mid.tanh() * 2.0).sum();
        let grads = grad(&[&loss], &[&mid, &x], false);
        let dmid: Vec<f64> = [1.5f64, -3.0, 6.0].iter().map(|m| 2.0 * (1.0 - m.tanh().powi(2))).collect();
        assert_eq!(grads[0].to_vec(), dmid);
        assert_eq!(grads[1].to_vec(), dmid.iter().map(|d| d * 3.0).collect::<Vec<_>>());
    }

    /// The ops that pass some elements through unchanged (written with an added zero, see
    /// `apply`) keep NaN and infinities, on large (fused) and small tensors alike.
    #[test]
    fn pass_through_ops_keep_nan_and_infinities() {
        for n in [5, 1 << 16] {
            let mut values = vec![f32::NAN, f32::INFINITY, f32::NEG_INFINITY, -2.0, 3.0];
            values.resize(n, 0.5);
            let x = Tensor::from_vec(values, &[n]).unwrap();
            let first = |t: Tensor| t.to_vec()[..5].to_vec();
            let relu = first(x.relu());
            assert!(relu[0].is_nan() && relu[1..] == [f32::INFINITY, 0.0, 0.0, 3.0], "relu {relu:?}");
            let leaky = first(x.leaky_relu(0.5));
            assert!(leaky[0].is_nan() && leaky[1..] == [f32::INFINITY, f32::NEG_INFINITY, -1.0, 3.0], "{leaky:?}");
            let clamped = first(x.clamp(-1.0, 1.0));
            assert!(clamped[0].is_nan() && clamped[1..] == [1.0, -1.0, -1.0, 1.0], "clamp {clamped:?}");
        }
    }
}
