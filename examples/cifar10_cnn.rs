//! A small CNN for CIFAR-10: three blocks of (conv 3×3 → batch norm → ReLU) × 2 → max-pool
//! (32, 64, 128 channels: `--hidden`), dropout, 10 outputs, Adam. Aimed at 75% test
//! accuracy on the full data set (the MLP of `cifar10` stops near 55%).
//!
//! cargo run --release --example cifar10_cnn -- --data-dir path/to/cifar-10-batches-bin

use common::images::{Task, run};
use tapegrad::datasets::Cifar10;
use tapegrad::prelude::*;

/// conv 3×3 (padding 1, no bias: batch norm's β replaces it) → batch norm → ReLU.
fn block(model: Sequential, from: usize, to: usize, rng: &mut StdRng) -> Sequential {
    let conv = Conv2d::with_options(from, to, 3, ConvOptions::default().padding(1), Init::KaimingUniform, false, rng);
    model.add(conv).add(BatchNorm2d::new(to)).add(ReLU)
}

const TASK: Task = Task {
    name: "cifar10_cnn",
    usage: "cifar10_cnn: a small CNN on CIFAR-10\nusage: cargo run --release --example cifar10_cnn -- [flags]",
    load: |dir, records| match (dir, records) {
        (Some(dir), 0) => Cifar10::load(dir),
        (Some(dir), n) => Cifar10::load_expecting(dir, n),
        (None, _) => Cifar10::load_or_download(None),
    },
    hidden: "32,64,128",
    epochs: 15,
    lr: 1e-3,
    dropout: 0.0,
    standardize: false,
    cnn: Some(|[channels, height, width], classes, hidden, rng| {
        let mut model = Sequential::new();
        let (mut from, mut size) = (channels, [height, width]);
        for width in hidden.split(',').map(|w| w.trim().parse().unwrap_or_else(|e| panic!("--hidden {w:?}: {e}"))) {
            model = block(model, from, width, rng);
            model = block(model, width, width, rng).add(MaxPool2d::new(2));
            (from, size) = (width, size.map(|s| s / 2));
        }
        model.add(Flatten).add(Dropout::new(0.3, 1)).add(Linear::new(from * size[0] * size[1], classes, rng))
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
