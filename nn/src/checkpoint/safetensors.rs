//! The safetensors format, byte for byte: reading and checking a header, decoding tensor
//! data, and encoding both exactly as the reference `safetensors` library does.
//!
//! A file is an 8-byte little-endian header length N, then N bytes of UTF-8 JSON, then one
//! data buffer. The JSON maps each tensor name to `{"dtype", "shape", "data_offsets": [begin,
//! end]}` (offsets into the data buffer) and may hold a `"__metadata__"` map of strings.
//! Data is little-endian and row-major.
//!
//! Everything here works on bytes in memory and knows no paths: [`super`] (the checkpoint
//! API) adds the file name to every error.

use std::any::TypeId;
use std::collections::{BTreeMap, HashSet};

use super::json::{self, JsonError, Value};
use tapegrad_autograd::Element;

/// The longest header the reference reader accepts (100 MB). A longer one is a corrupt
/// length field; refusing it early spares reading the data as JSON.
pub(super) const MAX_HEADER_LEN: u64 = 100_000_000;
const METADATA_KEY: &str = "__metadata__";
const FIELDS: [&str; 3] = ["dtype", "shape", "data_offsets"];

/// What is wrong with the bytes of a safetensors file (or with tensors about to be saved).
///
/// Offsets in `data_offsets` count from the start of the data buffer, as in the file; the
/// messages also give file offsets where that helps find the bad byte.
///
/// ```
/// use tapegrad_nn::checkpoint::{CheckpointError, FormatError, load};
///
/// let path = std::env::temp_dir().join("tapegrad_doc_format_error.safetensors");
/// std::fs::write(&path, [3, 0, 0]).unwrap(); // not even a header length
/// match load::<f32>(&path) {
///     Err(CheckpointError::Format { error: FormatError::TooShort { len: 3 }, .. }) => {}
///     other => panic!("expected TooShort, got {other:?}"),
/// }
/// # std::fs::remove_file(&path).unwrap();
/// ```
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum FormatError {
    /// The file cannot even hold the 8-byte header length.
    #[error("the file is {len} bytes long, too short for the 8-byte header length")]
    TooShort { len: usize },
    /// The header length is over the reference reader's 100 MB limit.
    #[error("header length {header_len} (file bytes 0..8) is over the limit of {MAX_HEADER_LEN} bytes")]
    HeaderTooLarge { header_len: u64 },
    /// The header length runs past the end of the file (a truncated file, or not safetensors).
    #[error(
        "header length {header_len} (file bytes 0..8) runs past the end of the file: only {available} bytes follow"
    )]
    HeaderPastEnd { header_len: u64, available: usize },
    /// The header is not UTF-8.
    #[error("the header is not UTF-8: invalid byte at file offset {offset}")]
    HeaderNotUtf8 { offset: usize },
    /// The header is not JSON.
    #[error("the header (file bytes 8..{end}) is not valid JSON: {message}")]
    HeaderNotJson { end: usize, message: String },
    /// The header is JSON, but not of the shape safetensors prescribes.
    #[error("header: {context}: expected {expected}, found {found}")]
    HeaderSchema { context: String, expected: String, found: String },
    /// Two tensors have one name.
    #[error("tensor {tensor:?} appears twice")]
    DuplicateName { tensor: String },
    /// A tensor is named `"__metadata__"`, the key reserved for the metadata map.
    #[error("tensor name {tensor:?} is reserved for the metadata map")]
    ReservedName { tensor: String },
    /// A dtype tapegrad does not read (integers, 8-bit floats) or no dtype at all.
    #[error("tensor {tensor:?}: dtype {dtype:?} is not one tapegrad reads (F64, F32, F16, BF16)")]
    UnsupportedDtype { tensor: String, dtype: String },
    /// `data_offsets` whose end comes before their begin.
    #[error("tensor {tensor:?}: data_offsets [{begin}, {end}] end before they begin")]
    OffsetsReversed { tensor: String, begin: u64, end: u64 },
    /// `data_offsets` past the end of the data buffer (a truncated file, most often).
    #[error(
        "tensor {tensor:?}: data_offsets [{begin}, {end}] run past the end of the {data_len}-byte data buffer \
         (file bytes {data_start}..{})", *data_start as u64 + data_len
    )]
    OffsetsOutOfRange { tensor: String, begin: u64, end: u64, data_start: usize, data_len: u64 },
    /// A shape whose bytes could not fit in memory.
    #[error("tensor {tensor:?}: shape {shape:?} has more elements than fit in memory")]
    ShapeOverflow { tensor: String, shape: Vec<u64> },
    /// A dtype and shape that need another number of bytes than the offsets hold.
    #[error(
        "tensor {tensor:?}: dtype {dtype} and shape {shape:?} need {expected} bytes, \
         but data_offsets [{begin}, {end}] hold {}", end - begin
    )]
    SizeMismatch { tensor: String, dtype: &'static str, shape: Vec<u64>, expected: u64, begin: u64, end: u64 },
    /// Two tensors claim the same bytes.
    #[error("tensor {tensor:?}: data_offsets [{begin}, {end}] overlap tensor {other:?}, which ends at {other_end}")]
    Overlap { tensor: String, begin: u64, end: u64, other: String, other_end: u64 },
    /// Bytes of the data buffer that no tensor claims: the reference reader refuses them,
    /// and they often mean a tensor's entry was lost from the header.
    #[error("data bytes {begin}..{end} belong to no tensor ({})", match after {
        Some(name) => format!("after tensor {name:?}"),
        None => "at the start of the data".to_string(),
    })]
    Gap { begin: u64, end: u64, after: Option<String> },
    /// A value that does not fit the element type asked for (an F64 value beyond f32's range).
    #[error("tensor {tensor:?}: element {index} is {value:e}, out of range for {target}")]
    ValueOutOfRange { tensor: String, index: usize, value: f64, target: &'static str },
}

