//! Every differentiable op against central finite differences, in f64: one row per op, one
//! property test running every row over random shapes (size-1 and zero-size axes,
//! broadcasting) and layouts (contiguous, transposed, broadcast views). Each row is also
//! checked to second order. Adding an op adds one row.

/// The strategies users get with the `proptest` feature, compiled into this test rather
/// than through a dev-dependency on ourselves with that feature, which would turn the
/// feature (and proptest) on in every build of the workspace that includes examples.
#[path = "../src/testing.rs"]
#[allow(dead_code)]
mod testing;

use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use tapegrad_autograd::shape::broadcast_shapes;
use tapegrad_autograd::*;
use testing::{Domain, Layout, broadcast_pair, nonempty_shape, shape, tensor, tensor_with_layout};

type Inputs = Vec<Tensor<f64>>;

/// One op under test: its inputs' strategy and the function of them to check. `salt` is a
/// random number fixed per case, from which rows pick axes, indices and flags.
struct Row {
    name: &'static str,
    inputs: fn() -> BoxedStrategy<Inputs>,
    f: fn(&[Tensor<f64>], u64) -> Tensor<f64>,
}

fn rows() -> Vec<Row> {
    use Domain::*;
    vec![
        // unary elementwise
        Row { name: "neg", inputs: || one(Any), f: |x, _| -&x[0] },
        Row { name: "recip", inputs: || one(AwayFromZero), f: |x, _| x[0].recip() },
        Row { name: "exp", inputs: || one(Any), f: |x, _| x[0].exp() },
        Row { name: "ln", inputs: || one(Positive), f: |x, _| x[0].ln() },
        Row { name: "sqrt", inputs: || one(Positive), f: |x, _| x[0].sqrt() },
        Row { name: "abs", inputs: || one(AwayFromZero), f: |x, _| x[0].abs() },
        Row { name: "sin", inputs: || one(Any), f: |x, _| x[0].sin() },
        Row { name: "cos", inputs: || one(Any), f: |x, _| x[0].cos() },
        Row { name: "erf", inputs: || one(Any), f: |x, _| x[0].erf() },
        Row { name: "relu", inputs: || one(AwayFromZero), f: |x, _| x[0].relu() },
        Row { name: "leaky_relu", inputs: || one(AwayFromZero), f: |x, _| x[0].leaky_relu(0.1) },
        Row { name: "sigmoid", inputs: || one(Any), f: |x, _| x[0].sigmoid() },
        Row { name: "tanh", inputs: || one(Any), f: |x, _| x[0].tanh() },
        Row { name: "softplus", inputs: || one(Any), f: |x, _| x[0].softplus() },
        Row { name: "gelu", inputs: || one(Any), f: |x, _| x[0].gelu() },
        Row { name: "powf", inputs: || one(Positive), f: |x, _| x[0].powf(2.5) },
        Row { name: "powf_integer_negative_base", inputs: || one(AwayFromZero), f: |x, _| x[0].powf(3.0) },
        Row { name: "square", inputs: || one(Any), f: |x, _| x[0].square() },
        Row { name: "clamp", inputs: || one(AwayFromPlusMinusOne), f: |x, _| x[0].clamp(-1.0, 1.0) },
        Row { name: "add_scalar", inputs: || one(Any), f: |x, _| &x[0] + 0.7 },
        Row { name: "scalar_sub", inputs: || one(Any), f: |x, _| 0.7 - &x[0] },
        Row { name: "mul_scalar", inputs: || one(Any), f: |x, _| &x[0] * -1.3 },
        Row { name: "div_scalar", inputs: || one(Any), f: |x, _| &x[0] / 3.0 },
        Row { name: "scalar_div", inputs: || one(AwayFromZero), f: |x, _| 2.0 / &x[0] },
        // binary elementwise, broadcasting
        Row { name: "add", inputs: || two(Any, Any), f: |x, _| &x[0] + &x[1] },
        Row { name: "sub", inputs: || two(Any, Any), f: |x, _| &x[0] - &x[1] },
        Row { name: "mul", inputs: || two(Any, Any), f: |x, _| &x[0] * &x[1] },
        Row { name: "div", inputs: || two(Any, AwayFromZero), f: |x, _| &x[0] / &x[1] },
        Row { name: "pow", inputs: || two(Positive, Any), f: |x, _| x[0].pow(&x[1]) },
        Row { name: "maximum", inputs: || two(Any, Any), f: |x, _| x[0].maximum(&x[1]) },
        Row { name: "minimum", inputs: || two(Any, Any), f: |x, _| x[0].minimum(&x[1]) },
        Row { name: "fan_out", inputs: || one(Any), f: |x, _| &x[0] * &x[0] + &x[0] },
        Row {
            name: "where_cond",
            inputs: || two(Any, Any),
            f: |x, salt| {
                let shape = broadcast_shapes("test", x[0].shape(), x[1].shape());
                pattern(&shape, salt).where_cond(&x[0], &x[1])
            },
        },
        // reductions
        Row { name: "sum", inputs: || one(Any), f: |x, _| x[0].sum() },
        Row { name: "sum_dim", inputs: || ranked(Any, 1), f: |x, s| x[0].sum_dim(axes(&x[0], s), keepdim(s)) },
        Row { name: "mean", inputs: || filled(1, 1), f: |x, s| x[0].mean_dim(axes(&x[0], s), keepdim(s)) },
        Row {
            name: "var",
            inputs: || filled(1, 2),
            f: |x, s| x[0].var_dim(axes(&x[0], s), (s % 2) as usize, keepdim(s)),
        },
        Row { name: "max", inputs: || distinct(0), f: |x, _| x[0].max() },
        Row { name: "max_dim", inputs: || distinct(1), f: |x, s| x[0].max_dim(axes(&x[0], s), keepdim(s)) },
        Row { name: "min_dim", inputs: || distinct(1), f: |x, s| x[0].min_dim(axes(&x[0], s), keepdim(s)) },
        Row { name: "logsumexp", inputs: || filled(1, 1), f: |x, s| x[0].logsumexp(axes(&x[0], s), keepdim(s)) },
        Row {
            name: "sum_to",
            inputs: || ranked(Any, 1),
            f: |x, s| x[0].expand(&wider(x[0].shape(), s)).sum_to(x[0].shape()),
        },
        // softmax family
        Row { name: "softmax", inputs: || ranked(Any, 1), f: |x, s| x[0].softmax(axis(&x[0], s)) },
        Row { name: "log_softmax", inputs: || ranked(Any, 1), f: |x, s| x[0].log_softmax(axis(&x[0], s)) },
        // matmul, numpy rules
        Row { name: "matmul", inputs: matmul_inputs, f: |x, _| x[0].matmul(&x[1]) },
        // movement
        Row { name: "reshape", inputs: || one(Any), f: |x, _| x[0].reshape([-1]) },
        Row { name: "permute", inputs: || ranked(Any, 2), f: |x, s| x[0].permute(&permutation(x[0].ndim(), s)) },
        Row { name: "transpose", inputs: || ranked(Any, 2), f: |x, _| x[0].t() },
        Row { name: "expand", inputs: || one(Any), f: |x, s| x[0].expand(&wider(x[0].shape(), s)) },
        Row { name: "narrow", inputs: || ranked(Any, 1), f: |x, s| narrowed(&x[0], s) },
        Row { name: "squeeze_unsqueeze", inputs: || one(Any), f: |x, _| x[0].unsqueeze(0).unsqueeze(-1).squeeze(0) },
        Row { name: "flatten", inputs: || ranked(Any, 2), f: |x, _| x[0].flatten(1, -1) },
        Row { name: "concat", inputs: || concat_inputs(0), f: |x, _| Tensor::concat(&[&x[0], &x[1]], 0) },
        Row { name: "concat_last_axis", inputs: || concat_inputs(1), f: |x, _| Tensor::concat(&[&x[0], &x[1]], -1) },
        Row {
            name: "stack",
            inputs: || same_shape_pair(Any),
            f: |x, s| Tensor::stack(&[&x[0], &x[1]], axis_for(x[0].ndim() + 1, s)),
        },
        Row { name: "split", inputs: || ranked(Any, 1), f: |x, s| weighted_split(&x[0], s) },
        // indexing
        Row { name: "index_select", inputs: || ranked(Any, 1), f: |x, s| index_selected(&x[0], s) },
        Row { name: "gather", inputs: || ranked(Any, 1), f: |x, s| gathered(&x[0], s) },
        Row { name: "scatter_add", inputs: || ranked(Any, 1), f: |x, s| scattered(&x[0], s) },
        Row { name: "index_add", inputs: || ranked(Any, 1), f: |x, s| index_added(&x[0], s) },
        // convolution and pooling (fewer cases: each is hundreds of convolutions)
        Row {
            name: "conv2d",
            inputs: || conv_inputs(2),
            f: |x, s| x[0].conv2d(&x[1], Some(&x[2]), conv_options(&x[0], &x[1], s)),
        },
        Row {
            name: "conv1d",
            inputs: || conv_inputs(1),
            f: |x, s| x[0].conv1d(&x[1], Some(&x[2]), conv_options(&x[0], &x[1], s)),
        },
        Row { name: "conv_transpose2d", inputs: conv_transpose_inputs, f: |x, s| transposed_conv(x, s) },
        Row {
            name: "max_pool2d",
            inputs: distinct_images,
            f: |x, s| x[0].max_pool2d(pool_window(&x[0], s), 1 + (s >> 4) as usize % 2, 0),
        },
        Row { name: "max_pool2d_padded", inputs: distinct_images, f: |x, _| x[0].max_pool2d(2, 1, 1) },
        Row { name: "avg_pool2d", inputs: || images(Domain::Any), f: |x, s| avg_pooled(&x[0], s) },
        Row { name: "adaptive_avg_pool2d", inputs: || images(Domain::Any), f: |x, s| adaptive_pooled(&x[0], s) },
        // the test's own custom op, through the extension trait
        Row { name: "custom_op", inputs: || one(Any), f: |x, _| Softsign.apply(&[&x[0]]) },
    ]
}

