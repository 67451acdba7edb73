//! Checkpoints: named tensors saved to and loaded from safetensors files, the format of the
//! Hugging Face `safetensors` library, which PyTorch, JAX and NumPy users read and write.
//!
//! [`save`] writes arrays, [`load`] reads them back bit for bit; [`save_params`] and
//! [`load_into`] do the same for a model's named parameters. A file from elsewhere is
//! checked completely before anything is believed, and every error names the file, the
//! tensor and the bytes at fault. Saving never leaves a half-written file where a good
//! checkpoint was: it writes a temporary file beside the target and renames it over.
//!
//! ```
//! use std::collections::BTreeMap;
//! use tapegrad_autograd::Array;
//! use tapegrad_nn::checkpoint::{load, save};
//!
//! let path = std::env::temp_dir().join("tapegrad_doc_checkpoint.safetensors");
//! let w = Array::from_vec(vec![1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]).unwrap();
//! let metadata = BTreeMap::from([("epoch".to_string(), "3".to_string())]);
//! save(&path, &[("w".to_string(), w.permute(&[1, 0]))], &metadata).unwrap();
//! let loaded = load::<f64>(&path).unwrap(); // F32 in the file, f64 in memory
//! assert_eq!(loaded.tensors["w"].shape(), &[3, 2]);
//! assert_eq!(loaded.tensors["w"].to_vec(), vec![1.0, 4.0, 2.0, 5.0, 3.0, 6.0]);
//! assert_eq!(loaded.metadata["epoch"], "3");
//! # std::fs::remove_file(&path).unwrap();
//! ```

mod json;
mod safetensors;

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use tapegrad_autograd::{Array, Element, Tensor};

pub use self::safetensors::FormatError;
use self::safetensors::{Dtype, decode, encode_header, encode_values, parse};

/// The tensors and metadata of a checkpoint file, by name.
///
/// ```
/// use std::collections::BTreeMap;
/// use tapegrad_autograd::Array;
/// use tapegrad_nn::checkpoint::{Checkpoint, load, save};
///
/// let path = std::env::temp_dir().join("tapegrad_doc_checkpoint_struct.safetensors");
/// save(&path, &[("bias".to_string(), Array::full(&[4], 0.5f64))], &BTreeMap::new()).unwrap();
/// let checkpoint: Checkpoint<f64> = load(&path).unwrap();
/// assert_eq!(checkpoint.tensors.keys().collect::<Vec<_>>(), ["bias"]);
/// assert!(checkpoint.metadata.is_empty());
/// # std::fs::remove_file(&path).unwrap();
/// ```
#[derive(Clone, Debug)]
pub struct Checkpoint<T: Element> {
    /// Every tensor in the file, contiguous, converted to `T`.
    pub tensors: BTreeMap<String, Array<T>>,
    /// The file's `__metadata__` strings (empty if it has none).
    pub metadata: BTreeMap<String, String>,
}

impl<T: Element> Checkpoint<T> {
    /// Sets each named parameter to its tensor here, all or nothing, with the checks of
    /// [`load_into`] (`path` names the file in errors). For files that hold more than one
    /// model's or optimizer's tensors: split them by name first.
    ///
    /// # Errors
    /// As [`load_into`]; on error no parameter has changed.
    ///
    /// ```
    /// use std::collections::BTreeMap;
    /// use tapegrad_autograd::{Array, Tensor};
    /// use tapegrad_nn::checkpoint::Checkpoint;
    ///
    /// let checkpoint = Checkpoint {
    ///     tensors: BTreeMap::from([("w".to_string(), Array::full(&[2], 3.0f32))]),
    ///     metadata: BTreeMap::new(),
    /// };
    /// let w = Tensor::<f32>::zeros(&[2]).requires_grad();
    /// checkpoint.restore("in memory".as_ref(), &[("w".to_string(), w.clone())]).unwrap();
    /// assert_eq!(w.to_vec(), vec![3.0, 3.0]);
    /// ```
    pub fn restore(&self, path: &Path, params: &[(String, Tensor<T>)]) -> Result<(), CheckpointError> {
        for (name, param) in params {
            let tensor = name.clone();
            match self.tensors.get(name) {
                None => {
                    return Err(CheckpointError::Missing { path: path.into(), tensor, expected: param.shape().into() });
                }
                Some(value) if value.shape() != param.shape() => {
                    let (expected, found) = (param.shape().into(), value.shape().into());
                    return Err(CheckpointError::ShapeMismatch { path: path.into(), tensor, expected, found });
                }
                Some(_) => {}
            }
        }
        if let Some((name, value)) = self.tensors.iter().find(|(name, _)| !params.iter().any(|(n, _)| n == *name)) {
            return Err(CheckpointError::Unexpected {
                path: path.into(),
                tensor: name.clone(),
                found: value.shape().into(),
            });
        }
        for (name, param) in params {
            param.assign(&self.tensors[name]);
        }
        Ok(())
    }
}

