//! Every optimizer against PyTorch: 20 steps from the same start on the reference quadratic
//! and MLP (tests/reference/), every parameter compared after every step.
//!
//! Tolerance: |tapegrad − torch| ≤ 1e-6 · (1 + |torch|) in f64 (absolute near zero,
//! relative for large values); 1e-4 · (1 + |torch|) for the f32 runs, whose rounding
//! differs from PyTorch's vectorized f32 kernels. The observed worst case is printed
//! (`cargo test -- --nocapture`; about 1e-15 in f64 and 1e-7 in f32) and must also stay
//! under 1e-12 (f64) and 1e-6 (f32) per case, so a slip far smaller than the required
//! tolerance still fails.

mod common;

use common::{Problem, close, deviation, f64s, optimizer, optimizer_cases, to_f64};
use serde_json::Value;
use tapegrad_autograd::Element;

/// Runs one fixture case in element type `T`; returns the worst deviation of the
/// parameters and of the losses.
fn run_case<T: Element>(case: &Value, tol: f64) -> (f64, f64) {
    let name = case["name"].as_str().unwrap();
    let problem = Problem::<T>::new(case["problem"].as_str().unwrap());
    let mut opt = optimizer::<T>(case["optimizer"].as_str().unwrap(), &case["options"], problem.params.clone());
    let (mut worst_param, mut worst_loss) = (0.0f64, 0.0f64);
    let trajectory = case["trajectory"].as_array().unwrap();
    let losses = f64s(&case["losses"]);
    assert_eq!(trajectory.len(), 20, "{name}: 20 steps");
    for (step, expected_params) in trajectory.iter().enumerate() {
        let loss = problem.train_step(opt.as_mut());
        assert!(close(loss, losses[step], tol), "{name}: loss before step {step}: {loss} vs torch {}", losses[step]);
        worst_loss = worst_loss.max(deviation(&[loss], &[losses[step]]));
        for (index, (p, expected)) in problem.params.iter().zip(expected_params.as_array().unwrap()).enumerate() {
            let (actual, expected) = (to_f64(p), f64s(expected));
            for (k, (a, e)) in actual.iter().zip(&expected).enumerate() {
                assert!(
                    close(*a, *e, tol),
                    "{name}: parameter {index} element {k} after step {}: tapegrad {a:e}, torch {e:e}",
                    step + 1
                );
            }
            worst_param = worst_param.max(deviation(&actual, &expected));
        }
    }
    (worst_param, worst_loss)
}

#[test]
fn every_optimizer_matches_pytorch_in_f64() {
    let mut count = 0;
    let mut kinds = std::collections::BTreeSet::new();
    for case in optimizer_cases().iter().filter(|c| c["dtype"] == "float64") {
        let (params, loss) = run_case::<f64>(case, 1e-6);
        println!("{:40} worst parameter deviation {params:.1e}, loss {loss:.1e}", case["name"].as_str().unwrap());
        // Far inside the required 1e-6: the rules are PyTorch's operation for operation, so
        // the runs differ only by last-bit rounding of the kernels.
        assert!(params < 1e-12 && loss < 1e-12, "{}: deviation {params:e} / {loss:e}", case["name"]);
        kinds.insert(case["optimizer"].as_str().unwrap());
        count += 1;
    }
    assert_eq!(kinds.into_iter().collect::<Vec<_>>(), ["Adagrad", "Adam", "AdamW", "RMSprop", "SGD"]);
    assert_eq!(count, 40, "20 configurations × 2 problems");
}

#[test]
fn adam_and_adamw_match_pytorch_in_f32() {
    let cases: Vec<&Value> = optimizer_cases().iter().filter(|c| c["dtype"] == "float32").collect();
    assert_eq!(cases.len(), 2);
    for case in cases {
        let (params, loss) = run_case::<f32>(case, 1e-4);
        println!("{:40} worst parameter deviation {params:.1e}, loss {loss:.1e}", case["name"].as_str().unwrap());
        assert!(params < 1e-6 && loss < 1e-6, "{}: deviation {params:e} / {loss:e}", case["name"]);
    }
}

#[test]
fn parameters_without_gradients_are_skipped() {
    // The quadratic's second parameter never enters the loss: its grad stays None, so every
    // optimizer (weight decay included) must leave it alone, as PyTorch does.
    let start = f64s(&common::reference()["problems"]["quadratic"]["params"][1]["values"]);
    for case in optimizer_cases().iter().filter(|c| c["problem"] == "quadratic") {
        let problem = Problem::<f64>::new("quadratic");
        let mut opt = optimizer::<f64>(case["optimizer"].as_str().unwrap(), &case["options"], problem.params.clone());
        for _ in 0..3 {
            problem.train_step(opt.as_mut());
        }
        assert!(problem.params[1].grad().is_none());
        assert_eq!(to_f64(&problem.params[1]), start, "{}", case["name"]);
        assert_eq!(problem.params[1].version(), 0, "{}: never written", case["name"]);
        let state = opt.state();
        let unused: Vec<&str> =
            state.tensors.iter().map(|(n, _)| n.as_str()).filter(|n| n.starts_with("state.1.")).collect();
        if case["optimizer"] == "Adagrad" {
            // Adagrad's state exists from construction, as in PyTorch, but its step stays 0.
            assert_eq!(state.scalar("state.1.step"), Some(0.0));
        } else {
            assert!(unused.is_empty(), "{}: no state for a parameter never stepped: {unused:?}", case["name"]);
        }
    }
}
