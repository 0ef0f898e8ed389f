//! The few numeric kernels the MiniLM forward pass ([`crate::Encoder`]) is
//! made of: a single-threaded fp32 matrix multiply (the `gemm` crate, the
//! same kernels candle uses), layer norm, softmax and exact-erf GELU.
//!
//! Instruction sets are chosen at run time, never at build time, so one
//! binary runs on every x86-64 machine:
//! - `gemm` is built with its `x86-v4` feature; its dispatcher
//!   (`gemm-common` 0.19 `gemm.rs`, `init_gemm_fn`) takes the AVX-512
//!   microkernels only when `is_x86_feature_detected!("avx512f")` says so,
//!   else AVX2+FMA, else scalar, and caches the choice.
//! - The element-wise loops here are written to auto-vectorise and run
//!   inside [`dispatch`], which uses `pulp::Arch::new()` (runtime CPUID
//!   detection: x86-v4 (AVX-512), x86-v3 (AVX2+FMA), else baseline) to call
//!   them from a function compiled for the detected level.

/// Runs `op` compiled for the best instruction set this CPU has.
///
/// `op` must be a type whose `with_simd` is `#[inline(always)]`, and what it
/// calls must be `#[inline(always)]` too: only code inlined into pulp's
/// `#[target_feature]` function is compiled for that level. A closure does
/// not qualify (its body is a function of its own that LLVM may keep out of
/// line, compiled for the baseline): profiling showed the forward pass's
/// element-wise loops running as SSE and scalar code that way.
#[inline(always)]
pub fn dispatch<Op: pulp::WithSimd>(op: Op) -> Op::Output {
    pulp::Arch::new().dispatch(op)
}

/// Accumulators per reduction: one AVX-512 register of f32. Floating-point
/// sums are not reassociated by the compiler, so a plain `iter().sum()` is a
/// chain of scalar adds; summing into this many independent lanes lets the
/// loop vectorise.
const LANES: usize = 16;

/// `Σ f(x)` over a slice, in [`LANES`] independent partial sums.
#[inline(always)]
fn sum_by(x: &[f32], f: impl Fn(f32) -> f32) -> f32 {
    let mut acc = [0.0f32; LANES];
    let chunks = x.chunks_exact(LANES);
    let rest = chunks.remainder();
    for c in chunks {
        for (a, v) in acc.iter_mut().zip(c) {
            *a += f(*v);
        }
    }
    acc.iter().sum::<f32>() + rest.iter().map(|v| f(*v)).sum::<f32>()
}

/// The largest value of a slice (`-inf` when empty; NaN is not expected).
#[inline(always)]
fn max(x: &[f32]) -> f32 {
    let mut acc = [f32::NEG_INFINITY; LANES];
    let chunks = x.chunks_exact(LANES);
    let rest = chunks.remainder();
    for c in chunks {
        for (a, v) in acc.iter_mut().zip(c) {
            *a = if *v > *a { *v } else { *a };
        }
    }
    acc.iter()
        .chain(rest)
        .fold(f32::NEG_INFINITY, |m, v| if *v > m { *v } else { m })
}

/// A read-only strided view of a matrix inside a slice.
#[derive(Debug, Clone, Copy)]
pub struct Mat<'a> {
    /// The backing values; element (r, c) is `data[r * rs + c * cs]`.
    pub data: &'a [f32],
    /// Rows.
    pub rows: usize,
    /// Columns.
    pub cols: usize,
    /// Distance between rows.
    pub rs: usize,
    /// Distance between columns.
    pub cs: usize,
}

impl<'a> Mat<'a> {
    /// A row-major matrix with row stride `rs`.
    pub fn rows(data: &'a [f32], rows: usize, cols: usize, rs: usize) -> Self {
        Self {
            data,
            rows,
            cols,
            rs,
            cs: 1,
        }
    }

    /// Whether every element lies inside `data`.
    fn fits(&self) -> bool {
        self.rows == 0
            || self.cols == 0
            || (self.rows - 1) * self.rs + (self.cols - 1) * self.cs < self.data.len()
    }
}

