//! Saved optimizer state: named buffers and scalars, and the strict reader that loads them.

use tapegrad_autograd::{Array, Element};

use crate::error::OptimError;

/// Everything an optimizer needs to resume: per-parameter buffers and scalars, by name.
///
/// Names follow PyTorch's `state_dict` flattened: `state.<parameter index>.<buffer>` for
/// per-parameter state (`state.3.exp_avg`, `state.3.step`) and the hyperparameter's own
/// name for the rest (`lr`, `betas.0`, `amsgrad` as 0 or 1), plus `params`, the number of
/// parameters. A parameter's entries appear at its first step with a gradient (Adagrad's
/// at construction), as in PyTorch. A checkpoint writer stores the tensors and scalars as
/// they are; loading checks every name, count and shape before anything changes, restores
/// the learning rate (schedules change it) and requires the other hyperparameters to match,
/// so a wrong checkpoint fails loudly instead of training on garbage.
///
/// ```
/// use tapegrad_autograd::{Array, Tensor};
/// use tapegrad_optim::{Optimizer, OptimizerState, Sgd, SgdConfig};
/// let w = Tensor::<f64>::ones(&[2]).requires_grad();
/// let opt = Sgd::new(vec![w], SgdConfig { lr: 0.1, ..SgdConfig::default() }).unwrap();
/// let state: OptimizerState<f64> = opt.state();
/// assert_eq!(state.scalar("lr"), Some(0.1));
/// assert!(state.tensors.is_empty()); // plain SGD keeps no buffers
/// ```
#[derive(Clone, Debug)]
pub struct OptimizerState<T: Element> {
    /// Per-parameter buffers, e.g. `("state.0.exp_avg", [..])`, each shaped like its parameter.
    pub tensors: Vec<(String, Array<T>)>,
    /// Step counts (`state.0.step`), the number of parameters (`params`), the learning rate
    /// (`lr`) and the hyperparameters (`momentum`, `betas.0`, flags as 0 or 1).
    pub scalars: Vec<(String, f64)>,
}

impl<T: Element> Default for OptimizerState<T> {
    fn default() -> Self {
        OptimizerState { tensors: Vec::new(), scalars: Vec::new() }
    }
}

impl<T: Element> OptimizerState<T> {
    /// An empty state.
    ///
    /// ```
    /// let state = tapegrad_optim::OptimizerState::<f32>::new();
    /// assert!(state.tensors.is_empty() && state.scalars.is_empty());
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// The buffer named `name`, if any.
    ///
    /// ```
    /// use tapegrad_autograd::Array;
    /// let mut state = tapegrad_optim::OptimizerState::<f32>::new();
    /// state.tensors.push(("state.0.sum".into(), Array::full(&[2], 0.5)));
    /// assert_eq!(state.tensor("state.0.sum").unwrap().to_vec(), vec![0.5, 0.5]);
    /// assert!(state.tensor("state.1.sum").is_none());
    /// ```
    pub fn tensor(&self, name: &str) -> Option<&Array<T>> {
        self.tensors.iter().find(|(n, _)| n == name).map(|(_, a)| a)
    }

    /// The scalar named `name`, if any.
    ///
    /// ```
    /// let mut state = tapegrad_optim::OptimizerState::<f32>::new();
    /// state.scalars.push(("lr".into(), 0.01));
    /// assert_eq!(state.scalar("lr"), Some(0.01));
    /// ```
    pub fn scalar(&self, name: &str) -> Option<f64> {
        self.scalars.iter().find(|(n, _)| n == name).map(|(_, v)| *v)
    }

    pub(crate) fn push_tensor(&mut self, name: String, shape: &[usize], values: &[T]) {
        let array = Array::from_vec(values.to_vec(), shape).expect("a state buffer is shaped like its parameter");
        self.tensors.push((name, array));
    }

    pub(crate) fn push_scalar(&mut self, name: impl Into<String>, value: f64) {
        self.scalars.push((name.into(), value));
    }
}

/// Reads a saved state strictly. Each entry must be asked for exactly once, with the right
/// shape. Problems are collected rather than returned at once, so that [`StateReader::finish`]
/// can report the most telling one: an entry this optimizer never writes (another
/// optimizer's state, a parameter index past the end) before one that is missing.
pub(crate) struct StateReader<'a, T: Element> {
    optimizer: &'static str,
    num_params: usize,
    state: &'a OptimizerState<T>,
    used_tensors: Vec<bool>,
    used_scalars: Vec<bool>,
    error: Option<OptimError>,
}

