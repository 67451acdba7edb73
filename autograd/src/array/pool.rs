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
        for oy in 0..out[0] {
            for ox in 0..out[1] {
                let mut best: Option<(usize, T)> = None;
                for i in 0..geo.kernel[0] {
                    let Some(y) = tap(geo, 0, oy, i, h) else { continue };
                    for j in 0..geo.kernel[1] {
                        let Some(x) = tap(geo, 1, ox, j, w) else { continue };
                        let v = values[y * w + x];
                        let better = match best {
                            None => true,
                            Some((_, b)) => v > b || (v.is_nan() && !b.is_nan()),
                        };
                        if better {
                            best = Some((y * w + x, v));
                        }
                    }
                }
                idx[oy * out[1] + ox] = best.map_or(0, |(i, _)| i);
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

/// The input coordinate of output position `o` and tap `k` along `axis`, if not padding.
#[inline]
fn tap(geo: &ConvGeometry, axis: usize, o: usize, k: usize, n: usize) -> Option<usize> {
    let pos = (o * geo.stride[axis] + k * geo.dilation[axis]).checked_sub(geo.padding[axis][0])?;
    (pos < n).then_some(pos)
}
