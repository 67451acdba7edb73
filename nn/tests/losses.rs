//! Losses against values worked out by hand, their gradients against finite differences,
//! and their refusals of bad input.

use std::panic::{AssertUnwindSafe, catch_unwind};

use rand::SeedableRng;
use rand::rngs::StdRng;
use tapegrad_autograd::{GradcheckOptions, Indices, Tensor, gradcheck};
use tapegrad_nn::*;

fn t(values: &[f64], shape: &[usize]) -> Tensor<f64> {
    Tensor::from_vec(values.to_vec(), shape).unwrap()
}

fn message(f: impl FnOnce()) -> String {
    let payload = catch_unwind(AssertUnwindSafe(f)).expect_err("should panic");
    payload.downcast_ref::<String>().cloned().unwrap_or_default()
}

#[test]
fn cross_entropy_of_the_lessons_predictions() {
    // Targets y = [0, 1] (one-hot): the loss is −ln of the probability given to class 1.
    for (p1, expected) in [(0.9f64, -(0.9f64).ln()), (0.5, 2f64.ln()), (0.1, -(0.1f64).ln())] {
        let probs = t(&[1.0 - p1, p1], &[1, 2]);
        let from_log_probs = nll_loss(&probs.ln(), &Indices::from(vec![1]), Reduction::Mean).item();
        assert!((from_log_probs - expected).abs() < 1e-12);
        let from_soft = cross_entropy_soft(&probs.ln(), &t(&[0.0, 1.0], &[1, 2]), Reduction::Mean).item();
        assert!((from_soft - expected).abs() < 1e-12);
    }
}

#[test]
fn regression_losses_by_hand() {
    let (p, y) = (t(&[1.0, 2.0, 5.0], &[3]), t(&[1.5, 2.0, 2.0], &[3]));
    assert_eq!(mse_loss(&p, &y, Reduction::Mean).item(), (0.25 + 0.0 + 9.0) / 3.0);
    assert_eq!(mse_loss(&p, &y, Reduction::Sum).item(), 9.25);
    assert_eq!(l1_loss(&p, &y, Reduction::None).to_vec(), vec![0.5, 0.0, 3.0]);
    assert_eq!(huber_loss(&p, &y, 1.0, Reduction::None).to_vec(), vec![0.125, 0.0, 2.5]);
}

#[test]
fn cross_entropy_is_exact_at_huge_logits() {
    let logits = t(&[1000.0, -1000.0, 0.0, -1000.0, 1000.0, 0.0], &[2, 3]);
    let per_row = cross_entropy(&logits, &Indices::from(vec![0, 0]), Reduction::None).to_vec();
    assert_eq!(per_row, vec![0.0, 2000.0]);
    let logits = logits.requires_grad();
    cross_entropy(&logits, &Indices::from(vec![0, 0]), Reduction::Mean).backward();
    assert!(logits.grad().unwrap().to_vec().iter().all(|g| g.is_finite()));
}

#[test]
fn binary_cross_entropy_forms_agree() {
    let logits = t(&[-2.0, 0.3, 4.0], &[3]);
    let y = t(&[0.0, 1.0, 1.0], &[3]);
    let a = binary_cross_entropy_with_logits(&logits, &y, Reduction::Mean).item();
    let b = binary_cross_entropy(&logits.sigmoid(), &y, Reduction::Mean).item();
    assert!((a - b).abs() < 1e-12);
    // clamped log: a confident wrong answer costs 100
    assert_eq!(binary_cross_entropy(&t(&[0.0], &[1]), &t(&[1.0], &[1]), Reduction::Sum).item(), 100.0);
}

#[test]
fn every_loss_matches_finite_differences() {
    let mut rng = StdRng::seed_from_u64(5);
    let options = GradcheckOptions::default();
    let p = Tensor::<f64>::uniform(&[4, 3], -2.0, 2.0, &mut rng);
    let y = Tensor::<f64>::uniform(&[4, 3], -2.0, 2.0, &mut rng);
    let labels = Indices::from(vec![2, 0, 1, 1]);
    let soft = Tensor::<f64>::uniform(&[4, 3], 0.0, 1.0, &mut rng).softmax(1);
    let unit = Tensor::<f64>::uniform(&[4, 3], 0.05, 0.95, &mut rng);
    type Loss = Box<dyn Fn(&[Tensor<f64>]) -> Tensor<f64>>;
    let checks: Vec<(&str, Loss)> = vec![
        ("mse", Box::new(|x| mse_loss(&x[0], &x[1], Reduction::Mean))),
        ("l1", Box::new(|x| l1_loss(&x[0], &x[1], Reduction::Sum))),
        ("huber", Box::new(|x| huber_loss(&x[0], &x[1], 0.7, Reduction::Mean))),
        ("bce_logits", Box::new(|x| binary_cross_entropy_with_logits(&x[0], &x[1].sigmoid(), Reduction::Mean))),
    ];
    for (name, f) in &checks {
        gradcheck(f, &[p.clone(), y.clone()], &options).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    let l = labels.clone();
    gradcheck(|x| cross_entropy(&x[0], &l, Reduction::Mean), std::slice::from_ref(&p), &options).unwrap();
    gradcheck(|x| cross_entropy(&x[0], &l, Reduction::None), std::slice::from_ref(&p), &options).unwrap();
    gradcheck(|x| nll_loss(&x[0].log_softmax(1), &l, Reduction::Sum), std::slice::from_ref(&p), &options).unwrap();
    gradcheck(|x| cross_entropy_soft(&x[0], &x[1], Reduction::Mean), &[p.clone(), soft], &options).unwrap();
    gradcheck(|x| binary_cross_entropy(&x[0], &x[1], Reduction::Mean), &[unit.clone(), unit], &options).unwrap();
}

#[test]
fn mismatched_shapes_are_refused_not_broadcast() {
    let (p, y) = (Tensor::<f32>::zeros(&[64, 1]), Tensor::<f32>::zeros(&[64]));
    let m = message(|| drop(mse_loss(&p, &y, Reduction::Mean)));
    assert!(m.starts_with("mse_loss: prediction [64, 1] and target [64] differ in shape"), "{m}");
}

#[test]
fn class_out_of_range_names_row_class_and_count() {
    let logits = Tensor::<f32>::zeros(&[4, 10]);
    let m = message(|| drop(cross_entropy(&logits, &Indices::from(vec![1, 2, 12, 3]), Reduction::Mean)));
    assert_eq!(m, "cross_entropy: target class 12 at row 2 is out of range for 10 classes (scores [4, 10])");
    let m = message(|| drop(cross_entropy(&logits, &Indices::from(vec![1, 2]), Reduction::Mean)));
    assert_eq!(m, "cross_entropy: scores [4, 10] need one target per row, [4]; got targets [2]");
}
