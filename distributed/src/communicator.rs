//! The `Communicator`: the collective operations data-parallel training needs, on `f32`
//! buffers, whatever carries them (nothing for one process, MPI for many).
//!
//! Every rank must call the same collectives in the same order with matching sizes, as in
//! MPI; a rank that stops calling them leaves the others waiting (see
//! [`abort_on_error`](crate::abort_on_error)).

/// A group of `size()` processes, numbered `0..size()`, that run collectives together, as
/// `torch.distributed`'s process group.
///
/// ```
/// use tapegrad_distributed::{Communicator, SingleProcess};
/// let comm = SingleProcess;
/// let mut data = [1.0f32, 2.0];
/// comm.all_reduce_sum(&mut data); // one rank: the sum is its own values
/// assert_eq!((comm.rank(), comm.size(), data), (0, 1, [1.0, 2.0]));
/// ```
pub trait Communicator {
    /// This process's number, `0..size()`.
    fn rank(&self) -> usize;

    /// The number of processes.
    fn size(&self) -> usize;

    /// Sets `data` on every rank to `root`'s `data` (same length everywhere).
    fn broadcast(&self, data: &mut [f32], root: usize);

    /// Sets `data` on every rank to the elementwise sum over the ranks, added in whatever
    /// order the transport chooses (MPI's allreduce: not bitwise reproducible across rank
    /// counts; see [`all_reduce_sum_ordered`](crate::all_reduce_sum_ordered)).
    fn all_reduce_sum(&self, data: &mut [f32]);

    /// Personalised exchange: `send` holds `send_counts[k]` values for rank `k`, one block
    /// after another; `recv` receives `recv_counts[j]` values from rank `j`, in rank order.
    fn all_to_all(&self, send: &[f32], send_counts: &[usize], recv: &mut [f32], recv_counts: &[usize]);

    /// Every rank's `send` (rank `j` sends `counts[j]` values) concatenated in rank order
    /// into `recv` on every rank.
    fn all_gather(&self, send: &[f32], recv: &mut [f32], counts: &[usize]);

    /// Waits until every rank has called it.
    fn barrier(&self);

    /// Ends every process of the group with exit status `code` (MPI_Abort): what a failing
    /// rank does so the others do not wait for it forever.
    fn abort(&self, code: i32) -> !;
}

/// The group of one: this process alone, rank 0 of 1. Every collective is a copy or
/// nothing; no MPI is needed. The default, and the single-process reference of the
/// deterministic mode.
///
/// ```
/// use tapegrad_distributed::{Communicator, SingleProcess};
/// let mut gathered = [0.0f32; 2];
/// SingleProcess.all_gather(&[3.0, 4.0], &mut gathered, &[2]);
/// assert_eq!(gathered, [3.0, 4.0]);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SingleProcess;

impl Communicator for SingleProcess {
    fn rank(&self) -> usize {
        0
    }

    fn size(&self) -> usize {
        1
    }

    #[track_caller]
    fn broadcast(&self, _data: &mut [f32], root: usize) {
        assert_eq!(root, 0, "broadcast: root {root} out of range for a group of 1");
    }

    fn all_reduce_sum(&self, _data: &mut [f32]) {}

    #[track_caller]
    fn all_to_all(&self, send: &[f32], send_counts: &[usize], recv: &mut [f32], recv_counts: &[usize]) {
        assert!(
            send_counts == [send.len()] && recv_counts == [recv.len()] && send.len() == recv.len(),
            "all_to_all: counts {send_counts:?} → {recv_counts:?} do not fit buffers of {} and {} values in a group of 1",
            send.len(),
            recv.len()
        );
        recv.copy_from_slice(send);
    }

    #[track_caller]
    fn all_gather(&self, send: &[f32], recv: &mut [f32], counts: &[usize]) {
        assert!(
            counts == [send.len()] && recv.len() == send.len(),
            "all_gather: counts {counts:?} do not fit buffers of {} and {} values in a group of 1",
            send.len(),
            recv.len()
        );
        recv.copy_from_slice(send);
    }

    fn barrier(&self) {}

    fn abort(&self, code: i32) -> ! {
        std::process::exit(code)
    }
}

/// Delegates to the communicator behind the reference, so a model can borrow the
/// communicator that [`abort_on_error`](crate::abort_on_error) also uses.
impl<C: Communicator + ?Sized> Communicator for &C {
    fn rank(&self) -> usize {
        (**self).rank()
    }
    fn size(&self) -> usize {
        (**self).size()
    }
    fn broadcast(&self, data: &mut [f32], root: usize) {
        (**self).broadcast(data, root)
    }
    fn all_reduce_sum(&self, data: &mut [f32]) {
        (**self).all_reduce_sum(data)
    }
    fn all_to_all(&self, send: &[f32], send_counts: &[usize], recv: &mut [f32], recv_counts: &[usize]) {
        (**self).all_to_all(send, send_counts, recv, recv_counts)
    }
    fn all_gather(&self, send: &[f32], recv: &mut [f32], counts: &[usize]) {
        (**self).all_gather(send, recv, counts)
    }
    fn barrier(&self) {
        (**self).barrier()
    }
    fn abort(&self, code: i32) -> ! {
        (**self).abort(code)
    }
}
