//! Recycled tensor allocations.
//!
//! A tensor is one reference-counted allocation of 256 bytes (its id, its value's handle,
//! the op that made it), and a small array's value another, of about 100. A graph makes
//! them by the hundred and `backward` frees them together; glibc keeps only 7 freed blocks
//! of a size per thread for quick reuse, so the rest went the slow way (sorted and merged
//! into free lists): a quarter of the instructions of a chain of small ops (W3 in
//! BENCHMARKS.md). So the last handle to a tensor or array leaves its allocation here,
//! emptied, and the next one made on the same thread takes it back: a push and a pop
//! instead of a `free` and a `malloc`. A thread keeps at most [`KEEP`] allocations of a
//! size; [`crate::release_cached_memory`] frees them.

use std::cell::RefCell;
use std::mem::MaybeUninit;
use std::sync::Arc;

/// The most emptied allocations a thread keeps per size: enough for the graph of a chain of
/// a few thousand ops (at most 1 MB of tensors and 0.4 MB of small arrays).
pub(crate) const KEEP: usize = 4096;

/// Emptied `Arc` allocations of values of one size and alignment.
struct Pool {
    /// `(size, align)` of the values these allocations held.
    layout: (usize, usize),
    /// Pointers from `Arc::into_raw`, the values already dropped.
    blocks: Vec<*const ()>,
    /// Frees one block (without dropping a value: there is none).
    free: unsafe fn(*const ()),
}

impl Drop for Pool {
    fn drop(&mut self) {
        for &block in &self.blocks {
            // SAFETY: each block came from `Arc::into_raw` of a value of this layout, and
            // is freed once, here.
            unsafe { (self.free)(block) };
        }
    }
}

thread_local! {
    static POOLS: RefCell<Vec<Pool>> = const { RefCell::new(Vec::new()) };
}

fn layout<X>() -> (usize, usize) {
    (size_of::<X>(), align_of::<X>())
}

/// Frees a block that held an `X` (same size and alignment as one), its value dropped.
///
/// # Safety
/// `block` came from `Arc::<Y>::into_raw` for a `Y` of `X`'s size and alignment, its value
/// was dropped, and nothing uses it again.
unsafe fn free<X>(block: *const ()) {
    // SAFETY: `MaybeUninit<X>` has `Y`'s size and alignment (what `from_raw` asks), and
    // dropping it drops no value, only the allocation.
    drop(unsafe { Arc::from_raw(block.cast::<MaybeUninit<X>>()) });
}

/// `Arc::new(make())`, in an allocation this thread kept if it has one. (`make` runs once
/// the place is known, so that the value is built there, not built and then copied.)
#[inline(always)]
pub(crate) fn new_arc<X>(make: impl FnOnce() -> X) -> Arc<X> {
    let block = kept::<X>().unwrap_or_else(|| Arc::into_raw(Arc::<X>::new_uninit()).cast());
    // SAFETY: the block came from `Arc::into_raw` of a value of `X`'s size and alignment
    // (what `from_raw` asks) and holds no value: a kept one was dropped, a new one never
    // had one. Its counts say one strong handle, the one made here, so nothing else reads
    // the value written.
    unsafe {
        block.cast::<X>().cast_mut().write(make());
        Arc::from_raw(block.cast::<X>())
    }
}

/// An emptied allocation for an `X` that this thread kept, if any.
fn kept<X>() -> Option<*const ()> {
    with_pool::<X, _>(|blocks| blocks.pop()).flatten()
}

/// Drops a handle; if it was the last one, drops the value and keeps the allocation for
/// [`new_arc`] (or frees it if this thread keeps enough).
pub(crate) fn drop_arc<X>(mut arc: Arc<X>) {
    // The cheap test first: most handles dropped are not the last.
    if Arc::strong_count(&arc) != 1 || Arc::get_mut(&mut arc).is_none() {
        return;
    }
    let block = Arc::into_raw(arc);
    // SAFETY: the only handle (and no weak ones): nothing else can reach the value, which
    // is dropped once, here. Drops this causes (a node's inputs) may come back into this
    // module: no pool is borrowed meanwhile.
    unsafe { block.cast_mut().drop_in_place() };
    let block = block.cast::<()>();
    let kept = with_pool::<X, _>(|blocks| (blocks.len() < KEEP).then(|| blocks.push(block)).is_some());
    if kept != Some(true) {
        // SAFETY: the value was dropped and the block is not kept.
        unsafe { free::<X>(block) };
    }
}