impl<'a, T: Element> StateReader<'a, T> {
    /// Starts reading a state for an optimizer over `num_params` parameters; fails at once on
    /// a name that appears twice or a state saved for another number of parameters.
    pub(crate) fn new(
        optimizer: &'static str,
        num_params: usize,
        state: &'a OptimizerState<T>,
    ) -> Result<Self, OptimError> {
        let mut seen = std::collections::HashSet::new();
        for name in state.tensors.iter().map(|(n, _)| n).chain(state.scalars.iter().map(|(n, _)| n)) {
            if !seen.insert(name.as_str()) {
                return Err(OptimError::DuplicateEntry { optimizer, name: name.clone() });
            }
        }
        let mut reader = StateReader {
            optimizer,
            num_params,
            state,
            used_tensors: vec![false; state.tensors.len()],
            used_scalars: vec![false; state.scalars.len()],
            error: None,
        };
        let found = reader.scalar("params");
        if reader.error.is_none() && found.to_bits() != (num_params as f64).to_bits() {
            return Err(OptimError::ParamCountMismatch { optimizer, expected: num_params, found });
        }
        Ok(reader)
    }

    /// Whether any entry belongs to parameter `index` (its state was created).
    pub(crate) fn has_param_state(&self, index: usize) -> bool {
        let prefix = format!("state.{index}.");
        let mut names = self.state.tensors.iter().map(|(n, _)| n).chain(self.state.scalars.iter().map(|(n, _)| n));
        names.any(|n| n.starts_with(&prefix))
    }

    /// The scalar `name`, required.
    pub(crate) fn scalar(&mut self, name: &str) -> f64 {
        match self.state.scalars.iter().position(|(n, _)| n == name) {
            Some(i) => {
                self.used_scalars[i] = true;
                self.state.scalars[i].1
            }
            None => {
                self.fail(OptimError::MissingEntry { optimizer: self.optimizer, name: name.to_string() });
                0.0
            }
        }
    }

    /// The learning rate, required, finite and ≥ 0.
    pub(crate) fn lr(&mut self) -> f64 {
        let lr = self.scalar("lr");
        if !(lr.is_finite() && lr >= 0.0) {
            self.invalid("lr", lr, "a learning rate must be finite and ≥ 0");
        }
        lr
    }

    /// The step count of parameter `index`, required: a whole number ≥ 0.
    pub(crate) fn step(&mut self, index: usize) -> u64 {
        let name = format!("state.{index}.step");
        let step = self.scalar(&name);
        if !(step >= 0.0 && step.fract() == 0.0 && step < u64::MAX as f64) {
            self.invalid(&name, step, "a step count must be a whole number ≥ 0");
            return 0;
        }
        step as u64
    }

    /// Requires the saved hyperparameter `name` to equal this optimizer's `value`.
    pub(crate) fn hyperparameter(&mut self, name: &str, value: f64) {
        let found = self.scalar(name);
        if self.error.is_none() && found.to_bits() != value.to_bits() {
            self.fail(OptimError::HyperparameterMismatch {
                optimizer: self.optimizer,
                name: name.to_string(),
                expected: value,
                found,
            });
        }
    }

    /// The buffer `state.<index>.<key>`, required, shaped like parameter `index`.
    pub(crate) fn buffer(&mut self, index: usize, key: &str, shape: &[usize]) -> Vec<T> {
        let name = format!("state.{index}.{key}");
        let Some(i) = self.state.tensors.iter().position(|(n, _)| *n == name) else {
            self.fail(OptimError::MissingEntry { optimizer: self.optimizer, name });
            return Vec::new();
        };
        self.used_tensors[i] = true;
        let array = &self.state.tensors[i].1;
        if array.shape() != shape {
            self.fail(OptimError::ShapeMismatch {
                optimizer: self.optimizer,
                name,
                index,
                expected: shape.to_vec(),
                found: array.shape().to_vec(),
            });
            return Vec::new();
        }
        array.to_vec()
    }

    /// The verdict: the first entry nobody asked for, else the first problem met, else Ok.
    pub(crate) fn finish(self) -> Result<(), OptimError> {
        let unused_tensor = self.state.tensors.iter().zip(&self.used_tensors).find(|(_, used)| !**used);
        let unused_scalar = self.state.scalars.iter().zip(&self.used_scalars).find(|(_, used)| !**used);
        let name = match (unused_tensor, unused_scalar) {
            (Some(((name, _), _)), _) | (None, Some(((name, _), _))) => name,
            (None, None) => return self.error.map_or(Ok(()), Err),
        };
        let index =
            name.strip_prefix("state.").and_then(|rest| rest.split('.').next()).and_then(|i| i.parse::<usize>().ok());
        let reason = match index {
            Some(i) if i >= self.num_params => {
                format!("this {} has {} parameters, numbered from 0", self.optimizer, self.num_params)
            }
            _ => format!("this {} with its configuration keeps no such state", self.optimizer),
        };
        Err(OptimError::UnexpectedEntry { optimizer: self.optimizer, name: name.clone(), reason })
    }

    fn invalid(&mut self, name: &str, value: f64, expected: &'static str) {
        self.fail(OptimError::InvalidEntry { optimizer: self.optimizer, name: name.to_string(), value, expected });
    }

    fn fail(&mut self, error: OptimError) {
        self.error.get_or_insert(error);
    }
}
