//! Built without MPI, a program started by an MPI launcher as one of several ranks refuses
//! to run (each rank would train alone on all the data), saying how to build it.

#![cfg(not(feature = "mpi"))]

use std::process::Command;

use tapegrad_distributed::{DistributedError, init};

/// Runs this test again in a child process whose environment says "rank 1 of 2, started
/// by Open MPI's mpirun"; the child checks what `init` says there.
#[test]
fn init_refuses_to_run_as_one_of_several_ranks_without_mpi() {
    if std::env::var_os("OMPI_COMM_WORLD_SIZE").is_some() {
        let error = init().err().expect("init() accepted a launch as rank 1 of 2");
        assert!(matches!(error, DistributedError::NotBuiltWithMpi { rank: 1, size: 2, .. }), "{error:?}");
        let message = error.to_string();
        assert!(message.contains("rank 1 of 2") && message.contains("--features mpi"), "{message}");
        return;
    }
    let child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "init_refuses_to_run_as_one_of_several_ranks_without_mpi", "--test-threads", "1"])
        .env("OMPI_COMM_WORLD_SIZE", "2")
        .env("OMPI_COMM_WORLD_RANK", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&child.stdout);
    assert!(child.status.success() && stdout.contains("1 passed"), "the child failed:\n{stdout}");
}

#[test]
fn init_runs_alone_when_not_launched() {
    if std::env::var_os("OMPI_COMM_WORLD_SIZE").is_some() {
        return; // the child of the test above
    }
    let comm = init().unwrap();
    assert_eq!((comm.rank(), comm.size()), (0, 1));
}
