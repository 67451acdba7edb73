//! A `fit` helper in Keras's spirit, for when the training loop is not the lesson: epochs,
//! batches, shuffling, validation, metrics, early stopping and a progress bar. The
//! hand-written loop stays first-class: this is that loop, written once.

use std::time::Instant;

use tapegrad_autograd::{Array, Tensor, no_grad};
use tapegrad_datasets::{DataLoader, Dataset, Targets};
use tapegrad_nn::{
    Module, Reduction, accuracy, binary_accuracy, binary_cross_entropy_with_logits, cross_entropy, mse_loss,
};
use tapegrad_optim::{Optimizer, Scheduler};

use crate::history::{EpochRecord, History};
use crate::progress::ProgressBar;

/// What to minimise, and the metric reported beside it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Objective {
    /// Softmax cross-entropy on class targets (outputs `[n, classes]`); reports accuracy.
    CrossEntropy,
    /// Binary cross-entropy on 0/1 class targets (one logit per sample); reports accuracy.
    BinaryCrossEntropy,
    /// Mean squared error on value targets (outputs shaped like them); reports RMSE.
    MeanSquaredError,
}

impl Objective {
    /// The metric's name: `"accuracy"` or `"rmse"`.
    pub fn metric_name(self) -> &'static str {
        match self {
            Objective::CrossEntropy | Objective::BinaryCrossEntropy => "accuracy",
            Objective::MeanSquaredError => "rmse",
        }
    }

    /// The mean loss of `outputs` against `targets`.
    ///
    /// # Panics
    /// If the targets are of the other kind (classes for MSE, values for cross-entropy) or
    /// their shapes do not fit the outputs.
    #[track_caller]
    pub fn loss(self, outputs: &Tensor, targets: &Targets) -> Tensor {
        match (self, targets) {
            (Objective::CrossEntropy, Targets::Classes(c)) => cross_entropy(outputs, c, Reduction::Mean),
            (Objective::BinaryCrossEntropy, Targets::Classes(c)) => {
                let y: Vec<f32> = c.as_slice().iter().map(|&k| k as f32).collect();
                let y = Tensor::from_vec(y, outputs.shape()).unwrap_or_else(|_| {
                    panic!("binary cross-entropy: {} targets for outputs {:?}", c.len(), outputs.shape())
                });
                binary_cross_entropy_with_logits(outputs, &y, Reduction::Mean)
            }
            (Objective::MeanSquaredError, Targets::Values(v)) => mse_loss(outputs, v, Reduction::Mean),
            (objective, _) => panic!("{objective:?} needs {} targets", objective.target_kind()),
        }
    }

    /// The metric of `outputs` against `targets`, as a sum over samples (accuracy counts
    /// hits; RMSE sums squared errors) so batches can be combined exactly.
    fn metric_sum(self, outputs: &Tensor, targets: &Targets) -> f64 {
        let n = targets.len() as f64;
        match (self, targets) {
            (Objective::CrossEntropy, Targets::Classes(c)) => accuracy(outputs, c) * n,
            (Objective::BinaryCrossEntropy, Targets::Classes(c)) => binary_accuracy(outputs, c) * n,
            (Objective::MeanSquaredError, Targets::Values(v)) => {
                outputs.to_vec().iter().zip(v.to_vec()).map(|(p, t)| ((p - t) as f64).powi(2)).sum::<f64>()
                    / (outputs.numel() as f64 / n.max(1.0))
            }
            (objective, _) => panic!("{objective:?} needs {} targets", objective.target_kind()),
        }
    }

    fn finish_metric(self, sum: f64, samples: usize) -> f64 {
        let mean = sum / samples.max(1) as f64;
        if self == Objective::MeanSquaredError { mean.sqrt() } else { mean }
    }

    fn target_kind(self) -> &'static str {
        if self == Objective::MeanSquaredError { "value" } else { "class" }
    }
}

/// Loss and metric of a model on a data set.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Evaluation {
    /// The mean loss.
    pub loss: f64,
    /// Accuracy or RMSE, as the objective reports.
    pub metric: f64,
}

/// The loss and metric of `model` on `data`, in batches, recording no graph. Put the
/// model in evaluation mode first (`model.eval()`) if it has dropout.
pub fn evaluate<M: Module + ?Sized>(model: &M, data: &Dataset, objective: Objective, batch_size: usize) -> Evaluation {
    no_grad(|| {
        let (mut loss, mut metric) = (0.0, 0.0);
        for batch in DataLoader::new(data, batch_size).epoch(0) {
            let outputs = model.forward(&batch.inputs);
            loss += objective.loss(&outputs, &batch.targets).item() as f64 * batch.len() as f64;
            metric += objective.metric_sum(&outputs, &batch.targets);
        }
        Evaluation { loss: loss / data.len().max(1) as f64, metric: objective.finish_metric(metric, data.len()) }
    })
}

