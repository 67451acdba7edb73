//! Fetching a data set's files with the system `curl` (feature `download`, on by default).
//!
//! `curl` keeps TLS out of this crate's build. Each file is written to a temporary file in
//! the target folder and renamed into place only after its SHA-256 matches the published
//! value, so the folder never holds a partial or corrupted file. When a download fails (no
//! network, no `curl`, a server error), the error lists the full path of every file still
//! missing and the URL it can be fetched from, to place them by hand.

use std::fs::File;
use std::io::{ErrorKind, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};

use flate2::read::MultiGzDecoder;

use crate::error::DataError;
use crate::file::GZIP_MAGIC;
use crate::sources::{RemoteFile, Source, Verify, absolute};

/// Fetches files with `curl`.
///
/// ```no_run
/// use tapegrad_datasets::{Downloader, Mnist, Source};
/// // MNIST from TensorFlow's mirror instead of the default one.
/// let source = Source::mnist().with_base_url("https://storage.googleapis.com/cvdf-datasets/mnist/");
/// let dir = std::path::Path::new("data/mnist");
/// let mnist = Mnist::load_or_download_from(dir, &source, &Downloader::new())?;
/// # Ok::<(), tapegrad_datasets::DataError>(())
/// ```
#[derive(Clone, Debug)]
pub struct Downloader {
    curl: PathBuf,
    connect_timeout_secs: u32,
}

impl Default for Downloader {
    fn default() -> Self {
        Downloader::new()
    }
}

impl Downloader {
    /// A downloader running `curl` from the `PATH`, giving up on a connection after 30 s.
    pub fn new() -> Self {
        Downloader { curl: PathBuf::from("curl"), connect_timeout_secs: 30 }
    }

    /// Runs this `curl` program instead (a full path, or a name looked up in `PATH`).
    pub fn curl(mut self, program: impl Into<PathBuf>) -> Self {
        self.curl = program.into();
        self
    }

    /// Fetches `files` of `source` into `dir` (created if needed), in order.
    ///
    /// # Errors
    /// [`DataError::Download`] if a transfer fails, listing where to place each file not yet
    /// fetched; [`DataError::Checksum`] or [`DataError::Gzip`] if a file arrives damaged (it
    /// is deleted); [`DataError::Io`] if `dir` cannot be written.
    pub fn fetch(&self, source: &Source, dir: &Path, files: &[&RemoteFile]) -> Result<(), DataError> {
        if files.is_empty() {
            return Ok(());
        }
        std::fs::create_dir_all(dir).map_err(|e| DataError::io(dir, e))?;
        for (i, file) in files.iter().enumerate() {
            match self.fetch_file(source, dir, file) {
                Err(DataError::Download { dataset, url, reason, .. }) => {
                    let place = source.placements(dir, files[i..].iter().copied());
                    return Err(DataError::Download { dataset, url, reason, place });
                }
                other => other?,
            };
        }
        Ok(())
    }

    /// Fetches one file of `source` into `dir` and returns its path.
    ///
    /// # Errors
    /// As [`Downloader::fetch`].
    pub fn fetch_file(&self, source: &Source, dir: &Path, file: &RemoteFile) -> Result<PathBuf, DataError> {
        let target = absolute(&dir.join(&file.name));
        let url = source.url(file);
        let part = dir.join(format!(".{}.{}.part", file.name, unique_suffix()));
        let result = self
            .transfer(&url, &part)
            .map_err(|reason| DataError::Download {
                dataset: source.dataset.clone(),
                url: url.clone(),
                reason,
                place: source.placements(dir, [file]),
            })
            .and_then(|()| check(&part, &target, &url, file))
            .and_then(|()| std::fs::rename(&part, &target).map_err(|e| DataError::io(&target, e)));
        if result.is_err() {
            // Nothing half-made stays behind: a later load sees the file as missing.
            let _ = std::fs::remove_file(&part);
        }
        result.map(|()| target)
    }

