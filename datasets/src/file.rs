//! Reading a whole data file, gunzipped when its first bytes are the gzip magic `1f 8b`.
//!
//! The content decides, not the name: mirrors serve `.gz` files that browsers have already
//! unpacked, and people gzip files without renaming them.

use std::io::Read;
use std::path::{Path, PathBuf};

use flate2::read::MultiGzDecoder;

use crate::error::DataError;

/// The two bytes every gzip stream starts with.
pub const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Whether `bytes` start like a gzip stream.
///
/// ```
/// use tapegrad_datasets::file::is_gzip;
/// assert!(is_gzip(&[0x1f, 0x8b, 8, 0]));
/// assert!(!is_gzip(&[0, 0, 8, 3]));
/// ```
pub fn is_gzip(bytes: &[u8]) -> bool {
    bytes.starts_with(&GZIP_MAGIC)
}

/// The bytes of the file at `path`, decompressed if it is gzip.
///
/// # Errors
/// [`DataError::Io`] if it cannot be read; [`DataError::Gzip`] if it is a damaged or cut
/// gzip stream.
///
/// ```
/// # let dir = std::env::temp_dir().join(format!("tapegrad-doc-read-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir).unwrap();
/// let path = dir.join("plain.bin");
/// std::fs::write(&path, [1u8, 2, 3]).unwrap();
/// assert_eq!(tapegrad_datasets::file::read(&path).unwrap(), vec![1, 2, 3]);
/// # std::fs::remove_dir_all(&dir).unwrap();
/// ```
pub fn read(path: &Path) -> Result<Vec<u8>, DataError> {
    let bytes = std::fs::read(path).map_err(|e| DataError::io(path, e))?;
    decode(bytes, path)
}

/// `bytes` themselves, or their decompression if they are gzip. `path` names them in errors.
///
/// # Errors
/// [`DataError::Gzip`] if the gzip stream is damaged, cut short, or followed by garbage.
///
/// ```
/// use std::io::Write;
/// use std::path::Path;
/// let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
/// gz.write_all(b"hello").unwrap();
/// let packed = gz.finish().unwrap();
/// let decode = tapegrad_datasets::file::decode;
/// assert_eq!(decode(packed.clone(), Path::new("x.gz")).unwrap(), b"hello");
/// assert!(decode(packed[..packed.len() - 1].to_vec(), Path::new("x.gz")).is_err());
/// ```
pub fn decode(bytes: Vec<u8>, path: &Path) -> Result<Vec<u8>, DataError> {
    if !is_gzip(&bytes) {
        return Ok(bytes);
    }
    let mut out = Vec::with_capacity(size_hint(&bytes));
    // MultiGzDecoder: a `.gz` may hold several members back to back (as `cat a.gz b.gz`);
    // it also checks each member's CRC-32 and length, so a cut or flipped stream fails.
    match MultiGzDecoder::new(bytes.as_slice()).read_to_end(&mut out) {
        Ok(_) => Ok(out),
        Err(e) => {
            Err(DataError::Gzip { path: path.to_path_buf(), decompressed: out.len() as u64, message: e.to_string() })
        }
    }
}

/// The decompressed size from the gzip trailer (modulo 2³²), bounded by what deflate can
/// expand to, so a damaged trailer cannot ask for a huge allocation.
fn size_hint(gz: &[u8]) -> usize {
    let Some(trailer) = gz.len().checked_sub(4).map(|at| &gz[at..]) else {
        return 0;
    };
    let stated = u32::from_le_bytes(trailer.try_into().expect("four bytes")) as usize;
    stated.min(gz.len().saturating_mul(1032))
}

/// `dir/name` if it exists, else `dir/name.gz` if that exists.
pub(crate) fn find_maybe_gz(dir: &Path, name: &str) -> Option<PathBuf> {
    [dir.join(name), dir.join(format!("{name}.gz"))].into_iter().find(|p| p.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(data).unwrap();
        gz.finish().unwrap()
    }

    #[test]
    fn concatenated_members_decode_as_one() {
        let mut both = gzip(b"abc");
        both.extend(gzip(b"def"));
        assert_eq!(decode(both, Path::new("x")).unwrap(), b"abcdef");
    }

    #[test]
    fn a_flipped_payload_byte_fails_the_crc() {
        let data: Vec<u8> = (0..2000u32).map(|i| (i * 7 % 251) as u8).collect();
        let mut gz = gzip(&data);
        let at = gz.len() - 12;
        gz[at] ^= 0x40;
        let err = decode(gz, Path::new("f.gz")).unwrap_err();
        assert!(err.to_string().starts_with("f.gz: damaged gzip stream"), "{err}");
    }

    #[test]
    fn garbage_after_the_stream_is_an_error() {
        let mut gz = gzip(b"abc");
        gz.extend_from_slice(b"junk");
        assert!(decode(gz, Path::new("x")).is_err());
    }

    #[test]
    fn a_huge_stated_size_is_bounded() {
        let mut gz = gzip(b"abc");
        let n = gz.len();
        gz[n - 4..].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(size_hint(&gz) <= n * 1032);
    }
}
