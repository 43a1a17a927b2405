//! Small dense linear algebra for the Newton solvers: Cholesky factorisation, solves and inverses
//! of symmetric positive-definite matrices (row-major `n × n`, n up to a few hundred); and the
//! truncated exponential series that the bootstrap's hot loops evaluate instead of `exp`.

/// The Cholesky factor of `A = Uᵀ U`, kept as the upper-triangular `U`, row-major `n × n`
/// (the strict lower triangle is scratch). Upper rather than lower so that the factorisation's
/// trailing updates and both solves run along contiguous rows, which vectorise.
#[derive(Debug, Clone)]
pub(crate) struct Cholesky {
    n: usize,
    u: Vec<f64>,
    /// `1 / U[k][k]`.
    inv_diag: Vec<f64>,
}

impl Cholesky {
    /// Factorises a symmetric positive-definite matrix (right-looking: each pivot row is scaled,
    /// then subtracted from the trailing rows); `None` if it is not positive definite.
    pub(crate) fn new(a: &[f64], n: usize) -> Option<Cholesky> {
        debug_assert_eq!(a.len(), n * n);
        let mut u = a.to_vec();
        let mut inv_diag = vec![0.0; n];
        for k in 0..n {
            let pivot = u[k * n + k];
            if pivot <= 0.0 || !pivot.is_finite() {
                return None;
            }
            let d = pivot.sqrt();
            let inv = 1.0 / d;
            inv_diag[k] = inv;
            let (head, trailing) = u.split_at_mut((k + 1) * n);
            let row_k = &mut head[k * n + k..];
            row_k[0] = d;
            row_k[1..].iter_mut().for_each(|x| *x *= inv);
            let row_k = &row_k[1..];
            // Row i > k of the trailing matrix loses U[k][i] · U[k][k+1..]. Only its columns
            // from i on matter, but updating all of k+1.. (the strict lower part is scratch)
            // gives every row of this k the same length, so the loop's exit is predicted
            // instead of mispredicted once per row; the extra multiply-adds are cheaper.
            for (r, &uki) in row_k.iter().enumerate() {
                let row_i = &mut trailing[r * n + k + 1..(r + 1) * n];
                for (x, &ukj) in row_i.iter_mut().zip(row_k) {
                    *x -= uki * ukj;
                }
            }
        }
        Some(Cholesky { n, u, inv_diag })
    }

    /// Solves `A x = b` in place: `Uᵀ y = b` by columns of `U` (rows in memory), then `U x = y`.
    pub(crate) fn solve_in_place(&self, b: &mut [f64]) {
        let (n, u) = (self.n, &self.u);
        for k in 0..n {
            b[k] *= self.inv_diag[k];
            let (done, rest) = b.split_at_mut(k + 1);
            let bk = done[k];
            for (x, &ukj) in rest.iter_mut().zip(&u[k * n + k + 1..(k + 1) * n]) {
                *x -= ukj * bk;
            }
        }
        for i in (0..n).rev() {
            let sum = b[i] - dot(&u[i * n + i + 1..(i + 1) * n], &b[i + 1..]);
            b[i] = sum * self.inv_diag[i];
        }
    }

    /// The inverse `A⁻¹`, row-major.
    pub(crate) fn inverse(&self) -> Vec<f64> {
        let n = self.n;
        let mut inv = vec![0.0; n * n];
        let mut col = vec![0.0; n];
        for j in 0..n {
            col.iter_mut().for_each(|x| *x = 0.0);
            col[j] = 1.0;
            self.solve_in_place(&mut col);
            for i in 0..n {
                inv[i * n + j] = col[i];
            }
        }
        inv
    }
}

/// 1/n! for n = 0..=13.
const INVERSE_FACTORIALS: [f64; 14] = [
    1.0,
    1.0,
    1.0 / 2.0,
    1.0 / 6.0,
    1.0 / 24.0,
    1.0 / 120.0,
    1.0 / 720.0,
    1.0 / 5_040.0,
    1.0 / 40_320.0,
    1.0 / 362_880.0,
    1.0 / 3_628_800.0,
    1.0 / 39_916_800.0,
    1.0 / 479_001_600.0,
    1.0 / 6_227_020_800.0,
];

/// eˣ by its Taylor polynomial of degree `DEGREE` ≤ 13 (Horner, one fused multiply-add per
/// term; no branch or call, so loops of it vectorise). Accurate only for small |x|: the
/// truncation error is about |x|^(DEGREE+1)/(DEGREE+1)!.
#[inline(always)]
pub(crate) fn exp_taylor<const DEGREE: usize>(x: f64) -> f64 {
    INVERSE_FACTORIALS[..=DEGREE]
        .iter()
        .rev()
        .fold(0.0, |acc, &c| acc.mul_add(x, c))
}

/// `Σ aₖbₖ` with four independent partial sums, so that the additions pipeline instead of
/// waiting on one another.
fn dot(a: &[f64], b: &[f64]) -> f64 {
    let mut acc = [0.0; 4];
    let (a4, b4) = (a.chunks_exact(4), b.chunks_exact(4));
    let tail: f64 = a4
        .remainder()
        .iter()
        .zip(b4.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in a4.zip(b4) {
        for k in 0..4 {
            acc[k] += x[k] * y[k];
        }
    }
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}

/// `A B` for row-major square matrices.
pub(crate) fn matmul(a: &[f64], b: &[f64], n: usize) -> Vec<f64> {
    let mut c = vec![0.0; n * n];
    for i in 0..n {
        for k in 0..n {
            let aik = a[i * n + k];
            if aik == 0.0 {
                continue;
            }
            for j in 0..n {
                c[i * n + j] += aik * b[k * n + j];
            }
        }
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn solves_and_inverts_a_small_spd_matrix() {
        let a = [4.0, 2.0, 0.6, 2.0, 2.0, 0.5, 0.6, 0.5, 3.0];
        let chol = Cholesky::new(&a, 3).unwrap();
        let mut x = [1.0, 2.0, 3.0];
        chol.solve_in_place(&mut x);
        for i in 0..3 {
            let ax: f64 = (0..3).map(|k| a[i * 3 + k] * x[k]).sum();
            assert!((ax - [1.0, 2.0, 3.0][i]).abs() < 1e-12);
        }
        let id = matmul(&a, &chol.inverse(), 3);
        for i in 0..3 {
            for j in 0..3 {
                let want = if i == j { 1.0 } else { 0.0 };
                assert!((id[i * 3 + j] - want).abs() < 1e-12);
            }
        }
        assert!(Cholesky::new(&[1.0, 2.0, 2.0, 1.0], 2).is_none());
    }
}
