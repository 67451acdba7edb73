//! The course's worked examples, exactly.

use tapegrad::prelude::*;

fn vector(values: &[f64]) -> Tensor<f64> {
    Tensor::from_vec(values.to_vec(), &[values.len()]).unwrap()
}

/// One ReLU neuron: relu(w·x + b).
fn neuron(x: &[f64], w: &[f64], b: f64) -> f64 {
    (vector(w).matmul(&vector(x)) + b).relu().item()
}

#[test]
fn relu_neurons_of_the_first_lesson() {
    // 0.5·1 − 0.8·4 + 0.4·2 + 0.1 = −1.8 → relu → 0
    assert_eq!(neuron(&[1.0, 4.0, 2.0], &[0.5, -0.8, 0.4], 0.1), 0.0);
    // −0.2·5 + 0.4·2 + 0.7·3 − 0.2 = 1.7
    assert!((neuron(&[5.0, 2.0, 3.0], &[-0.2, 0.4, 0.7], -0.2) - 1.7).abs() < 1e-12);
}

#[test]
fn derivative_of_x_squared_minus_two() {
    // d/dx (x² − 2) = 2x: −3, 0, 3 at −1.5, 0, 1.5
    let x = vector(&[-1.5, 0.0, 1.5]).requires_grad();
    (&x * &x - 2.0).sum().backward();
    assert_eq!(x.grad().unwrap().to_vec(), vec![-3.0, 0.0, 3.0]);
}

#[test]
fn softmax_of_the_lesson() {
    let p = vector(&[2.0, 1.0, 0.1]).softmax(0);
    assert!((p.sum().item() - 1.0).abs() < 1e-12);
    let e = [2.0f64.exp(), 1.0f64.exp(), 0.1f64.exp()];
    assert!((p.get(&[0]) - e[0] / e.iter().sum::<f64>()).abs() < 1e-12);
    assert!((p.get(&[0]) - 0.659).abs() < 5e-4);
}

#[test]
fn softmax_and_log_softmax_are_stable_at_extreme_logits() {
    let x = Tensor::from_vec(vec![1000.0f32, -1000.0, 0.0, 1000.0], &[2, 2]).unwrap();
    let p = x.softmax(1).to_vec();
    assert_eq!(p, vec![1.0, 0.0, 0.0, 1.0]);
    let lp = x.log_softmax(1).to_vec();
    assert_eq!(lp, vec![0.0, -2000.0, -1000.0, 0.0]);
    // and their gradients stay finite
    let x = x.detach().requires_grad();
    x.log_softmax(1).sum().backward();
    assert!(x.grad().unwrap().to_vec().iter().all(|g| g.is_finite()));
}

#[test]
fn two_linear_layers_without_activation_are_one_linear_layer() {
    let mut rng = StdRng::seed_from_u64(3);
    let x = Tensor::<f64>::randn(&[5, 4], &mut rng);
    let (w1, b1) = (Tensor::randn(&[3, 4], &mut rng), Tensor::randn(&[3], &mut rng));
    let (w2, b2) = (Tensor::randn(&[2, 3], &mut rng), Tensor::randn(&[2], &mut rng));
    // y = (x·W1ᵀ + b1)·W2ᵀ + b2
    let stacked = (x.matmul(&w1.t()) + &b1).matmul(&w2.t()) + &b2;
    // = x·(W2·W1)ᵀ + (W2·b1 + b2)
    let w = w2.matmul(&w1);
    let b = w2.matmul(&b1) + &b2;
    let collapsed = x.matmul(&w.t()) + &b;
    for (a, c) in stacked.to_vec().iter().zip(collapsed.to_vec()) {
        assert!((a - c).abs() < 1e-12, "{a} vs {c}");
    }
}
