//! f32 matrix multiplication, BLIS-style: C = A·B (+ C), for strided A and B and row-major C.
//!
//! The loops, outermost first: columns of B in panels of `NC`; the shared dimension in
//! blocks of `KC` (B's block is packed once into `NR`-wide slivers); rows of A in blocks of
//! `MC` (packed into `MR`-tall slivers, one block per task); then a 6×16 micro-kernel
//! on AVX2 + FMA registers (or its copy for the 1–5 rows of a short last sliver). Packing
//! buffers live per thread and are reused, so a call allocates nothing once warm (fresh
//! buffers per call cost page faults, which dominated training time with the crate used
//! before).
//!
//! Determinism: every element of C adds its products in the same order (blocks of `KC`,
//! chosen from `k` alone, in sequence; within a block, one FMA per step) whichever thread
//! computes it and however rows and columns are split. So the split may follow the thread
//! count, and the bits never do.

use std::cell::RefCell;
use std::sync::OnceLock;

use super::parallel::{SharedMut, run_tasks};

/// Rows of the micro-kernel's tile.
const MR: usize = 6;
/// Columns of the micro-kernel's tile (two 8-float AVX registers).
const NR: usize = 16;
/// The largest block of the shared dimension (B's sliver of `KC × NR` floats, 32 KB, is
/// what stays in L1). Measured: 512 beat 256 by 15% at 512³ and 1024³ on one thread (fewer
/// passes over C), and larger gained nothing.
const KC: usize = 512;
/// The largest block of rows of A (`MC × KC` floats, 144 KB, fit in L2 with room).
const MC: usize = 72;
/// The largest panel of columns of B (`KC × NC` floats fit in L3).
const NC: usize = 4080;
/// What packing reads past the last row of A or column of B of a short sliver, so that the
/// transposes write the padding's zeros themselves (zeroing it afterwards, two or six floats
/// per step, was a `memset` call per step: about 1% of W1's time).
static ZEROS: [f32; KC] = [0.0; KC];
/// Products with fewer multiply-adds than this run on the calling thread.
const PARALLEL_MACS: usize = 1 << 20;

