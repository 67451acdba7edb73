//! Convolution kernels by im2col and the GEMM: the three products that a 2-D convolution
//! and its gradients need, on NCHW arrays with OIHW weights.
//!
//! im2col copies, for one sample and one group, every receptive field into a column of a
//! `[c·kh·kw, oh·ow]` matrix; a convolution is then one matrix product per sample and
//! group. Its adjoint, col2im, adds columns back into an image. A padded input is first
//! copied into a zero-bordered plane, so the copies never test for the border: each row of
//! the column matrix is one run of `ow` elements (stride 1).
//!
//! Work is cut into fixed chunks of samples, shared among the threads; each thread has its
//! own scratch buffers. Every output element is computed by the same
//! code in the same order on any thread count, and the weight gradient, a sum over
//! samples, adds one partial sum per chunk in chunk order.

use std::ops::Range;

use super::Array;
use super::parallel::{SharedMut, for_ranges};
use super::storage::Storage;
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

    fn padded(&self) -> bool {
        self.padding.iter().flatten().any(|&p| p > 0)
    }
}

/// Convolutions with fewer multiply-adds than this run on the calling thread.
const PARALLEL_MACS: usize = 1 << 18;

/// Samples per chunk of work. Fixed (not derived from the thread count), since the weight
/// gradient adds one partial sum per chunk.
const CHUNK_SAMPLES: usize = 4;

/// The sizes of one convolution: batch, channels in and out, input, padded input and
/// output planes.
#[derive(Clone, Copy)]
struct Dims {
    n: usize,
    c: usize,
    o: usize,
    hw: [usize; 2],
    padded: [usize; 2],
    out: [usize; 2],
}

impl Dims {
    fn new(n: usize, c: usize, o: usize, hw: [usize; 2], geo: &ConvGeometry) -> Dims {
        let out = [0, 1].map(|a| geo.output_size(a, hw[a]).expect("conv geometry checked by the caller"));
        let padded = [0, 1].map(|a| hw[a] + geo.padding[a][0] + geo.padding[a][1]);
        Dims { n, c, o, hw, padded, out }
    }
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
    /// The elements of one group's padded image (none without padding).
    fn padded_len(&self, geo: &ConvGeometry) -> usize {
        if geo.padded() { self.cg(geo) * self.padded[0] * self.padded[1] } else { 0 }
    }
    /// Sample `n`'s group `g` in an `[n, c, h, w]` array: its offset and length.
    fn image(&self, geo: &ConvGeometry, n: usize, g: usize) -> Range<usize> {
        let start = (n * self.c + g * self.cg(geo)) * self.in_plane();
        start..start + self.cg(geo) * self.in_plane()
    }
}

/// Copies the `cg` planes of `image` into the interior of the zero-bordered `padded`
/// planes (whose border the caller has zeroed; it stays zero).
fn pad_into<T: Element>(image: &[T], geo: &ConvGeometry, d: &Dims, padded: &mut [T]) {
    let ([h, w], [ph, pw]) = (d.hw, d.padded);
    let (top, left) = (geo.padding[0][0], geo.padding[1][0]);
    for (plane, out) in image.chunks_exact(h * w).zip(padded.chunks_exact_mut(ph * pw)) {
        for (y, line) in plane.chunks_exact(w).enumerate() {
            copy_run(&mut out[(top + y) * pw + left..][..w], line);
        }
    }
}

/// The adjoint of [`pad_into`]: the interiors of the `padded` planes, written to `image`.
fn unpad_into<T: Element>(padded: &[T], geo: &ConvGeometry, d: &Dims, image: &mut [T]) {
    let ([h, w], [ph, pw]) = (d.hw, d.padded);
    let (top, left) = (geo.padding[0][0], geo.padding[1][0]);
    for (plane, src) in image.chunks_exact_mut(h * w).zip(padded.chunks_exact(ph * pw)) {
        for (y, line) in plane.chunks_exact_mut(w).enumerate() {
            copy_run(line, &src[(top + y) * pw + left..][..w]);
        }
    }
}

/// `dst = src` for short runs, eight elements at a time in registers (a `memcpy` call per
/// 10–30-element row cost more than the copy); a ragged end is one more eight-element copy
/// overlapping the last.
#[inline]
fn copy_run<T: Copy>(dst: &mut [T], src: &[T]) {
    let n = dst.len();
    let src = &src[..n];
    if n < 8 {
        dst.copy_from_slice(src);
        return;
    }
    let block = |at: usize, dst: &mut [T]| {
        *<&mut [T; 8]>::try_from(&mut dst[at..at + 8]).expect("8 wide") =
            *<&[T; 8]>::try_from(&src[at..at + 8]).expect("8 wide")
    };
    for at in (0..n - 7).step_by(8) {
        block(at, dst);
    }
    if !n.is_multiple_of(8) {
        block(n - 8, dst);
    }
}

