//! Convolution kernels by im2col and the GEMM: the three products that a 2-D convolution
//! and its gradients need, on NCHW arrays with OIHW weights.
//!
//! im2col copies, for one sample and one group, every receptive field into a column of a
//! `[c·kh·kw, oh·ow]` matrix (zeros where the window hangs over the padding); a convolution
//! is then one matrix product per sample and group. Its adjoint, col2im, adds columns back
//! into an image. Work runs on rayon over samples (each sample's product on one thread), so
//! every output element is computed by the same code in the same order on any thread count;
//! the weight gradient, a sum over samples, is one product per fixed chunk of samples and
//! the chunks are added left to right.

use rayon::prelude::*;

use super::Array;
use super::parallel::SharedMut;
use crate::element::Element;

/// Where a 2-D convolution's windows lie: strides, padding before and after each spatial
/// axis, dilations, groups, and the kernel's spatial size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConvGeometry {
    /// Steps between windows, `[h, w]`.
    pub stride: [usize; 2],
    /// Zeros added `[[top, bottom], [left, right]]`.
    pub padding: [[usize; 2]; 2],
    /// Steps between a window's taps, `[h, w]`.
    pub dilation: [usize; 2],
    /// Channel groups (1: every output sees every input channel).
    pub groups: usize,
    /// The kernel's `[kh, kw]`.
    pub kernel: [usize; 2],
}

impl ConvGeometry {
    /// The output size along spatial axis `axis` (0: h, 1: w) for an input of size `n`, or
    /// `None` if the dilated kernel does not fit in the padded input.
    pub fn output_size(&self, axis: usize, n: usize) -> Option<usize> {
        let padded = n + self.padding[axis][0] + self.padding[axis][1];
        let span = self.dilation[axis] * (self.kernel[axis] - 1) + 1;
        (self.kernel[axis] > 0 && padded >= span).then(|| (padded - span) / self.stride[axis] + 1)
    }
}

/// Samples whose products run on rayon when the whole convolution has at least this many
/// multiply-adds.
const PARALLEL_MACS: usize = 1 << 18;

/// The most elements the weight gradient's column matrix may hold per chunk of samples.
const CHUNK_ELEMENTS: usize = 1 << 21;

/// The sizes of one convolution: batch, channels in and out, input and output planes.
#[derive(Clone, Copy)]
struct Dims {
    n: usize,
    c: usize,
    o: usize,
    hw: [usize; 2],
    out: [usize; 2],
}

impl Dims {
    fn cg(&self, geo: &ConvGeometry) -> usize {
        self.c / geo.groups
    }
    fn og(&self, geo: &ConvGeometry) -> usize {
        self.o / geo.groups
    }
    fn ckk(&self, geo: &ConvGeometry) -> usize {
        self.cg(geo) * geo.kernel[0] * geo.kernel[1]
    }
    fn p(&self) -> usize {
        self.out[0] * self.out[1]
    }
    fn in_plane(&self) -> usize {
        self.hw[0] * self.hw[1]
    }
}

/// The input coordinate of output position `o` and kernel tap `k` along `axis`, if inside.
#[inline]
fn source(geo: &ConvGeometry, axis: usize, o: usize, k: usize, n: usize) -> Option<usize> {
    let pos = (o * geo.stride[axis] + k * geo.dilation[axis]).checked_sub(geo.padding[axis][0])?;
    (pos < n).then_some(pos)
}

