//! The program the MPI tests start (`tests/mpi.rs`): an MLP trained on the Playground's
//! spiral for a few Adam steps, data-parallel, writing its parameters as safetensors.
//!
//! ```text
//! mpirun -np 3 --oversubscribe ddp_check --mode deterministic --out ranks.safetensors
//! ddp_check --mode reference --world 3 --out one.safetensors   # one process, 3 slices
//! ```
//!
//! `--mode reference` is the single process the deterministic mode must equal bit for bit:
//! no MPI, the `--world` slices of each global batch in turn (see the crate's docs).
//! `--fail-rank N` makes rank N return an error at step 3, to check that the job ends,
//! naming it; `--crash-rank N` makes it die there (SIGABRT, no goodbye to MPI).
//! Gradients travel in buckets of about 260 values, so a step sends several.

use std::collections::BTreeMap;
use std::process::exit;

use rand::SeedableRng;
use rand::rngs::StdRng;
use tapegrad_datasets::{Feature, Pattern, Playground};
use tapegrad_distributed::{
    Communicator, DdpConfig, DistributedDataParallel, DistributedSampler, MpiCommunicator, ReduceMode, SingleProcess,
    abort_on_error, on_rank0,
};
use tapegrad_nn::checkpoint::save_params;
use tapegrad_nn::{Linear, Module, Reduction, Sequential, Tanh, cross_entropy};
use tapegrad_optim::{Adam, AdamConfig, Optimizer};

const GLOBAL_BATCH: usize = 25; // uneven slices at 2 and 3 ranks: 12 + 13, 8 + 8 + 9

struct Args {
    mode: String,
    world: usize,
    steps: usize,
    out: String,
    fail_rank: Option<usize>,
    crash_rank: Option<usize>,
}

fn parse() -> Args {
    let mut args =
        Args { mode: String::new(), world: 1, steps: 20, out: String::new(), fail_rank: None, crash_rank: None };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().unwrap_or_else(|| usage(&format!("{flag} needs a value")));
        let number = |v: &str| v.parse::<usize>().unwrap_or_else(|e| usage(&format!("{flag} {v:?}: {e}")));
        match flag.as_str() {
            "--mode" => args.mode = value,
            "--world" => args.world = number(&value),
            "--steps" => args.steps = number(&value),
            "--out" => args.out = value,
            "--fail-rank" => args.fail_rank = Some(number(&value)),
            "--crash-rank" => args.crash_rank = Some(number(&value)),
            other => usage(&format!("unknown flag {other}")),
        }
    }
    if args.out.is_empty() {
        usage("--out is required");
    }
    args
}

fn usage(problem: &str) -> ! {
    eprintln!(
        "error: {problem}\nusage: ddp_check --mode deterministic|fast|reference [--world R] [--steps N] --out FILE [--fail-rank N] [--crash-rank N]"
    );
    exit(2)
}

fn model(rng: &mut StdRng) -> Sequential {
    Sequential::new()
        .add(Linear::new(2, 16, rng))
        .add(Tanh)
        .add(Linear::new(16, 16, rng))
        .add(Tanh)
        .add(Linear::new(16, 2, rng))
}

/// Trains for `args.steps` steps; `slices` are the ranks whose slices this process computes
/// (its own rank under MPI, all of them in the reference).
fn train<C: Communicator>(comm: C, mode: ReduceMode, slices: Vec<(usize, usize)>, args: &Args) -> Result<(), String> {
    let data = Playground::new(Pattern::Spiral).seed(3).datasets(&[Feature::X1, Feature::X2]).train;
    // Each rank starts from other weights: the broadcast from rank 0 must make them equal.
    let mut rng = StdRng::seed_from_u64(comm.rank() as u64 * 1000 + 7);
    let ddp = DistributedDataParallel::new(model(&mut rng), comm, DdpConfig { mode, bucket_cap_mb: 0.001 })
        .map_err(|e| e.to_string())?;
    let mut adam = Adam::new(ddp.module().parameters(), AdamConfig { lr: 0.01, ..Default::default() })
        .map_err(|e| e.to_string())?;
    let samplers: Vec<DistributedSampler> = slices
        .iter()
        .map(|&(rank, world)| DistributedSampler::new(&data, GLOBAL_BATCH, rank, world).shuffle(11))
        .collect();
    let mut step = 0;
    'epochs: for epoch in 0.. {
        let mut epochs: Vec<_> = samplers.iter().map(|s| s.epoch(epoch)).collect();
        loop {
            if step == args.steps {
                break 'epochs;
            }
            let shards: Vec<_> = epochs.iter_mut().map_while(|e| e.next()).collect();
            if shards.is_empty() {
                break;
            }
            if Some(ddp.communicator().rank()) == args.fail_rank && step == 3 {
                return Err(format!("deliberate failure at step {step} (--fail-rank)"));
            }
            if Some(ddp.communicator().rank()) == args.crash_rank && step == 3 {
                std::process::abort();
            }
            ddp.zero_grad();
            for shard in &shards {
                let classes = shard.batch.targets.classes().ok_or("class targets")?;
                cross_entropy(&ddp.forward(&shard.batch.inputs), classes, Reduction::Sum).backward();
            }
            ddp.sync_gradients(shards[0].global_batch_size).map_err(|e| e.to_string())?;
            adam.step();
            step += 1;
        }
    }
    // Every rank must hold rank 0's parameters.
    let comm = ddp.communicator();
    let mine: Vec<f32> = ddp.module().parameters().iter().flat_map(|p| p.to_vec()).collect();
    let mut root = mine.clone();
    comm.broadcast(&mut root, 0);
    if root.iter().zip(&mine).any(|(a, b)| a.to_bits() != b.to_bits()) {
        return Err("parameters differ from rank 0's after training".to_string());
    }
    on_rank0(comm, || save_params(&args.out, &ddp.module().named_parameters(), &BTreeMap::new()))
        .map_err(|e| e.to_string())?;
    Ok(())
}

fn main() {
    let args = parse();
    let mode = match args.mode.as_str() {
        "deterministic" | "reference" => ReduceMode::Deterministic,
        "fast" => ReduceMode::Fast,
        other => usage(&format!("--mode {other:?}: expected deterministic, fast or reference")),
    };
    if args.mode == "reference" {
        let slices = (0..args.world).map(|r| (r, args.world)).collect();
        abort_on_error(&SingleProcess, || train(SingleProcess, mode, slices, &args));
    } else {
        let comm = MpiCommunicator::init().unwrap_or_else(|e| usage(&e.to_string()));
        let slices = vec![(comm.rank(), comm.size())];
        abort_on_error(&comm, || train(&comm, mode, slices, &args));
    }
}