/// Rows whose every case runs hundreds of convolutions get a quarter of the cases.
fn cases_for(row: &Row, per_row: u32) -> Config {
    let heavy = row.name.starts_with("conv") || row.name.contains("pool");
    cases(if heavy { per_row / 4 } else { per_row })
}

fn cases(per_row: u32) -> Config {
    Config { cases: per_row, failure_persistence: None, ..Config::default() }
}

#[test]
fn every_op_matches_finite_differences() {
    let options = GradcheckOptions::default();
    for row in rows() {
        let mut runner =
            TestRunner::new_with_rng(cases_for(&row, 256), TestRng::deterministic_rng(RngAlgorithm::ChaCha));
        let strategy = ((row.inputs)(), any::<u64>());
        let outcome = runner.run(&strategy, |(inputs, salt)| {
            gradcheck(|x| (row.f)(x, salt), &inputs, &options).map_err(|e| TestCaseError::fail(e.to_string()))
        });
        if let Err(e) = outcome {
            panic!("row {}: {e}", row.name);
        }
    }
}

#[test]
fn every_op_matches_finite_differences_to_second_order() {
    // Second differences of first derivatives: a looser absolute tolerance for the
    // cancellation of twice-differenced values.
    let options = GradcheckOptions { atol: 1e-4, ..Default::default() };
    for row in rows() {
        let mut runner =
            TestRunner::new_with_rng(cases_for(&row, 64), TestRng::deterministic_rng(RngAlgorithm::ChaCha));
        let strategy = ((row.inputs)(), any::<u64>());
        let outcome = runner.run(&strategy, |(inputs, salt)| {
            gradgradcheck(|x| (row.f)(x, salt), &inputs, &options).map_err(|e| TestCaseError::fail(e.to_string()))
        });
        if let Err(e) = outcome {
            panic!("row {} (second order): {e}", row.name);
        }
    }
}

