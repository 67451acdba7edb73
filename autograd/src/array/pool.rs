//! Max pooling's search: each window's largest element and where it lies.
//!
//! The op records the pooled values as the gather at these positions, so their gradient is
//! a scatter there (ops that already differentiate): the kernel only has to find them.

use std::sync::Arc;

use smallvec::SmallVec;

use super::Array;
use super::conv::ConvGeometry;
use super::parallel::{PARALLEL_THRESHOLD, SharedMut, for_ranges};
use crate::element::Element;
use crate::indices::Indices;

/// Windows are searched in bands padded to a multiple of this many, so the comparison loop
/// is whole vectors: no scalar remainder, which the compiler would turn back into branches.
const LANES: usize = 8;

/// About this many windows are searched together (whole output rows of one plane, or whole
/// planes when they are small): enough for long vector loops, few enough that the band's
/// scratch stays in the L1 cache.
const BAND: usize = 512;

/// For a `[n, c, h, w]` array, the largest element of every window, `[n, c, oh·ow]`, and,
/// if `positions`, where each lies (`y·w + x` in its plane), in the same shape. Windows are
/// scanned row by row and the first maximum wins ties, as PyTorch's CPU kernel; a NaN wins
/// over any number (so NaNs propagate). Padding is never picked. Each value is the element
/// at its position, bit for bit.
///
/// One window at a time, the comparison branches on the data (mispredicted half the time on
/// random inputs). Instead, a band of windows is searched together: for each tap of the
/// window in row-major order, the tap's element in every window of the band is compared
/// with that window's best so far. Each window sees the same comparisons in the same order,
/// done as selects in a loop the compiler vectorizes.
pub(crate) fn max_pool2d<T: Element>(x: &Array<T>, geo: &ConvGeometry, positions: bool) -> (Array<T>, Option<Indices>) {
    let x = x.contiguous();
    let data = x.as_slice().expect("contiguous");
    let [h, w] = [x.shape()[2], x.shape()[3]];
    let out = [0, 1].map(|a| geo.output_size(a, x.shape()[2 + a]).expect("pool geometry checked by the caller"));
    let (planes, per_plane) = (x.shape()[0] * x.shape()[1], out[0] * out[1]);
    let shape = [x.shape()[0], x.shape()[1], per_plane];
    // Made in place (collecting into an Arc): an Indices from a Vec would copy it.
    let mut found: Option<Arc<[usize]>> = positions.then(|| std::iter::repeat_n(0, planes * per_plane).collect());
    let pooled = Array::build_overwriting(&shape, |pooled| {
        if pooled.is_empty() {
            return;
        }
        let parallel = pooled.len() * geo.kernel[0] * geo.kernel[1] >= PARALLEL_THRESHOLD;
        // The work: groups of whole planes, each searched in bands of `rows` output rows
        // (a group holds several planes only if each is a single band).
        let rows = (BAND / out[1]).clamp(1, out[0]);
        let group = if rows == out[0] { (BAND / per_plane).max(1) } else { 1 };
        let (band, chunk, total) = (group * rows * out[1], group * per_plane, pooled.len());
        let found = found.as_mut().map(|all| SharedMut(Arc::get_mut(all).expect("not shared yet").as_mut_ptr()));
        let pooled = SharedMut(pooled.as_mut_ptr());
        let search = Search::new(geo, [h, w], out);
        for_ranges(planes.div_ceil(group), parallel, |range| {
            let mut scratch = Scratch::new(band);
            for g in range {
                let values = &data[g * group * h * w..];
                let (start, len) = (g * chunk, chunk.min(total - g * chunk));
                // SAFETY: each group's values and positions are written by the one task
                // holding the group.
                let pooled = unsafe { std::slice::from_raw_parts_mut(pooled.at(start), len) };
                // SAFETY: as above.
                let mut found =
                    found.map(|f| unsafe { std::slice::from_raw_parts_mut(f.at(start), len) }.chunks_mut(band));
                for (b, pooled) in pooled.chunks_mut(band).enumerate() {
                    let found = found.as_mut().map(|f| f.next().expect("one chunk per band"));
                    search.band(values, b * rows, pooled, found, &mut scratch);
                }
            }
        });
    });
    (pooled, found.map(|f| Indices::from_shared(f, &shape)))
}

