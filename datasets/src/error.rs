//! What can go wrong with data from outside: files, archives, downloads.
//!
//! Every variant carries where (the file, and the byte offset or line and column) and what
//! was expected against what was found, so a message alone is enough to fix the data. Bad
//! input never panics and never yields a short data set.

use std::fmt;
use std::io;
use std::path::PathBuf;

/// Where a missing file should go, and where it can be obtained.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    /// The full path the loader looks for.
    pub path: PathBuf,
    /// A URL that serves the file.
    pub url: String,
}

impl fmt::Display for Placement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (from {})", self.path.display(), self.url)
    }
}

/// Why data could not be loaded.
///
/// ```
/// use std::path::PathBuf;
/// use tapegrad_datasets::DataError;
/// let e = DataError::Format {
///     path: PathBuf::from("train-images-idx3-ubyte"),
///     offset: 4,
///     expected: "60000 images".into(),
///     found: "59999".into(),
/// };
/// assert_eq!(e.to_string(), "train-images-idx3-ubyte: offset 4: expected 60000 images, found 59999");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DataError {
    /// The file could not be opened, read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        source: io::Error,
    },
    /// A binary file's bytes are not what its format requires.
    #[error("{}: offset {offset}: expected {expected}, found {found}", path.display())]
    Format {
        /// The file.
        path: PathBuf,
        /// The byte offset (in the decompressed bytes for a `.gz` file).
        offset: u64,
        /// What the format requires there.
        expected: String,
        /// What the file holds.
        found: String,
    },
    /// A gzip stream is cut short or damaged.
    #[error("{}: damaged gzip stream after {decompressed} decompressed bytes: {message}", path.display())]
    Gzip {
        /// The file.
        path: PathBuf,
        /// How many bytes came out before the damage.
        decompressed: u64,
        /// What the decoder said.
        message: String,
    },
    /// A text table has a bad field or the wrong number of fields.
    #[error("{}: line {line}, column {column}: expected {expected}, found {found}", path.display())]
    Csv {
        /// The file.
        path: PathBuf,
        /// The line, counting from 1.
        line: usize,
        /// The field, counting from 1.
        column: usize,
        /// What was expected there.
        expected: String,
        /// What the line holds.
        found: String,
    },
    /// A tar archive is damaged or lacks a member.
    #[error("{}: expected {expected}, found {found}", path.display())]
    Archive {
        /// The archive.
        path: PathBuf,
        /// The member or structure expected.
        expected: String,
        /// What the archive holds.
        found: String,
    },
    /// A download's SHA-256 differs from the published value; nothing was kept.
    #[error(
        "{}: SHA-256 mismatch for {url}: expected {expected}, found {found}; the download was discarded",
        path.display()
    )]
    Checksum {
        /// Where the file would have gone.
        path: PathBuf,
        /// Where it came from.
        url: String,
        /// The published SHA-256 (hex).
        expected: String,
        /// The SHA-256 of what arrived (hex).
        found: String,
    },
    /// A download failed (offline, server error, no `curl`): the message says what to
    /// place where by hand.
    #[error("{dataset}: could not download {url}: {reason}\n{}", placement_list(place))]
    Download {
        /// The data set.
        dataset: String,
        /// The URL that failed.
        url: String,
        /// Why, as curl or the system put it.
        reason: String,
        /// The files still missing and where to get them.
        place: Vec<Placement>,
    },
    /// Files a loader needs are not there.
    #[error("{what}: files are missing\n{}", placement_list(place_here))]
    Missing {
        /// The data set, and which of its files.
        what: String,
        /// Where to place each missing file and where it can be obtained.
        place_here: Vec<Placement>,
    },
    /// No folder for cached downloads could be found.
    #[error("no cache folder: {reason}; set TAPEGRAD_DATA to a folder for downloaded data")]
    NoCacheDir {
        /// Which environment variables were missing.
        reason: String,
    },
    /// Inputs and targets disagree on the number of samples.
    #[error("inputs of shape {inputs:?} and targets of shape {targets:?} have different numbers of samples")]
    LengthMismatch {
        /// The inputs' shape.
        inputs: Vec<usize>,
        /// The targets' shape.
        targets: Vec<usize>,
    },
}

impl DataError {
    /// An I/O error on `path`.
    pub(crate) fn io(path: impl Into<PathBuf>, source: io::Error) -> DataError {
        DataError::Io { path: path.into(), source }
    }
}

/// The "place these files here" lines shared by `Missing` and `Download`.
fn placement_list(place: &[Placement]) -> String {
    let mut out = String::from("place these files here:");
    for p in place {
        out.push_str(&format!("\n  {p}"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_lists_every_file_with_its_source() {
        let e = DataError::Missing {
            what: "mnist".into(),
            place_here: vec![
                Placement { path: "/data/a.gz".into(), url: "https://example.org/a.gz".into() },
                Placement { path: "/data/b.gz".into(), url: "https://example.org/b.gz".into() },
            ],
        };
        assert_eq!(
            e.to_string(),
            "mnist: files are missing\nplace these files here:\n  /data/a.gz (from https://example.org/a.gz)\n  \
             /data/b.gz (from https://example.org/b.gz)"
        );
    }
}