/// Writes the receptive fields of the `[cg, ph, pw]` planes `image` (already padded, or
/// needing none) as columns: row `(c, i, j)` of the `[cg·kh·kw, oh·ow]` matrix `cols` holds
/// tap (i, j) of channel c at every output position.
fn im2col<T: Element>(image: &[T], geo: &ConvGeometry, d: &Dims, cols: &mut [T]) {
    let ([kh, kw], [oh, ow], [ph, pw]) = (geo.kernel, d.out, d.padded);
    let ([sh, sw], [dh, dw]) = (geo.stride, geo.dilation);
    let mut rows = cols.chunks_exact_mut(oh * ow);
    for plane in image.chunks_exact(ph * pw) {
        for i in 0..kh {
            for j in 0..kw {
                let row = rows.next().expect("one row per tap");
                for (y, out) in row.chunks_exact_mut(ow).enumerate() {
                    let line = &plane[(y * sh + i * dh) * pw + j * dw..];
                    if sw == 1 {
                        copy_run(out, line);
                    } else {
                        out.iter_mut().zip(line.iter().step_by(sw)).for_each(|(o, &v)| *o = v);
                    }
                }
            }
        }
    }
}

/// [`im2col`] of one sample's group, through the zero-bordered `padded` planes if the
/// convolution pads.
fn columns<T: Element>(image: &[T], geo: &ConvGeometry, d: &Dims, padded: &mut [T], cols: &mut [T]) {
    if geo.padded() {
        pad_into(image, geo, d, padded);
        im2col(padded, geo, d, cols);
    } else {
        im2col(image, geo, d, cols);
    }
}

