//! Max pooling's search: where each window's largest element lies.
//!
//! The pooled values and their gradient are then a gather and a scatter at these positions
//! (ops that already differentiate), so the kernel only has to find them.

use rayon::prelude::*;

use super::Array;
use super::conv::ConvGeometry;
use super::parallel::PARALLEL_THRESHOLD;
use crate::element::Element;

/// For a `[n, c, h, w]` array, the position (`y·w + x` in its plane) of the largest element
/// of every window, as a `[n, c, oh·ow]` row-major list. Windows are scanned row by row
/// and the first maximum wins ties, as PyTorch's CPU kernel; a NaN wins over any number
/// (so NaNs propagate). Padding is never picked.
pub(crate) fn max_pool2d_indices<T: Element>(x: &Array<T>, geo: &ConvGeometry) -> Vec<usize> {
    let x = x.contiguous();
    let data = x.as_slice().expect("contiguous");
    let [h, w] = [x.shape()[2], x.shape()[3]];
    let out = [0, 1].map(|a| geo.output_size(a, x.shape()[2 + a]).expect("pool geometry checked by the caller"));
    let planes = x.shape()[0] * x.shape()[1];
    let per_plane = out[0] * out[1];
    let mut indices = vec![0usize; planes * per_plane];
    if per_plane == 0 {
        return indices;
    }
    let plane_work = |(plane, idx): (usize, &mut [usize])| {
        let values = &data[plane * h * w..(plane + 1) * h * w];
        let rows = |o: usize| window(geo, 0, o, h);
        let cols = |o: usize| window(geo, 1, o, w);
        for oy in 0..out[0] {
            let (y0, y1) = rows(oy);
            for ox in 0..out[1] {
                let (x0, x1) = cols(ox);
                // Windows always hold a real element (padding is at most half the kernel).
                let (mut best_at, mut best) = (y0 * w + x0, values[y0 * w + x0]);
                for y in y0..y1 {
                    for (x, &v) in values[y * w + x0..y * w + x1].iter().enumerate() {
                        if v > best || (v.is_nan() && !best.is_nan()) {
                            (best_at, best) = (y * w + x0 + x, v);
                        }
                    }
                }
                idx[oy * out[1] + ox] = best_at;
            }
        }
    };
    if indices.len() * geo.kernel[0] * geo.kernel[1] >= PARALLEL_THRESHOLD {
        indices.par_chunks_mut(per_plane).enumerate().for_each(plane_work);
    } else {
        indices.chunks_mut(per_plane).enumerate().for_each(plane_work);
    }
    indices
}

/// The input positions `start..end` along `axis` under window `o` (pooling has dilation 1),
/// padding cut off.
#[inline]
fn window(geo: &ConvGeometry, axis: usize, o: usize, n: usize) -> (usize, usize) {
    let start = (o * geo.stride[axis]) as isize - geo.padding[axis][0] as isize;
    let end = (start + geo.kernel[axis] as isize).min(n as isize);
    (start.max(0) as usize, end.max(0) as usize)
}