/// Why a checkpoint could not be saved or loaded. Every variant names the file.
///
/// ```
/// use tapegrad_nn::checkpoint::{CheckpointError, load};
///
/// let err = load::<f32>("/no/such/dir/model.safetensors").unwrap_err();
/// assert!(matches!(err, CheckpointError::Io { .. }));
/// assert!(err.to_string().starts_with("/no/such/dir/model.safetensors: cannot read:"));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CheckpointError {
    /// The file system refused: a missing file, a missing directory, a full disk.
    #[error("{path}: cannot {action}: {error}")]
    Io { path: PathBuf, action: &'static str, error: io::Error },
    /// The bytes are not a valid safetensors file, or the tensors cannot be saved as one.
    #[error("{path}: {error}")]
    Format { path: PathBuf, error: FormatError },
    /// [`load_into`]: the model has a parameter the file lacks.
    #[error("{path}: no tensor {tensor:?} for the model's parameter of shape {expected:?}")]
    Missing { path: PathBuf, tensor: String, expected: Vec<usize> },
    /// [`load_into`]: the file has a tensor the model lacks (a different architecture, or
    /// names from another framework).
    #[error("{path}: tensor {tensor:?} of shape {found:?} matches no parameter of the model")]
    Unexpected { path: PathBuf, tensor: String, found: Vec<usize> },
    /// [`load_into`]: a tensor whose shape differs from its parameter's.
    #[error("{path}: tensor {tensor:?} has shape {found:?}, but the model's parameter has shape {expected:?}")]
    ShapeMismatch { path: PathBuf, tensor: String, expected: Vec<usize>, found: Vec<usize> },
}

/// Saves named arrays (and string metadata) as a safetensors file, in `T`'s own dtype (F32
/// or F64), readable by Python's `safetensors` and byte-identical to what it writes.
///
/// Each array is stored in logical row-major order, whatever its layout in memory. The
/// target is replaced atomically: the bytes go to a temporary file in the same directory,
/// which is synced to disk and then renamed over `path`, so a crash or error midway leaves
/// any previous checkpoint intact.
///
/// # Errors
/// [`CheckpointError::Format`] for a name given twice or named `"__metadata__"` (before
/// anything is written); [`CheckpointError::Io`] if the directory cannot be written.
///
/// ```
/// use std::collections::BTreeMap;
/// use tapegrad_autograd::Array;
/// use tapegrad_nn::checkpoint::save;
///
/// let path = std::env::temp_dir().join("tapegrad_doc_save.safetensors");
/// let tensors = [("w".to_string(), Array::full(&[2, 2], 1.0f32)), ("b".to_string(), Array::scalar(0.0f32))];
/// save(&path, &tensors, &BTreeMap::new()).unwrap();
/// // 8 bytes of length, a header padded to 8 bytes, then 4 + 16 bytes of data.
/// assert_eq!((std::fs::metadata(&path).unwrap().len() - 20) % 8, 0);
/// # std::fs::remove_file(&path).unwrap();
/// ```
pub fn save<T: Element>(
    path: impl AsRef<Path>,
    tensors: &[(String, Array<T>)],
    metadata: &BTreeMap<String, String>,
) -> Result<(), CheckpointError> {
    let path = path.as_ref();
    // The reference writer orders the data by name (within one dtype); so do we, so that
    // the same tensors give the same bytes from either.
    let mut sorted: Vec<&(String, Array<T>)> = tensors.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    let layout: Vec<(&str, &[usize])> = sorted.iter().map(|(name, a)| (name.as_str(), a.shape())).collect();
    let header = encode_header(Dtype::of::<T>(), &layout, metadata)
        .map_err(|error| CheckpointError::Format { path: path.into(), error })?;
    write_atomically(path, |file| {
        file.write_all(&header)?;
        let mut bytes = Vec::new();
        for (_, array) in sorted {
            bytes.clear();
            match array.as_slice() {
                Some(values) => encode_values(values, &mut bytes),
                None => encode_values(&array.to_vec(), &mut bytes),
            }
            file.write_all(&bytes)?;
        }
        Ok(())
    })
}