#[test]
fn the_table_covers_every_differentiable_op() {
    // The ops the README promises to differentiate; each must have a row.
    let promised = [
        "neg",
        "add",
        "sub",
        "mul",
        "div",
        "powf",
        "pow",
        "exp",
        "ln",
        "sqrt",
        "abs",
        "sin",
        "cos",
        "relu",
        "leaky_relu",
        "sigmoid",
        "tanh",
        "softplus",
        "gelu",
        "clamp",
        "maximum",
        "minimum",
        "where_cond",
        "sum",
        "mean",
        "var",
        "max",
        "min_dim",
        "logsumexp",
        "matmul",
        "softmax",
        "log_softmax",
        "reshape",
        "transpose",
        "permute",
        "squeeze_unsqueeze",
        "flatten",
        "concat",
        "stack",
        "split",
        "index_select",
        "gather",
        "expand",
        "narrow",
        "erf",
        "recip",
        "scatter_add",
        "index_add",
        "conv2d",
        "conv1d",
        "conv_transpose2d",
        "max_pool2d",
        "avg_pool2d",
        "adaptive_avg_pool2d",
    ];
    let names: Vec<&str> = rows().iter().map(|r| r.name).collect();
    for op in promised {
        assert!(names.contains(&op), "no gradcheck row for {op}");
    }
}

