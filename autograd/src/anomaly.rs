//! Anomaly mode: find the first op whose forward or backward produced NaN or infinity.
//!
//! Off by default and free when off (one thread-local read per op). When on, every op's
//! output and every gradient is scanned, and the first non-finite value stops the program
//! with the op's name, its input shapes and the user's source line that created it.

use std::cell::Cell;
use std::panic::Location;

use crate::array::Array;
use crate::element::Element;
use crate::tensor::{Node, Tensor};

thread_local! {
    static ENABLED: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f` with anomaly detection on for this thread (as `torch.autograd.detect_anomaly`).
///
/// # Panics
/// Inside `f`, at the first op whose forward or backward produces NaN or infinity.
///
/// ```should_panic
/// use tapegrad_autograd::{Tensor, detect_anomaly};
/// let x = Tensor::from_vec(vec![-1.0f32], &[1]).unwrap().requires_grad();
/// detect_anomaly(|| x.sqrt()); // panics: "anomaly: sqrt produced NaN …"
/// ```
pub fn detect_anomaly<R>(f: impl FnOnce() -> R) -> R {
    with_anomaly_mode(true, f)
}

/// Runs a backward rule without checking the ops inside it one by one: its result is
/// checked as a whole, and blamed on the op whose rule it is.
pub(crate) fn paused<R>(f: impl FnOnce() -> R) -> R {
    with_anomaly_mode(false, f)
}

fn with_anomaly_mode<R>(enabled: bool, f: impl FnOnce() -> R) -> R {
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            ENABLED.with(|e| e.set(self.0));
        }
    }
    let _restore = Restore(ENABLED.with(|e| e.replace(enabled)));
    f()
}

#[inline]
pub(crate) fn is_enabled() -> bool {
    ENABLED.with(|e| e.get())
}

/// The first non-finite element: its flat index and value.
fn first_bad<T: Element>(a: &Array<T>) -> Option<(usize, T)> {
    a.to_vec().into_iter().enumerate().find(|(_, v)| !v.is_finite())
}

fn describe<T: Element>(v: T) -> &'static str {
    if v.is_nan() { "NaN" } else { "infinity" }
}

pub(crate) fn check_forward<T: Element>(value: &Array<T>, op: &str, inputs: &[&Tensor<T>], at: &Location<'_>) {
    let Some((index, bad)) = first_bad(value) else { return };
    let shapes: Vec<&[usize]> = inputs.iter().map(|t| t.shape()).collect();
    let inputs_finite = inputs.iter().all(|t| first_bad(&t.value()).is_none());
    panic!(
        "anomaly: {op} produced {} in its forward pass at element {index} of its output {:?}; input shapes {shapes:?} ({}); called at {}:{}",
        describe(bad),
        value.shape(),
        if inputs_finite { "all inputs finite" } else { "an input was already not finite" },
        at.file(),
        at.line()
    );
}

pub(crate) fn check_backward<T: Element>(grad: &Tensor<T>, node: &Node<T>, inputs: &[Tensor<T>], input: usize) {
    let Some((index, bad)) = first_bad(&grad.value()) else { return };
    let shapes: Vec<&[usize]> = inputs.iter().map(|t| t.shape()).collect();
    panic!(
        "anomaly: the backward of {} produced {} at element {index} of the gradient of input {input}; input shapes {shapes:?}; the op was called at {}:{}",
        node.op.name(),
        describe(bad),
        node.location.file(),
        node.location.line()
    );
}
