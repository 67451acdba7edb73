//! The data examples run end to end on small generated files in the real formats (users'
//! data sets are not available to tests): they load, train, draw and print their `final:`
//! metrics, and learn the fixtures' easy pattern.

#[path = "../examples/california_housing.rs"]
mod california_housing;
#[path = "../examples/cifar10.rs"]
mod cifar10;
#[path = "../examples/cifar10_cnn.rs"]
mod cifar10_cnn;
#[path = "../examples/fashion_cnn.rs"]
mod fashion_cnn;
#[path = "../examples/fashion_mnist.rs"]
mod fashion_mnist;
#[path = "../examples/lenet.rs"]
mod lenet;
#[path = "../examples/mnist.rs"]
mod mnist;
#[path = "../examples/mnist_ddp.rs"]
mod mnist_ddp;

use std::path::{Path, PathBuf};

use tapegrad::datasets::idx;

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tapegrad-examples-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn args(list: &[&str], out: &Path) -> Vec<String> {
    let mut args: Vec<String> = list.iter().map(|s| s.to_string()).collect();
    args.extend(["--out".to_string(), out.join("out").display().to_string()]);
    args
}

fn metric(metrics: &[(&str, f64)], name: &str) -> f64 {
    metrics.iter().find(|(n, _)| *n == name).unwrap().1
}

/// Images whose class is the brightest of ten horizontal bands: easy to learn.
fn banded_images(n: usize, size: usize, channels: usize, seed: u64) -> (Vec<u8>, Vec<u8>) {
    let mut state = seed;
    let mut next = || {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (state >> 33) as u8
    };
    let (mut pixels, mut labels) = (Vec::new(), Vec::new());
    for i in 0..n {
        let label = (i * 7 + seed as usize) % 10;
        for _ in 0..channels {
            for row in 0..size {
                for _ in 0..size {
                    let band = row * 10 / size;
                    pixels.push(if band == label { 200 + next() % 56 } else { next() % 60 });
                }
            }
        }
        labels.push(label as u8);
    }
    (pixels, labels)
}

fn write_idx_set(dir: &Path, prefix: &str, n: usize, seed: u64) {
    let (pixels, labels) = banded_images(n, 28, 1, seed);
    std::fs::write(dir.join(format!("{prefix}-images-idx3-ubyte")), idx::encode(&[n, 28, 28], &pixels)).unwrap();
    std::fs::write(dir.join(format!("{prefix}-labels-idx1-ubyte")), idx::encode(&[n], &labels)).unwrap();
}

