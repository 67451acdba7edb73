//! Gradient checking: analytic gradients against central finite differences, in f64.
//!
//! The product is trustworthy gradients, so checking them is a public feature: users check
//! their own ops and models exactly the way tapegrad checks its own.
//!
//! For inputs x and outputs y = f(x), the full check compares every entry of the Jacobian
//! ∂yⱼ/∂xᵢ computed by backward passes with (f(x + ε·eᵢ) − f(x − ε·eᵢ)) / 2ε. It passes where
//! |analytic − numeric| ≤ atol + rtol·|numeric|. The fast mode compares one random
//! projection vᵀJu per input instead, for inputs too large for the full Jacobian.
//!
//! Finite differences are wrong at kinks (relu and abs at 0, ties in max): choose inputs
//! away from them (the `testing` strategies do).

use rand::SeedableRng;
use rand::rngs::StdRng;

use crate::graph::grad_with;
use crate::tensor::Tensor;

/// Step and tolerances of a gradient check. The defaults are PyTorch's.
#[derive(Clone, Debug, PartialEq)]
pub struct GradcheckOptions {
    /// The finite-difference step ε (default 1e-6).
    pub eps: f64,
    /// Absolute tolerance (default 1e-5).
    pub atol: f64,
    /// Relative tolerance (default 1e-3).
    pub rtol: f64,
    /// Check a random projection vᵀJu per input instead of the full Jacobian.
    pub fast: bool,
    /// Seed of the random projections (fast mode and [`gradgradcheck`]).
    pub seed: u64,
}

impl Default for GradcheckOptions {
    fn default() -> Self {
        GradcheckOptions { eps: 1e-6, atol: 1e-5, rtol: 1e-3, fast: false, seed: 0 }
    }
}

/// Where a gradient check failed, with both values.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum GradcheckError {
    /// One Jacobian entry disagrees.
    #[error(
        "gradcheck: d output{output:?} / d input {input}{element:?} (input shape {shape:?}): analytic {analytic:.6e}, numeric {numeric:.6e}; |difference| {difference:.3e} exceeds atol + rtol·|numeric| = {allowed:.3e}"
    )]
    Jacobian {
        /// Which input (position in the inputs).
        input: usize,
        /// That input's shape.
        shape: Vec<usize>,
        /// The input element's multi-index.
        element: Vec<usize>,
        /// The output element's multi-index.
        output: Vec<usize>,
        /// The derivative from the backward pass.
        analytic: f64,
        /// The derivative from central differences.
        numeric: f64,
        /// |analytic − numeric|.
        difference: f64,
        /// The tolerance it exceeded.
        allowed: f64,
    },
    /// A random projection vᵀJu disagrees (fast mode).
    #[error(
        "gradcheck (fast): input {input} (shape {shape:?}): projection vᵀJu analytic {analytic:.6e}, numeric {numeric:.6e}; |difference| {difference:.3e} exceeds atol + rtol·|numeric| = {allowed:.3e}"
    )]
    Projection {
        /// Which input.
        input: usize,
        /// That input's shape.
        shape: Vec<usize>,
        /// vᵀJu from the backward pass.
        analytic: f64,
        /// vᵀJu from central differences.
        numeric: f64,
        /// |analytic − numeric|.
        difference: f64,
        /// The tolerance it exceeded.
        allowed: f64,
    },
    /// The function's output is NaN or infinite at the inputs given.
    #[error("gradcheck: the output is not finite at the given inputs (element {element:?} of shape {shape:?})")]
    NotFinite {
        /// The first non-finite output element.
        element: Vec<usize>,
        /// The output's shape.
        shape: Vec<usize>,
    },
}

/// Checks the gradients of `f` at `inputs` against central finite differences.
///
/// `f` receives the inputs as parameters (they track gradients) and returns an output of
/// any shape. The inputs keep their layout, so transposed or broadcast views are checked
/// as such.
///
/// # Errors
/// The first disagreeing entry, naming the input, the element index and both values.
///
/// ```
/// use tapegrad_autograd::{Tensor, gradcheck, GradcheckOptions};
/// let x = Tensor::from_vec(vec![0.3, -1.2, 2.0], &[3]).unwrap();
/// gradcheck(|x| x[0].tanh() * &x[0], &[x], &GradcheckOptions::default()).unwrap();
/// ```
pub fn gradcheck(
    f: impl Fn(&[Tensor<f64>]) -> Tensor<f64>,
    inputs: &[Tensor<f64>],
    options: &GradcheckOptions,
) -> Result<(), GradcheckError> {
    let leaves: Vec<Tensor<f64>> = inputs.iter().map(|t| t.detach().requires_grad()).collect();
    let output = f(&leaves);
    if let Some(flat) = output.to_vec().iter().position(|v| !v.is_finite()) {
        return Err(GradcheckError::NotFinite {
            element: unravel(flat, output.shape()),
            shape: output.shape().to_vec(),
        });
    }
    if options.fast {
        check_projections(&f, &leaves, &output, options)
    } else {
        check_jacobian(&f, &leaves, &output, options)
    }
}

