//! The distributed algorithms without MPI: ranks as threads of this process, joined by a
//! communicator over shared memory, so `cargo test --workspace` checks the rank-ordered sum
//! and data-parallel training at several ranks (tests/mpi.rs does it under a real mpirun).

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Barrier, Mutex};

use rand::{RngExt, SeedableRng};
use tapegrad_autograd::Tensor;
use tapegrad_datasets::{Dataset, Targets};
use tapegrad_distributed::{
    Communicator, DdpConfig, DistributedDataParallel, DistributedSampler, ReduceMode, SingleProcess,
    all_reduce_sum_ordered,
};
use tapegrad_nn::{Linear, Module, Reduction, Sequential, Tanh, mse_loss};

/// What every rank posted for the current collective: values and, for all-to-all, counts.
struct Group {
    barrier: Barrier,
    posted: Mutex<Vec<(Vec<f32>, Vec<usize>)>>,
}

/// One thread's view of the group.
struct ThreadRank {
    rank: usize,
    group: Arc<Group>,
}

impl ThreadRank {
    /// Posts `data`, waits for everyone's, reads them all, waits until all have read.
    fn exchange<R>(&self, data: &[f32], counts: &[usize], read: impl FnOnce(&[(Vec<f32>, Vec<usize>)]) -> R) -> R {
        self.group.posted.lock().unwrap()[self.rank] = (data.to_vec(), counts.to_vec());
        self.group.barrier.wait();
        let result = read(&self.group.posted.lock().unwrap());
        self.group.barrier.wait();
        result
    }
}

impl Communicator for ThreadRank {
    fn rank(&self) -> usize {
        self.rank
    }
    fn size(&self) -> usize {
        self.group.posted.lock().unwrap().len()
    }
    fn broadcast(&self, data: &mut [f32], root: usize) {
        let root_data = self.exchange(data, &[], |all| all[root].0.clone());
        data.copy_from_slice(&root_data);
    }
    fn all_reduce_sum(&self, data: &mut [f32]) {
        // Last rank first: an order of its own, as MPI's algorithms have.
        let sum = self.exchange(data, &[], |all| {
            let mut sum = vec![0.0f32; all[0].0.len()];
            for (values, _) in all.iter().rev() {
                sum.iter_mut().zip(values).for_each(|(s, v)| *s += v);
            }
            sum
        });
        data.copy_from_slice(&sum);
    }
    fn all_to_all(&self, send: &[f32], send_counts: &[usize], recv: &mut [f32], recv_counts: &[usize]) {
        let received: Vec<f32> = self.exchange(send, send_counts, |all| {
            all.iter()
                .flat_map(|(values, counts)| {
                    let start: usize = counts[..self.rank].iter().sum();
                    values[start..start + counts[self.rank]].to_vec()
                })
                .collect()
        });
        assert_eq!(received.len(), recv_counts.iter().sum::<usize>());
        recv.copy_from_slice(&received);
    }
    fn all_gather(&self, send: &[f32], recv: &mut [f32], counts: &[usize]) {
        let gathered: Vec<f32> = self.exchange(send, &[], |all| all.iter().flat_map(|(v, _)| v.clone()).collect());
        assert_eq!(gathered.len(), counts.iter().sum::<usize>());
        recv.copy_from_slice(&gathered);
    }
    fn barrier(&self) {
        self.group.barrier.wait();
    }
    fn abort(&self, code: i32) -> ! {
        panic!("rank {} aborted with {code}", self.rank)
    }
}