/// The adjoint of [`im2col`]: adds each column entry into the (padded) image element it
/// came from.
fn col2im<T: Element>(cols: &[T], geo: &ConvGeometry, d: &Dims, image: &mut [T]) {
    let ([kh, kw], [oh, ow], [ph, pw]) = (geo.kernel, d.out, d.padded);
    let ([sh, sw], [dh, dw]) = (geo.stride, geo.dilation);
    let mut rows = cols.chunks_exact(oh * ow);
    for plane in image.chunks_exact_mut(ph * pw) {
        for i in 0..kh {
            for j in 0..kw {
                let row = rows.next().expect("one row per tap");
                for (y, values) in row.chunks_exact(ow).enumerate() {
                    let line = &mut plane[(y * sh + i * dh) * pw + j * dw..];
                    if sw == 1 {
                        line.iter_mut().zip(values).for_each(|(t, &v)| *t = *t + v);
                    } else {
                        line.iter_mut().step_by(sw).zip(values).for_each(|(t, &v)| *t = *t + v);
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
) {
    // SAFETY: forwarded contract.
    unsafe { T::gemm(m, k, n, (a.0, a.1 as isize, a.2 as isize), (b.0, b.1 as isize, b.2 as isize), c, false) }
}

/// Runs `f(chunk, samples, scratch)` for every fixed chunk of [`CHUNK_SAMPLES`] samples of
/// `n`, on all threads if the convolution is large, with `scratch_len` elements of scratch
/// (per thread) whose old contents `f` overwrites.
fn per_chunk<T: Element>(n: usize, macs: usize, scratch_len: usize, f: impl Fn(usize, Range<usize>, &mut [T]) + Sync) {
    for_ranges(n.div_ceil(CHUNK_SAMPLES), macs >= PARALLEL_MACS, |chunks| {
        let mut scratch = Storage::<T>::for_overwrite(scratch_len);
        for chunk in chunks {
            let samples = chunk * CHUNK_SAMPLES..((chunk + 1) * CHUNK_SAMPLES).min(n);
            f(chunk, samples, &mut scratch);
        }
    });
}

/// Splits `scratch` into the column matrix, the padded image (zeroed) and the rest.
fn split_scratch<T: Element>(scratch: &mut [T], cols: usize, padded: usize) -> (&mut [T], &mut [T], &mut [T]) {
    let (cols, rest) = scratch.split_at_mut(cols);
    let (padded, rest) = rest.split_at_mut(padded);
    padded.fill(T::zero());
    (cols, padded, rest)
}

/// y = conv2d(x, w): `[n, c, h, w]` and `[o, c/groups, kh, kw]` → `[n, o, oh, ow]`.
pub(crate) fn conv2d<T: Element>(x: &Array<T>, w: &Array<T>, geo: &ConvGeometry) -> Array<T> {
    let (x, w) = (x.contiguous(), w.contiguous());
    let s = x.shape();
    let d = Dims::new(s[0], s[1], w.shape()[0], [s[2], s[3]], geo);
    let (og, ckk, p, pad_len) = (d.og(geo), d.ckk(geo), d.p(), d.padded_len(geo));
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
        per_chunk(d.n, d.n * d.o * p * ckk, ckk * p + pad_len, |_, samples, scratch: &mut [T]| {
            let (cols, padded, _) = split_scratch(scratch, ckk * p, pad_len);
            for n in samples {
                for g in 0..geo.groups {
                    columns(&xs[d.image(geo, n, g)], geo, &d, padded, cols);
                    // SAFETY: w's group block is [og, ckk] row-major, cols [ckk, p]; sample
                    // n's group g block of y is a disjoint [og, p] part of the output.
                    unsafe {
                        gemm(
                            og,
                            ckk,
                            p,
                            (ws[g * og * ckk..].as_ptr(), ckk, 1),
                            (cols.as_ptr(), p, 1),
                            y.at((n * d.o + g * og) * p),
                        )
                    }
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
    let d = Dims::new(g.shape()[0], c, w.shape()[0], hw, geo);
    let (og, ckk, p, pad_len) = (d.og(geo), d.ckk(geo), d.p(), d.padded_len(geo));
    let (gs, ws) = (g.as_slice().expect("contiguous"), w.as_slice().expect("contiguous"));
    Array::build(&[d.n, c, hw[0], hw[1]], |out| {
        if out.is_empty() || ckk == 0 || p == 0 || og == 0 {
            return;
        }
        let dx = SharedMut(out.as_mut_ptr());
        per_chunk(d.n, d.n * d.o * p * ckk, ckk * p + pad_len, |_, samples, scratch: &mut [T]| {
            let (cols, padded, _) = split_scratch(scratch, ckk * p, pad_len);
            for n in samples {
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
                        )
                    }
                    let at = d.image(geo, n, grp);
                    // SAFETY: sample n's group grp is a disjoint part of the output.
                    let image = unsafe { std::slice::from_raw_parts_mut(dx.at(at.start), at.len()) };
                    if geo.padded() {
                        padded.fill(T::zero());
                        col2im(cols, geo, &d, padded);
                        unpad_into(padded, geo, &d, image);
                    } else {
                        col2im(cols, geo, &d, image);
                    }
                }
            }
        });
    })
}

/// The gradient of conv2d with respect to its weight: `x` `[n, c, h, w]` and `g`
/// `[n, o, oh, ow]` → `[o, c/groups, kh, kw]`, the sum over samples of g·colsᵀ.
pub(crate) fn conv2d_weight<T: Element>(x: &Array<T>, g: &Array<T>, geo: &ConvGeometry) -> Array<T> {
    let (x, g) = (x.contiguous(), g.contiguous());
    let s = x.shape();
    let d = Dims::new(s[0], s[1], g.shape()[1], [s[2], s[3]], geo);
    let (og, ckk, p, pad_len) = (d.og(geo), d.ckk(geo), d.p(), d.padded_len(geo));
    let (xs, gs) = (x.as_slice().expect("contiguous"), g.as_slice().expect("contiguous"));
    let shape = [d.o, d.cg(geo), geo.kernel[0], geo.kernel[1]];
    let block = og * ckk;
    Array::build(&shape, |out| {
        if out.is_empty() || p == 0 || d.n == 0 {
            return;
        }
        // One partial weight gradient per chunk of samples, added in chunk order below.
        let chunks = d.n.div_ceil(CHUNK_SAMPLES);
        let mut partials = Storage::<T>::zeros(chunks * out.len());
        let sums = SharedMut(partials.as_mut_ptr());
        per_chunk(d.n, d.n * d.o * p * ckk, ckk * p + pad_len + block, |chunk, samples, scratch: &mut [T]| {
            let (cols, padded, product) = split_scratch(scratch, ckk * p, pad_len);
            // SAFETY: chunk `chunk`'s partial is its own.
            let partial = unsafe { std::slice::from_raw_parts_mut(sums.at(chunk * d.o * ckk), d.o * ckk) };
            for n in samples {
                for grp in 0..geo.groups {
                    columns(&xs[d.image(geo, n, grp)], geo, &d, padded, cols);
                    // SAFETY: g's group block is [og, p] row-major; colsᵀ is [p, ckk] (row
                    // stride 1, column stride p); product is [og, ckk].
                    unsafe {
                        gemm(
                            og,
                            p,
                            ckk,
                            (gs[(n * d.o + grp * og) * p..].as_ptr(), p, 1),
                            (cols.as_ptr(), 1, p),
                            product.as_mut_ptr(),
                        )
                    }
                    let sum = &mut partial[grp * block..(grp + 1) * block];
                    sum.iter_mut().zip(&*product).for_each(|(acc, &v)| *acc = *acc + v);
                }
            }
        });
        for partial in partials.chunks_exact(out.len()) {
            out.iter_mut().zip(partial).for_each(|(acc, &v)| *acc = *acc + v);
        }
    })
}