/// Checks second derivatives: the gradient of `f` (taken with `create_graph` against a fixed
/// random output gradient) is itself gradient-checked.
///
/// # Errors
/// As [`gradcheck`], for the function x ↦ ∂(vᵀf)/∂x.
///
/// ```
/// use tapegrad_autograd::{Tensor, gradgradcheck, GradcheckOptions};
/// let x = Tensor::from_vec(vec![0.3, -1.2], &[2]).unwrap();
/// gradgradcheck(|x| x[0].sin() * &x[0], &[x], &GradcheckOptions::default()).unwrap();
/// ```
pub fn gradgradcheck(
    f: impl Fn(&[Tensor<f64>]) -> Tensor<f64>,
    inputs: &[Tensor<f64>],
    options: &GradcheckOptions,
) -> Result<(), GradcheckError> {
    let leaves: Vec<Tensor<f64>> = inputs.iter().map(|t| t.detach().requires_grad()).collect();
    let shape = f(&leaves).shape().to_vec();
    let v = Tensor::uniform(&shape, -1.0, 1.0, &mut StdRng::seed_from_u64(options.seed ^ 0x9e37_79b9));
    let first_derivative = |xs: &[Tensor<f64>]| {
        let y = f(xs);
        let refs: Vec<&Tensor<f64>> = xs.iter().collect();
        let grads = grad_with(&[&y], &[&v], &refs, true);
        let flat: Vec<Tensor<f64>> = grads.iter().map(|g| g.reshape([-1])).collect();
        Tensor::concat(&flat.iter().collect::<Vec<_>>(), 0)
    };
    gradcheck(first_derivative, inputs, options)
}

fn check_jacobian(
    f: &impl Fn(&[Tensor<f64>]) -> Tensor<f64>,
    leaves: &[Tensor<f64>],
    output: &Tensor<f64>,
    options: &GradcheckOptions,
) -> Result<(), GradcheckError> {
    let refs: Vec<&Tensor<f64>> = leaves.iter().collect();
    // analytic[k][j] = the gradient of output element j with respect to input k.
    let mut analytic: Vec<Vec<Vec<f64>>> = vec![Vec::new(); leaves.len()];
    for j in 0..output.numel() {
        let mut seed = vec![0.0; output.numel()];
        seed[j] = 1.0;
        let seed = Tensor::from_vec(seed, output.shape()).expect("same size");
        for (k, g) in grad_with(&[output], &[&seed], &refs, false).iter().enumerate() {
            analytic[k].push(g.to_vec());
        }
    }
    for (k, leaf) in leaves.iter().enumerate() {
        for e in 0..leaf.numel() {
            let plus = perturbed(f, leaves, k, |v| v[e] += options.eps);
            let minus = perturbed(f, leaves, k, |v| v[e] -= options.eps);
            for j in 0..output.numel() {
                let numeric = (plus[j] - minus[j]) / (2.0 * options.eps);
                let value = analytic[k][j][e];
                if let Some((difference, allowed)) = disagree(value, numeric, options) {
                    return Err(GradcheckError::Jacobian {
                        input: k,
                        shape: leaf.shape().to_vec(),
                        element: unravel(e, leaf.shape()),
                        output: unravel(j, output.shape()),
                        analytic: value,
                        numeric,
                        difference,
                        allowed,
                    });
                }
            }
        }
    }
    Ok(())
}