/// The element types tapegrad reads; it writes F32 and F64.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Dtype {
    F64,
    F32,
    F16,
    BF16,
}

impl Dtype {
    /// The dtype that stores `T` exactly.
    pub(super) fn of<T: Element>() -> Dtype {
        if TypeId::of::<T>() == TypeId::of::<f32>() { Dtype::F32 } else { Dtype::F64 }
    }

    fn parse(name: &str) -> Option<Dtype> {
        [Dtype::F64, Dtype::F32, Dtype::F16, Dtype::BF16].into_iter().find(|d| d.name() == name)
    }

    pub(super) fn name(self) -> &'static str {
        match self {
            Dtype::F64 => "F64",
            Dtype::F32 => "F32",
            Dtype::F16 => "F16",
            Dtype::BF16 => "BF16",
        }
    }

    fn size(self) -> usize {
        match self {
            Dtype::F64 => 8,
            Dtype::F32 => 4,
            Dtype::F16 | Dtype::BF16 => 2,
        }
    }
}

/// One tensor of a checked file: its data lies at `bytes`, and its size matches its shape.
#[derive(Debug)]
pub(super) struct RawTensor<'a> {
    pub name: String,
    pub dtype: Dtype,
    pub shape: Vec<usize>,
    pub bytes: &'a [u8],
}

/// A header entry as written, before the layout is checked.
struct Entry {
    name: String,
    dtype: Dtype,
    shape: Vec<u64>,
    begin: u64,
    end: u64,
}

