//! The tape: recording ops, and the backward walk that turns an output's gradient into
//! gradients of everything it came from.
//!
//! Nodes get increasing ids as they are created, so an input always has a smaller id than
//! the node that used it: popping the largest pending id first is a topological order. The
//! walk is a loop over a heap (no recursion, so a graph 100,000 ops deep is fine); each node
//! runs its backward rule once, after every contribution to its gradient has arrived.
//! Backward rules are written with tensor ops; they record a graph of their own only when
//! second derivatives are asked for (`create_graph`).

use std::cell::Cell;
use std::collections::hash_map::Entry;
use std::collections::{BinaryHeap, HashMap};
use std::panic::Location;

use smallvec::SmallVec;

use crate::anomaly;
use crate::array::Array;
use crate::element::Element;
use crate::ops::Op;
use crate::shape::shape_panic;
use crate::tensor::{Grad, Node, Tensor};

thread_local! {
    static GRAD_ENABLED: Cell<bool> = const { Cell::new(true) };
}

/// Whether ops on this thread record the graph (true unless inside [`no_grad`]).
#[inline]
pub fn is_grad_enabled() -> bool {
    GRAD_ENABLED.with(|g| g.get())
}

/// Runs `f` with gradient recording switched to `enabled` on this thread, restoring the
/// previous setting afterwards (even if `f` panics).
fn with_grad_mode<R>(enabled: bool, f: impl FnOnce() -> R) -> R {
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            GRAD_ENABLED.with(|g| g.set(self.0));
        }
    }
    let _restore = Restore(GRAD_ENABLED.with(|g| g.replace(enabled)));
    f()
}

/// Runs `f` without recording any graph: for inference and for optimizer updates.
/// Results track no gradient and cost no tape memory.
///
/// ```
/// use tapegrad_autograd::{Tensor, no_grad};
/// let w = Tensor::<f32>::ones(&[2]).requires_grad();
/// let y = no_grad(|| &w * 2.0);
/// assert!(!y.tracks_grad());
/// ```
pub fn no_grad<R>(f: impl FnOnce() -> R) -> R {
    with_grad_mode(false, f)
}

/// Runs `f` with recording on, even inside [`no_grad`].
pub fn enable_grad<R>(f: impl FnOnce() -> R) -> R {
    with_grad_mode(true, f)
}

impl<T: Element> Tensor<T> {
    /// The result of an op: `value`, recording a node with `op` and `inputs` if any input
    /// tracks gradients and recording is on. The node remembers the caller's source line.
    #[track_caller]
    pub(crate) fn from_op(value: Array<T>, op: Op<T>, inputs: &[&Tensor<T>]) -> Tensor<T> {
        if anomaly::is_enabled() {
            anomaly::check_forward(&value, op.name(), inputs, Location::caller());
        }
        let record = is_grad_enabled() && inputs.iter().any(|t| t.tracks_grad());
        if !record {
            return Tensor::with_parts(value, None, false);
        }
        // Pushes rather than `collect`: SmallVec's generic extend costs more than the rest.
        let (mut handles, mut versions) = (SmallVec::new(), SmallVec::new());
        for &t in inputs {
            handles.push(t.clone());
            versions.push(t.version());
        }
        let node = Node { op, inputs: std::sync::Mutex::new(handles), versions, location: Location::caller() };
        Tensor::with_parts(value, Some(node), true)
    }

    /// Computes the gradient of this scalar (say, a loss) with respect to every parameter it
    /// depends on, adding it to each parameter's [`Tensor::grad`]. Gradients accumulate
    /// until [`Tensor::zero_grad`], as in PyTorch. The graph is freed as the pass goes (its
    /// saved values are released, so an optimizer can update parameters in place); to go
    /// through the same graph again, use [`Tensor::backward_retain_graph`] first.
    ///
    /// # Panics
    /// If the tensor has more than one element (use [`Tensor::backward_with`]), or if a
    /// parameter changed since the forward pass, or if a parameter still holds a gradient
    /// from before its last change (a forgotten `zero_grad`).
    ///
    /// ```
    /// use tapegrad_autograd::Tensor;
    /// let x = Tensor::from_vec(vec![3.0f32], &[1]).unwrap().requires_grad();
    /// let y = (&x * &x - 2.0).sum();
    /// y.backward();
    /// assert_eq!(x.grad().unwrap().to_vec(), vec![6.0]);
    /// ```
    #[track_caller]
    pub fn backward(&self) {
        if self.numel() != 1 {
            shape_panic(format!(
                "backward: the output has shape {:?}; backward() needs a single value (a loss), or use backward_with(grad)",
                self.shape()
            ));
        }
        self.backward_with(&Tensor::ones(self.shape()));
    }