/// Writes the receptive fields of `image` (`[cg, h, w]`, contiguous) as columns: row
/// `(c, i, j)` of the matrix at `cols` (row stride `row_stride`) holds tap (i, j) of
/// channel c at every output position.
///
/// # Safety
/// The `oh·ow` elements at the start of each of the `cg·kh·kw` rows must be writable and
/// touched by no one else meanwhile.
unsafe fn im2col<T: Element>(image: &[T], geo: &ConvGeometry, d: &Dims, cols: SharedMut<T>, row_stride: usize) {
    let [kh, kw] = geo.kernel;
    let [oh, ow] = d.out;
    let [h, w] = d.hw;
    let (stride, pad) = (geo.stride[1], geo.padding[1][0]);
    for c in 0..d.cg(geo) {
        let plane = &image[c * h * w..(c + 1) * h * w];
        for i in 0..kh {
            for j in 0..kw {
                // SAFETY: the caller's promise.
                let row =
                    unsafe { std::slice::from_raw_parts_mut(cols.at(((c * kh + i) * kw + j) * row_stride), oh * ow) };
                let (lo, hi) = valid(geo, 1, j, w, ow);
                let offset = j * geo.dilation[1];
                for y in 0..oh {
                    let out = &mut row[y * ow..(y + 1) * ow];
                    let Some(sy) = source(geo, 0, y, i, h) else {
                        out.fill(T::zero());
                        continue;
                    };
                    let line = &plane[sy * w..(sy + 1) * w];
                    out[..lo].fill(T::zero());
                    out[hi..].fill(T::zero());
                    if stride == 1 && lo < hi {
                        out[lo..hi].copy_from_slice(&line[lo + offset - pad..hi + offset - pad]);
                    } else {
                        for (x, v) in out[lo..hi].iter_mut().enumerate() {
                            *v = line[(lo + x) * stride + offset - pad];
                        }
                    }
                }
            }
        }
    }
}

/// The output positions `lo..hi` along `axis` whose tap `k` falls inside an input of size
/// `n` (not in the padding).
#[inline]
pub(super) fn valid(geo: &ConvGeometry, axis: usize, k: usize, n: usize, out: usize) -> (usize, usize) {
    let (stride, offset, pad) = (geo.stride[axis], k * geo.dilation[axis], geo.padding[axis][0]);
    let lo = pad.saturating_sub(offset).div_ceil(stride);
    let hi = if n + pad > offset { ((n - 1 + pad - offset) / stride + 1).min(out) } else { 0 };
    (lo.min(hi), hi)
}

/// The adjoint of [`im2col`]: adds each column entry into the image element it came from.
fn col2im<T: Element>(cols: &[T], geo: &ConvGeometry, d: &Dims, image: &mut [T]) {
    let [kh, kw] = geo.kernel;
    let [oh, ow] = d.out;
    let [h, w] = d.hw;
    let (stride, pad) = (geo.stride[1], geo.padding[1][0]);
    for c in 0..d.cg(geo) {
        let plane = &mut image[c * h * w..(c + 1) * h * w];
        for i in 0..kh {
            for j in 0..kw {
                let row = &cols[((c * kh + i) * kw + j) * oh * ow..][..oh * ow];
                let (lo, hi) = valid(geo, 1, j, w, ow);
                let offset = j * geo.dilation[1];
                for y in 0..oh {
                    let Some(sy) = source(geo, 0, y, i, h) else { continue };
                    let line = &mut plane[sy * w..(sy + 1) * w];
                    let values = &row[y * ow + lo..y * ow + hi];
                    if stride == 1 && lo < hi {
                        let target = &mut line[lo + offset - pad..hi + offset - pad];
                        target.iter_mut().zip(values).for_each(|(t, &v)| *t = *t + v);
                    } else {
                        for (x, &v) in values.iter().enumerate() {
                            let t = &mut line[(lo + x) * stride + offset - pad];
                            *t = *t + v;
                        }
                    }
                }
            }
        }
    }
}

/// `c = a·b` for row-major contiguous or transposed operands given as (pointer, row stride,
/// column stride), on this thread.
///
/// # Safety
/// As [`Element::gemm`].
unsafe fn gemm<T: Element>(
    m: usize,
    k: usize,
    n: usize,
    a: (*const T, usize, usize),
    b: (*const T, usize, usize),
    c: *mut T,
    parallel: bool,
) {
    // SAFETY: forwarded contract.
    unsafe { T::gemm(m, k, n, (a.0, a.1 as isize, a.2 as isize), (b.0, b.1 as isize, b.2 as isize), c, parallel) }
}