fn check_projections(
    f: &impl Fn(&[Tensor<f64>]) -> Tensor<f64>,
    leaves: &[Tensor<f64>],
    output: &Tensor<f64>,
    options: &GradcheckOptions,
) -> Result<(), GradcheckError> {
    let mut rng = StdRng::seed_from_u64(options.seed);
    let v = Tensor::uniform(output.shape(), -1.0, 1.0, &mut rng);
    let refs: Vec<&Tensor<f64>> = leaves.iter().collect();
    let grads = grad_with(&[output], &[&v], &refs, false);
    let v = v.to_vec();
    for (k, leaf) in leaves.iter().enumerate() {
        let u = Tensor::<f64>::uniform(leaf.shape(), -1.0, 1.0, &mut rng).to_vec();
        let analytic: f64 = grads[k].to_vec().iter().zip(&u).map(|(g, u)| g * u).sum();
        let step = |sign: f64| {
            let u = &u;
            move |x: &mut Vec<f64>| x.iter_mut().zip(u).for_each(|(x, u)| *x += sign * options.eps * u)
        };
        let plus = perturbed(f, leaves, k, step(1.0));
        let minus = perturbed(f, leaves, k, step(-1.0));
        let numeric: f64 = (0..v.len()).map(|j| v[j] * (plus[j] - minus[j]) / (2.0 * options.eps)).sum();
        if let Some((difference, allowed)) = disagree(analytic, numeric, options) {
            return Err(GradcheckError::Projection {
                input: k,
                shape: leaf.shape().to_vec(),
                analytic,
                numeric,
                difference,
                allowed,
            });
        }
    }
    Ok(())
}

/// The output of `f` with input `k`'s values changed by `change` (the others as they are).
fn perturbed(
    f: &impl Fn(&[Tensor<f64>]) -> Tensor<f64>,
    leaves: &[Tensor<f64>],
    k: usize,
    change: impl FnOnce(&mut Vec<f64>),
) -> Vec<f64> {
    let mut values = leaves[k].to_vec();
    change(&mut values);
    let mut inputs = leaves.to_vec();
    inputs[k] = Tensor::from_vec(values, leaves[k].shape()).expect("same size").requires_grad();
    f(&inputs).to_vec()
}

/// `Some((|a − n|, allowed))` if the two derivatives disagree beyond the tolerance.
fn disagree(analytic: f64, numeric: f64, options: &GradcheckOptions) -> Option<(f64, f64)> {
    let difference = (analytic - numeric).abs();
    let allowed = options.atol + options.rtol * numeric.abs();
    (difference > allowed || difference.is_nan()).then_some((difference, allowed))
}

/// The multi-index of flat position `flat` in `shape`.
fn unravel(mut flat: usize, shape: &[usize]) -> Vec<usize> {
    let mut index = vec![0; shape.len()];
    for d in (0..shape.len()).rev() {
        index[d] = flat % shape[d];
        flat /= shape[d];
    }
    index
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::{Context, Function, Saved, apply};

    /// sin with a deliberately wrong derivative (sin instead of cos).
    struct WrongSin;
    impl Function<f64> for WrongSin {
        fn name(&self) -> &str {
            "wrong_sin"
        }
        fn forward(&self, ctx: &mut Context<f64>, inputs: &[Tensor<f64>]) -> Tensor<f64> {
            ctx.save(&inputs[0]);
            inputs[0].sin()
        }
        fn backward(&self, saved: &Saved<f64>, grad: &Tensor<f64>) -> Vec<Option<Tensor<f64>>> {
            vec![Some(grad * &saved.get(0).sin())]
        }
    }

    #[test]
    fn a_wrong_derivative_fails_and_is_named() {
        let x = Tensor::from_vec(vec![0.5, 1.0], &[2]).unwrap();
        let err =
            gradcheck(|x| apply(Arc::new(WrongSin), &[&x[0]]), std::slice::from_ref(&x), &GradcheckOptions::default())
                .unwrap_err();
        match &err {
            GradcheckError::Jacobian { input: 0, element, output, analytic, numeric, .. } => {
                assert_eq!((element.as_slice(), output.as_slice()), (&[0][..], &[0][..]));
                assert!((analytic - 0.5f64.sin()).abs() < 1e-12 && (numeric - 0.5f64.cos()).abs() < 1e-6);
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(err.to_string().starts_with("gradcheck: d output[0] / d input 0[0] (input shape [2]): analytic"));
        let fast = GradcheckOptions { fast: true, ..Default::default() };
        assert!(matches!(
            gradcheck(|x| apply(Arc::new(WrongSin), &[&x[0]]), &[x], &fast),
            Err(GradcheckError::Projection { input: 0, .. })
        ));
    }

    #[test]
    fn a_correct_derivative_passes_in_both_modes() {
        let x = Tensor::from_vec(vec![0.5, -1.0, 2.0, 0.1], &[2, 2]).unwrap();
        let w = Tensor::from_vec(vec![1.5, -0.5], &[2]).unwrap();
        let f = |x: &[Tensor<f64>]| (x[0].exp() * &x[1]).sum_dim(1, false);
        gradcheck(f, &[x.clone(), w.clone()], &GradcheckOptions::default()).unwrap();
        gradcheck(f, &[x, w], &GradcheckOptions { fast: true, ..Default::default() }).unwrap();
    }
}
