//! Starting and stopping: which communicator this process gets, and how a failing rank
//! ends the job instead of leaving the others waiting.
//!
//! Jobs start with the MPI launcher: `mpirun -np 2 target/release/examples/mnist_ddp`.
//! A rank that returns an error or panics inside [`abort_on_error`] prints
//! `rank N of S failed: …` and aborts the whole job (MPI_Abort); a rank killed outright is
//! noticed by `mpirun`, which ends the others. What no process can notice, a deadlock, is
//! what `mpirun --timeout SECONDS` is for.

use std::fmt::Display;
use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::{Communicator, DistributedError};

/// This process's place in a job, as the MPI launcher announced it in the environment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LaunchedRank {
    /// This process's rank.
    pub rank: usize,
    /// The number of processes started.
    pub size: usize,
    /// The environment variable that gave the size.
    pub variable: &'static str,
}

/// The rank and size an MPI launcher gave this process, read through `env` (pass
/// `|name| std::env::var(name).ok()`): Open MPI's `OMPI_COMM_WORLD_SIZE`, MPICH's and
/// Slurm's PMI `PMI_SIZE`, or PMIx's `PMIX_SIZE`. `None` when not started by a launcher.
///
/// ```
/// use tapegrad_distributed::launched_rank;
/// let env = |name: &str| match name {
///     "OMPI_COMM_WORLD_SIZE" => Some("2".to_string()),
///     "OMPI_COMM_WORLD_RANK" => Some("1".to_string()),
///     _ => None,
/// };
/// assert_eq!(launched_rank(env).map(|l| (l.rank, l.size)), Some((1, 2)));
/// assert_eq!(launched_rank(|_| None), None);
/// ```
pub fn launched_rank(env: impl Fn(&str) -> Option<String>) -> Option<LaunchedRank> {
    const LAUNCHERS: [(&str, &str); 3] =
        [("OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_RANK"), ("PMI_SIZE", "PMI_RANK"), ("PMIX_SIZE", "PMIX_RANK")];
    LAUNCHERS.iter().find_map(|&(size_var, rank_var)| {
        let size = env(size_var)?.trim().parse().ok()?;
        let rank = env(rank_var).and_then(|r| r.trim().parse().ok()).unwrap_or(0);
        Some(LaunchedRank { rank, size, variable: size_var })
    })
}

/// The communicator for this process: with the `mpi` feature, MPI's world (which is a
/// group of one when started without `mpirun`); without it, [`SingleProcess`](crate::SingleProcess),
/// unless the process was started by an MPI launcher as one of several ranks, which it
/// refuses: each rank would train alone, silently.
///
/// # Errors
/// [`DistributedError::NotBuiltWithMpi`], saying how to build with MPI;
/// [`DistributedError::AlreadyInitialized`] on a second call with MPI.
///
/// ```no_run
/// let comm = tapegrad_distributed::init().unwrap_or_else(|e| {
///     eprintln!("error: {e}");
///     std::process::exit(2)
/// });
/// ```
pub fn init() -> Result<Box<dyn Communicator>, DistributedError> {
    #[cfg(feature = "mpi")]
    {
        Ok(Box::new(crate::MpiCommunicator::init()?))
    }
    #[cfg(not(feature = "mpi"))]
    {
        match launched_rank(|name| std::env::var(name).ok()) {
            Some(LaunchedRank { rank, size, variable }) if size > 1 => {
                Err(DistributedError::NotBuiltWithMpi { rank, size, variable })
            }
            _ => Ok(Box::new(crate::SingleProcess)),
        }
    }
}

/// Runs this rank's part of the job; if it returns an error or panics, prints
/// `rank N of S failed: <error>` on stderr and aborts every rank (exit status 1), so no
/// rank is left waiting in a collective for one that is gone.
///
/// ```
/// use tapegrad_distributed::{SingleProcess, abort_on_error};
/// let steps = abort_on_error(&SingleProcess, || Ok::<_, String>(20));
/// assert_eq!(steps, 20);
/// ```
pub fn abort_on_error<C, T, E>(comm: &C, rank_main: impl FnOnce() -> Result<T, E>) -> T
where
    C: Communicator + ?Sized,
    E: Display,
{
    let failure = match catch_unwind(AssertUnwindSafe(rank_main)) {
        Ok(Ok(value)) => return value,
        Ok(Err(error)) => error.to_string(),
        Err(panic) => match (panic.downcast_ref::<&str>(), panic.downcast_ref::<String>()) {
            (Some(s), _) => format!("panicked: {s}"),
            (_, Some(s)) => format!("panicked: {s}"),
            _ => "panicked".to_string(),
        },
    };
    eprintln!("rank {} of {} failed: {failure}", comm.rank(), comm.size());
    comm.abort(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn launchers_are_recognised_by_their_variables() {
        let env = |vars: &'static [(&'static str, &'static str)]| {
            move |name: &str| vars.iter().find(|(n, _)| *n == name).map(|(_, v)| v.to_string())
        };
        let mpich = launched_rank(env(&[("PMI_SIZE", "4"), ("PMI_RANK", "3")])).unwrap();
        assert_eq!((mpich.rank, mpich.size, mpich.variable), (3, 4, "PMI_SIZE"));
        let pmix = launched_rank(env(&[("PMIX_SIZE", "3"), ("PMIX_RANK", "2")])).unwrap();
        assert_eq!((pmix.rank, pmix.size), (2, 3));
        assert_eq!(launched_rank(env(&[("PMI_SIZE", "not a number")])), None);
    }

    #[cfg(not(feature = "mpi"))]
    #[test]
    fn the_refusal_says_how_to_build_with_mpi() {
        let e = DistributedError::NotBuiltWithMpi { rank: 1, size: 2, variable: "OMPI_COMM_WORLD_SIZE" };
        let message = e.to_string();
        assert!(message.contains("rank 1 of 2") && message.contains("--features mpi"), "{message}");
    }
}
