//! What can go wrong when configuring an optimizer or a schedule, or loading saved state.
//!
//! Every variant names the thing at fault and carries what was expected and what was found,
//! so the message alone says what to fix. Math-op misuse elsewhere panics (see
//! ARCHITECTURE.md); bad configuration and checkpoints from outside return these.

/// A rejected configuration or saved state.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum OptimError {
    /// A hyperparameter outside its valid range (negative lr, beta ≥ 1, NaN…).
    #[error("{owner}: invalid {name} {}: {expected}", number(*.value))]
    InvalidHyperparameter {
        /// The optimizer or schedule being built: `"Adam"`, `"StepLR"`.
        owner: &'static str,
        /// PyTorch's name of the hyperparameter: `"betas.0"`, `"lr"`.
        name: &'static str,
        /// The value given.
        value: f64,
        /// The valid range, in words: `"must be in [0, 1)"`.
        expected: &'static str,
    },
    /// Nesterov momentum asked for without momentum, or with dampening (PyTorch's rule).
    #[error(
        "SGD: nesterov momentum needs momentum > 0 and dampening = 0 (got momentum {}, dampening {})",
        number(*.momentum),
        number(*.dampening)
    )]
    NesterovWithoutMomentum {
        /// The momentum given.
        momentum: f64,
        /// The dampening given.
        dampening: f64,
    },
    /// An optimizer over no parameters would silently do nothing.
    #[error("{optimizer}: the parameter list is empty")]
    NoParameters {
        /// The optimizer being built.
        optimizer: &'static str,
    },
    /// A tensor that is not a parameter (not made with `requires_grad()`) cannot be stepped.
    #[error("{optimizer}: tensor {index} (shape {shape:?}) is not a parameter; make it with requires_grad()")]
    NotAParameter {
        /// The optimizer being built.
        optimizer: &'static str,
        /// Its position in the parameter list.
        index: usize,
        /// Its shape.
        shape: Vec<usize>,
    },
    /// The same tensor twice in the parameter list would be stepped twice per step.
    #[error("{optimizer}: parameters {first} and {index} are the same tensor (it would be stepped twice)")]
    DuplicateParameter {
        /// The optimizer being built.
        optimizer: &'static str,
        /// The first position of the tensor.
        first: usize,
        /// The repeated position.
        index: usize,
    },
    /// Saved state belongs to an optimizer over another number of parameters.
    #[error("{optimizer}.load_state: the state is for {} parameters, but this optimizer has {expected}", number(*.found))]
    ParamCountMismatch {
        /// The optimizer loading the state.
        optimizer: &'static str,
        /// This optimizer's number of parameters.
        expected: usize,
        /// The saved count (the `params` entry).
        found: f64,
    },
    /// Saved state lacks an entry this optimizer needs.
    #[error("{optimizer}.load_state: the state has no entry '{name}'")]
    MissingEntry {
        /// The optimizer loading the state.
        optimizer: &'static str,
        /// The entry's name: `"state.3.exp_avg"`.
        name: String,
    },
    /// Saved state holds an entry this optimizer does not keep (another optimizer's state,
    /// or more parameters than this optimizer has).
    #[error("{optimizer}.load_state: unexpected entry '{name}' ({reason})")]
    UnexpectedEntry {
        /// The optimizer loading the state.
        optimizer: &'static str,
        /// The entry's name.
        name: String,
        /// Why it does not belong.
        reason: String,
    },
    /// Saved state names the same entry twice.
    #[error("{optimizer}.load_state: entry '{name}' appears more than once")]
    DuplicateEntry {
        /// The optimizer loading the state.
        optimizer: &'static str,
        /// The repeated name.
        name: String,
    },
    /// A saved buffer's shape differs from its parameter's.
    #[error("{optimizer}.load_state: entry '{name}' has shape {found:?}, but parameter {index} has shape {expected:?}")]
    ShapeMismatch {
        /// The optimizer loading the state.
        optimizer: &'static str,
        /// The entry's name.
        name: String,
        /// The parameter's position.
        index: usize,
        /// The parameter's shape.
        expected: Vec<usize>,
        /// The saved buffer's shape.
        found: Vec<usize>,
    },
    /// A saved hyperparameter differs from this optimizer's: resuming would silently change
    /// the algorithm. Build the optimizer with the saved configuration instead.
    #[error(
        "{optimizer}.load_state: hyperparameter '{name}' is {} in the state but {} in this optimizer; build the optimizer with the saved configuration",
        number(*.found),
        number(*.expected)
    )]
    HyperparameterMismatch {
        /// The optimizer loading the state.
        optimizer: &'static str,
        /// The hyperparameter's name.
        name: String,
        /// This optimizer's value.
        expected: f64,
        /// The saved value.
        found: f64,
    },
    /// A saved scalar that cannot be right (a fractional step count, a negative lr).
    #[error("{optimizer}.load_state: entry '{name}' is {}, but {expected}", number(*.value))]
    InvalidEntry {
        /// The optimizer loading the state.
        optimizer: &'static str,
        /// The entry's name.
        name: String,
        /// The saved value.
        value: f64,
        /// The valid values, in words.
        expected: &'static str,
    },
}

/// A number as a person writes it: whole numbers without a fraction (`2`, `-1`), others in
/// their shortest exact form with an exponent when tiny or huge (`0.1`, `-1e-8`, `NaN`).
pub(crate) fn number(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 { format!("{value}") } else { format!("{value:?}") }
}
