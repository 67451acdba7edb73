//! The heavy generic code, compiled once per element type, here.
//!
//! Rust compiles a generic function anew in every crate that uses it, optimisations and
//! all: without this file, each example and each user program recompiled the whole tape,
//! every op's forward and backward, and all the kernels (about 9 s per example in release
//! mode). So the generic entry points that pull in most code are reached through this
//! trait, whose two impls are ordinary functions compiled in this crate; a program using
//! `Tensor<f32>` only calls them.
//!
//! Each method is a one-line forward to the generic code it names; `#[inline(never)]` keeps
//! other crates from copying it back in.

#![allow(private_interfaces)]

use crate::array::Array;
use crate::array::ConvGeometry;
use crate::element::Element;
use crate::graph::{Sink, walk};
use crate::indices::Indices;
use crate::ops::{Binary, Comparison, Conv, How, Indexing, Unary};
use crate::tensor::Tensor;

/// The compiled-once entry points (implemented for f32 and f64 only).
pub trait Kernels: Sized {
    /// One unary op, elementwise.
    fn unary(op: &Unary<Self>, x: &Array<Self>) -> Array<Self>
    where
        Self: Element;
    /// A chain of unary ops in one pass over `x`, block by block.
    fn fused(x: &Array<Self>, chain: &[Unary<Self>]) -> Array<Self>
    where
        Self: Element;
    /// [`Binary::forward`].
    fn binary(op: Binary, a: &Array<Self>, b: &Array<Self>) -> Array<Self>
    where
        Self: Element;
    /// A 0/1 mask of `a op b`.
    fn compare(op: Comparison, a: &Array<Self>, b: &Array<Self>) -> Array<Self>
    where
        Self: Element;
    /// `mask ? a : b`, elementwise.
    fn select(mask: &Array<Self>, a: &Array<Self>, b: &Array<Self>) -> Array<Self>
    where
        Self: Element;
    /// Sum, max or min over sorted, distinct axes.
    fn reduce(how: How, x: &Array<Self>, axes: &[usize], keepdim: bool) -> Array<Self>
    where
        Self: Element;
    /// The index of the largest (or smallest) element along an axis.
    fn arg_reduce(x: &Array<Self>, axis: usize, largest: bool) -> Vec<usize>
    where
        Self: Element;
    /// log_softmax along an axis.
    fn log_softmax(x: &Array<Self>, axis: usize) -> Array<Self>
    where
        Self: Element;
    /// [`Array::matmul`].
    fn matmul(a: &Array<Self>, b: &Array<Self>) -> Array<Self>
    where
        Self: Element;
    /// [`Array::concat`].
    fn concat(parts: &[Array<Self>], axis: usize) -> Array<Self>
    where
        Self: Element;
    /// The convolution ops' forward.
    fn conv(op: &Conv, a: &Array<Self>, b: &Array<Self>) -> Array<Self>
    where
        Self: Element;
    /// Max pooling: the maxima and, if asked, their positions.
    fn max_pool(x: &Array<Self>, geo: &ConvGeometry, positions: bool) -> (Array<Self>, Option<Indices>)
    where
        Self: Element;
    /// The indexing ops' forward.
    fn indexing(op: &Indexing, x: &Array<Self>) -> Array<Self>
    where
        Self: Element;
    /// A contiguous copy.
    fn copy(x: &Array<Self>) -> Array<Self>
    where
        Self: Element;
    /// `dst = src`, bypassing the caches where the CPU can (streaming stores), for outputs
    /// too large to stay in cache anyway.
    fn stream_copy(dst: &mut [Self], src: &[Self]);
    /// The backward walk.
    fn walk(roots: &[(Tensor<Self>, Tensor<Self>)], create_graph: bool, retain: bool, sink: Sink<'_, Self>)
    where
        Self: Element;
}

impl Kernels for f32 {
    #[inline(never)]
    fn unary(op: &Unary<f32>, x: &Array<f32>) -> Array<f32> {
        x.map_blocks(|block| op.apply(block))
    }
    #[inline(never)]
    fn fused(x: &Array<f32>, chain: &[Unary<f32>]) -> Array<f32> {
        x.map_blocks(|block| chain.iter().for_each(|op| op.apply(block)))
    }
    #[inline(never)]
    fn binary(op: Binary, a: &Array<f32>, b: &Array<f32>) -> Array<f32> {
        op.forward(a, b)
    }
    #[inline(never)]
    fn compare(op: Comparison, a: &Array<f32>, b: &Array<f32>) -> Array<f32> {
        op.forward(a, b)
    }
    #[inline(never)]
    fn select(mask: &Array<f32>, a: &Array<f32>, b: &Array<f32>) -> Array<f32> {
        select(mask, a, b)
    }
    #[inline(never)]
    fn reduce(how: How, x: &Array<f32>, axes: &[usize], keepdim: bool) -> Array<f32> {
        how.forward(x, axes, keepdim)
    }
    #[inline(never)]
    fn arg_reduce(x: &Array<f32>, axis: usize, largest: bool) -> Vec<usize> {
        if largest { x.argmax_axis(axis) } else { x.argmin_axis(axis) }
    }
    #[inline(never)]
    fn log_softmax(x: &Array<f32>, axis: usize) -> Array<f32> {
        crate::ops::log_softmax_forward(x, axis)
    }
    #[inline(never)]
    fn matmul(a: &Array<f32>, b: &Array<f32>) -> Array<f32> {
        a.matmul(b)
    }
    #[inline(never)]
    fn concat(parts: &[Array<f32>], axis: usize) -> Array<f32> {
        Array::concat(parts, axis)
    }
    #[inline(never)]
    fn conv(op: &Conv, a: &Array<f32>, b: &Array<f32>) -> Array<f32> {
        op.forward_array(a, b)
    }
    #[inline(never)]
    fn max_pool(x: &Array<f32>, geo: &ConvGeometry, positions: bool) -> (Array<f32>, Option<Indices>) {
        crate::array::max_pool2d(x, geo, positions)
    }
    #[inline(never)]
    fn indexing(op: &Indexing, x: &Array<f32>) -> Array<f32> {
        op.forward_array(x)
    }
    #[inline(never)]
    fn copy(x: &Array<f32>) -> Array<f32> {
        x.map(|v| v)
    }
    fn stream_copy(dst: &mut [f32], src: &[f32]) {
        #[cfg(target_arch = "x86_64")]
        {
            use std::arch::x86_64::{_mm_loadu_ps, _mm_sfence, _mm_stream_ps};
            let head = dst.as_ptr().align_offset(16).min(dst.len());
            dst[..head].copy_from_slice(&src[..head]);
            let body = (dst.len() - head) / 4 * 4;
            for i in (head..head + body).step_by(4) {
                // SAFETY: SSE is part of x86_64; dst + i is 16-byte aligned and 4 floats of
                // both slices lie in bounds (i + 4 ≤ head + body ≤ len).
                unsafe { _mm_stream_ps(dst.as_mut_ptr().add(i), _mm_loadu_ps(src.as_ptr().add(i))) };
            }
            dst[head + body..].copy_from_slice(&src[head + body..]);
            // SAFETY: SSE is part of x86_64. Orders the streaming stores before later ones.
            unsafe { _mm_sfence() };
        }
        #[cfg(not(target_arch = "x86_64"))]
        dst.copy_from_slice(src);
    }
    #[inline(never)]
    fn walk(roots: &[(Tensor<f32>, Tensor<f32>)], create_graph: bool, retain: bool, sink: Sink<'_, f32>) {
        walk(roots, create_graph, retain, sink)
    }
}

impl Kernels for f64 {
    #[inline(never)]
    fn unary(op: &Unary<f64>, x: &Array<f64>) -> Array<f64> {
        x.map_blocks(|block| op.apply(block))
    }
    #[inline(never)]
    fn fused(x: &Array<f64>, chain: &[Unary<f64>]) -> Array<f64> {
        x.map_blocks(|block| chain.iter().for_each(|op| op.apply(block)))
    }
    #[inline(never)]
    fn binary(op: Binary, a: &Array<f64>, b: &Array<f64>) -> Array<f64> {
        op.forward(a, b)
    }
    #[inline(never)]
    fn compare(op: Comparison, a: &Array<f64>, b: &Array<f64>) -> Array<f64> {
        op.forward(a, b)
    }
    #[inline(never)]
    fn select(mask: &Array<f64>, a: &Array<f64>, b: &Array<f64>) -> Array<f64> {
        select(mask, a, b)
    }
    #[inline(never)]
    fn reduce(how: How, x: &Array<f64>, axes: &[usize], keepdim: bool) -> Array<f64> {
        how.forward(x, axes, keepdim)
    }
    #[inline(never)]
    fn arg_reduce(x: &Array<f64>, axis: usize, largest: bool) -> Vec<usize> {
        if largest { x.argmax_axis(axis) } else { x.argmin_axis(axis) }
    }
    #[inline(never)]
    fn log_softmax(x: &Array<f64>, axis: usize) -> Array<f64> {
        crate::ops::log_softmax_forward(x, axis)
    }
    #[inline(never)]
    fn matmul(a: &Array<f64>, b: &Array<f64>) -> Array<f64> {
        a.matmul(b)
    }
    #[inline(never)]
    fn concat(parts: &[Array<f64>], axis: usize) -> Array<f64> {
        Array::concat(parts, axis)
    }
    #[inline(never)]
    fn conv(op: &Conv, a: &Array<f64>, b: &Array<f64>) -> Array<f64> {
        op.forward_array(a, b)
    }
    #[inline(never)]
    fn max_pool(x: &Array<f64>, geo: &ConvGeometry, positions: bool) -> (Array<f64>, Option<Indices>) {
        crate::array::max_pool2d(x, geo, positions)
    }
    #[inline(never)]
    fn indexing(op: &Indexing, x: &Array<f64>) -> Array<f64> {
        op.forward_array(x)
    }
    #[inline(never)]
    fn copy(x: &Array<f64>) -> Array<f64> {
        x.map(|v| v)
    }
    fn stream_copy(dst: &mut [f64], src: &[f64]) {
        #[cfg(target_arch = "x86_64")]
        {
            use std::arch::x86_64::{_mm_loadu_pd, _mm_sfence, _mm_stream_pd};
            let head = dst.as_ptr().align_offset(16).min(dst.len());
            dst[..head].copy_from_slice(&src[..head]);
            let body = (dst.len() - head) / 2 * 2;
            for i in (head..head + body).step_by(2) {
                // SAFETY: SSE2 is part of x86_64; dst + i is 16-byte aligned and 2 doubles of
                // both slices lie in bounds.
                unsafe { _mm_stream_pd(dst.as_mut_ptr().add(i), _mm_loadu_pd(src.as_ptr().add(i))) };
            }
            dst[head + body..].copy_from_slice(&src[head + body..]);
            // SAFETY: SSE is part of x86_64. Orders the streaming stores before later ones.
            unsafe { _mm_sfence() };
        }
        #[cfg(not(target_arch = "x86_64"))]
        dst.copy_from_slice(src);
    }
    #[inline(never)]
    fn walk(roots: &[(Tensor<f64>, Tensor<f64>)], create_graph: bool, retain: bool, sink: Sink<'_, f64>) {
        walk(roots, create_graph, retain, sink)
    }
}

/// Where the mask is non-zero, `a`, else `b`.
fn select<T: Element>(mask: &Array<T>, a: &Array<T>, b: &Array<T>) -> Array<T> {
    mask.zip3_map(a, b, |m, x, y| if m != T::zero() { x } else { y })
}