/// The geometry of one pooling, worked out once for every plane.
struct Search<'a> {
    geo: &'a ConvGeometry,
    hw: [usize; 2],
    out: [usize; 2],
    /// Per tap row ky (column kx): the output rows (columns) whose tap is inside the input.
    rows: SmallVec<[(usize, usize); 8]>,
    columns: SmallVec<[(usize, usize); 8]>,
    /// Per output column: the tap column of its window's first element inside the input.
    first_kx: Vec<u32>,
}

impl<'a> Search<'a> {
    fn new(geo: &'a ConvGeometry, hw: [usize; 2], out: [usize; 2]) -> Self {
        let [kh, kw] = geo.kernel;
        // A tap's offset from its window's corner, `ky·w + kx`, is kept as a u32: as wide
        // as an f32, so the comparison loop has as many lanes as the vectors hold.
        assert!(kh * hw[1] + kw <= u32::MAX as usize, "max_pool2d: windows span over 2^32 elements of the input");
        Search {
            geo,
            hw,
            out,
            rows: (0..kh).map(|ky| valid(geo, 0, ky, hw[0], out[0])).collect(),
            columns: (0..kw).map(|kx| valid(geo, 1, kx, hw[1], out[1])).collect(),
            first_kx: (0..out[1])
                .map(|ox| (window(geo, 1, ox, hw[1]).0 + geo.padding[1][0] - ox * geo.stride[1]) as u32)
                .collect(),
        }
    }

    /// Fills `pooled` with the maxima of the windows of whole output rows from `oy0` on, in
    /// one or more planes (`values` starts at the first), and `found` (if any) with their
    /// positions. Several planes only as wholes: then `oy0` is 0.
    fn band<T: Element>(
        &self,
        values: &[T],
        oy0: usize,
        pooled: &mut [T],
        found: Option<&mut [usize]>,
        scratch: &mut Scratch<T>,
    ) {
        let ([h, w], [oh, ow], [kh, kw]) = (self.hw, self.out, self.geo.kernel);
        let ([sy, sx], [py, px]) = (self.geo.stride, [self.geo.padding[0][0], self.geo.padding[1][0]]);
        let (band, rows) = (pooled.len(), (oh - oy0).min(pooled.len() / ow));
        let (planes, per_plane) = (band / (rows * ow), rows * ow);
        let lanes = band.next_multiple_of(LANES);
        let [best, next] = &mut scratch.best;
        let (mut best, mut next) = (&mut best[..lanes], &mut next[..lanes]);
        let (taps, at) = (&mut scratch.taps[..lanes], &mut scratch.at[..lanes]);
        // Start from each window's first real element with -inf, so it stands unless
        // something beats it (and stands in an all -inf window). Lanes past the band, and
        // taps in the padding, hold -inf: never taken.
        best.fill(T::neg_infinity());
        taps[band..].fill(T::neg_infinity());
        for (r, at) in at[..per_plane].chunks_exact_mut(ow).enumerate() {
            let oy = oy0 + r;
            let ky = window(self.geo, 0, oy, h).0 + py - oy * sy;
            at.iter_mut().zip(&self.first_kx).for_each(|(a, &kx)| *a = (ky * w) as u32 + kx);
        }
        for p in 1..planes {
            at.copy_within(..per_plane, p * per_plane);
        }
        for ky in 0..kh {
            // The band's output rows whose tap row ky is inside the input.
            let (ylo, yhi) = self.rows[ky];
            let (ylo, yhi) = (ylo.max(oy0), yhi.min(oy0 + rows));
            for kx in 0..kw {
                let (xlo, xhi) = self.columns[kx];
                if ylo >= yhi || xlo == xhi {
                    continue;
                }
                if ylo > oy0 || yhi < oy0 + rows || xlo > 0 || xhi < ow {
                    // Some windows see padding at this tap: -inf, never taken.
                    taps[..band].fill(T::neg_infinity());
                }
                let to = &mut taps[(ylo - oy0) * ow + xlo..];
                let from = &values[(ylo * sy + ky - py) * w + xlo * sx + kx - px..];
                let size = [planes, yhi - ylo, xhi - xlo];
                copy_tap(to, from, size, [[per_plane, ow], [h * w, sy * w]], sx);
                keep_larger(best, next, at, taps, (ky * w + kx) as u32);
                std::mem::swap(&mut best, &mut next);
            }
        }
        pooled.copy_from_slice(&best[..band]);
        let Some(found) = found else { return };
        // The window of (oy, ox) starts at (oy·sy - py)·w + ox·sx - px, maybe in the
        // padding (negative): wrapping arithmetic, exact once the tap's offset is added.
        for (r, (idx, at)) in found.chunks_exact_mut(ow).zip(at.chunks_exact(ow)).enumerate() {
            let corner = ((oy0 + r % rows) * sy * w).wrapping_sub(py * w + px);
            for (ox, (i, &a)) in idx.iter_mut().zip(at).enumerate() {
                *i = corner.wrapping_add(ox * sx).wrapping_add(a as usize);
            }
        }
    }
}