type Penalty<'a> = Box<dyn Fn(&[Tensor]) -> Tensor + 'a>;
type EpochHook<'a, M> = Box<dyn FnMut(&EpochRecord, &M) + 'a>;

/// A training run, configured by its builder methods, started by [`Fit::run`].
///
/// ```
/// use rand::SeedableRng;
/// use tapegrad::prelude::*;
/// use tapegrad::{Fit, Objective};
/// use tapegrad::datasets::{Pattern, Playground, Feature};
///
/// let data = Playground::new(Pattern::Xor).seed(1).datasets(&[Feature::X1, Feature::X2, Feature::X1X2]);
/// let mut rng = StdRng::seed_from_u64(0);
/// let mut model = Sequential::new().add(Linear::new(3, 8, &mut rng)).add(Tanh).add(Linear::new(8, 2, &mut rng));
/// let mut sgd = Sgd::new(model.parameters(), SgdConfig { lr: 0.1, ..Default::default() }).unwrap();
/// let history = Fit::new(&mut model, &mut sgd, Objective::CrossEntropy)
///     .epochs(30).batch_size(10).shuffle(7).validation_data(&data.test)
///     .run(&data.train);
/// assert!(history.last().unwrap().val_metric.unwrap() > 0.9);
/// ```
pub struct Fit<'a, M: Module + ?Sized> {
    model: &'a mut M,
    optimizer: &'a mut dyn Optimizer<f32>,
    objective: Objective,
    epochs: usize,
    batch_size: usize,
    shuffle: Option<u64>,
    validation_split: Option<(f64, u64)>,
    validation_data: Option<&'a Dataset>,
    patience: Option<usize>,
    penalty: Option<Penalty<'a>>,
    scheduler: Option<&'a mut dyn Scheduler<f32>>,
    progress: bool,
    on_epoch: Option<EpochHook<'a, M>>,
}

impl<'a, M: Module + ?Sized> Fit<'a, M> {
    /// Training of `model` by `optimizer` (made over the model's parameters) towards
    /// `objective`: 10 epochs of batches of 32, shuffled with seed 0, no validation.
    pub fn new(model: &'a mut M, optimizer: &'a mut dyn Optimizer<f32>, objective: Objective) -> Self {
        Fit {
            model,
            optimizer,
            objective,
            epochs: 10,
            batch_size: 32,
            shuffle: Some(0),
            validation_split: None,
            validation_data: None,
            patience: None,
            penalty: None,
            scheduler: None,
            progress: false,
            on_epoch: None,
        }
    }

    /// The number of passes over the training data.
    pub fn epochs(mut self, epochs: usize) -> Self {
        self.epochs = epochs;
        self
    }

    /// Samples per step: 1 is stochastic gradient descent, the data set's size full-batch.
    pub fn batch_size(mut self, batch_size: usize) -> Self {
        self.batch_size = batch_size.max(1);
        self
    }

    /// Shuffles the training data every epoch from `seed` (the default, with seed 0).
    pub fn shuffle(mut self, seed: u64) -> Self {
        self.shuffle = Some(seed);
        self
    }

    /// Keeps the data's order.
    pub fn no_shuffle(mut self) -> Self {
        self.shuffle = None;
        self
    }

    /// Holds out `fraction` of the training data (chosen with `seed`) for validation.
    pub fn validation_split(mut self, fraction: f64, seed: u64) -> Self {
        self.validation_split = Some((fraction, seed));
        self
    }

    /// Validates on `data` after every epoch.
    pub fn validation_data(mut self, data: &'a Dataset) -> Self {
        self.validation_data = Some(data);
        self
    }

    /// Stops when the validation loss has not improved for `patience` epochs, and restores
    /// the weights of the best epoch.
    pub fn early_stopping(mut self, patience: usize) -> Self {
        self.patience = Some(patience);
        self
    }

    /// Adds `penalty(parameters)` to every batch's loss (e.g. an L1 or L2 penalty).
    pub fn penalty(mut self, penalty: impl Fn(&[Tensor]) -> Tensor + 'a) -> Self {
        self.penalty = Some(Box::new(penalty));
        self
    }

    /// Steps `scheduler` once per epoch.
    pub fn scheduler(mut self, scheduler: &'a mut dyn Scheduler<f32>) -> Self {
        self.scheduler = Some(scheduler);
        self
    }

