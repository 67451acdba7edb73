// temporary: fixed-work GEMM timing by CPU time (not committed)
use std::hint::black_box;
use tapegrad::prelude::*;
fn main() {
    let args: Vec<usize> = std::env::args().skip(1).map(|a| a.parse().unwrap()).collect();
    let (m, k, n, reps) = (args[0], args[1], args[2], args[3]);
    let a = Tensor::from_vec((0..m * k).map(|i| (i % 7) as f32 * 0.1).collect(), &[m, k]).unwrap();
    let b = Tensor::from_vec((0..k * n).map(|i| (i % 5) as f32 * 0.1).collect(), &[k, n]).unwrap();
    let bt = Tensor::from_vec((0..k * n).map(|i| (i % 5) as f32 * 0.1).collect(), &[n, k]).unwrap();
    let transposed = std::env::var_os("T").is_some();
    for _ in 0..3 {
        drop(black_box(a.matmul(&b).value()));
    }
    let t = std::time::Instant::now();
    for _ in 0..reps {
        if transposed {
            drop(black_box(a.matmul(&bt.t()).value()));
        } else {
            drop(black_box(a.matmul(&b).value()));
        }
    }
    let s = t.elapsed().as_secs_f64();
    println!("{m}x{k}x{n} wall {:.1} GFLOP/s", 2.0 * (m * k * n * reps) as f64 / s / 1e9);
}
