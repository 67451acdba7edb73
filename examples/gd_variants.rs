//! Gradient descent three ways, as the course contrasts them: the same network from the
//! same start, trained with the same learning rate for the same number of epochs on
//! full batches, mini-batches and single samples (stochastic). The batch size is the only
//! difference: it sets how many updates an epoch makes and how noisy each one is.
//!
//! cargo run --release --example gd_variants

use std::time::Instant;

use tapegrad::datasets::{Feature, Pattern, Playground};
use tapegrad::plot::LineChart;
use tapegrad::prelude::*;
use tapegrad::{Objective, evaluate};

use common::{Flags, fail, output_dir, print_final};

const USAGE: &str = "gd_variants: full-batch, mini-batch and stochastic gradient descent side by side
usage: cargo run --release --example gd_variants -- [flags]";

fn main() {
    let mut flags = Flags::parse(USAGE, std::env::args().skip(1).collect());
    let epochs: usize = flags.get("epochs", 40, "passes over the training data, for each variant");
    let lr: f64 = flags.get("lr", 0.05, "learning rate, the same for all three");
    let mini_batch: usize = flags.get("mini-batch", 32, "the mini-batch size");
    let seed: u64 = flags.get("seed", 3, "seed for the data, the weights and the shuffling");
    let out = flags.optional("out", "folder for the picture");
    flags.finish();

    let data = Playground::new(Pattern::Circle).noise(10).seed(seed).datasets(&[Feature::X1, Feature::X2]);
    let n = data.train.len();
    println!("circle, {n} training points; MLP 2 → 8 (tanh) → 2; plain SGD, lr {lr}, {epochs} epochs each\n");
    println!(
        "{:<12} {:>6} {:>8} {:>11} {:>10} {:>9} {:>12}",
        "variant", "batch", "updates", "train loss", "test acc", "seconds", "µs/update"
    );

    let mut curves = Vec::new();
    let mut last = (0.0, 0.0);
    for (name, batch_size) in [("full batch", n), ("mini-batch", mini_batch), ("stochastic", 1)] {
        let mut rng = StdRng::seed_from_u64(seed); // the same start for all three
        let model = Sequential::new().add(Linear::new(2, 8, &mut rng)).add(Tanh).add(Linear::new(8, 2, &mut rng));
        let mut sgd = Sgd::new(model.parameters(), SgdConfig { lr, ..Default::default() })
            .unwrap_or_else(|e| fail(&e.to_string()));
        let loader = DataLoader::new(&data.train, batch_size).shuffle(seed);
        let (mut updates, mut curve, mut seconds) = (0, Vec::new(), 0.0);
        for epoch in 0..epochs {
            let start = Instant::now();
            for batch in loader.epoch(epoch) {
                sgd.zero_grad();
                Objective::CrossEntropy.loss(&model.forward(&batch.inputs), &batch.targets).backward();
                sgd.step();
                updates += 1;
            }
            seconds += start.elapsed().as_secs_f64();
            curve.push((epoch as f64 + 1.0, evaluate(&model, &data.train, Objective::CrossEntropy, n).loss));
        }
        let test = evaluate(&model, &data.test, Objective::CrossEntropy, n);
        let train_loss = curve.last().map_or(f64::NAN, |c| c.1);
        println!(
            "{name:<12} {batch_size:>6} {updates:>8} {train_loss:>11.4} {:>10.3} {seconds:>9.3} {:>12.1}",
            test.metric,
            seconds / updates as f64 * 1e6
        );
        curves.push((name, curve));
        last = (test.metric, seconds);
    }
    println!("\nPer epoch, smaller batches make more (noisier, cheaper) updates: the loss falls faster per epoch,");
    println!("but each epoch costs more time. Full-batch descent is smooth but makes one update per epoch.");

    let mut chart = LineChart::new()
        .title("training loss per epoch: full batch, mini-batch, stochastic")
        .x_label("epoch")
        .y_label("loss")
        .log_y();
    for (name, curve) in &curves {
        chart = chart.series(name, curve);
    }
    let path = output_dir(out, "gd_variants").join("loss.png");
    chart.save_png(&path).unwrap_or_else(|e| fail(&e.to_string()));
    println!("wrote {}", path.display());
    print_final(&[("test_accuracy", last.0)], epochs, last.1, (epochs * n) as f64 / last.1.max(1e-9));
}
