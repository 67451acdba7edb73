//! MNIST's MLP (784 → 256 → 128 → 10, ReLU, Adam) trained data-parallel: each rank takes
//! its slice of every global batch, and the gradients are summed over the ranks after
//! backward. In the default deterministic mode the weights are bit for bit those of one
//! process computing the ranks' slices in turn (see `tapegrad::distributed`).
//!
//! ```text
//! cargo build --release --features mpi --example mnist_ddp
//! mpirun -np 2 target/release/examples/mnist_ddp --data-dir ../shared/data/mnist
//! ```
//!
//! (As root, add `--allow-run-as-root`.) Built without `--features mpi` it trains as one
//! process, and refuses to start as one of several ranks under mpirun.

use std::path::Path;
use std::time::Instant;

use common::{Flags, fail, print_final, use_threads};
use tapegrad::datasets::Mnist;
use tapegrad::distributed::{
    Communicator, DdpConfig, DistributedDataParallel, DistributedSampler, ReduceMode, abort_on_error, init, on_rank0,
};
use tapegrad::prelude::*;
use tapegrad::{Objective, evaluate, save_training};

const USAGE: &str = "mnist_ddp: an MLP on MNIST, data-parallel over MPI ranks\n\
usage: mpirun -np 2 target/release/examples/mnist_ddp [flags]   (built with --features mpi)";

#[allow(dead_code)] // unused where tests include this file to run it
fn main() {
    let comm = init().unwrap_or_else(|e| fail(&e.to_string()));
    let args = std::env::args().skip(1).collect();
    abort_on_error(comm.as_ref(), || train(comm.as_ref(), args));
}

/// Runs the example as one process with `args` as its flags (for tests).
#[allow(dead_code)]
pub fn run_with(args: Vec<String>) -> Vec<(&'static str, f64)> {
    train(&tapegrad::distributed::SingleProcess, args).unwrap_or_else(|e| fail(&e))
}

/// This rank's part of the job; returns the `final:` line's metrics on rank 0 (empty on
/// the others).
fn train(comm: &dyn Communicator, args: Vec<String>) -> Result<Vec<(&'static str, f64)>, String> {
    let mut flags = Flags::parse(USAGE, args);
    let data_dir = flags.optional("data-dir", "folder with MNIST's files (default: the cache, downloading)");
    let epochs: usize = flags.get("epochs", 3, "passes over the training data");
    let batch_size: usize = flags.get("batch-size", 128, "samples per step, over all ranks together");
    let lr: f64 = flags.get("lr", 1e-3, "learning rate (Adam)");
    let hidden: String = flags.get("hidden", "256,128".to_string(), "neurons per hidden layer");
    let seed: u64 = flags.get("seed", 0, "seed for the weights and shuffling");
    let mode: String = flags.get("mode", "deterministic".to_string(), "deterministic or fast gradient sums");
    let threads: usize =
        flags.get("threads", 0, "threads for the kernels, per rank (0: RAYON_NUM_THREADS, else one per core)");
    let checkpoint = flags.optional("checkpoint", "file for model and optimizer after each epoch (rank 0 writes)");
    flags.finish();
    use_threads(threads);
    let mode = match mode.as_str() {
        "deterministic" => ReduceMode::Deterministic,
        "fast" => ReduceMode::Fast,
        other => return Err(format!("--mode {other:?}: expected deterministic or fast")),
    };
    let (rank, ranks) = (comm.rank(), comm.size());
    let say = |line: String| {
        if rank == 0 {
            println!("{line}");
        }
    };

    // Rank 0 downloads what is missing first, so the ranks do not race for the cache.
    let load = || match &data_dir {
        Some(dir) => Mnist::load(Path::new(dir)),
        None => Mnist::load_or_download(None),
    };
    on_rank0(comm, || load().map(drop)).map_err(|e| e.to_string())?;
    let splits = load().map_err(|e| e.to_string())?;
    let (train, test) = (splits.train.into_dataset(), splits.test.into_dataset());

    let mut rng = StdRng::seed_from_u64(seed);
    let mut model = Sequential::new();
    let mut inputs = 784;
    for w in hidden.split(',').filter(|w| !w.is_empty()) {
        let w: usize = w.trim().parse().map_err(|e| format!("--hidden {w:?}: {e}"))?;
        model = model.add(Linear::with_init(inputs, w, Init::KaimingUniform, true, &mut rng)).add(ReLU);
        inputs = w;
    }
    model = model.add(Linear::new(inputs, 10, &mut rng));
    let mut ddp = DistributedDataParallel::new(model, comm, DdpConfig { mode, ..Default::default() })
        .map_err(|e| e.to_string())?;
    let mut optimizer =
        Adam::new(ddp.module().parameters(), AdamConfig { lr, ..Default::default() }).map_err(|e| e.to_string())?;
    let sampler = DistributedSampler::new(&train, batch_size, rank, ranks).shuffle(seed);
    say(format!(
        "mnist_ddp: {ranks} rank(s), {:?} sums, global batch {batch_size}, {} steps per epoch, {} parameters",
        mode,
        sampler.num_batches(),
        ddp.module().num_parameters()
    ));

    let (mut seconds, mut samples) = (0.0, 0usize);
    let mut result = None;
    for epoch in 0..epochs {
        ddp.module_mut().train();
        let (start, mut waiting, mut communicating) = (Instant::now(), 0.0, 0.0);
        let (mut loss_sum, mut local) = (0.0f64, 0usize);
        for shard in sampler.epoch(epoch) {
            let targets = shard.batch.targets.classes().ok_or("MNIST has class targets")?;
            ddp.zero_grad();
            let loss = cross_entropy(&ddp.forward(&shard.batch.inputs), targets, Reduction::Sum);
            loss_sum += loss.item() as f64;
            local += shard.batch.len();
            loss.backward();
            // The barrier splits the gradient sum's time in two: waiting for the slowest
            // rank to finish its backward, then moving and adding the gradients.
            let wait = Instant::now();
            comm.barrier();
            let sync = Instant::now();
            ddp.sync_gradients(shard.global_batch_size).map_err(|e| e.to_string())?;
            waiting += (sync - wait).as_secs_f64();
            communicating += sync.elapsed().as_secs_f64();
            optimizer.step();
            samples += shard.global_batch_size;
        }
        let elapsed = start.elapsed().as_secs_f64();
        seconds += elapsed;
        // Every rank holds the same weights: rank 0 alone evaluates and saves.
        ddp.module_mut().eval();
        if rank == 0 {
            let evaluation = evaluate(ddp.module(), &test, Objective::CrossEntropy, 512);
            say(format!(
                "epoch {}/{epochs}: rank 0 loss {:.4} | test_loss {:.4} test_accuracy {:.4} | {elapsed:.1}s: gradient sums {:.1}%, waiting for the slowest rank {:.1}%",
                epoch + 1,
                loss_sum / local.max(1) as f64,
                evaluation.loss,
                evaluation.metric,
                100.0 * communicating / elapsed,
                100.0 * waiting / elapsed
            ));
            result = Some(evaluation);
        }
        if let Some(path) = &checkpoint {
            on_rank0(comm, || save_training(path, ddp.module(), &optimizer, &Default::default()))
                .map_err(|e| e.to_string())?;
        }
    }
    let mut metrics = Vec::new();
    if let Some(evaluation) = result {
        metrics = vec![("test_accuracy", evaluation.metric), ("test_loss", evaluation.loss)];
        print_final(&metrics, epochs, seconds, samples as f64 / seconds.max(1e-9));
    }
    Ok(metrics)
}