#[test]
fn mnist_and_fashion_mnist_run_on_idx_files() {
    let dir = scratch("mnist");
    write_idx_set(&dir, "train", 600, 1);
    write_idx_set(&dir, "t10k", 100, 2);
    let data = dir.display().to_string();
    let flags = ["--data-dir", &data, "--epochs", "3", "--hidden", "32", "--batch-size", "32"];
    let metrics = mnist::run_with(args(&flags, &dir));
    assert!(metric(&metrics, "test_accuracy") > 0.9, "{metrics:?}");
    for file in ["confusion.png", "loss.png", "history.csv"] {
        assert!(dir.join("out").join(file).exists(), "{file} missing");
    }
    let metrics = fashion_mnist::run_with(args(&flags, &dir));
    assert!(metric(&metrics, "test_accuracy") > 0.9, "{metrics:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// One process (the data-parallel code with a group of one): it learns, and rank 0's
/// checkpoint of model and optimizer is written.
#[test]
fn mnist_ddp_runs_as_one_process_and_checkpoints() {
    let dir = scratch("mnist_ddp");
    write_idx_set(&dir, "train", 600, 1);
    write_idx_set(&dir, "t10k", 100, 2);
    let (data, checkpoint) = (dir.display().to_string(), dir.join("ddp.safetensors").display().to_string());
    let flags =
        ["--data-dir", &data, "--epochs", "3", "--hidden", "32", "--batch-size", "32", "--checkpoint", &checkpoint];
    let metrics = mnist_ddp::run_with(flags.iter().map(|s| s.to_string()).collect());
    assert!(metric(&metrics, "test_accuracy") > 0.9, "{metrics:?}");
    let saved = tapegrad::nn::checkpoint::load::<f32>(&checkpoint).unwrap();
    assert_eq!(saved.tensors["model.0.weight"].shape(), &[32, 784]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_cnns_run_on_idx_files_and_draw_their_filters() {
    let dir = scratch("cnn");
    write_idx_set(&dir, "train", 400, 3);
    write_idx_set(&dir, "t10k", 100, 4);
    let data = dir.display().to_string();
    let flags = ["--data-dir", &data, "--epochs", "3", "--batch-size", "32"];
    let metrics = lenet::run_with(args(&flags, &dir));
    assert!(metric(&metrics, "test_accuracy") > 0.9, "{metrics:?}");
    for file in ["filters.png", "confusion.png", "loss.png", "history.csv"] {
        assert!(dir.join("out").join(file).exists(), "{file} missing");
    }
    let metrics = fashion_cnn::run_with(args(&flags, &dir));
    assert!(metric(&metrics, "test_accuracy") > 0.9, "{metrics:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn cifar10_runs_on_binary_batches() {
    let dir = write_cifar_fixtures("cifar");
    let data = dir.display().to_string();
    let flags =
        ["--data-dir", &data, "--records-per-file", "40", "--epochs", "8", "--hidden", "64", "--batch-size", "20"];
    let metrics = cifar10::run_with(args(&flags, &dir));
    assert!(metric(&metrics, "test_accuracy") > 0.8, "{metrics:?}");
    std::fs::remove_dir_all(dir.parent().unwrap()).unwrap();
}

#[test]
fn cifar10_cnn_runs_on_binary_batches() {
    let dir = write_cifar_fixtures("cifar_cnn");
    let data = dir.display().to_string();
    let flags =
        ["--data-dir", &data, "--records-per-file", "40", "--epochs", "3", "--hidden", "8,16", "--batch-size", "20"];
    let metrics = cifar10_cnn::run_with(args(&flags, &dir));
    assert!(metric(&metrics, "test_accuracy") > 0.8, "{metrics:?}");
    assert!(dir.join("out").join("filters.png").exists());
    std::fs::remove_dir_all(dir.parent().unwrap()).unwrap();
}

/// Five training batches and a test batch of 40 banded 32×32 RGB records each.
fn write_cifar_fixtures(name: &str) -> PathBuf {
    let dir = scratch(name).join("cifar-10-batches-bin");
    std::fs::create_dir_all(&dir).unwrap();
    let records = 40;
    for (i, file) in ["data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5", "test_batch"]
        .iter()
        .enumerate()
    {
        let (pixels, labels) = banded_images(records, 32, 3, i as u64 + 10);
        let mut bytes = Vec::new();
        for (r, label) in labels.iter().enumerate() {
            bytes.push(*label);
            bytes.extend_from_slice(&pixels[r * 3072..(r + 1) * 3072]);
        }
        std::fs::write(dir.join(format!("{file}.bin")), bytes).unwrap();
    }
    dir
}

#[test]
fn california_housing_runs_on_its_csv() {
    let dir = scratch("california");
    let mut csv =
        String::from("MedInc,HouseAge,AveRooms,AveBedrms,Population,AveOccup,Latitude,Longitude,MedHouseVal\n");
    let rows = 400;
    for i in 0..rows {
        let x = (i as f64 * 0.37).sin() * 3.0 + 4.0; // median income
        let age = (i % 50) as f64;
        let value = 0.45 * x + 0.01 * age + 0.2;
        csv += &format!("{x:.4},{age},5.0,1.0,1000,3.0,{:.2},-120.0,{value:.5}\n", 34.0 + (i % 7) as f64);
    }
    let path = dir.join("california_housing.csv");
    std::fs::write(&path, csv).unwrap();
    let file = path.display().to_string();
    let flags = ["--data-dir", &file, "--rows", "400", "--epochs", "60", "--hidden", "16", "--batch-size", "16"];
    let metrics = california_housing::run(args(&flags, &dir));
    assert!(metric(&metrics, "test_r2") > 0.9, "{metrics:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}
