//! After backward the graph is released: 10,000 training steps of a small model leave no
//! tensors behind and do not grow the process. (Its own test binary: the live-tensor count
//! is process-wide, so no other test may run beside it.)

use tapegrad::autograd::live_tensors;
use tapegrad::prelude::*;

/// Resident set size in bytes, from /proc (Linux).
fn rss_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

#[test]
fn ten_thousand_training_steps_do_not_grow_memory() {
    let mut rng = StdRng::seed_from_u64(0);
    let x = Tensor::<f32>::randn(&[32, 8], &mut rng);
    let y = Tensor::<f32>::randn(&[32, 1], &mut rng);
    let w1 = Tensor::<f32>::randn(&[8, 16], &mut rng).mul_scalar(0.3).requires_grad();
    let b1 = Tensor::<f32>::zeros(&[16]).requires_grad();
    let w2 = Tensor::<f32>::randn(&[16, 1], &mut rng).mul_scalar(0.3).requires_grad();
    let params = [&w1, &b1, &w2];
    let step = || {
        let hidden = (x.matmul(&w1) + &b1).tanh();
        let loss = (hidden.matmul(&w2) - &y).square().mean();
        loss.backward();
        for p in params {
            let g = p.grad().unwrap().to_vec();
            p.update_data(|w| w.iter_mut().zip(&g).for_each(|(w, g)| *w -= 0.05 * g));
            p.zero_grad();
        }
        loss.item()
    };
    let first = step();
    for _ in 0..1_000 {
        step();
    }
    let (tensors, rss) = (live_tensors(), rss_bytes());
    let mut last = 0.0;
    for _ in 0..9_000 {
        last = step();
    }
    assert!(last < first, "the model should learn: loss {first} → {last}");
    assert_eq!(live_tensors(), tensors, "tensors were left behind by training steps");
    // Tensors made on a thread that has ended, and dropped on this one, still balance the
    // count.
    let made_there = std::thread::spawn(|| (0..10).map(|_| Tensor::<f32>::zeros(&[2])).collect::<Vec<_>>());
    let made_there = made_there.join().unwrap();
    assert_eq!(live_tensors(), tensors + 10);
    drop(made_there);
    assert_eq!(live_tensors(), tensors);
    if let (Some(before), Some(after)) = (rss, rss_bytes()) {
        assert!(after < before + (4 << 20), "resident memory grew from {before} to {after} bytes");
    }
}
