//! The distributed sampler: every rank's contiguous slice of every global batch, from one
//! shuffled order that every rank computes identically from the seed.

use tapegrad_datasets::{Batch, Dataset, epoch_rng, permutation};

/// Slices of global batches for one rank, as PyTorch's `DistributedSampler` feeding a
/// `DataLoader`. The global batches are exactly the batches of
/// `DataLoader::new(data, global_batch_size).shuffle(seed)` (same order); rank `r` of `R`
/// takes samples `r·b/R .. (r+1)·b/R` of each global batch of `b`, so the slices of all
/// ranks, in rank order, make up the global batch.
///
/// A last global batch with fewer samples than ranks is dropped, so every rank always has
/// at least one sample in every step.
///
/// ```
/// use tapegrad_autograd::Tensor;
/// use tapegrad_datasets::{Dataset, Targets};
/// use tapegrad_distributed::DistributedSampler;
/// let data = Dataset::new(Tensor::arange(0.0f32, 10.0, 1.0).reshape([10, 1]), Targets::Classes(vec![0; 10].into())).unwrap();
/// let rank1 = DistributedSampler::new(&data, 4, 1, 2); // rank 1 of 2, global batches of 4
/// let slices: Vec<Vec<f32>> = rank1.epoch(0).map(|s| s.batch.inputs.to_vec()).collect();
/// assert_eq!(slices, vec![vec![2.0, 3.0], vec![6.0, 7.0], vec![9.0]]);
/// assert_eq!(rank1.epoch(0).map(|s| s.global_batch_size).collect::<Vec<_>>(), vec![4, 4, 2]);
/// ```
#[derive(Clone, Debug)]
pub struct DistributedSampler<'a> {
    dataset: &'a Dataset,
    global_batch_size: usize,
    rank: usize,
    num_replicas: usize,
    seed: Option<u64>,
}

/// One rank's part of one step.
#[derive(Clone, Debug)]
pub struct Shard {
    /// This rank's samples.
    pub batch: Batch,
    /// The samples of the step on all ranks together: what
    /// [`sync_gradients`](crate::DistributedDataParallel::sync_gradients) divides by.
    pub global_batch_size: usize,
}

impl<'a> DistributedSampler<'a> {
    /// Rank `rank`'s slices of global batches of `global_batch_size` samples over
    /// `num_replicas` ranks, in data-set order (see [`Self::shuffle`]).
    ///
    /// # Panics
    /// If `rank` is not below `num_replicas`, or the global batch size is smaller than the
    /// number of ranks (some rank would have no sample).
    #[track_caller]
    pub fn new(dataset: &'a Dataset, global_batch_size: usize, rank: usize, num_replicas: usize) -> Self {
        assert!(rank < num_replicas, "DistributedSampler::new: rank {rank} out of range for {num_replicas} ranks");
        assert!(
            global_batch_size >= num_replicas,
            "DistributedSampler::new: a global batch of {global_batch_size} cannot give each of {num_replicas} ranks a sample"
        );
        DistributedSampler { dataset, global_batch_size, rank, num_replicas, seed: None }
    }

    /// Visits the samples in a new order each epoch, fixed by `seed` and the epoch number,
    /// the same on every rank (and the same as a `DataLoader` shuffled with `seed`).
    pub fn shuffle(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// How many steps an epoch has.
    pub fn num_batches(&self) -> usize {
        let (n, b) = (self.dataset.len(), self.global_batch_size);
        n / b + usize::from(n % b >= self.num_replicas)
    }

    /// The shards of epoch `epoch` (from 0) for this rank.
    pub fn epoch(&self, epoch: usize) -> Shards<'a> {
        let n = self.dataset.len();
        let order = match self.seed {
            Some(seed) => permutation(n, &mut epoch_rng(seed, epoch)),
            None => (0..n).collect(),
        };
        Shards { sampler: self.clone(), order, step: 0 }
    }
}

/// The shards of one epoch, from [`DistributedSampler::epoch`].
#[derive(Debug)]
pub struct Shards<'a> {
    sampler: DistributedSampler<'a>,
    order: Vec<usize>,
    step: usize,
}

impl Iterator for Shards<'_> {
    type Item = Shard;

    fn next(&mut self) -> Option<Shard> {
        let s = &self.sampler;
        if self.step >= s.num_batches() {
            return None;
        }
        let start = self.step * s.global_batch_size;
        let global = s.global_batch_size.min(self.order.len() - start);
        self.step += 1;
        let (from, to) = (s.rank * global / s.num_replicas, (s.rank + 1) * global / s.num_replicas);
        let index = &self.order[start + from..start + to];
        let batch = Batch { inputs: s.dataset.inputs.index_select(0, index), targets: s.dataset.targets.select(index) };
        Some(Shard { batch, global_batch_size: global })
    }
}

#[cfg(test)]
mod tests {
    use tapegrad_autograd::Tensor;
    use tapegrad_datasets::{DataLoader, Targets};

    use super::*;

    #[test]
    fn the_ranks_slices_make_up_the_data_loaders_batches() {
        let n = 23;
        let x = Tensor::arange(0.0f32, n as f32, 1.0).reshape([n as isize, 1]);
        let data = Dataset::new(x, Targets::Classes((0..n).collect::<Vec<_>>().into())).unwrap();
        for ranks in 1..=4 {
            for epoch in 0..2 {
                let mut joined: Vec<Vec<usize>> = vec![Vec::new(); 3];
                for rank in 0..ranks {
                    let sampler = DistributedSampler::new(&data, 7, rank, ranks).shuffle(5);
                    assert_eq!(sampler.num_batches(), 3 + usize::from(2 >= ranks));
                    for (step, shard) in sampler.epoch(epoch).take(3).enumerate() {
                        assert_eq!(shard.global_batch_size, 7);
                        joined[step].extend(shard.batch.targets.classes().unwrap().as_slice());
                    }
                }
                let loader = DataLoader::new(&data, 7).shuffle(5);
                let batches: Vec<Vec<usize>> =
                    loader.epoch(epoch).take(3).map(|b| b.targets.classes().unwrap().to_vec()).collect();
                assert_eq!(joined, batches, "{ranks} ranks, epoch {epoch}");
            }
        }
    }

    #[test]
    #[should_panic(expected = "cannot give each of 4 ranks a sample")]
    fn a_global_batch_smaller_than_the_ranks_is_refused() {
        let data = Dataset::new(Tensor::zeros(&[8, 1]), Targets::Classes(vec![0; 8].into())).unwrap();
        DistributedSampler::new(&data, 3, 0, 4);
    }
}