/// Saves a model's named parameters (`model.named_parameters()`) with [`save`]; the
/// counterpart of [`load_into`].
///
/// # Errors
/// As [`save`].
///
/// ```
/// use std::collections::BTreeMap;
/// use tapegrad_autograd::Tensor;
/// use tapegrad_nn::checkpoint::{load, save_params};
///
/// let path = std::env::temp_dir().join("tapegrad_doc_save_params.safetensors");
/// let w = Tensor::from_vec(vec![0.5f32, -1.5], &[2]).unwrap().requires_grad();
/// save_params(&path, &[("layer.weight".to_string(), w)], &BTreeMap::new()).unwrap();
/// assert_eq!(load::<f32>(&path).unwrap().tensors["layer.weight"].to_vec(), vec![0.5, -1.5]);
/// # std::fs::remove_file(&path).unwrap();
/// ```
pub fn save_params<T: Element>(
    path: impl AsRef<Path>,
    params: &[(String, Tensor<T>)],
    metadata: &BTreeMap<String, String>,
) -> Result<(), CheckpointError> {
    let arrays: Vec<(String, Array<T>)> = params.iter().map(|(name, p)| (name.clone(), p.value())).collect();
    save(path, &arrays, metadata)
}

/// Loads every tensor and the metadata of a safetensors file, converting to `T`.
///
/// F32 and F64 tensors load into f32 or f64; F16 and BF16 tensors load exactly too. An F32
/// file loaded as f32 (or F64 as f64) gives back the saved bits, NaN payloads included;
/// F64 loaded as f32 rounds to nearest.
///
/// # Errors
/// [`CheckpointError::Io`] if the file cannot be read; [`CheckpointError::Format`] if it is
/// not a valid safetensors file (truncated, a bad header, overlapping or missing data, an
/// unsupported dtype such as I64), or an F64 value is beyond f32's range. Never a panic,
/// whatever the bytes.
///
/// ```
/// use std::collections::BTreeMap;
/// use tapegrad_autograd::Array;
/// use tapegrad_nn::checkpoint::{load, save};
///
/// let path = std::env::temp_dir().join("tapegrad_doc_load.safetensors");
/// let x = Array::from_vec(vec![0.1f64, f64::NAN, -0.0], &[3]).unwrap();
/// save(&path, &[("x".to_string(), x.clone())], &BTreeMap::new()).unwrap();
/// let back = load::<f64>(&path).unwrap().tensors.remove("x").unwrap();
/// let bits = |a: &Array<f64>| a.to_vec().iter().map(|v| v.to_bits()).collect::<Vec<_>>();
/// assert_eq!(bits(&back), bits(&x));
/// # std::fs::remove_file(&path).unwrap();
/// ```
pub fn load<T: Element>(path: impl AsRef<Path>) -> Result<Checkpoint<T>, CheckpointError> {
    let path = path.as_ref();
    let bytes = fs::read(path).map_err(|error| CheckpointError::Io { path: path.into(), action: "read", error })?;
    let format = |error| CheckpointError::Format { path: path.into(), error };
    let (raw, metadata) = parse(&bytes).map_err(format)?;
    let mut tensors = BTreeMap::new();
    for tensor in raw {
        let values = decode::<T>(&tensor).map_err(format)?;
        let array = Array::from_vec(values, &tensor.shape).expect("the layout check matched bytes to the shape");
        tensors.insert(tensor.name, array);
    }
    Ok(Checkpoint { tensors, metadata })
}

