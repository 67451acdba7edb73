//! The IDX format of the MNIST files: a 4-byte magic `00 00 08 ndim`, then `ndim` big-endian
//! `u32` sizes, then the unsigned bytes of the array, row-major.
//!
//! The data must be exactly as long as the sizes promise: a file too short (a cut download)
//! and a file too long (two files glued, a wrong header) are both errors that give the
//! offset of the size that made the promise.

use std::path::Path;

use crate::error::DataError;
use crate::file;

/// The type code of unsigned bytes, the only element type the MNIST family uses.
const UNSIGNED_BYTE: u8 = 0x08;

/// An n-d array of bytes read from an IDX file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdxArray {
    /// The sizes of the axes, outermost first (`[60000, 28, 28]` for MNIST's training images).
    pub shape: Vec<usize>,
    /// The elements, row-major.
    pub data: Vec<u8>,
}

/// Reads the IDX file at `path`, raw or gzipped (told apart by content, not name).
///
/// # Errors
/// [`DataError::Io`] if the file cannot be read, [`DataError::Gzip`] for a damaged gzip
/// stream, [`DataError::Format`] for a bad header or a data length that differs from the
/// header's promise.
///
/// ```
/// # let dir = std::env::temp_dir().join(format!("tapegrad-doc-idx-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir).unwrap();
/// use tapegrad_datasets::idx;
/// let path = dir.join("labels-idx1-ubyte");
/// std::fs::write(&path, idx::encode(&[3], &[7, 2, 1])).unwrap();
/// let labels = idx::read(&path).unwrap();
/// assert_eq!((labels.shape, labels.data), (vec![3], vec![7, 2, 1]));
/// # std::fs::remove_dir_all(&dir).unwrap();
/// ```
pub fn read(path: &Path) -> Result<IdxArray, DataError> {
    parse(file::read(path)?, path)
}

/// Parses the bytes of an IDX file (already decompressed); `path` names it in errors.
///
/// # Errors
/// [`DataError::Format`] with the offset of the faulty header field, or of the size that
/// promised more or fewer bytes than there are.
///
/// ```
/// use std::path::Path;
/// use tapegrad_datasets::idx;
/// let bytes = idx::encode(&[2, 2], &[1, 2, 3, 4]);
/// assert_eq!(idx::parse(bytes.clone(), Path::new("x")).unwrap().shape, vec![2, 2]);
/// let cut = bytes[..bytes.len() - 1].to_vec();
/// let err = idx::parse(cut, Path::new("x")).unwrap_err().to_string();
/// assert_eq!(err, "x: offset 4: expected 2 items of 2 bytes (4 bytes after the 12-byte header), \
///                  found 3 bytes: 1 whole item (the file ends at byte 15)");
/// ```
pub fn parse(mut bytes: Vec<u8>, path: &Path) -> Result<IdxArray, DataError> {
    let format = |offset: usize, expected: String, found: String| DataError::Format {
        path: path.to_path_buf(),
        offset: offset as u64,
        expected,
        found,
    };
    if bytes.len() < 4 {
        return Err(format(0, "a 4-byte IDX magic number".into(), format!("a file of {} bytes", bytes.len())));
    }
    let (zeros, kind, ndim) = ([bytes[0], bytes[1]], bytes[2], bytes[3] as usize);
    if zeros != [0, 0] {
        let found = format!("{:02x} {:02x}", zeros[0], zeros[1]);
        return Err(format(0, "an IDX file starting with bytes 00 00".into(), found));
    }
    if kind != UNSIGNED_BYTE {
        let found = format!("type 0x{kind:02x} ({})", type_name(kind));
        return Err(format(2, "element type 0x08 (unsigned byte)".into(), found));
    }
    if ndim == 0 {
        return Err(format(3, "at least one dimension".into(), "0".into()));
    }
    let header = 4 + 4 * ndim;
    if bytes.len() < header {
        let found = format!("a file of {} bytes", bytes.len());
        return Err(format(bytes.len(), format!("{ndim} sizes of 4 bytes (a {header}-byte header)"), found));
    }
    let shape: Vec<usize> = bytes[4..header]
        .chunks_exact(4)
        .map(|b| u32::from_be_bytes(b.try_into().expect("four bytes")) as usize)
        .collect();
    // Checked products: a damaged header must give an error, not an overflow.
    let item: Option<usize> = shape[1..].iter().try_fold(1usize, |acc, &d| acc.checked_mul(d));
    let data_len = (bytes.len() - header) as u128;
    let expected = item.and_then(|i| i.checked_mul(shape[0]));
    if expected.map(|e| e as u128) != Some(data_len) {
        let item_text = match item {
            Some(i) => format!("{} {} of {}", shape[0], plural(shape[0], "item"), item_size(i, &shape[1..])),
            None => format!("{} items of sizes {:?}", shape[0], &shape[1..]),
        };
        let total = expected.map_or("more than memory holds".to_string(), |e| format!("{e} bytes"));
        let whole = item.filter(|&i| i > 0).map(|i| data_len / i as u128);
        let whole_text = whole.map_or(String::new(), |w| format!(": {w} whole {}", plural(w as usize, "item")));
        return Err(format(
            4,
            format!("{item_text} ({total} after the {header}-byte header)"),
            format!("{data_len} bytes{whole_text} (the file ends at byte {})", bytes.len()),
        ));
    }
    // Dropping the header shifts the data in place: no second copy of a 47 MB file.
    bytes.drain(..header);
    Ok(IdxArray { shape, data: bytes })
}

