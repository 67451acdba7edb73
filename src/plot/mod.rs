//! Plots to PNG: the pictures a learner would rather look at than read, drawn with no
//! dependency beyond the `png` encoder.
//!
//! - [`LineChart`]: training history, several named series (train and test loss per
//!   epoch, accuracy), nice 1-2-5 ticks, optional log-scale y, NaN points skipped;
//! - [`DecisionBoundary`]: the TensorFlow Playground picture, a network's output over the
//!   input plane in orange–white–blue with the data points on top;
//! - [`ImageGrid`]: captioned tiles, such as misclassified digits ("7->2"), CIFAR images
//!   or learned weights normalized per tile;
//! - [`ConfusionHeatmap`]: a confusion matrix with counts and class labels.
//!
//! Each takes plain slices (no tensor types), renders to an [`Image`], and saves with
//! `save_png`, which replaces the file atomically. The [`Image`] itself is a small canvas
//! (lines, rectangles, anti-aliased disks, text in a built-in 5×7 [`font`]) for drawing
//! anything else.
//!
//! ```
//! use tapegrad::plot::LineChart;
//! let (mut train, mut test) = (Vec::new(), Vec::new());
//! for epoch in 1..=20 {
//!     let e = f64::from(epoch);
//!     train.push((e, 2.3 / e)); // in a real script: the epoch's mean loss
//!     test.push((e, 2.3 / e.sqrt()));
//! }
//! let path = std::env::temp_dir().join("tapegrad-doc-loss.png");
//! LineChart::new()
//!     .title("loss")
//!     .x_label("epoch")
//!     .log_y()
//!     .series("train", &train)
//!     .series("test", &test)
//!     .save_png(&path)?;
//! # std::fs::remove_file(&path).unwrap();
//! # Ok::<(), tapegrad::plot::PlotError>(())
//! ```

mod axis;
mod boundary;
mod canvas;
mod chart;
pub mod color;
mod encode;
pub mod font;
mod grid;
mod heatmap;
mod shapes;

pub use boundary::DecisionBoundary;
pub use canvas::Image;
pub use chart::LineChart;
pub use color::{Colormap, Rgb};
pub use encode::PlotError;
pub use grid::ImageGrid;
pub use heatmap::ConfusionHeatmap;
