//! What a training run measured, epoch by epoch: written as CSV for scripts and drawn as
//! PNG curves for people.

use std::fmt::Write as _;
use std::io;
use std::path::Path;

use crate::plot::{LineChart, PlotError};

/// One epoch's measurements.
#[derive(Clone, Debug, PartialEq)]
pub struct EpochRecord {
    /// The epoch number, from 1.
    pub epoch: usize,
    /// The mean training loss over the epoch's batches (weighted by batch size).
    pub train_loss: f64,
    /// The training metric (accuracy or RMSE) over the epoch's batches.
    pub train_metric: f64,
    /// The loss on the validation data, if there is any.
    pub val_loss: Option<f64>,
    /// The metric on the validation data, if there is any.
    pub val_metric: Option<f64>,
    /// The learning rate used during the epoch.
    pub lr: f64,
    /// Wall time of the epoch's training steps, in seconds.
    pub seconds: f64,
    /// Training samples per second.
    pub samples_per_s: f64,
}

/// Every epoch of a run, and how it ended.
///
/// ```
/// use tapegrad::{EpochRecord, History};
/// let mut history = History::new("accuracy");
/// history.epochs.push(EpochRecord {
///     epoch: 1, train_loss: 0.7, train_metric: 0.5, val_loss: Some(0.6), val_metric: Some(0.55),
///     lr: 0.1, seconds: 0.2, samples_per_s: 5000.0,
/// });
/// assert!(history.to_csv().starts_with("epoch,train_loss,train_accuracy,val_loss,val_accuracy,lr,seconds,samples_per_s\n1,0.7,0.5,0.6,0.55,0.1,"));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct History {
    /// The metric's name: `"accuracy"` for classifiers, `"rmse"` for regression.
    pub metric: &'static str,
    /// One record per epoch run.
    pub epochs: Vec<EpochRecord>,
    /// The epoch whose weights the model ends with (the best validation loss when early
    /// stopping restored them, else the last).
    pub best_epoch: Option<usize>,
    /// Whether early stopping ended the run before the last epoch.
    pub stopped_early: bool,
}

impl History {
    /// An empty history for a metric called `metric`.
    pub fn new(metric: &'static str) -> Self {
        History { metric, epochs: Vec::new(), best_epoch: None, stopped_early: false }
    }

    /// The last epoch's record.
    pub fn last(&self) -> Option<&EpochRecord> {
        self.epochs.last()
    }

    /// The history as CSV, one line per epoch (empty fields where there was no validation).
    pub fn to_csv(&self) -> String {
        let m = self.metric;
        let mut out = format!("epoch,train_loss,train_{m},val_loss,val_{m},lr,seconds,samples_per_s\n");
        let opt = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
        for r in &self.epochs {
            let _ = writeln!(
                out,
                "{},{},{},{},{},{},{},{}",
                r.epoch,
                r.train_loss,
                r.train_metric,
                opt(r.val_loss),
                opt(r.val_metric),
                r.lr,
                r.seconds,
                r.samples_per_s
            );
        }
        out
    }

    /// Writes [`History::to_csv`] to `path` (a temporary file renamed into place).
    ///
    /// # Errors
    /// Any I/O error, with the path in its message.
    pub fn write_csv(&self, path: impl AsRef<Path>) -> io::Result<()> {
        self.write_csv_at(path.as_ref())
    }

    fn write_csv_at(&self, path: &Path) -> io::Result<()> {
        let temporary = path.with_extension("csv.partial");
        let named = |e: io::Error| io::Error::new(e.kind(), format!("{}: {e}", path.display()));
        std::fs::write(&temporary, self.to_csv()).map_err(named)?;
        std::fs::rename(&temporary, path).map_err(named)
    }

    /// Draws the train and validation loss per epoch (log scale) to a PNG.
    ///
    /// # Errors
    /// If the file cannot be written.
    pub fn plot_loss(&self, title: &str, path: impl AsRef<Path>) -> Result<(), PlotError> {
        let mut chart = LineChart::new().title(title).x_label("epoch").y_label("loss").log_y();
        chart = chart.series("train", &self.points(|r| Some(r.train_loss)));
        if self.epochs.iter().any(|r| r.val_loss.is_some()) {
            chart = chart.series("validation", &self.points(|r| r.val_loss));
        }
        chart.save_png(path)
    }

    /// Draws the train and validation metric per epoch to a PNG.
    ///
    /// # Errors
    /// If the file cannot be written.
    pub fn plot_metric(&self, title: &str, path: impl AsRef<Path>) -> Result<(), PlotError> {
        let mut chart = LineChart::new().title(title).x_label("epoch").y_label(self.metric);
        chart = chart.series("train", &self.points(|r| Some(r.train_metric)));
        if self.epochs.iter().any(|r| r.val_metric.is_some()) {
            chart = chart.series("validation", &self.points(|r| r.val_metric));
        }
        chart.save_png(path)
    }

    fn points(&self, value: impl Fn(&EpochRecord) -> Option<f64>) -> Vec<(f64, f64)> {
        self.epochs.iter().filter_map(|r| value(r).map(|v| (r.epoch as f64, v))).collect()
    }
}