/// `dst = (accumulate ? dst : 0) + scale * a·b`, single-threaded, where
/// `dst` is row-major `a.rows × b.cols` with row stride `dst_rs`.
///
/// # Panics
/// When a shape does not match or a view reaches outside its slice (a bug
/// in the caller: the checks are what make the call below sound).
#[allow(
    unsafe_code,
    reason = "gemm takes raw pointers; every extent is checked against its slice first"
)]
#[allow(clippy::panic, reason = "a shape mismatch is a programming error")]
pub fn matmul(
    dst: &mut [f32],
    dst_rs: usize,
    a: Mat<'_>,
    b: Mat<'_>,
    accumulate: bool,
    scale: f32,
) {
    let (m, k, n) = (a.rows, a.cols, b.cols);
    if a.cols != b.rows
        || !a.fits()
        || !b.fits()
        || (m > 0 && n > 0 && (m - 1) * dst_rs + n > dst.len())
    {
        panic!(
            "matmul shapes: {m}x{k} (rs {}, cs {}, len {}) by {}x{n} (rs {}, cs {}, len {}) into rs {dst_rs} len {}",
            a.rs,
            a.cs,
            a.data.len(),
            b.rows,
            b.rs,
            b.cs,
            b.data.len(),
            dst.len()
        );
    }
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            for r in 0..m {
                dst[r * dst_rs..r * dst_rs + n].fill(0.0);
            }
        }
        return;
    }
    // SAFETY: the checks above keep every element gemm reads (a, b) or
    // writes (dst, rows `m` of `n` values `dst_rs` apart) inside its slice;
    // `dst` is borrowed mutably, so it overlaps neither input.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            dst_rs as isize,
            accumulate,
            a.data.as_ptr(),
            a.cs as isize,
            a.rs as isize,
            b.data.as_ptr(),
            b.cs as isize,
            b.rs as isize,
            1.0,
            scale,
            false,
            false,
            false,
            gemm::Parallelism::None,
        );
    }
}

/// Layer norm of one row in place: `(x - mean) / sqrt(var + eps) * g + b`.
#[inline(always)]
pub fn layer_norm(x: &mut [f32], g: &[f32], b: &[f32], eps: f32) {
    let n = x.len() as f32;
    let mean = sum_by(x, |v| v) / n;
    let var = sum_by(x, |v| (v - mean) * (v - mean)) / n;
    let inv = 1.0 / (var + eps).sqrt();
    for ((v, g), b) in x.iter_mut().zip(g).zip(b) {
        *v = (*v - mean) * inv * g + b;
    }
}

/// `e^x`, branch-free so that loops over it vectorise: range reduction by
/// ln 2 and a degree-6 polynomial (relative error about 2e-7); inputs are
/// clamped to the normal range.
#[inline(always)]
pub fn exp(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    const ROUND: f32 = 12_582_912.0; // 1.5 × 2^23: adding it rounds to an integer
    let x = if x < -87.0 { -87.0 } else { x };
    let x = if x > 88.0 { 88.0 } else { x };
    let t = x * LOG2E + ROUND;
    let n = t - ROUND;
    let r = x - n * LN2_HI - n * LN2_LO;
    let p = 1.0
        + r * (1.0
            + r * (0.5
                + r * (1.0 / 6.0 + r * (1.0 / 24.0 + r * (1.0 / 120.0 + r * (1.0 / 720.0))))));
    // `t`'s bits are ROUND's plus n (its last place is 1 there), so 2^n is
    // built with integer adds alone; a float-to-int `as` cast saturates and
    // maps NaN to 0, which kept this loop scalar.
    let n_bits = t.to_bits().wrapping_sub(ROUND.to_bits());
    f32::from_bits(n_bits.wrapping_add(127) << 23) * p
}

/// Softmax of one row in place.
#[inline(always)]
pub fn softmax(x: &mut [f32]) {
    let max = max(x);
    let mut acc = [0.0f32; LANES];
    let mut chunks = x.chunks_exact_mut(LANES);
    for c in &mut chunks {
        for (a, v) in acc.iter_mut().zip(c.iter_mut()) {
            *v = exp(*v - max);
            *a += *v;
        }
    }
    let mut sum = acc.iter().sum::<f32>();
    for v in chunks.into_remainder() {
        *v = exp(*v - max);
        sum += *v;
    }
    let inv = 1.0 / sum;
    for v in x.iter_mut() {
        *v *= inv;
    }
}

/// The error function, as a branch-free rational approximation (the one
/// Eigen and XLA use; absolute error under 1e-7 over all of f32).
#[inline(always)]
pub fn erf(x: f32) -> f32 {
    let x = if x < -4.0 { -4.0 } else { x };
    let x = if x > 4.0 { 4.0 } else { x };
    let x2 = x * x;
    let mut p = -2.726_142_3e-10_f32;
    p = p * x2 + 2.770_681_4e-8;
    p = p * x2 - 2.101_024e-6;
    p = p * x2 - 5.692_506_4e-5;
    p = p * x2 - 7.349_906_3e-4;
    p = p * x2 - 2.954_6e-3;
    p = p * x2 - 1.609_603_3e-2;
    let mut q = -1.456_607_2e-5_f32;
    q = q * x2 - 2.133_740_6e-4;
    q = q * x2 - 1.682_827e-3;
    q = q * x2 - 7.373_329e-3;
    q = q * x2 - 1.426_474e-2;
    x * p / q
}

