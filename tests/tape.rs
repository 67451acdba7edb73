//! How the tape behaves: what is recorded, how gradients accumulate, what is returned, and
//! the tools around it (no_grad, detach, grad of grad, anomaly mode, DOT export).

use tapegrad::autograd::{Context, Saved, enable_grad, grad_with};
use tapegrad::prelude::*;

fn scalar_param(v: f64) -> Tensor<f64> {
    Tensor::from_vec(vec![v], &[1]).unwrap().requires_grad()
}

#[test]
fn ops_on_constants_record_nothing() {
    let x = Tensor::<f32>::ones(&[3]);
    let y = (&x * 2.0).exp().sum();
    assert!(!y.tracks_grad() && y.is_leaf());
}

#[test]
fn gradients_accumulate_until_zeroed() {
    let x = scalar_param(2.0);
    (&x * 3.0).sum().backward();
    (&x * 3.0).sum().backward();
    assert_eq!(x.grad().unwrap().to_vec(), vec![6.0]);
    x.zero_grad();
    assert!(x.grad().is_none());
    (&x * &x).sum().backward();
    assert_eq!(x.grad().unwrap().to_vec(), vec![4.0]);
}

#[test]
fn backward_with_an_explicit_output_gradient() {
    let x = Tensor::from_vec(vec![1.0f64, 2.0], &[2]).unwrap().requires_grad();
    let y = &x * &x; // not a scalar
    y.backward_with(&Tensor::from_vec(vec![1.0, 10.0], &[2]).unwrap());
    assert_eq!(x.grad().unwrap().to_vec(), vec![2.0, 40.0]);
}

#[test]
#[should_panic(expected = "backward: the output has shape [2]; backward() needs a single value")]
fn backward_of_a_non_scalar_asks_for_its_gradient() {
    let x = Tensor::from_vec(vec![1.0f64, 2.0], &[2]).unwrap().requires_grad();
    (&x * 2.0).backward();
}

#[test]
fn grad_returns_without_touching_stored_gradients() {
    let x = scalar_param(3.0);
    let y = x.powf(3.0).sum();
    let g = grad(&[&y], &[&x], false).remove(0);
    assert_eq!(g.to_vec(), vec![27.0]); // 3x²
    assert!(x.grad().is_none());
    assert!(!g.tracks_grad());
}

#[test]
fn grad_of_grad() {
    // y = sin(x)·x; y′ = cos x·x + sin x; y″ = −sin x·x + 2 cos x
    let x = scalar_param(0.7);
    let y = (x.sin() * &x).sum();
    let dy = grad(&[&y], &[&x], true).remove(0);
    let d2y = grad(&[&dy.sum()], &[&x], true).remove(0);
    let d3y = grad(&[&d2y.sum()], &[&x], false).remove(0);
    let v = 0.7f64;
    assert!((dy.item() - (v.cos() * v + v.sin())).abs() < 1e-12);
    assert!((d2y.item() - (-v.sin() * v + 2.0 * v.cos())).abs() < 1e-12);
    assert!((d3y.item() - (-v.cos() * v - 3.0 * v.sin())).abs() < 1e-12);
}

#[test]
fn grad_of_an_unused_input_is_zero() {
    let (x, unused) = (scalar_param(1.0), scalar_param(5.0));
    let g = grad(&[&(&x * 2.0).sum()], &[&x, &unused], false);
    assert_eq!((g[0].item(), g[1].item()), (2.0, 0.0));
}

#[test]
fn grad_with_respect_to_an_intermediate() {
    let x = scalar_param(2.0);
    let h = &x * 3.0;
    let y = (&h * &h).sum();
    let g = grad_with(&[&y], &[&Tensor::scalar(1.0)], &[&h], false).remove(0);
    assert_eq!(g.to_vec(), vec![12.0]); // 2h
}

#[test]
fn no_grad_and_detach_stop_the_graph() {
    let w = scalar_param(1.0);
    let y = no_grad(|| &w * 2.0);
    assert!(!y.tracks_grad());
    let z = no_grad(|| enable_grad(|| &w * 2.0));
    assert!(z.tracks_grad());
    let d = (&w * 2.0).detach();
    assert!(!d.tracks_grad() && d.is_leaf());
    assert!(tapegrad::autograd::is_grad_enabled());
}

