//! `DistributedDataParallel`: one model replicated on every rank, kept identical by starting
//! from rank 0's parameters and stepping with gradients summed over the ranks.

use tapegrad_autograd::{Tensor, no_grad};
use tapegrad_nn::Module;

use crate::reduce::{ReduceMode, all_reduce_sum};
use crate::{Communicator, DistributedError};

/// Ok if every rank's model agrees with rank 0's (`same` on each); else this rank's
/// mismatch, or the first mismatching rank's number.
fn agree<C: Communicator>(
    comm: &C,
    same: bool,
    expected: impl FnOnce() -> String,
    found: String,
) -> Result<(), DistributedError> {
    let size = comm.size();
    let mut differs = vec![0.0f32; size];
    comm.all_gather(&[if same { 0.0 } else { 1.0 }], &mut differs, &vec![1; size]);
    let rank = comm.rank();
    match differs.iter().position(|&d| d != 0.0) {
        None => Ok(()),
        Some(_) if !same => Err(DistributedError::ModelMismatch { rank, expected: expected(), found }),
        Some(peer) => Err(DistributedError::PeerModelMismatch { rank, peer }),
    }
}

/// How gradients are reduced.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DdpConfig {
    /// Rank-ordered (bit-identical, the default) or the transport's allreduce.
    pub mode: ReduceMode,
    /// Gradients travel in buckets of about this many MiB (PyTorch's `bucket_cap_mb`,
    /// default 25): fewer, larger messages than one per parameter, without one buffer as
    /// large as the whole model. A parameter larger than a bucket travels alone.
    pub bucket_cap_mb: f64,
}

impl Default for DdpConfig {
    fn default() -> Self {
        DdpConfig { mode: ReduceMode::Deterministic, bucket_cap_mb: 25.0 }
    }
}

/// A model trained data-parallel, as PyTorch's `DistributedDataParallel`.
///
/// Made on every rank from the same architecture, it first sets every rank's parameters to
/// rank 0's. A step is then: each rank runs forward and backward on its slice of the global
/// batch with a **sum**-reduced loss, and calls [`sync_gradients`](Self::sync_gradients)
/// with the global batch size before the optimizer steps.
///
/// Gradient accumulation needs no special mode (PyTorch's `no_sync`): communication
/// happens only in `sync_gradients`, so several backward passes before it accumulate
/// locally, and one reduction covers them all.
///
/// ```
/// use rand::SeedableRng;
/// use tapegrad_autograd::Tensor;
/// use tapegrad_distributed::{DdpConfig, DistributedDataParallel, SingleProcess};
/// use tapegrad_nn::{Linear, Module};
///
/// let mut rng = rand::rngs::StdRng::seed_from_u64(0);
/// let ddp = DistributedDataParallel::new(Linear::new(2, 1, &mut rng), SingleProcess, DdpConfig::default()).unwrap();
/// // Two micro-batches of 2 and 1 samples, one reduction: the mean gradient over 3.
/// for x in [vec![1.0f32, 0.0, 1.0, 0.0], vec![1.0, 0.0]] {
///     let n = x.len() / 2;
///     ddp.forward(&Tensor::from_vec(x, &[n, 2]).unwrap()).sum().backward();
/// }
/// ddp.sync_gradients(3).unwrap();
/// let w = &ddp.module().named_parameters()[0].1;
/// assert_eq!(w.grad().unwrap().to_vec(), vec![1.0, 0.0]); // d(Σ x·w)/dw ÷ 3
/// ```
pub struct DistributedDataParallel<M, C> {
    module: M,
    comm: C,
    config: DdpConfig,
}