// ---- input strategies ----

fn one(domain: Domain) -> BoxedStrategy<Inputs> {
    shape(3, 4).prop_flat_map(move |s| tensor(s, domain)).prop_map(|t| vec![t]).boxed()
}

/// One tensor with at least `min_rank` axes.
fn ranked(domain: Domain, min_rank: usize) -> BoxedStrategy<Inputs> {
    shape(3, 4)
        .prop_filter("rank", move |s| s.len() >= min_rank)
        .prop_flat_map(move |s| tensor(s, domain))
        .prop_map(|t| vec![t])
        .boxed()
}

/// One tensor with at least `min_rank` axes, each of at least `min_size` (means and
/// variances of nothing are NaN).
fn filled(min_rank: usize, min_size: usize) -> BoxedStrategy<Inputs> {
    proptest::collection::vec(min_size..=4usize, min_rank..=3)
        .prop_flat_map(|s| tensor(s, Domain::Any))
        .prop_map(|t| vec![t])
        .boxed()
}

/// Two tensors whose shapes broadcast together.
fn two(a: Domain, b: Domain) -> BoxedStrategy<Inputs> {
    broadcast_pair(3, 4)
        .prop_flat_map(move |(sa, sb)| (tensor(sa, a), tensor(sb, b)))
        .prop_map(|(a, b)| vec![a, b])
        .boxed()
}

fn same_shape_pair(domain: Domain) -> BoxedStrategy<Inputs> {
    shape(2, 3)
        .prop_flat_map(move |s| (tensor(s.clone(), domain), tensor(s, domain)))
        .prop_map(|(a, b)| vec![a, b])
        .boxed()
}

/// Distinct values (at least 0.1 apart) so max and min have no ties; never broadcast views,
/// whose repeated values are ties.
fn distinct(min_rank: usize) -> BoxedStrategy<Inputs> {
    nonempty_shape(3, 3)
        .prop_filter("rank", move |s| s.len() >= min_rank)
        .prop_flat_map(|s| {
            let n: usize = s.iter().product();
            let values: Vec<f64> = (0..n).map(|i| i as f64 * 0.1 - 1.0).collect();
            (Just(s), Just(values).prop_shuffle(), any::<bool>())
        })
        .prop_map(|(s, values, transposed)| {
            if transposed && s.len() >= 2 {
                let reversed: Vec<usize> = s.iter().rev().copied().collect();
                let perm: Vec<usize> = (0..s.len()).rev().collect();
                vec![Tensor::from_array(Array::from_vec(values, &reversed).unwrap().permute(&perm))]
            } else {
                vec![Tensor::from_vec(values, &s).unwrap()]
            }
        })
        .boxed()
}

/// Matmul operands under numpy's rules: vectors, matrices and broadcast batches.
fn matmul_inputs() -> BoxedStrategy<Inputs> {
    let dims = (1usize..4, 1usize..4, 1usize..4, 1usize..3, 0usize..6);
    dims.prop_flat_map(|(m, k, n, b, kind)| {
        let (sa, sb): (Vec<usize>, Vec<usize>) = match kind {
            0 => (vec![k], vec![k]),
            1 => (vec![k], vec![k, n]),
            2 => (vec![m, k], vec![k]),
            3 => (vec![m, k], vec![k, n]),
            4 => (vec![b, m, k], vec![k, n]),
            _ => (vec![b, 1, m, k], vec![2, k, n]),
        };
        (tensor(sa, Domain::Any), tensor(sb, Domain::Any))
    })
    .prop_map(|(a, b)| vec![a, b])
    .boxed()
}

/// Two matrices that agree off `axis`, in any layout.
fn concat_inputs(axis: usize) -> BoxedStrategy<Inputs> {
    (0usize..4, 1usize..4, 1usize..4)
        .prop_flat_map(move |(a, b, c)| {
            let (sa, sb) = if axis == 0 { (vec![a, c], vec![b, c]) } else { (vec![c, a], vec![c, b]) };
            (tensor(sa, Domain::Any), tensor(sb, Domain::Any))
        })
        .prop_map(|(a, b)| vec![a, b])
        .boxed()
}