/// Runs `f(buffer, sample)` for every sample, on rayon if the convolution is large; each
/// worker reuses one scratch buffer of `len` elements (whose old contents `f` overwrites).
fn per_sample<T: Element>(n: usize, macs: usize, len: usize, f: impl Fn(&mut [T], usize) + Sync + Send) {
    let buffer = || vec![T::zero(); len];
    if n > 1 && macs >= PARALLEL_MACS {
        (0..n).into_par_iter().for_each_init(buffer, |b, i| f(b, i))
    } else {
        let mut b = buffer();
        (0..n).for_each(|i| f(&mut b, i))
    }
}

fn dims(n: usize, c: usize, o: usize, hw: [usize; 2], geo: &ConvGeometry) -> Dims {
    let out = [0, 1].map(|a| geo.output_size(a, hw[a]).expect("conv geometry checked by the caller"));
    Dims { n, c, o, hw, out }
}

/// y = conv2d(x, w): `[n, c, h, w]` and `[o, c/groups, kh, kw]` → `[n, o, oh, ow]`.
pub(crate) fn conv2d<T: Element>(x: &Array<T>, w: &Array<T>, geo: &ConvGeometry) -> Array<T> {
    let (x, w) = (x.contiguous(), w.contiguous());
    let s = x.shape();
    let d = dims(s[0], s[1], w.shape()[0], [s[2], s[3]], geo);
    let (og, ckk, p) = (d.og(geo), d.ckk(geo), d.p());
    let (xs, ws) = (x.as_slice().expect("contiguous"), w.as_slice().expect("contiguous"));
    Array::build_overwriting(&[d.n, d.o, d.out[0], d.out[1]], |out| {
        if out.is_empty() {
            return;
        }
        if ckk == 0 {
            out.fill(T::zero());
            return;
        }
        let y = SharedMut(out.as_mut_ptr());
        per_sample(d.n, d.n * d.o * p * ckk, ckk * p, |cols: &mut [T], n| {
            for g in 0..geo.groups {
                let image = &xs[(n * d.c + g * d.cg(geo)) * d.in_plane()..][..d.cg(geo) * d.in_plane()];
                // SAFETY: cols is [ckk, p], this thread's own.
                unsafe { im2col(image, geo, &d, SharedMut(cols.as_mut_ptr()), p) };
                // SAFETY: w's group block is [og, ckk] row-major, cols [ckk, p]; sample n's
                // group g block of y is a disjoint [og, p] part of the output.
                unsafe {
                    gemm(
                        og,
                        ckk,
                        p,
                        (ws[g * og * ckk..].as_ptr(), ckk, 1),
                        (cols.as_ptr(), p, 1),
                        y.at((n * d.o + g * og) * p),
                        false,
                    )
                }
            }
        });
    })
}

