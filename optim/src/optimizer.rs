//! The optimizer interface: what every update rule (SGD, Adam, …) offers a training loop,
//! and the checks and numeric helpers the update rules share.

use tapegrad_autograd::{Array, Element, Tensor};

use crate::error::{OptimError, number};
use crate::state::OptimizerState;

/// An update rule over a fixed list of parameters, as `torch.optim.Optimizer`.
///
/// A training step is `zero_grad` → forward → `loss.backward()` → `step`. An optimizer owns
/// handles to the parameters (cheap clones of the model's tensors) and its per-parameter
/// state (momentum buffers, moment estimates) as plain vectors; `step` changes each
/// parameter in place through [`Tensor::update_data`], in one tight loop per parameter
/// (cut into one piece per thread by [`for_each_piece`] when the parameter is large; each
/// element's update reads only its own index, so the thread count never changes the bits).
///
/// [`for_each_piece`]: tapegrad_autograd::array::for_each_piece
///
/// Parameters whose gradient is `None` (unused by the loss, or frozen by the user) are
/// skipped entirely, as in PyTorch: their values, state and step counts do not move.
///
/// ```
/// use tapegrad_autograd::Tensor;
/// use tapegrad_optim::{Optimizer, Sgd, SgdConfig};
///
/// // Minimise (w − 3)² with plain gradient descent.
/// let w = Tensor::from_vec(vec![0.0f64], &[1]).unwrap().requires_grad();
/// let mut opt = Sgd::new(vec![w.clone()], SgdConfig { lr: 0.25, ..SgdConfig::default() }).unwrap();
/// for _ in 0..50 {
///     opt.zero_grad();
///     (&w - 3.0).square().sum().backward();
///     opt.step();
/// }
/// assert!((w.item() - 3.0).abs() < 1e-9);
/// ```
pub trait Optimizer<T: Element> {
    /// Updates every parameter that has a gradient, once; parameters without one are left
    /// alone, state and step count included.
    ///
    /// ```
    /// use tapegrad_autograd::Tensor;
    /// use tapegrad_optim::{Optimizer, Sgd, SgdConfig};
    /// let used = Tensor::from_vec(vec![1.0f64], &[1]).unwrap().requires_grad();
    /// let unused = Tensor::from_vec(vec![1.0f64], &[1]).unwrap().requires_grad();
    /// let mut opt = Sgd::new(vec![used.clone(), unused.clone()], SgdConfig { lr: 0.5, ..SgdConfig::default() }).unwrap();
    /// used.sum().backward(); // g = 1 for `used`; `unused` has no gradient
    /// opt.step();
    /// assert_eq!((used.item(), unused.item()), (0.5, 1.0));
    /// ```
    fn step(&mut self);

    /// Forgets every parameter's gradient (PyTorch's default `set_to_none=True`), so the
    /// next backward starts afresh.
    ///
    /// ```
    /// use tapegrad_autograd::Tensor;
    /// use tapegrad_optim::{Adam, AdamConfig, Optimizer};
    /// let w = Tensor::<f32>::ones(&[2]).requires_grad();
    /// let mut opt = Adam::new(vec![w.clone()], AdamConfig::default()).unwrap();
    /// w.sum().backward();
    /// opt.zero_grad();
    /// assert!(w.grad().is_none());
    /// ```
    fn zero_grad(&mut self) {
        for p in self.params() {
            p.zero_grad();
        }
    }

    /// The learning rate the next `step` uses.
    ///
    /// ```
    /// use tapegrad_autograd::Tensor;
    /// use tapegrad_optim::{Optimizer, RmsProp, RmsPropConfig};
    /// let opt = RmsProp::new(vec![Tensor::<f32>::ones(&[1]).requires_grad()], RmsPropConfig::default()).unwrap();
    /// assert_eq!(opt.lr(), 1e-2); // PyTorch's default
    /// ```
    fn lr(&self) -> f64;

    /// Changes the learning rate (what schedules do between epochs).
    ///
    /// # Panics
    /// If `lr` is negative or not finite: a schedule or caller bug, not a configuration.
    ///
    /// ```
    /// use tapegrad_autograd::Tensor;
    /// use tapegrad_optim::{Optimizer, Sgd, SgdConfig};
    /// let mut opt = Sgd::new(vec![Tensor::<f32>::ones(&[1]).requires_grad()], SgdConfig::default()).unwrap();
    /// opt.set_lr(0.05);
    /// assert_eq!(opt.lr(), 0.05);
    /// ```
    fn set_lr(&mut self, lr: f64);

    /// The parameters, in the order given at construction (state entries are numbered by
    /// this order).
    ///
    /// ```
    /// use tapegrad_autograd::Tensor;
    /// use tapegrad_optim::{Adagrad, AdagradConfig, Optimizer};
    /// let w = Tensor::<f32>::ones(&[2, 2]).requires_grad();
    /// let opt = Adagrad::new(vec![w.clone()], AdagradConfig::default()).unwrap();
    /// assert!(opt.params()[0].same(&w));
    /// ```
    fn params(&self) -> &[Tensor<T>];

