//! Metrics: how good a model is, in the units people report: accuracy and the confusion
//! matrix for classifiers; RMSE, MAE and R² for regression. Plain numbers, no gradients.

use std::fmt;

use tapegrad_autograd::{Element, Indices, Tensor};

/// The fraction of rows whose highest score (`scores [n, classes]`) is the target class.
///
/// # Panics
/// If the scores are not `[n, classes]` with one target per row.
///
/// ```
/// use tapegrad_autograd::{Indices, Tensor};
/// use tapegrad_nn::accuracy;
/// let scores = Tensor::from_vec(vec![0.9f32, 0.1, 0.2, 0.8, 0.6, 0.4], &[3, 2]).unwrap();
/// assert_eq!(accuracy(&scores, &Indices::from(vec![0, 1, 1])), 2.0 / 3.0);
/// ```
#[track_caller]
pub fn accuracy<T: Element>(scores: &Tensor<T>, targets: &Indices) -> f64 {
    let predicted = predictions(scores, targets);
    let hits = predicted.iter().zip(targets.as_slice()).filter(|(p, t)| p == t).count();
    hits as f64 / targets.len().max(1) as f64
}

/// The predicted class of each row (its highest score), checked against the targets' count.
#[track_caller]
fn predictions<T: Element>(scores: &Tensor<T>, targets: &Indices) -> Vec<usize> {
    if scores.ndim() != 2 || targets.shape() != [scores.shape()[0]] {
        panic!(
            "accuracy: expected scores [n, classes] and targets [n], got {:?} and {:?}",
            scores.shape(),
            targets.shape()
        );
    }
    scores.argmax(1, false).to_vec()
}

/// The fraction of samples whose logit falls on the target's side of 0 (one output per
/// sample, targets 0 or 1).
///
/// # Panics
/// If the counts differ.
#[track_caller]
pub fn binary_accuracy<T: Element>(logits: &Tensor<T>, targets: &Indices) -> f64 {
    if logits.numel() != targets.len() {
        panic!("binary_accuracy: {} logits for {} targets", logits.numel(), targets.len());
    }
    let hits = logits.to_vec().iter().zip(targets.as_slice()).filter(|(x, t)| (**x > T::zero()) == (**t == 1)).count();
    hits as f64 / targets.len().max(1) as f64
}

/// Counts of (actual class, predicted class) pairs.
///
/// ```
/// use tapegrad_autograd::{Indices, Tensor};
/// use tapegrad_nn::ConfusionMatrix;
/// let mut cm = ConfusionMatrix::new(2);
/// let scores = Tensor::from_vec(vec![0.9f32, 0.1, 0.2, 0.8, 0.6, 0.4], &[3, 2]).unwrap();
/// cm.update(&scores, &Indices::from(vec![0, 1, 1]));
/// assert_eq!(cm.count(1, 0), 1); // one actual 1 predicted as 0
/// assert_eq!(cm.recall(1), 0.5);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfusionMatrix {
    classes: usize,
    counts: Vec<u64>,
}

impl ConfusionMatrix {
    /// An empty matrix for `classes` classes.
    pub fn new(classes: usize) -> Self {
        ConfusionMatrix { classes, counts: vec![0; classes * classes] }
    }

    /// Adds a batch: the predicted class of each row of `scores` against its target.
    ///
    /// # Panics
    /// If the shapes do not fit or a class is out of range.
    #[track_caller]
    pub fn update<T: Element>(&mut self, scores: &Tensor<T>, targets: &Indices) {
        let predicted = predictions(scores, targets);
        self.add(&predicted, targets.as_slice());
    }

    /// Adds predicted/actual class pairs.
    ///
    /// # Panics
    /// If a class is out of range.
    #[track_caller]
    pub fn add(&mut self, predicted: &[usize], actual: &[usize]) {
        for (&p, &a) in predicted.iter().zip(actual) {
            if p >= self.classes || a >= self.classes {
                panic!("ConfusionMatrix: class {} is out of range for {} classes", p.max(a), self.classes);
            }
            self.counts[a * self.classes + p] += 1;
        }
    }

    /// How many samples of class `actual` were predicted as `predicted`.
    pub fn count(&self, actual: usize, predicted: usize) -> u64 {
        self.counts[actual * self.classes + predicted]
    }

    /// Every count, row-major: `counts()[actual * classes + predicted]`.
    pub fn counts(&self) -> &[u64] {
        &self.counts
    }

    /// The number of classes.
    pub fn classes(&self) -> usize {
        self.classes
    }

