//! The course's first lesson, run for real: single neurons, softmax, cross-entropy, a
//! derivative, and why layers need activations.
//!
//! cargo run --release --example neuron

use tapegrad::nn::{Linear, Module, Reduction, Sequential, cross_entropy_soft};
use tapegrad::prelude::*;

fn vector(values: &[f64]) -> Tensor<f64> {
    Tensor::from_vec(values.to_vec(), &[values.len()]).unwrap()
}

fn main() {
    println!("1. A neuron: output = relu(w·x + b)");
    for (x, w, b) in [([1.0, 4.0, 2.0], [0.5, -0.8, 0.4], 0.1), ([5.0, 2.0, 3.0], [-0.2, 0.4, 0.7], -0.2)] {
        let sum = vector(&w).matmul(&vector(&x)) + b;
        let terms: Vec<String> = w.iter().zip(&x).map(|(w, x)| format!("{w}·{x}")).collect();
        println!(
            "   x = {x:?}, w = {w:?}, b = {b}: {} + {b} = {:.1} → relu → {:.1}",
            terms.join(" + "),
            sum.item(),
            sum.relu().item()
        );
    }

    println!("\n2. Softmax of [2.0, 1.0, 0.1]");
    let z = vector(&[2.0, 1.0, 0.1]);
    let e = z.exp();
    println!("   exponentials e^z = {:?} (sum {:.4})", rounded(&e), e.sum().item());
    let p = z.softmax(0);
    println!("   probabilities e^z / Σ e^z = {:?}, summing to {}", rounded(&p), p.sum().item());

    println!("\n3. Cross-entropy against y = [0, 1] (the true class is the second)");
    let y = Tensor::from_vec(vec![0.0, 1.0], &[1, 2]).unwrap();
    for q in [0.9, 0.6, 0.5, 0.1] {
        let predicted = Tensor::from_vec(vec![1.0 - q, q], &[1, 2]).unwrap();
        // cross_entropy_soft takes logits; the log of probabilities is a valid set of logits
        let loss = cross_entropy_soft(&predicted.ln(), &y, Reduction::Mean).item();
        println!("   prediction [{:.1}, {q:.1}] → loss −ln {q} = {loss:.4}", 1.0 - q);
    }

    println!("\n4. The derivative of f(x) = x² − 2, by backward()");
    let x = vector(&[-1.5, 0.0, 1.5]).requires_grad();
    (&x * &x - 2.0).sum().backward();
    for (xi, g) in x.to_vec().iter().zip(x.grad().unwrap().to_vec()) {
        println!("   f′({xi}) = {g} (2x = {})", 2.0 * xi);
    }

    println!("\n5. Two linear layers without an activation are one linear layer");
    let mut rng = StdRng::seed_from_u64(0);
    let (first, second) = (Linear::<f64>::new(3, 4, &mut rng), Linear::<f64>::new(4, 2, &mut rng));
    let w = second.weight().matmul(first.weight()).detach();
    let b = (second.weight().matmul(first.bias().unwrap()) + second.bias().unwrap()).detach();
    let stack = Sequential::new().add(first).add(second);
    let collapsed = Linear::from_weights(w, Some(b));
    let input = Tensor::<f64>::randn(&[2, 3], &mut rng);
    let (a, c) = (stack.forward(&input), collapsed.forward(&input));
    println!("   two layers:       {:?}", rounded(&a));
    println!("   one collapsed:    {:?}", rounded(&c));
    let gap = a.to_vec().iter().zip(c.to_vec()).map(|(a, c)| (a - c).abs()).fold(0.0, f64::max);
    println!("   largest difference {gap:.1e}: depth without nonlinearity adds nothing");
}

fn rounded(t: &Tensor<f64>) -> Vec<f64> {
    t.to_vec().iter().map(|v| (v * 1e4).round() / 1e4).collect()
}
