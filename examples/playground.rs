//! The TensorFlow Playground in a terminal: pick a data set, the inputs, the layers, the
//! activation, the learning rate and the regularization; watch the train and test loss; get
//! the decision boundary and the loss curves as pictures.
//!
//! cargo run --release --example playground                     # spiral, the hardest set
//! cargo run --release --example playground -- --data circle --features x1sq,x2sq --hidden ""
//! cargo run --release --example playground -- --data xor --hidden 4 --activation relu --regularization l2

use std::time::Instant;

use tapegrad::datasets::{Feature, Pattern, Playground, Point};
use tapegrad::optim::{l1_penalty, l2_penalty};
use tapegrad::plot::{DecisionBoundary, LineChart};
use tapegrad::prelude::*;
use tapegrad::{Objective, ProgressBar, evaluate};

use common::{Flags, fail, output_dir, print_final};

const USAGE: &str = "playground: train a small network on the TensorFlow Playground's data sets
usage: cargo run --release --example playground -- [flags]";

#[allow(dead_code)] // unused where tests include this file to run it
fn main() {
    run(std::env::args().skip(1).collect());
}

/// Runs the example with `args` as its flags, prints as it goes, and returns the metrics of
/// its `final:` line.
pub fn run(args: Vec<String>) -> Vec<(&'static str, f64)> {
    let mut flags = Flags::parse(USAGE, args);
    let data: String = flags.get("data", "spiral".to_string(), "circle, xor, gauss, spiral, plane or multigauss");
    let noise: u32 = flags.get("noise", 0, "noise, 0 to 50, as the Playground's slider");
    let train_percent: u32 = flags.get("train-percent", 50, "percent of the points used for training");
    let features: String = flags.get(
        "features",
        "x1,x2,x1sq,x2sq,x1x2,sinx1,sinx2".to_string(),
        "inputs: x1, x2, x1sq, x2sq, x1x2, sinx1, sinx2 (comma-separated)",
    );
    let hidden: String = flags.get("hidden", "16,16".to_string(), "neurons per hidden layer, e.g. 4,2 (empty: none)");
    let activation: Activation = flags.get("activation", Activation::Tanh, "relu, tanh, sigmoid or linear");
    let optimizer: String = flags.get("optimizer", "adam".to_string(), "adam or sgd");
    let lr: f64 = flags.get("lr", 0.01, "learning rate");
    let regularization: String = flags.get("regularization", "none".to_string(), "none, l1 or l2");
    let reg_rate: f64 = flags.get("reg-rate", 0.0, "regularization rate");
    let batch_size: usize =
        flags.get("batch-size", 10, "samples per step (1: stochastic; the training set's size: full batch)");
    let epochs: usize = flags.get("epochs", 300, "passes over the training data");
    let seed: u64 = flags.get("seed", 1, "seed for the data, the weights and the shuffling");
    let out = flags.optional("out", "folder for the pictures");
    flags.finish();

    let pattern = parse_pattern(&data);
    let features: Vec<Feature> = features.split(',').filter(|f| !f.is_empty()).map(parse_feature).collect();
    if features.is_empty() {
        fail("--features: choose at least one input");
    }
    let widths: Vec<usize> = hidden
        .split(',')
        .filter(|w| !w.trim().is_empty())
        .map(|w| w.trim().parse().unwrap_or_else(|e| fail(&format!("--hidden {w:?}: {e}"))))
        .collect();
    let playground = Playground::new(pattern).noise(noise).train_percent(train_percent).seed(seed);
    let points = playground.points();
    let sets = playground.datasets(&features);
    let classify = pattern.is_classification();
    let objective = if classify { Objective::CrossEntropy } else { Objective::MeanSquaredError };

    // The network: inputs → hidden layers with the activation → 2 class scores or 1 value.
    let mut rng = StdRng::seed_from_u64(seed);
    let mut model = Sequential::new();
    let mut width = features.len();
    for &w in &widths {
        model = model.add(Linear::new(width, w, &mut rng)).add(activation);
        width = w;
    }
    model = model.add(Linear::new(width, if classify { 2 } else { 1 }, &mut rng));
    let mut optimizer: Box<dyn Optimizer<f32>> = match optimizer.as_str() {
        "adam" => Box::new(
            Adam::new(model.parameters(), AdamConfig { lr, ..Default::default() })
                .unwrap_or_else(|e| fail(&e.to_string())),
        ),
        "sgd" => Box::new(
            Sgd::new(model.parameters(), SgdConfig { lr, ..Default::default() })
                .unwrap_or_else(|e| fail(&e.to_string())),
        ),
        other => fail(&format!("--optimizer {other:?}: expected adam or sgd")),
    };
    let penalty = |params: &[Tensor]| match regularization.as_str() {
        "l1" => Some(l1_penalty(params, reg_rate)),
        "l2" => Some(l2_penalty(params, reg_rate)),
        "none" => None,
        other => fail(&format!("--regularization {other:?}: expected none, l1 or l2")),
    };
    penalty(&[]); // check the flag before training

    println!(
        "{data}: {} training and {} test points, noise {noise}; inputs {}; hidden layers {widths:?} ({activation}); {} parameters",
        sets.train.len(),
        sets.test.len(),
        features.iter().map(|f| f.name()).collect::<Vec<_>>().join(", "),
        model.num_parameters()
    );

    // The training loop, written out: it is the lesson.
    let loader = DataLoader::new(&sets.train, batch_size).shuffle(seed);
    let mut bar = ProgressBar::new(epochs as u64).prefix("epochs");
    let (mut train_curve, mut test_curve) = (Vec::new(), Vec::new());
    let start = Instant::now();
    for epoch in 0..epochs {
        for batch in loader.epoch(epoch) {
            let mut loss = objective.loss(&model.forward(&batch.inputs), &batch.targets);
            if let Some(p) = penalty(&model.parameters()) {
                loss = loss + p;
            }
            optimizer.zero_grad();
            loss.backward();
            optimizer.step();
        }
        let train = evaluate(&model, &sets.train, objective, 1024);
        let test = evaluate(&model, &sets.test, objective, 1024);
        train_curve.push((epoch as f64 + 1.0, train.loss));
        test_curve.push((epoch as f64 + 1.0, test.loss));
        bar.set_message(format!("train loss {:.4}, test loss {:.4}", train.loss, test.loss));
        bar.inc(1);
    }
    let seconds = start.elapsed().as_secs_f64();
    bar.finish();

    let dir = output_dir(out, "playground");
    let boundary = dir.join(format!("{data}-boundary.png"));
    draw_boundary(&model, &features, &points.train, &points.test, classify, &data, &boundary);
    let curve = dir.join(format!("{data}-loss.png"));
    LineChart::new()
        .title(&format!("{data}: loss per epoch"))
        .x_label("epoch")
        .y_label("loss")
        .log_y()
        .series("train", &train_curve)
        .series("test", &test_curve)
        .save_png(&curve)
        .unwrap_or_else(|e| fail(&e.to_string()));
    println!("wrote {} and {}", boundary.display(), curve.display());

    let test = evaluate(&model, &sets.test, objective, 1024);
    let samples_per_s = (epochs * sets.train.len()) as f64 / seconds;
    let metrics = if classify {
        vec![("test_accuracy", test.metric), ("test_loss", test.loss)]
    } else {
        vec![("test_rmse", test.metric), ("test_r2", r_squared(&model, &sets.test))]
    };
    print_final(&metrics, epochs, seconds, samples_per_s);
    metrics
}

