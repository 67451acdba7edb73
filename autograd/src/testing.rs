//! Proptest strategies for tensors (feature `proptest`): random shapes (with size-1 and
//! zero-size axes), broadcast-compatible shape pairs, values kept away from kinks and poles,
//! and layouts that are not contiguous, so users test their own ops the way tapegrad tests
//! its own.
//!
//! ```
//! use proptest::prelude::*;
//! use tapegrad_autograd::testing::{Domain, shape, tensor};
//! use tapegrad_autograd::{GradcheckOptions, gradcheck};
//!
//! proptest!(|(x in shape(3, 3).prop_flat_map(|s| tensor(s, Domain::Any)))| {
//!     gradcheck(|x| x[0].tanh(), &[x], &GradcheckOptions::default()).unwrap();
//! });
//! ```

use proptest::collection::vec;
use proptest::prelude::*;

// Public paths only: tapegrad's own gradient tests include this file as a module of their
// own (see autograd/tests/gradcheck_ops.rs), so a plain `cargo build` never needs proptest.
use tapegrad_autograd::shape::numel;
use tapegrad_autograd::{Array, Tensor};

/// Where values are drawn from, so finite differences never straddle a kink or a pole.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Domain {
    /// Anywhere in [−2, 2]: for functions smooth everywhere.
    Any,
    /// In [−2, −0.2] ∪ [0.2, 2]: for relu, abs, division, and anything with a kink or pole at 0.
    AwayFromZero,
    /// In [0.5, 2]: for ln, sqrt and powers with real exponents.
    Positive,
    /// In [−2, 2] but at least 0.2 from −1 and 1: for clamp to [−1, 1].
    AwayFromPlusMinusOne,
}

/// How a tensor's elements lie in storage.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// Row-major, gap-free.
    Contiguous,
    /// A permuted view (axes reversed), or a strided one for 1-D tensors.
    Transposed,
    /// Some axes broadcast from size 1 (stride 0): repeated values.
    Broadcast,
}

/// One value from `domain`.
pub fn value(domain: Domain) -> BoxedStrategy<f64> {
    match domain {
        Domain::Any => (-2.0..2.0f64).boxed(),
        Domain::AwayFromZero => (0.2..2.0f64, any::<bool>()).prop_map(|(v, neg)| if neg { -v } else { v }).boxed(),
        Domain::Positive => (0.5..2.0f64).boxed(),
        Domain::AwayFromPlusMinusOne => prop_oneof![-2.0..-1.2f64, -0.8..0.8f64, 1.2..2.0f64].boxed(),
    }
}

/// A size for one axis: mostly 2 to `max_size`, sometimes 1, rarely 0.
pub fn size(max_size: usize) -> BoxedStrategy<usize> {
    prop_oneof![1 => Just(0usize), 3 => Just(1usize), 8 => 2..=max_size.max(2)].boxed()
}

/// A shape of up to `max_rank` axes (possibly zero-dimensional).
pub fn shape(max_rank: usize, max_size: usize) -> BoxedStrategy<Vec<usize>> {
    vec(size(max_size), 0..=max_rank).boxed()
}

/// A shape with no zero-size axis (for reductions like max that need an element).
pub fn nonempty_shape(max_rank: usize, max_size: usize) -> BoxedStrategy<Vec<usize>> {
    vec(1..=max_size.max(1), 0..=max_rank).boxed()
}

/// Two shapes that broadcast together under NumPy's rule: aligned at the right, each axis
/// equal or 1 in one of them, ranks possibly different.
pub fn broadcast_pair(max_rank: usize, max_size: usize) -> BoxedStrategy<(Vec<usize>, Vec<usize>)> {
    (shape(max_rank, max_size), 0..=max_rank, any::<u64>())
        .prop_map(|(full, drop_b, bits)| {
            let ones = |s: &[usize], salt: u64| -> Vec<usize> {
                s.iter()
                    .enumerate()
                    .map(|(i, &d)| if (bits >> ((i as u64 * 2 + salt) % 64)) & 1 == 1 { 1 } else { d })
                    .collect()
            };
            let a = ones(&full, 0);
            let b_full = ones(&full, 1);
            let b = b_full[drop_b.min(b_full.len())..].to_vec();
            (a, b)
        })
        .boxed()
}

/// A tensor of `shape` with values from `domain` and any layout.
pub fn tensor(shape: Vec<usize>, domain: Domain) -> BoxedStrategy<Tensor<f64>> {
    prop_oneof![Just(Layout::Contiguous), Just(Layout::Transposed), Just(Layout::Broadcast)]
        .prop_flat_map(move |layout| tensor_with_layout(shape.clone(), domain, layout))
        .boxed()
}

/// A tensor of `shape` with values from `domain`, laid out as `layout`.
pub fn tensor_with_layout(shape: Vec<usize>, domain: Domain, layout: Layout) -> BoxedStrategy<Tensor<f64>> {
    match layout {
        Layout::Contiguous => vec(value(domain), numel(&shape))
            .prop_map(move |v| Tensor::from_vec(v, &shape).expect("sized to the shape"))
            .boxed(),
        Layout::Transposed if shape.len() >= 2 => {
            let reversed: Vec<usize> = shape.iter().rev().copied().collect();
            let perm: Vec<usize> = (0..shape.len()).rev().collect();
            vec(value(domain), numel(&shape))
                .prop_map(move |v| Tensor::from_array(Array::from_vec(v, &reversed).expect("sized").permute(&perm)))
                .boxed()
        }
        Layout::Transposed => {
            // Every other element of a longer buffer: a stride of 2.
            let n = numel(&shape);
            vec(value(domain), 2 * n)
                .prop_map(move |v| {
                    let strided = Array::from_vec(v, &[n, 2]).expect("sized").narrow(1, 0, 1).reshape(&shape);
                    Tensor::from_array(strided)
                })
                .boxed()
        }
        Layout::Broadcast => {
            let shape_for_mask = shape.clone();
            vec(any::<bool>(), shape.len())
                .prop_flat_map(move |mask| {
                    let source: Vec<usize> =
                        shape_for_mask.iter().zip(&mask).map(|(&d, &stretch)| if stretch { 1 } else { d }).collect();
                    let target = shape_for_mask.clone();
                    vec(value(domain), numel(&source)).prop_map(move |v| {
                        Tensor::from_array(Array::from_vec(v, &source).expect("sized").expand(&target))
                    })
                })
                .boxed()
        }
    }
}
