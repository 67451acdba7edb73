//! An MLP on Fashion-MNIST (clothing in 10 classes, MNIST's format): 784 → 512 → 256 → 10,
//! ReLU, dropout, Adam. The default flags aim at about 89–90% test accuracy.
//!
//! cargo run --release --example fashion_mnist -- --data-dir path/to/fashion-mnist

use common::images::{Task, run};
use tapegrad::datasets::FashionMnist;

const TASK: Task = Task {
    name: "fashion_mnist",
    usage: "fashion_mnist: an MLP on Fashion-MNIST\nusage: cargo run --release --example fashion_mnist -- [flags]",
    load: |dir, _| match dir {
        Some(dir) => FashionMnist::load(dir),
        None => FashionMnist::load_or_download(None),
    },
    hidden: "512,256",
    epochs: 20,
    lr: 1e-3,
    dropout: 0.2,
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