/// One thread's buffers for a band of windows: the best element so far (read from one,
/// written to the other), its offset from the window's corner (`ky·w + kx`), and the
/// current tap's elements.
struct Scratch<T> {
    best: [Vec<T>; 2],
    at: Vec<u32>,
    taps: Vec<T>,
}

impl<T: Element> Scratch<T> {
    fn new(band: usize) -> Self {
        let lanes = band.next_multiple_of(LANES);
        let row = || vec![T::neg_infinity(); lanes];
        Scratch { best: [row(), row()], at: vec![0; lanes], taps: row() }
    }
}

/// One tap's elements for `planes` planes of `rows` rows of `n` windows:
/// `to[p·pitch[0][0] + r·pitch[0][1] + i]` becomes `from[p·pitch[1][0] + r·pitch[1][1] + i·stride]`.
/// Not inlined: in the search's loops, its indices would live on the stack.
#[inline(never)]
fn copy_tap<T: Copy>(to: &mut [T], from: &[T], size: [usize; 3], pitch: [[usize; 2]; 2], stride: usize) {
    // The usual strides as constants, so the compiler can vectorize.
    match stride {
        1 => copy_rows(to, from, size, pitch, 1),
        2 => copy_rows(to, from, size, pitch, 2),
        _ => copy_rows(to, from, size, pitch, stride),
    }
}

/// [`copy_tap`]'s loops.
#[inline(always)]
fn copy_rows<T: Copy>(to: &mut [T], from: &[T], size: [usize; 3], [pt, pf]: [[usize; 2]; 2], stride: usize) {
    let [planes, rows, n] = size;
    if size.contains(&0) {
        return;
    }
    let last = |[plane, row]: [usize; 2]| (planes - 1) * plane + (rows - 1) * row;
    assert!(last(pt) + n <= to.len() && last(pf) + (n - 1) * stride < from.len());
    for p in 0..planes {
        for r in 0..rows {
            let (at, first) = (p * pt[0] + r * pt[1], p * pf[0] + r * pf[1]);
            for i in 0..n {
                // SAFETY: p < planes, r < rows and i < n, so both indices are within the
                // bounds checked above. (Checking each access kept these loops from
                // vectorizing, and cost more than the comparisons.)
                unsafe { *to.get_unchecked_mut(at + i) = *from.get_unchecked(first + i * stride) };
            }
        }
    }
}

