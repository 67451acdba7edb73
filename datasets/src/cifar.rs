//! CIFAR-10, binary version: 32×32 colour images in ten classes, in the folder
//! `cifar-10-batches-bin/` holding `data_batch_1.bin` … `data_batch_5.bin` (training, 10,000
//! images each) and `test_batch.bin` (10,000).
//!
//! A file is a run of 3,073-byte records: a label byte, then the red, green and blue planes
//! of 32×32 bytes each. A length that is not a whole number of records, or fewer records
//! than the file should hold, is an error naming the file and the leftover bytes.

use std::path::{Path, PathBuf};

use crate::dataset::Splits;
use crate::error::DataError;
use crate::image::ImageSet;
use crate::sources::{Source, absolute};

#[cfg(feature = "download")]
use crate::download::Downloader;

/// One image's shape: red, green and blue planes of 32×32.
const IMAGE: [usize; 3] = [3, 32, 32];
/// A label byte and the pixels.
const RECORD: usize = 1 + 3 * 32 * 32;
/// The folder the archive unpacks to.
const FOLDER: &str = "cifar-10-batches-bin";
/// The training files, then the test file.
const BATCHES: [&str; 6] = [
    "data_batch_1.bin",
    "data_batch_2.bin",
    "data_batch_3.bin",
    "data_batch_4.bin",
    "data_batch_5.bin",
    "test_batch.bin",
];

/// The CIFAR-10 data set of Krizhevsky, Nair and Hinton.
///
/// ```
/// # let dir = std::env::temp_dir().join(format!("tapegrad-doc-cifar10-{}", std::process::id()));
/// # std::fs::create_dir_all(dir.join("cifar-10-batches-bin")).unwrap();
/// # let record: Vec<u8> = std::iter::once(3).chain(std::iter::repeat_n(0, 3072)).collect();
/// # for i in 1..=5 {
/// #     std::fs::write(dir.join(format!("cifar-10-batches-bin/data_batch_{i}.bin")), &record).unwrap();
/// # }
/// # std::fs::write(dir.join("cifar-10-batches-bin/test_batch.bin"), &record).unwrap();
/// use tapegrad_datasets::Cifar10;
/// // Cifar10::load(&dir) expects the real 10,000 images per file; these files hold one.
/// let cifar = Cifar10::load_expecting(&dir, 1)?; // dir/cifar-10-batches-bin, or that folder
/// assert_eq!((cifar.train.len(), cifar.test.len()), (5, 1));
/// assert_eq!(cifar.train.classes()[cifar.train.label(0)], "cat");
/// let images = cifar.train.into_images(); // [n, 3, 32, 32] in [0, 1]
/// assert_eq!(images.inputs.shape(), &[5, 3, 32, 32]);
/// # std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), tapegrad_datasets::DataError>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Cifar10;