/// Reads and checks a whole file: the tensors in data order, and the metadata.
///
/// Nothing is trusted: the header length, the JSON, each entry's fields, and the layout
/// (every tensor inside the buffer, its size matching dtype × shape, the tensors covering
/// the buffer without gaps or overlaps, as the reference reader requires).
pub(super) fn parse(file: &[u8]) -> Result<(Vec<RawTensor<'_>>, BTreeMap<String, String>), FormatError> {
    let Some((len_bytes, rest)) = file.split_first_chunk::<8>() else {
        return Err(FormatError::TooShort { len: file.len() });
    };
    let header_len = u64::from_le_bytes(*len_bytes);
    if header_len > MAX_HEADER_LEN {
        return Err(FormatError::HeaderTooLarge { header_len });
    }
    let Some((header, data)) = usize::try_from(header_len).ok().and_then(|n| rest.split_at_checked(n)) else {
        return Err(FormatError::HeaderPastEnd { header_len, available: rest.len() });
    };
    let header = std::str::from_utf8(header).map_err(|e| FormatError::HeaderNotUtf8 { offset: 8 + e.valid_up_to() })?;
    let (mut entries, metadata) = parse_header(header)?;
    check_layout(&mut entries, 8 + header.len(), data.len() as u64)?;
    let tensors = entries
        .into_iter()
        .map(|e| {
            // The layout check bounds begin ≤ end ≤ data.len() and the product of the
            // nonzero sizes by usize::MAX, so these conversions cannot fail.
            let shape = e.shape.iter().map(|&s| s as usize).collect();
            RawTensor { name: e.name, dtype: e.dtype, shape, bytes: &data[e.begin as usize..e.end as usize] }
        })
        .collect();
    Ok((tensors, metadata))
}

fn parse_header(text: &str) -> Result<(Vec<Entry>, BTreeMap<String, String>), FormatError> {
    let value = json::parse(text).map_err(|e| match e {
        JsonError::Syntax { .. } => FormatError::HeaderNotJson { end: 8 + text.len(), message: e.to_string() },
        // A second entry for one name would be a tensor silently lost.
        JsonError::DuplicateKey { key, depth: 1 } => FormatError::DuplicateName { tensor: key },
        JsonError::DuplicateKey { key, .. } => FormatError::HeaderSchema {
            context: format!("key {key:?}"),
            expected: "each key once per object".into(),
            found: "it twice".into(),
        },
    })?;
    let Value::Object(map) = value else {
        return Err(schema("the header".into(), "a JSON object", &value));
    };
    let mut metadata = BTreeMap::new();
    let mut entries = Vec::with_capacity(map.len());
    for (name, value) in map {
        if name == METADATA_KEY {
            metadata = parse_metadata(&value)?;
        } else {
            entries.push(parse_entry(name, &value)?);
        }
    }
    Ok((entries, metadata))
}

fn parse_metadata(value: &Value) -> Result<BTreeMap<String, String>, FormatError> {
    let Value::Object(map) = value else {
        return Err(schema(format!("{METADATA_KEY:?}"), "an object of strings", value));
    };
    map.iter()
        .map(|(key, value)| match value {
            Value::String(s) => Ok((key.clone(), s.clone())),
            other => Err(schema(format!("{METADATA_KEY:?} key {key:?}"), "a string", other)),
        })
        .collect()
}

fn parse_entry(name: String, value: &Value) -> Result<Entry, FormatError> {
    let Value::Object(fields) = value else {
        return Err(schema(format!("tensor {name:?}"), "an object with dtype, shape and data_offsets", value));
    };
    let context = |field: &str| format!("tensor {name:?} field {field:?}");
    if let Some((extra, value)) = fields.iter().find(|(key, _)| !FIELDS.contains(&key.as_str())) {
        return Err(schema(context(extra), "no such field (only dtype, shape, data_offsets)", value));
    }
    let field = |key: &str| {
        value.get(key).ok_or_else(|| FormatError::HeaderSchema {
            context: context(key),
            expected: "a value".into(),
            found: "nothing (the field is missing)".into(),
        })
    };
    let dtype = match field("dtype")? {
        Value::String(s) => {
            Dtype::parse(s).ok_or_else(|| FormatError::UnsupportedDtype { tensor: name.clone(), dtype: s.clone() })?
        }
        other => return Err(schema(context("dtype"), "a string such as \"F32\"", other)),
    };
    let integers = |key: &str, expected: &str| {
        let value = field(key)?;
        match value {
            Value::Array(items) => items.iter().map(Value::as_u64).collect::<Option<Vec<u64>>>(),
            _ => None,
        }
        .ok_or_else(|| schema(context(key), expected, value))
    };
    let shape = integers("shape", "an array of non-negative integers")?;
    let expected = "two non-negative integers [begin, end]";
    let offsets = integers("data_offsets", expected)?;
    let [begin, end] = offsets[..] else {
        return Err(schema(context("data_offsets"), expected, field("data_offsets")?));
    };
    Ok(Entry { name, dtype, shape, begin, end })
}