/// The bytes of an IDX file holding `data` in `shape`: for tests, fixtures and exports.
///
/// # Panics
/// If `data.len()` is not the product of `shape`, or a size does not fit in a `u32`.
///
/// ```
/// let bytes = tapegrad_datasets::idx::encode(&[2], &[5, 6]);
/// assert_eq!(bytes, vec![0, 0, 8, 1, 0, 0, 0, 2, 5, 6]);
/// ```
#[track_caller]
pub fn encode(shape: &[usize], data: &[u8]) -> Vec<u8> {
    let numel: usize = shape.iter().product();
    assert!(data.len() == numel, "idx::encode: {} bytes cannot fill shape {shape:?}", data.len());
    assert!(shape.len() <= 255, "idx::encode: {} dimensions, at most 255", shape.len());
    let mut out = vec![0, 0, UNSIGNED_BYTE, shape.len() as u8];
    for &d in shape {
        let d = u32::try_from(d).unwrap_or_else(|_| panic!("idx::encode: size {d} does not fit in a u32"));
        out.extend_from_slice(&d.to_be_bytes());
    }
    out.extend_from_slice(data);
    out
}

/// The names the IDX format gives its type codes, for error messages.
fn type_name(kind: u8) -> &'static str {
    match kind {
        0x08 => "unsigned byte",
        0x09 => "signed byte",
        0x0B => "short",
        0x0C => "int",
        0x0D => "float",
        0x0E => "double",
        _ => "not an IDX type",
    }
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 { word.to_string() } else { format!("{word}s") }
}

/// "1 byte", "784 bytes" or "28×28 bytes": the size of one item.
fn item_size(item: usize, dims: &[usize]) -> String {
    match dims.len() {
        0 | 1 if item == 1 => "1 byte".to_string(),
        0 | 1 => format!("{item} bytes"),
        _ => format!("{} bytes", dims.iter().map(|d| d.to_string()).collect::<Vec<_>>().join("×")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_err(bytes: Vec<u8>) -> String {
        parse(bytes, Path::new("f")).unwrap_err().to_string()
    }

    #[test]
    fn images_parse_with_their_shape() {
        let data: Vec<u8> = (0..2 * 3 * 4).map(|i| i as u8).collect();
        let a = parse(encode(&[2, 3, 4], &data), Path::new("f")).unwrap();
        assert_eq!(a.shape, vec![2, 3, 4]);
        assert_eq!(a.data, data);
    }

    #[test]
    fn truncated_images_name_the_count_and_the_end() {
        let mut bytes = encode(&[3, 28, 28], &[0; 3 * 784]);
        bytes.truncate(bytes.len() - 1);
        assert_eq!(
            parse_err(bytes),
            "f: offset 4: expected 3 items of 28×28 bytes (2352 bytes after the 16-byte header), \
             found 2351 bytes: 2 whole items (the file ends at byte 2367)"
        );
    }

    #[test]
    fn extra_bytes_are_an_error() {
        let mut bytes = encode(&[2], &[1, 2]);
        bytes.push(0);
        assert!(parse_err(bytes).contains("found 3 bytes"));
    }

    #[test]
    fn header_faults_name_their_offset() {
        assert_eq!(parse_err(vec![]), "f: offset 0: expected a 4-byte IDX magic number, found a file of 0 bytes");
        assert_eq!(
            parse_err(vec![0, 0, 0x0D, 1]),
            "f: offset 2: expected element type 0x08 (unsigned byte), found type 0x0d (float)"
        );
        assert_eq!(
            parse_err(vec![0, 1, 8, 1]),
            "f: offset 0: expected an IDX file starting with bytes 00 00, found 00 01"
        );
        assert_eq!(parse_err(vec![0, 0, 8, 0]), "f: offset 3: expected at least one dimension, found 0");
        assert_eq!(
            parse_err(vec![0, 0, 8, 3, 0, 0, 0, 1]),
            "f: offset 8: expected 3 sizes of 4 bytes (a 16-byte header), found a file of 8 bytes"
        );
    }

    #[test]
    fn an_overflowing_header_is_an_error_not_a_panic() {
        let mut bytes = vec![0, 0, 8, 4];
        bytes.extend([0xff; 16]);
        assert!(parse_err(bytes).contains("more than memory holds"));
    }
}