/// Input, weight and bias of a convolution with `spatial` axes (1 or 2): 1–2 samples, 1–2
/// groups of 1–2 channels in and out, kernels of 1–3, inputs at least as large as the
/// kernel. The options come from the salt ([`conv_options`]).
fn conv_inputs(spatial: usize) -> BoxedStrategy<Inputs> {
    let sizes =
        (1usize..3, 1usize..3, 1usize..3, 1usize..3, proptest::collection::vec((1usize..4, 0usize..3), spatial));
    sizes
        .prop_flat_map(move |(n, groups, cg, og, axes)| {
            let mut xs = vec![n, groups * cg];
            let mut ws = vec![groups * og, cg];
            for (k, extra) in axes {
                xs.push(k + extra);
                ws.push(k);
            }
            (tensor(xs, Domain::Any), tensor(ws, Domain::Any), tensor(vec![groups * og], Domain::Any))
        })
        .prop_map(|(x, w, b)| vec![x, w, b])
        .boxed()
}

/// Stride 1–2, padding 0–2 or "same", dilation 1–2 where the kernel still fits.
fn conv_options(x: &Tensor<f64>, w: &Tensor<f64>, salt: u64) -> ConvOptions {
    let groups = x.shape()[1] / w.shape()[1];
    let last = x.ndim() - 1;
    let (size, k) = (x.shape()[last], w.shape()[last]);
    let stride = 1 + (salt % 2) as usize;
    let pad = ((salt >> 2) % 3) as usize;
    let dilation = if 2 * (k - 1) < size + 2 * pad && salt >> 5 & 1 == 1 { 2 } else { 1 };
    let heights = if x.ndim() == 4 { x.shape()[2] + 2 * pad > dilation * (w.shape()[2] - 1) } else { true };
    let dilation = if heights { dilation } else { 1 };
    let options = ConvOptions::default().groups(groups).dilation(dilation);
    if salt >> 7 & 3 == 0 { options.padding_same() } else { options.stride(stride).padding(pad) }
}

/// Input `[n, groups·og, h, w]`, weight `[groups·og, cg, kh, kw]` and bias `[groups·cg]`
/// of a transposed convolution.
fn conv_transpose_inputs() -> BoxedStrategy<Inputs> {
    (1usize..3, 1usize..3, 1usize..3, 1usize..3, 1usize..4, 1usize..4, 1usize..4, 1usize..4)
        .prop_flat_map(|(n, groups, cg, og, kh, kw, h, w)| {
            let xs = vec![n, groups * og, h, w];
            let ws = vec![groups * og, cg, kh, kw];
            (tensor(xs, Domain::Any), tensor(ws, Domain::Any), tensor(vec![groups * cg], Domain::Any))
        })
        .prop_map(|(x, w, b)| vec![x, w, b])
        .boxed()
}

/// conv_transpose2d with stride and dilation 1–2, output padding below the stride, and
/// padding that leaves a non-empty output.
fn transposed_conv(x: &[Tensor<f64>], salt: u64) -> Tensor<f64> {
    let groups = x[2].shape()[0] / x[1].shape()[1]; // bias [groups·cg], weight [groups·og, cg, …]
    let stride = 1 + (salt % 2) as usize;
    let dilation = 1 + (salt >> 3 & 1) as usize;
    let extra = if stride > 1 { (salt >> 4 & 1) as usize } else { 0 };
    let k = x[1].shape()[2].min(x[1].shape()[3]);
    let pad = ((salt >> 5) % 2) as usize * (dilation * (k - 1) / 2);
    let options = ConvOptions::default().groups(groups).stride(stride).dilation(dilation).padding(pad);
    x[0].conv_transpose2d(&x[1], Some(&x[2]), options, extra)
}

/// `[n, c, h, w]` images with 1–2 samples and channels and sides 1–5.
fn images(domain: Domain) -> BoxedStrategy<Inputs> {
    (1usize..3, 1usize..3, 1usize..6, 1usize..6)
        .prop_flat_map(move |(n, c, h, w)| tensor(vec![n, c, h, w], domain))
        .prop_map(|t| vec![t])
        .boxed()
}

