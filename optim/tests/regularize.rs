//! L1 and L2 penalties: their gradients (gradcheck in f64, and the Playground's formulas),
//! L2's equivalence with SGD's weight decay, and what each does to a linear classifier
//! whose data has 2 informative and 3 noise features: L1 drives the noise weights to
//! (nearly) zero, L2 only shrinks them.

mod common;

use rand::SeedableRng;
use rand::rngs::StdRng;
use tapegrad_autograd::{GradcheckOptions, Tensor, gradcheck};
use tapegrad_optim::{CosineAnnealingLR, Optimizer, Scheduler, Sgd, SgdConfig, l1_penalty, l2_penalty};

#[derive(Clone, Copy, Debug, PartialEq)]
enum Penalty {
    None,
    L1,
    L2,
}

/// A linearly separable set: 5 standard-normal features, label sign(2x₀ − x₁), so
/// features 2, 3, 4 are noise.
fn toy_set(n: usize, seed: u64) -> (Tensor<f64>, Tensor<f64>) {
    let mut rng = StdRng::seed_from_u64(seed);
    let x = Tensor::<f64>::randn(&[n, 5], &mut rng);
    let rows = x.to_vec();
    let labels = rows.chunks(5).map(|r| if 2.0 * r[0] - r[1] > 0.0 { 1.0 } else { -1.0 }).collect();
    (x, Tensor::from_vec(labels, &[n, 1]).unwrap())
}

/// Trains logistic regression with full-batch SGD, the learning rate annealed from `lr` to 0
/// along a cosine; returns the weights and the training accuracy.
fn train(penalty: Penalty, rate: f64, lr: f64, steps: usize) -> (Vec<f64>, f64) {
    let (x, y) = toy_set(400, 42);
    let w = Tensor::<f64>::full(&[5, 1], 0.1).requires_grad();
    let b = Tensor::<f64>::zeros(&[1]).requires_grad();
    let mut opt = Sgd::new(vec![w.clone(), b.clone()], SgdConfig { lr, ..SgdConfig::default() }).unwrap();
    let mut schedule = CosineAnnealingLR::new(&opt, steps, 0.0).unwrap();
    for _ in 0..steps {
        opt.zero_grad();
        let margin = &y * (x.matmul(&w) + &b);
        let data_loss = (-margin).softplus().mean(); // logistic loss
        let loss = match penalty {
            Penalty::None => data_loss,
            Penalty::L1 => data_loss + l1_penalty(std::slice::from_ref(&w), rate),
            Penalty::L2 => data_loss + l2_penalty(std::slice::from_ref(&w), rate),
        };
        loss.backward();
        opt.step();
        schedule.step(&mut opt);
    }
    let predictions = (x.matmul(&w) + &b).to_vec();
    let correct = predictions.iter().zip(y.to_vec()).filter(|(p, y)| *p * y > 0.0).count();
    (w.to_vec(), correct as f64 / 400.0)
}

#[test]
fn l1_zeroes_noise_weights_while_l2_only_shrinks_them() {
    // Same data, start, rate (0.02) and schedule (lr 0.5 annealed to 0 over 3000 steps).
    // Observed: none  w ≈ [10.09, −5.23, 0.069, −0.190, −0.199]
    //           L1    w ≈ [ 4.21, −2.04, −6e-9, −7e-8, −2e-8]
    //           L2    w ≈ [ 2.58, −1.32, 0.027, −0.106, −0.092]
    let (none, none_accuracy) = train(Penalty::None, 0.0, 0.5, 3000);
    let (l1, l1_accuracy) = train(Penalty::L1, 0.02, 0.5, 3000);
    let (l2, l2_accuracy) = train(Penalty::L2, 0.02, 0.5, 3000);
    println!("none: w = {none:.6?}, accuracy {none_accuracy}");
    println!("L1:   w = {:?}, accuracy {l1_accuracy}", l1.iter().map(|v| format!("{v:.2e}")).collect::<Vec<_>>());
    println!("L2:   w = {l2:.6?}, accuracy {l2_accuracy}");
    for accuracy in [none_accuracy, l1_accuracy, l2_accuracy] {
        assert!(accuracy >= 0.97, "every model still classifies the training set: {accuracy}");
    }
    // Both penalties keep the informative weights large and in the 2 : −1 ratio of the rule.
    for w in [&l1, &l2] {
        assert!(w[0] > 2.0 && w[1] < -1.0 && (w[0] / w[1] + 2.0).abs() < 0.1, "{w:?}");
    }
    for j in 2..5 {
        // L1: the noise weights are (nearly) exactly zero: below 1e-6, six orders of
        // magnitude under the informative ones.
        assert!(l1[j].abs() < 1e-6, "L1 noise weight {j}: {}", l1[j]);
        // L2: shrunk from the unregularized run, but not zeroed (still above 1e-2).
        assert!(l2[j].abs() < none[j].abs(), "L2 shrinks weight {j}: {} vs {}", l2[j], none[j]);
        assert!(l2[j].abs() > 1e-2, "L2 does not zero weight {j}: {}", l2[j]);
    }
    // L2 shrinks noise and signal alike: the largest noise weight relative to w₀ does not
    // fall (it rises here), while L1 removes it.
    let noise_ratio = |w: &[f64]| w[2..].iter().map(|v| v.abs()).fold(0.0, f64::max) / w[0].abs();
    assert!(noise_ratio(&l2) >= noise_ratio(&none), "{} vs {}", noise_ratio(&l2), noise_ratio(&none));
    assert!(noise_ratio(&l1) < 1e-5 * noise_ratio(&none));
}

