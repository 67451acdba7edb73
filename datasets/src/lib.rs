//! # tapegrad-datasets
//!
//! Data for [tapegrad](https://github.com/tapegrad/tapegrad): file loaders for the classic
//! teaching sets, the TensorFlow Playground's synthetic sets, and the in-memory [`Dataset`]
//! with its [`DataLoader`] and scalers that training loops use.
//!
//! | data | type | files |
//! | --- | --- | --- |
//! | MNIST, Fashion-MNIST | [`Mnist`], [`FashionMnist`] | four IDX files, raw or `.gz` ([`idx`]) |
//! | CIFAR-10 | [`Cifar10`] | `cifar-10-batches-bin/*.bin` or `cifar-10-binary.tar.gz` |
//! | California housing | [`CaliforniaHousing`] | scikit-learn's CSV, or StatLib's `cal_housing.data`/`.tgz` |
//! | Playground circle, XOR, Gaussians, spiral, plane, multi-Gaussian | [`Playground`], [`Pattern`] | generated from a seed |
//!
//! ```
//! use tapegrad_datasets::{DataLoader, Feature, Pattern, Playground, Standardizer};
//!
//! let sets = Playground::new(Pattern::Spiral).noise(10).seed(1).datasets(&Feature::ALL);
//! let scaler = Standardizer::fit(&sets.train.inputs); // fitted on training data only
//! let mut train = sets.train;
//! train.inputs = scaler.transform(&train.inputs);
//! let loader = DataLoader::new(&train, 10).shuffle(7);
//! for epoch in 0..2 {
//!     for batch in loader.epoch(epoch) {
//!         assert_eq!(batch.inputs.shape(), &[10, 7]);
//!     }
//! }
//! ```
//!
//! **Errors.** Files from outside are checked completely: every loader returns a
//! [`DataError`] naming the file, the byte offset or line and column, and what was expected
//! against what was found; a cut, padded or damaged file is never a panic and never a
//! shorter data set.
//!
//! **Downloads** (feature `download`, on by default): `load_or_download` fetches missing
//! files with the system `curl` into a folder or the cache ([`cache_dir`]), keeping a file
//! only once its SHA-256 matches the published value. Offline, the error lists which files
//! to place where.
//!
//! **Memory.** Images stay bytes until [`ImageSet::into_dataset`] writes them, once, as
//! `f32` and frees them; batches in order are views, shuffled batches one gather each.

#![warn(missing_docs)]

pub mod california;
pub mod cifar;
mod csv;
pub mod dataset;
#[cfg(feature = "download")]
pub mod download;
pub mod error;
pub mod file;
pub mod idx;
pub mod image;
pub mod loader;
pub mod mnist;
pub mod playground;
pub mod scale;
pub mod sha256;
pub mod sources;
mod tar;

pub use california::CaliforniaHousing;
pub use cifar::Cifar10;
pub use dataset::{Dataset, Splits, Targets, epoch_rng, permutation};
#[cfg(feature = "download")]
pub use download::Downloader;
pub use error::{DataError, Placement};
pub use image::ImageSet;
pub use loader::{Batch, Batches, DataLoader};
pub use mnist::{FashionMnist, Mnist};
pub use playground::{Feature, Pattern, Playground, Point, feature_matrix, to_dataset};
pub use scale::{MinMaxScaler, Standardizer, one_hot, pixels_to_tensor};
pub use sources::{RemoteFile, Source, Verify, cache_dir};
