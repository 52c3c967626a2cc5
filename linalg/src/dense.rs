//! A small dense linear solve (normal equations of least squares, Gauss–Newton steps).

/// Solves `a x = b` for an `n × n` row-major `a` (`n = b.len()`) by Gaussian elimination
/// with partial pivoting. `None` when a pivot is at most `tiny` in magnitude (the system is
/// singular at that scale) or the solution is not finite.
pub fn solve_dense(mut a: Vec<f64>, mut b: Vec<f64>, tiny: f64) -> Option<Vec<f64>> {
    let n = b.len();
    if a.len() != n * n {
        return None;
    }
    for col in 0..n {
        let pivot =
            (col..n).max_by(|&i, &j| a[i * n + col].abs().total_cmp(&a[j * n + col].abs()))?;
        if a[pivot * n + col].abs() <= tiny {
            return None;
        }
        if pivot != col {
            for k in 0..n {
                a.swap(pivot * n + k, col * n + k);
            }
            b.swap(pivot, col);
        }
        for row in col + 1..n {
            let f = a[row * n + col] / a[col * n + col];
            for k in col..n {
                a[row * n + k] -= f * a[col * n + k];
            }
            b[row] -= f * b[col];
        }
    }
    let mut x = vec![0.0; n];
    for row in (0..n).rev() {
        let s: f64 = (row + 1..n).map(|k| a[row * n + k] * x[k]).sum();
        x[row] = (b[row] - s) / a[row * n + row];
    }
    x.iter().all(|v| v.is_finite()).then_some(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_regular_system_is_solved_and_a_singular_one_refused() {
        let a = vec![0.0, 1.0, 0.0, 4.0, 1.0, 2.0, 0.0, 1.0, 2.0];
        let b = vec![1.0, 2.0, 3.0];
        let x = solve_dense(a.clone(), b.clone(), 0.0).expect("regular");
        for row in 0..3 {
            let ax: f64 = (0..3).map(|k| a[row * 3 + k] * x[k]).sum();
            assert!((ax - b[row]).abs() < 1e-12);
        }
        assert_eq!(
            solve_dense(vec![1.0, 2.0, 2.0, 4.0], vec![1.0, 1.0], 1e-12),
            None
        );
        assert_eq!(solve_dense(vec![1e-20], vec![1.0], 1e-12), None);
        assert_eq!(solve_dense(vec![1e-20], vec![1.0], 0.0), Some(vec![1e20]));
        assert_eq!(
            solve_dense(vec![1.0, 2.0], vec![1.0, 1.0], 0.0),
            None,
            "not square"
        );
    }
}
