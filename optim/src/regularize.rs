//! L1 and L2 weight penalties, added to the loss with a rate: the TensorFlow Playground's
//! "regularization" and "regularization rate". Both are built from tensor ops (`abs`,
//! `square`, `sum`), so their gradients come from the tape like any loss term's.

use tapegrad_autograd::{Element, Tensor, lit};

use crate::error::number;

/// The L1 penalty `rate · Σ|θ|` over all `params`, a scalar tensor to add to the loss, as the
/// Playground's L1 (`output(w) = |w|`, `der(w) = sign(w)`):
///
/// ```text
/// l1_penalty(θ, r) = r · Σ|θ|        ∂/∂θ = r · sign(θ)   (0 at θ = 0)
/// ```
///
/// Its pull has the same size `rate` however small a weight is, so it drives the weights the
/// data does not need to (nearly) zero: a sparse model. Pass only the weights you want
/// regularized: the Playground, like most practice, leaves biases alone.
///
/// One difference from the Playground: it applies the L1 pull outside the gradient and
/// sets a weight that the pull would carry across zero to exactly zero. Here the penalty is
/// an ordinary loss term, so under gradient descent such a weight hovers within about
/// `lr · rate` of zero (annealing the learning rate brings it to zero).
///
/// # Panics
/// If `rate` is negative or not finite.
///
/// ```
/// use tapegrad_autograd::Tensor;
/// use tapegrad_optim::l1_penalty;
/// let w = Tensor::from_vec(vec![0.5f64, -2.0], &[2]).unwrap().requires_grad();
/// let penalty = l1_penalty(&[w.clone()], 0.1);
/// assert!((penalty.item() - 0.25).abs() < 1e-15); // 0.1 · (0.5 + 2)
/// penalty.backward();
/// assert_eq!(w.grad().unwrap().to_vec(), vec![0.1, -0.1]); // rate · sign(θ)
/// ```
#[track_caller]
pub fn l1_penalty<T: Element>(params: &[Tensor<T>], rate: f64) -> Tensor<T> {
    check_rate("l1_penalty", rate);
    total(params, |p| p.abs().sum()).mul_scalar(lit(rate))
}

/// The L2 penalty `rate · ½ Σθ²` over all `params`, a scalar tensor to add to the loss:
///
/// ```text
/// l2_penalty(θ, r) = r · ½ Σθ²       ∂/∂θ = r · θ
/// ```
///
/// The ½ is the Playground's convention (its L2 `output(w) = ½w²`, `der(w) = w`): with it
/// the gradient is exactly `rate · θ`, the same as SGD's coupled `weight_decay = rate`.
/// Its pull shrinks in proportion to the weight, so L2 shrinks all weights without zeroing
/// any. Pass only the weights you want regularized (usually not the biases).
///
/// # Panics
/// If `rate` is negative or not finite.
///
/// ```
/// use tapegrad_autograd::Tensor;
/// use tapegrad_optim::l2_penalty;
/// let w = Tensor::from_vec(vec![0.5f64, -2.0], &[2]).unwrap().requires_grad();
/// let penalty = l2_penalty(&[w.clone()], 0.1);
/// assert!((penalty.item() - 0.2125).abs() < 1e-15); // 0.1 · ½ · (0.25 + 4)
/// penalty.backward();
/// assert_eq!(w.grad().unwrap().to_vec(), vec![0.05, -0.2]); // rate · θ
/// ```
#[doc(alias = "weight_decay")]
#[track_caller]
pub fn l2_penalty<T: Element>(params: &[Tensor<T>], rate: f64) -> Tensor<T> {
    check_rate("l2_penalty", rate);
    total(params, |p| p.square().sum()).mul_scalar(lit(0.5 * rate))
}

/// Σ over params of `term(p)`; a constant 0 for no params.
fn total<T: Element>(params: &[Tensor<T>], term: impl Fn(&Tensor<T>) -> Tensor<T>) -> Tensor<T> {
    params.iter().map(term).reduce(|a, b| a + b).unwrap_or_else(|| Tensor::scalar(T::zero()))
}

#[track_caller]
fn check_rate(function: &str, rate: f64) {
    if !(rate.is_finite() && rate >= 0.0) {
        panic!("{function}: rate {} must be finite and ≥ 0", number(rate));
    }
}