thread_local! {
    static PACKED_A: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
    static PACKED_B: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f` with `len` elements of this thread's buffer, from its first 64-byte boundary
/// (grown if needed, never shrunk: packing overwrites what it uses, so sizes alternating
/// between products cost no zeroing), or of a fresh one if the buffer is already in use (a
/// product inside a product's task).
fn with_buffer<R>(
    buffer: &'static std::thread::LocalKey<RefCell<Vec<f32>>>,
    len: usize,
    f: impl FnOnce(&mut [f32]) -> R,
) -> R {
    // Room to start on a 64-byte boundary: a packed sliver of B is read 16 floats per step,
    // and from an address 16 or 48 bytes past a boundary one of its two loads straddles two
    // cache lines at every step.
    let room = len + CACHE_LINE_FLOATS;
    let aligned = |buffer: &mut [f32]| {
        let start = buffer.as_ptr().align_offset(CACHE_LINE_FLOATS * 4).min(CACHE_LINE_FLOATS);
        f(&mut buffer[start..start + len])
    };
    buffer.with(|cell| match cell.try_borrow_mut() {
        Ok(mut held) => {
            if held.len() < room {
                held.resize(room, 0.0);
            }
            aligned(&mut held)
        }
        Err(_) => aligned(&mut vec![0.0; room]),
    })
}

/// Floats in a 64-byte cache line.
const CACHE_LINE_FLOATS: usize = 16;

/// A matrix operand: its first element and its row and column strides, in elements.
#[derive(Clone, Copy)]
pub(crate) struct Operand {
    pub(crate) ptr: *const f32,
    pub(crate) row_stride: isize,
    pub(crate) col_stride: isize,
}

// SAFETY: an `Operand` is only read, and the caller of `sgemm` keeps it alive.
unsafe impl Send for Operand {}
// SAFETY: as above.
unsafe impl Sync for Operand {}

/// Whether the AVX2 + FMA kernel can run on this CPU (checked once).
pub(crate) fn available() -> bool {
    static DETECTED: OnceLock<bool> = OnceLock::new();
    *DETECTED.get_or_init(|| {
        #[cfg(target_arch = "x86_64")]
        {
            is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma")
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            false
        }
    })
}

/// C = A·B for an `m×k` A and a `k×n` B; C is row-major with row stride `ldc` and fully
/// overwritten. Runs on all threads when large and `parallel`: C is cut into as many
/// rectangles as there are threads, in the shape that balances them best, and each task
/// packs its own blocks of A and B (no serial packing, no shared buffers).
///
/// # Safety
/// [`available`] must be true; every element of A, B and C addressed by the shapes and
/// strides must be valid, and C must not overlap A or B.
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn sgemm(
    m: usize,
    k: usize,
    n: usize,
    a: Operand,
    b: Operand,
    c: *mut f32,
    ldc: usize,
    parallel: bool,
) {
    let c = SharedMut(c);
    if k == 0 {
        for i in 0..m {
            // SAFETY: row i of C, n elements, is inside C.
            unsafe { std::slice::from_raw_parts_mut(c.at(i * ldc), n).fill(0.0) };
        }
        return;
    }
    let threads = if parallel && m * k * n >= PARALLEL_MACS { rayon_core::current_num_threads() } else { 1 };
    let (row_slivers, col_slivers) = (m.div_ceil(MR), n.div_ceil(NR));
    let (row_parts, col_parts) = grid(threads, row_slivers, col_slivers);
    let rows_per = row_slivers.div_ceil(row_parts) * MR;
    let cols_per = col_slivers.div_ceil(col_parts) * NR;
    let task = |t: usize| {
        let (r, q) = (t / col_parts, t % col_parts);
        let rows = (r * rows_per).min(m)..((r + 1) * rows_per).min(m);
        let cols = (q * cols_per).min(n)..((q + 1) * cols_per).min(n);
        // SAFETY: each task writes its own rectangle of C; the caller's promise covers A and B.
        unsafe { block(rows, cols, k, a, b, c, ldc) };
    };
    if row_parts * col_parts > 1 {
        run_tasks(row_parts * col_parts, &task);
    } else {
        task(0);
    }
}

/// Packing one element costs about as much as this many multiply-adds (estimated from
/// `perf` of W1 at one thread, where packing took about 15% of the products' time).
const PACK_COST: usize = 8;

/// Row and column parts (their product at most `threads`) that make the largest task
/// cheapest, for `rows` × `cols` slivers of C. A task multiplies its rectangle and packs
/// its rows of A and its columns of B, so the split weighs both: splitting rows makes
/// every task pack all of B; splitting columns, all of A (so W1's weight gradient, 64 rows
/// of a 784-wide B against a 128 × 64 A, splits columns).
fn grid(threads: usize, rows: usize, cols: usize) -> (usize, usize) {
    let cost = |r: usize, c: usize| MR * r * NR * c + PACK_COST * (MR * r + NR * c);
    let mut best = (1, 1, usize::MAX);
    for row_parts in 1..=threads.min(rows).max(1) {
        let col_parts = (threads / row_parts).clamp(1, cols.max(1));
        let largest = cost(rows.div_ceil(row_parts), cols.div_ceil(col_parts));
        if largest < best.2 {
            best = (row_parts, col_parts, largest);
        }
    }
    (best.0, best.1)
}

/// C[rows, cols] = A[rows, :]·B[:, cols] on this thread, BLIS's loops: panels of columns,
/// blocks of the shared dimension (fixed by `k` alone), blocks of rows, micro-tiles. While a
/// block of A is multiplied, the next one is fetched into cache (see [`Ahead`]).
#[allow(clippy::too_many_arguments)]
unsafe fn block(
    rows: std::ops::Range<usize>,
    cols: std::ops::Range<usize>,
    k: usize,
    a: Operand,
    b: Operand,
    c: SharedMut<f32>,
    ldc: usize,
) {
    let k_blocks = k.div_ceil(KC);
    let kc_max = k.div_ceil(k_blocks);
    // Rows and shared-dimension range of A's block (ic, kb).
    let a_block = |ic: usize, kb: usize| {
        let pc = kb * kc_max;
        (ic..(ic + MC).min(rows.end), pc..(pc + kc_max).min(k))
    };
    for jc in cols.clone().step_by(NC) {
        let nc = NC.min(cols.end - jc);
        let slivers = nc.div_ceil(NR);
        // Read in place (below): nothing to pack, so nothing to fetch ahead.
        let in_place = slivers == 1 && a.col_stride == 1;
        for kb in 0..k_blocks {
            let (pc, first) = (kb * kc_max, kb == 0);
            let kc = kc_max.min(k - pc);
            with_buffer(&PACKED_B, slivers * NR * kc, |packed_b| {
                // SAFETY: this block of B is inside B (the caller's promise).
                unsafe { pack_b(b, pc, kc, jc, nc, packed_b) };
                for ic in rows.clone().step_by(MC) {
                    let mc = MC.min(rows.end - ic);
                    let c_offset = ic * ldc + jc;
                    if in_place {
                        // One sliver of B (a narrow C, such as a classifier's 10 outputs): each
                        // value of A is used once, so packing it would only copy it. The
                        // kernel reads A's rows where they are.
                        // SAFETY: element (ic, pc) of A; rows ic..ic+mc and columns pc..pc+kc
                        // are inside A, and the tiles written lie in this task's rectangle of C.
                        unsafe {
                            let at = a.ptr.offset(ic as isize * a.row_stride + pc as isize);
                            let panel = APanel::InPlace { ptr: at, row_stride: a.row_stride };
                            let mut nothing = Ahead::new(a, None);
                            macro_kernel(mc, kc, nc, panel, packed_b, c, c_offset, ldc, first, &mut nothing);
                        }
                        continue;
                    }
                    let next = if ic + MC < rows.end {
                        Some(a_block(ic + MC, kb))
                    } else {
                        (kb + 1 < k_blocks).then(|| a_block(rows.start, kb + 1))
                    };
                    with_buffer(&PACKED_A, mc.div_ceil(MR) * MR * kc, |packed_a| {
                        // SAFETY: rows ic..ic+mc and columns pc..pc+kc are inside A, as is the
                        // next block; the tiles written lie in this task's rectangle of C.
                        unsafe {
                            pack_a(a, ic, mc, pc, kc, packed_a);
                            let mut ahead = Ahead::new(a, next);
                            let panel = APanel::Packed(packed_a);
                            macro_kernel(mc, kc, nc, panel, packed_b, c, c_offset, ldc, first, &mut ahead);
                        }
                    });
                }
            });
        }
    }
}

/// A block of A to be packed next, fetched into cache a line at a time while the block
/// before it is multiplied (the micro-kernel asks for one line every 16 steps, so the loads
/// overlap its arithmetic). A training step's batch comes from main memory: packed without
/// this, W1's forward product at batch 256 took 5–8% longer than with the batch already in
/// cache; with it, about 5% less than without (BENCHMARKS.md). The first block of a product
/// is not fetched ahead: doing it while B was packed, or in bursts between tiles, only
/// moved the wait.
struct Ahead {
    /// How far apart the block's contiguous lines are (rows of a row-major A, columns of a
    /// column-major one), and how many 64-byte cache lines each line and the block span.
    stride: isize,
    per_line: usize,
    total: usize,
    /// Cache lines fetched so far; the next one's line (its first float) and piece.
    done: usize,
    line_start: *const f32,
    piece: usize,
}

/// Blocks of the shared dimension shorter than this fetch nothing ahead (see
/// [`macro_kernel`]).
const AHEAD_MIN_STEPS: usize = 128;

impl Ahead {
    /// The block of A with these rows and shared-dimension range (none: nothing to fetch, as
    /// when A has no contiguous axis).
    fn new(a: Operand, block: Option<(std::ops::Range<usize>, std::ops::Range<usize>)>) -> Ahead {
        let mut ahead = Ahead { stride: 0, per_line: 0, total: 0, done: 0, line_start: a.ptr, piece: 0 };
        if let Some((rows, steps)) = block {
            ahead.line_start =
                a.ptr.wrapping_offset(rows.start as isize * a.row_stride + steps.start as isize * a.col_stride);
            let (lines, stride, len) = match (a.col_stride, a.row_stride) {
                (1, _) => (rows.len(), a.row_stride, steps.len()),
                (_, 1) => (steps.len(), a.col_stride, rows.len()),
                _ => (0, 0, 0),
            };
            // A line need not start on a cache line: one more covers its end.
            (ahead.stride, ahead.per_line) = (stride, len.div_ceil(16) + 1);
            ahead.total = lines * ahead.per_line;
        }
        ahead
    }

    /// The cache lines not yet fetched.
    fn left(&self) -> usize {
        self.total - self.done
    }

    /// Fetches the next cache line (the caller counts: at most [`Ahead::left`] calls).
    #[inline(always)]
    fn fetch_next(&mut self) {
        prefetch(self.advance());
    }

    /// An address in the next cache line, and a step past it.
    #[inline(always)]
    fn advance(&mut self) -> *const f32 {
        let at = self.line_start.wrapping_add(16 * self.piece);
        (self.piece, self.done) = (self.piece + 1, self.done + 1);
        if self.piece == self.per_line {
            (self.piece, self.line_start) = (0, self.line_start.wrapping_offset(self.stride));
        }
        at
    }
}

/// Asks for the cache line holding `at` (a hint: never faults, whatever the address).
#[inline(always)]
fn prefetch(at: *const f32) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch reads nothing architecturally and cannot fault.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(at.cast())
    };
    #[cfg(not(target_arch = "x86_64"))]
    let _ = at;
}

/// Packs rows `i0..i0+rows`, columns `p0..p0+kc` of A into `MR`-tall slivers: for each
/// sliver, for each p, its `MR` values (zeros past the last row).
unsafe fn pack_a(a: Operand, i0: usize, rows: usize, p0: usize, kc: usize, out: &mut [f32]) {
    for (s, sliver) in out.chunks_exact_mut(MR * kc).enumerate() {
        let r0 = i0 + s * MR;
        let live = MR.min(i0 + rows - r0);
        // SAFETY: rows r0..r0+live, columns p0..p0+kc, are inside A (the caller's promise).
        let row = |i: usize| unsafe { a.ptr.offset((r0 + i) as isize * a.row_stride + p0 as isize * a.col_stride) };
        if a.col_stride == 1 {
            // Rows contiguous: transpose 6 × 8 blocks in registers. Past the last row (a
            // short last sliver), a line of zeros is read instead.
            let rows: [*const f32; MR] = std::array::from_fn(|i| if i < live { row(i) } else { ZEROS.as_ptr() });
            // SAFETY: each row has kc ≤ KC contiguous elements; the sliver holds MR × kc.
            unsafe { transpose_rows(&rows, kc, sliver) };
            continue;
        }
        if live < MR {
            sliver.fill(0.0);
        }
        if a.row_stride == 1 {
            // Columns contiguous: each step's MR values are adjacent in A.
            for p in 0..kc {
                // SAFETY: `live` adjacent elements of column p0+p, rows r0..r0+live.
                let column = unsafe { std::slice::from_raw_parts(row(0).offset(p as isize * a.col_stride), live) };
                let step = &mut sliver[p * MR..(p + 1) * MR];
                match <&[f32; MR]>::try_from(column) {
                    Ok(full) => *<&mut [f32; MR]>::try_from(step).expect("MR wide") = *full, // no memcpy call
                    Err(_) => step[..live].copy_from_slice(column),
                }
            }
        } else {
            for i in 0..live {
                for p in 0..kc {
                    // SAFETY: element (r0+i, p0+p) of A.
                    sliver[p * MR + i] = unsafe { *row(i).offset(p as isize * a.col_stride) };
                }
            }
        }
    }
}

/// Packs rows `p0..p0+kc`, columns `j0..j0+nc` of B into `NR`-wide slivers: for each
/// sliver, for each p, its `NR` values (zeros past the last column).
unsafe fn pack_b(b: Operand, p0: usize, kc: usize, j0: usize, nc: usize, out: &mut [f32]) {
    if b.col_stride == 1 {
        // Rows contiguous: eight rows at a time, sliver by sliver, so both sides move in
        // order: eight read streams along the rows and 512 contiguous bytes written per
        // sliver. (Sliver by sliver over all rows read 64 bytes per row and page, which the
        // prefetcher could not keep up with on a wide B such as a batch of 256 MNIST
        // images; row by row wrote 49 places 16 KB apart, which the L1 cache could not.)
        for p_start in (0..kc).step_by(8) {
            let rows = p_start..(p_start + 8).min(kc);
            for (t, sliver) in out.chunks_exact_mut(NR * kc).enumerate() {
                let (c0, live) = (t * NR, NR.min(nc - t * NR));
                for p in rows.clone() {
                    // SAFETY: `live` contiguous elements of row p0+p of B from column j0+c0.
                    let src = unsafe {
                        std::slice::from_raw_parts(
                            b.ptr.offset((p0 + p) as isize * b.row_stride + (j0 + c0) as isize),
                            live,
                        )
                    };
                    let dst = &mut sliver[p * NR..(p + 1) * NR];
                    match <&[f32; NR]>::try_from(src) {
                        Ok(full) => *<&mut [f32; NR]>::try_from(dst).expect("NR wide") = *full, // no memcpy call
                        Err(_) => {
                            dst[..live].copy_from_slice(src);
                            dst[live..].fill(0.0);
                        }
                    }
                }
            }
        }
        return;
    }
    for (t, sliver) in out.chunks_exact_mut(NR * kc).enumerate() {
        let c0 = j0 + t * NR;
        let live = NR.min(j0 + nc - c0);
        // SAFETY: columns c0..c0+live, rows p0..p0+kc, are inside B (the caller's promise).
        let column = |j: usize| unsafe { b.ptr.offset(p0 as isize * b.row_stride + (c0 + j) as isize * b.col_stride) };
        if b.row_stride == 1 {
            // Columns contiguous (a transposed B, like Linear's weight): two 8 × 8
            // transposes in registers per 8 steps. Past the last column, a line of zeros
            // is read instead.
            let columns: [*const f32; NR] = std::array::from_fn(|j| if j < live { column(j) } else { ZEROS.as_ptr() });
            // SAFETY: each column has kc ≤ KC contiguous elements; the sliver holds NR × kc.
            unsafe { transpose_rows(&columns, kc, sliver) };
        } else {
            if live < NR {
                sliver.fill(0.0);
            }
            for j in 0..live {
                for p in 0..kc {
                    // SAFETY: element (p0+p, c0+j) of B.
                    sliver[p * NR + j] = unsafe { *column(j).offset(p as isize * b.row_stride) };
                }
            }
        }
    }
}

/// `out[p·W + w] = lines[w][p]` for `W` lines of `kc` contiguous floats: the transpose that
/// packing needs, eight steps at a time with 8 × 8 register transposes (lines in groups of
/// eight, the last group padded).
///
/// # Safety
/// Each line must have `kc` readable floats and `out` must hold `W · kc`; AVX2 must be
/// available (packing runs only inside `sgemm`).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn transpose_rows<const W: usize>(lines: &[*const f32; W], kc: usize, out: &mut [f32]) {
    use std::arch::x86_64::*;
    let full = kc / 8 * 8;
    for group in (0..W).step_by(8) {
        let width = 8.min(W - group);
        for p in (0..full).step_by(8) {
            // SAFETY: p + 8 ≤ kc elements of each line.
            let r: [__m256; 8] = std::array::from_fn(|w| {
                if w < width { unsafe { _mm256_loadu_ps(lines[group + w].add(p)) } } else { _mm256_setzero_ps() }
            });
            let t = transpose8(r);
            for (q, row) in t.iter().enumerate() {
                let at = (p + q) * W + group;
                if at + 8 <= out.len() {
                    // SAFETY: 8 floats from `at` lie in `out`. Lanes past `width` spill into
                    // the next step's slots, which are written after this one (masked
                    // stores would avoid that, but they are slow on some CPUs).
                    unsafe { _mm256_storeu_ps(out.as_mut_ptr().add(at), *row) };
                } else {
                    let mut lanes = [0.0f32; 8];
                    // SAFETY: `lanes` holds 8 floats.
                    unsafe { _mm256_storeu_ps(lanes.as_mut_ptr(), *row) };
                    out[at..at + width].copy_from_slice(&lanes[..width]);
                }
            }
        }
        for p in full..kc {
            for w in 0..width {
                // SAFETY: element p < kc of line group + w.
                out[p * W + group + w] = unsafe { *lines[group + w].add(p) };
            }
        }
    }
}

#[cfg(not(target_arch = "x86_64"))]
unsafe fn transpose_rows<const W: usize>(_: &[*const f32; W], _: usize, _: &mut [f32]) {
    unreachable!("packing runs only where `available()` is true")
}

/// The transpose of eight rows of eight floats.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn transpose8(r: [std::arch::x86_64::__m256; 8]) -> [std::arch::x86_64::__m256; 8] {
    use std::arch::x86_64::*;
    let t0 = _mm256_unpacklo_ps(r[0], r[1]);
    let t1 = _mm256_unpackhi_ps(r[0], r[1]);
    let t2 = _mm256_unpacklo_ps(r[2], r[3]);
    let t3 = _mm256_unpackhi_ps(r[2], r[3]);
    let t4 = _mm256_unpacklo_ps(r[4], r[5]);
    let t5 = _mm256_unpackhi_ps(r[4], r[5]);
    let t6 = _mm256_unpacklo_ps(r[6], r[7]);
    let t7 = _mm256_unpackhi_ps(r[6], r[7]);
    let s0 = _mm256_shuffle_ps::<0x44>(t0, t2);
    let s1 = _mm256_shuffle_ps::<0xEE>(t0, t2);
    let s2 = _mm256_shuffle_ps::<0x44>(t1, t3);
    let s3 = _mm256_shuffle_ps::<0xEE>(t1, t3);
    let s4 = _mm256_shuffle_ps::<0x44>(t4, t6);
    let s5 = _mm256_shuffle_ps::<0xEE>(t4, t6);
    let s6 = _mm256_shuffle_ps::<0x44>(t5, t7);
    let s7 = _mm256_shuffle_ps::<0xEE>(t5, t7);
    [
        _mm256_permute2f128_ps::<0x20>(s0, s4),
        _mm256_permute2f128_ps::<0x20>(s1, s5),
        _mm256_permute2f128_ps::<0x20>(s2, s6),
        _mm256_permute2f128_ps::<0x20>(s3, s7),
        _mm256_permute2f128_ps::<0x31>(s0, s4),
        _mm256_permute2f128_ps::<0x31>(s1, s5),
        _mm256_permute2f128_ps::<0x31>(s2, s6),
        _mm256_permute2f128_ps::<0x31>(s3, s7),
    ]
}

/// Where a block's rows of A are for the micro-kernel.
#[derive(Clone, Copy)]
enum APanel<'a> {
    /// Packed by [`pack_a`]: `MR`-tall slivers, `MR` values per step.
    Packed(&'a [f32]),
    /// Read in place: row i of the block at `ptr + i·row_stride`, its steps contiguous.
    InPlace { ptr: *const f32, row_stride: isize },
}

/// C[rows, columns] (=|+=) A · packed B, tile by tile, fetching a share of the next block
/// of A before each tile.
#[allow(clippy::too_many_arguments)]
unsafe fn macro_kernel(
    rows: usize,
    kc: usize,
    nc: usize,
    a: APanel<'_>,
    packed_b: &[f32],
    c: SharedMut<f32>,
    c_offset: usize,
    ldc: usize,
    overwrite: bool,
    ahead: &mut Ahead,
) {
    let (row_slivers, col_slivers) = (rows.div_ceil(MR), nc.div_ceil(NR));
    // Lines to fetch per tile: the next block spread over this one's tiles, one line every
    // 16 steps at most, and none on short tiles, where the breaks in the kernel's loop cost
    // more than fetching saves (the weight gradient of a batch of 64: its A, the output
    // gradient, is small and was just written, so it is in cache anyway).
    let per_tile = if kc < AHEAD_MIN_STEPS { 0 } else { ahead.left().div_ceil(row_slivers * col_slivers).min(kc / 16) };
    for t in 0..col_slivers {
        let cols = NR.min(nc - t * NR);
        let b = &packed_b[t * NR * kc..(t + 1) * NR * kc];
        for s in 0..row_slivers {
            let fetch = per_tile.min(ahead.left());
            let live_rows = MR.min(rows - s * MR);
            // The sliver's first value and the distance between its rows (0: packed).
            let (a, row_stride) = match a {
                APanel::Packed(packed) => (packed[s * MR * kc..(s + 1) * MR * kc].as_ptr(), 0),
                APanel::InPlace { ptr, row_stride } => {
                    (ptr.wrapping_offset((s * MR) as isize * row_stride), row_stride)
                }
            };
            let tile = c.at(c_offset + s * MR * ldc + t * NR);
            // SAFETY: the tile's live rows and columns are inside C; the sliver's live rows
            // of A are inside A or its packed block (the caller's promise).
            unsafe { tile_kernel(kc, a, row_stride, b, tile, ldc, live_rows, cols, overwrite, ahead, fetch) };
        }
    }
}

/// One `MR × NR` tile: a tile of full width straight into C, by the kernel for its number
/// of rows (the last sliver of rows is often short: 4 of W1's 64, 2 of its 128); a
/// narrower one through a buffer. A's sliver is packed (`a_row_stride` 0) or in place.
#[allow(clippy::too_many_arguments)]
unsafe fn tile_kernel(
    kc: usize,
    a: *const f32,
    a_row_stride: isize,
    b: &[f32],
    c: *mut f32,
    ldc: usize,
    rows: usize,
    cols: usize,
    overwrite: bool,
    ahead: &mut Ahead,
    fetch: usize,
) {
    let kernel = if a_row_stride == 0 { KERNELS[rows - 1] } else { IN_PLACE_KERNELS[rows - 1] };
    if cols == NR {
        // SAFETY: the tile's rows and all NR columns are inside C; `available()` was checked
        // by `sgemm`'s caller.
        unsafe { kernel(kc, a, a_row_stride, b.as_ptr(), c, ldc, overwrite, ahead, fetch) };
        return;
    }
    let mut tile = [0.0f32; MR * NR];
    // SAFETY: `tile` is a full MR × NR buffer with row stride NR.
    unsafe { kernel(kc, a, a_row_stride, b.as_ptr(), tile.as_mut_ptr(), NR, true, ahead, fetch) };
    for i in 0..rows {
        for j in 0..cols {
            // SAFETY: row i < rows and column j < cols of the tile are inside C.
            unsafe {
                let dst = c.add(i * ldc + j);
                *dst = if overwrite { tile[i * NR + j] } else { *dst + tile[i * NR + j] };
            }
        }
    }
}

/// A micro-kernel for some number of rows (see [`kernel_x16`]).
type Kernel = unsafe fn(usize, *const f32, isize, *const f32, *mut f32, usize, bool, &mut Ahead, usize);

/// The micro-kernels for 1 to `MR` rows, of packed A or of A read in place.
const fn kernels<const IN_PLACE: bool>() -> [Kernel; MR] {
    [
        kernel_x16::<1, IN_PLACE>,
        kernel_x16::<2, IN_PLACE>,
        kernel_x16::<3, IN_PLACE>,
        kernel_x16::<4, IN_PLACE>,
        kernel_x16::<5, IN_PLACE>,
        kernel_x16::<6, IN_PLACE>,
    ]
}
const KERNELS: [Kernel; MR] = kernels::<false>();
const IN_PLACE_KERNELS: [Kernel; MR] = kernels::<true>();

/// The micro-kernel: a `ROWS`×16 tile of C (=|+=) Σₚ a[p]·b[p] over `kc` steps, in
/// 2·`ROWS` 8-float registers (twelve for a full tile). `a` holds `MR` values per step
/// (the first `ROWS` are used), or, `IN_PLACE`, is A's first row of the tile, the next ones
/// `a_row_stride` apart, each step's value next to the last; `b` holds 16 per step. Each
/// element of C is the same sum, in the same order, whatever `ROWS` its tile has and
/// wherever A is read. Every 16 steps it fetches the next cache line of `ahead`, `fetch`
/// times (at most `kc / 16`), so those loads overlap the arithmetic.
///
/// # Safety
/// The CPU must have AVX2 and FMA; `a` must hold `6·kc` floats (or `ROWS` rows of `kc`),
/// `b` `16·kc`, and C a `ROWS`×16 tile with row stride `ldc`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
#[allow(clippy::too_many_arguments)]
unsafe fn kernel_x16<const ROWS: usize, const IN_PLACE: bool>(
    kc: usize,
    a: *const f32,
    a_row_stride: isize,
    b: *const f32,
    c: *mut f32,
    ldc: usize,
    overwrite: bool,
    ahead: &mut Ahead,
    fetch: usize,
) {
    use std::arch::x86_64::*;
    let mut acc = [[_mm256_setzero_ps(); 2]; ROWS];
    let (mut a, mut b) = (a, b);
    // One step: (its AVX2 and FMA are this function's, closures inheriting them).
    let mut step = || {
        // SAFETY: the caller guarantees kc steps of A and of packed B.
        unsafe {
            let b0 = _mm256_loadu_ps(b);
            let b1 = _mm256_loadu_ps(b.add(8));
            for (i, row) in acc.iter_mut().enumerate() {
                let ai = _mm256_broadcast_ss(&*if IN_PLACE { a.offset(i as isize * a_row_stride) } else { a.add(i) });
                row[0] = _mm256_fmadd_ps(ai, b0, row[0]);
                row[1] = _mm256_fmadd_ps(ai, b1, row[1]);
            }
            a = a.add(if IN_PLACE { 1 } else { MR });
            b = b.add(NR);
        }
    };
    // Runs of 16 steps, each after a fetch, then the rest (in one loop when there is
    // nothing to fetch, as in most tiles).
    for _ in 0..fetch {
        ahead.fetch_next();
        (0..16).for_each(|_| step());
    }
    (16 * fetch..kc).for_each(|_| step());
    for (i, row) in acc.iter().enumerate() {
        // SAFETY: row i of the tile, 16 floats, is inside C.
        unsafe {
            let dst = c.add(i * ldc);
            if overwrite {
                _mm256_storeu_ps(dst, row[0]);
                _mm256_storeu_ps(dst.add(8), row[1]);
            } else {
                _mm256_storeu_ps(dst, _mm256_add_ps(_mm256_loadu_ps(dst), row[0]));
                _mm256_storeu_ps(dst.add(8), _mm256_add_ps(_mm256_loadu_ps(dst.add(8)), row[1]));
            }
        }
    }
}

#[cfg(not(target_arch = "x86_64"))]
#[allow(clippy::too_many_arguments)]
unsafe fn kernel_x16<const ROWS: usize, const IN_PLACE: bool>(
    _: usize,
    _: *const f32,
    _: isize,
    _: *const f32,
    _: *mut f32,
    _: usize,
    _: bool,
    _: &mut Ahead,
    _: usize,
) {
    unreachable!("the packed kernel runs only where `available()` is true")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference(m: usize, k: usize, n: usize, a: &[f32], b: &[f32]) -> Vec<f64> {
        let mut c = vec![0.0f64; m * n];
        for i in 0..m {
            for j in 0..n {
                c[i * n + j] = (0..k).map(|p| a[i * k + p] as f64 * b[p * n + j] as f64).sum();
            }
        }
        c
    }

    fn values(len: usize, seed: usize) -> Vec<f32> {
        (0..len).map(|i| ((i * 7919 + seed * 104729) % 2003) as f32 / 1001.0 - 1.0).collect()
    }

    fn run(m: usize, k: usize, n: usize, transpose_b: bool, parallel: bool) -> (Vec<f32>, Vec<f64>) {
        let (a, b) = (values(m * k, 1), values(k * n, 2));
        let b_op = if transpose_b {
            // the same B stored column-major
            let mut t = vec![0.0; k * n];
            (0..k).for_each(|p| (0..n).for_each(|j| t[j * k + p] = b[p * n + j]));
            (t, 1, k as isize)
        } else {
            (b.clone(), n as isize, 1)
        };
        let mut c = vec![f32::NAN; m * n];
        let a_op = Operand { ptr: a.as_ptr(), row_stride: k as isize, col_stride: 1 };
        let b_op2 = Operand { ptr: b_op.0.as_ptr(), row_stride: b_op.1, col_stride: b_op.2 };
        unsafe { sgemm(m, k, n, a_op, b_op2, c.as_mut_ptr(), n, parallel) };
        (c, reference(m, k, n, &a, &b))
    }

    #[test]
    fn matches_a_reference_on_awkward_shapes() {
        if !available() {
            return;
        }
        for &(m, k, n) in &[(1, 1, 1), (7, 3, 17), (13, 300, 33), (64, 784, 128), (150, 513, 40), (5, 0, 3)] {
            for transpose_b in [false, true] {
                let (c, expected) = run(m, k, n, transpose_b, true);
                for (x, y) in c.iter().zip(&expected) {
                    assert!((*x as f64 - y).abs() < 1e-3 * (1.0 + y.abs()), "{m}x{k}x{n}: {x} vs {y}");
                }
            }
        }
    }

    #[test]
    fn every_operand_layout_packs_correctly() {
        if !available() {
            return;
        }
        let (m, k, n) = (13, 37, 35);
        let (a, b) = (values(m * k, 3), values(k * n, 4));
        let expected = reference(m, k, n, &a, &b);
        let transposed = |x: &[f32], rows: usize, cols: usize| {
            let mut t = vec![0.0; x.len()];
            (0..rows).for_each(|i| (0..cols).for_each(|j| t[j * rows + i] = x[i * cols + j]));
            t
        };
        let (at, bt) = (transposed(&a, m, k), transposed(&b, k, n));
        for (a_data, a_rs, a_cs) in [(&a, k as isize, 1), (&at, 1, m as isize)] {
            for (b_data, b_rs, b_cs) in [(&b, n as isize, 1), (&bt, 1, k as isize)] {
                let mut c = vec![f32::NAN; m * n];
                let ao = Operand { ptr: a_data.as_ptr(), row_stride: a_rs, col_stride: a_cs };
                let bo = Operand { ptr: b_data.as_ptr(), row_stride: b_rs, col_stride: b_cs };
                unsafe { sgemm(m, k, n, ao, bo, c.as_mut_ptr(), n, false) };
                for (x, y) in c.iter().zip(&expected) {
                    assert!(
                        (*x as f64 - y).abs() < 1e-3 * (1.0 + y.abs()),
                        "A strides ({a_rs}, {a_cs}), B ({b_rs}, {b_cs})"
                    );
                }
            }
        }
    }

    #[test]
    fn a_short_sliver_of_rows_sums_like_a_full_one() {
        if !available() {
            return;
        }
        // Rows of C from short slivers (1 to 5 rows: their own kernels) and from full ones,
        // over two blocks of k (the second added to C) and a narrow last column sliver.
        let (k, n) = (700, 35);
        let (a, b) = (values(12 * k, 5), values(k * n, 6));
        let product = |m: usize| {
            let mut c = vec![f32::NAN; m * n];
            let ao = Operand { ptr: a.as_ptr(), row_stride: k as isize, col_stride: 1 };
            let bo = Operand { ptr: b.as_ptr(), row_stride: n as isize, col_stride: 1 };
            unsafe { sgemm(m, k, n, ao, bo, c.as_mut_ptr(), n, false) };
            c.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
        };
        let full = product(12);
        for m in 1..12 {
            assert_eq!(product(m), full[..m * n], "{m} rows");
        }
    }

    #[test]
    fn a_narrow_product_reads_a_in_place_with_the_packed_bits() {
        if !available() {
            return;
        }
        // C at most 16 wide (one sliver of B): A's rows are read in place; the same A stored
        // column-major is packed. Same sums, same bits, and right: short slivers of rows,
        // a narrow tile, two blocks of k.
        for (m, k, n) in [(64, 128, 10), (13, 700, 16), (5, 3, 1), (7, 37, 9)] {
            let (a, b) = (values(m * k, 7), values(k * n, 8));
            let mut at = vec![0.0; m * k];
            (0..m).for_each(|i| (0..k).for_each(|p| at[p * m + i] = a[i * k + p]));
            let bo = Operand { ptr: b.as_ptr(), row_stride: n as isize, col_stride: 1 };
            let product = |ao: Operand| {
                let mut c = vec![f32::NAN; m * n];
                unsafe { sgemm(m, k, n, ao, bo, c.as_mut_ptr(), n, false) };
                c
            };
            let in_place = product(Operand { ptr: a.as_ptr(), row_stride: k as isize, col_stride: 1 });
            let packed = product(Operand { ptr: at.as_ptr(), row_stride: 1, col_stride: m as isize });
            let bits = |c: &[f32]| c.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&in_place), bits(&packed), "{m}×{k}×{n}");
            for (x, y) in in_place.iter().zip(reference(m, k, n, &a, &b)) {
                assert!((*x as f64 - y).abs() < 1e-3 * (1.0 + y.abs()), "{m}×{k}×{n}: {x} vs {y}");
            }
        }
    }

    #[test]
    fn the_split_weighs_packing_against_balance() {
        // W1's weight gradient, C = 128 × 784 (22 × 49 slivers), k = 64: splitting rows
        // would make both tasks pack all of the 64 × 784 B, splitting columns only the
        // 128 × 64 A, and both balance about as well.
        assert_eq!(grid(2, 22, 49), (1, 2));
        // Its forward product, C = 64 × 128 (11 × 8 slivers): columns again.
        assert_eq!(grid(2, 11, 8), (1, 2));
        // One sliver of columns: only rows can be split.
        assert_eq!(grid(2, 40, 1), (2, 1));
        // Four threads on a square C (576 × 576: 96 × 36 slivers): a 2 × 2 grid, whose
        // tasks pack the least, not four strips.
        assert_eq!(grid(4, 96, 36), (2, 2));
        // Never more parts than threads, nor than slivers.
        assert_eq!(grid(8, 1, 3), (1, 3));
    }

    #[test]
    fn bits_do_not_depend_on_the_split() {
        if !available() {
            return;
        }
        let one = rayon_core::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
        let four = rayon_core::ThreadPoolBuilder::new().num_threads(4).build().unwrap();
        for &(m, k, n) in &[(64, 784, 128), (300, 600, 70), (8, 2000, 500)] {
            let (a, _) = one.install(|| run(m, k, n, false, true));
            let (b, _) = four.install(|| run(m, k, n, false, true));
            assert_eq!(
                a.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                b.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
            );
        }
    }

    #[test]
    fn the_look_ahead_covers_every_cache_line_of_the_next_block() {
        let a = vec![0.0f32; 50 * 70];
        let cache_line = |p: *const f32| p as usize / 64;
        // The same 50 × 70 storage seen row-major and column-major; a block of 37 rows and 56
        // steps, so 37 or 56 contiguous lines, most not starting on a cache line.
        for (row_stride, col_stride) in [(70, 1), (1, 50)] {
            let op = Operand { ptr: a.as_ptr(), row_stride, col_stride };
            let (rows, steps) = (3..40, 5..61);
            let mut ahead = Ahead::new(op, Some((rows.clone(), steps.clone())));
            let fetched: Vec<usize> = (0..ahead.left()).map(|_| cache_line(ahead.advance())).collect();
            for i in rows.clone() {
                for p in steps.clone() {
                    let element = a.as_ptr().wrapping_offset(i as isize * row_stride + p as isize * col_stride);
                    assert!(fetched.contains(&cache_line(element)), "({i}, {p}), strides {row_stride}/{col_stride}");
                }
            }
            // Not much more than the block: its cache lines, plus at most one per line.
            let lines = if col_stride == 1 { rows.len() } else { steps.len() };
            let spanned: std::collections::HashSet<usize> = fetched.iter().copied().collect();
            assert!(fetched.len() <= spanned.len() + lines, "{} fetches for {} lines", fetched.len(), spanned.len());
        }
        // Nothing to fetch: A without a contiguous axis, or no block.
        let strided = Operand { ptr: a.as_ptr(), row_stride: 140, col_stride: 2 };
        assert_eq!(Ahead::new(strided, Some((0..5, 0..5))).left(), 0);
        assert_eq!(Ahead::new(strided, None).left(), 0);
    }
}