/// Images of distinct values (no ties for max pooling), at least 2×2.
fn distinct_images() -> BoxedStrategy<Inputs> {
    (1usize..3, 1usize..3, 2usize..6, 2usize..6)
        .prop_flat_map(|(n, c, h, w)| {
            let values: Vec<f64> = (0..n * c * h * w).map(|i| i as f64 * 0.1 - 1.0).collect();
            (Just(vec![n, c, h, w]), Just(values).prop_shuffle(), any::<bool>())
        })
        .prop_map(|(s, values, transposed)| {
            if transposed {
                let swapped = [s[0], s[1], s[3], s[2]];
                vec![Tensor::from_array(Array::from_vec(values, &swapped).unwrap().permute(&[0, 1, 3, 2]))]
            } else {
                vec![Tensor::from_vec(values, &s).unwrap()]
            }
        })
        .boxed()
}

/// A window that fits the image: 1–2 on each side.
fn pool_window(x: &Tensor<f64>, salt: u64) -> [usize; 2] {
    [2, 3].map(|a| 1 + (salt >> a & 1) as usize).map(|k| k.min(x.shape()[2]).min(x.shape()[3]))
}

fn avg_pooled(x: &Tensor<f64>, salt: u64) -> Tensor<f64> {
    let kernel = [x.shape()[2].min(1 + (salt % 3) as usize), x.shape()[3].min(1 + (salt >> 2) as usize % 3)];
    let pad = if kernel[0].min(kernel[1]) >= 2 { (salt >> 4 & 1) as usize } else { 0 };
    x.avg_pool2d(kernel, 1 + (salt >> 5 & 1) as usize, pad)
}

fn adaptive_pooled(x: &Tensor<f64>, salt: u64) -> Tensor<f64> {
    if salt & 1 == 0 {
        return x.adaptive_avg_pool2d(1);
    }
    let divisor = |n: usize| (1..=n).rev().find(|d| n.is_multiple_of(*d) && (salt >> 3) as usize % n < *d).unwrap_or(1);
    x.adaptive_avg_pool2d([divisor(x.shape()[2]), divisor(x.shape()[3])])
}

// ---- per-case choices from the salt ----

fn axis_for(ndim: usize, salt: u64) -> isize {
    let a = (salt % ndim as u64) as isize;
    if salt & 1 << 40 != 0 { a - ndim as isize } else { a }
}

fn axis(x: &Tensor<f64>, salt: u64) -> isize {
    axis_for(x.ndim(), salt)
}

/// One or two distinct axes of `x`.
fn axes(x: &Tensor<f64>, salt: u64) -> Vec<isize> {
    let first = axis(x, salt);
    let second = axis(x, salt >> 8);
    let normalize = |a: isize| if a < 0 { a + x.ndim() as isize } else { a };
    if salt & 1 << 50 != 0 && normalize(first) != normalize(second) { vec![first, second] } else { vec![first] }
}

fn keepdim(salt: u64) -> bool {
    salt & 1 << 33 != 0
}

fn permutation(n: usize, salt: u64) -> Vec<usize> {
    let mut p: Vec<usize> = (0..n).collect();
    let mut s = salt;
    for i in (1..n).rev() {
        p.swap(i, (s % (i as u64 + 1)) as usize);
        s /= 7;
    }
    p
}

/// `shape` with a new leading axis of 2 and its size-1 axes stretched to 3.
fn wider(shape: &[usize], salt: u64) -> Vec<usize> {
    let mut out = vec![2];
    out.extend(shape.iter().enumerate().map(|(i, &d)| if d == 1 && salt >> i & 1 == 1 { 3 } else { d }));
    out
}

/// A deterministic 0/1 mask of `shape`.
fn pattern(shape: &[usize], salt: u64) -> Tensor<f64> {
    let n: usize = shape.iter().product();
    let values = (0..n).map(|i| ((salt.rotate_left(i as u32 % 64) ^ i as u64) & 1) as f64).collect();
    Tensor::from_vec(values, shape).unwrap()
}

fn pick(salt: u64, i: usize, size: usize) -> usize {
    ((salt.wrapping_mul(0x9e37_79b9_7f4a_7c15).rotate_left(i as u32 * 7 % 64) >> 3) % size as u64) as usize
}

