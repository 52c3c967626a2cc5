//! Diversity of a set of sequences (LLOME's collapse measure, notes §3.2).

/// Mean pairwise Hamming distance as a fraction of L, over sequences of one length L
/// (0 for fewer than two sequences). Computed from the symbol counts at each position,
/// O(n·L) rather than O(n²·L): at a position where symbol s occurs c_s times, (n² − Σ c_s²)/2
/// of the n(n−1)/2 pairs differ.
pub fn mean_pairwise_hamming(xs: &[Vec<u32>]) -> f64 {
    let n = xs.len();
    if n < 2 {
        return 0.0;
    }
    let l = xs.iter().map(Vec::len).max().unwrap_or(0);
    if l == 0 {
        return 0.0;
    }
    let mut counts: std::collections::HashMap<u32, u64> = std::collections::HashMap::new();
    let mut differing = 0u64;
    for p in 0..l {
        counts.clear();
        let mut present = 0u64;
        for x in xs {
            if let Some(&s) = x.get(p) {
                *counts.entry(s).or_default() += 1;
                present += 1;
            }
        }
        // A sequence too short to have position p differs there from every other.
        let missing = n as u64 - present;
        let same: u64 = counts.values().map(|c| c * (c - 1) / 2).sum();
        differing +=
            (n as u64 * (n as u64 - 1)) / 2 - same - missing * missing.saturating_sub(1) / 2;
    }
    differing as f64 / ((n * (n - 1) / 2) as f64 * l as f64)
}

#[cfg(test)]
mod tests {
    use super::mean_pairwise_hamming;

    fn by_pairs(xs: &[Vec<u32>]) -> f64 {
        let n = xs.len();
        let l = xs[0].len() as f64;
        let mut total = 0usize;
        for i in 0..n {
            for j in i + 1..n {
                total += xs[i].iter().zip(&xs[j]).filter(|(a, b)| a != b).count();
            }
        }
        total as f64 / ((n * (n - 1) / 2) as f64 * l)
    }

    #[test]
    fn counts_agree_with_the_pairwise_definition() {
        let xs: Vec<Vec<u32>> = (0..37u32)
            .map(|i| (0..11u32).map(|p| (i * 7 + p * p * (i % 3)) % 5).collect())
            .collect();
        assert!((mean_pairwise_hamming(&xs) - by_pairs(&xs)).abs() < 1e-15);
        assert_eq!(mean_pairwise_hamming(&xs[..1]), 0.0);
        assert_eq!(mean_pairwise_hamming(&[vec![1, 2], vec![1, 2]]), 0.0);
        assert_eq!(mean_pairwise_hamming(&[vec![1, 2], vec![3, 4]]), 1.0);
    }
}
