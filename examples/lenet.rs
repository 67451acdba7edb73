//! A LeNet-style CNN on MNIST digits (LeCun et al., 1998, with ReLU and max pooling):
//! conv 5×5 (6, padded) → pool → conv 5×5 (16) → pool → 120 → 84 → 10, Adam. The default
//! flags reach about 99% test accuracy (see README for the measured figure).
//!
//! cargo run --release --example lenet -- --data-dir ../shared/data/mnist

use common::images::{Task, run};
use tapegrad::datasets::Mnist;
use tapegrad::prelude::*;

/// The network; also what the W5 benchmark times.
pub fn lenet(classes: usize, rng: &mut StdRng) -> Sequential {
    Sequential::new()
        .add(Conv2d::new(1, 6, 5, rng).padding(2)) // [n, 6, 28, 28]
        .add(ReLU)
        .add(MaxPool2d::new(2)) // [n, 6, 14, 14]
        .add(Conv2d::new(6, 16, 5, rng)) // [n, 16, 10, 10]
        .add(ReLU)
        .add(MaxPool2d::new(2)) // [n, 16, 5, 5]
        .add(Flatten)
        .add(Linear::with_init(400, 120, Init::KaimingUniform, true, rng))
        .add(ReLU)
        .add(Linear::with_init(120, 84, Init::KaimingUniform, true, rng))
        .add(ReLU)
        .add(Linear::new(84, classes, rng))
}

const TASK: Task = Task {
    name: "lenet",
    usage: "lenet: a LeNet-style CNN on MNIST digits\nusage: cargo run --release --example lenet -- [flags]",
    load: |dir, _| match dir {
        Some(dir) => Mnist::load(dir),
        None => Mnist::load_or_download(None),
    },
    hidden: "",
    epochs: 12,
    lr: 1e-3,
    dropout: 0.0,
    standardize: false,
    cnn: Some(|_, classes, _, rng| lenet(classes, rng)),
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
