//! An MLP on MNIST handwritten digits: 784 → 256 → 128 → 10, ReLU, Adam. The default flags
//! reach about 98% test accuracy.
//!
//! cargo run --release --example mnist -- --data-dir ../shared/data/mnist

use common::images::{Task, run};
use tapegrad::datasets::Mnist;

const TASK: Task = Task {
    name: "mnist",
    usage: "mnist: an MLP on MNIST digits\nusage: cargo run --release --example mnist -- [flags]",
    load: |dir, _| match dir {
        Some(dir) => Mnist::load(dir),
        None => Mnist::load_or_download(None),
    },
    hidden: "256,128",
    epochs: 12,
    lr: 1e-3,
    dropout: 0.1,
    cnn: None,
    optimizer: "adam",
    cosine: false,
    batch_size: 128,
    standardize: false,
};

#[allow(dead_code)] // unused where tests include this file to run it
fn main() {
    run(&TASK, std::env::args().skip(1).collect());
}

/// Runs the example with `args` as its flags (for tests).
#[allow(dead_code)]
pub fn run_with(args: Vec<String>) -> Vec<(&'static str, f64)> {
    run(&TASK, args)
}
