//! The tensor: a cheap handle to an immutable value, the op that made it, and (for a
//! parameter) its gradient.
//!
//! Define-by-run: every op on tensors that track gradients records a node holding its
//! inputs and its backward rule, so the graph is whatever the code ran. Ops on tensors that
//! track nothing record nothing. A parameter (a leaf made with [`Tensor::requires_grad`]) is
//! the one mutable thing: an optimizer step changes its value through
//! [`Tensor::update_data`]; every other tensor's value is fixed when it is made.

use std::fmt;
use std::mem::ManuallyDrop;
use std::ops::Deref;
use std::panic::Location;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock, RwLockReadGuard};

use smallvec::SmallVec;

use crate::array::Array;
use crate::element::Element;
use crate::ops::{Op, Unary};
use crate::recycle;
use crate::shape::{Shape, shape_panic};

/// An n-dimensional array of `T` (f32 unless said otherwise) that records the ops applied to
/// it, so gradients can flow back through them.
///
/// Cloning is cheap (a reference count); clones are the same tensor.
///
/// ```
/// use tapegrad_autograd::Tensor;
/// let x = Tensor::from_vec(vec![1.0, 2.0, 3.0], &[3]).unwrap().requires_grad();
/// let y = (&x * &x).sum(); // y = Σ x²
/// y.backward();
/// assert_eq!(x.grad().unwrap().to_vec(), vec![2.0, 4.0, 6.0]); // dy/dx = 2x
/// ```
pub struct Tensor<T: Element = f32> {
    /// Dropped by `Drop for Tensor`, which recycles the allocation (see `recycle.rs`).
    pub(crate) inner: ManuallyDrop<Arc<Inner<T>>>,
}

pub(crate) struct Inner<T: Element> {
    /// Creation order: a node's inputs always have smaller ids, so walking ids downwards is
    /// a topological order of the graph.
    pub(crate) id: u64,
    pub(crate) data: Data<T>,
    pub(crate) node: Option<Node<T>>,
    pub(crate) tracks_grad: bool,
}

pub(crate) enum Data<T: Element> {
    /// A value fixed at creation.
    Fixed(Array<T>),
    /// A parameter's value, changed only by optimizer steps (boxed, as `Lazy`: most
    /// tensors are `Fixed`, and every tensor is as large as the largest variant).
    Parameter(Box<Parameter<T>>),
    /// A chain of elementwise ops on a value, computed in one pass when first read.
    Lazy(Box<Lazy<T>>),
}

/// Elementwise ops to apply in order.
pub(crate) type Chain<T> = SmallVec<[Unary<T>; 4]>;

/// A value not yet computed: `chain` applied to `source` (see `Tensor::unary`).
pub(crate) struct Lazy<T: Element> {
    source: Array<T>,
    chain: Chain<T>,
    value: OnceLock<Array<T>>,
}

/// Results computed off the tape with at least this many elements fuse chains of
/// elementwise ops; smaller ones are computed at once (fusing would cost more than it saves).
pub(crate) const FUSE_MIN: usize = crate::array::PARALLEL_THRESHOLD;

pub(crate) struct Parameter<T: Element> {
    /// The value's shape, which updates keep: readable without the lock.
    pub(crate) shape: Shape,
    pub(crate) value: RwLock<Array<T>>,
    /// Bumped by every change of value; nodes remember it to catch stale graphs.
    pub(crate) version: AtomicU64,
    pub(crate) grad: Mutex<Option<Grad<T>>>,
}

/// A parameter's accumulated gradient and the value version it was computed at.
pub(crate) struct Grad<T: Element> {
    pub(crate) tensor: Tensor<T>,
    pub(crate) version: u64,
}

/// What an op recorded: its rule, its inputs and where the user's code called it.
pub(crate) struct Node<T: Element> {
    pub(crate) op: Op<T>,
    /// Emptied by `backward()` once the node's rule has run, which frees the graph (every
    /// op has at least one input, so empty means freed).
    pub(crate) inputs: Mutex<SmallVec<[Tensor<T>; 2]>>,
    /// The version of each input that is a parameter, at the time of the forward pass.
    pub(crate) versions: SmallVec<[u64; 2]>,
    pub(crate) location: &'static Location<'static>,
}

