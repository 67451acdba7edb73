//! MNIST and Fashion-MNIST from generated IDX files: valid (raw and gzipped), truncated,
//! padded, corrupted, empty and missing.

mod common;

use common::{MNIST_NAMES, TempDir, gzip, label, mnist_files, pixel, write_mnist};
use tapegrad_datasets::{DataError, FashionMnist, Mnist, idx};

#[test]
fn raw_and_gzipped_files_load_the_same_images() {
    for gz in [false, true] {
        let dir = TempDir::new("mnist-valid");
        write_mnist(dir.path(), 5, 3, gz);
        let mnist = Mnist::load(dir.path()).unwrap();
        assert_eq!((mnist.train.len(), mnist.test.len()), (5, 3));
        assert_eq!(mnist.train.image_shape(), [1, 28, 28]);
        for i in 0..5 {
            assert_eq!(mnist.train.label(i), label(i) as usize);
            assert_eq!(mnist.train.image(i)[100], pixel(i, 100));
        }
        assert_eq!(mnist.test.image(2)[783], pixel(2, 783));
    }
}

#[test]
fn gzip_is_told_by_content_not_name() {
    // Gzipped bytes under the raw name, raw bytes under the .gz name.
    let dir = TempDir::new("mnist-content");
    let files = mnist_files(2, 2);
    for (i, (name, bytes)) in MNIST_NAMES.iter().zip(&files).enumerate() {
        if i % 2 == 0 {
            std::fs::write(dir.path().join(name), gzip(bytes)).unwrap();
        } else {
            std::fs::write(dir.path().join(format!("{name}.gz")), bytes).unwrap();
        }
    }
    let mnist = Mnist::load(dir.path()).unwrap();
    assert_eq!((mnist.train.len(), mnist.test.len()), (2, 2));
}

#[test]
fn into_dataset_scales_pixels_and_keeps_labels() {
    let dir = TempDir::new("mnist-dataset");
    write_mnist(dir.path(), 4, 1, true);
    let train = Mnist::load(dir.path()).unwrap().train.into_dataset();
    assert_eq!(train.inputs.shape(), &[4, 784]);
    assert_eq!(train.inputs.get(&[3, 10]), pixel(3, 10) as f32 / 255.0);
    assert_eq!(train.targets.classes().unwrap().to_vec(), (0..4).map(|i| label(i) as usize).collect::<Vec<_>>());
    let images = Mnist::load(dir.path()).unwrap().train.into_images();
    assert_eq!(images.inputs.shape(), &[4, 1, 28, 28]);
}

#[test]
fn a_truncated_images_file_names_file_offset_and_counts() {
    let dir = TempDir::new("mnist-truncated");
    write_mnist(dir.path(), 3, 1, false);
    let path = dir.path().join(MNIST_NAMES[0]);
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() - 1]).unwrap();
    let err = Mnist::load(dir.path()).unwrap_err();
    assert!(matches!(&err, DataError::Format { path: p, offset: 4, .. } if *p == path), "{err:?}");
    assert_eq!(
        err.to_string(),
        format!(
            "{}: offset 4: expected 3 items of 28×28 bytes (2352 bytes after the 16-byte header), \
             found 2351 bytes: 2 whole items (the file ends at byte 2367)",
            path.display()
        )
    );
}

#[test]
fn a_truncated_gzip_file_is_a_gzip_error() {
    let dir = TempDir::new("mnist-truncated-gz");
    write_mnist(dir.path(), 3, 1, true);
    let path = dir.path().join(format!("{}.gz", MNIST_NAMES[2]));
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    let err = Mnist::load(dir.path()).unwrap_err();
    assert!(matches!(&err, DataError::Gzip { path: p, .. } if *p == path), "{err:?}");
    assert!(err.to_string().starts_with(&format!("{}: damaged gzip stream after", path.display())), "{err}");
}

#[test]
fn padded_files_are_errors_too() {
    let dir = TempDir::new("mnist-padded");
    write_mnist(dir.path(), 2, 2, false);
    let path = dir.path().join(MNIST_NAMES[3]);
    let mut bytes = std::fs::read(&path).unwrap();
    bytes.extend([0, 0]);
    std::fs::write(&path, bytes).unwrap();
    let err = Mnist::load(dir.path()).unwrap_err().to_string();
    assert!(err.contains("expected 2 items of 1 byte (2 bytes after the 8-byte header), found 4 bytes"), "{err}");
}

