//! Layers and models: shapes, names, initialisation statistics, train/eval behaviour.

use rand::SeedableRng;
use rand::rngs::StdRng;
use tapegrad_autograd::{Indices, Tensor};
use tapegrad_nn::*;

#[test]
fn linear_is_x_times_w_transposed_plus_b() {
    let w = Tensor::from_vec(vec![1.0f64, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]).unwrap();
    let b = Tensor::from_vec(vec![0.5, -0.5], &[2]).unwrap();
    let layer = Linear::from_weights(w, Some(b));
    let x = Tensor::from_vec(vec![1.0, 0.0, -1.0, 2.0, 1.0, 0.0], &[2, 3]).unwrap();
    assert_eq!(layer.forward(&x).to_vec(), vec![1.0 - 3.0 + 0.5, 4.0 - 6.0 - 0.5, 4.0 + 0.5, 13.0 - 0.5]);
    layer.forward(&x).sum().backward();
    // dL/dW[o][i] = Σ_batch x[i]; dL/db[o] = batch size
    assert_eq!(layer.weight().grad().unwrap().to_vec(), vec![3.0, 1.0, -1.0, 3.0, 1.0, -1.0]);
    assert_eq!(layer.bias().unwrap().grad().unwrap().to_vec(), vec![2.0, 2.0]);
}

#[test]
fn stacked_linear_layers_without_activation_collapse_to_one() {
    let mut rng = StdRng::seed_from_u64(11);
    let (l1, l2) = (Linear::<f64>::new(4, 3, &mut rng), Linear::<f64>::new(3, 2, &mut rng));
    let stack = Sequential::new()
        .add(Linear::from_weights(l1.weight().clone(), l1.bias().cloned()))
        .add(Linear::from_weights(l2.weight().clone(), l2.bias().cloned()));
    let w = l2.weight().matmul(l1.weight());
    let b = l2.weight().matmul(l1.bias().unwrap()) + l2.bias().unwrap();
    let one = Linear::from_weights(w.detach(), Some(b.detach()));
    let x = Tensor::<f64>::randn(&[5, 4], &mut rng);
    for (a, c) in stack.forward(&x).to_vec().iter().zip(one.forward(&x).to_vec()) {
        assert!((a - c).abs() < 1e-12);
    }
}

#[test]
fn initialisers_have_their_textbook_spread() {
    let mut rng = StdRng::seed_from_u64(2);
    let (fan_in, fan_out) = (400, 300);
    let std =
        |init: Init, rng: &mut StdRng| init.tensor::<f64>(&[fan_out, fan_in], fan_in, fan_out, rng).var().sqrt().item();
    let close = |a: f64, b: f64| (a - b).abs() < 0.02 * b;
    assert!(close(std(Init::XavierUniform, &mut rng), (2.0 / 700.0f64).sqrt()));
    assert!(close(std(Init::XavierNormal, &mut rng), (2.0 / 700.0f64).sqrt()));
    assert!(close(std(Init::KaimingUniform, &mut rng), (2.0 / 400.0f64).sqrt()));
    assert!(close(std(Init::KaimingNormal, &mut rng), (2.0 / 400.0f64).sqrt()));
    assert!(close(std(Init::Default, &mut rng), (1.0 / (3.0 * 400.0f64)).sqrt()));
    // same seed, same weights
    let a = Linear::<f32>::new(5, 5, &mut StdRng::seed_from_u64(9));
    let b = Linear::<f32>::new(5, 5, &mut StdRng::seed_from_u64(9));
    assert_eq!(a.weight().to_vec(), b.weight().to_vec());
}

