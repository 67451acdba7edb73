//! The MPI communicator (feature `mpi`): MPI's world through the `mpi` crate, on Open MPI
//! or MPICH.

use mpi::datatype::{Partition, PartitionMut};
use mpi::environment::Universe;
use mpi::topology::SimpleCommunicator;
use mpi::traits::{Communicator as _, CommunicatorCollectives, Root};
use mpi::{Count, collective::SystemOperation};

use crate::{Communicator, DistributedError};

/// Every process of the MPI job (`MPI_COMM_WORLD`). MPI starts when this is made and stops
/// when it is dropped, once per process.
///
/// ```no_run
/// use tapegrad_distributed::{Communicator, MpiCommunicator};
/// let comm = MpiCommunicator::init().unwrap();
/// println!("rank {} of {}", comm.rank(), comm.size());
/// ```
pub struct MpiCommunicator {
    world: SimpleCommunicator,
    // Dropped last: finalises MPI.
    _universe: Universe,
}

impl MpiCommunicator {
    /// Initialises MPI and takes its world.
    ///
    /// # Errors
    /// [`DistributedError::AlreadyInitialized`] if MPI was initialised before in this
    /// process.
    pub fn init() -> Result<MpiCommunicator, DistributedError> {
        let universe = mpi::initialize().ok_or(DistributedError::AlreadyInitialized)?;
        Ok(MpiCommunicator { world: universe.world(), _universe: universe })
    }
}

/// Counts and their displacements (prefix sums), as MPI's varcount collectives take them.
fn partition(counts: &[usize]) -> (Vec<Count>, Vec<Count>) {
    let counts: Vec<Count> =
        counts.iter().map(|&c| Count::try_from(c).expect("a bucket of fewer than 2³¹ values")).collect();
    let displs = counts.iter().scan(0, |start, &c| Some(std::mem::replace(start, *start + c))).collect();
    (counts, displs)
}

impl Communicator for MpiCommunicator {
    fn rank(&self) -> usize {
        self.world.rank() as usize
    }

    fn size(&self) -> usize {
        self.world.size() as usize
    }

    fn broadcast(&self, data: &mut [f32], root: usize) {
        self.world.process_at_rank(root as i32).broadcast_into(data);
    }

    fn all_reduce_sum(&self, data: &mut [f32]) {
        let send = data.to_vec();
        self.world.all_reduce_into(&send[..], data, SystemOperation::sum());
    }

    fn all_to_all(&self, send: &[f32], send_counts: &[usize], recv: &mut [f32], recv_counts: &[usize]) {
        let (sc, sd) = partition(send_counts);
        let (rc, rd) = partition(recv_counts);
        let send = Partition::new(send, sc, sd);
        let mut recv = PartitionMut::new(recv, rc, rd);
        self.world.all_to_all_varcount_into(&send, &mut recv);
    }

    fn all_gather(&self, send: &[f32], recv: &mut [f32], counts: &[usize]) {
        let (c, d) = partition(counts);
        let mut recv = PartitionMut::new(recv, c, d);
        self.world.all_gather_varcount_into(send, &mut recv);
    }

    fn barrier(&self) {
        self.world.barrier();
    }

    fn abort(&self, code: i32) -> ! {
        self.world.abort(code)
    }
}
