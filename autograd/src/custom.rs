//! Ops defined outside tapegrad, as first-class as its own (PyTorch's `autograd.Function`).
//!
//! A crate implements [`Function`]: a forward that computes the output and saves what the
//! backward will need, and a backward that turns the output's gradient into the inputs'.
//! The backward sees only what the forward saved. Written with tensor ops, it also gives
//! second derivatives.

use std::sync::{Arc, Mutex};

use smallvec::SmallVec;

use crate::element::Element;
use crate::graph::no_grad;
use crate::ops::{Grads, Op};
use crate::shape::shape_panic;
use crate::tensor::Tensor;

/// An op with its forward and backward in one impl.
///
/// ```
/// use tapegrad_autograd::{Context, Function, Saved, Tensor};
///
/// /// x³, with its derivative 3x².
/// struct Cube;
///
/// impl Function<f64> for Cube {
///     fn name(&self) -> &str {
///         "cube"
///     }
///     fn forward(&self, ctx: &mut Context<f64>, inputs: &[Tensor<f64>]) -> Tensor<f64> {
///         ctx.save(&inputs[0]);
///         inputs[0].powf(3.0)
///     }
///     fn backward(&self, saved: &Saved<f64>, grad: &Tensor<f64>) -> Vec<Option<Tensor<f64>>> {
///         let x = saved.get(0);
///         vec![Some(grad * &x.square() * 3.0)]
///     }
/// }
///
/// let x = Tensor::from_vec(vec![2.0], &[1]).unwrap().requires_grad();
/// Cube.apply(&[&x]).sum().backward();
/// assert_eq!(x.grad().unwrap().to_vec(), vec![12.0]);
/// ```
pub trait Function<T: Element>: Send + Sync + 'static {
    /// The op's name, shown in errors, anomaly reports and graph exports.
    fn name(&self) -> &str;

    /// Computes the output from the inputs' values. The inputs arrive detached, so nothing
    /// here is recorded; save what the backward needs with [`Context::save`].
    fn forward(&self, ctx: &mut Context<T>, inputs: &[Tensor<T>]) -> Tensor<T>;

    /// One gradient per input (`None` for an input that gets none), given the saved
    /// tensors and the gradient of the output.
    fn backward(&self, saved: &Saved<T>, grad_output: &Tensor<T>) -> Vec<Option<Tensor<T>>>;

    /// Runs the op on `inputs`, recording it on the tape like a built-in op.
    ///
    /// # Panics
    /// If the forward's output is the wrong kind of value (see [`Function::forward`]).
    #[track_caller]
    fn apply(self, inputs: &[&Tensor<T>]) -> Tensor<T>
    where
        Self: Sized,
    {
        apply(Arc::new(self), inputs)
    }
}

/// What a custom op's forward keeps for its backward.
pub struct Context<T: Element> {
    detached: Vec<Tensor<T>>,
    slots: Vec<Slot<T>>,
    save_output: bool,
}

#[derive(Clone)]
enum Slot<T: Element> {
    /// One of the op's inputs: given back as the original (tracked) tensor, so a backward
    /// written with tensor ops can be differentiated again.
    Input(usize),
    /// Any other value, kept as a constant.
    Value(Tensor<T>),
}

impl<T: Element> Context<T> {
    /// Keeps `tensor` for the backward: an input, or any value computed in the forward.
    /// For second derivatives, save inputs (or the output) and recompute the rest in the
    /// backward: other saved values are constants.
    pub fn save(&mut self, tensor: &Tensor<T>) {
        let slot = match self.detached.iter().position(|d| d.same(tensor)) {
            Some(i) => Slot::Input(i),
            None => Slot::Value(tensor.detach()),
        };
        self.slots.push(slot);
    }

    /// Makes the op's output available to the backward through [`Saved::output`].
    pub fn save_output(&mut self) {
        self.save_output = true;
    }
}

/// The tensors a custom op's forward saved, in the order it saved them.
pub struct Saved<'a, T: Element> {
    tensors: Vec<Tensor<T>>,
    output: Option<&'a Tensor<T>>,
    name: &'a str,
}

impl<T: Element> Saved<'_, T> {
    /// The `i`-th saved tensor.
    ///
    /// # Panics
    /// If fewer than `i + 1` tensors were saved.
    #[track_caller]
    pub fn get(&self, i: usize) -> &Tensor<T> {
        self.tensors.get(i).unwrap_or_else(|| {
            shape_panic(format!(
                "{}: backward asked for saved tensor {i}, but forward saved {}",
                self.name,
                self.tensors.len()
            ))
        })
    }

    /// The number of saved tensors.
    pub fn len(&self) -> usize {
        self.tensors.len()
    }

    /// Whether nothing was saved.
    pub fn is_empty(&self) -> bool {
        self.tensors.is_empty()
    }

    /// The op's output.
    ///
    /// # Panics
    /// If the forward did not call [`Context::save_output`].
    #[track_caller]
    pub fn output(&self) -> &Tensor<T> {
        self.output.unwrap_or_else(|| {
            shape_panic(format!("{}: backward asked for the output, but forward did not call save_output()", self.name))
        })
    }
}

/// A recorded custom op.
pub(crate) struct Custom<T: Element> {
    function: Arc<dyn Function<T>>,
    /// Taken by a backward pass that frees the graph.
    slots: Mutex<Vec<Slot<T>>>,
    save_output: bool,
}

impl<T: Element> Custom<T> {
    pub(crate) fn name(&self) -> &str {
        self.function.name()
    }

    pub(crate) fn backward(
        &self,
        inputs: &[Tensor<T>],
        output: &Tensor<T>,
        grad: &Tensor<T>,
        retain: bool,
    ) -> Grads<T> {
        let slots = {
            let mut held = self.slots.lock().unwrap_or_else(|e| e.into_inner());
            if retain { held.iter().map(Slot::clone).collect() } else { std::mem::take(&mut *held) }
        };
        let tensors = slots
            .iter()
            .map(|slot| match slot {
                Slot::Input(i) => inputs[*i].clone(),
                Slot::Value(t) => t.clone(),
            })
            .collect();
        let saved = Saved { tensors, output: self.save_output.then_some(output), name: self.function.name() };
        let grads = self.function.backward(&saved, grad);
        if grads.len() != inputs.len() {
            shape_panic(format!(
                "{}: backward returned {} gradients for {} inputs",
                self.function.name(),
                grads.len(),
                inputs.len()
            ));
        }
        SmallVec::from_vec(grads)
    }
}

/// Runs a custom op on `inputs` and records it.
#[track_caller]
pub fn apply<T: Element>(function: Arc<dyn Function<T>>, inputs: &[&Tensor<T>]) -> Tensor<T> {
    let mut ctx =
        Context { detached: inputs.iter().map(|t| t.detach()).collect(), slots: Vec::new(), save_output: false };
    let detached = ctx.detached.clone();
    let output = no_grad(|| function.forward(&mut ctx, &detached));
    let Context { slots, save_output, .. } = ctx;
    Tensor::from_op(output.value(), Op::Custom(Custom { function, slots: Mutex::new(slots), save_output }), inputs)
}