    /// Runs curl to write `url` into `out`; on failure, the reason in curl's words.
    fn transfer(&self, url: &str, out: &Path) -> Result<(), String> {
        let output = Command::new(&self.curl)
            .args(["--fail", "--location", "--silent", "--show-error"])
            .args(["--proto", "=http,https", "--proto-redir", "=http,https"])
            .args(["--connect-timeout", &self.connect_timeout_secs.to_string(), "--output"])
            .arg(out)
            .arg(url)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| match e.kind() {
                ErrorKind::NotFound => format!(
                    "the program `{}` was not found; install curl, or fetch the files another way",
                    self.curl.display()
                ),
                _ => format!("could not run `{}`: {e}", self.curl.display()),
            })?;
        if output.status.success() {
            return Ok(());
        }
        let said = String::from_utf8_lossy(&output.stderr).trim().to_string();
        let code = output.status.code().map_or("killed by a signal".into(), |c| format!("curl exit code {c}"));
        Err(if said.is_empty() { code } else { format!("{said} ({code})") })
    }
}

/// Compares the SHA-256 of the downloaded `part` with the published value.
fn check(part: &Path, target: &Path, url: &str, file: &RemoteFile) -> Result<(), DataError> {
    let found = sha256_of(part, file.verify).map_err(|e| match e {
        HashError::Io(e) => DataError::io(part, e),
        HashError::Gzip { decompressed, message } => DataError::Gzip {
            path: target.to_path_buf(),
            decompressed,
            message: format!("{message}; downloaded from {url} and discarded"),
        },
    })?;
    if found != file.sha256 {
        return Err(DataError::Checksum {
            path: target.to_path_buf(),
            url: url.to_string(),
            expected: file.sha256.clone(),
            found,
        });
    }
    Ok(())
}

enum HashError {
    Io(std::io::Error),
    Gzip { decompressed: u64, message: String },
}

/// The SHA-256 (lowercase hex) of the file, or of its decompressed bytes, streamed.
fn sha256_of(path: &Path, verify: Verify) -> Result<String, HashError> {
    let mut file = File::open(path).map_err(HashError::Io)?;
    let mut head = [0u8; 2];
    let gz = verify == Verify::Gunzipped && file.read_exact(&mut head).is_ok() && head == GZIP_MAGIC;
    let file = File::open(path).map_err(HashError::Io)?;
    let mut reader: Box<dyn Read> = if gz { Box::new(MultiGzDecoder::new(file)) } else { Box::new(file) };
    let (mut hasher, mut buffer, mut total) = (crate::sha256::Sha256::new(), vec![0u8; 1 << 16], 0u64);
    loop {
        match reader.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => {
                hasher.update(&buffer[..n]);
                total += n as u64;
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) if gz => return Err(HashError::Gzip { decompressed: total, message: e.to_string() }),
            Err(e) => return Err(HashError::Io(e)),
        }
    }
    Ok(hasher.hex())
}

/// A suffix no other download running now (in this or another process) uses.
fn unique_suffix() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    format!("{}-{}-{nanos}", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_of_raw_and_gunzipped_bytes() {
        let dir = std::env::temp_dir().join(format!("tapegrad-hash-{}", unique_suffix()));
        std::fs::create_dir_all(&dir).unwrap();
        let raw = dir.join("abc");
        std::fs::write(&raw, b"abc").unwrap();
        let abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        assert_eq!(sha256_of(&raw, Verify::File).ok().unwrap(), abc);
        // Not gzip: "gunzipped" is the bytes themselves.
        assert_eq!(sha256_of(&raw, Verify::Gunzipped).ok().unwrap(), abc);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, b"abc").unwrap();
        let packed = dir.join("abc.gz");
        std::fs::write(&packed, gz.finish().unwrap()).unwrap();
        assert_eq!(sha256_of(&packed, Verify::Gunzipped).ok().unwrap(), abc);
        assert_ne!(sha256_of(&packed, Verify::File).ok().unwrap(), abc);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
