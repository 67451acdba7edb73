//! The in-memory supervised data set: inputs `[n, ...]` paired with targets, either class
//! indices `[n]` or values `[n, k]`; subsets, seeded train/validation splits, and the
//! seeded permutations that shuffling uses.

use rand::rngs::StdRng;
use rand::{Rng, RngExt, SeedableRng};
use tapegrad_autograd::{Indices, Tensor};

use crate::error::DataError;

/// What a model should predict for each sample.
#[derive(Clone, Debug)]
pub enum Targets {
    /// A class index per sample, `[n]`: for cross-entropy.
    Classes(Indices),
    /// A row of values per sample, `[n, k]` (or `[n]`): for regression losses.
    Values(Tensor<f32>),
}

impl Targets {
    /// The number of samples.
    ///
    /// ```
    /// use tapegrad_datasets::Targets;
    /// assert_eq!(Targets::Classes(vec![1, 0, 1].into()).len(), 3);
    /// ```
    pub fn len(&self) -> usize {
        match self {
            Targets::Classes(c) => c.shape().first().copied().unwrap_or(0),
            Targets::Values(v) => v.shape().first().copied().unwrap_or(0),
        }
    }

    /// Whether there are no samples.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The shape, for messages.
    pub fn shape(&self) -> &[usize] {
        match self {
            Targets::Classes(c) => c.shape(),
            Targets::Values(v) => v.shape(),
        }
    }

    /// The class indices, if these are classes.
    pub fn classes(&self) -> Option<&Indices> {
        match self {
            Targets::Classes(c) => Some(c),
            Targets::Values(_) => None,
        }
    }

    /// The values, if these are values.
    pub fn values(&self) -> Option<&Tensor<f32>> {
        match self {
            Targets::Values(v) => Some(v),
            Targets::Classes(_) => None,
        }
    }

    /// The targets of the samples at `index`, in that order (a copy).
    ///
    /// # Panics
    /// If an index is out of range.
    ///
    /// ```
    /// use tapegrad_datasets::Targets;
    /// let t = Targets::Classes(vec![4, 5, 6].into());
    /// assert_eq!(t.select(&[2, 0]).classes().unwrap().to_vec(), vec![6, 4]);
    /// ```
    #[track_caller]
    pub fn select(&self, index: &[usize]) -> Targets {
        match self {
            Targets::Classes(c) => {
                let all = c.as_slice();
                let picked = index
                    .iter()
                    .map(|&i| {
                        *all.get(i)
                            .unwrap_or_else(|| panic!("select: sample {i} is out of range for {} targets", all.len()))
                    })
                    .collect::<Vec<_>>();
                Targets::Classes(picked.into())
            }
            Targets::Values(v) => Targets::Values(v.index_select(0, index)),
        }
    }

    /// The targets of samples `start..start + len`: a view for values, a short copy for
    /// classes (indices have no views).
    ///
    /// # Panics
    /// If the range does not fit.
    ///
    /// ```
    /// use tapegrad_autograd::Tensor;
    /// use tapegrad_datasets::Targets;
    /// let t = Targets::Values(Tensor::from_vec(vec![1.0, 2.0, 3.0], &[3, 1]).unwrap());
    /// assert_eq!(t.narrow(1, 2).values().unwrap().to_vec(), vec![2.0, 3.0]);
    /// ```
    #[track_caller]
    pub fn narrow(&self, start: usize, len: usize) -> Targets {
        match self {
            Targets::Classes(c) => Targets::Classes(c.as_slice()[start..start + len].into()),
            Targets::Values(v) => Targets::Values(v.narrow(0, start, len)),
        }
    }
}

/// Inputs and their targets, one row each, in memory.
///
/// ```
/// use tapegrad_autograd::Tensor;
/// use tapegrad_datasets::{Dataset, Targets};
/// let x = Tensor::from_vec(vec![0.0f32, 1.0, 2.0, 3.0, 4.0, 5.0], &[3, 2]).unwrap();
/// let data = Dataset::new(x, Targets::Classes(vec![0, 1, 1].into())).unwrap();
/// assert_eq!((data.len(), data.num_classes()), (3, Some(2)));
/// ```
#[derive(Clone, Debug)]
pub struct Dataset {
    /// The inputs, `[n, ...]`.
    pub inputs: Tensor<f32>,
    /// One target per input row.
    pub targets: Targets,
}