#[test]
fn an_empty_file_fails_at_offset_zero() {
    let dir = TempDir::new("mnist-empty");
    write_mnist(dir.path(), 2, 2, false);
    let path = dir.path().join(MNIST_NAMES[1]);
    std::fs::write(&path, b"").unwrap();
    let err = Mnist::load(dir.path()).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("{}: offset 0: expected a 4-byte IDX magic number, found a file of 0 bytes", path.display())
    );
}

#[test]
fn image_and_label_counts_must_agree() {
    let dir = TempDir::new("mnist-counts");
    write_mnist(dir.path(), 3, 2, false);
    let labels = dir.path().join(MNIST_NAMES[1]);
    std::fs::write(&labels, idx::encode(&[2], &[1, 2])).unwrap();
    let err = Mnist::load(dir.path()).unwrap_err();
    assert!(matches!(&err, DataError::Format { offset: 4, .. }), "{err:?}");
    let images = dir.path().join(MNIST_NAMES[0]);
    assert_eq!(
        err.to_string(),
        format!("{}: offset 4: expected 3 labels, one per image in {}, found 2", labels.display(), images.display())
    );
}

#[test]
fn a_label_of_ten_is_refused_with_its_offset() {
    let dir = TempDir::new("mnist-label");
    write_mnist(dir.path(), 3, 1, false);
    let labels = dir.path().join(MNIST_NAMES[1]);
    std::fs::write(&labels, idx::encode(&[3], &[1, 10, 2])).unwrap();
    let err = Mnist::load(dir.path()).unwrap_err();
    assert_eq!(err.to_string(), format!("{}: offset 9: expected a label below 10, found 10", labels.display()));
}

#[test]
fn images_of_the_wrong_size_are_refused() {
    let dir = TempDir::new("mnist-size");
    write_mnist(dir.path(), 1, 1, false);
    let images = dir.path().join(MNIST_NAMES[2]);
    std::fs::write(&images, idx::encode(&[1, 32, 32], &[0; 1024])).unwrap();
    let err = Mnist::load(dir.path()).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("{}: offset 8: expected images of 28×28 pixels, found 32×32", images.display())
    );
}

#[test]
fn missing_files_are_listed_with_full_paths_and_urls() {
    let dir = TempDir::new("mnist-missing");
    write_mnist(dir.path(), 1, 1, true);
    std::fs::remove_file(dir.path().join("train-labels-idx1-ubyte.gz")).unwrap();
    std::fs::remove_file(dir.path().join("t10k-images-idx3-ubyte.gz")).unwrap();
    let err = Mnist::load(dir.path()).unwrap_err();
    let DataError::Missing { place_here, .. } = &err else { panic!("{err:?}") };
    assert_eq!(place_here.len(), 2);
    assert_eq!(
        err.to_string(),
        format!(
            "mnist: files are missing\nplace these files here:\n  {}/train-labels-idx1-ubyte.gz (from \
             https://ossci-datasets.s3.amazonaws.com/mnist/train-labels-idx1-ubyte.gz)\n  \
             {}/t10k-images-idx3-ubyte.gz (from https://ossci-datasets.s3.amazonaws.com/mnist/t10k-images-idx3-ubyte.gz)",
            dir.path().display(),
            dir.path().display()
        )
    );
}

#[test]
fn fashion_mnist_reads_the_same_files_with_its_class_names() {
    let dir = TempDir::new("fashion");
    write_mnist(dir.path(), 2, 1, true);
    let fashion = FashionMnist::load(dir.path()).unwrap();
    assert_eq!(fashion.train.classes()[fashion.train.label(0)], FashionMnist::CLASSES[label(0) as usize]);
    assert_eq!(fashion.train.classes()[0], "T-shirt/top");
    let err = FashionMnist::load(TempDir::new("fashion-none").path()).unwrap_err().to_string();
    assert!(err.starts_with("fashion-mnist: files are missing"), "{err}");
    assert!(err.contains("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/train-images-idx3-ubyte.gz"));
}

#[cfg(not(feature = "download"))]
#[test]
fn without_the_download_feature_missing_files_are_explained() {
    let dir = TempDir::new("mnist-no-feature");
    let err = Mnist::load_or_download(Some(dir.path())).unwrap_err().to_string();
    assert!(err.starts_with("mnist (built without the `download` feature): files are missing"), "{err}");
    assert_eq!(err.matches(&*dir.path().display().to_string()).count(), 4, "{err}");
}
