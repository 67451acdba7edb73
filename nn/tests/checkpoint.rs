//! Checkpoints: bit-exact round trips, the reference library's bytes, a file written by
//! Python, every kind of broken file (each error and its message), all-or-nothing
//! `load_into`, atomic saves, and property tests that no bytes make `load` panic.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use proptest::prelude::*;
use rand::SeedableRng;
use tapegrad_autograd::{Array, Tensor};
use tapegrad_nn::checkpoint::{Checkpoint, CheckpointError, FormatError, load, load_into, save, save_params};
use tapegrad_nn::{Linear, Module};

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/from_python.safetensors");

/// A fresh directory for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tapegrad-ckpt-{}-{name}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> =
        fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    names.sort();
    names
}

fn named<T: tapegrad_autograd::Element>(name: &str, values: Vec<T>, shape: &[usize]) -> (String, Array<T>) {
    (name.to_string(), Array::from_vec(values, shape).unwrap())
}

fn meta(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn bits32(a: &Array<f32>) -> Vec<u32> {
    a.to_vec().iter().map(|x| x.to_bits()).collect()
}

fn bits64(a: &Array<f64>) -> Vec<u64> {
    a.to_vec().iter().map(|x| x.to_bits()).collect()
}

/// A safetensors file from a header (JSON text) and a data buffer.
fn file_bytes(header: &str, data: &[u8]) -> Vec<u8> {
    let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
    bytes.extend_from_slice(header.as_bytes());
    bytes.extend_from_slice(data);
    bytes
}

/// Writes `bytes` to a file and loads it as f32.
fn load_bytes(dir: &Path, bytes: &[u8]) -> Result<Checkpoint<f32>, CheckpointError> {
    let path = dir.join("file.safetensors");
    fs::write(&path, bytes).unwrap();
    load::<f32>(&path)
}

/// The error from loading `bytes`, checked to name the file.
fn format_error(dir: &Path, bytes: &[u8]) -> (FormatError, String) {
    match load_bytes(dir, bytes) {
        Err(err @ CheckpointError::Format { .. }) => {
            let message = err.to_string();
            assert!(message.starts_with(&format!("{}: ", dir.join("file.safetensors").display())), "{message}");
            let CheckpointError::Format { error, .. } = err else { unreachable!() };
            (error, message)
        }
        other => panic!("expected a format error, got {other:?}"),
    }
}

#[test]
fn f32_round_trip_keeps_every_bit_shape_and_metadata() {
    let dir = scratch("rt32");
    let specials = [0x7fc0_0001, 0xffc0_0000, 0x7f80_0000, 0xff80_0000, 0x8000_0000, 0x0000_0001, 0x7f7f_ffff];
    let grid = Array::from_vec((0..24).map(|i| i as f32 * 0.1 - 1.0).collect(), &[2, 3, 4]).unwrap();
    let tensors = vec![
        named("special", specials.iter().map(|&b| f32::from_bits(b)).collect(), &[7]),
        named("scalar", vec![-3.25], &[]),
        named("empty", vec![], &[0, 3]),
        named("middle_empty", vec![], &[2, 0, 4]),
        ("permuted".to_string(), grid.permute(&[2, 0, 1])),
        ("narrowed".to_string(), grid.narrow(2, 1, 2)),
        ("broadcast".to_string(), Array::from_vec(vec![1.0, 2.0], &[2, 1]).unwrap().expand(&[3, 2, 5])),
    ];
    let metadata = meta(&[("epoch", "12"), ("note", "quotes \" and \\ and ünïcödé"), ("", "empty key")]);
    save(dir.join("a.safetensors"), &tensors, &metadata).unwrap();

    let loaded = load::<f32>(dir.join("a.safetensors")).unwrap();
    assert_eq!(loaded.metadata, metadata);
    assert_eq!(loaded.tensors.len(), tensors.len());
    for (name, array) in &tensors {
        let back = &loaded.tensors[name];
        assert_eq!(back.shape(), array.shape(), "{name}");
        assert_eq!(bits32(back), bits32(array), "{name}: saved in logical order");
        assert!(back.is_contiguous());
    }
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn f64_round_trip_keeps_every_bit() {
    let dir = scratch("rt64");
    let specials: Vec<f64> =
        [0x7ff8_0000_0000_0001, 0xfff0_0000_0000_0000, 0x8000_0000_0000_0000, 1, 0x7fef_ffff_ffff_ffff]
            .iter()
            .map(|&b| f64::from_bits(b))
            .collect();
    let tensors = vec![
        named("special", specials, &[5]),
        named("third", vec![1.0 / 3.0], &[]),
        ("t".to_string(), Array::from_vec(vec![0.1, 0.2, 0.3, 0.4, 0.5, 0.6], &[2, 3]).unwrap().permute(&[1, 0])),
        named("none", vec![], &[0]),
    ];
    save(dir.join("b.safetensors"), &tensors, &BTreeMap::new()).unwrap();
    let loaded = load::<f64>(dir.join("b.safetensors")).unwrap();
    assert!(loaded.metadata.is_empty());
    for (name, array) in &tensors {
        assert_eq!(loaded.tensors[name].shape(), array.shape());
        assert_eq!(bits64(&loaded.tensors[name]), bits64(array), "{name}");
    }
    assert_eq!(loaded.tensors["t"].to_vec(), vec![0.1, 0.4, 0.2, 0.5, 0.3, 0.6]);
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn files_convert_between_f32_and_f64() {
    let dir = scratch("convert");
    let values = vec![0.1f32, -7.5, f32::MAX, f32::from_bits(1), f32::INFINITY];
    save(dir.join("f32.safetensors"), &[named("x", values.clone(), &[5])], &BTreeMap::new()).unwrap();
    let wide = load::<f64>(dir.join("f32.safetensors")).unwrap();
    assert_eq!(wide.tensors["x"].to_vec(), values.iter().map(|&v| f64::from(v)).collect::<Vec<_>>()); // exact

    let precise = vec![0.1f64, 1.0 / 3.0, 1e-50, f64::NEG_INFINITY, f64::NAN];
    save(dir.join("f64.safetensors"), &[named("y", precise.clone(), &[5])], &BTreeMap::new()).unwrap();
    let narrow = load::<f32>(dir.join("f64.safetensors")).unwrap().tensors["y"].to_vec();
    assert_eq!(narrow[..4], [0.1f32, 1.0 / 3.0, 0.0, f32::NEG_INFINITY]); // rounded to nearest
    assert!(narrow[4].is_nan());

    // A finite f64 beyond f32's range is refused, not turned into infinity.
    save(dir.join("big.safetensors"), &[named("big", vec![1.0, -1e300], &[2])], &BTreeMap::new()).unwrap();
    let err = load::<f32>(dir.join("big.safetensors")).unwrap_err();
    assert!(err.to_string().ends_with(r#"tensor "big": element 1 is -1e300, out of range for f32"#), "{err}");
    fs::remove_dir_all(&dir).unwrap();
}

/// The expected bytes are the reference library's own serialization tests
/// (huggingface/safetensors, safetensors/src/tensor.rs: test_serialization, test_empty).
#[test]
fn writes_the_reference_libraries_bytes() {
    let dir = scratch("reference");
    let path = dir.join("r.safetensors");
    save(&path, &[named("attn.0", vec![0.0f32, 1.0, 2.0, 3.0, 4.0, 5.0], &[1, 2, 3])], &BTreeMap::new()).unwrap();
    let header = r#"{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}"#;
    let data: Vec<u8> = [0.0f32, 1.0, 2.0, 3.0, 4.0, 5.0].iter().flat_map(|v| v.to_le_bytes()).collect();
    assert_eq!(fs::read(&path).unwrap(), file_bytes(header, &data));

    save::<f32>(&path, &[], &BTreeMap::new()).unwrap();
    assert_eq!(fs::read(&path).unwrap(), [8, 0, 0, 0, 0, 0, 0, 0, b'{', b'}', b' ', b' ', b' ', b' ', b' ', b' ']);
    save::<f32>(&path, &[], &meta(&[("framework", "pt")])).unwrap();
    assert_eq!(fs::read(&path).unwrap(), file_bytes(r#"{"__metadata__":{"framework":"pt"}}     "#, &[]));

    // Data in name order, offsets back to back, the header padded with spaces to 8 bytes.
    let two = [named("w", vec![1.0f64, 2.0], &[2]), named("b", vec![3.0], &[])];
    save(&path, &two, &BTreeMap::new()).unwrap();
    let header = r#"{"b":{"dtype":"F64","shape":[],"data_offsets":[0,8]},"w":{"dtype":"F64","shape":[2],"data_offsets":[8,24]}}"#;
    let data: Vec<u8> = [3.0f64, 1.0, 2.0].iter().flat_map(|v| v.to_le_bytes()).collect();
    assert_eq!(fs::read(&path).unwrap(), file_bytes(&format!("{header}{}", " ".repeat(5)), &data));
    fs::remove_dir_all(&dir).unwrap();
}

/// nn/tests/fixtures/from_python.safetensors was written by the Python `safetensors` library
/// (nn/scripts/safetensors_roundtrip.py fixture), so this test needs no Python.
#[test]
fn reads_a_file_written_by_python() {
    let checkpoint = load::<f32>(FIXTURE).unwrap();
    assert_eq!(checkpoint.metadata, meta(&[("written_by", "safetensors-python")]));
    let t = &checkpoint.tensors;
    assert_eq!(t.keys().collect::<Vec<_>>(), ["bf16", "empty", "f16", "f32", "f64", "scalar"]);
    assert_eq!(t["f32"].shape(), &[2, 3]);
    assert_eq!(
        bits32(&t["f32"]),
        bits32(&Array::from_vec(vec![1.0, -2.5, 0.1, -0.0, f32::INFINITY, 1e-45], &[6]).unwrap())
    );
    assert_eq!(t["f64"].to_vec(), [0.1, 0.0]); // 1e-310 is below f32's smallest subnormal
    let f16 = vec![1.0, 65504.0, 2f32.powi(-24), f32::NEG_INFINITY, -0.0, 0.333_007_8];
    assert_eq!(bits32(&t["f16"]), bits32(&Array::from_vec(f16, &[6]).unwrap()));
    assert_eq!(t["bf16"].to_vec(), [1.0, -3.0, f32::INFINITY, 2f32.powi(-133)]);
    assert_eq!((t["scalar"].shape(), t["scalar"].item()), (&[][..], 42.0));
    assert_eq!((t["empty"].shape(), t["empty"].numel()), (&[0, 3][..], 0));

    let wide = load::<f64>(FIXTURE).unwrap();
    assert_eq!(wide.tensors["f64"].to_vec(), [0.1, 1e-310]);
    assert_eq!(wide.tensors["f16"].get(&[5]), 0.333_007_812_5);
}

/// Every one of the 65,536 half-precision values, against IEEE 754's definition:
/// (−1)^sign × 2^(exponent − 15) × 1.mantissa, or 2^−14 × 0.mantissa for subnormals.
#[test]
fn every_f16_value_loads_exactly() {
    let dir = scratch("f16");
    let data: Vec<u8> = (0..=u16::MAX).flat_map(|h| h.to_le_bytes()).collect();
    let header = r#"{"h":{"dtype":"F16","shape":[65536],"data_offsets":[0,131072]}}"#;
    let loaded = load_bytes(&dir, &file_bytes(header, &data)).unwrap().tensors["h"].to_vec();
    for (h, got) in (0..=u16::MAX).zip(loaded) {
        let (sign, exponent, mantissa) = (h >> 15, i32::from((h >> 10) & 0x1f), f64::from(h & 0x3ff));
        let magnitude = match exponent {
            0 => mantissa / 1024.0 * 2f64.powi(-14),
            31 if mantissa == 0.0 => f64::INFINITY,
            31 => {
                let payload = u32::from(sign) << 31 | 0x7f80_0000 | u32::from(h & 0x3ff) << 13;
                assert_eq!(got.to_bits(), payload, "NaN {h:#06x} keeps its payload");
                continue;
            }
            _ => (1.0 + mantissa / 1024.0) * 2f64.powi(exponent - 15),
        };
        let expected = if sign == 1 { -magnitude } else { magnitude };
        assert_eq!(got.to_bits(), (expected as f32).to_bits(), "f16 {h:#06x}");
    }
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn broken_headers_are_refused_with_the_reason() {
    let dir = scratch("headers");
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (vec![], "the file is 0 bytes long, too short for the 8-byte header length"),
        (vec![1, 0, 0], "the file is 3 bytes long"),
        (
            file_bytes("{}", &[])[..9].to_vec(),
            "header length 2 (file bytes 0..8) runs past the end of the file: only 1 bytes follow",
        ),
        (
            [u64::MAX.to_le_bytes().as_slice(), b"{}"].concat(),
            "header length 18446744073709551615 (file bytes 0..8) is over the limit",
        ),
        (
            file_bytes("{\"a?\":1}", &[]).iter().map(|&b| if b == b'?' { 0xff } else { b }).collect(),
            "the header is not UTF-8: invalid byte at file offset 11",
        ),
        (
            file_bytes(r#"{"a": }"#, &[]),
            "the header (file bytes 8..15) is not valid JSON: expected value at line 1 column 7",
        ),
        (file_bytes("[1, 2]", &[]), "header: the header: expected a JSON object, found [1,2]"),
        (
            file_bytes(r#"{"w": 5}"#, &[]),
            r#"tensor "w": expected an object with dtype, shape and data_offsets, found 5"#,
        ),
        (
            file_bytes(r#"{"w":{"dtype":"F32","shape":[],"data_offsets":[0,4],"order":"big"}}"#, &[0; 4]),
            r#"tensor "w" field "order": expected no such field (only dtype, shape, data_offsets), found "big""#,
        ),
        (
            file_bytes(r#"{"w":{"dtype":"F32","shape":[]}}"#, &[]),
            r#"field "data_offsets": expected a value, found nothing (the field is missing)"#,
        ),
        (
            file_bytes(r#"{"w":{"dtype":7,"shape":[],"data_offsets":[0,4]}}"#, &[0; 4]),
            r#"field "dtype": expected a string"#,
        ),
        (
            file_bytes(r#"{"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}"#, &[0; 4]),
            r#"field "shape": expected an array of non-negative integers, found [-1]"#,
        ),
        (
            file_bytes(r#"{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4,8]}}"#, &[0; 4]),
            r#"field "data_offsets": expected two non-negative integers [begin, end], found [0,4,8]"#,
        ),
        (
            file_bytes(r#"{"__metadata__":{"epoch":3}}"#, &[]),
            r#"header: "__metadata__" key "epoch": expected a string, found 3"#,
        ),
        (
            file_bytes(r#"{"w":{"dtype":"Q4","shape":[],"data_offsets":[0,1]}}"#, &[0]),
            r#"tensor "w": dtype "Q4" is not one tapegrad reads (F64, F32, F16, BF16)"#,
        ),
        (
            file_bytes(r#"{"ids":{"dtype":"I64","shape":[],"data_offsets":[0,8]}}"#, &[0; 8]),
            r#"tensor "ids": dtype "I64""#,
        ),
        (
            file_bytes(
                r#"{"w":{"dtype":"F32","shape":[],"data_offsets":[0,4]},"\u0077":{"dtype":"F32","shape":[],"data_offsets":[4,8]}}"#,
                &[0; 8],
            ),
            r#"tensor "w" appears twice"#,
        ),
        (
            file_bytes(r#"{"w":{"dtype":"F32","dtype":"F64","shape":[],"data_offsets":[0,4]}}"#, &[0; 4]),
            r#"header: key "dtype": expected each key once per object, found it twice"#,
        ),
        (
            file_bytes(r#"{"a\"b":{"dtype":"F32","shape":[0],"data_offsets":[0,0]},"a\u0022b":[]}"#, &[]),
            r#"tensor "a\"b" appears twice"#,
        ),
        (file_bytes(r#"{"__metadata__":{"k":"1","k":"2"}}"#, &[]), r#"key "k": expected each key once per object"#),
    ];
    for (bytes, expected) in cases {
        let (_, message) = format_error(&dir, &bytes);
        assert!(message.contains(expected), "expected {expected:?} in {message:?}");
    }
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn broken_layouts_are_refused_naming_tensor_and_offsets() {
    let dir = scratch("layouts");
    let entry = |name: &str, dtype: &str, shape: &str, begin: u64, end: u64| {
        format!(r#""{name}":{{"dtype":"{dtype}","shape":{shape},"data_offsets":[{begin},{end}]}}"#)
    };
    let two = |a: String, b: String| format!("{{{a},{b}}}");
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (
            file_bytes(&format!("{{{}}}", entry("w", "F32", "[8]", 0, 32)), &[0; 16]),
            r#"tensor "w": data_offsets [0, 32] run past the end of the 16-byte data buffer (file bytes 63..79)"#,
        ),
        (
            file_bytes(&format!("{{{}}}", entry("w", "F32", "[0]", 8, 4)), &[0; 8]),
            r#"tensor "w": data_offsets [8, 4] end before they begin"#,
        ),
        (
            file_bytes(&format!("{{{}}}", entry("w", "F32", "[2,3]", 0, 20)), &[0; 20]),
            r#"tensor "w": dtype F32 and shape [2, 3] need 24 bytes, but data_offsets [0, 20] hold 20"#,
        ),
        (
            file_bytes(&format!("{{{}}}", entry("w", "F64", "[4294967296,4294967296,4294967296]", 0, 8)), &[0; 8]),
            r#"tensor "w": shape [4294967296, 4294967296, 4294967296] has more elements than fit in memory"#,
        ),
        (
            file_bytes(&two(entry("a", "F32", "[2]", 0, 8), entry("b", "F32", "[2]", 4, 12)), &[0; 12]),
            r#"tensor "b": data_offsets [4, 12] overlap tensor "a", which ends at 8"#,
        ),
        (
            file_bytes(&two(entry("a", "F32", "[1]", 0, 4), entry("b", "F32", "[1]", 8, 12)), &[0; 12]),
            r#"data bytes 4..8 belong to no tensor (after tensor "a")"#,
        ),
        (
            file_bytes(&format!("{{{}}}", entry("a", "F32", "[1]", 4, 8)), &[0; 8]),
            "data bytes 0..4 belong to no tensor (at the start of the data)",
        ),
        (
            file_bytes(&format!("{{{}}}", entry("a", "F32", "[1]", 0, 4)), &[0; 6]),
            r#"data bytes 4..6 belong to no tensor (after tensor "a")"#,
        ),
        (file_bytes("{}", &[0; 3]), "data bytes 0..3 belong to no tensor (at the start of the data)"),
    ];
    for (bytes, expected) in cases {
        let (_, message) = format_error(&dir, &bytes);
        assert!(message.contains(expected), "expected {expected:?} in {message:?}");
    }
    // Zero-size tensors may share an offset with their neighbours, as the reference allows.
    let shared = two(entry("a", "F32", "[0]", 0, 0), entry("b", "F32", "[1]", 0, 4));
    assert_eq!(load_bytes(&dir, &file_bytes(&shared, &1f32.to_le_bytes())).unwrap().tensors["b"].to_vec(), [1.0]);
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn every_truncation_of_a_valid_file_is_an_error() {
    let dir = scratch("truncate");
    let path = dir.join("full.safetensors");
    let tensors = [named("a", vec![1.0f32; 6], &[2, 3]), named("b", vec![2.0], &[]), named("c", vec![3.0; 4], &[4])];
    save(&path, &tensors, &meta(&[("k", "v")])).unwrap();
    let full = fs::read(&path).unwrap();
    for len in 0..full.len() {
        let err = load_bytes(&dir, &full[..len]).unwrap_err();
        assert!(matches!(err, CheckpointError::Format { .. }), "length {len}: {err}");
    }
    assert_eq!(load_bytes(&dir, &full).unwrap().tensors.len(), 3);
    let (error, _) = format_error(&dir, &full[..full.len() - 1]);
    assert_eq!(
        error,
        FormatError::OffsetsOutOfRange {
            tensor: "c".into(),
            begin: 28,
            end: 44,
            data_start: full.len() - 44,
            data_len: 43
        }
    );
    fs::remove_dir_all(&dir).unwrap();
}

/// Two parameters, as a model would list them.
fn params(w: [f32; 6], b: [f32; 2]) -> Vec<(String, Tensor<f32>)> {
    vec![
        ("layer.weight".into(), Tensor::from_vec(w.to_vec(), &[2, 3]).unwrap().requires_grad()),
        ("layer.bias".into(), Tensor::from_vec(b.to_vec(), &[2]).unwrap().requires_grad()),
    ]
}

#[test]
fn load_into_sets_every_parameter_and_returns_the_metadata() {
    let dir = scratch("load_into");
    let path = dir.join("model.safetensors");
    let saved = params([1.0, 2.0, 3.0, 4.0, 5.0, 6.0], [-1.0, -2.0]);
    save_params(&path, &saved, &meta(&[("step", "40")])).unwrap();
    let model = params([0.0; 6], [0.0; 2]);
    assert_eq!(load_into(&path, &model).unwrap(), meta(&[("step", "40")]));
    assert_eq!(model[0].1.to_vec(), [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    assert_eq!(model[1].1.to_vec(), [-1.0, -2.0]);

    // The real use: a model saved and restored through Module::named_parameters.
    let mut rng = rand::rngs::StdRng::seed_from_u64(1);
    let (trained, fresh) = (Linear::<f64>::new(3, 2, &mut rng), Linear::<f64>::new(3, 2, &mut rng));
    let x = Tensor::from_vec(vec![0.5, -1.0, 2.0], &[1, 3]).unwrap();
    assert_ne!(trained.forward(&x).to_vec(), fresh.forward(&x).to_vec());
    save_params(&path, &trained.named_parameters(), &BTreeMap::new()).unwrap();
    load_into(&path, &fresh.named_parameters()).unwrap();
    assert_eq!(trained.forward(&x).to_vec(), fresh.forward(&x).to_vec());
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn load_into_changes_nothing_unless_every_tensor_matches() {
    let dir = scratch("load_into_errors");
    let path = dir.join("model.safetensors");
    let p = path.display();
    let w = Array::full(&[2, 3], 9.0f32);
    let cases = [
        (
            vec![named("layer.weight", w.to_vec(), &[2, 3])],
            format!(r#"{p}: no tensor "layer.bias" for the model's parameter of shape [2]"#),
        ),
        (
            vec![named("layer.weight", w.to_vec(), &[3, 2]), named("layer.bias", vec![9.0; 2], &[2])],
            format!(r#"{p}: tensor "layer.weight" has shape [3, 2], but the model's parameter has shape [2, 3]"#),
        ),
        (
            vec![
                named("layer.weight", w.to_vec(), &[2, 3]),
                named("layer.bias", vec![9.0; 2], &[2]),
                named("extra", vec![], &[0]),
            ],
            format!(r#"{p}: tensor "extra" of shape [0] matches no parameter of the model"#),
        ),
        (
            vec![named("layer.weight", w.to_vec(), &[2, 3]), named("layer.bias", vec![9.0; 2], &[1, 2])],
            format!(r#"{p}: tensor "layer.bias" has shape [1, 2], but the model's parameter has shape [2]"#),
        ),
    ];
    for (tensors, expected) in cases {
        save(&path, &tensors, &BTreeMap::new()).unwrap();
        let model = params([1.0; 6], [2.0; 2]);
        let err = load_into(&path, &model).unwrap_err();
        assert_eq!(err.to_string(), expected);
        assert_eq!((model[0].1.to_vec(), model[0].1.version()), (vec![1.0; 6], 0), "weight untouched after: {err}");
        assert_eq!((model[1].1.to_vec(), model[1].1.version()), (vec![2.0; 2], 0), "bias untouched after: {err}");
    }
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
#[should_panic(expected = r#"load_into: "x" of shape [2] is not a parameter"#)]
fn load_into_refuses_a_tensor_that_is_not_a_parameter() {
    let _ = load_into(FIXTURE, &[("x".to_string(), Tensor::<f32>::zeros(&[2]))]);
}

#[test]
#[should_panic(expected = r#"load_into: two parameters are named "w""#)]
fn load_into_refuses_two_parameters_of_one_name() {
    let w = Tensor::<f32>::zeros(&[2]).requires_grad();
    let _ = load_into(FIXTURE, &[("w".to_string(), w.clone()), ("w".to_string(), w)]);
}

#[test]
fn a_failed_save_leaves_the_previous_checkpoint_byte_identical() {
    let dir = scratch("atomic");
    let path = dir.join("model.safetensors");
    save(&path, &[named("w", vec![1.0f32, 2.0], &[2])], &BTreeMap::new()).unwrap();
    let before = fs::read(&path).unwrap();

    let twice = [named("w", vec![3.0f32], &[]), named("w", vec![4.0], &[])];
    let err = save(&path, &twice, &BTreeMap::new()).unwrap_err();
    assert_eq!(err.to_string(), format!(r#"{}: tensor "w" appears twice"#, path.display()));
    let reserved = [named("__metadata__", vec![3.0f32], &[])];
    let err = save(&path, &reserved, &BTreeMap::new()).unwrap_err();
    assert!(err.to_string().ends_with(r#"tensor name "__metadata__" is reserved for the metadata map"#), "{err}");
    assert_eq!(fs::read(&path).unwrap(), before);

    // A target the rename cannot replace (a non-empty directory): the data was written and
    // synced to a temporary file first, which is removed again.
    let blocked = dir.join("blocked.safetensors");
    fs::create_dir(&blocked).unwrap();
    fs::write(blocked.join("keep"), b"keep").unwrap();
    let err = save(&blocked, &[named("w", vec![5.0f32; 1000], &[1000])], &BTreeMap::new()).unwrap_err();
    assert!(err.to_string().starts_with(&format!("{}: cannot replace: ", blocked.display())), "{err}");
    assert_eq!(fs::read(blocked.join("keep")).unwrap(), b"keep");
    assert_eq!(files_in(&dir), ["blocked.safetensors", "model.safetensors"]);
    assert_eq!(fs::read(&path).unwrap(), before);

    let err =
        save(dir.join("missing/model.safetensors"), &[named("w", vec![1.0f32], &[])], &BTreeMap::new()).unwrap_err();
    assert!(matches!(&err, CheckpointError::Io { action: "create", .. }), "{err}");
    assert!(err.to_string().contains("missing/.model.safetensors."), "{err}");

    // Saving again replaces the file, leaving no temporary behind.
    save(&path, &[named("w", vec![7.0f32], &[])], &BTreeMap::new()).unwrap();
    assert_eq!(load::<f32>(&path).unwrap().tensors["w"].item(), 7.0);
    assert_eq!(files_in(&dir), ["blocked.safetensors", "model.safetensors"]);
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_missing_file_is_an_io_error_naming_it() {
    let err = load::<f32>("/nonexistent/model.safetensors").unwrap_err();
    assert!(matches!(err, CheckpointError::Io { action: "read", .. }));
    assert!(err.to_string().starts_with("/nonexistent/model.safetensors: cannot read: "), "{err}");
}

/// A valid F32 file of three tensors, with where its data starts.
fn sample_file(dir: &Path) -> (Vec<u8>, usize) {
    let path = dir.join("sample.safetensors");
    let tensors = [
        named("a.weight", (0..6).map(|i| i as f32).collect(), &[2, 3]),
        named("b", vec![], &[0]),
        named("c", vec![0.5; 3], &[3]),
    ];
    save(&path, &tensors, &meta(&[("epoch", "1")])).unwrap();
    let bytes = fs::read(&path).unwrap();
    let data_start = 8 + u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    (bytes, data_start)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    /// Flipped bits in the data change only the flipped values; anywhere else, `load`
    /// returns an error or a checkpoint that saves and loads back the same: never a panic.
    #[test]
    fn flipped_bytes_never_panic(flips in prop::collection::vec((any::<prop::sample::Index>(), 1..=255u8), 1..4)) {
        let dir = scratch("flip");
        let (original, data_start) = sample_file(&dir);
        let mut bytes = original.clone();
        for (at, mask) in &flips {
            bytes[at.index(original.len())] ^= mask;
        }
        let result = load_bytes(&dir, &bytes);
        if flips.iter().all(|(at, _)| at.index(bytes.len()) >= data_start) {
            let loaded = result.unwrap();
            let floats: Vec<f32> = bytes[data_start..].chunks(4).map(|c| f32::from_le_bytes(c.try_into().unwrap())).collect();
            prop_assert_eq!(loaded.tensors.keys().collect::<Vec<_>>(), ["a.weight", "b", "c"]);
            prop_assert_eq!(loaded.tensors["a.weight"].shape(), &[2, 3]);
            prop_assert_eq!(bits32(&loaded.tensors["a.weight"]), floats[..6].iter().map(|f| f.to_bits()).collect::<Vec<_>>());
            prop_assert_eq!(bits32(&loaded.tensors["c"]), floats[6..].iter().map(|f| f.to_bits()).collect::<Vec<_>>());
        } else if let Ok(loaded) = result {
            let resaved = dir.join("resaved.safetensors");
            save(&resaved, &loaded.tensors.clone().into_iter().collect::<Vec<_>>(), &loaded.metadata).unwrap();
            let again = load::<f32>(&resaved).unwrap();
            prop_assert_eq!(&again.metadata, &loaded.metadata);
            for (name, array) in &loaded.tensors {
                prop_assert_eq!(again.tensors[name].shape(), array.shape());
                prop_assert_eq!(bits32(&again.tensors[name]), bits32(array));
            }
        }
        fs::remove_dir_all(&dir).unwrap();
    }

    /// Headers made of random (often contradictory) entries: `load` never panics, and what
    /// it accepts tiles the data exactly.
    #[test]
    fn random_headers_never_panic(
        entries in prop::collection::vec((
            prop::sample::select(vec!["a", "b", "c"]),
            prop::sample::select(vec!["F32", "F64", "F16", "BF16", "I64", "f32"]),
            prop::collection::vec(0..4u64, 0..3),
            0..40u64,
            0..40u64,
        ), 0..4),
        data_len in 0..40usize,
    ) {
        let dir = scratch("random_header");
        let body: Vec<String> = entries.iter().map(|(name, dtype, shape, begin, end)| {
            format!(r#""{name}":{{"dtype":"{dtype}","shape":{shape:?},"data_offsets":[{begin},{end}]}}"#)
        }).collect();
        let result = load_bytes(&dir, &file_bytes(&format!("{{{}}}", body.join(",")), &vec![0x3c; data_len]));
        if let Ok(loaded) = result {
            let bytes: usize = entries.iter().map(|(_, dtype, shape, _, _)| {
                shape.iter().product::<u64>() as usize * match *dtype { "F64" => 8, "F32" => 4, _ => 2 }
            }).sum();
            prop_assert_eq!(bytes, data_len);
            prop_assert_eq!(loaded.tensors.len(), entries.len());
        }
        fs::remove_dir_all(&dir).unwrap();
    }
}

/// Both directions against the Python `safetensors` library (and torch, if installed): run
/// with `TAPEGRAD_PYTHON=/path/to/python cargo test -p tapegrad-nn --test checkpoint --
/// --ignored --nocapture python_interop`.
#[test]
#[ignore = "needs Python with safetensors and numpy (set TAPEGRAD_PYTHON)"]
fn python_interop() {
    let dir = scratch("python");
    let weight = Array::from_vec((0..12).map(|i| i as f32 * 0.25 - 1.0).collect(), &[3, 4]).unwrap();
    let transposed_twice = weight.permute(&[1, 0]).contiguous().permute(&[1, 0]); // not contiguous
    let f32s = [
        ("layer.weight".to_string(), transposed_twice),
        named("layer.bias", vec![-0.0, f32::INFINITY, f32::NEG_INFINITY, f32::from_bits(1), f32::MAX], &[5]),
        named("nan", vec![f32::from_bits(0x7fc0_0001), f32::from_bits(0xffc0_0000)], &[2]),
        named("scalar", vec![3.5], &[]),
        named("empty", vec![], &[0, 5]),
    ];
    save(dir.join("tapegrad_f32.safetensors"), &f32s, &meta(&[("epoch", "7")])).unwrap();
    let f64s = [
        named("x", vec![0.1, 1.0 / 3.0, -1e300, 5e-324], &[2, 2]),
        named("nan", vec![f64::from_bits(0x7ff8_0000_0000_0001)], &[1]),
    ];
    save(dir.join("tapegrad_f64.safetensors"), &f64s, &BTreeMap::new()).unwrap();

    let python = std::env::var("TAPEGRAD_PYTHON").unwrap_or_else(|_| "python3".into());
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/safetensors_roundtrip.py");
    let fresh = dir.join("from_python.safetensors");
    for args in [["check", dir.to_str().unwrap()], ["fixture", fresh.to_str().unwrap()]] {
        let out = std::process::Command::new(&python).arg(script).args(args).output().unwrap();
        print!("{}", String::from_utf8_lossy(&out.stdout));
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    // The file Python writes today is the committed fixture, and reads the same.
    assert_eq!(fs::read(&fresh).unwrap(), fs::read(FIXTURE).unwrap());
    fs::remove_dir_all(&dir).unwrap();
}