    /// Shows a progress bar on the terminal with the loss and the throughput, and prints one
    /// line per epoch.
    pub fn progress(mut self, show: bool) -> Self {
        self.progress = show;
        self
    }

    /// Calls `f` after every epoch with its record and the model (to draw pictures, say).
    pub fn on_epoch(mut self, f: impl FnMut(&EpochRecord, &M) + 'a) -> Self {
        self.on_epoch = Some(Box::new(f));
        self
    }

    /// Trains on `data` and returns the history.
    pub fn run(mut self, data: &Dataset) -> History {
        let split;
        let (train, validation) = match (self.validation_split, self.validation_data) {
            (_, Some(v)) => (data, Some(v)),
            (Some((fraction, seed)), None) => {
                split = data.split(fraction, seed);
                (&split.0, Some(&split.1))
            }
            (None, None) => (data, None),
        };
        let mut loader = DataLoader::new(train, self.batch_size);
        if let Some(seed) = self.shuffle {
            loader = loader.shuffle(seed);
        }
        let mut history = History::new(self.objective.metric_name());
        let mut best: Option<(f64, usize, Vec<Array<f32>>)> = None;
        for epoch in 1..=self.epochs {
            let record = self.train_epoch(&loader, epoch, validation);
            if let Some(f) = &mut self.on_epoch {
                f(&record, self.model);
            }
            let val_loss = record.val_loss;
            history.epochs.push(record);
            if let Some(s) = &mut self.scheduler {
                s.step(self.optimizer);
            }
            if let (Some(patience), Some(loss)) = (self.patience, val_loss) {
                if best.as_ref().is_none_or(|b| loss < b.0) {
                    best = Some((loss, epoch, self.model.parameters().iter().map(|p| p.value()).collect()));
                } else if epoch - best.as_ref().map_or(0, |b| b.1) >= patience {
                    history.stopped_early = epoch < self.epochs;
                    break;
                }
            }
        }
        history.best_epoch = history.last().map(|r| r.epoch);
        if let Some((_, epoch, values)) = best {
            for (p, v) in self.model.parameters().iter().zip(&values) {
                p.assign(v);
            }
            history.best_epoch = Some(epoch);
        }
        history
    }

    fn train_epoch(&mut self, loader: &DataLoader<'_>, epoch: usize, validation: Option<&Dataset>) -> EpochRecord {
        self.model.train();
        let mut bar = self
            .progress
            .then(|| ProgressBar::new(loader.num_batches() as u64).prefix(format!("epoch {epoch}/{}", self.epochs)));
        let (mut loss_sum, mut metric_sum, mut samples) = (0.0, 0.0, 0usize);
        let start = Instant::now();
        for batch in loader.epoch(epoch - 1) {
            let outputs = self.model.forward(&batch.inputs);
            let mut loss = self.objective.loss(&outputs, &batch.targets);
            let data_loss = loss.item() as f64;
            if let Some(penalty) = &self.penalty {
                loss = loss + penalty(&self.model.parameters());
            }
            self.optimizer.zero_grad();
            loss.backward();
            self.optimizer.step();
            loss_sum += data_loss * batch.len() as f64;
            metric_sum += no_grad(|| self.objective.metric_sum(&outputs, &batch.targets));
            samples += batch.len();
            if let Some(bar) = &mut bar {
                bar.set_message(format!("loss {:.4}", loss_sum / samples as f64));
                bar.inc(1);
            }
        }
        let seconds = start.elapsed().as_secs_f64();
        self.model.eval();
        let evaluated = validation.map(|v| evaluate(&*self.model, v, self.objective, 256));
        let record = EpochRecord {
            epoch,
            train_loss: loss_sum / samples.max(1) as f64,
            train_metric: self.objective.finish_metric(metric_sum, samples),
            val_loss: evaluated.map(|e| e.loss),
            val_metric: evaluated.map(|e| e.metric),
            lr: self.optimizer.lr(),
            seconds,
            samples_per_s: samples as f64 / seconds.max(1e-9),
        };
        if let Some(bar) = bar {
            bar.finish_and_clear();
            println!("{}", summary(&record, self.objective.metric_name(), self.epochs));
        }
        record
    }
}

/// One line about an epoch, as Keras prints it.
pub fn summary(r: &EpochRecord, metric: &str, epochs: usize) -> String {
    let mut line = format!("epoch {}/{epochs}: loss {:.4} {metric} {:.4}", r.epoch, r.train_loss, r.train_metric);
    if let (Some(l), Some(m)) = (r.val_loss, r.val_metric) {
        line += &format!(" | val_loss {l:.4} val_{metric} {m:.4}");
    }
    line + &format!(" | {:.1}s, {:.0} samples/s", r.seconds, r.samples_per_s)
}
