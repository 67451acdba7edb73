//! An MLP on CIFAR-10 (32×32 colour photos in 10 classes): 3072 → 1024 → 512 → 256 → 10,
//! ReLU, dropout, standardized inputs, Adam. The default flags aim past 52% test accuracy
//! (an MLP's ceiling is near 55–60%; the CNN issue does better).
//!
//! cargo run --release --example cifar10 -- --data-dir path/to/cifar-10-batches-bin

use common::images::{Task, run};
use tapegrad::datasets::Cifar10;

const TASK: Task = Task {
    name: "cifar10",
    usage: "cifar10: an MLP on CIFAR-10\nusage: cargo run --release --example cifar10 -- [flags]",
    load: |dir, records| match (dir, records) {
        (Some(dir), 0) => Cifar10::load(dir),
        (Some(dir), n) => Cifar10::load_expecting(dir, n),
        (None, _) => Cifar10::load_or_download(None),
    },
    hidden: "1024,512,256",
    epochs: 25,
    lr: 5e-4,
    dropout: 0.2,
    cnn: None,
    optimizer: "adam",
    cosine: false,
    batch_size: 128,
    standardize: true,
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