/// Runs `f` on this thread's kept blocks for `X`'s layout (a pool made if there is none),
/// unless the pools are unavailable: borrowed further up the stack, or the thread ending.
fn with_pool<X, R>(f: impl FnOnce(&mut Vec<*const ()>) -> R) -> Option<R> {
    POOLS
        .try_with(|pools| {
            let mut pools = pools.try_borrow_mut().ok()?;
            let index = match pools.iter().position(|p| p.layout == layout::<X>()) {
                Some(index) => index,
                None => {
                    pools.push(Pool { layout: layout::<X>(), blocks: Vec::new(), free: free::<X> });
                    pools.len() - 1
                }
            };
            Some(f(&mut pools[index].blocks))
        })
        .ok()
        .flatten()
}

/// Frees the allocations this thread keeps.
pub(crate) fn release() {
    // A thread that is ending has freed them already.
    let _ = POOLS.try_with(|pools| pools.take());
}

/// How many allocations of `X`'s size this thread keeps (for tests).
#[cfg(test)]
fn kept_count<X>() -> usize {
    POOLS.with(|pools| pools.borrow().iter().find(|p| p.layout == layout::<X>()).map_or(0, |p| p.blocks.len()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Counts its drops.
    struct Counted<'a>(&'a AtomicUsize, [u64; 5]);

    impl Drop for Counted<'_> {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }

    #[test]
    fn the_last_handle_drops_the_value_once_and_keeps_the_allocation() {
        let drops = AtomicUsize::new(0);
        let before = kept_count::<Counted>();
        let first = new_arc(|| Counted(&drops, [1, 2, 3, 4, 5]));
        let second = first.clone();
        drop_arc(first);
        assert_eq!(drops.load(Ordering::Relaxed), 0, "a shared value must live on");
        assert_eq!(second.1, [1, 2, 3, 4, 5]);
        let address = Arc::as_ptr(&second);
        drop_arc(second);
        assert_eq!(drops.load(Ordering::Relaxed), 1);
        assert_eq!(kept_count::<Counted>(), before + 1);

        let reused = new_arc(|| Counted(&drops, [6, 7, 8, 9, 10]));
        assert_eq!(Arc::as_ptr(&reused), address, "the kept allocation is taken back");
        assert_eq!(reused.1, [6, 7, 8, 9, 10]);
        assert_eq!((Arc::strong_count(&reused), Arc::weak_count(&reused)), (1, 0));
        assert_eq!(drops.load(Ordering::Relaxed), 1, "writing the new value drops nothing");
        drop_arc(reused);
        assert_eq!(drops.load(Ordering::Relaxed), 2);
    }

    #[test]
    fn a_thread_keeps_at_most_keep_and_release_frees_them() {
        let drops = AtomicUsize::new(0);
        let arcs: Vec<_> = (0..KEEP + 10).map(|i| new_arc(|| Counted(&drops, [i as u64; 5]))).collect();
        arcs.into_iter().for_each(drop_arc);
        assert_eq!(drops.load(Ordering::Relaxed), KEEP + 10, "every value dropped, kept or not");
        assert_eq!(kept_count::<Counted>(), KEEP);
        release();
        assert_eq!(kept_count::<Counted>(), 0);
    }

    #[test]
    fn a_value_with_a_weak_handle_is_dropped_the_usual_way() {
        let drops = AtomicUsize::new(0);
        let arc = new_arc(|| Counted(&drops, [0; 5]));
        let weak = Arc::downgrade(&arc);
        let before = kept_count::<Counted>();
        drop_arc(arc);
        assert_eq!(drops.load(Ordering::Relaxed), 1);
        assert!(weak.upgrade().is_none());
        assert_eq!(kept_count::<Counted>(), before, "an allocation a weak handle still points to is not kept");
    }
}