    /// A copy of everything needed to resume training bit-identically: per-parameter
    /// buffers named `state.<index>.<name>` (PyTorch's state names), step counts, the
    /// learning rate and the hyperparameters.
    ///
    /// ```
    /// use tapegrad_autograd::Tensor;
    /// use tapegrad_optim::{Optimizer, Sgd, SgdConfig};
    /// let w = Tensor::from_vec(vec![1.0f64, 2.0], &[2]).unwrap().requires_grad();
    /// let mut opt = Sgd::new(vec![w.clone()], SgdConfig { lr: 0.1, momentum: 0.9, ..SgdConfig::default() }).unwrap();
    /// w.square().sum().backward();
    /// opt.step();
    /// let state = opt.state();
    /// assert_eq!(state.tensor("state.0.momentum_buffer").unwrap().to_vec(), vec![2.0, 4.0]);
    /// assert_eq!(state.scalar("lr"), Some(0.1));
    /// ```
    fn state(&self) -> OptimizerState<T>;

    /// Restores a state saved by [`Optimizer::state`] of an optimizer of the same kind and
    /// configuration over parameters of the same shapes. Nothing changes unless the whole
    /// state is valid.
    ///
    /// # Errors
    /// An [`OptimError`] naming the first entry that is missing, unexpected (another
    /// optimizer's state, or a parameter index past the end), repeated, of the wrong shape,
    /// invalid, or a hyperparameter that differs from this optimizer's.
    ///
    /// ```
    /// use tapegrad_autograd::Tensor;
    /// use tapegrad_optim::{Adam, AdamConfig, Optimizer, Sgd, SgdConfig};
    /// let w = Tensor::from_vec(vec![1.0f64, 2.0], &[2]).unwrap().requires_grad();
    /// let mut adam = Adam::new(vec![w.clone()], AdamConfig::default()).unwrap();
    /// w.square().sum().backward();
    /// adam.step();
    /// let saved = adam.state();
    ///
    /// let mut resumed = Adam::new(vec![w.clone()], AdamConfig::default()).unwrap();
    /// resumed.load_state(&saved).unwrap();
    ///
    /// let mut sgd = Sgd::new(vec![w], SgdConfig::default()).unwrap();
    /// let err = sgd.load_state(&saved).unwrap_err();
    /// assert!(err.to_string().contains("'state.0.exp_avg'"), "{err}");
    /// ```
    fn load_state(&mut self, state: &OptimizerState<T>) -> Result<(), OptimError>;
}

/// Checks one hyperparameter: finite and inside its range.
pub(crate) fn check(
    owner: &'static str,
    name: &'static str,
    value: f64,
    valid: impl Fn(f64) -> bool,
    expected: &'static str,
) -> Result<(), OptimError> {
    if value.is_finite() && valid(value) {
        Ok(())
    } else {
        Err(OptimError::InvalidHyperparameter { owner, name, value, expected })
    }
}

/// Checks a learning rate: finite and ≥ 0.
pub(crate) fn check_lr(owner: &'static str, lr: f64) -> Result<(), OptimError> {
    check(owner, "lr", lr, |v| v >= 0.0, "must be finite and ≥ 0")
}

/// The check behind every `set_lr`.
#[track_caller]
pub(crate) fn assert_lr(owner: &'static str, lr: f64) {
    if !(lr.is_finite() && lr >= 0.0) {
        panic!("{owner}.set_lr: learning rate {} must be finite and ≥ 0", number(lr));
    }
}

/// Checks a parameter list: not empty, all parameters, no tensor twice.
pub(crate) fn check_params<T: Element>(optimizer: &'static str, params: &[Tensor<T>]) -> Result<(), OptimError> {
    if params.is_empty() {
        return Err(OptimError::NoParameters { optimizer });
    }
    for (index, p) in params.iter().enumerate() {
        if !p.is_parameter() {
            return Err(OptimError::NotAParameter { optimizer, index, shape: p.shape().to_vec() });
        }
        if let Some(first) = params[..index].iter().position(|q| q.same(p)) {
            return Err(OptimError::DuplicateParameter { optimizer, first, index });
        }
    }
    Ok(())
}

/// A parameter's gradient as a contiguous array (a copy only if the gradient is a view),
/// or `None` if it has none: such parameters are skipped.
pub(crate) fn contiguous_grad<T: Element>(p: &Tensor<T>) -> Option<Array<T>> {
    Some(p.grad()?.value().contiguous())
}

/// `start + weight·(end − start)`, rounded as ATen's `lerp` does: from the end for large
/// weights, which keeps the result exact at weight 1.
#[inline]
pub(crate) fn lerp<T: Element>(start: T, end: T, weight: T) -> T {
    if weight.abs() < tapegrad_autograd::lit::<T>(0.5) {
        start + weight * (end - start)
    } else {
        end - (end - start) * (T::one() - weight)
    }
}

/// The larger of two values, NaN if either is (as `torch.maximum`; `f64::max` would hide a NaN).
#[inline]
pub(crate) fn maximum<T: Element>(a: T, b: T) -> T {
    if a.is_nan() || b.is_nan() {
        T::nan()
    } else if a > b {
        a
    } else {
        b
    }
}
