//! Shapes, strides, axes and the broadcasting rule, with every shape check and its message.
//!
//! Shape mistakes in math ops are programming errors: they panic with a message that starts
//! with the op's name, shows every shape and axis, and ends with the caller's source line,
//! e.g. `matmul: [64, 784] x [128, 10]: inner dimensions 784 and 128 differ (at src/model.rs:42)`.
//! Every public op is `#[track_caller]` so that line is the user's, not ours.

use std::fmt::Display;
use std::panic::Location;

use smallvec::SmallVec;

/// The sizes of a tensor's axes, outermost first. Up to four axes live inline.
pub type Shape = SmallVec<[usize; 4]>;

/// Steps in elements between neighbours along each axis; 0 marks a broadcast axis.
pub type Strides = SmallVec<[usize; 4]>;

/// Panics with `message` followed by the caller's source line.
#[track_caller]
#[cold]
pub fn shape_panic(message: impl Display) -> ! {
    let at = Location::caller();
    panic!("{message} (at {}:{})", at.file(), at.line())
}

/// The number of elements of a shape (1 for a scalar's empty shape).
pub fn numel(shape: &[usize]) -> usize {
    shape.iter().product()
}

/// Row-major strides for a shape: the last axis is the fastest.
pub fn contiguous_strides(shape: &[usize]) -> Strides {
    let fill = |strides: &mut [usize]| {
        let mut step = 1;
        for (stride, &size) in strides.iter_mut().zip(shape).rev() {
            *stride = step;
            step *= size.max(1);
        }
    };
    if shape.len() > 4 {
        let mut strides = Strides::from_elem(0, shape.len());
        fill(&mut strides);
        return strides;
    }
    // Up to four axes: computed in a plain array, then handed over (see `shape_of`).
    let mut strides = [0; 4];
    fill(&mut strides[..shape.len()]);
    SmallVec::from_buf_and_len(strides, shape.len())
}

/// `dims` as a [`Shape`]. Up to four axes are copied one by one into the inline buffer:
/// `SmallVec::from_slice` calls `memcpy` for those few bytes, which was a tenth of making
/// a 16-element array (W3 in BENCHMARKS.md).
#[inline]
pub(crate) fn shape_of(dims: &[usize]) -> Shape {
    if dims.len() > 4 {
        return Shape::from_slice(dims);
    }
    let at = |i: usize| dims.get(i).copied().unwrap_or(0);
    SmallVec::from_buf_and_len([at(0), at(1), at(2), at(3)], dims.len())
}

/// NumPy's broadcasting rule: align shapes at the right; each pair of sizes must be equal
/// or contain a 1, and the result takes the larger.
///
/// # Panics
/// If the shapes cannot broadcast; the message names `op`, both shapes and the axis.
#[track_caller]
pub fn broadcast_shapes(op: &str, a: &[usize], b: &[usize]) -> Shape {
    let ndim = a.len().max(b.len());
    let mut out: Shape = SmallVec::from_elem(0, ndim);
    for i in 0..ndim {
        let da = if i < ndim - a.len() { 1 } else { a[i - (ndim - a.len())] };
        let db = if i < ndim - b.len() { 1 } else { b[i - (ndim - b.len())] };
        out[i] = match (da, db) {
            (x, y) if x == y => x,
            (1, y) => y,
            (x, 1) => x,
            (x, y) => shape_panic(format!(
                "{op}: shapes {a:?} and {b:?} cannot broadcast: axis {} has sizes {x} and {y}",
                i as isize - ndim as isize
            )),
        };
    }
    out
}

/// An axis given the way PyTorch users write it: `0`, `1`, or `-1` for the last.
pub trait Dim: Copy {
    /// The axis as a signed index, negative counting from the end.
    fn index(self) -> isize;
}

impl Dim for i32 {
    fn index(self) -> isize {
        self as isize
    }
}
impl Dim for i64 {
    fn index(self) -> isize {
        self as isize
    }
}
impl Dim for isize {
    fn index(self) -> isize {
        self
    }
}
impl Dim for usize {
    fn index(self) -> isize {
        self as isize
    }
}

/// One axis or several: `1`, `-1`, `[0, 2]`, `&axes[..]`.
pub trait Dims {
    /// The axes as signed indices.
    fn indices(&self) -> SmallVec<[isize; 4]>;
}

