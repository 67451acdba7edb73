//! A small CNN on Fashion-MNIST: two conv 3×3 → batch norm → ReLU → max-pool blocks
//! (32, 64 channels), dropout, 128 → 10, Adam. The default flags aim at 92% test accuracy
//! (the MLP of `fashion_mnist` stops near 90%).
//!
//! cargo run --release --example fashion_cnn -- --data-dir path/to/fashion-mnist

use common::images::{Task, run};
use tapegrad::datasets::FashionMnist;
use tapegrad::prelude::*;

const TASK: Task = Task {
    name: "fashion_cnn",
    usage: "fashion_cnn: a small CNN on Fashion-MNIST\nusage: cargo run --release --example fashion_cnn -- [flags]",
    load: |dir, _| match dir {
        Some(dir) => FashionMnist::load(dir),
        None => FashionMnist::load_or_download(None),
    },
    hidden: "",
    epochs: 10,
    lr: 1e-3,
    dropout: 0.0,
    standardize: false,
    cnn: Some(|[channels, height, width], classes, _, rng| {
        Sequential::new()
            .add(Conv2d::new(channels, 32, 3, rng).padding(1))
            .add(BatchNorm2d::new(32))
            .add(ReLU)
            .add(MaxPool2d::new(2))
            .add(Conv2d::new(32, 64, 3, rng).padding(1))
            .add(BatchNorm2d::new(64))
            .add(ReLU)
            .add(MaxPool2d::new(2))
            .add(Flatten)
            .add(Dropout::new(0.3, 1))
            .add(Linear::with_init(64 * (height / 4) * (width / 4), 128, Init::KaimingUniform, true, rng))
            .add(ReLU)
            .add(Linear::new(128, classes, rng))
    }),
    optimizer: "adam",
    cosine: true,
    batch_size: 64,
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