impl Dataset {
    /// Pairs inputs with targets. Class targets shaped `[n, 1]` are flattened to `[n]`.
    ///
    /// # Errors
    /// [`DataError::LengthMismatch`] if the numbers of samples differ, the inputs have no
    /// sample axis, or class targets are neither `[n]` nor `[n, 1]`.
    ///
    /// ```
    /// use tapegrad_autograd::Tensor;
    /// use tapegrad_datasets::{Dataset, Targets};
    /// let x = Tensor::<f32>::zeros(&[4, 3]);
    /// assert!(Dataset::new(x, Targets::Classes(vec![0, 1].into())).is_err());
    /// ```
    pub fn new(inputs: Tensor<f32>, targets: Targets) -> Result<Dataset, DataError> {
        let shapes = (inputs.shape().to_vec(), targets.shape().to_vec());
        let mismatch = || DataError::LengthMismatch { inputs: shapes.0.clone(), targets: shapes.1.clone() };
        let n = *inputs.shape().first().ok_or_else(mismatch)?;
        let targets = match targets {
            Targets::Classes(c) if c.shape().len() == 2 && c.shape()[1] == 1 => {
                Targets::Classes(c.reshape(&[c.shape()[0]]))
            }
            Targets::Classes(c) if c.shape().len() != 1 => return Err(mismatch()),
            Targets::Values(v) if v.ndim() == 0 => return Err(mismatch()),
            other => other,
        };
        if targets.len() != n {
            return Err(mismatch());
        }
        Ok(Dataset { inputs, targets })
    }

    /// The number of samples.
    pub fn len(&self) -> usize {
        self.targets.len()
    }

    /// Whether there are no samples.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// One more than the largest class index (so a subset missing the top class reports
    /// fewer); `None` for value targets.
    pub fn num_classes(&self) -> Option<usize> {
        self.targets.classes().map(|c| c.max().map_or(0, |m| m + 1))
    }

    /// The samples at `index`, in that order (one gather: a copy).
    ///
    /// # Panics
    /// If an index is out of range.
    ///
    /// ```
    /// use tapegrad_autograd::Tensor;
    /// use tapegrad_datasets::{Dataset, Targets};
    /// let x = Tensor::arange(0.0f32, 4.0, 1.0).reshape([4, 1]);
    /// let data = Dataset::new(x, Targets::Classes(vec![0, 1, 2, 3].into())).unwrap();
    /// let sub = data.subset(&[3, 1]);
    /// assert_eq!(sub.inputs.to_vec(), vec![3.0, 1.0]);
    /// assert_eq!(sub.targets.classes().unwrap().to_vec(), vec![3, 1]);
    /// ```
    #[track_caller]
    pub fn subset(&self, index: &[usize]) -> Dataset {
        Dataset { inputs: self.inputs.index_select(0, index), targets: self.targets.select(index) }
    }

    /// A seeded split into `(train, validation)`: `round(n · validation_fraction)` samples,
    /// drawn at random, go to validation; the rest to train. Each part keeps the original
    /// order, the two are disjoint and together hold every sample. Both are copies, so the
    /// whole set can be dropped afterwards.
    ///
    /// # Panics
    /// If the fraction is not within `[0, 1]`.
    ///
    /// ```
    /// use tapegrad_autograd::Tensor;
    /// use tapegrad_datasets::{Dataset, Targets};
    /// let x = Tensor::arange(0.0f32, 10.0, 1.0).reshape([10, 1]);
    /// let data = Dataset::new(x, Targets::Classes(vec![0; 10].into())).unwrap();
    /// let (train, valid) = data.split(0.2, 7);
    /// assert_eq!((train.len(), valid.len()), (8, 2));
    /// ```
    #[track_caller]
    pub fn split(&self, validation_fraction: f64, seed: u64) -> (Dataset, Dataset) {
        assert!(
            (0.0..=1.0).contains(&validation_fraction),
            "split: validation fraction {validation_fraction} is not within [0, 1]"
        );
        let n = self.len();
        let n_valid = (n as f64 * validation_fraction).round() as usize;
        let order = permutation(n, &mut StdRng::seed_from_u64(seed));
        let (mut valid, mut train) = (order[..n_valid].to_vec(), order[n_valid..].to_vec());
        valid.sort_unstable();
        train.sort_unstable();
        (self.subset(&train), self.subset(&valid))
    }
}

/// A training set and a test set.
#[derive(Clone, Debug, PartialEq)]
pub struct Splits<T> {
    /// The samples to learn from.
    pub train: T,
    /// The samples held out for measuring.
    pub test: T,
}

