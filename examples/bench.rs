//! tapegrad's side of the peer benchmarks (../shared/bench-peers): the same workloads and
//! output lines `workload tapegrad threads metric value`, timed inside the program after a
//! warm-up. The thread count is rayon's (RAYON_NUM_THREADS).
//!
//! cargo run --release --example bench -- w1 [batch...] | w1parts [batch] | w2 | w3 | w4 | w5
//! RAYON_NUM_THREADS=1 cargo run --release --example bench -- w2
//!
//! For profiles with a fixed amount of work (callgrind counts instructions, not time), set
//! BENCH_FIXED=1: every timed loop then runs exactly its minimum number of calls.

use std::hint::black_box;
use std::time::Instant;

use tapegrad::prelude::*;

const N_TRAIN: usize = 60_000;
const N_IN: usize = 784;
const N_HID: usize = 128;
const N_OUT: usize = 10;
const LR: f32 = 0.1;
const SEED: u64 = 0x5EED_1234;
const GEMM_SIZES: [(usize, usize, usize); 4] = [(64, 784, 128), (256, 784, 128), (512, 512, 512), (1024, 1024, 1024)];
const TINY_N: usize = 16;
const TINY_OPS: usize = 1000;
const ELEM_N: usize = 16 * 1024 * 1024;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("w1") => {
            let batches: Vec<usize> = args[1..].iter().filter_map(|a| a.parse().ok()).collect();
            w1(if batches.is_empty() { &[64, 256] } else { &batches });
        }
        Some("w1parts") => w1_parts(args.get(1).and_then(|a| a.parse().ok()).unwrap_or(64)),
        Some("w2") => w2(),
        Some("w3") => w3(),
        Some("w4") => w4(),
        Some("w5") => w5(args.get(1).and_then(|a| a.parse().ok())),
        _ => {
            eprintln!("usage: bench w1 [batch...] | w1parts [batch] | w2 | w3 | w4 | w5 [batches]");
            std::process::exit(2);
        }
    }
}

fn report(workload: &str, metric: &str, value: f64) {
    let threads = std::env::var("BENCH_THREADS")
        .or_else(|_| std::env::var("RAYON_NUM_THREADS"))
        .unwrap_or_else(|_| "default".into());
    println!("{workload} tapegrad {threads} {metric} {value:.6}");
}

