//! Gradient checking, shown: a small expression's analytic gradients (from the backward
//! pass) beside numeric ones (central finite differences), then the library's checker.
//!
//! cargo run --release --example gradcheck

use tapegrad::prelude::*;

/// The expression: f(x, w) = Σ tanh(x·w) ⊙ Σⱼ softplus(x)ⱼ (each row's softplus total).
fn f(x: &Tensor<f64>, w: &Tensor<f64>) -> Tensor<f64> {
    let hidden = x.matmul(w).tanh(); // [2, 2]
    (hidden * &x.softplus().sum_dim(1, true)).sum() // broadcast [2, 1] over the columns
}

fn main() {
    let x = Tensor::from_vec(vec![0.5, -1.0, 2.0, 0.3, 0.8, -0.4], &[2, 3]).unwrap();
    let w = Tensor::from_vec(vec![0.2, -0.7, 1.1, 0.4, -0.3, 0.9], &[3, 2]).unwrap();
    println!("f(x, w) = Σ tanh(x·w) ⊙ Σⱼ softplus(x)   with x: [2, 3], w: [3, 2]\n");

    let (xp, wp) = (x.detach().requires_grad(), w.detach().requires_grad());
    let value = f(&xp, &wp);
    value.backward();
    println!("f = {:.6}\n", value.item());
    println!("{:<6} {:<8} {:>14} {:>14} {:>10}", "input", "element", "analytic", "numeric", "|diff|");

    let eps = 1e-6;
    let mut worst: f64 = 0.0;
    for (name, param) in [("x", &xp), ("w", &wp)] {
        let analytic = param.grad().unwrap().to_vec();
        for (i, a) in analytic.iter().enumerate() {
            let shifted = |delta: f64| {
                let mut values = param.to_vec();
                values[i] += delta;
                let moved = Tensor::from_vec(values, param.shape()).unwrap();
                if name == "x" { f(&moved, &w).item() } else { f(&x, &moved).item() }
            };
            let numeric = (shifted(eps) - shifted(-eps)) / (2.0 * eps);
            worst = worst.max((a - numeric).abs());
            let cols = param.shape()[1];
            println!(
                "{name:<6} [{}, {}]   {a:>14.9} {numeric:>14.9} {:>10.2e}",
                i / cols,
                i % cols,
                (a - numeric).abs()
            );
        }
    }
    println!("\nlargest |analytic − numeric| = {worst:.2e}");

    let options = GradcheckOptions::default();
    let first = gradcheck(|p| f(&p[0], &p[1]), &[x.clone(), w.clone()], &options);
    let second = gradgradcheck(|p| f(&p[0], &p[1]), &[x, w], &options);
    println!(
        "gradcheck (eps {:e}, atol {:e}, rtol {:e}): {}",
        options.eps,
        options.atol,
        options.rtol,
        verdict(&first)
    );
    println!("gradgradcheck (second derivatives): {}", verdict(&second));
    if first.is_err() || second.is_err() {
        std::process::exit(1);
    }
}

fn verdict(result: &Result<(), tapegrad::autograd::GradcheckError>) -> String {
    match result {
        Ok(()) => "passed".into(),
        Err(e) => format!("FAILED: {e}"),
    }
}