/// One tap across a band of windows: where `taps[i]` is larger than `best[i]`, or is the
/// first NaN, it becomes the best (`next[i]`), found at `tap`.
///
/// Updating `best` in place, the compiler would store only the lanes that change, with a
/// masked store: microcoded, and slower than the whole search, on AMD's Zen.
#[inline(always)]
fn keep_larger<T: Element>(best: &[T], next: &mut [T], at: &mut [u32], taps: &[T], tap: u32) {
    // A length the compiler knows to be whole vectors.
    let n = best.len() / LANES * LANES;
    let (best, next, at, taps) = (&best[..n], &mut next[..n], &mut at[..n], &taps[..n]);
    for i in 0..n {
        let (v, b) = (taps[i], best[i]);
        // `|` and `&` rather than `||` and `&&`, which would branch.
        let take = ((v > b) | v.is_nan()) & !b.is_nan();
        next[i] = if take { v } else { b };
        at[i] = if take { tap } else { at[i] };
    }
}

/// The input positions `start..end` along `axis` under window `o` (pooling has dilation 1),
/// padding cut off.
#[inline]
fn window(geo: &ConvGeometry, axis: usize, o: usize, n: usize) -> (usize, usize) {
    let start = (o * geo.stride[axis]) as isize - geo.padding[axis][0] as isize;
    let end = (start + geo.kernel[axis] as isize).min(n as isize);
    (start.max(0) as usize, end.max(0) as usize)
}

/// The output positions `lo..hi` along `axis` whose window tap `k` falls inside an input of
/// size `n` (not in the padding).
#[inline]
fn valid(geo: &ConvGeometry, axis: usize, k: usize, n: usize, out: usize) -> (usize, usize) {
    let (stride, offset, pad) = (geo.stride[axis], k * geo.dilation[axis], geo.padding[axis][0]);
    let lo = pad.saturating_sub(offset).div_ceil(stride);
    let hi = if n + pad > offset { ((n - 1 + pad - offset) / stride + 1).min(out) } else { 0 };
    (lo.min(hi), hi)
}

#[cfg(test)]
mod tests {
    use rand::rngs::StdRng;
    use rand::{RngExt, SeedableRng};

    use super::*;

    /// The search one window at a time, as written before the vectorized kernel: the
    /// specification the kernel must match index for index.
    fn reference(x: &Array<f32>, geo: &ConvGeometry) -> Vec<usize> {
        let data = x.as_slice().expect("contiguous");
        let [h, w] = [x.shape()[2], x.shape()[3]];
        let [oh, ow] = [0, 1].map(|a| geo.output_size(a, x.shape()[2 + a]).unwrap());
        let mut indices = vec![];
        for plane in data.chunks(h * w) {
            for oy in 0..oh {
                let (y0, y1) = window(geo, 0, oy, h);
                for ox in 0..ow {
                    let (x0, x1) = window(geo, 1, ox, w);
                    let (mut best_at, mut best) = (y0 * w + x0, plane[y0 * w + x0]);
                    for y in y0..y1 {
                        for x in x0..x1 {
                            let v = plane[y * w + x];
                            if v > best || (v.is_nan() && !best.is_nan()) {
                                (best_at, best) = (y * w + x, v);
                            }
                        }
                    }
                    indices.push(best_at);
                }
            }
        }
        indices
    }

    /// The kernel's positions, after checking that its values are the elements there, bit
    /// for bit, with or without positions asked for.
    fn found(x: &Array<f32>, geo: &ConvGeometry) -> Vec<usize> {
        let (pooled, positions) = max_pool2d(x, geo, true);
        let positions = positions.expect("asked for");
        let plane = x.shape()[2] * x.shape()[3];
        let per_plane = positions.shape()[2].max(1);
        let at = |(o, &p): (usize, &usize)| x.as_slice().unwrap()[o / per_plane * plane + p].to_bits();
        let expected: Vec<u32> = positions.as_slice().iter().enumerate().map(at).collect();
        assert_eq!(pooled.to_vec().iter().map(|v| v.to_bits()).collect::<Vec<_>>(), expected);
        assert_eq!(pooled.shape(), positions.shape());
        assert_eq!(max_pool2d(x, geo, false).0.to_vec().iter().map(|v| v.to_bits()).collect::<Vec<_>>(), expected);
        positions.to_vec()
    }