impl<D: Dim> Dims for D {
    fn indices(&self) -> SmallVec<[isize; 4]> {
        smallvec::smallvec![self.index()]
    }
}
impl<D: Dim, const N: usize> Dims for [D; N] {
    fn indices(&self) -> SmallVec<[isize; 4]> {
        self.iter().map(|d| d.index()).collect()
    }
}
impl<D: Dim> Dims for &[D] {
    fn indices(&self) -> SmallVec<[isize; 4]> {
        self.iter().map(|d| d.index()).collect()
    }
}
impl<D: Dim> Dims for Vec<D> {
    fn indices(&self) -> SmallVec<[isize; 4]> {
        self.iter().map(|d| d.index()).collect()
    }
}

/// Resolves a possibly negative axis against `ndim` axes.
///
/// # Panics
/// If the axis is out of range; the message names `op`, the axis and the shape.
#[track_caller]
pub fn normalize_axis(op: &str, axis: isize, shape: &[usize]) -> usize {
    let ndim = shape.len() as isize;
    let resolved = if axis < 0 { axis + ndim } else { axis };
    if resolved < 0 || resolved >= ndim {
        shape_panic(format!("{op}: axis {axis} is out of range for shape {shape:?} ({} axes)", shape.len()));
    }
    resolved as usize
}

/// Resolves several axes: sorted, each once.
///
/// # Panics
/// If an axis is out of range or repeated.
#[track_caller]
pub fn normalize_axes(op: &str, axes: &impl Dims, shape: &[usize]) -> SmallVec<[usize; 4]> {
    let mut out: SmallVec<[usize; 4]> = SmallVec::new();
    for axis in axes.indices() {
        let a = normalize_axis(op, axis, shape);
        if out.contains(&a) {
            shape_panic(format!("{op}: axis {axis} is given twice for shape {shape:?}"));
        }
        out.push(a);
    }
    out.sort_unstable();
    out
}

/// The shape left after reducing `axes` (kept as size 1 when `keepdim`).
pub fn reduced_shape(shape: &[usize], axes: &[usize], keepdim: bool) -> Shape {
    let mut out = Shape::new();
    for (i, &size) in shape.iter().enumerate() {
        if !axes.contains(&i) {
            out.push(size);
        } else if keepdim {
            out.push(1);
        }
    }
    out
}

/// Resolves a requested shape that may contain one `-1` (inferred) against `numel` elements.
///
/// # Panics
/// If the element counts differ or the shape has more than one `-1`.
#[track_caller]
pub fn resolve_shape(op: &str, from: &[usize], requested: &[isize]) -> Shape {
    let count = numel(from);
    let mut inferred = None;
    let mut known = 1usize;
    for (i, &size) in requested.iter().enumerate() {
        match size {
            -1 if inferred.is_none() => inferred = Some(i),
            -1 => shape_panic(format!("{op}: {from:?} to {requested:?}: only one size may be -1")),
            s if s < 0 => shape_panic(format!("{op}: {from:?} to {requested:?}: size {s} is negative")),
            s => known *= s as usize,
        }
    }
    let mut out: Shape = requested.iter().map(|&s| s.max(0) as usize).collect();
    if let Some(i) = inferred {
        if known == 0 || !count.is_multiple_of(known) {
            shape_panic(format!("{op}: cannot reshape {from:?} ({count} elements) to {requested:?}"));
        }
        out[i] = count / known;
    }
    if numel(&out) != count {
        shape_panic(format!(
            "{op}: cannot reshape {from:?} ({count} elements) to {requested:?} ({} elements)",
            numel(&out)
        ));
    }
    out
}

/// A shape given as sizes, where PyTorch users may write `-1` for "infer this one".
pub trait IntoShape {
    /// The sizes as signed numbers, `-1` meaning inferred.
    fn sizes(&self) -> SmallVec<[isize; 4]>;
}

