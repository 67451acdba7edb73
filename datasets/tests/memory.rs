//! An MNIST-sized training set is never held twice: loading keeps bytes, `into_dataset`
//! writes one `f32` copy and frees the bytes, and a shuffled epoch adds one batch at a time.
//! Measured with a counting allocator (its own test binary, one test, so nothing else
//! allocates beside it).

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use common::{MNIST_NAMES, TempDir};
use tapegrad_datasets::{DataLoader, Mnist, idx};

struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grew(bytes: usize) {
    let now = CURRENT.fetch_add(bytes, Ordering::SeqCst) + bytes;
    PEAK.fetch_max(now, Ordering::SeqCst);
}

// SAFETY: every call is forwarded to the system allocator unchanged; only sizes are counted.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        grew(layout.size());
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        grew(layout.size());
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        CURRENT.fetch_sub(layout.size(), Ordering::SeqCst);
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // Count the new block before the old one is freed: a moving realloc holds both.
        grew(new_size);
        CURRENT.fetch_sub(layout.size(), Ordering::SeqCst);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Writes MNIST-sized IDX files (60,000 + 10,000 images) without holding them in memory.
fn write_fixture(dir: &std::path::Path) {
    use std::io::Write;
    for (name, n) in [(MNIST_NAMES[0], 60_000), (MNIST_NAMES[2], 10_000)] {
        let mut out = std::io::BufWriter::new(std::fs::File::create(dir.join(name)).unwrap());
        out.write_all(&[0, 0, 8, 3]).unwrap(); // the IDX magic: unsigned bytes, 3 dimensions
        for d in [n as u32, 28, 28] {
            out.write_all(&d.to_be_bytes()).unwrap();
        }
        let row: Vec<u8> = (0..784).map(|j| (j % 256) as u8).collect();
        for _ in 0..n {
            out.write_all(&row).unwrap();
        }
    }
    let labels = |n: usize| idx::encode(&[n], &(0..n).map(|i| (i % 10) as u8).collect::<Vec<_>>());
    std::fs::write(dir.join(MNIST_NAMES[1]), labels(60_000)).unwrap();
    std::fs::write(dir.join(MNIST_NAMES[3]), labels(10_000)).unwrap();
}

#[test]
fn an_mnist_epoch_holds_the_data_once_plus_a_batch() {
    let dir = TempDir::new("memory");
    write_fixture(dir.path());
    let mb = |b: usize| b as f64 / 1e6;
    let f32_size = 60_000 * 784 * 4;
    let (u8_train, u8_test) = (60_000 * 784, 10_000 * 784);

    let baseline = CURRENT.load(Ordering::SeqCst);
    PEAK.store(baseline, Ordering::SeqCst);
    let mnist = Mnist::load(dir.path()).unwrap();
    let loaded = CURRENT.load(Ordering::SeqCst) - baseline;
    assert!(loaded < u8_train + u8_test + (2 << 20), "loading holds {} MB", mb(loaded));

    let train = mnist.train.into_dataset();
    let converted = CURRENT.load(Ordering::SeqCst) - baseline;
    let conversion_peak = PEAK.load(Ordering::SeqCst) - baseline;
    // The bytes are gone: the f32 set, the test bytes and labels remain.
    assert!(converted < f32_size + u8_test + (2 << 20), "after conversion {} MB are held", mb(converted));
    // Bytes and floats together once, never two f32 copies.
    assert!(
        conversion_peak < f32_size + u8_train + u8_test + (4 << 20),
        "conversion peaked at {} MB for {} MB of f32",
        mb(conversion_peak),
        mb(f32_size)
    );

    let loader = DataLoader::new(&train, 128).shuffle(0);
    PEAK.store(CURRENT.load(Ordering::SeqCst), Ordering::SeqCst);
    let mut seen = 0;
    for batch in loader.epoch(0) {
        seen += batch.len();
    }
    assert_eq!(seen, 60_000);
    let epoch_peak = PEAK.load(Ordering::SeqCst) - baseline;
    // One batch (128 × 784 f32 = 0.4 MB) and the epoch's permutation beside the data set.
    assert!(epoch_peak < converted + (4 << 20), "the epoch peaked at {} MB", mb(epoch_peak));
    assert!(epoch_peak < 2 * f32_size, "above 2× the f32 data set");
    println!(
        "f32 set {} MB; loaded {} MB; conversion peak {} MB; held after {} MB; epoch peak {} MB",
        mb(f32_size),
        mb(loaded),
        mb(conversion_peak),
        mb(converted),
        mb(epoch_peak)
    );
    drop(mnist.test);
}
