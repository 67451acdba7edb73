//! Whole training runs with nn, optim and datasets together: the course's classic problems
//! are learned, and checkpoints restore and resume exactly.

use std::collections::BTreeMap;

use tapegrad::datasets::{Feature, Pattern, Playground};
use tapegrad::nn::checkpoint::{load_into, save_params};
use tapegrad::prelude::*;
use tapegrad::{Fit, Objective, evaluate, load_training, save_training};

#[test]
fn a_two_layer_mlp_learns_xor() {
    let x = Tensor::from_vec(vec![0.0f32, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0], &[4, 2]).unwrap();
    let y = Indices::from(vec![0, 1, 1, 0]);
    let mut rng = StdRng::seed_from_u64(3);
    let model = Sequential::new().add(Linear::new(2, 4, &mut rng)).add(Tanh).add(Linear::new(4, 2, &mut rng));
    let mut opt = Adam::new(model.parameters(), AdamConfig { lr: 0.05, ..Default::default() }).unwrap();
    for _ in 0..300 {
        opt.zero_grad();
        cross_entropy(&model.forward(&x), &y, Reduction::Mean).backward();
        opt.step();
    }
    let logits = no_grad(|| model.forward(&x));
    assert_eq!(logits.argmax(1, false).to_vec(), vec![0, 1, 1, 0]);
    assert!(cross_entropy(&logits, &y, Reduction::Mean).item() < 0.05);
}

#[test]
fn an_mlp_separates_the_spiral_on_held_out_points() {
    let data = Playground::new(Pattern::Spiral).samples(1000).noise(0).train_percent(70).seed(5).datasets(&[
        Feature::X1,
        Feature::X2,
        Feature::SinX1,
        Feature::SinX2,
    ]);
    let mut rng = StdRng::seed_from_u64(1);
    let mut model = Sequential::new()
        .add(Linear::new(4, 32, &mut rng))
        .add(Tanh)
        .add(Linear::new(32, 32, &mut rng))
        .add(Tanh)
        .add(Linear::new(32, 2, &mut rng));
    let mut adam = Adam::new(model.parameters(), AdamConfig { lr: 0.01, ..Default::default() }).unwrap();
    let history = Fit::new(&mut model, &mut adam, Objective::CrossEntropy)
        .epochs(150)
        .batch_size(32)
        .shuffle(2)
        .validation_data(&data.test)
        .run(&data.train);
    let test_accuracy = history.last().unwrap().val_metric.unwrap();
    assert!(test_accuracy >= 0.97, "held-out spiral accuracy {test_accuracy}");
}

#[test]
fn linear_regression_recovers_known_weights() {
    // y = 3·x1 − 2·x2 + 0.5·x3 + 1, with a little noise
    let mut rng = StdRng::seed_from_u64(9);
    let x = Tensor::<f32>::randn(&[500, 3], &mut rng);
    let truth = Tensor::from_vec(vec![3.0f32, -2.0, 0.5], &[3, 1]).unwrap();
    let y = x.matmul(&truth) + 1.0 + Tensor::<f32>::randn(&[500, 1], &mut rng) * 0.01;
    let model: Linear = Linear::new(3, 1, &mut rng);
    let mut sgd = Sgd::new(model.parameters(), SgdConfig { lr: 0.1, ..Default::default() }).unwrap();
    for _ in 0..300 {
        sgd.zero_grad();
        mse_loss(&model.forward(&x), &y, Reduction::Mean).backward();
        sgd.step();
    }
    for (w, t) in model.weight().to_vec().iter().zip([3.0, -2.0, 0.5]) {
        assert!((w - t).abs() < 0.01, "weight {w} vs {t}");
    }
    assert!((model.bias().unwrap().item() - 1.0).abs() < 0.01);
}

fn mlp(seed: u64) -> Sequential {
    let mut rng = StdRng::seed_from_u64(seed);
    Sequential::new().add(Linear::new(5, 16, &mut rng)).add(ReLU).add(Linear::new(16, 3, &mut rng))
}

fn batch(i: usize) -> (Tensor, Indices) {
    let mut rng = StdRng::seed_from_u64(100 + i as u64);
    let x = Tensor::randn(&[8, 5], &mut rng);
    let y = Indices::from((0..8).map(|j| (i + j) % 3).collect::<Vec<_>>());
    (x, y)
}

fn train_steps(model: &Sequential, opt: &mut dyn Optimizer<f32>, steps: std::ops::Range<usize>) {
    for i in steps {
        let (x, y) = batch(i);
        opt.zero_grad();
        cross_entropy(&model.forward(&x), &y, Reduction::Mean).backward();
        opt.step();
    }
}

fn bits(model: &Sequential) -> Vec<Vec<u32>> {
    model.parameters().iter().map(|p| p.to_vec().iter().map(|v| v.to_bits()).collect()).collect()
}