    /// Backward from a non-scalar output, given the gradient of some scalar with respect to
    /// it (`grad`, same shape as this tensor).
    ///
    /// # Panics
    /// If `grad` has another shape; see also [`Tensor::backward`].
    #[track_caller]
    pub fn backward_with(&self, grad: &Tensor<T>) {
        if grad.shape() != self.shape() {
            shape_panic(format!(
                "backward_with: gradient of shape {:?} for an output of shape {:?}",
                grad.shape(),
                self.shape()
            ));
        }
        T::walk(&[(self.clone(), grad.detach())], false, false, Sink::Parameters);
    }

    /// Like [`Tensor::backward`], but keeps the graph, so another backward pass can go
    /// through it (PyTorch's `retain_graph=True`): for several losses sharing one graph.
    ///
    /// ```
    /// use tapegrad_autograd::Tensor;
    /// let x = Tensor::from_vec(vec![2.0f32], &[1]).unwrap().requires_grad();
    /// let y = (&x * &x).sum();
    /// y.backward_retain_graph();
    /// y.backward(); // a second pass, which frees the graph
    /// assert_eq!(x.grad().unwrap().to_vec(), vec![8.0]);
    /// ```
    #[track_caller]
    pub fn backward_retain_graph(&self) {
        if self.numel() != 1 {
            shape_panic(format!(
                "backward_retain_graph: the output has shape {:?}; it needs a single value",
                self.shape()
            ));
        }
        T::walk(&[(self.clone(), Tensor::ones(self.shape()))], false, true, Sink::Parameters);
    }
}

/// The gradients of the scalar `outputs` (summed) with respect to `inputs`, returned rather
/// than stored: stored gradients stay untouched, and the graph is kept. Inputs the outputs
/// do not depend on get zeros. With `create_graph`, the gradients are themselves
/// differentiable, so grad of grad works.
///
/// # Panics
/// If an output has more than one element (see [`grad_with`]).
///
/// ```
/// use tapegrad_autograd::{Tensor, grad};
/// let x = Tensor::from_vec(vec![2.0f64], &[1]).unwrap().requires_grad();
/// let y = x.powf(3.0).sum(); // y = x³
/// let dy = grad(&[&y], &[&x], true).remove(0); // 3x² = 12
/// let d2y = grad(&[&dy.sum()], &[&x], false).remove(0); // 6x = 12
/// assert_eq!((dy.item(), d2y.item()), (12.0, 12.0));
/// ```
#[track_caller]
pub fn grad<T: Element>(outputs: &[&Tensor<T>], inputs: &[&Tensor<T>], create_graph: bool) -> Vec<Tensor<T>> {
    for out in outputs {
        if out.numel() != 1 {
            shape_panic(format!(
                "grad: an output has shape {:?}; give one gradient per output with grad_with",
                out.shape()
            ));
        }
    }
    let seeds: Vec<Tensor<T>> = outputs.iter().map(|o| Tensor::ones(o.shape())).collect();
    let seeds: Vec<&Tensor<T>> = seeds.iter().collect();
    grad_with(outputs, &seeds, inputs, create_graph)
}

/// Like [`grad`], for outputs of any shape, each given the gradient of some scalar with
/// respect to it (`grad_outputs`, shaped like the outputs).
///
/// # Panics
/// If the numbers of outputs and gradients differ, or a gradient's shape differs from its
/// output's.
#[track_caller]
pub fn grad_with<T: Element>(
    outputs: &[&Tensor<T>],
    grad_outputs: &[&Tensor<T>],
    inputs: &[&Tensor<T>],
    create_graph: bool,
) -> Vec<Tensor<T>> {
    if outputs.len() != grad_outputs.len() {
        shape_panic(format!("grad_with: {} outputs but {} output gradients", outputs.len(), grad_outputs.len()));
    }
    let mut roots = Vec::with_capacity(outputs.len());
    for (out, g) in outputs.iter().zip(grad_outputs) {
        if out.shape() != g.shape() {
            shape_panic(format!(
                "grad_with: gradient of shape {:?} for an output of shape {:?}",
                g.shape(),
                out.shape()
            ));
        }
        let g = if create_graph { (*g).clone() } else { g.detach() };
        roots.push(((*out).clone(), g));
    }
    let mut found: HashMap<u64, Tensor<T>> = HashMap::new();
    let wanted: Vec<u64> = inputs.iter().map(|t| t.id()).collect();
    T::walk(&roots, create_graph, true, Sink::Inputs { wanted: &wanted, found: &mut found });
    inputs.iter().map(|t| found.remove(&t.id()).unwrap_or_else(|| Tensor::zeros(t.shape()))).collect()
}

