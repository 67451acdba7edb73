//! Why distributed training could not start or go on.

/// What went wrong between the ranks; every variant names the rank at fault.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DistributedError {
    /// Started by an MPI launcher as one of several ranks, but built without MPI: each rank
    /// would train alone on the whole data set.
    #[error(
        "this program was started as rank {rank} of {size} ({variable} is set by the MPI launcher), but it was built without MPI support, so every rank would train alone; rebuild with the `mpi` feature (e.g. `cargo build --release --features mpi`, which needs `apt-get install libopenmpi-dev openmpi-bin libclang-dev`), or run it without mpirun"
    )]
    NotBuiltWithMpi {
        /// This process's rank, as the launcher said.
        rank: usize,
        /// The number of ranks the launcher started.
        size: usize,
        /// The environment variable that told.
        variable: &'static str,
    },
    /// MPI was initialised already in this process (it can be, only once).
    #[error("MPI is already initialised in this process (it can be initialised once; keep one communicator)")]
    AlreadyInitialized,
    /// A rank's model differs from rank 0's in its parameters.
    #[error("rank {rank}: the model has {found} where rank 0's has {expected}; every rank must build the same model")]
    ModelMismatch {
        /// The rank whose model differs.
        rank: usize,
        /// Rank 0's parameters (count or shapes).
        expected: String,
        /// This rank's.
        found: String,
    },
    /// Another rank's model differs from rank 0's (that rank's error says how).
    #[error("rank {rank}: rank {peer}'s model differs from rank 0's (see rank {peer}'s error)")]
    PeerModelMismatch {
        /// The rank reporting.
        rank: usize,
        /// The first rank whose model differs.
        peer: usize,
    },
    /// A gradient reduction was asked to divide by a global batch of 0 samples.
    #[error("rank {rank}: sync_gradients: the global batch size is 0")]
    EmptyGlobalBatch {
        /// The rank that asked.
        rank: usize,
    },
}
