//! The element type of a tensor: f32 for speed, f64 for truth.
//!
//! One trait, implemented for `f32` and `f64`, gathers what the kernels need from a
//! float: arithmetic (`num_traits::Float`), a matrix-multiply routine and the error
//! function (which `num_traits` lacks and GELU needs).

use std::fmt::{Debug, Display};

use std::cell::RefCell;

use num_traits::{Float, FromPrimitive};

use crate::array::BufferCache;

/// A float type tensors can hold: `f32` (the default) or `f64` (used by gradient checks).
pub trait Element:
    Float + FromPrimitive + Debug + Display + Default + Send + Sync + std::iter::Sum + crate::kernels::Kernels + 'static
{
    /// The type's name as users write it, for error messages: `"f32"`.
    const NAME: &'static str;

    /// `C = A·B` for an `m×k` matrix A and a `k×n` matrix B, each given by a pointer and
    /// row/column strides in elements; C is row-major and contiguous (row stride `n`) and is
    /// overwritten. Runs on all threads when `parallel` and the product is large.
    ///
    /// # Safety
    /// Every addressed element of A and B must be readable and all `m·n` elements of C
    /// writable, and C must not overlap A or B.
    unsafe fn gemm(
        m: usize,
        k: usize,
        n: usize,
        a: (*const Self, isize, isize),
        b: (*const Self, isize, isize),
        c: *mut Self,
        parallel: bool,
    );

    /// The error function, erf(x) = 2/√π ∫₀ˣ e^(−t²) dt.
    fn erf(self) -> Self;

    /// tanh of every element, in place (f32: a vectorizable version within 2 ulp of libm's).
    #[doc(hidden)]
    fn tanh_in_place(values: &mut [Self]);

    /// e^x of every element, in place (f32: a vectorizable version within 1 ulp).
    #[doc(hidden)]
    fn exp_in_place(values: &mut [Self]);

    /// Runs `f` on this thread's cache of freed buffers of this type (`None` if the cache
    /// is unavailable: in use, or the thread is ending). An implementation detail of
    /// array storage.
    #[doc(hidden)]
    fn with_buffer_cache<R>(f: impl FnOnce(&mut BufferCache<Self>) -> R) -> Option<R>;
}

thread_local! {
    static CACHE_F32: RefCell<BufferCache<f32>> = RefCell::new(BufferCache::default());
    static CACHE_F64: RefCell<BufferCache<f64>> = RefCell::new(BufferCache::default());
}

fn with_cache<T, R>(
    key: &'static std::thread::LocalKey<RefCell<BufferCache<T>>>,
    f: impl FnOnce(&mut BufferCache<T>) -> R,
) -> Option<R> {
    key.try_with(|cell| cell.try_borrow_mut().ok().map(|mut cache| f(&mut cache))).ok().flatten()
}

impl Element for f32 {
    const NAME: &'static str = "f32";

    unsafe fn gemm(
        m: usize,
        k: usize,
        n: usize,
        a: (*const f32, isize, isize),
        b: (*const f32, isize, isize),
        c: *mut f32,
        parallel: bool,
    ) {
        use crate::array::gemm::{Operand, available, sgemm};
        if available() {
            let a = Operand { ptr: a.0, row_stride: a.1, col_stride: a.2 };
            let b = Operand { ptr: b.0, row_stride: b.1, col_stride: b.2 };
            // SAFETY: the caller upholds the contract; the CPU has AVX2 and FMA.
            unsafe { sgemm(m, k, n, a, b, c, n, parallel) }
        } else {
            // SAFETY: as above; matrixmultiply reads any strides.
            unsafe {
                crate::array::blocked_gemm(m, k, n, a, b, c, parallel, |m, k, n, a, b, c| {
                    matrixmultiply::sgemm(m, k, n, 1.0, a.0, a.1, a.2, b.0, b.1, b.2, 0.0, c.0, c.1, c.2)
                })
            }
        }
    }

    fn erf(self) -> f32 {
        libm::erff(self)
    }

    fn tanh_in_place(values: &mut [f32]) {
        crate::array::math::tanh_f32(values);
    }

    fn exp_in_place(values: &mut [f32]) {
        crate::array::math::exp_f32(values);
    }

    fn with_buffer_cache<R>(f: impl FnOnce(&mut BufferCache<f32>) -> R) -> Option<R> {
        with_cache(&CACHE_F32, f)
    }
}

impl Element for f64 {
    const NAME: &'static str = "f64";

    unsafe fn gemm(
        m: usize,
        k: usize,
        n: usize,
        a: (*const f64, isize, isize),
        b: (*const f64, isize, isize),
        c: *mut f64,
        parallel: bool,
    ) {
        // SAFETY: the caller upholds the contract; matrixmultiply reads any strides.
        unsafe {
            crate::array::blocked_gemm(m, k, n, a, b, c, parallel, |m, k, n, a, b, c| {
                matrixmultiply::dgemm(m, k, n, 1.0, a.0, a.1, a.2, b.0, b.1, b.2, 0.0, c.0, c.1, c.2)
            })
        }
    }

    fn erf(self) -> f64 {
        libm::erf(self)
    }

    fn tanh_in_place(values: &mut [f64]) {
        values.iter_mut().for_each(|v| *v = v.tanh());
    }

    fn exp_in_place(values: &mut [f64]) {
        values.iter_mut().for_each(|v| *v = v.exp());
    }

    fn with_buffer_cache<R>(f: impl FnOnce(&mut BufferCache<f64>) -> R) -> Option<R> {
        with_cache(&CACHE_F64, f)
    }
}

/// A constant of any element type, written as an f64 literal: `lit::<T>(0.5)`.
#[inline]
pub fn lit<T: Element>(x: f64) -> T {
    // Every f64 converts to f32 and f64 (possibly rounding, or to infinity).
    T::from_f64(x).expect("every f64 converts to an Element")
}