/// Where finished gradients go.
pub(crate) enum Sink<'a, T: Element> {
    /// Accumulated into each parameter's stored gradient (`backward`).
    Parameters,
    /// Returned for the tensors with these ids (`grad`).
    Inputs { wanted: &'a [u64], found: &'a mut HashMap<u64, Tensor<T>> },
}

/// The backward walk from `roots` (each an output and its gradient). Unless `retain`, each
/// node gives up its inputs once its rule has run, which frees the graph as it goes.
pub(crate) fn walk<T: Element>(roots: &[(Tensor<T>, Tensor<T>)], create_graph: bool, retain: bool, sink: Sink<'_, T>) {
    // Rules and fan-out sums record a graph only for `create_graph`: set once for the walk.
    with_grad_mode(create_graph, || walk_recording_as_set(roots, retain, sink));
}

/// The walk itself, the grad mode set by [`walk`].
fn walk_recording_as_set<T: Element>(roots: &[(Tensor<T>, Tensor<T>)], retain: bool, mut sink: Sink<'_, T>) {
    let mut queue = Queue::default();
    for (root, grad) in roots {
        if root.tracks_grad() {
            queue.add(root.clone(), grad.clone());
        }
    }
    while let Some((tensor, grad)) = queue.pop() {
        let id = tensor.id();
        if let Sink::Inputs { wanted, found } = &mut sink
            && wanted.contains(&id)
        {
            found.insert(id, grad.clone());
        }
        let Some(node) = &tensor.inner.node else {
            if let Sink::Parameters = sink {
                accumulate_into_parameter(&tensor, grad);
            }
            continue;
        };
        let inputs = {
            let mut held = node.inputs.lock().unwrap_or_else(|e| e.into_inner());
            if retain { held.clone() } else { std::mem::take(&mut *held) }
        };
        if inputs.is_empty() {
            shape_panic(format!(
                "backward: the graph through {} (at {}) was already freed by an earlier backward(); call backward_retain_graph() on the first of several backward passes through one graph",
                node.op.name(),
                node.location
            ));
        }
        check_versions(node, &inputs);
        let grads: SmallVec<[Option<Tensor<T>>; 2]> =
            anomaly::paused(|| node.op.backward(&inputs, &tensor, grad, retain));
        if grads.len() != inputs.len() {
            shape_panic(format!(
                "backward of {}: {} gradients for {} inputs",
                node.op.name(),
                grads.len(),
                inputs.len()
            ));
        }
        if anomaly::is_enabled() {
            for (i, (input, g)) in inputs.iter().zip(&grads).enumerate() {
                if let Some(g) = g.as_ref().filter(|_| input.tracks_grad()) {
                    check_shape(node, i, g, input);
                    anomaly::check_backward(g, node, &inputs, i);
                }
            }
        }
        // Each gradient queued with its input's handle moved (not cloned): the walk then
        // often holds a node's last handle, and frees it when done.
        for (i, (input, g)) in inputs.into_iter().zip(grads).enumerate() {
            if let Some(g) = g.filter(|_| input.tracks_grad()) {
                check_shape(node, i, &g, &input);
                queue.add(input, g);
            }
        }
    }
}

/// Tensors waiting for the walk, each with the sum of the gradients that reached it so
/// far, handed out largest id first.
struct Queue<T: Element> {
    /// By id, with their ids in `heap`.
    pending: HashMap<u64, (Tensor<T>, Tensor<T>), IdHash>,
    heap: BinaryHeap<u64>,
    /// The one tensor waiting, when only one is (as all along a chain of ops), kept out of
    /// the map and the heap, which it would only pass through. Set only while they are empty.
    only: Option<(Tensor<T>, Tensor<T>)>,
}

impl<T: Element> Default for Queue<T> {
    fn default() -> Self {
        Queue { pending: HashMap::default(), heap: BinaryHeap::new(), only: None }
    }
}

impl<T: Element> Queue<T> {
    /// Adds a gradient contribution for `tensor` (fan-out sums), queueing it the first time.
    fn add(&mut self, tensor: Tensor<T>, grad: Tensor<T>) {
        match self.only.take() {
            Some((only, sum)) if only.id() == tensor.id() => self.only = Some((only, &sum + &grad)),
            Some((only, sum)) => {
                self.insert(only, sum);
                self.insert(tensor, grad);
            }
            None if self.heap.is_empty() => self.only = Some((tensor, grad)),
            None => self.insert(tensor, grad),
        }
    }

