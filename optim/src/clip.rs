//! Gradient clipping between `backward` and `step`: by the total norm of all gradients
//! (`torch.nn.utils.clip_grad_norm_`) or by value (`clip_grad_value_`). Parameters without
//! a gradient are skipped, as in PyTorch; clipped gradients replace the old ones through
//! [`Tensor::set_grad`].

use tapegrad_autograd::{Element, Tensor, lit};

use crate::error::number;

/// Rescales all gradients together so that their total `norm_type`-norm is at most
/// `max_norm`, and returns the total norm before clipping, as PyTorch's `clip_grad_norm_`.
/// Every gradient is scaled by the same factor, so the update keeps its direction and only
/// its length is capped: the usual guard against exploding gradients.
///
/// ```text
/// total = ‖(‖g₁‖ₚ, ‖g₂‖ₚ, …)‖ₚ          (= the p-norm of all gradients as one vector)
/// gᵢ ← gᵢ · min(1, max_norm / (total + 1e-6))
/// ```
///
/// `norm_type` is p > 0, or `f64::INFINITY` for the largest absolute element. The norm is
/// accumulated in f64 whatever `T` is. The 1e-6 keeps the division finite for zero
/// gradients, so clipped gradients land just under `max_norm`. A NaN or infinite total
/// makes every gradient NaN or zero, as in PyTorch: check the returned norm to catch that.
///
/// # Panics
/// If `max_norm` is negative or NaN, or `norm_type` is not positive.
///
/// ```
/// use tapegrad_autograd::Tensor;
/// use tapegrad_optim::clip_grad_norm;
/// let a = Tensor::from_vec(vec![3.0f64], &[1]).unwrap().requires_grad();
/// let b = Tensor::from_vec(vec![4.0f64], &[1]).unwrap().requires_grad();
/// (&a * &a + &b * &b).sum().mul_scalar(0.5).backward(); // grads (3, 4): total norm 5
/// let total = clip_grad_norm(&[a.clone(), b.clone()], 1.0, 2.0);
/// assert_eq!(total, 5.0);
/// let (ga, gb) = (a.grad().unwrap().item(), b.grad().unwrap().item());
/// assert!((ga - 0.6).abs() < 1e-6 && (gb - 0.8).abs() < 1e-6);
/// ```
#[track_caller]
pub fn clip_grad_norm<T: Element>(params: &[Tensor<T>], max_norm: f64, norm_type: f64) -> f64 {
    if max_norm.is_nan() || max_norm < 0.0 {
        panic!("clip_grad_norm: max_norm {} must be ≥ 0", number(max_norm));
    }
    if norm_type.is_nan() || norm_type <= 0.0 {
        panic!("clip_grad_norm: norm_type {} must be > 0 (or f64::INFINITY)", number(norm_type));
    }
    let grads: Vec<(&Tensor<T>, Vec<T>)> =
        params.iter().filter_map(|p| Some((p, p.grad()?.value().to_vec()))).collect();
    if grads.is_empty() {
        return 0.0;
    }
    // Per-parameter norms, then the norm of those: PyTorch's order of summation.
    let norms: Vec<f64> =
        grads.iter().map(|(_, g)| p_norm(g.iter().map(|x| x.to_f64().expect("float")), norm_type)).collect();
    let total = p_norm(norms.into_iter(), norm_type);
    let coefficient = max_norm / (total + 1e-6);
    // A NaN total must reach the gradients, as in PyTorch (torch.clamp keeps NaN).
    if coefficient.is_nan() || coefficient < 1.0 {
        let c = lit::<T>(coefficient);
        for (p, g) in grads {
            let scaled = g.into_iter().map(|x| x * c).collect();
            p.set_grad(Some(Tensor::from_vec(scaled, p.shape()).expect("same length")));
        }
    }
    total
}

/// Clamps every gradient element into `[-clip_value, clip_value]`, as PyTorch's
/// `clip_grad_value_`. Unlike [`clip_grad_norm`] this can change the update's direction.
/// NaN elements stay NaN.
///
/// # Panics
/// If `clip_value` is negative or NaN.
///
/// ```
/// use tapegrad_autograd::Tensor;
/// use tapegrad_optim::clip_grad_value;
/// let w = Tensor::from_vec(vec![1.0f32, 2.0, 3.0], &[3]).unwrap().requires_grad();
/// (&w * Tensor::from_vec(vec![-5.0, 0.5, 9.0], &[3]).unwrap()).sum().backward();
/// clip_grad_value(&[w.clone()], 1.0);
/// assert_eq!(w.grad().unwrap().to_vec(), vec![-1.0, 0.5, 1.0]);
/// ```
#[track_caller]
pub fn clip_grad_value<T: Element>(params: &[Tensor<T>], clip_value: f64) {
    if clip_value.is_nan() || clip_value < 0.0 {
        panic!("clip_grad_value: clip_value {} must be ≥ 0", number(clip_value));
    }
    let c = lit::<T>(clip_value);
    for p in params {
        let Some(grad) = p.grad() else { continue };
        // NaN compares false both ways and passes through unchanged.
        let clipped = grad
            .to_vec()
            .into_iter()
            .map(|x| {
                if x > c {
                    c
                } else if x < -c {
                    -c
                } else {
                    x
                }
            })
            .collect();
        p.set_grad(Some(Tensor::from_vec(clipped, p.shape()).expect("same length")));
    }
}

/// (Σ|x|ᵖ)^(1/p), or max |x| for p = ∞; 0 for no values.
fn p_norm(values: impl Iterator<Item = f64>, p: f64) -> f64 {
    if p == f64::INFINITY {
        values.map(f64::abs).fold(0.0, |m, x| if x > m || x.is_nan() { x } else { m })
    } else if p == 1.0 {
        values.map(f64::abs).sum()
    } else if p == 2.0 {
        values.map(|x| x * x).sum::<f64>().sqrt()
    } else {
        values.map(|x| x.abs().powf(p)).sum::<f64>().powf(p.recip())
    }
}