#[test]
fn sequential_names_and_modes() {
    let mut rng = StdRng::seed_from_u64(0);
    let mut model = Sequential::<f32>::new()
        .add(Flatten)
        .add(Linear::new(12, 6, &mut rng))
        .add(Activation::Tanh)
        .add(Dropout::new(0.5, 1))
        .add(Linear::new(6, 3, &mut rng));
    let names: Vec<String> = model.named_parameters().into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["1.weight", "1.bias", "4.weight", "4.bias"]);
    let x = Tensor::ones(&[2, 3, 2, 2]);
    model.eval();
    let (a, b) = (model.forward(&x).to_vec(), model.forward(&x).to_vec());
    assert_eq!(a, b, "eval mode is deterministic");
    model.train();
    assert_ne!(model.forward(&x).to_vec(), a, "train mode drops");
}

#[test]
fn dropout_drops_the_requested_fraction_on_any_shape() {
    let dropout = Dropout::<f64>::new(0.3, 7);
    let y = dropout.forward(&Tensor::<f64>::ones(&[10, 10, 10, 10])).to_vec();
    let dropped = y.iter().filter(|&&v| v == 0.0).count() as f64 / y.len() as f64;
    assert!((dropped - 0.3).abs() < 0.02, "dropped {dropped}");
    let kept = y.iter().find(|&&v| v != 0.0).unwrap();
    assert!((kept - 1.0 / 0.7).abs() < 1e-12);
    let again = Dropout::<f64>::new(0.3, 7).forward(&Tensor::<f64>::ones(&[10, 10, 10, 10])).to_vec();
    assert_eq!(y, again, "same seed, same mask");
}

#[test]
fn activations_by_name_match_the_ops() {
    let x = Tensor::from_vec(vec![-2.0f64, -0.5, 0.5, 2.0], &[4]).unwrap();
    for name in ["relu", "leaky_relu", "tanh", "sigmoid", "gelu", "linear"] {
        let act: Activation = name.parse().unwrap();
        let expected = match name {
            "relu" => x.relu(),
            "leaky_relu" => x.leaky_relu(0.01),
            "tanh" => x.tanh(),
            "sigmoid" => x.sigmoid(),
            "gelu" => x.gelu(),
            _ => x.clone(),
        };
        assert_eq!(act.forward(&x).to_vec(), expected.to_vec());
        assert_eq!(act.to_string(), name);
    }
    let p = Softmax { axis: -1 }.forward(&x);
    assert!((p.sum().item() - 1.0).abs() < 1e-12);
    let lp = LogSoftmax { axis: 0 }.forward(&x);
    assert!((lp.exp().sum().item() - 1.0).abs() < 1e-12);
}

#[test]
fn metrics_by_hand() {
    let scores =
        Tensor::from_vec(vec![0.1f32, 0.7, 0.2, 0.8, 0.1, 0.1, 0.3, 0.3, 0.4, 0.2, 0.5, 0.3], &[4, 3]).unwrap();
    let targets = Indices::from(vec![1, 0, 1, 2]);
    assert_eq!(accuracy(&scores, &targets), 0.5);
    let mut cm = ConfusionMatrix::new(3);
    cm.update(&scores, &targets);
    assert_eq!((cm.count(1, 1), cm.count(1, 2), cm.count(2, 1)), (1, 1, 1));
    assert_eq!(cm.precision(1), 0.5);
    assert!(cm.to_string().contains("recall"));
    let y = Tensor::from_vec(vec![3.0f64, -0.5, 2.0, 7.0], &[4]).unwrap();
    let p = Tensor::from_vec(vec![2.5f64, 0.0, 2.0, 8.0], &[4]).unwrap();
    // sklearn: r2_score([3, -0.5, 2, 7], [2.5, 0.0, 2, 8]) = 0.9486081370449679
    assert!((r2_score(&p, &y) - 0.9486081370449679).abs() < 1e-12);
    assert!((rmse(&p, &y) - (0.375f64).sqrt()).abs() < 1e-12);
    assert_eq!(mae(&p, &y), 0.5);
    assert_eq!(binary_accuracy(&Tensor::from_vec(vec![-1.0f32, 2.0], &[2]).unwrap(), &Indices::from(vec![0, 0])), 0.5);
}
