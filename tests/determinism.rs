//! Same seed, same bits, on any number of threads: a forward and backward pass big enough
//! to run its kernels on rayon, and every optimizer's steps on a parameter big enough to
//! update in pieces, give identical results on 1, 2 and 3 threads (the same as running
//! with RAYON_NUM_THREADS=1, 2 or 3).

use tapegrad::prelude::*;

/// Loss and gradients of a two-layer network on data large enough that matmul,
/// elementwise ops and reductions all take their parallel paths.
fn run() -> Vec<Vec<f32>> {
    let mut rng = StdRng::seed_from_u64(42);
    let x = Tensor::<f32>::randn(&[512, 300], &mut rng);
    let w1 = (Tensor::<f32>::randn(&[300, 256], &mut rng) * 0.05).detach().requires_grad();
    let b1 = Tensor::<f32>::zeros(&[256]).requires_grad();
    let w2 = (Tensor::<f32>::randn(&[256, 10], &mut rng) * 0.05).detach().requires_grad();
    let labels = Indices::new((0..512).map(|i| (i * 7) % 10).collect(), &[512, 1]).unwrap();
    let hidden = (x.matmul(&w1) + &b1).gelu();
    let logits = hidden.matmul(&w2);
    let loss = -logits.log_softmax(1).gather(1, &labels).mean() + hidden.square().sum() * 1e-6;
    loss.backward();
    let big_sum = Tensor::<f32>::randn(&[1 << 20], &mut rng).sum();
    let mut results = vec![
        vec![loss.item(), big_sum.item()],
        w1.grad().unwrap().to_vec(),
        b1.grad().unwrap().to_vec(),
        w2.grad().unwrap().to_vec(),
    ];
    let start = w1.detach();
    let optimizers: [&MakeOptimizer; 4] = [
        &|p| {
            Box::new(
                Sgd::new(p, SgdConfig { lr: 0.1, momentum: 0.9, weight_decay: 0.01, ..Default::default() }).unwrap(),
            )
        },
        &|p| Box::new(Adam::new(p, AdamConfig { amsgrad: true, ..Default::default() }).unwrap()),
        &|p| Box::new(Adagrad::new(p, AdagradConfig::default()).unwrap()),
        &|p| Box::new(RmsProp::new(p, RmsPropConfig { momentum: 0.5, centered: true, ..Default::default() }).unwrap()),
    ];
    for make in optimizers {
        results.push(stepped(make, &start));
    }
    results
}

/// Builds an optimizer for the given parameters.
type MakeOptimizer = dyn Fn(Vec<Tensor>) -> Box<dyn Optimizer<f32>>;

/// The value of a parameter starting at `start` after three steps of the optimizer `make`
/// builds, on the loss Σ sin(p) (whose gradient depends on p).
fn stepped(make: &MakeOptimizer, start: &Tensor) -> Vec<f32> {
    let p = start.detach().requires_grad();
    let mut optimizer = make(vec![p.clone()]);
    for _ in 0..3 {
        optimizer.zero_grad();
        p.sin().sum().backward();
        optimizer.step();
    }
    p.to_vec()
}

fn on_threads(n: usize) -> Vec<Vec<f32>> {
    rayon_core::ThreadPoolBuilder::new().num_threads(n).build().unwrap().install(run)
}

#[test]
fn one_and_two_threads_give_identical_bits() {
    let (one, two, three) = (on_threads(1), on_threads(2), on_threads(3));
    for other in [&two, &three] {
        for (a, b) in one.iter().zip(other) {
            let (a, b): (Vec<u32>, Vec<u32>) =
                (a.iter().map(|v| v.to_bits()).collect(), b.iter().map(|v| v.to_bits()).collect());
            assert_eq!(a, b);
        }
    }
    assert_eq!(on_threads(2)[0], two[0], "and the same again");
}
