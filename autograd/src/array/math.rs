//! Transcendental functions written so that loops over them vectorize.
//!
//! libm's `tanhf` is a scalar call with branches (about 75 instructions an element); a
//! tanh layer or a chain of small ops spent most of its time there. The versions below are
//! straight-line code (both ranges computed, one selected), so a loop over a slice becomes
//! SIMD; tanh stays within 2 ulp of the exact value over all of f32, exp within 1 (see the
//! tests). exp is softmax's and cross-entropy's: libm's `expf`, a call per element, was
//! most of a 64 × 10 log_softmax (BENCHMARKS.md, W1).

/// tanh of every element, in place.
pub(crate) fn tanh_f32(values: &mut [f32]) {
    for v in values {
        *v = tanh(*v);
    }
}

/// e^x of every element, in place.
pub(crate) fn exp_f32(values: &mut [f32]) {
    for v in values {
        *v = exp(*v);
    }
}

/// e^x for one f32 over its whole range: 0 below −104 (where e^x rounds to 0), infinity
/// above 89, NaN for NaN; in between [`exp_reduced`]'s reduction and series, times 2ⁿ applied
/// as two halves so that results near the largest float and the subnormal ones come out
/// right (2ⁿ alone would overflow or lose its bits).
#[inline(always)]
fn exp(x: f32) -> f32 {
    let clamped = x.clamp(-104.0, 89.0); // NaN stays NaN
    let (p, n) = exp_reduced(clamped);
    // n in [−150, 129]: two factors 2^(n/2) and 2^(n − n/2), each a normal float.
    let half = n >> 1;
    let scale = |e: i32| f32::from_bits((e.wrapping_add(127) as u32) << 23);
    p * scale(half) * scale(n.wrapping_sub(half))
}

/// tanh(x) for one f32: an odd polynomial near 0, 1 − 2/(e^{2|x|} + 1) elsewhere.
#[inline(always)]
fn tanh(x: f32) -> f32 {
    // tanh is odd: compute at |x|, then give the result x's sign (−0 stays −0).
    let a = x.abs();
    // |x| < 0.625: tanh a = a + a³·P(a²), P fitted for least relative error (0.8 ulp).
    let z = a * a;
    let p = (((-0.005_704_984_4 * z + 0.020_639_085) * z - 0.053_739_715) * z + 0.133_314_42) * z - 0.333_332_8;
    let near_zero = a + a * z * p;
    // Beyond 10, tanh rounds to 1 in f32; clamping keeps e^{2a} finite (a NaN stays NaN).
    let clamped = if a > 10.0 { 10.0 } else { a };
    let far = 1.0 - 2.0 / (exp_0_20(2.0 * clamped) + 1.0);
    (if a < 0.625 { near_zero } else { far }).copysign(x)
}

/// e^y for y in [0, 20] (or NaN).
#[inline(always)]
fn exp_0_20(y: f32) -> f32 {
    let (p, n) = exp_reduced(y);
    // n is in [0, 29] (or anything for NaN).
    p * f32::from_bits((n.wrapping_add(127) as u32) << 23)
}

