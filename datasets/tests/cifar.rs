//! CIFAR-10 from generated batch files and archives: valid, truncated, leftover bytes,
//! empty, missing, and archives whole, cut or lacking members.

mod common;

use common::{CIFAR_NAMES, CIFAR_RECORD, TempDir, cifar_batch, tar_gz, write_cifar};
use tapegrad_datasets::{Cifar10, DataError};

#[test]
fn the_folder_or_its_parent_loads() {
    let parent = TempDir::new("cifar-valid");
    let folder = parent.path().join("cifar-10-batches-bin");
    write_cifar(&folder, 3);
    for dir in [parent.path(), folder.as_path()] {
        let cifar = Cifar10::load_expecting(dir, 3).unwrap();
        assert_eq!((cifar.train.len(), cifar.test.len()), (15, 3));
        assert_eq!(cifar.train.image_shape(), [3, 32, 32]);
        // Record 1 of data_batch_2 is training image 4; its label and green plane.
        let record = &cifar_batch(1, 3)[CIFAR_RECORD..2 * CIFAR_RECORD];
        assert_eq!(cifar.train.label(4), record[0] as usize);
        assert_eq!(cifar.train.image(4), &record[1..]);
        assert_eq!(cifar.test.label(2), cifar_batch(5, 3)[2 * CIFAR_RECORD] as usize);
    }
    let images = Cifar10::load_expecting(parent.path(), 3).unwrap().test.into_images();
    assert_eq!(images.inputs.shape(), &[3, 3, 32, 32]);
    // test_batch.bin is file 5: its first label is (5 · 7) mod 10 = 5, "dog".
    assert_eq!(Cifar10::CLASSES[images.targets.classes().unwrap().as_slice()[0]], "dog");
}

#[test]
fn the_standard_load_expects_ten_thousand_per_file() {
    let dir = TempDir::new("cifar-short");
    write_cifar(dir.path(), 2);
    let err = Cifar10::load(dir.path()).unwrap_err();
    let path = dir.path().join(CIFAR_NAMES[0]);
    assert_eq!(
        err.to_string(),
        format!(
            "{}: offset 6146: expected 10000 records (30730000 bytes), found 2 records (6146 bytes)",
            path.display()
        )
    );
}

#[test]
fn leftover_bytes_name_the_file() {
    let dir = TempDir::new("cifar-leftover");
    write_cifar(dir.path(), 2);
    let path = dir.path().join(CIFAR_NAMES[5]);
    let bytes = cifar_batch(5, 2);
    std::fs::write(&path, &bytes[..bytes.len() - 100]).unwrap();
    let err = Cifar10::load_expecting(dir.path(), 2).unwrap_err();
    assert!(matches!(&err, DataError::Format { path: p, offset: 3073, .. } if *p == path), "{err:?}");
    assert!(err.to_string().ends_with("found 6046 bytes: 1 record and 2973 leftover bytes"), "{err}");
}

#[test]
fn an_empty_batch_file_is_an_error() {
    let dir = TempDir::new("cifar-empty");
    write_cifar(dir.path(), 2);
    std::fs::write(dir.path().join(CIFAR_NAMES[2]), b"").unwrap();
    let err = Cifar10::load_expecting(dir.path(), 2).unwrap_err().to_string();
    assert!(err.contains("data_batch_3.bin: offset 0: expected 2 records (6146 bytes), found 0 records"), "{err}");
}

#[test]
fn a_missing_batch_file_is_an_io_error_naming_it() {
    let dir = TempDir::new("cifar-one-missing");
    write_cifar(dir.path(), 1);
    let path = dir.path().join(CIFAR_NAMES[4]);
    std::fs::remove_file(&path).unwrap();
    let err = Cifar10::load_expecting(dir.path(), 1).unwrap_err();
    assert!(matches!(&err, DataError::Io { path: p, .. } if *p == path), "{err:?}");
}

#[test]
fn a_folder_without_batches_says_where_the_archive_goes() {
    let dir = TempDir::new("cifar-none");
    let err = Cifar10::load(dir.path()).unwrap_err().to_string();
    assert!(err.starts_with("cifar-10 (batch files): files are missing\nplace these files here:\n"), "{err}");
    assert!(err.contains(&format!("{}/cifar-10-binary.tar.gz", dir.path().display())), "{err}");
    assert!(err.contains("https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"), "{err}");
    assert!(err.contains("test_batch.bin"), "{err}");
}

fn archive(records: usize, skip: Option<usize>) -> Vec<u8> {
    let batches: Vec<(String, Vec<u8>)> = CIFAR_NAMES
        .iter()
        .enumerate()
        .filter(|(i, _)| Some(*i) != skip)
        .map(|(i, name)| (format!("cifar-10-batches-bin/{name}"), cifar_batch(i, records)))
        .collect();
    let mut members: Vec<(&str, &[u8])> = vec![("cifar-10-batches-bin/batches.meta.txt", b"airplane\n")];
    members.extend(batches.iter().map(|(n, b)| (n.as_str(), b.as_slice())));
    tar_gz(&members)
}

#[test]
fn an_archive_unpacks_to_the_batch_folder() {
    let dir = TempDir::new("cifar-unpack");
    let tgz = dir.path().join("cifar-10-binary.tar.gz");
    std::fs::write(&tgz, archive(2, None)).unwrap();
    Cifar10::unpack(&tgz, dir.path()).unwrap();
    let cifar = Cifar10::load_expecting(dir.path(), 2).unwrap();
    assert_eq!((cifar.train.len(), cifar.test.len()), (10, 2));
    assert_eq!(std::fs::read(dir.path().join("cifar-10-batches-bin/data_batch_4.bin")).unwrap(), cifar_batch(3, 2));
}

#[test]
fn a_cut_archive_leaves_no_partial_batch() {
    let dir = TempDir::new("cifar-cut-archive");
    let tgz = dir.path().join("cifar-10-binary.tar.gz");
    let bytes = archive(2, None);
    std::fs::write(&tgz, &bytes[..bytes.len() * 2 / 3]).unwrap();
    let err = Cifar10::unpack(&tgz, dir.path()).unwrap_err();
    assert!(matches!(err, DataError::Archive { .. }), "{err:?}");
    // Whatever was written is whole: every batch file present has its full length.
    for entry in std::fs::read_dir(dir.path().join("cifar-10-batches-bin")).unwrap() {
        let entry = entry.unwrap();
        assert!(!entry.file_name().to_string_lossy().ends_with(".part"));
        assert_eq!(entry.metadata().unwrap().len(), 2 * CIFAR_RECORD as u64);
    }
}

#[test]
fn an_archive_without_the_test_batch_says_so() {
    let dir = TempDir::new("cifar-no-test");
    let tgz = dir.path().join("cifar-10-binary.tar.gz");
    std::fs::write(&tgz, archive(1, Some(5))).unwrap();
    let err = Cifar10::unpack(&tgz, dir.path()).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("{}: expected members cifar-10-batches-bin/test_batch.bin, found them missing", tgz.display())
    );
}

#[test]
fn load_or_download_unpacks_an_archive_placed_by_hand() {
    // The archive is there, so nothing is downloaded; its batches are short, so the standard
    // count check then refuses them — after unpacking.
    let dir = TempDir::new("cifar-placed");
    std::fs::write(dir.path().join("cifar-10-binary.tar.gz"), archive(1, None)).unwrap();
    let err = Cifar10::load_or_download(Some(dir.path())).unwrap_err().to_string();
    assert!(err.contains("expected 10000 records"), "{err}");
    assert!(dir.path().join("cifar-10-batches-bin/test_batch.bin").is_file());
}
