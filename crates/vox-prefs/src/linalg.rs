//! Small dense linear algebra for the Newton solvers: Cholesky factorisation, solves and inverses
//! of symmetric positive-definite matrices (row-major `n × n`, n up to a few hundred).

/// A lower-triangular Cholesky factor `L` with `A = L Lᵀ`, row-major `n × n`.
#[derive(Debug, Clone)]
pub(crate) struct Cholesky {
    n: usize,
    l: Vec<f64>,
}

impl Cholesky {
    /// Factorises a symmetric positive-definite matrix; `None` if it is not positive definite.
    pub(crate) fn new(a: &[f64], n: usize) -> Option<Cholesky> {
        debug_assert_eq!(a.len(), n * n);
        let mut l = vec![0.0; n * n];
        for i in 0..n {
            for j in 0..=i {
                let mut sum = a[i * n + j];
                let (ri, rj) = (&l[i * n..i * n + j], &l[j * n..j * n + j]);
                for k in 0..j {
                    sum -= ri[k] * rj[k];
                }
                if i == j {
                    if sum <= 0.0 || !sum.is_finite() {
                        return None;
                    }
                    l[i * n + i] = sum.sqrt();
                } else {
                    l[i * n + j] = sum / l[j * n + j];
                }
            }
        }
        Some(Cholesky { n, l })
    }

    /// Solves `A x = b` in place.
    pub(crate) fn solve_in_place(&self, b: &mut [f64]) {
        let (n, l) = (self.n, &self.l);
        for i in 0..n {
            let mut sum = b[i];
            for k in 0..i {
                sum -= l[i * n + k] * b[k];
            }
            b[i] = sum / l[i * n + i];
        }
        for i in (0..n).rev() {
            let mut sum = b[i];
            for k in i + 1..n {
                sum -= l[k * n + i] * b[k];
            }
            b[i] = sum / l[i * n + i];
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
