//! Property tests: valid fixtures (IDX raw and gzipped, MNIST folders, CIFAR batches,
//! California CSV, StatLib text and archive) with bytes cut off, flipped or appended.
//! Never a panic; a cut or padded file is always an error; and whenever a damaged file
//! loads, it holds exactly the samples its header or its known length promises.

mod common;

use std::path::Path;

use common::{MNIST_NAMES, TempDir, cifar_batch, gzip, mnist_files, sklearn_csv, statlib_text, tar_gz};
use proptest::prelude::*;
use proptest::sample::Index;
use tapegrad_datasets::{CaliforniaHousing, Cifar10, Mnist, file, idx};

#[derive(Clone, Debug)]
enum Damage {
    /// Keep a strict prefix.
    Cut(Index),
    /// XOR one byte with a non-zero mask.
    Flip(Index, u8),
    /// Add bytes at the end.
    Append(Vec<u8>),
}

fn damage() -> impl Strategy<Value = Damage> {
    prop_oneof![
        any::<Index>().prop_map(Damage::Cut),
        (any::<Index>(), 1u8..=255).prop_map(|(i, m)| Damage::Flip(i, m)),
        proptest::collection::vec(any::<u8>(), 1..16).prop_map(Damage::Append),
    ]
}

fn apply(bytes: &[u8], damage: &Damage) -> Vec<u8> {
    match damage {
        Damage::Cut(at) => bytes[..at.index(bytes.len())].to_vec(),
        Damage::Flip(at, mask) => {
            let mut out = bytes.to_vec();
            out[at.index(bytes.len())] ^= mask;
            out
        }
        Damage::Append(extra) => [bytes, extra].concat(),
    }
}

fn is_cut(damage: &Damage) -> bool {
    matches!(damage, Damage::Cut(_))
}

/// A small IDX array: 1 to 3 dimensions of sizes 1 to 5.
fn idx_fixture() -> impl Strategy<Value = (Vec<usize>, Vec<u8>)> {
    proptest::collection::vec(1usize..6, 1..4).prop_flat_map(|shape| {
        let n: usize = shape.iter().product();
        (Just(shape), proptest::collection::vec(any::<u8>(), n))
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn damaged_raw_idx((shape, data) in idx_fixture(), damage in damage()) {
        let bytes = idx::encode(&shape, &data);
        let header = 4 + 4 * shape.len();
        match idx::parse(apply(&bytes, &damage), Path::new("f")) {
            Ok(array) => {
                prop_assert!(matches!(damage, Damage::Flip(..)), "a cut or padded file loaded: {:?}", array.shape);
                prop_assert_eq!(array.data.len(), array.shape.iter().product::<usize>());
                if let Damage::Flip(at, _) = &damage && at.index(bytes.len()) >= header {
                    prop_assert_eq!(&array.shape, &shape, "a flipped data byte keeps the shape");
                }
            }
            Err(e) => prop_assert!(e.to_string().starts_with("f: offset "), "{}", e),
        }
    }

    #[test]
    fn damaged_gzipped_idx((shape, data) in idx_fixture(), damage in damage()) {
        let packed = gzip(&idx::encode(&shape, &data));
        let result = file::decode(apply(&packed, &damage), Path::new("f.gz"))
            .and_then(|bytes| idx::parse(bytes, Path::new("f.gz")));
        match result {
            // CRC-32 and length in the trailer: whatever decodes is the original.
            Ok(array) => {
                prop_assert!(!is_cut(&damage));
                prop_assert_eq!((array.shape, array.data), (shape, data));
            }
            Err(e) => prop_assert!(e.to_string().starts_with("f.gz: "), "{}", e),
        }
    }

    #[test]
    fn damaged_cifar_batch(records in 1usize..4, damage in damage()) {
        let bytes = cifar_batch(2, records);
        match Cifar10::parse_batch(&apply(&bytes, &damage), Path::new("b.bin"), Some(records)) {
            Ok(set) => {
                prop_assert!(matches!(damage, Damage::Flip(..)));
                prop_assert_eq!(set.len(), records);
            }
            Err(e) => prop_assert!(e.to_string().starts_with("b.bin: offset "), "{}", e),
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn damaged_california_text(rows in 1usize..6, csv: bool, damage in damage()) {
        let text = if csv { sklearn_csv(rows) } else { statlib_text(rows) };
        match CaliforniaHousing::parse(apply(text.as_bytes(), &damage), Path::new("t"), Some(rows)) {
            Ok(table) => {
                prop_assert!(!is_cut(&damage));
                prop_assert_eq!(table.len(), rows);
            }
            Err(e) => prop_assert!(e.to_string().starts_with("t"), "{}", e),
        }
    }

    #[test]
    fn damaged_california_archive(rows in 1usize..6, damage in damage()) {
        let text = statlib_text(rows);
        let tgz = tar_gz(&[("CaliforniaHousing/cal_housing.data", text.as_bytes())]);
        let original = CaliforniaHousing::parse(text.into_bytes(), Path::new("t"), Some(rows)).unwrap();
        match CaliforniaHousing::parse(apply(&tgz, &damage), Path::new("t.tgz"), Some(rows)) {
            Ok(table) => {
                prop_assert!(!is_cut(&damage));
                prop_assert_eq!(table, original);
            }
            Err(e) => prop_assert!(e.to_string().starts_with("t.tgz"), "{}", e),
        }
    }
}

proptest! {
    // Each case writes a folder of four files.
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn damaged_mnist_folder(which in 0usize..4, gz: bool, damage in damage()) {
        let dir = TempDir::new("damage-mnist");
        let files = mnist_files(3, 2);
        for (i, (name, bytes)) in MNIST_NAMES.iter().zip(&files).enumerate() {
            let bytes = if gz { gzip(bytes) } else { bytes.clone() };
            let bytes = if i == which { apply(&bytes, &damage) } else { bytes };
            std::fs::write(dir.path().join(if gz { format!("{name}.gz") } else { name.to_string() }), bytes).unwrap();
        }
        match Mnist::load(dir.path()) {
            Ok(mnist) => {
                prop_assert!(!is_cut(&damage));
                prop_assert_eq!((mnist.train.len(), mnist.test.len()), (3, 2));
            }
            Err(e) => {
                let damaged = dir.path().join(MNIST_NAMES[which]).display().to_string();
                prop_assert!(e.to_string().contains(&damaged), "the error names another file: {}", e);
            }
        }
    }
}