#[test]
fn save_then_load_gives_identical_outputs() {
    let dir = std::env::temp_dir().join(format!("tapegrad-training-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("mlp.safetensors");
    let trained = mlp(1);
    let mut sgd = Sgd::new(trained.parameters(), SgdConfig { lr: 0.1, ..Default::default() }).unwrap();
    train_steps(&trained, &mut sgd, 0..5);
    save_params(&path, &trained.named_parameters(), &BTreeMap::new()).unwrap();
    let fresh = mlp(2);
    load_into(&path, &fresh.named_parameters()).unwrap();
    let x = batch(99).0;
    assert_eq!(no_grad(|| trained.forward(&x)).to_vec(), no_grad(|| fresh.forward(&x)).to_vec());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn resuming_from_a_checkpoint_is_bit_identical_to_an_uninterrupted_run() {
    let dir = std::env::temp_dir().join(format!("tapegrad-resume-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("run.safetensors");
    let config = AdamConfig { lr: 0.01, weight_decay: 1e-3, ..Default::default() };

    let straight = mlp(7);
    let mut adam = Adam::new(straight.parameters(), config.clone()).unwrap();
    train_steps(&straight, &mut adam, 0..20);

    let first = mlp(7);
    let mut adam1 = Adam::new(first.parameters(), config.clone()).unwrap();
    train_steps(&first, &mut adam1, 0..10);
    save_training(&path, &first, &adam1, &BTreeMap::from([("step".to_string(), "10".to_string())])).unwrap();
    drop((first, adam1));

    let resumed = mlp(123); // different initial weights: all must come from the file
    let mut adam2 = Adam::new(resumed.parameters(), config).unwrap();
    let metadata = load_training(&path, &resumed, &mut adam2).unwrap();
    assert_eq!(metadata["step"], "10");
    train_steps(&resumed, &mut adam2, 10..20);
    assert_eq!(bits(&resumed), bits(&straight));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn resuming_into_the_wrong_model_is_refused_and_changes_nothing() {
    let dir = std::env::temp_dir().join(format!("tapegrad-resume-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("run.safetensors");
    let model = mlp(1);
    let adam = Adam::new(model.parameters(), AdamConfig::default()).unwrap();
    save_training(&path, &model, &adam, &BTreeMap::new()).unwrap();
    let mut rng = StdRng::seed_from_u64(0);
    let other = Sequential::new().add(Linear::new(5, 8, &mut rng)).add(ReLU).add(Linear::new(8, 3, &mut rng));
    let before = other.parameters()[0].to_vec();
    let mut adam_other = Adam::new(other.parameters(), AdamConfig::default()).unwrap();
    let err = load_training(&path, &other, &mut adam_other).unwrap_err().to_string();
    assert!(err.contains("0.weight") && err.contains("[8, 5]") && err.contains("[16, 5]"), "{err}");
    assert_eq!(other.parameters()[0].to_vec(), before);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The validation part of `validation_split(0.25, 1)`.
fn history_validation(train: &Dataset) -> Dataset {
    train.split(0.25, 1).1
}

#[test]
fn fit_reports_and_stops_early() {
    // Overlapping classes and a network big enough to memorise the noise: it overfits.
    let data =
        Playground::new(Pattern::TwoGaussians).samples(200).noise(50).seed(4).datasets(&[Feature::X1, Feature::X2]);
    let mut rng = StdRng::seed_from_u64(0);
    let mut model = Sequential::new()
        .add(Linear::new(2, 64, &mut rng))
        .add(ReLU)
        .add(Linear::new(64, 64, &mut rng))
        .add(ReLU)
        .add(Linear::new(64, 2, &mut rng));
    let mut adam = Adam::new(model.parameters(), AdamConfig { lr: 0.02, ..Default::default() }).unwrap();
    let history = Fit::new(&mut model, &mut adam, Objective::CrossEntropy)
        .epochs(200)
        .batch_size(20)
        .validation_split(0.25, 1)
        .early_stopping(3)
        .run(&data.train);
    assert!(history.stopped_early, "overfitting noise should stop the run well before 200 epochs");
    let best = history.best_epoch.unwrap();
    let best_val = history.epochs[best - 1].val_loss.unwrap();
    assert!(history.epochs.iter().all(|r| r.val_loss.unwrap() >= best_val));
    let evaluated = evaluate(&model, &data.test, Objective::CrossEntropy, 64);
    let restored = evaluate(&model, &history_validation(&data.train), Objective::CrossEntropy, 64);
    assert!(
        (restored.loss - best_val).abs() < 1e-6,
        "the best epoch's weights are restored: {} vs {best_val}",
        restored.loss
    );
    assert!(evaluated.metric > 0.6, "test accuracy {}", evaluated.metric);
    let csv = history.to_csv();
    assert_eq!(csv.lines().count(), history.epochs.len() + 1);
    assert!(csv.starts_with("epoch,train_loss,train_accuracy,val_loss,val_accuracy"));
}
