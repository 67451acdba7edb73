//! Batching for training loops: a [`DataLoader`] walks a [`Dataset`] in batches, in order or
//! in a permutation fixed by `(seed, epoch)`.
//!
//! Batch size 1 is stochastic gradient descent; a batch size of at least `n` is full-batch
//! gradient descent (one batch of all samples). In order, a batch's inputs are views of the
//! data set (`narrow`: nothing copied); shuffled, each batch is one gather (`index_select`),
//! so an epoch holds at most one batch beside the data set.

use tapegrad_autograd::Tensor;

use crate::dataset::{Dataset, Targets, epoch_rng, permutation};

/// One batch: `[b, ...]` inputs and their `b` targets.
#[derive(Clone, Debug)]
pub struct Batch {
    /// The inputs.
    pub inputs: Tensor<f32>,
    /// Their targets.
    pub targets: Targets,
}

impl Batch {
    /// The number of samples in the batch.
    pub fn len(&self) -> usize {
        self.targets.len()
    }

    /// Whether the batch is empty (never, for batches a loader yields).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Batches over a borrowed data set; configure with [`DataLoader::shuffle`] and
/// [`DataLoader::drop_last`], then call [`DataLoader::epoch`] once per epoch.
///
/// ```
/// use tapegrad_autograd::Tensor;
/// use tapegrad_datasets::{DataLoader, Dataset, Targets};
/// let x = Tensor::arange(0.0f32, 10.0, 1.0).reshape([10, 1]);
/// let data = Dataset::new(x, Targets::Classes(vec![0; 10].into())).unwrap();
/// let loader = DataLoader::new(&data, 4).shuffle(42);
/// for epoch in 0..2 {
///     let sizes: Vec<usize> = loader.epoch(epoch).map(|b| b.len()).collect();
///     assert_eq!(sizes, vec![4, 4, 2]);
/// }
/// assert_eq!(DataLoader::new(&data, 4).drop_last(true).num_batches(), 2);
/// ```
#[derive(Clone, Debug)]
pub struct DataLoader<'a> {
    dataset: &'a Dataset,
    batch_size: usize,
    seed: Option<u64>,
    drop_last: bool,
}

impl<'a> DataLoader<'a> {
    /// Batches of `batch_size` samples in data-set order. A batch size above the data set's
    /// length is taken as its length (full batch).
    ///
    /// # Panics
    /// If `batch_size` is 0.
    #[track_caller]
    pub fn new(dataset: &'a Dataset, batch_size: usize) -> Self {
        assert!(batch_size > 0, "DataLoader::new: batch size must be at least 1");
        DataLoader { dataset, batch_size, seed: None, drop_last: false }
    }

    /// Visit the samples in a new random order each epoch, fixed by `seed` and the epoch
    /// number: the same seed replays the same orders.
    pub fn shuffle(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Whether to skip a last batch smaller than the batch size (so every step sees the
    /// same number of samples).
    pub fn drop_last(mut self, drop: bool) -> Self {
        self.drop_last = drop;
        self
    }

    /// The batch size in use: the one asked for, at most the data set's length.
    pub fn batch_size(&self) -> usize {
        self.batch_size.min(self.dataset.len()).max(1)
    }

    /// How many batches an epoch yields.
    ///
    /// ```
    /// # use tapegrad_autograd::Tensor;
    /// # use tapegrad_datasets::{DataLoader, Dataset, Targets};
    /// # let data = Dataset::new(Tensor::zeros(&[10, 1]), Targets::Classes(vec![0; 10].into())).unwrap();
    /// assert_eq!(DataLoader::new(&data, 3).num_batches(), 4);
    /// assert_eq!(DataLoader::new(&data, 3).drop_last(true).num_batches(), 3);
    /// assert_eq!(DataLoader::new(&data, 100).num_batches(), 1);
    /// ```
    pub fn num_batches(&self) -> usize {
        let (n, b) = (self.dataset.len(), self.batch_size());
        if self.drop_last { n / b } else { n.div_ceil(b) }
    }

    /// The batches of epoch `epoch` (counting from 0). Shuffled, each epoch has its own
    /// order, and asking for the same epoch again replays it.
    ///
    /// ```
    /// # use tapegrad_autograd::Tensor;
    /// # use tapegrad_datasets::{DataLoader, Dataset, Targets};
    /// let x = Tensor::arange(0.0f32, 6.0, 1.0).reshape([6, 1]);
    /// let data = Dataset::new(x, Targets::Classes(vec![0, 1, 2, 3, 4, 5].into())).unwrap();
    /// let loader = DataLoader::new(&data, 6).shuffle(1);
    /// let order = |epoch| loader.epoch(epoch).next().unwrap().targets.classes().unwrap().to_vec();
    /// assert_eq!(order(0), order(0));
    /// assert_ne!(order(0), order(1));
    /// ```
    pub fn epoch(&self, epoch: usize) -> Batches<'a> {
        let order = self.seed.map(|seed| permutation(self.dataset.len(), &mut epoch_rng(seed, epoch)));
        Batches { dataset: self.dataset, order, batch_size: self.batch_size(), next: 0, remaining: self.num_batches() }
    }
}

/// The batches of one epoch, from [`DataLoader::epoch`].
#[derive(Debug)]
pub struct Batches<'a> {
    dataset: &'a Dataset,
    /// The shuffled sample order, or `None` for data-set order.
    order: Option<Vec<usize>>,
    batch_size: usize,
    next: usize,
    remaining: usize,
}

impl Iterator for Batches<'_> {
    type Item = Batch;

    fn next(&mut self) -> Option<Batch> {
        if self.remaining == 0 {
            return None;
        }
        self.remaining -= 1;
        let (start, len) = (self.next, self.batch_size.min(self.dataset.len() - self.next));
        self.next += len;
        let data = self.dataset;
        Some(match &self.order {
            None => Batch { inputs: data.inputs.narrow(0, start, len), targets: data.targets.narrow(start, len) },
            Some(order) => {
                let index = &order[start..start + len];
                Batch { inputs: data.inputs.index_select(0, index), targets: data.targets.select(index) }
            }
        })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl ExactSizeIterator for Batches<'_> {}

#[cfg(test)]
mod tests {
    use super::*;

    fn numbered(n: usize) -> Dataset {
        let x = Tensor::arange(0.0f32, n as f32, 1.0).reshape([n as isize, 1]);
        Dataset::new(x, Targets::Values(Tensor::arange(0.0f32, n as f32, 1.0))).unwrap()
    }

    #[test]
    fn in_order_batches_are_views() {
        let data = numbered(6);
        let batch = DataLoader::new(&data, 4).epoch(0).next().unwrap();
        assert!(batch.inputs.value().shares_storage(&data.inputs.value()));
        assert_eq!(batch.inputs.to_vec(), vec![0.0, 1.0, 2.0, 3.0]);
    }

    #[test]
    fn an_empty_data_set_has_no_batches() {
        let data = Dataset::new(Tensor::zeros(&[0, 2]), Targets::Classes(vec![].into())).unwrap();
        assert_eq!(DataLoader::new(&data, 4).epoch(0).count(), 0);
        assert_eq!(DataLoader::new(&data, 4).shuffle(1).num_batches(), 0);
    }
}
