//! The threads that run a kernel's parallel tasks: the calling thread and workers that
//! spin for a moment after each region before they sleep.
//!
//! A training step is a handful of short parallel regions (two products of a few million
//! multiply-adds, an optimizer update) with serial work between them. Under rayon's scope
//! the worker went to sleep in each gap and the caller blocked on a condition variable at
//! each region's end: about 38 context switches per step of the batch-64 MLP, and two
//! threads gained nothing over one (BENCHMARKS.md). Here a region is published with one
//! atomic store; a worker that finished the last one is still spinning and takes its share
//! within a microsecond, and the caller waits for the others by spinning too, as OpenMP
//! runtimes and Eigen's pool do. A worker idle for [`SPIN`] sleeps, so an idle program
//! costs nothing.
//!
//! How many tasks a region has is the caller's choice (rayon's thread count, which
//! `RAYON_NUM_THREADS` and rayon's pool builders set); which thread runs a task is not, and
//! never changes a result. Workers are started when first needed, at most one per core
//! beside the caller's. One region runs at a time: a kernel called while another
//! thread's region runs, or from inside a task, runs its tasks one after another on its
//! own thread, with the same result.

use std::any::Any;
use std::hint::spin_loop;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

/// A region's task, called once for each task index.
pub(crate) type Task<'a> = dyn Fn(usize) + Sync + 'a;

/// How long a worker without work spins before it sleeps. Longer than the serial gaps
/// inside a training step, short enough that other programs lose little.
const SPIN: Duration = Duration::from_micros(200);

/// The most tasks one region can have (the ticket's field width); more run on the caller.
const MAX_TASKS: usize = 0xFFFF;

/// The one team of workers, shared by every kernel of the process.
static TEAM: Team = Team {
    busy: AtomicBool::new(false),
    ticket: AtomicU64::new(0),
    task: AtomicPtr::new(std::ptr::null_mut()),
    done: AtomicUsize::new(0),
    panic: Mutex::new(None),
    hired: AtomicUsize::new(0),
    sleepers: AtomicUsize::new(0),
    bed: Mutex::new(()),
    alarm: Condvar::new(),
};

struct Team {
    /// Taken by the caller whose region the team runs.
    busy: AtomicBool,
    /// The region's number (high 32 bits), its task count (bits 16–31) and the next task
    /// not yet claimed (low 16 bits). Claiming a task is one compare-and-swap on it, so a
    /// claim names its region and no task runs twice or with another region's closure.
    ticket: AtomicU64,
    /// Points at the caller's `&Task` (lifetime erased): alive while any claimed task of
    /// the region is unfinished, because the caller does not return before then.
    task: AtomicPtr<()>,
    /// Tasks of the current region finished.
    done: AtomicUsize,
    /// The first panic of the region's tasks, raised again on the caller.
    panic: Mutex<Option<Box<dyn Any + Send>>>,
    /// Workers started so far (touched only by the caller holding `busy`, so no lock).
    hired: AtomicUsize,
    /// Workers asleep (or about to be) on `alarm`.
    sleepers: AtomicUsize,
    bed: Mutex<()>,
    alarm: Condvar,
}

/// Runs `task(0)`, …, `task(n - 1)` on the calling thread and the workers, returning when
/// all are done (and raising again the first panic among them, if any).
pub(crate) fn run_tasks(n: usize, task: &Task<'_>) {
    let free = || TEAM.busy.compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed).is_ok();
    if n <= 1 || n > MAX_TASKS || !free() {
        return (0..n).for_each(task);
    }
    TEAM.run(n, task);
}

impl Team {
    /// Runs one region; the caller holds `busy`, which this releases.
    fn run(&'static self, n: usize, task: &Task<'_>) {
        self.hire(n - 1);
        let task: *const &Task<'_> = &task;
        self.task.store(task as *mut (), Ordering::Relaxed);
        self.done.store(0, Ordering::Relaxed);
        let region = (self.ticket.load(Ordering::Relaxed) >> 32) + 1;
        // SeqCst pairs with the sleepers' count (see `wait_for_region`): either a worker
        // going to sleep sees this region, or this thread sees it sleeping and wakes it.
        self.ticket.store(region << 32 | (n as u64) << 16, Ordering::SeqCst);
        if self.sleepers.load(Ordering::SeqCst) > 0 {
            let _bed = lock(&self.bed);
            self.alarm.notify_all();
        }
        self.work();
        let mut spins = 0u32;
        while self.done.load(Ordering::Acquire) < n {
            // Spin while the others are likely running; yield once they may not be (more
            // threads than cores), so that they can finish.
            spins += 1;
            if spins < 1 << 14 { spin_loop() } else { std::thread::yield_now() }
        }
        let panic = lock(&self.panic).take();
        self.busy.store(false, Ordering::Release);
        if let Some(panic) = panic {
            resume_unwind(panic);
        }
    }

