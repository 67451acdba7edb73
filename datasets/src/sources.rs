//! Where each data set's files come from, their published SHA-256 values, and the cache
//! folder downloads go to.
//!
//! Each value is cited where it is defined. MNIST's are of the decompressed IDX bytes,
//! because mirrors serve different gzip wrappers around the same data; the others are of
//! the files as served, the only published values.

use std::path::{Path, PathBuf};

use crate::error::{DataError, Placement};

/// What a file's SHA-256 is computed over.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verify {
    /// The bytes as downloaded.
    File,
    /// The bytes after gunzipping (the bytes themselves if they are not gzip).
    Gunzipped,
}

/// One file of a data set on a server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RemoteFile {
    /// The name it is stored under in the data set's folder.
    pub name: String,
    /// The path after the base URL.
    pub url_path: String,
    /// The expected SHA-256, lowercase hex.
    pub sha256: String,
    /// What the SHA-256 covers.
    pub verify: Verify,
}

impl RemoteFile {
    fn new(name: &str, url_path: &str, sha256: &str, verify: Verify) -> RemoteFile {
        RemoteFile { name: name.into(), url_path: url_path.into(), sha256: sha256.into(), verify }
    }
}

/// A data set's files and the server that has them. The base URL can be changed to a
/// mirror (or a local test server) with [`Source::with_base_url`].
///
/// ```
/// use tapegrad_datasets::Source;
/// let mnist = Source::mnist().with_base_url("https://example.org/mnist");
/// assert_eq!(mnist.url(&mnist.files[0]), "https://example.org/mnist/train-images-idx3-ubyte.gz");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Source {
    /// The data set's name; also its folder's name in the cache.
    pub dataset: String,
    /// The URL the files' paths are appended to, ending in `/`.
    pub base_url: String,
    /// The files.
    pub files: Vec<RemoteFile>,
}

impl Source {
    /// MNIST from PyTorch's mirror (`https://ossci-datasets.s3.amazonaws.com/mnist/`); the
    /// original `http://yann.lecun.com/exdb/mnist/` and TensorFlow's
    /// `https://storage.googleapis.com/cvdf-datasets/mnist/` serve the same files.
    pub fn mnist() -> Source {
        // SHA-256 of the decompressed IDX files: computed with `gunzip -c | sha256sum` from
        // the project's copy (shared/data/mnist), and equal to the official files' values
        // that its convert.py checks them against.
        let files = vec![
            RemoteFile::new(
                "train-images-idx3-ubyte.gz",
                "train-images-idx3-ubyte.gz",
                "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
                Verify::Gunzipped,
            ),
            RemoteFile::new(
                "train-labels-idx1-ubyte.gz",
                "train-labels-idx1-ubyte.gz",
                "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
                Verify::Gunzipped,
            ),
            RemoteFile::new(
                "t10k-images-idx3-ubyte.gz",
                "t10k-images-idx3-ubyte.gz",
                "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
                Verify::Gunzipped,
            ),
            RemoteFile::new(
                "t10k-labels-idx1-ubyte.gz",
                "t10k-labels-idx1-ubyte.gz",
                "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
                Verify::Gunzipped,
            ),
        ];
        Source { dataset: "mnist".into(), base_url: "https://ossci-datasets.s3.amazonaws.com/mnist/".into(), files }
    }

    /// Fashion-MNIST from Zalando Research's own bucket, the URL its README gives.
    pub fn fashion_mnist() -> Source {
        // SHA-256 of the .gz files as served: TensorFlow Datasets,
        // tensorflow_datasets/url_checksums/fashion_mnist.txt (github.com/tensorflow/datasets).
        let files = vec![
            RemoteFile::new(
                "train-images-idx3-ubyte.gz",
                "train-images-idx3-ubyte.gz",
                "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
                Verify::File,
            ),
            RemoteFile::new(
                "train-labels-idx1-ubyte.gz",
                "train-labels-idx1-ubyte.gz",
                "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
                Verify::File,
            ),
            RemoteFile::new(
                "t10k-images-idx3-ubyte.gz",
                "t10k-images-idx3-ubyte.gz",
                "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
                Verify::File,
            ),
            RemoteFile::new(
                "t10k-labels-idx1-ubyte.gz",
                "t10k-labels-idx1-ubyte.gz",
                "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
                Verify::File,
            ),
        ];
        let base_url = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/".into();
        Source { dataset: "fashion-mnist".into(), base_url, files }
    }

    /// CIFAR-10's binary version from its authors' page at the University of Toronto.
    pub fn cifar10() -> Source {
        // SHA-256 of cifar-10-binary.tar.gz (170,052,171 bytes): TensorFlow Datasets,
        // tensorflow_datasets/url_checksums/cifar10.txt (github.com/tensorflow/datasets).
        let files = vec![RemoteFile::new(
            "cifar-10-binary.tar.gz",
            "cifar-10-binary.tar.gz",
            "c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd",
            Verify::File,
        )];
        Source { dataset: "cifar-10".into(), base_url: "https://www.cs.toronto.edu/~kriz/".into(), files }
    }