    fn insert(&mut self, tensor: Tensor<T>, grad: Tensor<T>) {
        match self.pending.entry(tensor.id()) {
            Entry::Occupied(mut queued) => {
                let sum = &mut queued.get_mut().1;
                *sum = &*sum + &grad;
            }
            Entry::Vacant(slot) => {
                self.heap.push(tensor.id());
                slot.insert((tensor, grad));
            }
        }
    }

    /// The waiting tensor with the largest id, and its gradient.
    fn pop(&mut self) -> Option<(Tensor<T>, Tensor<T>)> {
        if let Some(only) = self.only.take() {
            return Some(only);
        }
        let id = self.heap.pop()?;
        Some(self.pending.remove(&id).expect("every queued id is pending"))
    }
}

/// Hashing for tensor ids, which are distinct integers: one multiplication (Fibonacci
/// hashing) instead of the default SipHash, whose resistance to chosen keys the walk does
/// not need.
#[derive(Clone, Copy, Default)]
struct IdHash;

impl std::hash::BuildHasher for IdHash {
    type Hasher = IdHasher;
    fn build_hasher(&self) -> IdHasher {
        IdHasher(0)
    }
}

struct IdHasher(u64);

impl std::hash::Hasher for IdHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8 | b as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_u64(&mut self, id: u64) {
        self.0 = id.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

/// A rule's gradient for input `i` must have that input's shape.
fn check_shape<T: Element>(node: &Node<T>, i: usize, grad: &Tensor<T>, input: &Tensor<T>) {
    if grad.shape() != input.shape() {
        shape_panic(format!(
            "backward of {} (recorded at {}): gradient for input {i} has shape {:?}, but the input has shape {:?}",
            node.op.name(),
            node.location,
            grad.shape(),
            input.shape()
        ));
    }
}

#[track_caller]
fn check_versions<T: Element>(node: &Node<T>, inputs: &[Tensor<T>]) {
    for (input, &seen) in inputs.iter().zip(&node.versions) {
        let now = input.version();
        if now != seen {
            shape_panic(format!(
                "backward: a parameter of shape {:?} used by {} (at {}) changed after the forward pass (version {seen} then, {now} now); run the forward pass again after each optimizer step",
                input.shape(),
                node.op.name(),
                node.location
            ));
        }
    }
}

#[track_caller]
fn accumulate_into_parameter<T: Element>(tensor: &Tensor<T>, grad: Tensor<T>) {
    let Some(p) = tensor.parameter() else { return };
    let version = tensor.version();
    let mut slot = p.grad.lock().unwrap_or_else(|e| e.into_inner());
    *slot = Some(match slot.take() {
        None => Grad { tensor: grad.detach(), version },
        Some(old) if old.version == version => Grad { tensor: no_grad(|| &old.tensor + &grad), version },
        Some(_) => shape_panic(format!(
            "backward: the parameter of shape {:?} still holds a gradient from before its last update; call zero_grad() after each optimizer step",
            tensor.shape()
        )),
    });
}

#[cfg(test)]
mod tests {
    use crate::Tensor;

    #[test]
    fn fan_out_accumulates() {
        // y = x·x + x ⇒ dy/dx = 2x + 1: both uses of x must add into its gradient.
        let x = Tensor::from_vec(vec![3.0f64], &[1]).unwrap().requires_grad();
        (&x * &x + &x).sum().backward();
        assert_eq!(x.grad().unwrap().to_vec(), vec![7.0]);
    }

    #[test]
    fn a_graph_100_000_ops_deep_neither_overflows_nor_leaks() {
        let x = Tensor::from_vec(vec![1.0f32], &[1]).unwrap().requires_grad();
        let mut y = x.clone();
        for _ in 0..100_000 {
            y = &y * 1.0;
        }
        y.sum().backward();
        assert_eq!(x.grad().unwrap().to_vec(), vec![1.0]);
        drop(y); // the chain is freed by a loop, not by recursion
    }

    #[test]
    #[should_panic(expected = "changed after the forward pass")]
    fn stale_graphs_are_refused() {
        let w = Tensor::from_vec(vec![1.0f32], &[1]).unwrap().requires_grad();
        let loss = (&w * &w).sum();
        w.update_data(|w| w[0] = 2.0);
        loss.backward();
    }

    #[test]
    #[should_panic(expected = "call zero_grad() after each optimizer step")]
    fn forgotten_zero_grad_is_caught() {
        let w = Tensor::from_vec(vec![1.0f32], &[1]).unwrap().requires_grad();
        (&w * 2.0).sum().backward();
        w.update_data(|w| w[0] = 2.0);
        (&w * 2.0).sum().backward();
    }
}