/// Runs `f(rank communicator)` on `size` threads; returns their results in rank order.
/// A rank that panics aborts the process (the test fails rather than hangs).
fn on_threads<R: Send>(size: usize, f: impl Fn(ThreadRank) -> R + Sync) -> Vec<R> {
    let group = Arc::new(Group { barrier: Barrier::new(size), posted: Mutex::new(vec![(vec![], vec![]); size]) });
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..size)
            .map(|rank| {
                s.spawn({
                    let (f, group) = (&f, group.clone());
                    // A panicking rank would leave the others at a barrier forever: end the
                    // test process instead (the panic's message is printed first).
                    move || match catch_unwind(AssertUnwindSafe(|| f(ThreadRank { rank, group }))) {
                        Ok(result) => result,
                        Err(_) => {
                            eprintln!("rank {rank} panicked: aborting rather than leaving the other ranks waiting");
                            std::process::abort()
                        }
                    }
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

#[test]
fn the_ordered_sum_adds_in_rank_order_at_any_number_of_ranks() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(1);
    for size in 1..=5 {
        for len in [0, 1, 3, 7, 1000] {
            // Values of very different magnitudes, so the order of additions shows in the bits.
            let inputs: Vec<Vec<f32>> = (0..size)
                .map(|_| (0..len).map(|_| rng.random::<f32>() * 10f32.powi(rng.random_range(-4..5))).collect())
                .collect();
            let mut expected = inputs[0].clone();
            for other in &inputs[1..] {
                expected.iter_mut().zip(other).for_each(|(e, x)| *e += x);
            }
            let results = on_threads(size, |comm| {
                let mut data = inputs[comm.rank()].clone();
                all_reduce_sum_ordered(&comm, &mut data);
                data
            });
            for (rank, result) in results.iter().enumerate() {
                let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(result), bits(&expected), "{size} ranks, {len} values, rank {rank}");
            }
        }
    }
}

fn regression_data() -> Dataset {
    let mut rng = rand::rngs::StdRng::seed_from_u64(2);
    let x = Tensor::<f32>::randn(&[60, 3], &mut rng);
    let y = (x.sum_dim(1, true) * 0.7).sin();
    Dataset::new(x, Targets::Values(y)).unwrap()
}

/// Trains for 12 SGD steps with global batches of 10; `slices` are the ranks this process
/// computes (its own, or all of them in turn for the reference). Returns the parameters.
fn train<C: Communicator>(comm: C, mode: ReduceMode, slices: &[(usize, usize)], data: &Dataset) -> Vec<Vec<f32>> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(10 + comm.rank() as u64); // ranks start apart
    let model = Sequential::new().add(Linear::new(3, 8, &mut rng)).add(Tanh).add(Linear::new(8, 1, &mut rng));
    let ddp = DistributedDataParallel::new(model, comm, DdpConfig { mode, bucket_cap_mb: 0.0001 }).unwrap();
    let samplers: Vec<_> = slices.iter().map(|&(r, n)| DistributedSampler::new(data, 10, r, n).shuffle(4)).collect();
    for epoch in 0..2 {
        let mut epochs: Vec<_> = samplers.iter().map(|s| s.epoch(epoch)).collect();
        while let Some(first) = epochs[0].next() {
            let shards: Vec<_> =
                std::iter::once(first).chain(epochs[1..].iter_mut().map(|e| e.next().unwrap())).collect();
            ddp.zero_grad();
            for shard in &shards {
                let targets = shard.batch.targets.values().unwrap();
                mse_loss(&ddp.forward(&shard.batch.inputs), targets, Reduction::Sum).backward();
            }
            ddp.sync_gradients(shards[0].global_batch_size).unwrap();
            for p in ddp.module().parameters() {
                let g = p.grad().unwrap().to_vec();
                p.update_data(|w| w.iter_mut().zip(&g).for_each(|(w, g)| *w -= 0.1 * g));
            }
        }
    }
    ddp.module().parameters().iter().map(|p| p.to_vec()).collect()
}

#[test]
fn deterministic_training_on_3_ranks_equals_one_process_bit_for_bit() {
    let data = regression_data();
    let reference = train(SingleProcess, ReduceMode::Deterministic, &[(0, 3), (1, 3), (2, 3)], &data);
    let ranks = on_threads(3, |comm| {
        let slice = [(comm.rank(), 3)];
        train(comm, ReduceMode::Deterministic, &slice, &data)
    });
    let bits = |p: &Vec<Vec<f32>>| p.iter().flatten().map(|x| x.to_bits()).collect::<Vec<_>>();
    for (rank, params) in ranks.iter().enumerate() {
        assert_eq!(bits(params), bits(&reference), "rank {rank}");
    }
    // The last-rank-first sum of the fast mode ends up elsewhere in the last bits, but close.
    let fast = on_threads(3, |comm| {
        let slice = [(comm.rank(), 3)];
        train(comm, ReduceMode::Fast, &slice, &data)
    });
    let worst =
        fast[0].iter().flatten().zip(reference.iter().flatten()).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
    assert!(worst < 1e-5, "fast mode strays {worst:e} from the reference");
}

#[test]
fn ranks_start_from_rank_0s_parameters() {
    let firsts = on_threads(2, |comm| {
        let mut rng = rand::rngs::StdRng::seed_from_u64(comm.rank() as u64);
        let ddp = DistributedDataParallel::new(Linear::new(4, 2, &mut rng), comm, DdpConfig::default()).unwrap();
        ddp.module().parameters().iter().map(|p| p.to_vec()).collect::<Vec<_>>()
    });
    let mut rng = rand::rngs::StdRng::seed_from_u64(0);
    let rank0: Vec<Vec<f32>> = Linear::new(4, 2, &mut rng).parameters().iter().map(|p| p.to_vec()).collect();
    assert_eq!(firsts, vec![rank0.clone(), rank0]);
}

#[test]
fn a_rank_with_another_model_is_named() {
    let results = on_threads(2, |comm| {
        let mut rng = rand::rngs::StdRng::seed_from_u64(0);
        let width = if comm.rank() == 1 { 3 } else { 2 };
        DistributedDataParallel::new(Linear::new(4, width, &mut rng), comm, DdpConfig::default())
            .err()
            .map(|e| e.to_string())
    });
    assert_eq!(results[0].as_deref(), Some("rank 0: rank 1's model differs from rank 0's (see rank 1's error)"));
    let message = results[1].clone().unwrap();
    assert!(message.starts_with("rank 1: the model has parameter sizes [12.0, 3.0]"), "{message}");
}