/// The network's output over the plane (probability of class 1, or the value), with the
/// points on top: the Playground's picture.
fn draw_boundary(
    model: &Sequential,
    features: &[Feature],
    train: &[Point],
    test: &[Point],
    classify: bool,
    name: &str,
    path: &std::path::Path,
) {
    let (n, range) = (120, (-6.0, 6.0));
    let chart = DecisionBoundary::new(range, range);
    let grid: Vec<Point> = chart.grid_points(n, n).iter().map(|&(x1, x2)| Point { x1, x2, label: 0.0 }).collect();
    let inputs = tapegrad::datasets::feature_matrix(&grid, features);
    let outputs = no_grad(|| model.forward(&inputs));
    let surface: Vec<f32> = if classify { outputs.softmax(1).narrow(1, 1, 1).to_vec() } else { outputs.to_vec() };
    let chart = chart.title(&format!("{name}: the network's output")).surface(n, n, &surface);
    let chart = if classify {
        let class = |p: &Point| usize::from(p.label > 0.0);
        let mut marks: Vec<(f64, f64, usize, bool)> = train.iter().map(|p| (p.x1, p.x2, class(p), false)).collect();
        marks.extend(test.iter().map(|p| (p.x1, p.x2, class(p), true)));
        chart.points(&marks)
    } else {
        let mut marks: Vec<(f64, f64, f64, bool)> = train.iter().map(|p| (p.x1, p.x2, p.label, false)).collect();
        marks.extend(test.iter().map(|p| (p.x1, p.x2, p.label, true)));
        chart.regression_points(&marks)
    };
    chart.save_png(path).unwrap_or_else(|e| fail(&e.to_string()));
}

fn r_squared(model: &Sequential, data: &Dataset) -> f64 {
    let predicted = no_grad(|| model.forward(&data.inputs));
    tapegrad::nn::r2_score(&predicted, data.targets.values().expect("regression targets"))
}

fn parse_pattern(name: &str) -> Pattern {
    match name {
        "circle" => Pattern::Circle,
        "xor" => Pattern::Xor,
        "gauss" | "gaussians" => Pattern::TwoGaussians,
        "spiral" => Pattern::Spiral,
        "plane" => Pattern::Plane,
        "multigauss" | "multi-gaussian" => Pattern::MultiGaussian,
        other => fail(&format!("--data {other:?}: expected circle, xor, gauss, spiral, plane or multigauss")),
    }
}

fn parse_feature(name: &str) -> Feature {
    match name.trim() {
        "x1" => Feature::X1,
        "x2" => Feature::X2,
        "x1sq" | "x1^2" => Feature::X1Squared,
        "x2sq" | "x2^2" => Feature::X2Squared,
        "x1x2" => Feature::X1X2,
        "sinx1" => Feature::SinX1,
        "sinx2" => Feature::SinX2,
        other => fail(&format!("--features: unknown input {other:?}; expected x1, x2, x1sq, x2sq, x1x2, sinx1, sinx2")),
    }
}