/// GELU with the exact erf form BERT was trained with, in place.
#[inline(always)]
pub fn gelu(x: &mut [f32]) {
    const FRAC_1_SQRT_2: f32 = std::f32::consts::FRAC_1_SQRT_2;
    for v in x.iter_mut() {
        *v = 0.5 * *v * (1.0 + erf(*v * FRAC_1_SQRT_2));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// erf by its Maclaurin series: exact to f64 rounding for |x| <= 3.
    fn erf64(x: f64) -> f64 {
        let mut sum = 0.0;
        let mut term = x;
        let mut n = 0.0;
        while term.abs() > 1e-17 {
            sum += term / (2.0 * n + 1.0);
            n += 1.0;
            term *= -x * x / n;
        }
        sum * 2.0 / std::f64::consts::PI.sqrt()
    }

    #[test]
    fn erf_and_exp_are_accurate() {
        for i in -3000..=3000 {
            let x = i as f32 / 1000.0;
            let e = (erf(x) as f64 - erf64(x as f64)).abs();
            // A few f32 ulps: 0.5 · (1 + erf) in GELU needs no better.
            assert!(e < 1e-6, "erf({x}) off by {e}");
        }
        // Beyond 3, erf is within 2.3e-5 of ±1.
        for i in 3000..=9000 {
            let x = i as f32 / 1000.0;
            assert!(
                (erf(x) - 1.0).abs() < 2.3e-5 && erf(-x) == -erf(x),
                "erf({x})"
            );
        }
        for i in -8000..=8000 {
            let x = i as f32 / 100.0;
            let want = (x as f64).exp();
            let rel = ((exp(x) as f64 - want) / want).abs();
            assert!(rel < 1e-6, "exp({x}) off by {rel}");
        }
    }

    #[test]
    fn matmul_matches_a_naive_product_with_strides_and_accumulation() {
        let a: Vec<f32> = (0..12).map(|v| v as f32).collect(); // 3x4
        let b: Vec<f32> = (0..8).map(|v| (v as f32) * 0.5).collect(); // 4x2
        let mut dst = vec![1.0f32; 3 * 5];
        matmul(
            &mut dst,
            5,
            Mat::rows(&a, 3, 4, 4),
            Mat::rows(&b, 4, 2, 2),
            true,
            2.0,
        );
        for r in 0..3 {
            for c in 0..2 {
                let want: f32 =
                    1.0 + 2.0 * (0..4).map(|k| a[r * 4 + k] * b[k * 2 + c]).sum::<f32>();
                assert_eq!(dst[r * 5 + c], want);
            }
            assert_eq!(dst[r * 5 + 2], 1.0);
        }
        // b transposed through its strides.
        let bt = Mat {
            data: &a,
            rows: 4,
            cols: 3,
            rs: 1,
            cs: 4,
        };
        let mut out = vec![0.0f32; 9];
        matmul(&mut out, 3, Mat::rows(&a, 3, 4, 4), bt, false, 1.0);
        assert_eq!(out[1], (0..4).map(|k| a[k] * a[4 + k]).sum::<f32>());
    }

    /// Rows of many lengths, so the lane-wise reductions meet full
    /// registers, remainders and both; compared with float64 arithmetic.
    #[test]
    fn softmax_and_layer_norm_match_float64_at_every_length() {
        for n in [1usize, 7, 16, 17, 33, 76, 128, 384] {
            let x: Vec<f32> = (0..n)
                .map(|i| ((i * 37 % 101) as f32 - 50.0) / 7.0)
                .collect();
            let max = x
                .iter()
                .copied()
                .fold(f64::NEG_INFINITY, |m, v| m.max(v as f64));
            let e: Vec<f64> = x.iter().map(|v| (*v as f64 - max).exp()).collect();
            let total: f64 = e.iter().sum();
            let mut got = x.clone();
            dispatch(|| softmax(&mut got));
            for (g, w) in got.iter().zip(&e) {
                assert!((*g as f64 - w / total).abs() < 1e-6, "softmax, length {n}");
            }

            let mean = x.iter().map(|v| *v as f64).sum::<f64>() / n as f64;
            let var = x.iter().map(|v| (*v as f64 - mean).powi(2)).sum::<f64>() / n as f64;
            let (g, b) = (vec![1.5f32; n], vec![0.25f32; n]);
            let mut got = x.clone();
            dispatch(|| layer_norm(&mut got, &g, &b, 1e-12));
            for (v, x) in got.iter().zip(&x) {
                let want = (*x as f64 - mean) / (var + 1e-12).sqrt() * 1.5 + 0.25;
                assert!((*v as f64 - want).abs() < 1e-4, "layer norm, length {n}");
            }
        }
        // exp saturates instead of overflowing or going to NaN.
        assert!(exp(-1e9) > 0.0 && exp(1e9).is_finite());
    }

    #[test]
    fn softmax_and_layer_norm_behave() {
        let mut x = [1.0f32, 2.0, 3.0];
        dispatch(|| softmax(&mut x));
        assert!((x.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        assert!(x[2] > x[1] && x[1] > x[0]);
        let mut y = [1.0f32, 3.0];
        layer_norm(&mut y, &[1.0, 1.0], &[0.0, 0.0], 1e-12);
        assert!((y[0] + 1.0).abs() < 1e-5 && (y[1] - 1.0).abs() < 1e-5);
    }
}