/// The gradient of conv2d with respect to its input (a transposed convolution): `g`
/// `[n, o, oh, ow]` and `w` `[o, c/groups, kh, kw]` → `[n, c, h, w]` for input size `hw`.
pub(crate) fn conv2d_input<T: Element>(g: &Array<T>, w: &Array<T>, geo: &ConvGeometry, hw: [usize; 2]) -> Array<T> {
    let (g, w) = (g.contiguous(), w.contiguous());
    let c = w.shape()[1] * geo.groups;
    let d = dims(g.shape()[0], c, w.shape()[0], hw, geo);
    let (og, ckk, p) = (d.og(geo), d.ckk(geo), d.p());
    let (gs, ws) = (g.as_slice().expect("contiguous"), w.as_slice().expect("contiguous"));
    Array::build(&[d.n, c, hw[0], hw[1]], |out| {
        if out.is_empty() || ckk == 0 || p == 0 || og == 0 {
            return;
        }
        let dx = SharedMut(out.as_mut_ptr());
        per_sample(d.n, d.n * d.o * p * ckk, ckk * p, |cols: &mut [T], n| {
            for grp in 0..geo.groups {
                // SAFETY: wᵀ's group block is [ckk, og] (column stride ckk); g's is [og, p].
                unsafe {
                    gemm(
                        ckk,
                        og,
                        p,
                        (ws[grp * og * ckk..].as_ptr(), 1, ckk),
                        (gs[(n * d.o + grp * og) * p..].as_ptr(), p, 1),
                        cols.as_mut_ptr(),
                        false,
                    )
                }
                let len = d.cg(geo) * d.in_plane();
                // SAFETY: sample n's group grp is a disjoint part of the output.
                let image =
                    unsafe { std::slice::from_raw_parts_mut(dx.at((n * c + grp * d.cg(geo)) * d.in_plane()), len) };
                col2im(cols, geo, &d, image);
            }
        });
    })
}

/// The gradient of conv2d with respect to its weight: `x` `[n, c, h, w]` and `g`
/// `[n, o, oh, ow]` → `[o, c/groups, kh, kw]`, the sum over samples of g·colsᵀ.
pub(crate) fn conv2d_weight<T: Element>(x: &Array<T>, g: &Array<T>, geo: &ConvGeometry) -> Array<T> {
    let (x, g) = (x.contiguous(), g.contiguous());
    let s = x.shape();
    let d = dims(s[0], s[1], g.shape()[1], [s[2], s[3]], geo);
    let (og, ckk, p) = (d.og(geo), d.ckk(geo), d.p());
    let (xs, gs) = (x.as_slice().expect("contiguous"), g.as_slice().expect("contiguous"));
    let shape = [d.o, d.cg(geo), geo.kernel[0], geo.kernel[1]];
    Array::build(&shape, |out| {
        if out.is_empty() || p == 0 || d.n == 0 {
            return;
        }
        let chunk = (CHUNK_ELEMENTS / (ckk * p).max(1)).clamp(1, d.n);
        let mut cols = vec![T::zero(); ckk * chunk * p];
        let mut gt = vec![T::zero(); og * chunk * p];
        let mut partial = vec![T::zero(); og * ckk];
        for start in (0..d.n).step_by(chunk) {
            let count = chunk.min(d.n - start);
            let width = count * p;
            for grp in 0..geo.groups {
                let cols_ptr = SharedMut(cols.as_mut_ptr());
                per_sample(count, count * og * p * ckk, 0, |_: &mut [T], i| {
                    let n = start + i;
                    let image = &xs[(n * d.c + grp * d.cg(geo)) * d.in_plane()..][..d.cg(geo) * d.in_plane()];
                    // SAFETY: cols is [ckk, width]; sample i writes columns i·p..(i+1)·p of
                    // every row, which no other sample touches.
                    unsafe { im2col(image, geo, &d, SharedMut(cols_ptr.at(i * p)), width) };
                });
                for i in 0..count {
                    for o in 0..og {
                        let src = &gs[((start + i) * d.o + grp * og + o) * p..][..p];
                        gt[o * width + i * p..][..p].copy_from_slice(src);
                    }
                }
                // SAFETY: gt is [og, width] row-major; colsᵀ is [width, ckk] (row stride 1,
                // column stride width); partial is [og, ckk].
                unsafe {
                    gemm(og, width, ckk, (gt.as_ptr(), width, 1), (cols.as_ptr(), 1, width), partial.as_mut_ptr(), true)
                }
                let block = &mut out[grp * og * ckk..(grp + 1) * og * ckk];
                block.iter_mut().zip(&partial).for_each(|(acc, &v)| *acc = *acc + v);
            }
        }
    })
}
