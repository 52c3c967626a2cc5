//! Pair construction and the label budget.

use std::collections::HashSet;

use ansatz_llome::pairs::{
    Labelled, PairConfig, build_pairs, build_triples, hamming, mean_pairwise_hamming,
    seeds_from_pairs, select_for_labelling,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Random sequences around a few centres, some infeasible, with duplicates.
fn data(seed: u64) -> Vec<Labelled> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut out = Vec::new();
    for c in 0..4u32 {
        let centre: Vec<u32> = (0..16).map(|i| (i + c * 3) % 8).collect();
        for _ in 0..40 {
            let mut x = centre.clone();
            for _ in 0..rng.random_range(0..5) {
                let p = rng.random_range(0..16);
                x[p] = rng.random_range(0..8);
            }
            let value = if rng.random::<f64>() < 0.3 {
                f64::NEG_INFINITY
            } else {
                f64::from(rng.random_range(0..5u32)) / 4.0
            };
            out.push(Labelled {
                x: x.clone(),
                value,
            });
            if rng.random::<f64>() < 0.1 {
                out.push(Labelled { x, value });
            }
        }
    }
    out
}

#[test]
fn pairs_are_close_ordered_distinct_and_mostly_feasible() {
    for seed in 0..5 {
        let d = data(seed);
        let cfg = PairConfig::default();
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let pairs = build_pairs(&d, &cfg, &mut rng);
        assert!(pairs.len() > 50, "{}", pairs.len());
        let mut keys = HashSet::new();
        let mut infeasible = 0;
        for p in &pairs {
            assert!(hamming(&p.x, &p.y) <= 4, "pairs within 0.25·L");
            assert!(p.fx < p.fy, "ordered (worse, better), no ties");
            assert!(
                p.fy.is_finite(),
                "the better member of a pair is feasible here"
            );
            assert!(p.reward() >= 0.0);
            assert!(keys.insert((p.x.clone(), p.y.clone())), "no repeated pair");
            if !p.fx.is_finite() {
                infeasible += 1;
            }
        }
        assert!(infeasible as f64 <= 0.1 * pairs.len() as f64 + 1e-9);
        // deterministic for the rng seed
        let again = build_pairs(&d, &cfg, &mut ChaCha8Rng::seed_from_u64(seed));
        assert_eq!(pairs, again);
        // the cap
        let capped = build_pairs(
            &d,
            &PairConfig {
                max_pairs: 7,
                ..cfg
            },
            &mut rng,
        );
        assert_eq!(capped.len(), 7);
    }
}

#[test]
fn triples_have_a_better_chosen_and_a_not_better_rejected() {
    let d = data(7);
    let value = |x: &[u32]| d.iter().find(|l| l.x == x).map(|l| l.value).expect("known");
    let t = build_triples(
        &d,
        &PairConfig::default(),
        &mut ChaCha8Rng::seed_from_u64(0),
    );
    assert!(!t.is_empty());
    for tr in &t {
        assert!(value(&tr.chosen) > value(&tr.x));
        assert!(value(&tr.rejected) <= value(&tr.x));
        assert!(hamming(&tr.x, &tr.chosen) <= 4 && hamming(&tr.x, &tr.rejected) <= 4);
    }
}

#[test]
fn seeds_are_the_best_targets() {
    let d = data(3);
    let pairs = build_pairs(
        &d,
        &PairConfig::default(),
        &mut ChaCha8Rng::seed_from_u64(0),
    );
    let seeds = seeds_from_pairs(&pairs, 5);
    let best = pairs.iter().map(|p| p.fy).fold(f64::NEG_INFINITY, f64::max);
    let first = pairs
        .iter()
        .find(|p| p.y == seeds[0])
        .expect("seed from a pair");
    assert_eq!(first.fy, best);
}

#[test]
fn labelling_respects_budget_quantile_and_known() {
    let cands: Vec<(Vec<u32>, f64)> = (0..100u32)
        .map(|i| (vec![i, i + 1], -f64::from(i) / 10.0))
        .collect();
    let mut known = HashSet::new();
    known.insert(vec![0u32, 1]);
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let all = select_for_labelling(&cands, &known, 0.6, 1000, &mut rng);
    // 99 new candidates; the 60th percentile keeps the most likely 40
    assert_eq!(all.len(), 40);
    assert!(!all.contains(&vec![0, 1]));
    assert!(all.iter().all(|x| x[0] <= 40));
    let some = select_for_labelling(&cands, &known, 0.6, 10, &mut rng);
    assert_eq!(some.len(), 10);
    assert_eq!(some.iter().collect::<HashSet<_>>().len(), 10);
}

#[test]
fn diversity_is_a_fraction() {
    assert_eq!(mean_pairwise_hamming(&[vec![1, 2], vec![1, 2]]), 0.0);
    assert_eq!(mean_pairwise_hamming(&[vec![1, 2], vec![3, 4]]), 1.0);
    assert_eq!(
        mean_pairwise_hamming(&[vec![1, 2], vec![1, 4], vec![1, 2]]),
        1.0 / 3.0
    );
}
