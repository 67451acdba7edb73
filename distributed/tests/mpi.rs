//! Data-parallel training under a real `mpirun` (feature `mpi`; CI's second stage:
//! `cargo test -p tapegrad-distributed --features mpi`).
//!
//! MPI can start once per process, so each test launches `mpirun` on `ddp_check` (built
//! from `src/bin/ddp_check.rs`): an MLP trained for 20 Adam steps on the Playground's
//! spiral, global batches of 25 (slices of 12 + 13 at 2 ranks, 8 + 8 + 9 at 3), buckets of
//! about 260 values. The reference is the same program as one process without MPI that
//! computes the slices of each global batch in rank order (the crate's definition of
//! "bit-identical to one process"). Without `mpirun` these tests fail, saying so.

#![cfg(feature = "mpi")]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use tapegrad_nn::checkpoint::load;

// The datasets tests' temporary folder, removed when dropped (its `names` unused here).
#[allow(dead_code)]
#[path = "../../datasets/tests/common/temp_dir.rs"]
mod temp_dir;
use temp_dir::TempDir;

const CHECK: &str = env!("CARGO_BIN_EXE_ddp_check");

/// `mpirun -np ranks ddp_check args…`, allowed to run as root, one rayon thread per rank
/// (the ranks share the cores), and ended by mpirun after 120 s should anything hang.
fn mpirun(ranks: usize, args: &[&str]) -> Output {
    let mut command = Command::new("mpirun");
    command
        .args(["-np", &ranks.to_string(), "--oversubscribe", "--timeout", "120", CHECK])
        .args(args)
        .env("OMPI_ALLOW_RUN_AS_ROOT", "1")
        .env("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
        .env("RAYON_NUM_THREADS", "1");
    command.output().unwrap_or_else(|e| {
        panic!(
            "cannot run mpirun ({e}): these tests need Open MPI; install it with `apt-get install -y libopenmpi-dev openmpi-bin libclang-dev`"
        )
    })
}

fn succeeded(what: &str, output: &Output) {
    assert!(
        output.status.success(),
        "{what} failed ({}):\nstdout:\n{}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Trains with `ranks` MPI ranks in `mode`; returns the parameters file.
fn train_ranks(dir: &Path, ranks: usize, mode: &str) -> PathBuf {
    let out = dir.join(format!("{mode}-{ranks}.safetensors"));
    succeeded(
        &format!("mpirun -np {ranks} ({mode})"),
        &mpirun(ranks, &["--mode", mode, "--out", out.to_str().unwrap()]),
    );
    out
}

/// Trains as one process computing `world` slices per step; returns the parameters file.
fn train_reference(dir: &Path, world: usize) -> PathBuf {
    let out = dir.join(format!("reference-{world}.safetensors"));
    let output = Command::new(CHECK)
        .args(["--mode", "reference", "--world", &world.to_string(), "--out", out.to_str().unwrap()])
        .output()
        .unwrap();
    succeeded("the single-process reference", &output);
    out
}

/// Every parameter's values by name.
fn params(path: &Path) -> Vec<(String, Vec<f32>)> {
    load::<f32>(path).unwrap().tensors.into_iter().map(|(name, a)| (name, a.to_vec())).collect()
}

fn assert_bit_identical(ranks: usize) {
    let dir = TempDir::new(&format!("mpi-deterministic-{ranks}"));
    let distributed = params(&train_ranks(dir.path(), ranks, "deterministic"));
    let single = params(&train_reference(dir.path(), ranks));
    assert_eq!(distributed.len(), 6, "three layers' weights and biases");
    for ((name, d), (_, s)) in distributed.iter().zip(&single) {
        let differing = d.iter().zip(s).filter(|(a, b)| a.to_bits() != b.to_bits()).count();
        assert_eq!(differing, 0, "{name}: {differing} of {} values differ from one process's bits", d.len());
    }
    // The check has teeth: another number of slices rounds differently.
    let other = params(&train_reference(dir.path(), ranks + 1));
    assert!(
        single.iter().zip(&other).any(|((_, a), (_, b))| a != b),
        "{ranks} and {} slices gave equal bits",
        ranks + 1
    );
}

#[test]
fn deterministic_mode_at_2_ranks_equals_one_process_bit_for_bit() {
    assert_bit_identical(2);
}

#[test]
fn deterministic_mode_at_3_ranks_equals_one_process_bit_for_bit() {
    assert_bit_identical(3);
}

/// MPI's allreduce adds in its own order: after 20 Adam steps the parameters agree with
/// one process's to within 1e-4 (absolute, on values of order 1).
#[test]
fn fast_mode_agrees_with_one_process_within_1e_4() {
    const TOLERANCE: f32 = 1e-4;
    for ranks in [2, 3] {
        let dir = TempDir::new(&format!("mpi-fast-{ranks}"));
        let fast = params(&train_ranks(dir.path(), ranks, "fast"));
        let single = params(&train_reference(dir.path(), ranks));
        for ((name, f), (_, s)) in fast.iter().zip(&single) {
            let worst = f.iter().zip(s).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
            assert!(worst <= TOLERANCE, "{ranks} ranks, {name}: differs by {worst:e} > {TOLERANCE:e}");
        }
    }
}

#[test]
fn a_rank_that_returns_an_error_ends_the_job_naming_it() {
    let dir = TempDir::new("mpi-error");
    let start = Instant::now();
    let out = dir.path().join("never.safetensors");
    let output = mpirun(3, &["--mode", "deterministic", "--out", out.to_str().unwrap(), "--fail-rank", "1"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "the job succeeded:\n{stderr}");
    assert!(start.elapsed() < Duration::from_secs(60), "the job took {:?} to end", start.elapsed());
    assert!(stderr.contains("rank 1 of 3 failed: deliberate failure at step 3"), "stderr:\n{stderr}");
    assert!(!out.exists(), "a checkpoint was written");
}

#[test]
fn a_rank_that_dies_ends_the_job_naming_it() {
    let dir = TempDir::new("mpi-crash");
    let start = Instant::now();
    let out = dir.path().join("never.safetensors");
    let output = mpirun(2, &["--mode", "deterministic", "--out", out.to_str().unwrap(), "--crash-rank", "1"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "the job succeeded:\n{stderr}");
    assert!(start.elapsed() < Duration::from_secs(60), "the job took {:?} to end", start.elapsed());
    assert!(stderr.contains("process rank 1"), "stderr:\n{stderr}");
}