#[test]
fn penalty_gradients_pass_gradcheck() {
    let mut rng = StdRng::seed_from_u64(3);
    // Away from 0, where |θ| has its kink and finite differences are wrong.
    let away_from_zero = |t: Tensor<f64>| {
        let v = t.to_vec().into_iter().map(|x| if x.abs() < 0.1 { x.signum() * 0.1 + x } else { x }).collect();
        Tensor::from_vec(v, t.shape()).unwrap()
    };
    let a = away_from_zero(Tensor::randn(&[3, 4], &mut rng));
    let b = away_from_zero(Tensor::randn(&[5], &mut rng));
    let options = GradcheckOptions::default();
    gradcheck(|ps| l1_penalty(ps, 0.3), &[a.clone(), b.clone()], &options).unwrap();
    gradcheck(|ps| l2_penalty(ps, 0.3), &[a.clone(), b.clone()], &options).unwrap();
    // Composed with a data term, as in training.
    gradcheck(|ps| (&ps[0] * &ps[0]).sum().tanh() + l1_penalty(ps, 0.05) + l2_penalty(ps, 0.7), &[a, b], &options)
        .unwrap();
}

#[test]
fn penalties_follow_the_playgrounds_formulas() {
    // Playground: L1 output |w|, der sign(w); L2 output ½w², der w; both times the rate.
    let values = vec![0.5f64, -2.0, 0.0, 3.0];
    let w = Tensor::from_vec(values.clone(), &[2, 2]).unwrap().requires_grad();
    let rate = 0.1;
    let l1 = l1_penalty(std::slice::from_ref(&w), rate);
    assert!((l1.item() - rate * 5.5).abs() < 1e-15);
    l1.backward();
    assert_eq!(w.grad().unwrap().to_vec(), vec![0.1, -0.1, 0.0, 0.1], "rate · sign(w), 0 at 0");
    w.zero_grad();
    let l2 = l2_penalty(std::slice::from_ref(&w), rate);
    assert!((l2.item() - rate * 0.5 * (0.25 + 4.0 + 9.0)).abs() < 1e-15);
    l2.backward();
    let expected: Vec<f64> = values.iter().map(|v| rate * v).collect();
    assert_eq!(w.grad().unwrap().to_vec(), expected, "rate · w");
}

#[test]
fn penalties_of_no_parameters_are_zero() {
    assert_eq!(l1_penalty::<f32>(&[], 0.5).item(), 0.0);
    assert_eq!(l2_penalty::<f32>(&[], 0.5).item(), 0.0);
}

#[test]
#[should_panic(expected = "l2_penalty: rate -0.1 must be finite and ≥ 0")]
fn a_negative_rate_panics() {
    l2_penalty::<f32>(&[], -0.1);
}

#[test]
fn l2_penalty_is_sgd_weight_decay() {
    // SGD's coupled weight_decay λ adds λθ to the gradient; l2_penalty(λ) adds ∂(½λ‖θ‖²) =
    // λθ. With momentum the two runs must agree to rounding.
    let problem = || common::Problem::<f64>::new("mlp");
    let config = SgdConfig { lr: 0.1, momentum: 0.9, ..SgdConfig::default() };
    let (decayed, penalized) = (problem(), problem());
    let mut a = Sgd::new(decayed.params.clone(), SgdConfig { weight_decay: 0.05, ..config.clone() }).unwrap();
    let mut b = Sgd::new(penalized.params.clone(), config).unwrap();
    for _ in 0..20 {
        decayed.train_step(&mut a);
        b.zero_grad();
        (penalized.loss() + l2_penalty(&penalized.params, 0.05)).backward();
        b.step();
    }
    for (p, q) in decayed.params.iter().zip(&penalized.params) {
        let (p, q) = (p.to_vec(), q.to_vec());
        assert!(common::deviation(&p, &q) < 1e-13, "{p:?} vs {q:?}");
    }
}
