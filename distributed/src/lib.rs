//! # tapegrad-distributed
//!
//! Data-parallel training over several processes (ranks), in the spirit of PyTorch's
//! `DistributedDataParallel`: every rank holds the whole model, takes its own slice of every
//! global batch, and after backward the ranks add their gradients together, so every rank
//! takes the same optimizer step.
//!
//! - [`Communicator`]: the few collective operations that needs. [`SingleProcess`] (one
//!   rank, no MPI) is always there; `MpiCommunicator` (feature `mpi`) runs them on Open MPI
//!   or MPICH through the `mpi` crate. [`init`] picks the right one.
//! - [`DistributedDataParallel`]: broadcasts rank 0's parameters at the start; after
//!   backward, [`DistributedDataParallel::sync_gradients`] sums the gradients over the ranks
//!   in buckets and divides once by the global batch size.
//! - [`DistributedSampler`]: each rank's contiguous slice of every global batch, shuffled
//!   from one seed identically on every rank.
//! - [`abort_on_error`]: a rank that fails brings the whole job down with a message naming
//!   it, instead of leaving the others waiting for it forever; [`on_rank0`]: checkpoints
//!   written once.
//!
//! ## Bit-identical to one process, and what that means exactly
//! In [`ReduceMode::Deterministic`] the result does not depend on how many processes ran it:
//! `R` ranks give, bit for bit, the parameters of **one process that computes the gradient
//! of each of the `R` slices of the global batch in turn** (a sum-reduced loss per slice,
//! backward accumulating into the gradients: slice 0's, plus slice 1's, plus slice 2's …),
//! then divides once by the global batch size. That single process is the same program
//! with a [`SingleProcess`] communicator, looping over the `R` slices the sampler would hand
//! the ranks (`DistributedSampler::new(data, batch, r, R)` for `r` in `0..R`).
//!
//! It is *not* bitwise the gradient of one mean-reduced loss over the whole global batch:
//! that sums over the batch inside the matrix products, in another order, and floating-point
//! addition is not associative. The difference is rounding (the values agree to a few ulps);
//! the guarantee is about bits, so it names the order of the additions. The rank-ordered sum
//! is computed by an all-to-all, each rank adding its chunk of the gradients over the ranks
//! in rank order, and an all-gather: MPI's own allreduce ([`ReduceMode::Fast`]) adds in an
//! order that depends on its algorithm and the number of ranks.
//!
//! ```
//! use rand::SeedableRng;
//! use tapegrad_autograd::Tensor;
//! use tapegrad_datasets::{Dataset, Targets};
//! use tapegrad_distributed::{DdpConfig, DistributedDataParallel, DistributedSampler, SingleProcess};
//! use tapegrad_nn::{Linear, Module, Reduction, mse_loss};
//!
//! let mut rng = rand::rngs::StdRng::seed_from_u64(0);
//! let x = Tensor::<f32>::randn(&[40, 3], &mut rng);
//! let data = Dataset::new(x.clone(), Targets::Values(x.sum_dim(1, true))).unwrap();
//! let model = DistributedDataParallel::new(Linear::new(3, 1, &mut rng), SingleProcess, DdpConfig::default()).unwrap();
//! let sampler = DistributedSampler::new(&data, 8, 0, 1).shuffle(42); // rank 0 of 1
//! for shard in sampler.epoch(0) {
//!     model.zero_grad();
//!     let loss = mse_loss(&model.forward(&shard.batch.inputs), shard.batch.targets.values().unwrap(), Reduction::Sum);
//!     loss.backward();
//!     model.sync_gradients(shard.global_batch_size).unwrap(); // sum over ranks, ÷ 8
//!     // optimizer.step() here
//! }
//! ```

#![warn(missing_docs)]

mod checkpoint;
mod communicator;
mod ddp;
mod error;
mod launch;
#[cfg(feature = "mpi")]
mod mpi_communicator;
mod reduce;
mod sampler;

pub use checkpoint::on_rank0;
pub use communicator::{Communicator, SingleProcess};
pub use ddp::{DdpConfig, DistributedDataParallel};
pub use error::DistributedError;
pub use launch::{LaunchedRank, abort_on_error, init, launched_rank};
#[cfg(feature = "mpi")]
pub use mpi_communicator::MpiCommunicator;
pub use reduce::{ReduceMode, all_reduce_sum_ordered};
pub use sampler::{DistributedSampler, Shard, Shards};