#[test]
fn views_share_storage_and_carry_gradients() {
    let x = Tensor::arange(0.0f64, 6.0, 1.0).reshape([2, 3]).detach().requires_grad();
    let t = x.t();
    assert!(t.value().shares_storage(&x.value()));
    let weights = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[3, 2]).unwrap();
    (&t * &weights).sum().backward();
    // x[i][j] meets weights[j][i]
    assert_eq!(x.grad().unwrap().to_vec(), vec![1.0, 3.0, 5.0, 2.0, 4.0, 6.0]);
}

#[test]
fn broadcasting_backward_sums_over_the_stretched_axes() {
    // y = Σᵢⱼ x[i][j]·b[j]·c[i][j] with b broadcast over rows: db[j] = Σᵢ x[i][j]·c[i][j]
    let x = Tensor::from_vec(vec![1.0f64, 2.0, 3.0, 4.0], &[2, 2]).unwrap();
    let b = Tensor::from_vec(vec![1.0, 1.0], &[2]).unwrap().requires_grad();
    let c = Tensor::from_vec(vec![1.0, 10.0, 100.0, 1000.0], &[2, 2]).unwrap();
    ((&x * &b) * &c).sum().backward();
    assert_eq!(b.grad().unwrap().to_vec(), vec![301.0, 4020.0]);
}

#[test]
#[should_panic(expected = "anomaly: ln produced NaN in its forward pass at element 1 of its output [2]")]
fn anomaly_mode_names_the_first_bad_forward() {
    let x = Tensor::from_vec(vec![1.0f32, -1.0], &[2]).unwrap().requires_grad();
    detect_anomaly(|| (&x * 2.0).ln().exp().sum());
}

#[test]
fn anomaly_mode_names_the_first_bad_backward_and_its_line() {
    // sqrt at 0 is finite forward, infinite backward.
    let x = Tensor::from_vec(vec![0.0f64, 4.0], &[2]).unwrap().requires_grad();
    let line = line!() + 1;
    let y = x.sqrt().sum();
    let message =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| detect_anomaly(|| y.backward()))).unwrap_err();
    let message = message.downcast_ref::<String>().unwrap();
    assert!(
        message.starts_with("anomaly: the backward of sqrt produced infinity at element 0 of the gradient of input 0"),
        "{message}"
    );
    assert!(message.ends_with(&format!("tests/tape.rs:{line}")), "{message}");
}

#[test]
fn anomaly_mode_is_silent_on_finite_values() {
    let x = scalar_param(2.0);
    detect_anomaly(|| x.ln().sum().backward());
    assert_eq!(x.grad().unwrap().item(), 0.5);
}

#[test]
fn graph_exports_as_dot() {
    let w = Tensor::<f32>::ones(&[3, 2]).requires_grad();
    let x = Tensor::<f32>::ones(&[4, 3]);
    let dot = x.matmul(&w).relu().sum().to_dot();
    assert!(dot.starts_with("digraph tapegrad {"));
    for label in ["sum\\n[]", "relu\\n[4, 2]", "matmul\\n[4, 2]", "parameter\\n[3, 2]", "leaf\\n[4, 3]"] {
        assert!(dot.contains(label), "missing {label} in\n{dot}");
    }
    assert_eq!(dot.matches("->").count(), 4);
}

/// A custom op that asks for the output in its backward: eˣ with derivative eˣ.
struct MyExp;
impl Function<f64> for MyExp {
    fn name(&self) -> &str {
        "my_exp"
    }
    fn forward(&self, ctx: &mut Context<f64>, inputs: &[Tensor<f64>]) -> Tensor<f64> {
        ctx.save_output();
        inputs[0].exp()
    }
    fn backward(&self, saved: &Saved<f64>, grad: &Tensor<f64>) -> Vec<Option<Tensor<f64>>> {
        vec![Some(grad * saved.output())]
    }
}