fn narrowed(x: &Tensor<f64>, salt: u64) -> Tensor<f64> {
    let a = axis(x, salt);
    let size = x.size(a);
    let start = if size == 0 { 0 } else { pick(salt, 1, size) };
    let len = if size == start { 0 } else { pick(salt, 2, size - start) + 1 };
    x.narrow(a, start, len.min(size - start))
}

fn weighted_split(x: &Tensor<f64>, salt: u64) -> Tensor<f64> {
    let a = axis(x, salt);
    let pieces = x.split(1 + (salt % 3) as usize, a);
    if pieces.is_empty() {
        return x.clone();
    }
    let weighted: Vec<Tensor<f64>> = pieces.iter().enumerate().map(|(i, p)| p * (i as f64 + 1.0)).collect();
    Tensor::concat(&weighted.iter().collect::<Vec<_>>(), a)
}

fn index_selected(x: &Tensor<f64>, salt: u64) -> Tensor<f64> {
    let a = axis(x, salt);
    let size = x.size(a);
    if size == 0 {
        return x.index_select(a, &[]);
    }
    let index: Vec<usize> = (0..4).map(|i| pick(salt, i, size)).collect(); // repeats allowed
    x.index_select(a, &index)
}

fn gather_index(shape: &[usize], axis: usize, salt: u64) -> Indices {
    let mut index_shape = shape.to_vec();
    index_shape[axis] = 3;
    let n: usize = index_shape.iter().product();
    let values = (0..n).map(|i| pick(salt, i, shape[axis].max(1))).collect();
    Indices::new(values, &index_shape).unwrap()
}

fn gathered(x: &Tensor<f64>, salt: u64) -> Tensor<f64> {
    let a = (salt % x.ndim() as u64) as usize;
    if x.shape()[a] == 0 {
        return x.sum_dim(a as isize, true);
    }
    x.gather(a, &gather_index(x.shape(), a, salt))
}

fn scattered(x: &Tensor<f64>, salt: u64) -> Tensor<f64> {
    // x is the source; it scatters into a base of the same shape with the axis widened.
    let a = (salt % x.ndim() as u64) as usize;
    let mut base_shape = x.shape().to_vec();
    base_shape[a] += 2;
    let n: usize = x.numel();
    let index = Indices::new((0..n).map(|i| pick(salt, i, base_shape[a])).collect(), x.shape()).unwrap();
    Tensor::ones(&base_shape).scatter_add(a, &index, x)
}

fn index_added(x: &Tensor<f64>, salt: u64) -> Tensor<f64> {
    let a = (salt % x.ndim() as u64) as usize;
    let mut base_shape = x.shape().to_vec();
    base_shape[a] += 1;
    let index: Vec<usize> = (0..x.shape()[a]).map(|i| pick(salt, i, base_shape[a])).collect();
    Tensor::ones(&base_shape).index_add(a, &index, x)
}

/// x / (1 + |x|), defined in this test crate through the extension trait.
struct Softsign;

impl Function<f64> for Softsign {
    fn name(&self) -> &str {
        "softsign"
    }
    fn forward(&self, ctx: &mut tapegrad_autograd::Context<f64>, inputs: &[Tensor<f64>]) -> Tensor<f64> {
        ctx.save(&inputs[0]);
        &inputs[0] / &(inputs[0].abs() + 1.0)
    }
    fn backward(&self, saved: &tapegrad_autograd::Saved<f64>, grad: &Tensor<f64>) -> Vec<Option<Tensor<f64>>> {
        // d/dx x/(1 + |x|) = 1/(1 + |x|)²
        let x = saved.get(0);
        vec![Some(grad / &(x.abs() + 1.0).square())]
    }
}

#[test]
fn layouts_are_really_exercised() {
    // The strategies must produce the views the table claims to test.
    let mut runner = TestRunner::new_with_rng(cases(1), TestRng::deterministic_rng(RngAlgorithm::ChaCha));
    let t = tensor_with_layout(vec![3, 2], Domain::Any, Layout::Transposed).new_tree(&mut runner).unwrap().current();
    assert!(!t.value().is_contiguous());
    let b = tensor_with_layout(vec![3, 2], Domain::Any, Layout::Broadcast).new_tree(&mut runner).unwrap().current();
    assert_eq!(b.shape(), &[3, 2]);
}