    /// The fraction on the diagonal.
    pub fn accuracy(&self) -> f64 {
        let right: u64 = (0..self.classes).map(|c| self.count(c, c)).sum();
        right as f64 / self.counts.iter().sum::<u64>().max(1) as f64
    }

    /// Of the samples of class `c`, the fraction predicted as `c`.
    pub fn recall(&self, c: usize) -> f64 {
        let actual: u64 = (0..self.classes).map(|p| self.count(c, p)).sum();
        self.count(c, c) as f64 / actual.max(1) as f64
    }

    /// Of the samples predicted as `c`, the fraction that are `c`.
    pub fn precision(&self, c: usize) -> f64 {
        let predicted: u64 = (0..self.classes).map(|a| self.count(a, c)).sum();
        self.count(c, c) as f64 / predicted.max(1) as f64
    }
}

impl fmt::Display for ConfusionMatrix {
    /// Rows are actual classes, columns predicted; then recall per row.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let width = self.counts.iter().max().map_or(1, |m| m.to_string().len()).max(3);
        write!(f, "{:>8}", "actual\\pred")?;
        for p in 0..self.classes {
            write!(f, " {p:>width$}")?;
        }
        writeln!(f, "  recall")?;
        for a in 0..self.classes {
            write!(f, "{a:>11}")?;
            for p in 0..self.classes {
                write!(f, " {:>width$}", self.count(a, p))?;
            }
            writeln!(f, "  {:.3}", self.recall(a))?;
        }
        Ok(())
    }
}

#[track_caller]
fn residuals<T: Element>(op: &str, prediction: &Tensor<T>, target: &Tensor<T>) -> Vec<(f64, f64)> {
    if prediction.shape() != target.shape() {
        panic!("{op}: prediction {:?} and target {:?} differ in shape", prediction.shape(), target.shape());
    }
    let as_f64 = |t: &Tensor<T>| t.to_vec().into_iter().map(|v| v.to_f64().unwrap_or(f64::NAN)).collect::<Vec<_>>();
    as_f64(prediction).into_iter().zip(as_f64(target)).collect()
}

/// Root mean squared error, in the target's units.
///
/// # Panics
/// If the shapes differ.
///
/// ```
/// use tapegrad_autograd::Tensor;
/// use tapegrad_nn::rmse;
/// let p = Tensor::from_vec(vec![1.0f32, 3.0], &[2]).unwrap();
/// assert_eq!(rmse(&p, &Tensor::from_vec(vec![1.0, 1.0], &[2]).unwrap()), 2f64.sqrt());
/// ```
#[track_caller]
pub fn rmse<T: Element>(prediction: &Tensor<T>, target: &Tensor<T>) -> f64 {
    let pairs = residuals("rmse", prediction, target);
    (pairs.iter().map(|(p, t)| (p - t).powi(2)).sum::<f64>() / pairs.len().max(1) as f64).sqrt()
}

/// Mean absolute error, in the target's units.
///
/// # Panics
/// If the shapes differ.
#[track_caller]
pub fn mae<T: Element>(prediction: &Tensor<T>, target: &Tensor<T>) -> f64 {
    let pairs = residuals("mae", prediction, target);
    pairs.iter().map(|(p, t)| (p - t).abs()).sum::<f64>() / pairs.len().max(1) as f64
}

/// The coefficient of determination: 1 − Σ(t − p)² / Σ(t − t̄)² (1 is perfect, 0 is no
/// better than predicting the mean).
///
/// # Panics
/// If the shapes differ.
///
/// ```
/// use tapegrad_autograd::Tensor;
/// use tapegrad_nn::r2_score;
/// let t = Tensor::from_vec(vec![1.0f64, 2.0, 3.0], &[3]).unwrap();
/// assert_eq!(r2_score(&t, &t), 1.0);
/// assert_eq!(r2_score(&Tensor::full(&[3], 2.0), &t), 0.0);
/// ```
#[doc(alias = "r_squared")]
#[track_caller]
pub fn r2_score<T: Element>(prediction: &Tensor<T>, target: &Tensor<T>) -> f64 {
    let pairs = residuals("r2_score", prediction, target);
    let mean = pairs.iter().map(|(_, t)| t).sum::<f64>() / pairs.len().max(1) as f64;
    let residual: f64 = pairs.iter().map(|(p, t)| (t - p).powi(2)).sum();
    let total: f64 = pairs.iter().map(|(_, t)| (t - mean).powi(2)).sum();
    1.0 - residual / total
}