#[test]
fn custom_ops_differentiate_twice_through_their_output() {
    let x = scalar_param(0.3);
    let y = MyExp.apply(&[&x]).sum();
    let dy = grad(&[&y], &[&x], true).remove(0);
    let d2y = grad(&[&dy.sum()], &[&x], false).remove(0);
    assert!((dy.item() - 0.3f64.exp()).abs() < 1e-12 && (d2y.item() - 0.3f64.exp()).abs() < 1e-12);
    assert!(y.to_dot().contains("my_exp"));
}

#[test]
fn models_and_parameters_are_send_and_sync() {
    fn shareable<T: Send + Sync>() {}
    shareable::<Tensor<f32>>();
    shareable::<Tensor<f64>>();
    // One trained parameter serving many threads.
    let w = Tensor::from_vec(vec![2.0f32, -1.0], &[2]).unwrap().requires_grad();
    let outputs: Vec<f32> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|i| {
                let w = &w;
                s.spawn(move || no_grad(|| w.matmul(&Tensor::from_vec(vec![i as f32, 1.0], &[2]).unwrap()).item()))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(outputs, vec![-1.0, 1.0, 3.0, 5.0]);
}

#[test]
fn backward_frees_the_graph_so_steps_update_in_place() {
    let w = Tensor::from_vec(vec![1.0f32, 2.0, 3.0, 4.0], &[2, 2]).unwrap().requires_grad();
    let x = Tensor::from_vec(vec![1.0f32, -1.0], &[1, 2]).unwrap();
    let loss = x.matmul(&w.t()).square().sum(); // w.t() is a view of w's storage
    let address = w.value().as_slice().unwrap().as_ptr() as usize;
    loss.backward();
    // The loss is still alive, but its graph (and the view of w) is gone: no copy on update.
    let g = w.grad().unwrap().to_vec();
    w.update_data(|v| v.iter_mut().zip(&g).for_each(|(v, g)| *v -= 0.1 * g));
    assert_eq!(w.value().as_slice().unwrap().as_ptr() as usize, address);
    assert_eq!(loss.item(), 2.0); // the value itself is kept
}

#[test]
#[should_panic(expected = "was already freed by an earlier backward(); call backward_retain_graph()")]
fn a_second_backward_through_a_freed_graph_is_refused() {
    let x = scalar_param(1.0);
    let y = (&x * &x).sum();
    y.backward();
    y.backward();
}

#[test]
fn retained_graphs_allow_several_passes() {
    let x = scalar_param(3.0);
    let h = &x * &x;
    let (a, b) = ((&h * 2.0).sum(), (&h * 5.0).sum());
    a.backward_retain_graph();
    b.backward();
    assert_eq!(x.grad().unwrap().item(), 2.0 * 6.0 + 5.0 * 6.0);
}

#[test]
fn chains_of_elementwise_ops_off_the_tape_fuse_into_one_pass_with_the_same_bits() {
    let mut rng = StdRng::seed_from_u64(8);
    let big = Tensor::<f32>::randn(&[300, 200], &mut rng); // above the fusion threshold
    let fused = (&big * 1.5 - 0.25).relu().tanh();
    assert_eq!(fused.op_name(), "fused");
    // The same ops one at a time, on pieces too small to fuse.
    let pieces: Vec<f32> = big
        .split(10, 0)
        .iter()
        .flat_map(|p| {
            let y = (p * 1.5 - 0.25).relu().tanh();
            assert_ne!(y.op_name(), "fused");
            y.to_vec()
        })
        .collect();
    let bits = |v: Vec<f32>| v.into_iter().map(f32::to_bits).collect::<Vec<_>>();
    assert_eq!(bits(fused.to_vec()), bits(pieces));
    // A transposed source fuses too, and reading twice computes once.
    let t = big.t();
    let y = t.exp();
    assert_eq!(y.to_vec(), y.to_vec());
    let one = Tensor::from_vec(vec![big.get(&[7, 3])], &[1]).unwrap();
    assert_eq!(y.get(&[3, 7]), one.exp().item());
    // On the tape nothing is deferred: gradients see the ops.
    let w = big.detach().requires_grad();
    let on_tape = (&w * 2.0).relu();
    assert_eq!(on_tape.op_name(), "relu");
}