    /// California housing's `cal_housing.tgz` from the figshare copy scikit-learn downloads
    /// (the original is at `https://www.dcc.fc.up.pt/~ltorgo/Regression/cal_housing.tgz`).
    pub fn california_housing() -> Source {
        // SHA-256 of cal_housing.tgz: scikit-learn, sklearn/datasets/_california_housing.py
        // (`ARCHIVE = RemoteFileMetadata(..., checksum=...)`, github.com/scikit-learn/scikit-learn).
        // TensorFlow Datasets has no California housing set.
        let files = vec![RemoteFile::new(
            "cal_housing.tgz",
            "5976036",
            "aaa5c9a6afe2225cc2aed2723682ae403280c4a3695a2ddda4ffb5d8215ea681",
            Verify::File,
        )];
        let base_url = "https://ndownloader.figshare.com/files/".into();
        Source { dataset: "california-housing".into(), base_url, files }
    }

    /// The same files from another server; a missing trailing `/` is added.
    pub fn with_base_url(mut self, base_url: impl Into<String>) -> Source {
        self.base_url = base_url.into();
        if !self.base_url.ends_with('/') {
            self.base_url.push('/');
        }
        self
    }

    /// The full URL of `file`.
    pub fn url(&self, file: &RemoteFile) -> String {
        format!("{}{}", self.base_url, file.url_path)
    }

    /// Where each of `files` goes in `dir` and where it can be fetched: the lines of a
    /// "place these files here" message.
    ///
    /// ```
    /// use tapegrad_datasets::Source;
    /// let cifar = Source::cifar10();
    /// let place = cifar.placements(std::path::Path::new("/data/cifar"), &cifar.files);
    /// assert_eq!(
    ///     place[0].to_string(),
    ///     "/data/cifar/cifar-10-binary.tar.gz (from https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz)"
    /// );
    /// ```
    pub fn placements<'a>(&self, dir: &Path, files: impl IntoIterator<Item = &'a RemoteFile>) -> Vec<Placement> {
        files.into_iter().map(|f| Placement { path: absolute(&dir.join(&f.name)), url: self.url(f) }).collect()
    }

    /// This data set's folder in the cache: `cache_dir()/<dataset>`.
    ///
    /// # Errors
    /// [`DataError::NoCacheDir`] if no cache folder can be found.
    pub fn cache_dir(&self) -> Result<PathBuf, DataError> {
        Ok(cache_dir()?.join(&self.dataset))
    }
}

/// The folder downloads are cached in: `$TAPEGRAD_DATA` if set, else the platform's cache
/// folder: `$XDG_CACHE_HOME/tapegrad` or `~/.cache/tapegrad` on Linux and other Unixes,
/// `~/Library/Caches/tapegrad` on macOS, `%LOCALAPPDATA%\tapegrad` on Windows.
///
/// # Errors
/// [`DataError::NoCacheDir`] if none of those variables is set.
///
/// ```
/// let dir = tapegrad_datasets::cache_dir();
/// assert!(dir.map_or(true, |d| d.is_absolute() || std::env::var_os("TAPEGRAD_DATA").is_some()));
/// ```
pub fn cache_dir() -> Result<PathBuf, DataError> {
    let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    if let Some(dir) = var("TAPEGRAD_DATA") {
        return Ok(dir);
    }
    let platform = if cfg!(windows) {
        var("LOCALAPPDATA").map(|d| d.join("tapegrad"))
    } else if cfg!(target_os = "macos") {
        var("HOME").map(|h| h.join("Library").join("Caches").join("tapegrad"))
    } else {
        var("XDG_CACHE_HOME").or_else(|| var("HOME").map(|h| h.join(".cache"))).map(|d| d.join("tapegrad"))
    };
    let needed = if cfg!(windows) { "LOCALAPPDATA is not set" } else { "neither XDG_CACHE_HOME nor HOME is set" };
    platform.ok_or_else(|| DataError::NoCacheDir { reason: needed.into() })
}

/// `path` made absolute against the current folder, so messages give full paths.
pub(crate) fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

/// Fetches the `missing` files of `source` into `dir` (feature `download`), or, without the
/// feature, says where to place them.
pub(crate) fn provide(source: &Source, dir: &Path, missing: &[&RemoteFile]) -> Result<(), DataError> {
    if missing.is_empty() {
        return Ok(());
    }
    #[cfg(feature = "download")]
    {
        crate::download::Downloader::new().fetch(source, dir, missing)
    }
    #[cfg(not(feature = "download"))]
    {
        let what = format!("{} (built without the `download` feature)", source.dataset);
        Err(DataError::Missing { what, place_here: source.placements(dir, missing.iter().copied()) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_hash_is_64_lowercase_hex_digits() {
        for s in [Source::mnist(), Source::fashion_mnist(), Source::cifar10(), Source::california_housing()] {
            for f in &s.files {
                assert_eq!(f.sha256.len(), 64, "{}", f.name);
                assert!(f.sha256.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)), "{}", f.name);
            }
        }
    }

    #[test]
    fn placements_give_full_paths_and_urls() {
        let s = Source::california_housing();
        let p = s.placements(Path::new("data"), &s.files);
        assert!(p[0].path.is_absolute() && p[0].path.ends_with("data/cal_housing.tgz"));
        assert_eq!(p[0].url, "https://ndownloader.figshare.com/files/5976036");
    }
}
