//! The derivative table: every primitive op, its forward and its backward side by side.
//!
//! Each family lives in one file: an enum of its ops, a `forward` on arrays and a `backward`
//! written with tensor ops (so second derivatives come for free), plus the public `Tensor`
//! methods that call them. The `match` below is exhaustive: a primitive without a backward
//! rule does not compile. Composites (mean, softmax, the losses…) are built from primitives
//! and have no backward of their own.

mod binary;
pub(crate) mod conv;
mod index;
mod matmul;
mod movement;
mod pool;
mod reduce;
mod softmax;
mod unary;

use smallvec::{SmallVec, smallvec};

pub(crate) use binary::{Binary, Comparison, Select};
pub(crate) use conv::Conv;
pub use conv::{ConvOptions, Padding, Pair};
pub(crate) use index::Indexing;
pub(crate) use movement::Movement;
pub(crate) use reduce::{How, Reduce};
pub(crate) use softmax::log_softmax_forward;
pub(crate) use unary::Unary;

use crate::custom::Custom;
use crate::element::Element;
use crate::tensor::Tensor;

/// One gradient per input; `None` where an input needs none.
pub(crate) type Grads<T> = SmallVec<[Option<Tensor<T>>; 2]>;

/// A primitive op as recorded on the tape.
pub(crate) enum Op<T: Element> {
    Unary(Unary<T>),
    Binary(Binary),
    Select(Select<T>),
    Reduce(Reduce),
    Movement(Movement),
    Matmul,
    /// Boxed, as `Indexing`: every node is as large as the largest op (a tensor was 296
    /// bytes with it inline, 240 boxed).
    Conv(Box<Conv>),
    LogSoftmax(usize),
    Indexing(Box<Indexing>),
    Custom(Custom<T>),
}

impl<T: Element> Op<T> {
    /// The op's name as users know it: `"matmul"`, `"relu"`.
    pub(crate) fn name(&self) -> &str {
        match self {
            Op::Unary(op) => op.name(),
            Op::Binary(op) => op.name(),
            Op::Select(_) => "where_cond",
            Op::Reduce(op) => op.name(),
            Op::Movement(op) => op.name(),
            Op::Matmul => "matmul",
            Op::Conv(op) => op.name(),
            Op::LogSoftmax(_) => "log_softmax",
            Op::Indexing(op) => op.name(),
            Op::Custom(op) => op.name(),
        }
    }

    /// The gradients of the inputs, given the output and its gradient `grad`. Unless
    /// `retain`, the op may release what it saved (this is its only backward pass).
    pub(crate) fn backward(&self, inputs: &[Tensor<T>], output: &Tensor<T>, grad: Tensor<T>, retain: bool) -> Grads<T> {
        match self {
            Op::Unary(op) => smallvec![Some(op.backward(&inputs[0], output, grad))],
            Op::Binary(op) => op.backward(&inputs[0], &inputs[1], output, &grad),
            Op::Select(op) => op.backward(&inputs[0], &inputs[1], &grad),
            Op::Reduce(op) => smallvec![Some(op.backward(&inputs[0], output, &grad))],
            Op::Movement(op) => op.backward(inputs, &grad),
            Op::Matmul => matmul::backward(&inputs[0], &inputs[1], &grad),
            Op::Conv(op) => op.backward(&inputs[0], &inputs[1], &grad),
            Op::LogSoftmax(axis) => smallvec![Some(softmax::log_softmax_backward(*axis, output, &grad))],
            Op::Indexing(op) => smallvec![Some(op.backward(&inputs[0], &grad))],
            Op::Custom(op) => op.backward(inputs, output, &grad, retain),
        }
    }
}

/// `Some(gradient())` if `input` needs a gradient; skips the work otherwise.
pub(crate) fn grad_if<T: Element>(input: &Tensor<T>, gradient: impl FnOnce() -> Tensor<T>) -> Option<Tensor<T>> {
    input.tracks_grad().then(gradient)
}

/// A constant tensor computed elementwise from `x`'s value: masks and slopes in backward
/// rules (their own derivative is zero almost everywhere, so they record nothing).
pub(crate) fn constant<T: Element>(x: &Tensor<T>, f: impl Fn(T) -> T + Sync + Send) -> Tensor<T> {
    Tensor::from_array(x.value_ref().map(f))
}