impl<T: Element> Node<T> {
    /// The inputs, leaving the node freed (no locking: the caller owns the node).
    fn take_inputs(&mut self) -> SmallVec<[Tensor<T>; 2]> {
        std::mem::take(self.inputs.get_mut().unwrap_or_else(|e| e.into_inner()))
    }

    /// The inputs (cloned handles), or nothing if the node was freed.
    pub(crate) fn inputs(&self) -> SmallVec<[Tensor<T>; 2]> {
        self.inputs.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

static NEXT_ID: AtomicU64 = AtomicU64::new(0);
/// Tensors dropped so far; those made so far are `NEXT_ID`, so no second count (an atomic
/// add on every tensor made) is needed for [`live_tensors`].
static DROPPED: AtomicU64 = AtomicU64::new(0);

/// How many tensors exist right now in this process (handles to one tensor count once):
/// a leak detector. A training loop that frees its graphs keeps this flat from step to step.
///
/// ```
/// use tapegrad_autograd::{Tensor, live_tensors};
/// let before = live_tensors();
/// let t = Tensor::<f32>::zeros(&[2]);
/// assert!(live_tensors() >= before + 1); // other threads may make tensors too
/// drop(t);
/// ```
pub fn live_tensors() -> u64 {
    // Dropped first: a tensor's drop (Release) comes after its making, so every drop seen
    // here (Acquire) is of a tensor whose id the second load sees.
    let dropped = DROPPED.load(Ordering::Acquire);
    NEXT_ID.load(Ordering::Relaxed).saturating_sub(dropped)
}

/// Borrowed access to a tensor's value, holding a parameter's read lock while it lives.
pub(crate) enum ValueRef<'a, T: Element> {
    Fixed(&'a Array<T>),
    Locked(RwLockReadGuard<'a, Array<T>>),
}

impl<T: Element> Deref for ValueRef<'_, T> {
    type Target = Array<T>;
    fn deref(&self) -> &Array<T> {
        match self {
            ValueRef::Fixed(a) => a,
            ValueRef::Locked(a) => a,
        }
    }
}

impl<T: Element> Clone for Tensor<T> {
    fn clone(&self) -> Self {
        Tensor { inner: self.inner.clone() }
    }
}

impl<T: Element> Drop for Tensor<T> {
    fn drop(&mut self) {
        // SAFETY: `inner` is not used again.
        recycle::drop_arc(unsafe { ManuallyDrop::take(&mut self.inner) });
    }
}

impl<T: Element> Tensor<T> {
    /// A new tensor: `make` builds its record given its id, the next in creation order
    /// (which also counts it as made, for [`live_tensors`]).
    #[inline(always)]
    fn from_inner(make: impl FnOnce(u64) -> Inner<T>) -> Self {
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        Tensor { inner: ManuallyDrop::new(recycle::new_arc(|| make(id))) }
    }

    pub(crate) fn with_parts(value: Array<T>, node: Option<Node<T>>, tracks_grad: bool) -> Self {
        Self::from_inner(|id| Inner { id, data: Data::Fixed(value), node, tracks_grad })
    }

    /// A constant whose value is `chain` applied to `source`, computed when first read.
    pub(crate) fn lazy(source: Array<T>, chain: Chain<T>) -> Self {
        let data = Data::Lazy(Box::new(Lazy { source, chain, value: OnceLock::new() }));
        Self::from_inner(|id| Inner { id, data, node: None, tracks_grad: false })
    }

    /// The source and chain of a lazy value not yet computed (to extend the chain).
    pub(crate) fn pending_chain(&self) -> Option<(Array<T>, Chain<T>)> {
        match &self.inner.data {
            Data::Lazy(lazy) if lazy.value.get().is_none() => Some((lazy.source.clone(), lazy.chain.clone())),
            _ => None,
        }
    }

    /// A tensor holding `value`, tracking no gradient (a constant, such as input data).
    ///
    /// ```
    /// use tapegrad_autograd::{Array, Tensor};
    /// let t = Tensor::from_array(Array::full(&[2, 2], 1.5f32));
    /// assert_eq!(t.sum().item(), 6.0);
    /// ```
    pub fn from_array(value: Array<T>) -> Self {
        Self::with_parts(value, None, false)
    }

    /// This leaf made a parameter: a tensor whose gradient [`Tensor::backward`] fills, and
    /// whose value only [`Tensor::update_data`] (an optimizer step) changes.
    ///
    /// # Panics
    /// If the tensor is the result of an op: gradients are kept for leaves only; use
    /// [`Tensor::detach`] first to start a new leaf from it.
    ///
    /// ```
    /// use tapegrad_autograd::Tensor;
    /// let w = Tensor::<f32>::zeros(&[3]).requires_grad();
    /// assert!(w.tracks_grad() && w.is_leaf());
    /// ```
    #[track_caller]
    pub fn requires_grad(self) -> Self {
        if self.inner.node.is_some() {
            shape_panic(format!(
                "requires_grad: the tensor of shape {:?} is the result of {}; only leaves can be parameters (detach() it first)",
                self.shape(),
                self.op_name()
            ));
        }
        if self.is_parameter() {
            return self;
        }
        let value = self.value();
        let parameter = Parameter {
            shape: Shape::from_slice(value.shape()),
            value: RwLock::new(value),
            version: AtomicU64::new(0),
            grad: Mutex::new(None),
        };
        Self::from_inner(|id| Inner { id, data: Data::Parameter(Box::new(parameter)), node: None, tracks_grad: true })
    }

    /// Whether gradients flow to this tensor: it is a parameter or was computed from one
    /// while gradients were enabled.
    #[doc(alias = "requires_grad")]
    pub fn tracks_grad(&self) -> bool {
        self.inner.tracks_grad
    }

    /// Whether this tensor was made directly rather than by an op (parameters and constants).
    pub fn is_leaf(&self) -> bool {
        self.inner.node.is_none()
    }

    /// Whether this tensor is a parameter (see [`Tensor::requires_grad`]).
    pub fn is_parameter(&self) -> bool {
        matches!(self.inner.data, Data::Parameter(_))
    }

    /// The same value as a new leaf that tracks no gradient: the graph stops here.
    /// Shares storage; copies nothing.
    ///
    /// ```
    /// use tapegrad_autograd::Tensor;
    /// let x = Tensor::<f32>::ones(&[2]).requires_grad();
    /// let y = (&x * 3.0).detach();
    /// assert!(!y.tracks_grad());
    /// ```
    pub fn detach(&self) -> Tensor<T> {
        Tensor::from_array(self.value())
    }

    /// The sizes of the axes.
    pub fn shape(&self) -> &[usize] {
        match &self.inner.data {
            Data::Fixed(value) => value.shape(),
            Data::Parameter(p) => &p.shape,
            Data::Lazy(lazy) => lazy.source.shape(),
        }
    }

    /// The number of axes.
    pub fn ndim(&self) -> usize {
        self.shape().len()
    }

    /// The number of elements.
    pub fn numel(&self) -> usize {
        self.shape().iter().product()
    }

    /// The size of one axis (negative counts from the end).
    ///
    /// # Panics
    /// If the axis is out of range.
    #[track_caller]
    pub fn size(&self, axis: impl crate::shape::Dim) -> usize {
        self.shape()[crate::shape::normalize_axis("size", axis.index(), self.shape())]
    }

    /// The current value (a cheap handle to the storage).
    pub fn value(&self) -> Array<T> {
        self.value_ref().clone()
    }

    /// The elements, to overwrite in place, if nothing else can see them: this is the only
    /// handle to a plain value (no parameter, no graph) whose array alone uses its buffer.
    /// Values stay immutable to everyone who holds one: for backward rules that reuse the
    /// buffer of a gradient they were handed and that nobody else holds.
    pub(crate) fn unique_data_mut(&mut self) -> Option<&mut [T]> {
        let inner = Arc::get_mut(&mut self.inner)?;
        match &mut inner.data {
            Data::Fixed(value) if inner.node.is_none() => value.unique_slice_mut(),
            _ => None,
        }
    }

    pub(crate) fn value_ref(&self) -> ValueRef<'_, T> {
        match &self.inner.data {
            Data::Fixed(a) => ValueRef::Fixed(a),
            Data::Parameter(p) => ValueRef::Locked(p.value.read().unwrap_or_else(|e| e.into_inner())),
            Data::Lazy(lazy) => ValueRef::Fixed(lazy.value.get_or_init(|| T::fused(&lazy.source, &lazy.chain))),
        }
    }

    /// The elements in row-major order.
    ///
    /// ```
    /// use tapegrad_autograd::Tensor;
    /// assert_eq!(Tensor::<f32>::eye(2).to_vec(), vec![1.0, 0.0, 0.0, 1.0]);
    /// ```
    pub fn to_vec(&self) -> Vec<T> {
        self.value_ref().to_vec()
    }

    /// The value of a one-element tensor, such as a loss.
    ///
    /// # Panics
    /// If the tensor has more or fewer than one element.
    #[track_caller]
    pub fn item(&self) -> T {
        self.value_ref().item()
    }

    /// The element at a multi-index.
    ///
    /// # Panics
    /// If the index is out of bounds.
    #[track_caller]
    pub fn get(&self, index: &[usize]) -> T {
        self.value_ref().get(index)
    }

    /// The name of the op that made this tensor (`"leaf"` or `"parameter"` for leaves).
    pub fn op_name(&self) -> &str {
        match (&self.inner.node, &self.inner.data) {
            (Some(node), _) => node.op.name(),
            (None, Data::Parameter(_)) => "parameter",
            (None, Data::Fixed(_)) => "leaf",
            (None, Data::Lazy(_)) => "fused",
        }
    }

    /// The gradient accumulated by [`Tensor::backward`] calls since the last
    /// [`Tensor::zero_grad`], for a parameter; `None` for anything else or before any.
    pub fn grad(&self) -> Option<Tensor<T>> {
        let p = self.parameter()?;
        p.grad.lock().unwrap_or_else(|e| e.into_inner()).as_ref().map(|g| g.tensor.clone())
    }

    /// Replaces a parameter's gradient (`None` forgets it): for gradient clipping and other
    /// rewrites between backward and step. The gradient is stored detached.
    ///
    /// # Panics
    /// If the tensor is not a parameter or the gradient's shape differs from its own.
    ///
    /// ```
    /// use tapegrad_autograd::Tensor;
    /// let w = Tensor::<f32>::ones(&[2]).requires_grad();
    /// (&w * 4.0).sum().backward();
    /// w.set_grad(Some(w.grad().unwrap() * 0.5)); // clip to half
    /// assert_eq!(w.grad().unwrap().to_vec(), vec![2.0, 2.0]);
    /// ```
    #[track_caller]
    pub fn set_grad(&self, grad: Option<Tensor<T>>) {
        let Some(p) = self.parameter() else {
            shape_panic(format!("set_grad: the tensor of shape {:?} is not a parameter", self.shape()));
        };
        if let Some(g) = &grad
            && g.shape() != self.shape()
        {
            shape_panic(format!(
                "set_grad: gradient of shape {:?} for a parameter of shape {:?}",
                g.shape(),
                self.shape()
            ));
        }
        let version = self.version();
        *p.grad.lock().unwrap_or_else(|e| e.into_inner()) = grad.map(|g| Grad { tensor: g.detach(), version });
    }

    /// Forgets the accumulated gradient (PyTorch's `set_to_none`), so the next backward
    /// starts afresh.
    pub fn zero_grad(&self) {
        if let Some(p) = self.parameter() {
            *p.grad.lock().unwrap_or_else(|e| e.into_inner()) = None;
        }
    }

    /// Changes a parameter's value in place: the optimizer's step. The closure sees the
    /// elements in row-major order. Graphs recorded before the change keep the old value;
    /// a backward pass through them afterwards is refused (their gradient would be stale).
    ///
    /// # Panics
    /// If the tensor is not a parameter.
    ///
    /// ```
    /// use tapegrad_autograd::Tensor;
    /// let w = Tensor::from_vec(vec![1.0f32, 2.0], &[2]).unwrap().requires_grad();
    /// (&w * &w).sum().backward();
    /// let g = w.grad().unwrap().to_vec();
    /// w.update_data(|w| w.iter_mut().zip(&g).for_each(|(w, g)| *w -= 0.25 * g));
    /// assert_eq!(w.to_vec(), vec![0.5, 1.0]);
    /// ```
    #[track_caller]
    pub fn update_data(&self, f: impl FnOnce(&mut [T])) {
        let Some(p) = self.parameter() else {
            shape_panic(format!(
                "update_data: the tensor of shape {:?} is not a parameter (made with requires_grad())",
                self.shape()
            ));
        };
        let mut value = p.value.write().unwrap_or_else(|e| e.into_inner());
        f(value.make_mut());
        p.version.fetch_add(1, Ordering::Relaxed);
    }

    /// Replaces a parameter's value with `value` (same shape): loading a checkpoint.
    ///
    /// # Panics
    /// If the tensor is not a parameter or the shapes differ.
    #[track_caller]
    pub fn assign(&self, value: &Array<T>) {
        if value.shape() != self.shape() {
            shape_panic(format!(
                "assign: value of shape {:?} for a parameter of shape {:?}",
                value.shape(),
                self.shape()
            ));
        }
        self.update_data(|data| value.copy_into(data));
    }

    /// How many times the value has changed (0 for tensors that are not parameters).
    pub fn version(&self) -> u64 {
        self.parameter().map_or(0, |p| p.version.load(Ordering::Relaxed))
    }

    /// Whether two handles are the same tensor.
    pub fn same(&self, other: &Tensor<T>) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    pub(crate) fn id(&self) -> u64 {
        self.inner.id
    }

    pub(crate) fn parameter(&self) -> Option<&Parameter<T>> {
        match &self.inner.data {
            Data::Parameter(p) => Some(p.as_ref()),
            Data::Fixed(_) | Data::Lazy(_) => None,
        }
    }
}

impl<T: Element> Drop for Inner<T> {
    /// Frees a long chain of nodes with a loop: a recursive drop of a graph 100,000 ops deep
    /// would overflow the stack.
    fn drop(&mut self) {
        DROPPED.fetch_add(1, Ordering::Release);
        let Some(node) = self.node.as_mut() else { return };
        // Inline for the usual chain (no allocation while freeing a tensor).
        let mut stack = node.take_inputs();
        while let Some(mut tensor) = stack.pop() {
            // The last handle to a node: take its inputs in place (moving the tensor out of
            // its allocation would copy all of it), then drop it with none.
            if let Some(inner) = Arc::get_mut(&mut tensor.inner)
                && let Some(node) = inner.node.as_mut()
            {
                stack.extend(node.take_inputs());
            }
        }
    }
}

impl<T: Element> fmt::Debug for Tensor<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")
    }
}