impl IntoShape for [usize] {
    fn sizes(&self) -> SmallVec<[isize; 4]> {
        self.iter().map(|&s| s as isize).collect()
    }
}
impl<const N: usize> IntoShape for [usize; N] {
    fn sizes(&self) -> SmallVec<[isize; 4]> {
        self.iter().map(|&s| s as isize).collect()
    }
}
impl<const N: usize> IntoShape for [isize; N] {
    fn sizes(&self) -> SmallVec<[isize; 4]> {
        self.iter().copied().collect()
    }
}
impl<const N: usize> IntoShape for [i32; N] {
    fn sizes(&self) -> SmallVec<[isize; 4]> {
        self.iter().map(|&s| s as isize).collect()
    }
}
impl IntoShape for Vec<usize> {
    fn sizes(&self) -> SmallVec<[isize; 4]> {
        self.iter().map(|&s| s as isize).collect()
    }
}
impl IntoShape for Shape {
    fn sizes(&self) -> SmallVec<[isize; 4]> {
        self.iter().map(|&s| s as isize).collect()
    }
}
impl<S: IntoShape + ?Sized> IntoShape for &S {
    fn sizes(&self) -> SmallVec<[isize; 4]> {
        (**self).sizes()
    }
}

/// Checks a 2-D convolution's operands, NCHW input `[n, c, h, w]` and OIHW weight
/// `[o, c/groups, kh, kw]`, and returns where its windows lie. `padding` is
/// `[[top, bottom], [left, right]]`.
///
/// # Panics
/// If either operand is not 4-D, a stride, dilation or group count is zero, the channels do
/// not fit the groups, or the dilated kernel does not fit the padded input; the message
/// names `op` and every shape and setting.
#[track_caller]
pub fn conv_geometry(
    op: &str,
    input: &[usize],
    weight: &[usize],
    stride: [usize; 2],
    padding: [[usize; 2]; 2],
    dilation: [usize; 2],
    groups: usize,
) -> crate::array::ConvGeometry {
    if input.len() != 4 || weight.len() != 4 {
        shape_panic(format!(
            "{op}: input {input:?} and weight {weight:?}: expected input [n, c, h, w] and weight [o, c/groups, kh, kw]"
        ));
    }
    if stride.contains(&0) || dilation.contains(&0) || groups == 0 {
        shape_panic(format!("{op}: stride {stride:?}, dilation {dilation:?} and groups {groups} must be positive"));
    }
    if input[1] != weight[1] * groups || !weight[0].is_multiple_of(groups) {
        shape_panic(format!(
            "{op}: input {input:?} has {} channels but weight {weight:?} with groups {groups} expects {} \
             (and its {} output channels must divide into the groups)",
            input[1],
            weight[1] * groups,
            weight[0]
        ));
    }
    let geo = crate::array::ConvGeometry { stride, padding, dilation, groups, kernel: [weight[2], weight[3]] };
    for axis in 0..2 {
        if geo.output_size(axis, input[2 + axis]).is_none() {
            shape_panic(format!(
                "{op}: kernel {:?} with dilation {dilation:?} does not fit input {input:?} padded by {padding:?}",
                geo.kernel
            ));
        }
    }
    geo
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broadcasting_aligns_at_the_right() {
        assert_eq!(broadcast_shapes("add", &[2, 1, 4], &[3, 1]).as_slice(), &[2, 3, 4]);
        assert_eq!(broadcast_shapes("add", &[], &[5]).as_slice(), &[5]);
        assert_eq!(broadcast_shapes("add", &[0, 1], &[1, 7]).as_slice(), &[0, 7]);
    }

    #[test]
    #[should_panic(expected = "add: shapes [2, 3] and [4] cannot broadcast: axis -1 has sizes 3 and 4")]
    fn broadcasting_failure_names_shapes_and_axis() {
        broadcast_shapes("add", &[2, 3], &[4]);
    }

    #[test]
    fn negative_axes_count_from_the_end() {
        assert_eq!(normalize_axis("sum", -1, &[2, 3]), 1);
        assert_eq!(normalize_axes("sum", &[-1, 0], &[2, 3, 4]).as_slice(), &[0, 2]);
    }

    #[test]
    #[should_panic(expected = "sum: axis 2 is out of range for shape [2, 3] (2 axes)")]
    fn axis_out_of_range_is_named() {
        normalize_axis("sum", 2, &[2, 3]);
    }

    #[test]
    fn reshape_infers_one_size() {
        assert_eq!(resolve_shape("reshape", &[4, 6], &[-1, 3]).as_slice(), &[8, 3]);
        assert_eq!(contiguous_strides(&[2, 3, 4]).as_slice(), &[12, 4, 1]);
    }
}
