//! Gradient clipping against PyTorch's `clip_grad_norm_` (L2, L1, L3, L∞, clipped and not)
//! and `clip_grad_value_`, from tests/reference/; a parameter without a gradient in each
//! set must be skipped. Agreement: 1e-12 relative (the norms are summed in another order).

mod common;

use common::{f64s, reference, tensor, to_f64};
use serde_json::Value;
use tapegrad_autograd::Tensor;
use tapegrad_optim::{clip_grad_norm, clip_grad_value};

/// Parameters holding the fixture's gradients (a `null` gradient: a parameter without one).
fn params_with_grads(grads: &Value) -> Vec<Tensor<f64>> {
    grads
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            if g.is_null() {
                Tensor::<f64>::zeros(&[3]).requires_grad()
            } else {
                let grad = tensor::<f64>(g);
                let p = Tensor::<f64>::zeros(grad.shape()).requires_grad();
                p.set_grad(Some(grad));
                p
            }
        })
        .collect()
}

fn assert_grads(name: &str, params: &[Tensor<f64>], expected: &Value) {
    for (i, (p, e)) in params.iter().zip(expected.as_array().unwrap()).enumerate() {
        match p.grad() {
            None => assert!(e.is_null(), "{name}: parameter {i} should have a gradient"),
            Some(g) => {
                let (actual, expected) = (to_f64(&g), f64s(e));
                for (a, e) in actual.iter().zip(&expected) {
                    assert!(
                        (a - e).abs() <= 1e-12 * (1.0 + e.abs()),
                        "{name}: parameter {i}: {actual:?} vs torch {expected:?}"
                    );
                }
            }
        }
    }
}

#[test]
fn clip_grad_norm_matches_pytorch() {
    let cases = reference()["clip_grad_norm"].as_array().unwrap();
    assert_eq!(cases.len(), 5);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let params = params_with_grads(&case["grads"]);
        let norm_type = match &case["norm_type"] {
            Value::String(s) if s == "inf" => f64::INFINITY,
            v => v.as_f64().unwrap(),
        };
        let total = clip_grad_norm(&params, case["max_norm"].as_f64().unwrap(), norm_type);
        let expected = case["total_norm"].as_f64().unwrap();
        assert!((total - expected).abs() <= 1e-12 * expected, "{name}: total norm {total} vs torch {expected}");
        assert_grads(name, &params, &case["clipped"]);
    }
}

#[test]
fn clip_grad_value_matches_pytorch() {
    for case in reference()["clip_grad_value"].as_array().unwrap() {
        let params = params_with_grads(&case["grads"]);
        clip_grad_value(&params, case["clip_value"].as_f64().unwrap());
        assert_grads(case["name"].as_str().unwrap(), &params, &case["clipped"]);
    }
}

#[test]
fn clipped_norm_lands_just_under_max_norm_and_keeps_direction() {
    let a = Tensor::from_vec(vec![3.0f32, -4.0], &[2]).unwrap().requires_grad();
    let b = Tensor::from_vec(vec![12.0f32], &[1]).unwrap().requires_grad();
    a.set_grad(Some(a.detach()));
    b.set_grad(Some(b.detach()));
    let total = clip_grad_norm(&[a.clone(), b.clone()], 2.6, 2.0);
    assert_eq!(total, 13.0); // √(9 + 16 + 144)
    let (ga, gb) = (a.grad().unwrap().to_vec(), b.grad().unwrap().to_vec());
    let clipped = (ga[0] * ga[0] + ga[1] * ga[1] + gb[0] * gb[0]).sqrt();
    assert!(clipped <= 2.6 && clipped > 2.6 - 1e-5, "{clipped}");
    assert!((ga[0] / gb[0] - 0.25).abs() < 1e-6 && (ga[1] / gb[0] + 1.0 / 3.0).abs() < 1e-6);
}

#[test]
fn no_gradients_means_a_zero_norm() {
    let w = Tensor::<f64>::ones(&[2]).requires_grad();
    assert_eq!(clip_grad_norm(std::slice::from_ref(&w), 1.0, 2.0), 0.0);
    assert!(w.grad().is_none());
}

#[test]
fn a_nan_gradient_poisons_the_norm_as_in_pytorch() {
    let a = Tensor::from_vec(vec![1.0f64], &[1]).unwrap().requires_grad();
    let b = Tensor::from_vec(vec![1.0f64], &[1]).unwrap().requires_grad();
    a.set_grad(Some(Tensor::from_vec(vec![f64::NAN], &[1]).unwrap()));
    b.set_grad(Some(Tensor::from_vec(vec![2.0], &[1]).unwrap()));
    let total = clip_grad_norm(&[a, b.clone()], 1.0, 2.0);
    assert!(total.is_nan());
    assert!(b.grad().unwrap().item().is_nan(), "the NaN reaches every gradient, so training cannot go on silently");
}

#[test]
#[should_panic(expected = "clip_grad_norm: max_norm -1 must be ≥ 0")]
fn negative_max_norm_panics() {
    clip_grad_norm::<f32>(&[], -1.0, 2.0);
}

#[test]
#[should_panic(expected = "clip_grad_value: clip_value NaN must be ≥ 0")]
fn nan_clip_value_panics() {
    clip_grad_value::<f32>(&[], f64::NAN);
}