    fn geometry(kernel: [usize; 2], stride: [usize; 2], padding: [usize; 2]) -> ConvGeometry {
        ConvGeometry { stride, padding: padding.map(|p| [p, p]), dilation: [1, 1], groups: 1, kernel }
    }

    /// Few distinct values, so windows hold ties, with NaNs and infinities among them.
    fn tricky(shape: &[usize], rng: &mut StdRng) -> Array<f32> {
        let pool = [0.0, -0.0, 1.0, -1.0, 2.0, f32::NAN, -f32::NAN, f32::INFINITY, f32::NEG_INFINITY];
        let n = shape.iter().product();
        Array::from_vec((0..n).map(|_| pool[rng.random_range(0..pool.len())]).collect(), shape).unwrap()
    }

    #[test]
    fn matches_the_window_by_window_search_on_any_geometry() {
        let mut rng = StdRng::seed_from_u64(3);
        for case in 0..3000 {
            let kernel: [usize; 2] = [rng.random_range(1..5), rng.random_range(1..5)];
            let stride = [rng.random_range(1..6), rng.random_range(1..6)];
            let padding = kernel.map(|k| rng.random_range(0..=k / 2));
            let hw = [0, 1].map(|a| rng.random_range(kernel[a].saturating_sub(2 * padding[a]).max(1)..12));
            let x = tricky(&[2, rng.random_range(1..3), hw[0], hw[1]], &mut rng);
            let geo = geometry(kernel, stride, padding);
            let found = found(&x, &geo);
            assert_eq!(found, reference(&x, &geo), "case {case}: {hw:?}, {kernel:?}, {stride:?}, {padding:?}");
        }
    }

    #[test]
    fn wide_and_tall_planes_and_large_inputs_match_too() {
        // Planes of several bands (one row each, then several rows and a shorter last
        // band), and enough work to run on all threads.
        let mut rng = StdRng::seed_from_u64(4);
        let cases = [
            ([1, 2, 5, 600], [3, 3], [1, 1], [1, 1]),
            ([1, 1, 70, 40], [3, 2], [1, 1], [1, 1]),
            ([8, 16, 32, 32], [2, 2], [2, 2], [0, 0]),
        ];
        for (shape, kernel, stride, padding) in cases {
            let x = tricky(&shape, &mut rng);
            let geo = geometry(kernel, stride, padding);
            assert_eq!(found(&x, &geo), reference(&x, &geo));
        }
    }

    #[test]
    fn first_maximum_and_first_nan_win() {
        let nan = f32::NAN;
        let x = Array::from_vec(vec![1.0, 3.0, 3.0, 0.0, nan, 5.0, nan, 9.0], &[1, 1, 2, 4]).unwrap();
        // Windows [[1, 3], [nan, 5]] and [[3, 0], [nan, 9]]; padding 0.
        assert_eq!(found(&x, &geometry([2, 2], [2, 2], [0, 0])), vec![4, 6]);
        // Window [1, 3, 3] then [3, 3, 0]: the first 3 in each.
        assert_eq!(found(&x, &geometry([1, 3], [1, 1], [0, 0]))[..2], [1, 1]);
    }

    #[test]
    fn an_all_negative_infinity_window_picks_its_first_real_element() {
        let x = Array::from_vec(vec![f32::NEG_INFINITY; 9], &[1, 1, 3, 3]).unwrap();
        // Padding 1: window (0, 0) covers the padded corner, its first real element is 0.
        assert_eq!(found(&x, &geometry([2, 2], [2, 2], [1, 1])), vec![0, 1, 3, 4]);
    }
}
