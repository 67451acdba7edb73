//! MNIST (handwritten digits) and Fashion-MNIST (clothing): 28×28 grey images in ten
//! classes, 60,000 to train on and 10,000 to test, as four IDX files in one folder:
//! `train-images-idx3-ubyte`, `train-labels-idx1-ubyte`, `t10k-images-idx3-ubyte`,
//! `t10k-labels-idx1-ubyte`, each raw or gzipped (`.gz`).
//!
//! The counts come from the files' headers, which are checked against the data; images
//! and labels must agree in number, and every label must be below 10.

use std::path::{Path, PathBuf};

use crate::dataset::Splits;
use crate::error::DataError;
use crate::file::find_maybe_gz;
use crate::idx;
use crate::image::ImageSet;
use crate::sources::{RemoteFile, Source};

#[cfg(feature = "download")]
use crate::download::Downloader;

/// One image's shape: one channel of 28×28 pixels.
const IMAGE: [usize; 3] = [1, 28, 28];

/// The handwritten-digit data set of LeCun, Cortes and Burges.
///
/// ```
/// # let dir = std::env::temp_dir().join(format!("tapegrad-doc-mnist-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir).unwrap();
/// # use tapegrad_datasets::idx;
/// # for (split, n) in [("train", 3), ("t10k", 2)] {
/// #     let images = idx::encode(&[n, 28, 28], &vec![255; n * 784]);
/// #     std::fs::write(dir.join(format!("{split}-images-idx3-ubyte")), images).unwrap();
/// #     std::fs::write(dir.join(format!("{split}-labels-idx1-ubyte")), idx::encode(&[n], &vec![7; n])).unwrap();
/// # }
/// use tapegrad_datasets::Mnist;
/// let mnist = Mnist::load(&dir)?; // the real files hold 60,000 and 10,000 images
/// assert_eq!((mnist.train.len(), mnist.test.len()), (3, 2));
/// assert_eq!(mnist.train.label(0), 7);
/// let train = mnist.train.into_dataset(); // inputs [n, 784] in [0, 1]
/// assert_eq!(train.inputs.shape(), &[3, 784]);
/// # std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), tapegrad_datasets::DataError>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Mnist;

impl Mnist {
    /// The class names: the digits.
    pub const CLASSES: [&'static str; 10] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];

    /// Loads the four files from `dir`.
    ///
    /// # Errors
    /// [`DataError::Missing`] naming the full path and a URL for each missing file; the
    /// errors of [`idx::read`]; [`DataError::Format`] if the images are not 28×28, the
    /// counts of images and labels differ, or a label is 10 or more.
    pub fn load(dir: impl AsRef<Path>) -> Result<Splits<ImageSet>, DataError> {
        load_idx_folder(dir.as_ref(), &Source::mnist(), &Self::CLASSES)
    }

    /// Loads from `dir`, or from the cache folder (`cache_dir()/mnist`) if `None`, first
    /// downloading any missing file (feature `download`; without it, a missing file is a
    /// [`DataError::Missing`]).
    ///
    /// # Errors
    /// As [`Mnist::load`], and [`DataError::Download`] (saying which files to place where)
    /// or [`DataError::Checksum`] if a download fails.
    pub fn load_or_download(dir: Option<&Path>) -> Result<Splits<ImageSet>, DataError> {
        let source = Source::mnist();
        let dir = folder(dir, &source)?;
        crate::sources::provide(&source, &dir, &missing(&dir, &source))?;
        load_idx_folder(&dir, &source, &Self::CLASSES)
    }

    /// As [`Mnist::load_or_download`], with the files from `source` (a mirror: see
    /// [`Source::with_base_url`]) fetched by `downloader`.
    ///
    /// # Errors
    /// As [`Mnist::load_or_download`].
    #[cfg(feature = "download")]
    pub fn load_or_download_from(
        dir: &Path,
        source: &Source,
        downloader: &Downloader,
    ) -> Result<Splits<ImageSet>, DataError> {
        downloader.fetch(source, dir, &missing(dir, source))?;
        load_idx_folder(dir, source, &Self::CLASSES)
    }
}

/// Zalando's clothing images, drop-in for MNIST (same files, sizes and counts).
///
/// ```
/// # let dir = std::env::temp_dir().join(format!("tapegrad-doc-fashion-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir).unwrap();
/// # use tapegrad_datasets::idx;
/// # for (split, n) in [("train", 1), ("t10k", 1)] {
/// #     std::fs::write(dir.join(format!("{split}-images-idx3-ubyte")), idx::encode(&[n, 28, 28], &[0; 784])).unwrap();
/// #     std::fs::write(dir.join(format!("{split}-labels-idx1-ubyte")), idx::encode(&[n], &[9])).unwrap();
/// # }
/// use tapegrad_datasets::FashionMnist;
/// // FashionMnist::load_or_download(None) would fetch it into cache_dir()/fashion-mnist.
/// let fashion = FashionMnist::load(&dir)?;
/// assert_eq!(fashion.train.classes()[fashion.train.label(0)], "Ankle boot");
/// # std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), tapegrad_datasets::DataError>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct FashionMnist;

impl FashionMnist {
    /// The class names, as in the data set's README.
    pub const CLASSES: [&'static str; 10] =
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    /// Loads the four files from `dir`.
    ///
    /// # Errors
    /// As [`Mnist::load`].
    pub fn load(dir: impl AsRef<Path>) -> Result<Splits<ImageSet>, DataError> {
        load_idx_folder(dir.as_ref(), &Source::fashion_mnist(), &Self::CLASSES)
    }

    /// Loads from `dir` or the cache (`cache_dir()/fashion-mnist`), downloading missing files.
    ///
    /// # Errors
    /// As [`Mnist::load_or_download`].
    pub fn load_or_download(dir: Option<&Path>) -> Result<Splits<ImageSet>, DataError> {
        let source = Source::fashion_mnist();
        let dir = folder(dir, &source)?;
        crate::sources::provide(&source, &dir, &missing(&dir, &source))?;
        load_idx_folder(&dir, &source, &Self::CLASSES)
    }

    /// As [`FashionMnist::load_or_download`], from `source` with `downloader`.
    ///
    /// # Errors
    /// As [`Mnist::load_or_download`].
    #[cfg(feature = "download")]
    pub fn load_or_download_from(
        dir: &Path,
        source: &Source,
        downloader: &Downloader,
    ) -> Result<Splits<ImageSet>, DataError> {
        downloader.fetch(source, dir, &missing(dir, source))?;
        load_idx_folder(dir, source, &Self::CLASSES)
    }
}

/// `dir`, or the source's cache folder.
fn folder(dir: Option<&Path>, source: &Source) -> Result<PathBuf, DataError> {
    dir.map_or_else(|| source.cache_dir(), |d| Ok(d.to_path_buf()))
}

/// The file's name without `.gz`: either form is accepted.
fn stem(file: &RemoteFile) -> &str {
    file.name.strip_suffix(".gz").unwrap_or(&file.name)
}

/// The source's files found neither raw nor gzipped in `dir`.
fn missing<'a>(dir: &Path, source: &'a Source) -> Vec<&'a RemoteFile> {
    source.files.iter().filter(|f| find_maybe_gz(dir, stem(f)).is_none()).collect()
}