/// Sets each named parameter (`model.named_parameters()`) to its tensor in the file, and
/// returns the file's metadata.
///
/// All or nothing: every parameter must have a tensor of its shape in the file, and every
/// tensor in the file a parameter, before any parameter changes. Tensors are converted to
/// `T` as in [`load`].
///
/// # Errors
/// [`CheckpointError::Missing`], [`CheckpointError::ShapeMismatch`] or
/// [`CheckpointError::Unexpected`], naming the first tensor at fault (the parameters in
/// order, then the file's extra tensors by name); and any error of [`load`]. On error no
/// parameter has changed.
///
/// # Panics
/// If a tensor in `params` is not a parameter, or two share a name: mistakes in the
/// calling code, caught before the file is read.
///
/// ```
/// use std::collections::BTreeMap;
/// use tapegrad_autograd::{Array, Tensor};
/// use tapegrad_nn::checkpoint::{CheckpointError, load_into, save};
///
/// let path = std::env::temp_dir().join("tapegrad_doc_load_into.safetensors");
/// let meta = BTreeMap::from([("step".to_string(), "100".to_string())]);
/// save(&path, &[("w".to_string(), Array::full(&[2], 7.0f32))], &meta).unwrap();
///
/// let w = Tensor::<f32>::zeros(&[2]).requires_grad();
/// let metadata = load_into(&path, &[("w".to_string(), w.clone())]).unwrap();
/// assert_eq!((w.to_vec(), metadata["step"].as_str()), (vec![7.0, 7.0], "100"));
///
/// let wide = Tensor::<f32>::zeros(&[3]).requires_grad();
/// let err = load_into(&path, &[("w".to_string(), wide.clone())]).unwrap_err();
/// assert!(matches!(err, CheckpointError::ShapeMismatch { .. }));
/// assert_eq!(wide.to_vec(), vec![0.0; 3]); // untouched
/// # std::fs::remove_file(&path).unwrap();
/// ```
#[track_caller]
pub fn load_into<T: Element>(
    path: impl AsRef<Path>,
    params: &[(String, Tensor<T>)],
) -> Result<BTreeMap<String, String>, CheckpointError> {
    let path = path.as_ref();
    let mut names = BTreeSet::new();
    for (name, param) in params {
        if !param.is_parameter() {
            panic!("load_into: {name:?} of shape {:?} is not a parameter (made with requires_grad())", param.shape());
        }
        if !names.insert(name.as_str()) {
            panic!("load_into: two parameters are named {name:?}");
        }
    }
    let checkpoint = load::<T>(path)?;
    checkpoint.restore(path, params)?;
    Ok(checkpoint.metadata)
}

/// Distinguishes the temporary files of saves running at once in one process.
static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// Replaces `path` with what `write` writes, or leaves it untouched on any error.
///
/// The data goes to a new file in the same directory (so the rename stays on one file
/// system, where it is atomic), is flushed and synced, and only then renamed over `path`;
/// on Unix the directory is synced too, so the rename itself survives a power cut.
fn write_atomically(
    path: &Path,
    write: impl FnOnce(&mut BufWriter<File>) -> io::Result<()>,
) -> Result<(), CheckpointError> {
    fn io_error(path: &Path, action: &'static str) -> impl FnOnce(io::Error) -> CheckpointError {
        let path = path.to_path_buf();
        move |error| CheckpointError::Io { path, action, error }
    }
    let Some(file_name) = path.file_name() else {
        return Err(io_error(path, "write")(io::Error::new(io::ErrorKind::InvalidInput, "the path names no file")));
    };
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let unique = format!("{}-{}", std::process::id(), TEMP_COUNTER.fetch_add(1, Ordering::Relaxed));
    let temp = dir.join(format!(".{}.{unique}.tmp", file_name.to_string_lossy()));
    let file = OpenOptions::new().write(true).create_new(true).open(&temp).map_err(io_error(&temp, "create"))?;
    let written = (|| {
        let mut writer = BufWriter::new(file);
        write(&mut writer)?;
        let file = writer.into_inner().map_err(io::IntoInnerError::into_error)?;
        file.sync_all()
    })();
    let renamed = written
        .map_err(io_error(&temp, "write"))
        .and_then(|()| fs::rename(&temp, path).map_err(io_error(path, "replace")));
    if let Err(error) = renamed {
        // Best effort: the error being reported matters more than a stray temporary file.
        let _ = fs::remove_file(&temp);
        return Err(error);
    }
    #[cfg(unix)]
    File::open(dir).and_then(|d| d.sync_all()).map_err(io_error(dir, "sync"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("tapegrad-ckpt-unit-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn entries(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> =
            fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
        names.sort();
        names
    }

    #[test]
    fn a_write_failing_midway_leaves_the_old_file_and_no_temporary() {
        let dir = scratch_dir("midway");
        let path = dir.join("model.safetensors");
        fs::write(&path, b"the previous checkpoint").unwrap();
        let err = write_atomically(&path, |file| {
            file.write_all(&[0xAB; 100_000])?; // past BufWriter's buffer: real bytes reach the disk
            Err(io::Error::other("disk full"))
        })
        .unwrap_err();
        let message = err.to_string();
        assert!(message.contains(".model.safetensors.") && message.ends_with(": cannot write: disk full"), "{message}");
        assert_eq!(fs::read(&path).unwrap(), b"the previous checkpoint");
        assert_eq!(entries(&dir), ["model.safetensors"]);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_successful_write_replaces_the_file_and_leaves_no_temporary() {
        let dir = scratch_dir("replace");
        let path = dir.join("model.safetensors");
        fs::write(&path, b"old").unwrap();
        write_atomically(&path, |file| file.write_all(b"new")).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"new");
        assert_eq!(entries(&dir), ["model.safetensors"]);
        fs::remove_dir_all(&dir).unwrap();
    }
}