impl<T> Splits<T> {
    /// Applies `f` to both parts, as in `splits.map(ImageSet::into_dataset)`.
    ///
    /// ```
    /// use tapegrad_datasets::Splits;
    /// let s = Splits { train: 3, test: 4 }.map(|n| n * 10);
    /// assert_eq!((s.train, s.test), (30, 40));
    /// ```
    pub fn map<U>(self, mut f: impl FnMut(T) -> U) -> Splits<U> {
        Splits { train: f(self.train), test: f(self.test) }
    }
}

/// A uniformly random permutation of `0..n` (Fisher–Yates) from `rng`.
///
/// ```
/// use rand::SeedableRng;
/// let p = tapegrad_datasets::permutation(5, &mut rand::rngs::StdRng::seed_from_u64(1));
/// let mut sorted = p.clone();
/// sorted.sort();
/// assert_eq!(sorted, vec![0, 1, 2, 3, 4]);
/// ```
pub fn permutation(n: usize, rng: &mut impl Rng) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        let j = rng.random_range(0..=i);
        order.swap(i, j);
    }
    order
}

/// The generator for one epoch of one seed: every `(seed, epoch)` pair gets its own
/// ChaCha key, so epochs differ and any epoch can be replayed alone. Public so samplers
/// elsewhere (the distributed one) shuffle exactly as [`DataLoader`](crate::DataLoader) does.
///
/// ```
/// use tapegrad_datasets::{epoch_rng, permutation};
/// assert_eq!(permutation(8, &mut epoch_rng(3, 1)), permutation(8, &mut epoch_rng(3, 1)));
/// assert_ne!(permutation(8, &mut epoch_rng(3, 1)), permutation(8, &mut epoch_rng(3, 2)));
/// ```
pub fn epoch_rng(seed: u64, epoch: usize) -> StdRng {
    let mut key = [0u8; 32];
    key[..8].copy_from_slice(&seed.to_le_bytes());
    key[8..16].copy_from_slice(&(epoch as u64).to_le_bytes());
    key[16..].copy_from_slice(b"tapegrad-epoch\0\0");
    StdRng::from_seed(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn column(n: usize) -> Dataset {
        let x = Tensor::arange(0.0f32, n as f32, 1.0).reshape([n as isize, 1]);
        Dataset::new(x, Targets::Classes((0..n).collect::<Vec<_>>().into())).unwrap()
    }

    #[test]
    fn lengths_must_agree() {
        let x = Tensor::<f32>::zeros(&[3, 2]);
        let err = Dataset::new(x.clone(), Targets::Values(Tensor::zeros(&[2, 1]))).unwrap_err();
        assert_eq!(
            err.to_string(),
            "inputs of shape [3, 2] and targets of shape [2, 1] have different numbers of samples"
        );
        assert!(Dataset::new(Tensor::scalar(1.0), Targets::Classes(vec![0].into())).is_err());
        let column_labels = Indices::new(vec![0, 1, 0], &[3, 1]).unwrap();
        let d = Dataset::new(x, Targets::Classes(column_labels)).unwrap();
        assert_eq!(d.targets.shape(), &[3]);
    }

    #[test]
    fn split_is_a_disjoint_cover_and_seeded() {
        let data = column(101);
        let (train, valid) = data.split(0.25, 3);
        assert_eq!((train.len(), valid.len()), (76, 25));
        let mut all: Vec<usize> = train.targets.classes().unwrap().to_vec();
        all.extend(valid.targets.classes().unwrap().as_slice());
        all.sort_unstable();
        assert_eq!(all, (0..101).collect::<Vec<_>>());
        let (_, again) = data.split(0.25, 3);
        assert_eq!(again.inputs.to_vec(), valid.inputs.to_vec());
        let (_, other) = data.split(0.25, 4);
        assert_ne!(other.inputs.to_vec(), valid.inputs.to_vec());
    }

    #[test]
    fn split_extremes() {
        let data = column(10);
        assert_eq!(data.split(0.0, 1).1.len(), 0);
        assert_eq!(data.split(1.0, 1).0.len(), 0);
    }

    #[test]
    fn epochs_and_seeds_give_different_orders() {
        let a = permutation(50, &mut epoch_rng(1, 0));
        assert_eq!(a, permutation(50, &mut epoch_rng(1, 0)));
        assert_ne!(a, permutation(50, &mut epoch_rng(1, 1)));
        assert_ne!(a, permutation(50, &mut epoch_rng(2, 0)));
    }
}