impl<T: Element> fmt::Display for Tensor<T> {
    /// PyTorch's layout: `tensor([[1.0000, 2.0000], [3.0000, 4.0000]], op=add)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let values = self.to_vec();
        let precision = f.precision().unwrap_or(4);
        write!(f, "tensor(")?;
        write_nested(f, &values, self.shape(), precision)?;
        match (&self.inner.node, self.is_parameter()) {
            (Some(node), _) => write!(f, ", op={})", node.op.name()),
            (None, true) => write!(f, ", requires_grad)"),
            (None, false) => write!(f, ")"),
        }
    }
}

fn write_nested<T: Element>(
    f: &mut fmt::Formatter<'_>,
    values: &[T],
    shape: &[usize],
    precision: usize,
) -> fmt::Result {
    const MAX_SHOWN: usize = 6;
    let Some((&len, rest)) = shape.split_first() else {
        return write!(f, "{:.precision$}", values[0]);
    };
    let step = rest.iter().product::<usize>();
    write!(f, "[")?;
    for i in 0..len {
        if len > MAX_SHOWN && i == MAX_SHOWN / 2 {
            write!(f, "…, ")?;
        }
        if len > MAX_SHOWN && i >= MAX_SHOWN / 2 && i < len - MAX_SHOWN / 2 {
            continue;
        }
        write_nested(f, &values[i * step..(i + 1) * step], rest, precision)?;
        if i + 1 < len {
            write!(f, ", ")?;
        }
    }
    write!(f, "]")
}
