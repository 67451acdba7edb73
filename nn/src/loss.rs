//! Losses: how wrong a prediction is, as one number to minimise.
//!
//! Regression: [`mse_loss`], [`l1_loss`], [`huber_loss`] on predictions and targets of the
//! same shape. Classification: [`cross_entropy`] from logits `[n, classes]` and class indices
//! `[n]` (or [`cross_entropy_soft`] for one-hot or soft targets), [`nll_loss`] from
//! log-probabilities, [`binary_cross_entropy_with_logits`] for one output per sample. All are
//! built from tensor ops (their gradients come from the ops), computed through
//! log-softmax or softplus so huge logits give exact, finite losses.
//!
//! Mismatched shapes are refused rather than broadcast: a `[64, 1]` prediction against a
//! `[64]` target would silently compare every prediction with every target.

use tapegrad_autograd::{Element, Indices, Tensor, lit};

/// How per-element losses become the result.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Reduction {
    /// Their mean (the default, as in PyTorch).
    #[default]
    Mean,
    /// Their sum.
    Sum,
    /// No reduction: one loss per element (per sample for cross-entropy).
    None,
}

impl Reduction {
    fn apply<T: Element>(self, losses: Tensor<T>) -> Tensor<T> {
        match self {
            Reduction::Mean => losses.mean(),
            Reduction::Sum => losses.sum(),
            Reduction::None => losses,
        }
    }
}

#[track_caller]
fn same_shape<T: Element>(op: &str, prediction: &Tensor<T>, target: &Tensor<T>) {
    if prediction.shape() != target.shape() {
        panic!(
            "{op}: prediction {:?} and target {:?} differ in shape (they would broadcast, comparing every prediction with every target); reshape one to match",
            prediction.shape(),
            target.shape()
        );
    }
}

/// Mean squared error: (prediction − target)², reduced.
///
/// # Panics
/// If the shapes differ.
///
/// ```
/// use tapegrad_autograd::Tensor;
/// use tapegrad_nn::{Reduction, mse_loss};
/// let p = Tensor::from_vec(vec![1.0f32, 2.0], &[2]).unwrap();
/// let t = Tensor::from_vec(vec![1.0f32, 4.0], &[2]).unwrap();
/// assert_eq!(mse_loss(&p, &t, Reduction::Mean).item(), 2.0);
/// ```
#[track_caller]
pub fn mse_loss<T: Element>(prediction: &Tensor<T>, target: &Tensor<T>, reduction: Reduction) -> Tensor<T> {
    same_shape("mse_loss", prediction, target);
    reduction.apply((prediction - target).square())
}

/// Mean absolute error (L1): |prediction − target|, reduced.
///
/// # Panics
/// If the shapes differ.
#[doc(alias = "mae")]
#[track_caller]
pub fn l1_loss<T: Element>(prediction: &Tensor<T>, target: &Tensor<T>, reduction: Reduction) -> Tensor<T> {
    same_shape("l1_loss", prediction, target);
    reduction.apply((prediction - target).abs())
}

/// Huber loss: ½d² where |d| < δ, δ(|d| − ½δ) beyond (d = prediction − target): squared
/// near the target, linear (robust to outliers) far from it.
///
/// # Panics
/// If the shapes differ or `delta` is not positive.
///
/// ```
/// use tapegrad_autograd::Tensor;
/// use tapegrad_nn::{Reduction, huber_loss};
/// let p = Tensor::from_vec(vec![0.5f64, 3.0], &[2]).unwrap();
/// let l = huber_loss(&p, &Tensor::zeros(&[2]), 1.0, Reduction::None);
/// assert_eq!(l.to_vec(), vec![0.125, 2.5]);
/// ```
#[track_caller]
pub fn huber_loss<T: Element>(
    prediction: &Tensor<T>,
    target: &Tensor<T>,
    delta: f64,
    reduction: Reduction,
) -> Tensor<T> {
    same_shape("huber_loss", prediction, target);
    if delta <= 0.0 {
        panic!("huber_loss: delta {delta} must be positive");
    }
    let d = prediction - target;
    let small = d.abs().lt(&Tensor::scalar(lit(delta)));
    let quadratic = d.square() * lit::<T>(0.5);
    let linear = (d.abs() - lit::<T>(0.5 * delta)) * lit::<T>(delta);
    reduction.apply(small.where_cond(&quadratic, &linear))
}

#[track_caller]
fn check_classes<T: Element>(op: &str, scores: &Tensor<T>, targets: &Indices) {
    if scores.ndim() != 2 {
        panic!("{op}: expected scores [batch, classes], got {:?}", scores.shape());
    }
    let (n, classes) = (scores.shape()[0], scores.shape()[1]);
    if targets.shape() != [n] {
        panic!("{op}: scores {:?} need one target per row, [{n}]; got targets {:?}", scores.shape(), targets.shape());
    }
    if let Some((row, &class)) = targets.as_slice().iter().enumerate().find(|(_, c)| **c >= classes) {
        panic!(
            "{op}: target class {class} at row {row} is out of range for {classes} classes (scores {:?})",
            scores.shape()
        );
    }
}