    /// Claims and runs tasks of the current region until none is left; returns the number of
    /// the region it found exhausted.
    fn work(&self) -> u64 {
        let mut ticket = self.ticket.load(Ordering::Acquire);
        loop {
            let (n, next) = ((ticket >> 16) & 0xFFFF, ticket & 0xFFFF);
            if next >= n {
                return ticket >> 32;
            }
            match self.ticket.compare_exchange_weak(ticket, ticket + 1, Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => {
                    // SAFETY: task `next` of this region is claimed and not done, so the
                    // region's caller is still waiting and its `&Task` is alive.
                    let task: &Task<'_> = unsafe { *(self.task.load(Ordering::Acquire) as *const &Task<'_>) };
                    if let Err(panic) = catch_unwind(AssertUnwindSafe(|| task(next as usize))) {
                        lock(&self.panic).get_or_insert(panic);
                    }
                    self.done.fetch_add(1, Ordering::Release);
                    ticket = self.ticket.load(Ordering::Acquire);
                }
                Err(now) => ticket = now,
            }
        }
    }

    /// Starts workers until there are `count`, but no more than the cores beside the
    /// caller's: spinning threads beyond the cores would take turns with the ones doing the
    /// work. (Fewer workers than tasks, or none if the system refuses threads, only means
    /// the caller and the workers claim more tasks each.)
    fn hire(&'static self, count: usize) {
        static CORES: OnceLock<usize> = OnceLock::new();
        let cores = *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
        let count = count.min(cores - 1);
        // Called before the region is published: a new worker takes part in it.
        let seen = self.ticket.load(Ordering::Acquire) >> 32;
        let mut hired = self.hired.load(Ordering::Relaxed);
        while hired < count {
            let name = format!("tapegrad-worker-{}", hired + 1);
            if std::thread::Builder::new().name(name).spawn(move || self.serve(seen)).is_err() {
                return;
            }
            hired += 1;
            self.hired.store(hired, Ordering::Relaxed);
        }
    }

    /// A worker's life: take part in every region after `seen`, waiting between them.
    fn serve(&self, mut seen: u64) {
        loop {
            self.wait_for_region(seen);
            seen = self.work();
        }
    }

    /// Returns once a region newer than `seen` is published: spinning for [`SPIN`], then
    /// asleep on `alarm`.
    fn wait_for_region(&self, seen: u64) {
        let start = Instant::now();
        let mut spins = 0u32;
        while self.ticket.load(Ordering::Acquire) >> 32 == seen {
            spin_loop();
            spins += 1;
            if spins.is_multiple_of(64) && start.elapsed() > SPIN {
                let mut bed = lock(&self.bed);
                self.sleepers.fetch_add(1, Ordering::SeqCst);
                while self.ticket.load(Ordering::SeqCst) >> 32 == seen {
                    bed = self.alarm.wait(bed).unwrap_or_else(|e| e.into_inner());
                }
                self.sleepers.fetch_sub(1, Ordering::SeqCst);
                return;
            }
        }
    }
}

/// Locks `mutex`, ignoring poisoning (the data behind these locks stays valid).
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicU32;

    #[test]
    fn every_task_runs_once_in_every_region() {
        for n in [2, 3, 8] {
            for _ in 0..200 {
                let counts: Vec<AtomicU32> = (0..n).map(|_| AtomicU32::new(0)).collect();
                run_tasks(n, &|t| {
                    counts[t].fetch_add(1, Ordering::Relaxed);
                });
                assert!(counts.iter().all(|c| c.load(Ordering::Relaxed) == 1), "n = {n}");
            }
        }
    }

    #[test]
    fn two_tasks_run_at_once_on_two_cores() {
        if std::thread::available_parallelism().map_or(1, |n| n.get()) < 2 {
            return;
        }
        // Each task waits (up to a second) for the other to start: both meet only if two
        // threads run them at once. Another test's region may hold the team, and then this
        // one runs on its own thread: try again.
        let met_once = (0..30).any(|_| {
            let started = [AtomicBool::new(false), AtomicBool::new(false)];
            let met = AtomicU32::new(0);
            run_tasks(2, &|t| {
                started[t].store(true, Ordering::SeqCst);
                let deadline = Instant::now() + Duration::from_secs(1);
                while !started[1 - t].load(Ordering::SeqCst) && Instant::now() < deadline {
                    spin_loop();
                }
                if started[1 - t].load(Ordering::SeqCst) {
                    met.fetch_add(1, Ordering::SeqCst);
                }
            });
            met.load(Ordering::SeqCst) == 2
        });
        assert!(met_once, "no worker took the second task while the first ran");
    }

    #[test]
    fn regions_from_many_threads_and_nested_regions_all_complete() {
        let total = AtomicU32::new(0);
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    for _ in 0..100 {
                        run_tasks(3, &|_| run_tasks(2, &|_| _ = total.fetch_add(1, Ordering::Relaxed)));
                    }
                });
            }
        });
        assert_eq!(total.load(Ordering::Relaxed), 4 * 100 * 3 * 2);
    }

    #[test]
    fn a_panicking_task_panics_on_the_caller_once_no_task_runs() {
        let finished = AtomicU32::new(0);
        let caught = catch_unwind(AssertUnwindSafe(|| {
            run_tasks(4, &|t| {
                if t == 2 {
                    panic!("task two");
                }
                std::thread::sleep(Duration::from_millis(20));
                finished.fetch_add(1, Ordering::SeqCst);
            })
        }));
        let message = caught.unwrap_err().downcast::<&str>().map(|m| *m).ok();
        assert_eq!(message, Some("task two"));
        // No task goes on after the caller has unwound (the tasks borrow its stack).
        let at_return = finished.load(Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(100));
        assert_eq!(finished.load(Ordering::SeqCst), at_return);
        // The team is free again.
        let ran = AtomicU32::new(0);
        run_tasks(2, &|_| _ = ran.fetch_add(1, Ordering::Relaxed));
        assert_eq!(ran.load(Ordering::Relaxed), 2);
    }
}