/// A header-shape error showing (the start of) the JSON value found.
fn schema(context: String, expected: &str, found: &Value) -> FormatError {
    let mut found = found.to_string();
    if let Some((cut, _)) = found.char_indices().nth(60) {
        found.truncate(cut);
        found.push('…');
    }
    FormatError::HeaderSchema { context, expected: expected.into(), found }
}

/// Checks each entry against the data buffer, then that the entries tile it exactly;
/// leaves `entries` sorted by offsets, the order of the data.
fn check_layout(entries: &mut [Entry], data_start: usize, data_len: u64) -> Result<(), FormatError> {
    entries.sort_by(|a, b| (a.begin, a.end, &a.name).cmp(&(b.begin, b.end, &b.name)));
    for e in entries.iter() {
        let (tensor, begin, end) = (e.name.clone(), e.begin, e.end);
        if end < begin {
            return Err(FormatError::OffsetsReversed { tensor, begin, end });
        }
        if end > data_len {
            return Err(FormatError::OffsetsOutOfRange { tensor, begin, end, data_start, data_len });
        }
        // The bytes of the shape with zero sizes counted as 1 bound every partial product
        // (and the strides) that Array computes, even for a zero-size tensor.
        let size = e.dtype.size();
        let Some(bound) = e.shape.iter().try_fold(size, |acc, &s| acc.checked_mul(usize::try_from(s.max(1)).ok()?))
        else {
            return Err(FormatError::ShapeOverflow { tensor, shape: e.shape.clone() });
        };
        let expected = if e.shape.contains(&0) { 0 } else { bound as u64 };
        if expected != end - begin {
            let (dtype, shape) = (e.dtype.name(), e.shape.clone());
            return Err(FormatError::SizeMismatch { tensor, dtype, shape, expected, begin, end });
        }
    }
    let (mut covered, mut last) = (0, None::<&str>);
    for e in entries.iter() {
        if e.begin > covered {
            return Err(FormatError::Gap { begin: covered, end: e.begin, after: last.map(str::to_string) });
        }
        if e.begin < covered {
            let other = last.unwrap_or_default().to_string();
            return Err(FormatError::Overlap {
                tensor: e.name.clone(),
                begin: e.begin,
                end: e.end,
                other,
                other_end: covered,
            });
        }
        (covered, last) = (e.end, Some(e.name.as_str()));
    }
    if covered != data_len {
        return Err(FormatError::Gap { begin: covered, end: data_len, after: last.map(str::to_string) });
    }
    Ok(())
}

/// The values of a checked tensor as `T`: exact, except F64 into f32, which rounds (and
/// fails on values beyond f32's range rather than make them infinite).
pub(super) fn decode<T: Element>(tensor: &RawTensor<'_>) -> Result<Vec<T>, FormatError> {
    let out_of_range = |index: usize, value: f64| FormatError::ValueOutOfRange {
        tensor: tensor.name.clone(),
        index,
        value,
        target: T::NAME,
    };
    let widen = |(index, x): (usize, f32)| T::from_f32(x).ok_or_else(|| out_of_range(index, x.into()));
    let bytes = tensor.bytes;
    match tensor.dtype {
        Dtype::F64 => words::<8>(bytes)
            .map(f64::from_le_bytes)
            .enumerate()
            .map(|(index, x)| match T::from_f64(x) {
                Some(v) if v.is_finite() || !x.is_finite() => Ok(v),
                _ => Err(out_of_range(index, x)),
            })
            .collect(),
        Dtype::F32 => words::<4>(bytes).map(f32::from_le_bytes).enumerate().map(widen).collect(),
        Dtype::F16 => words::<2>(bytes).map(|w| f16_to_f32(u16::from_le_bytes(w))).enumerate().map(widen).collect(),
        Dtype::BF16 => words::<2>(bytes)
            .map(|w| f32::from_bits(u32::from(u16::from_le_bytes(w)) << 16))
            .enumerate()
            .map(widen)
            .collect(),
    }
}