/// Median seconds per call: `warm` untimed calls, then at least `reps` calls and `secs` seconds.
fn bench(mut f: impl FnMut(), warm: usize, reps: usize, secs: f64) -> f64 {
    (0..warm).for_each(|_| f());
    let secs = if std::env::var_os("BENCH_FIXED").is_some() { 0.0 } else { secs };
    let (start, mut times) = (Instant::now(), Vec::new());
    while times.len() < reps || start.elapsed().as_secs_f64() < secs {
        let t = Instant::now();
        f();
        times.push(t.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

/// SplitMix64, as the peers' harness uses, so every peer sees the same numbers.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn uniform(&mut self, low: f32, high: f32) -> f32 {
        low + (high - low) * ((self.next() >> 40) as f32 / (1u64 << 24) as f32)
    }
    fn vec(&mut self, n: usize, low: f32, high: f32) -> Vec<f32> {
        (0..n).map(|_| self.uniform(low, high)).collect()
    }
}

fn random(shape: &[usize], seed: u64) -> Tensor {
    Tensor::from_vec(SplitMix(seed).vec(shape.iter().product(), -1.0, 1.0), shape).unwrap()
}

/// Synthetic MNIST-shaped data: the label is the 78-pixel band with the largest sum.
fn synth_mnist() -> (Tensor, Vec<usize>) {
    let x = SplitMix(SEED).vec(N_TRAIN * N_IN, 0.0, 1.0);
    let labels = x
        .chunks(N_IN)
        .map(|row| {
            let band = |k: usize| row[k * 78..(k + 1) * 78].iter().sum::<f32>();
            (0..N_OUT).fold(0, |best, k| if band(k) > band(best) { k } else { best })
        })
        .collect();
    (Tensor::from_vec(x, &[N_TRAIN, N_IN]).unwrap(), labels)
}

/// W1's two layers with the peers' initial weights: uniform ±1/√fan_in, drawn in the order
/// w1, b1, w2, b2, with w stored [in, out] (our Linear keeps [out, in]: transposed once here).
fn w1_layers() -> (Linear<f32>, Linear<f32>) {
    let mut init = SplitMix(SEED ^ 0xABCDEF);
    let mut draw = |shape: &[usize], fan_in: usize| {
        let a = 1.0 / (fan_in as f32).sqrt();
        Tensor::from_vec(init.vec(shape.iter().product(), -a, a), shape).unwrap()
    };
    let (w1, b1) = (draw(&[N_IN, N_HID], N_IN).t().detach(), draw(&[N_HID], N_IN));
    let (w2, b2) = (draw(&[N_HID, N_OUT], N_HID).t().detach(), draw(&[N_OUT], N_HID));
    let layer = |w: Tensor, b| Linear::from_weights(Tensor::from_array(w.value().contiguous()), Some(b));
    (layer(w1, b1), layer(w2, b2))
}

/// W1: one epoch of an MLP 784 → 128 (ReLU) → 10, softmax cross-entropy, SGD lr 0.1, written
/// with the user-facing API (Linear, ReLU, cross_entropy, Sgd, backward): what users get.
fn w1(batches: &[usize]) {
    let (x, labels) = synth_mnist();
    for &bs in batches {
        let (first, second) = w1_layers();
        let model = Sequential::new().add(first).add(ReLU).add(second);
        let mut sgd = Sgd::new(model.parameters(), SgdConfig { lr: LR as f64, ..Default::default() }).unwrap();
        let batches = N_TRAIN / bs;
        let mut step = |i: usize| {
            let targets = Indices::from(labels[i * bs..(i + 1) * bs].to_vec());
            let loss = cross_entropy(&model.forward(&x.narrow(0, i * bs, bs)), &targets, Reduction::Mean);
            sgd.zero_grad();
            loss.backward();
            sgd.step();
        };
        (0..30).for_each(&mut step);
        let start = Instant::now();
        (0..batches).for_each(&mut step);
        let seconds = start.elapsed().as_secs_f64();
        let check = no_grad(|| {
            let targets = Indices::from(labels[..1000].to_vec());
            cross_entropy(&model.forward(&x.narrow(0, 0, 1000)), &targets, Reduction::Mean).item()
        });
        eprintln!("tapegrad w1 bs={bs} final loss(first 1000) = {check:.4}");
        report(&format!("w1_bs{bs}"), "sec_per_epoch", seconds);
        report(&format!("w1_bs{bs}"), "samples_per_s", (batches * bs) as f64 / seconds);
    }
}

/// Where a W1 step's time goes: the step of `w1` taken apart (the same ops, each timed, its
/// value computed before the clock stops), in µs per step over one epoch, after a warm-up.
/// `dw1_product` is the first layer's weight-gradient product alone (part of `backward`).
fn w1_parts(bs: usize) {
    let (x, labels) = synth_mnist();
    let (first, second) = w1_layers();
    let mut params = first.parameters();
    params.extend(second.parameters());
    let mut sgd = Sgd::new(params, SgdConfig { lr: LR as f64, ..Default::default() }).unwrap();
    const NAMES: [&str; 9] = [
        "product_1",
        "bias_1",
        "relu",
        "linear_2",
        "cross_entropy",
        "zero_grad",
        "backward",
        "sgd_step",
        "dw1_product",
    ];
    let batches = N_TRAIN / bs;
    let mut run = |steps: usize| {
        let mut totals = [0.0f64; NAMES.len()];
        for i in 0..steps {
            let mut t = [0.0f64; NAMES.len()];
            let targets = Indices::from(labels[i * bs..(i + 1) * bs].to_vec());
            let batch = x.narrow(0, i * bs, bs);
            let h = timed(&mut t[0], || computed(batch.matmul(&first.weight().t())));
            let h = timed(&mut t[1], || computed(h + first.bias().unwrap()));
            let h = timed(&mut t[2], || computed(h.relu()));
            let logits = timed(&mut t[3], || computed(second.forward(&h)));
            let loss = timed(&mut t[4], || computed(cross_entropy(&logits, &targets, Reduction::Mean)));
            timed(&mut t[5], || sgd.zero_grad());
            timed(&mut t[6], || loss.backward());
            timed(&mut t[7], || sgd.step());
            let gradient = Tensor::from_array(h.value().map(|v| v * 1e-3));
            timed(&mut t[8], || computed(gradient.t().matmul(&batch)));
            totals.iter_mut().zip(t).for_each(|(total, t)| *total += t);
        }
        totals
    };
    run(30);
    let totals = run(batches);
    let workload = format!("w1_parts_bs{bs}");
    for (name, total) in NAMES.iter().zip(totals) {
        report(&workload, &format!("{name}_us_per_step"), total / batches as f64 * 1e6);
    }
}

/// `f()`, its seconds written to `slot`.
fn timed<R>(slot: &mut f64, f: impl FnOnce() -> R) -> R {
    let start = Instant::now();
    let result = f();
    *slot = start.elapsed().as_secs_f64();
    result
}

/// `y` with its value computed (a lazy value would otherwise be computed outside the clock).
fn computed(y: Tensor) -> Tensor {
    black_box(y.value());
    y
}

/// W2: f32 matmul GFLOP/s.
fn w2() {
    for (m, k, n) in GEMM_SIZES {
        let (a, b) = (random(&[m, k], 1), random(&[k, n], 2));
        let t = bench(|| drop(black_box(a.matmul(&b))), 3, 5, 1.0);
        report("w2", &format!("gflops_{m}x{k}x{n}"), 2.0 * (m * k * n) as f64 / t / 1e9);
    }
}

/// W3: per-op overhead on a chain of 1,000 ops on a 16-element tensor.
fn w3() {
    let x = random(&[TINY_N], 3).requires_grad();
    let c = random(&[TINY_N], 4);
    let chain = || {
        let mut y = x.clone();
        for i in 0..TINY_OPS {
            y = match i % 3 {
                0 => &y * 0.5,
                1 => &y + &c,
                _ => y.tanh(),
            };
        }
        y.sum()
    };
    let t = bench(
        || {
            x.zero_grad();
            chain().backward();
            black_box(x.grad());
        },
        5,
        20,
        1.0,
    );
    report("w3", "us_per_op_fwd_bwd", t * 1e6 / TINY_OPS as f64);
    let t = bench(|| drop(black_box(chain())), 5, 20, 0.5);
    report("w3", "us_per_op_fwd_only", t * 1e6 / TINY_OPS as f64);
}

/// W4: relu(x·a + b) over 16M elements, forward only; 8 bytes per element. The chain is
/// fused into one pass (off the tape); `.value()` makes sure it is computed in the timing.
fn w4() {
    let x = random(&[ELEM_N], 5);
    let t = bench(|| drop(black_box((&x * 1.5 - 0.25).relu().value())), 2, 5, 1.0);
    report("w4", "gb_per_s", (ELEM_N * 8) as f64 / t / 1e9);
}

/// W5: one epoch of a LeNet-style CNN on 60,000 MNIST-shaped `[1, 28, 28]` images, batch
/// 64: conv 1→6 5×5 pad 2, ReLU, max-pool 2, conv 6→16 5×5, ReLU, max-pool 2, flatten,
/// 400→120 ReLU → 84 ReLU → 10, softmax cross-entropy, SGD lr 0.05. The same network as
/// `bench/w5_lenet_torch.py`. `batches` shortens the epoch (for profiling); the time
/// reported is always per full epoch of 937 batches.
fn w5(batches: Option<usize>) {
    const BS: usize = 64;
    let (x, labels) = synth_mnist();
    let x = x.reshape([N_TRAIN, 1, 28, 28]);
    let mut rng = StdRng::seed_from_u64(SEED);
    let model = Sequential::new()
        .add(Conv2d::with_options(1, 6, 5, ConvOptions::default().padding(2), Init::Default, true, &mut rng))
        .add(ReLU)
        .add(MaxPool2d::new(2))
        .add(Conv2d::with_options(6, 16, 5, ConvOptions::default(), Init::Default, true, &mut rng))
        .add(ReLU)
        .add(MaxPool2d::new(2))
        .add(Flatten)
        .add(Linear::new(400, 120, &mut rng))
        .add(ReLU)
        .add(Linear::new(120, 84, &mut rng))
        .add(ReLU)
        .add(Linear::new(84, N_OUT, &mut rng));
    let mut sgd = Sgd::new(model.parameters(), SgdConfig { lr: 0.05, ..Default::default() }).unwrap();
    let full = N_TRAIN / BS;
    let batches = batches.unwrap_or(full).clamp(1, full);
    let mut step = |i: usize| {
        let targets = Indices::from(labels[i * BS..(i + 1) * BS].to_vec());
        let loss = cross_entropy(&model.forward(&x.narrow(0, i * BS, BS)), &targets, Reduction::Mean);
        sgd.zero_grad();
        loss.backward();
        sgd.step();
    };
    (0..10).for_each(&mut step);
    let start = Instant::now();
    (0..batches).for_each(&mut step);
    let seconds = start.elapsed().as_secs_f64() * full as f64 / batches as f64;
    let check = no_grad(|| {
        let targets = Indices::from(labels[..1000].to_vec());
        cross_entropy(&model.forward(&x.narrow(0, 0, 1000)), &targets, Reduction::Mean).item()
    });
    eprintln!("tapegrad w5 final loss(first 1000) = {check:.4}");
    report("w5_lenet_bs64", "sec_per_epoch", seconds);
}