/// Train and test sets from the four files in `dir` (named as in `source`).
fn load_idx_folder(
    dir: &Path,
    source: &Source,
    classes: &'static [&'static str],
) -> Result<Splits<ImageSet>, DataError> {
    let absent = missing(dir, source);
    if !absent.is_empty() {
        return Err(DataError::Missing { what: source.dataset.clone(), place_here: source.placements(dir, absent) });
    }
    let path = |i: usize| find_maybe_gz(dir, stem(&source.files[i])).expect("checked above");
    Ok(Splits { train: read_pair(&path(0), &path(1), classes)?, test: read_pair(&path(2), &path(3), classes)? })
}

/// One split: an images file and its labels file.
fn read_pair(images_path: &Path, labels_path: &Path, classes: &'static [&'static str]) -> Result<ImageSet, DataError> {
    let format = |path: &Path, offset: u64, expected: String, found: String| DataError::Format {
        path: path.to_path_buf(),
        offset,
        expected,
        found,
    };
    let images = idx::read(images_path)?;
    if images.shape.len() != 3 {
        let found = format!("{} dimensions {:?}", images.shape.len(), images.shape);
        return Err(format(images_path, 3, "3 dimensions [images, 28, 28]".into(), found));
    }
    if images.shape[1..] != IMAGE[1..] {
        let found = format!("{}×{}", images.shape[1], images.shape[2]);
        return Err(format(images_path, 8, "images of 28×28 pixels".into(), found));
    }
    let labels = idx::read(labels_path)?;
    if labels.shape.len() != 1 {
        let found = format!("{} dimensions {:?}", labels.shape.len(), labels.shape);
        return Err(format(labels_path, 3, "1 dimension [labels]".into(), found));
    }
    let n = images.shape[0];
    if labels.shape[0] != n {
        let expected = format!("{n} labels, one per image in {}", images_path.display());
        return Err(format(labels_path, 4, expected, labels.shape[0].to_string()));
    }
    if let Some((i, &label)) = labels.data.iter().enumerate().find(|(_, l)| **l as usize >= classes.len()) {
        // The labels start after the 8-byte header.
        let expected = format!("a label below {}", classes.len());
        return Err(format(labels_path, 8 + i as u64, expected, label.to_string()));
    }
    ImageSet::new(images.data, labels.data, IMAGE, classes)
}
