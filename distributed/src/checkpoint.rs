//! Checkpoints in a distributed job: every rank holds the same parameters, so one rank
//! (rank 0) writes, with the atomic save of `tapegrad_nn::checkpoint` or
//! `tapegrad::save_training`, and the others wait until the file is complete.

use crate::Communicator;

/// Runs `save` on rank 0 only and returns its result there (`Ok(None)` on the other
/// ranks); every rank then waits at a barrier, so no rank reads or overwrites the file
/// before it is complete. Make the saver atomic (write beside, rename over), as nn's
/// `checkpoint::save` and `tapegrad::save_training` are.
///
/// If rank 0's save fails, it returns the error and the others wait at the barrier: run the
/// rank inside [`abort_on_error`](crate::abort_on_error) so that the error ends the job.
///
/// ```
/// use std::collections::BTreeMap;
/// use tapegrad_autograd::Tensor;
/// use tapegrad_distributed::{SingleProcess, on_rank0};
/// use tapegrad_nn::checkpoint::save_params;
///
/// let path = std::env::temp_dir().join("tapegrad_doc_on_rank0.safetensors");
/// let w = Tensor::<f32>::ones(&[2]).requires_grad();
/// let written = on_rank0(&SingleProcess, || save_params(&path, &[("w".to_string(), w.clone())], &BTreeMap::new()));
/// assert!(written.unwrap().is_some());
/// # std::fs::remove_file(&path).unwrap();
/// ```
pub fn on_rank0<C, T, E>(comm: &C, save: impl FnOnce() -> Result<T, E>) -> Result<Option<T>, E>
where
    C: Communicator + ?Sized,
{
    let saved = if comm.rank() == 0 { Some(save()?) } else { None };
    comm.barrier();
    Ok(saved)
}
