//! Errors for data that comes from outside the program: user buffers, files, checkpoints.
//!
//! Math-op misuse (mismatched shapes, bad axes) panics instead, with a message naming the
//! op, the shapes and the caller's line; see ARCHITECTURE.md for the policy.

/// What went wrong when building a tensor from outside data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// A buffer's length does not match the shape it should fill.
    #[error("from_vec: {len} values cannot fill shape {shape:?} ({expected} elements)")]
    LengthMismatch {
        /// The number of values given.
        len: usize,
        /// The shape asked for.
        shape: Vec<usize>,
        /// The number of elements that shape holds.
        expected: usize,
    },
}
