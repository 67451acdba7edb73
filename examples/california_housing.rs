//! Regression with an MLP: median house values of California districts from 8 census
//! features (scikit-learn's California housing), standardized; 8 → 64 → 64 → 1, ReLU,
//! Adam, mean squared error. The default flags aim at R² ≥ 0.78 on a held-out 20%.
//!
//! cargo run --release --example california_housing -- --data-dir path/to/california_housing.csv

use std::path::Path;

use tapegrad::datasets::{CaliforniaHousing, Standardizer};
use tapegrad::nn::{r2_score, rmse};
use tapegrad::prelude::*;
use tapegrad::{Fit, Objective, evaluate};

use common::images::make_optimizer;
use common::{Flags, fail, output_dir, print_final, use_threads};

const USAGE: &str = "california_housing: MLP regression of house values\nusage: cargo run --release --example california_housing -- [flags]";

#[allow(dead_code)] // unused where tests include this file to run it
fn main() {
    run(std::env::args().skip(1).collect());
}

/// Runs the example with `args` as its flags; returns the metrics of its `final:` line.
pub fn run(args: Vec<String>) -> Vec<(&'static str, f64)> {
    let mut flags = Flags::parse(USAGE, args);
    let data_dir =
        flags.optional("data-dir", "california_housing.csv, cal_housing.data, cal_housing.tgz or a folder with one");
    let epochs: usize = flags.get("epochs", 100, "passes over the training data");
    let batch_size: usize = flags.get("batch-size", 64, "samples per step");
    let lr: f64 = flags.get("lr", 1e-3, "learning rate");
    let optimizer: String = flags.get("optimizer", "adam".to_string(), "adam, adamw, sgd, rmsprop or adagrad");
    let hidden: String = flags.get("hidden", "64,64".to_string(), "neurons per hidden layer");
    let test_percent: f64 = flags.get("test-percent", 20.0, "percent of districts held out for testing");
    let seed: u64 = flags.get("seed", 0, "seed for the split, the weights and the shuffling");
    let threads: usize = flags.get("threads", 0, "threads for the kernels (0: RAYON_NUM_THREADS, else one per core)");
    let rows: usize = flags.get("rows", 0, "rows expected in the file, for subsets (0: the standard 20,640)");
    let out = flags.optional("out", "folder for the pictures");
    flags.finish();
    use_threads(threads);

    let table = match (data_dir.as_deref(), rows) {
        (Some(path), 0) => CaliforniaHousing::load(Path::new(path)),
        (Some(path), n) => std::fs::read(path)
            .map_err(|e| tapegrad::datasets::DataError::Io { path: path.into(), source: e })
            .and_then(|bytes| CaliforniaHousing::parse(bytes, Path::new(path), Some(n))),
        (None, _) => CaliforniaHousing::load_or_download(None),
    }
    .unwrap_or_else(|e| fail(&e.to_string()));
    let data = table.into_dataset();
    let (mut train, mut test) = data.split(test_percent / 100.0, seed);
    let scaler = Standardizer::fit(&train.inputs); // fitted on the training districts only
    train.inputs = scaler.transform(&train.inputs);
    test.inputs = scaler.transform(&test.inputs);
    println!(
        "california_housing: {} training and {} test districts, 8 features, target in $100,000",
        train.len(),
        test.len()
    );

    let mut rng = StdRng::seed_from_u64(seed);
    let mut model = Sequential::new();
    let mut width = 8;
    for w in hidden.split(',').filter(|w| !w.is_empty()) {
        let w: usize = w.trim().parse().unwrap_or_else(|e| fail(&format!("--hidden {w:?}: {e}")));
        model = model.add(Linear::with_init(width, w, Init::KaimingUniform, true, &mut rng)).add(ReLU);
        width = w;
    }
    model = model.add(Linear::new(width, 1, &mut rng));
    let mut optimizer = make_optimizer(&optimizer, model.parameters(), lr);
    let history = Fit::new(&mut model, optimizer.as_mut(), Objective::MeanSquaredError)
        .epochs(epochs)
        .batch_size(batch_size)
        .shuffle(seed)
        .validation_data(&test)
        .progress(true)
        .run(&train);

    let predicted = no_grad(|| model.forward(&test.inputs));
    let target = test.targets.values().expect("value targets");
    let (test_rmse, test_r2) = (rmse(&predicted, target), r2_score(&predicted, target));
    let dir = output_dir(out, "california_housing");
    history
        .plot_loss("california_housing: mean squared error", dir.join("loss.png"))
        .unwrap_or_else(|e| fail(&e.to_string()));
    history.write_csv(dir.join("history.csv")).unwrap_or_else(|e| fail(&e.to_string()));
    println!(
        "test RMSE {test_rmse:.4} (× $100,000), R² {test_r2:.4}; wrote loss.png and history.csv in {}",
        dir.display()
    );
    let check = evaluate(&model, &test, Objective::MeanSquaredError, 512);
    debug_assert!((check.metric - test_rmse).abs() < 1e-3);

    let seconds: f64 = history.epochs.iter().map(|r| r.seconds).sum();
    let metrics = vec![("test_rmse", test_rmse), ("test_r2", test_r2)];
    print_final(
        &metrics,
        history.epochs.len(),
        seconds,
        (train.len() * history.epochs.len()) as f64 / seconds.max(1e-9),
    );
    metrics
}