/// e^y = p·2ⁿ for |y| ≤ 104 (or NaN): y = n·ln 2 + r with |r| ≤ ln 2 / 2, p = e^r by its
/// Taylor series to r⁷ (error below 1e-8 relative).
#[inline(always)]
fn exp_reduced(y: f32) -> (f32, i32) {
    const ROUND: f32 = 12_582_912.0; // 1.5·2²³: adding and subtracting it rounds to an integer
    let rounded = y * std::f32::consts::LOG2_E + ROUND;
    let n = rounded - ROUND;
    let r = (y - n * 0.693_145_75) - n * 1.428_606_8e-6; // ln 2 split in two for exactness
    // 1 + (r + r²·(…)) rather than 1 + r·(1 + r·(…)): the small part summed first, then
    // rounded once against 1 (worst case 1.16 ulp before, see the tests).
    let q =
        r * r * (0.5 + r * (1.0 / 6.0 + r * (1.0 / 24.0 + r * (1.0 / 120.0 + r * (1.0 / 720.0 + r * (1.0 / 5040.0))))));
    // The integer is also in the low bits of `rounded` (its exponent is fixed): read there,
    // because `n as i32` (saturating, NaN to 0) would not vectorize. NaN gives any n, and
    // p is NaN then anyway.
    (1.0 + (r + q), (rounded.to_bits() as i32).wrapping_sub(ROUND.to_bits() as i32))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Distance in units in the last place of `exact` (rounded to f32).
    fn ulps(got: f32, exact: f64) -> f64 {
        let rounded = exact as f32;
        let ulp = (f32::from_bits(rounded.abs().to_bits() + 1) - rounded.abs()) as f64;
        (got as f64 - exact).abs() / ulp
    }

    /// The largest distance in ulps of `f` from `exact` over every 251st bit pattern of
    /// f32 (17 million values, both signs, subnormals to infinity), and where it is.
    /// NaN must give NaN, and where the exact value rounds to 0 or ±∞ so must `f`.
    fn worst_ulps(f: fn(&mut [f32]), exact: fn(f64) -> f64) -> (f64, f32) {
        let mut values: Vec<f32> = (0..=u32::MAX / 251).map(|i| f32::from_bits(i * 251)).collect();
        let inputs = values.clone();
        f(&mut values);
        let mut worst = (0.0, 0.0f32);
        for (&x, &y) in inputs.iter().zip(&values) {
            if x.is_nan() {
                assert!(y.is_nan(), "f(NaN) = {y}");
                continue;
            }
            let exact = exact(x as f64);
            if (exact as f32).is_infinite() || exact as f32 == 0.0 {
                assert_eq!(y, exact as f32, "f({x:e}) rounds to {}", exact as f32);
                continue;
            }
            let e = ulps(y, exact);
            if e > worst.0 {
                worst = (e, x);
            }
        }
        worst
    }

    #[test]
    fn tanh_is_within_two_ulp_over_all_of_f32() {
        let (e, x) = worst_ulps(tanh_f32, f64::tanh);
        assert!(e <= 2.0, "tanh is {e} ulp off at x = {x:e}");
    }

    #[test]
    fn exp_is_within_one_ulp_over_all_of_f32() {
        let (e, x) = worst_ulps(exp_f32, f64::exp);
        assert!(e <= 1.0, "exp is {e} ulp off at x = {x:e}");
    }

    #[test]
    fn exp_at_the_edges_of_its_range() {
        let mut v =
            [0.0f32, -0.0, f32::INFINITY, f32::NEG_INFINITY, f32::NAN, 88.72, 88.73, -87.0, -103.0, -104.5, 1.0];
        exp_f32(&mut v);
        assert_eq!((v[0], v[1], v[2], v[3]), (1.0, 1.0, f32::INFINITY, 0.0));
        assert!(v[4].is_nan());
        assert!(v[5].is_finite() && ulps(v[5], (88.72f32 as f64).exp()) <= 1.0, "just below overflow: {}", v[5]);
        assert_eq!(v[6], f32::INFINITY);
        assert!(ulps(v[7], (-87.0f64).exp()) <= 1.0, "smallest normals");
        assert!(v[8] > 0.0 && ulps(v[8], (-103.0f64).exp()) <= 1.0, "subnormal: {:e}", v[8]);
        assert_eq!(v[9], 0.0);
        assert_eq!(v[10], std::f32::consts::E);
    }

    #[test]
    fn tanh_keeps_signed_zeros_infinities_and_nan() {
        let mut v = [0.0f32, -0.0, f32::INFINITY, f32::NEG_INFINITY, f32::NAN, 1e-30, -1e-30, 9.02, 0.625];
        tanh_f32(&mut v);
        assert_eq!(v[0].to_bits(), 0.0f32.to_bits());
        assert_eq!(v[1].to_bits(), (-0.0f32).to_bits());
        assert_eq!((v[2], v[3]), (1.0, -1.0));
        assert!(v[4].is_nan());
        assert_eq!((v[5], v[6]), (1e-30, -1e-30));
        assert_eq!(v[7], 1.0);
        assert!(ulps(v[8], 0.625f64.tanh()) <= 2.0, "at the switch between the two ranges");
    }
}