impl<M: Module, C: Communicator> DistributedDataParallel<M, C> {
    /// Wraps `module` and sets its parameters to rank 0's on every rank (a broadcast).
    ///
    /// # Errors
    /// [`DistributedError::ModelMismatch`] on a rank whose model has other parameter
    /// sizes than rank 0's, [`DistributedError::PeerModelMismatch`] on the others.
    pub fn new(module: M, comm: C, config: DdpConfig) -> Result<Self, DistributedError> {
        let params = module.parameters();
        // Compare with rank 0's model before moving values (a broadcast of mismatched
        // lengths would be undefined behaviour in MPI, not an error); every rank learns of
        // a mismatch, so none goes on alone into the next collective.
        let mut count = [params.len() as f32];
        comm.broadcast(&mut count, 0);
        let found = format!("{} parameters", params.len());
        agree(&comm, count[0] == params.len() as f32, || format!("{} parameters", count[0]), found)?;
        let sizes: Vec<f32> = params.iter().map(|p| p.numel() as f32).collect();
        let mut root_sizes = sizes.clone();
        comm.broadcast(&mut root_sizes, 0);
        let found = format!("parameter sizes {sizes:?}");
        agree(&comm, root_sizes == sizes, || format!("parameter sizes {root_sizes:?}"), found)?;
        let mut flat: Vec<f32> = params.iter().flat_map(|p| p.to_vec()).collect();
        comm.broadcast(&mut flat, 0);
        let mut offset = 0;
        for p in &params {
            let n = p.numel();
            p.update_data(|w| w.copy_from_slice(&flat[offset..offset + n]));
            offset += n;
        }
        Ok(DistributedDataParallel { module, comm, config })
    }

    /// The wrapped model's output (the model itself, nothing distributed happens here).
    pub fn forward(&self, input: &Tensor) -> Tensor {
        self.module.forward(input)
    }

    /// Sums every parameter's gradient over the ranks and divides it by `global_batch_size`
    /// (the samples of this step on all ranks together), in buckets. Afterwards every rank
    /// holds the same gradient: the mean over the global batch of a loss that each rank
    /// summed over its slice. A parameter without a gradient on this rank counts as zeros
    /// (other ranks may have one); after the call it has one on every rank.
    ///
    /// Every rank must call it at the same step.
    ///
    /// # Errors
    /// [`DistributedError::EmptyGlobalBatch`] if `global_batch_size` is 0.
    pub fn sync_gradients(&self, global_batch_size: usize) -> Result<(), DistributedError> {
        if global_batch_size == 0 {
            return Err(DistributedError::EmptyGlobalBatch { rank: self.comm.rank() });
        }
        let params = self.module.parameters();
        let cap = ((self.config.bucket_cap_mb * 1024.0 * 1024.0 / 4.0) as usize).max(1);
        let divisor = global_batch_size as f32;
        let mut first = 0;
        while first < params.len() {
            let mut end = first + 1;
            let mut len = params[first].numel();
            while end < params.len() && len + params[end].numel() <= cap {
                len += params[end].numel();
                end += 1;
            }
            let bucket = &params[first..end];
            let mut flat = Vec::with_capacity(len);
            for p in bucket {
                match p.grad() {
                    Some(g) => flat.extend(g.to_vec()),
                    None => flat.resize(flat.len() + p.numel(), 0.0),
                }
            }
            all_reduce_sum(&self.comm, &mut flat, self.config.mode);
            let mut offset = 0;
            for p in bucket {
                let n = p.numel();
                let mean: Vec<f32> = flat[offset..offset + n].iter().map(|g| g / divisor).collect();
                let grad =
                    no_grad(|| Tensor::from_vec(mean, p.shape()).expect("a bucket slice of the parameter's size"));
                p.set_grad(Some(grad));
                offset += n;
            }
            first = end;
        }
        Ok(())
    }

    /// Forgets every parameter's gradient, before a new step's backward passes.
    pub fn zero_grad(&self) {
        self.module.zero_grad();
    }

    /// The wrapped model.
    pub fn module(&self) -> &M {
        &self.module
    }

    /// The wrapped model, mutably (to switch train/eval mode).
    pub fn module_mut(&mut self) -> &mut M {
        &mut self.module
    }

    /// The communicator, for the training loop's own collectives.
    pub fn communicator(&self) -> &C {
        &self.comm
    }

    /// The model and the communicator back.
    pub fn into_parts(self) -> (M, C) {
        (self.module, self.comm)
    }
}