impl Cifar10 {
    /// The class names, indexed by label (as in `batches.meta.txt`).
    pub const CLASSES: [&'static str; 10] =
        ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"];

    /// The number of images in each of the six files.
    pub const RECORDS_PER_FILE: usize = 10_000;

    /// Loads the six files from `dir`, which is `cifar-10-batches-bin` or its parent; each
    /// must hold [`Cifar10::RECORDS_PER_FILE`] images.
    ///
    /// # Errors
    /// [`DataError::Missing`] with the full paths expected; [`DataError::Format`] for a file
    /// of the wrong length or a label of 10 or more; [`DataError::Io`].
    pub fn load(dir: impl AsRef<Path>) -> Result<Splits<ImageSet>, DataError> {
        Self::load_expecting(dir, Self::RECORDS_PER_FILE)
    }

    /// As [`Cifar10::load`], with `records` images per file (for subsets and test fixtures).
    ///
    /// # Errors
    /// As [`Cifar10::load`].
    pub fn load_expecting(dir: impl AsRef<Path>, records: usize) -> Result<Splits<ImageSet>, DataError> {
        let dir = batches_folder(dir.as_ref()).ok_or_else(|| missing(dir.as_ref(), &Source::cifar10()))?;
        let mut train = (Vec::with_capacity(5 * records * (RECORD - 1)), Vec::with_capacity(5 * records));
        for name in &BATCHES[..5] {
            read_batch_into(&dir.join(name), Some(records), &mut train.0, &mut train.1)?;
        }
        let mut test = (Vec::new(), Vec::new());
        read_batch_into(&dir.join(BATCHES[5]), Some(records), &mut test.0, &mut test.1)?;
        Ok(Splits {
            train: ImageSet::new(train.0, train.1, IMAGE, &Self::CLASSES)?,
            test: ImageSet::new(test.0, test.1, IMAGE, &Self::CLASSES)?,
        })
    }

    /// Reads one batch file, whatever its number of records (at least one).
    ///
    /// # Errors
    /// As [`Cifar10::load`].
    ///
    /// ```
    /// # let dir = std::env::temp_dir().join(format!("tapegrad-doc-cifar-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir).unwrap();
    /// let mut record = vec![7u8]; // label 7 ("horse"), then 3 × 32 × 32 pixels
    /// record.extend(std::iter::repeat(128u8).take(3072));
    /// let path = dir.join("one.bin");
    /// std::fs::write(&path, &record).unwrap();
    /// let set = tapegrad_datasets::Cifar10::read_batch(&path).unwrap();
    /// assert_eq!((set.len(), set.label(0), set.image_shape()), (1, 7, [3, 32, 32]));
    /// std::fs::write(&path, &record[..3000]).unwrap();
    /// assert!(tapegrad_datasets::Cifar10::read_batch(&path).is_err());
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    pub fn read_batch(path: impl AsRef<Path>) -> Result<ImageSet, DataError> {
        let (mut pixels, mut labels) = (Vec::new(), Vec::new());
        read_batch_into(path.as_ref(), None, &mut pixels, &mut labels)?;
        ImageSet::new(pixels, labels, IMAGE, &Self::CLASSES)
    }

    /// Parses the bytes of a batch file; `path` names it in errors.
    ///
    /// # Errors
    /// As [`Cifar10::load`].
    pub fn parse_batch(bytes: &[u8], path: &Path, records: Option<usize>) -> Result<ImageSet, DataError> {
        let (mut pixels, mut labels) = (Vec::new(), Vec::new());
        parse_into(bytes, path, records, &mut pixels, &mut labels)?;
        ImageSet::new(pixels, labels, IMAGE, &Self::CLASSES)
    }

    /// Loads from `dir` (or `cache_dir()/cifar-10` if `None`). If the batch files are not
    /// there, unpacks `cifar-10-binary.tar.gz` from `dir`, downloading it first if it is
    /// missing too (feature `download`).
    ///
    /// # Errors
    /// As [`Cifar10::load`]; [`DataError::Archive`] or [`DataError::Gzip`] for a damaged
    /// archive; [`DataError::Download`] or [`DataError::Checksum`] if the download fails.
    pub fn load_or_download(dir: Option<&Path>) -> Result<Splits<ImageSet>, DataError> {
        let source = Source::cifar10();
        let dir = dir.map_or_else(|| source.cache_dir(), |d| Ok(d.to_path_buf()))?;
        if batches_folder(&dir).is_none() {
            let archive = dir.join(&source.files[0].name);
            if !archive.is_file() {
                crate::sources::provide(&source, &dir, &[&source.files[0]])?;
            }
            unpack(&archive, &dir)?;
        }
        Self::load(&dir)
    }

    /// As [`Cifar10::load_or_download`], with the archive from `source` fetched by `downloader`.
    ///
    /// # Errors
    /// As [`Cifar10::load_or_download`].
    #[cfg(feature = "download")]
    pub fn load_or_download_from(
        dir: &Path,
        source: &Source,
        downloader: &Downloader,
    ) -> Result<Splits<ImageSet>, DataError> {
        if batches_folder(dir).is_none() {
            let archive = dir.join(&source.files[0].name);
            if !archive.is_file() {
                downloader.fetch(source, dir, &[&source.files[0]])?;
            }
            unpack(&archive, dir)?;
        }
        Self::load_expecting(dir, Self::RECORDS_PER_FILE)
    }

    /// Unpacks the batch files of `cifar-10-binary.tar.gz` at `archive` into
    /// `dir/cifar-10-batches-bin`. Only the known member names are written, each through a
    /// temporary file, so a damaged archive leaves no partial batch behind.
    ///
    /// # Errors
    /// [`DataError::Archive`] naming the damage or the members missing; [`DataError::Io`].
    pub fn unpack(archive: &Path, dir: &Path) -> Result<(), DataError> {
        unpack(archive, dir)
    }
}

/// `dir/cifar-10-batches-bin` or `dir` itself, whichever holds the first batch file.
fn batches_folder(dir: &Path) -> Option<PathBuf> {
    [dir.join(FOLDER), dir.to_path_buf()].into_iter().find(|d| d.join(BATCHES[0]).is_file())
}

/// The "place the archive here" error for a folder without the batches.
fn missing(dir: &Path, source: &Source) -> DataError {
    let mut place_here = source.placements(dir, &source.files);
    place_here[0].url.push_str(&format!(
        "; unpacked, it gives {}/{{{}}}",
        absolute(&dir.join(FOLDER)).display(),
        BATCHES.join(",")
    ));
    DataError::Missing { what: format!("{} (batch files)", source.dataset), place_here }
}

fn read_batch_into(
    path: &Path,
    records: Option<usize>,
    pixels: &mut Vec<u8>,
    labels: &mut Vec<u8>,
) -> Result<(), DataError> {
    let bytes = std::fs::read(path).map_err(|e| DataError::io(path, e))?;
    parse_into(&bytes, path, records, pixels, labels)
}

/// Appends the records of one file to `pixels` and `labels`.
fn parse_into(
    bytes: &[u8],
    path: &Path,
    records: Option<usize>,
    pixels: &mut Vec<u8>,
    labels: &mut Vec<u8>,
) -> Result<(), DataError> {
    let format = |offset: usize, expected: String, found: String| DataError::Format {
        path: path.to_path_buf(),
        offset: offset as u64,
        expected,
        found,
    };
    let (whole, leftover) = (bytes.len() / RECORD, bytes.len() % RECORD);
    if leftover != 0 {
        return Err(format(
            whole * RECORD,
            format!("whole records of {RECORD} bytes"),
            format!("{} bytes: {} and {leftover} leftover bytes", bytes.len(), count(whole)),
        ));
    }
    match records {
        Some(expected) if whole != expected => {
            let expected = format!("{} ({} bytes)", count(expected), expected * RECORD);
            return Err(format(bytes.len(), expected, format!("{} ({} bytes)", count(whole), bytes.len())));
        }
        None if whole == 0 => {
            return Err(format(0, format!("at least one record of {RECORD} bytes"), "an empty file".into()));
        }
        _ => {}
    }
    for (i, record) in bytes.chunks_exact(RECORD).enumerate() {
        if record[0] as usize >= Cifar10::CLASSES.len() {
            return Err(format(i * RECORD, "a label below 10".into(), record[0].to_string()));
        }
    }
    labels.extend(bytes.chunks_exact(RECORD).map(|r| r[0]));
    pixels.extend(bytes.chunks_exact(RECORD).flat_map(|r| &r[1..]));
    Ok(())
}

/// "1 record", "2 records".
fn count(n: usize) -> String {
    if n == 1 { "1 record".into() } else { format!("{n} records") }
}

fn unpack(archive: &Path, dir: &Path) -> Result<(), DataError> {
    let archive_error = |expected: &str, found: String| DataError::Archive {
        path: archive.to_path_buf(),
        expected: expected.to_string(),
        found,
    };
    let file = std::fs::File::open(archive).map_err(|e| DataError::io(archive, e))?;
    let out = dir.join(FOLDER);
    std::fs::create_dir_all(&out).map_err(|e| DataError::io(&out, e))?;
    let gunzip = flate2::read::MultiGzDecoder::new(file);
    let mut written = Vec::new();
    let wanted = |name: &str| BATCHES.iter().any(|b| name == format!("{FOLDER}/{b}"));
    let members = crate::tar::read_members(gunzip, |name, _| wanted(name))
        .map_err(|e| archive_error(&format!("a gzipped tar archive: {}", e.expected), e.found))?;
    for member in members {
        let batch = BATCHES.iter().find(|b| member.name == format!("{FOLDER}/{b}")).expect("only batches are kept");
        let (part, target) = (out.join(format!(".{batch}.part")), out.join(batch));
        std::fs::write(&part, &member.data).map_err(|e| DataError::io(&part, e))?;
        std::fs::rename(&part, &target).map_err(|e| DataError::io(&target, e))?;
        written.push(*batch);
    }
    let absent: Vec<String> =
        BATCHES.iter().filter(|b| !written.contains(b)).map(|b| format!("{FOLDER}/{b}")).collect();
    if !absent.is_empty() {
        return Err(archive_error(&format!("members {}", absent.join(", ")), "them missing".into()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(label: u8, fill: u8) -> Vec<u8> {
        let mut r = vec![label];
        r.extend(std::iter::repeat_n(fill, RECORD - 1));
        r
    }

    #[test]
    fn planes_follow_the_label() {
        let mut bytes = record(3, 9);
        bytes[1 + 1024] = 200; // first green pixel
        let set = Cifar10::parse_batch(&bytes, Path::new("b"), None).unwrap();
        assert_eq!(set.label(0), 3);
        assert_eq!(set.image(0)[1024], 200);
        assert_eq!(set.image(0).len(), 3072);
    }

    #[test]
    fn leftover_bytes_and_short_files_are_named() {
        let mut bytes = [record(1, 0), record(2, 0)].concat();
        bytes.truncate(RECORD + 10);
        let err = Cifar10::parse_batch(&bytes, Path::new("b.bin"), None).unwrap_err();
        assert_eq!(
            err.to_string(),
            "b.bin: offset 3073: expected whole records of 3073 bytes, found 3083 bytes: 1 record and 10 leftover bytes"
        );
        let err = Cifar10::parse_batch(&bytes[..RECORD], Path::new("b.bin"), Some(2)).unwrap_err();
        assert_eq!(err.to_string(), "b.bin: offset 3073: expected 2 records (6146 bytes), found 1 record (3073 bytes)");
        let err = Cifar10::parse_batch(&[], Path::new("b.bin"), None).unwrap_err();
        assert_eq!(err.to_string(), "b.bin: offset 0: expected at least one record of 3073 bytes, found an empty file");
    }

    #[test]
    fn labels_above_nine_are_refused() {
        let bytes = [record(1, 0), record(10, 0)].concat();
        let err = Cifar10::parse_batch(&bytes, Path::new("b"), None).unwrap_err();
        assert_eq!(err.to_string(), "b: offset 3073: expected a label below 10, found 10");
    }
}