fn words<const N: usize>(bytes: &[u8]) -> impl Iterator<Item = [u8; N]> + '_ {
    bytes.chunks_exact(N).map(|c| {
        let mut word = [0; N];
        word.copy_from_slice(c);
        word
    })
}

/// IEEE half precision to single, exactly: every f16 value (subnormals, infinities, NaN
/// payloads included) is an f32 value.
fn f16_to_f32(h: u16) -> f32 {
    let sign = if h & 0x8000 != 0 { -1.0 } else { 1.0 };
    let exponent = u32::from((h >> 10) & 0x1f);
    let mantissa = u32::from(h & 0x3ff);
    match exponent {
        // Zero and subnormals: mantissa × 2⁻²⁴, exact in f32.
        0 => sign * mantissa as f32 * f32::from_bits(0x3380_0000),
        // Infinity and NaN: the mantissa moves to the top of f32's.
        0x1f => f32::from_bits(u32::from(h & 0x8000) << 16 | 0x7f80_0000 | mantissa << 13),
        // Normal: rebias the exponent from 15 to 127.
        _ => f32::from_bits(u32::from(h & 0x8000) << 16 | (exponent + 112) << 23 | mantissa << 13),
    }
}

/// The 8-byte length and the header for tensors stored in this order, with offsets
/// assigned back to back, in the reference writer's bytes: compact JSON, metadata first,
/// then the tensors in data order, padded with spaces to a multiple of 8 bytes so the data
/// starts aligned.
pub(super) fn encode_header(
    dtype: Dtype,
    tensors: &[(&str, &[usize])],
    metadata: &BTreeMap<String, String>,
) -> Result<Vec<u8>, FormatError> {
    let mut seen = HashSet::new();
    let mut json = String::from("{");
    if !metadata.is_empty() {
        let map = metadata.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect();
        json += &format!("{METADATA_KEY:?}:{}", Value::Object(map));
    }
    let mut offset = 0;
    for &(name, shape) in tensors {
        if name == METADATA_KEY {
            return Err(FormatError::ReservedName { tensor: name.into() });
        }
        if !seen.insert(name) {
            return Err(FormatError::DuplicateName { tensor: name.into() });
        }
        let end = offset + shape.iter().product::<usize>() * dtype.size();
        let comma = if json.len() > 1 { "," } else { "" };
        let shape = Value::Array(shape.iter().map(|s| Value::Number(s.to_string())).collect());
        json += comma;
        json::write_string(&mut json, name).expect("writing to a String");
        json += &format!(r#":{{"dtype":"{}","shape":{shape},"data_offsets":[{offset},{end}]}}"#, dtype.name());
        offset = end;
    }
    json.push('}');
    while json.len() % 8 != 0 {
        json.push(' ');
    }
    let mut out = (json.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(json.as_bytes());
    Ok(out)
}

/// Appends `values` as little-endian bytes of `T`'s own dtype ([`Dtype::of`]), bit for bit.
pub(super) fn encode_values<T: Element>(values: &[T], out: &mut Vec<u8>) {
    // Float-to-float `as` casts to the same type are the identity, NaN payloads included.
    match Dtype::of::<T>() {
        Dtype::F32 => values.iter().for_each(|x| out.extend(x.to_f32().unwrap_or(f32::NAN).to_le_bytes())),
        _ => values.iter().for_each(|x| out.extend(x.to_f64().unwrap_or(f64::NAN).to_le_bytes())),
    }
}