/// Cross-entropy from raw scores (logits `[n, classes]`) and class indices (`[n]`):
/// −ln softmax(logits)`[target]`, computed through log-softmax, so it is finite and exact even
/// for logits of ±1000.
///
/// # Panics
/// If the logits are not 2-D, the targets are not one per row, or a class is out of range
/// (the message names the row, the class and the number of classes).
///
/// ```
/// use tapegrad_autograd::{Indices, Tensor};
/// use tapegrad_nn::{Reduction, cross_entropy};
/// let logits = Tensor::from_vec(vec![2.0f64, 1.0, 0.1], &[1, 3]).unwrap();
/// let loss = cross_entropy(&logits, &Indices::from(vec![0]), Reduction::Mean);
/// let p0 = 2f64.exp() / (2f64.exp() + 1f64.exp() + 0.1f64.exp());
/// assert!((loss.item() + p0.ln()).abs() < 1e-12);
/// ```
#[track_caller]
pub fn cross_entropy<T: Element>(logits: &Tensor<T>, targets: &Indices, reduction: Reduction) -> Tensor<T> {
    check_classes("cross_entropy", logits, targets);
    nll(&logits.log_softmax(1), targets, reduction)
}

/// Negative log-likelihood from log-probabilities `[n, classes]` (e.g. the output of
/// `log_softmax`) and class indices `[n]`.
///
/// # Panics
/// As [`cross_entropy`].
#[track_caller]
pub fn nll_loss<T: Element>(log_probs: &Tensor<T>, targets: &Indices, reduction: Reduction) -> Tensor<T> {
    check_classes("nll_loss", log_probs, targets);
    nll(log_probs, targets, reduction)
}

fn nll<T: Element>(log_probs: &Tensor<T>, targets: &Indices, reduction: Reduction) -> Tensor<T> {
    let n = targets.len();
    let picked = log_probs.gather(1, &targets.reshape(&[n, 1])).reshape([n]);
    reduction.apply(-picked)
}

/// Cross-entropy against target distributions `[n, classes]` (one-hot rows or soft
/// labels): −Σ target·ln softmax(logits) per row.
///
/// # Panics
/// If the shapes differ or are not 2-D.
///
/// ```
/// use tapegrad_autograd::{Indices, Tensor};
/// use tapegrad_nn::{Reduction, cross_entropy, cross_entropy_soft};
/// let logits = Tensor::from_vec(vec![0.3f64, -1.0, 2.0, 0.0, 0.5, 0.5], &[2, 3]).unwrap();
/// let labels = Indices::from(vec![2, 0]);
/// let hard = cross_entropy(&logits, &labels, Reduction::Mean);
/// let soft = cross_entropy_soft(&logits, &Tensor::one_hot(&labels, 3), Reduction::Mean);
/// assert!((hard.item() - soft.item()).abs() < 1e-12);
/// ```
#[track_caller]
pub fn cross_entropy_soft<T: Element>(logits: &Tensor<T>, targets: &Tensor<T>, reduction: Reduction) -> Tensor<T> {
    same_shape("cross_entropy_soft", logits, targets);
    if logits.ndim() != 2 {
        panic!("cross_entropy_soft: expected logits [batch, classes], got {:?}", logits.shape());
    }
    reduction.apply(-(targets * &logits.log_softmax(1)).sum_dim(1, false))
}

/// Binary cross-entropy from logits (one score per sample, any shape) and 0/1 (or soft)
/// targets of the same shape: softplus(x) − x·y, the stable form of
/// −[y·ln σ(x) + (1 − y)·ln(1 − σ(x))].
///
/// # Panics
/// If the shapes differ.
///
/// ```
/// use tapegrad_autograd::Tensor;
/// use tapegrad_nn::{Reduction, binary_cross_entropy_with_logits};
/// let x = Tensor::from_vec(vec![1000.0f32, -1000.0], &[2]).unwrap();
/// let y = Tensor::from_vec(vec![1.0f32, 1.0], &[2]).unwrap();
/// assert_eq!(binary_cross_entropy_with_logits(&x, &y, Reduction::None).to_vec(), vec![0.0, 1000.0]);
/// ```
#[track_caller]
pub fn binary_cross_entropy_with_logits<T: Element>(
    logits: &Tensor<T>,
    targets: &Tensor<T>,
    reduction: Reduction,
) -> Tensor<T> {
    same_shape("binary_cross_entropy_with_logits", logits, targets);
    reduction.apply(logits.softplus() - logits * targets)
}

/// Binary cross-entropy from probabilities in [0, 1]; logarithms are clamped at −100 as in
/// PyTorch, so a confident wrong answer costs 100, not infinity. Prefer the logits form.
///
/// # Panics
/// If the shapes differ.
#[track_caller]
pub fn binary_cross_entropy<T: Element>(probs: &Tensor<T>, targets: &Tensor<T>, reduction: Reduction) -> Tensor<T> {
    same_shape("binary_cross_entropy", probs, targets);
    let floor = lit::<T>(-100.0);
    let log_p = probs.ln().clamp(floor, T::zero());
    let log_q = (-probs + T::one()).ln().clamp(floor, T::zero());
    reduction.apply(-(targets * &log_p + (-targets + T::one()) * &log_q))
}
