//! Convolution and pooling forwards against direct loops written from their definitions
//! (the gradient checks only show that backward matches forward, not that forward is right),
//! and their shape errors.

use proptest::prelude::*;
use tapegrad_autograd::{ConvOptions, Tensor};

/// y[n, o, i, j] = b[o] + Σ_{c in o's group, p, q} x[n, c, i·s − pad + p·d, j·s − pad + q·d] · w[o, c', p, q].
fn direct_conv(x: &Tensor<f64>, w: &Tensor<f64>, b: &[f64], s: usize, pad: usize, d: usize, groups: usize) -> Vec<f64> {
    let (xs, ws) = (x.shape().to_vec(), w.shape().to_vec());
    let (n, c, h, wd) = (xs[0], xs[1], xs[2], xs[3]);
    let (o, cg, kh, kw) = (ws[0], ws[1], ws[2], ws[3]);
    let og = o / groups;
    let oh = (h + 2 * pad - d * (kh - 1) - 1) / s + 1;
    let ow = (wd + 2 * pad - d * (kw - 1) - 1) / s + 1;
    let mut out = Vec::new();
    for ni in 0..n {
        for (oi, &bias) in b.iter().enumerate().take(o) {
            for i in 0..oh {
                for j in 0..ow {
                    let mut acc = bias;
                    for ci in 0..cg {
                        let channel = oi / og * cg + ci;
                        assert!(channel < c);
                        for p in 0..kh {
                            for q in 0..kw {
                                let (y, z) =
                                    ((i * s + p * d) as isize - pad as isize, (j * s + q * d) as isize - pad as isize);
                                if y >= 0 && z >= 0 && (y as usize) < h && (z as usize) < wd {
                                    acc += x.get(&[ni, channel, y as usize, z as usize]) * w.get(&[oi, ci, p, q]);
                                }
                            }
                        }
                    }
                    out.push(acc);
                }
            }
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]
    #[test]
    fn conv2d_matches_the_definition(
        n in 1usize..3, groups in 1usize..3, cg in 1usize..4, og in 1usize..3, k in 1usize..4,
        extra in 0usize..6, s in 1usize..3, pad in 0usize..3, d in 1usize..3, seed in any::<u64>(),
    ) {
        let size = d * (k - 1) + 1 + extra;
        let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(seed);
        let x = Tensor::<f64>::uniform(&[n, groups * cg, size, size + 1], -1.0, 1.0, &mut rng);
        let w = Tensor::<f64>::uniform(&[groups * og, cg, k, k], -1.0, 1.0, &mut rng);
        let b = Tensor::<f64>::uniform(&[groups * og], -1.0, 1.0, &mut rng);
        let options = ConvOptions::default().stride(s).padding(pad).dilation(d).groups(groups);
        let y = x.conv2d(&w, Some(&b), options);
        let expected = direct_conv(&x, &w, &b.to_vec(), s, pad, d, groups);
        prop_assert_eq!(y.numel(), expected.len());
        for (a, e) in y.to_vec().iter().zip(&expected) {
            prop_assert!((a - e).abs() < 1e-12, "{} vs {}", a, e);
        }
        // f32 takes the AVX2 GEMM where the CPU has it: same numbers to f32 precision.
        let y32 = Tensor::<f32>::from_vec(x.to_vec().iter().map(|&v| v as f32).collect(), x.shape()).unwrap()
            .conv2d(&Tensor::from_vec(w.to_vec().iter().map(|&v| v as f32).collect(), w.shape()).unwrap(),
                Some(&Tensor::from_vec(b.to_vec().iter().map(|&v| v as f32).collect(), b.shape()).unwrap()), options);
        for (a, e) in y32.to_vec().iter().zip(&expected) {
            prop_assert!((*a as f64 - e).abs() < 1e-4, "{} vs {}", a, e);
        }
    }
}

#[test]
fn same_padding_keeps_the_size_with_even_kernels_too() {
    let x = Tensor::<f64>::ones(&[1, 1, 5, 6]);
    let y = x.conv2d(&Tensor::ones(&[1, 1, 2, 4]), None, ConvOptions::default().padding_same());
    assert_eq!(y.shape(), &[1, 1, 5, 6]);
    // PyTorch pads the odd extra zero after: the top-left window sees rows 0..2, columns 0..3
    // (one zero column before), i.e. 2·3 = 6 ones; the bottom-right sees 1 row and 2 columns.
    assert_eq!(y.get(&[0, 0, 0, 0]), 6.0);
    assert_eq!(y.get(&[0, 0, 4, 5]), 2.0);
}

#[test]
fn conv_transpose2d_is_the_adjoint_of_conv2d() {
    // ⟨conv2d(x, w), g⟩ = ⟨x, conv_transpose2d(g, w)⟩ for every x and g.
    let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(3);
    let options = ConvOptions::default().stride(2).padding(1).dilation([1, 2]).groups(2);
    let x = Tensor::<f64>::uniform(&[2, 4, 7, 8], -1.0, 1.0, &mut rng);
    let w = Tensor::<f64>::uniform(&[6, 2, 3, 2], -1.0, 1.0, &mut rng);
    let y = x.conv2d(&w, None, options);
    let g = Tensor::<f64>::uniform(y.shape(), -1.0, 1.0, &mut rng);
    let back = g.conv_transpose2d(&w, None, options, [0, 1]); // width 8 and 7 both give 4 outputs
    assert_eq!(back.shape(), x.shape());
    let lhs = (&y * &g).sum().item();
    let rhs = (&x * &back).sum().item();
    assert!((lhs - rhs).abs() < 1e-10, "{lhs} vs {rhs}");
}

#[test]
fn pooling_matches_hand_computed_values() {
    let x = Tensor::<f64>::from_vec(vec![1.0, 5.0, 2.0, 0.0, 3.0, 4.0, 9.0, 9.0, 8.0], &[1, 1, 3, 3]).unwrap();
    // 2×2 windows, stride 1: max of each; ties (the two 9s) go to the first.
    assert_eq!(x.max_pool2d(2, 1, 0).to_vec(), vec![5.0, 5.0, 9.0, 9.0]);
    assert_eq!(x.avg_pool2d(2, 1, 0).to_vec(), vec![2.25, 3.5, 5.25, 6.0]);
    // With padding 1, stride 2: windows at the corners see one, two or four real elements;
    // avg_pool2d counts the padding zeros (count_include_pad=True).
    assert_eq!(x.max_pool2d(2, 2, 1).to_vec(), vec![1.0, 5.0, 9.0, 9.0]);
    assert_eq!(x.avg_pool2d(2, 2, 1).to_vec(), vec![0.25, 1.75, 2.25, 6.0]);
    let tie = x.detach().requires_grad();
    tie.max_pool2d([1, 2], 1, 0).sum().backward();
    // Row 2 is [9, 9, 8]: the tied window (9, 9) sends its gradient to the first 9 only.
    assert_eq!(tie.grad().unwrap().to_vec(), vec![0.0, 2.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 0.0]);
    assert_eq!(x.adaptive_avg_pool2d(1).to_vec(), vec![41.0 / 9.0]);
}

#[test]
fn max_pooling_is_the_gather_at_its_arg_max_with_or_without_a_tape() {
    // The kernel finds the maxima itself; only a recording call keeps their positions, as
    // the gather it records. Both must give the gather's values, bit for bit (signed zeros
    // and NaNs included), and the gradient must reach the first maximum.
    let values = vec![-0.0, 0.0, 3.0, f64::NAN, 1.0, -f64::NAN, 3.0, 2.0, 0.0, -0.0, -1.0, -2.0];
    let x = Tensor::<f64>::from_vec(values, &[1, 1, 3, 4]).unwrap().requires_grad();
    let bits = |t: &Tensor<f64>| t.to_vec().iter().map(|v| v.to_bits()).collect::<Vec<_>>();
    let recorded = x.max_pool2d([1, 2], [1, 2], 0);
    let plain = tapegrad_autograd::no_grad(|| x.max_pool2d([1, 2], [1, 2], 0));
    assert!(recorded.tracks_grad() && !plain.tracks_grad());
    let expected = [-0.0, f64::NAN, -f64::NAN, 3.0, 0.0, -1.0];
    assert_eq!(bits(&recorded), expected.map(f64::to_bits));
    assert_eq!(bits(&plain), expected.map(f64::to_bits));
    recorded.sum().backward();
    assert_eq!(x.grad().unwrap().to_vec(), vec![1.0, 0.0, 0.0, 1.0, 0.0, 1.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0]);
}

#[test]
#[should_panic(expected = "conv2d: input [2, 3, 8, 8] has 3 channels but weight [4, 2, 3, 3] with groups 1 expects 2")]
fn conv2d_names_the_shapes_on_a_channel_mismatch() {
    Tensor::<f32>::zeros(&[2, 3, 8, 8]).conv2d(&Tensor::zeros(&[4, 2, 3, 3]), None, ConvOptions::default());
}

#[test]
#[should_panic(
    expected = "conv2d: kernel [5, 5] with dilation [1, 1] does not fit input [1, 1, 4, 4] padded by [[0, 0], [0, 0]]"
)]
fn conv2d_names_the_shapes_when_the_kernel_does_not_fit() {
    Tensor::<f32>::zeros(&[1, 1, 4, 4]).conv2d(&Tensor::zeros(&[1, 1, 5, 5]), None, ConvOptions::default());
}

#[test]
#[should_panic(expected = "max_pool2d: kernel [2, 2] with padding [2, 2]")]
fn pooling_refuses_padding_over_half_the_kernel() {
    Tensor::<f32>::zeros(&[1, 1, 4, 4]).max_pool2d(2, 2, 2);
}

#[test]
fn results_do_not_depend_on_the_thread_count() {
    let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(9);
    let x = Tensor::<f32>::uniform(&[64, 3, 16, 16], -1.0, 1.0, &mut rng);
    let w = Tensor::<f32>::uniform(&[8, 3, 3, 3], -1.0, 1.0, &mut rng).requires_grad();
    let run = |threads: usize| {
        let pool = rayon_core::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        pool.install(|| {
            w.zero_grad();
            let y = x.conv2d(&w, None, ConvOptions::default().padding(1)).max_pool2d(2, 2, 0);
            (&y * &y).sum().backward();
            (y.to_vec(), w.grad().unwrap().to_vec())
        })
    };
    assert_eq!(run(1), run(2));
    assert_eq!(run(1), run(3));
}
