//! Invariants of instances sampled by this crate (notes §1.2).

use ansatz_ehrlich::{Ehrlich, EhrlichError};

#[test]
fn generated_instances_satisfy_invariants() {
    let configs = [
        (32, 32, 2, 4, 4),
        (32, 128, 4, 4, 4),
        (8, 128, 8, 8, 8),
        (20, 10, 2, 3, 3),
        (4, 8, 1, 2, 2),
        (32, 16, 4, 4, 2),
    ];
    let mut built = 0;
    for (v, l, c, k, q) in configs {
        for seed in 0..8u64 {
            let f = match Ehrlich::generate(v, l, c, k, q, seed) {
                Ok(f) => f,
                Err(EhrlichError::NotPrimitive) => continue,
                Err(e) => panic!("({v},{l},{c},{k},{q}) seed {seed}: {e}"),
            };
            built += 1;
            let ctx = format!("({v},{l},{c},{k},{q}) seed {seed}");
            let t = f.transition_matrix().expect("T known");
            for i in 0..v {
                let s: f64 = t[i * v..(i + 1) * v].iter().sum();
                assert!((s - 1.0).abs() < 1e-12, "{ctx}: row {i} sums to {s}");
                assert!(!f.is_banned(i as u32, i as u32), "{ctx}: self-loop {i}");
                let b = (0.4 * v as f64) as usize;
                let banned = (0..v).filter(|&j| f.is_banned(i as u32, j as u32)).count();
                let lo = v.saturating_sub(2 * b + 1).saturating_sub(1);
                assert!(
                    banned >= lo && banned <= v.saturating_sub(2 * b + 1),
                    "{ctx}"
                );
            }
            for m in f.motifs() {
                assert!(f.is_feasible(m), "{ctx}: motif {m:?} infeasible");
            }
            for o in f.offsets() {
                assert!((o[k - 1] + 1) * c <= l, "{ctx}: span exceeds L/c");
            }
            let opt = f.optimal_solution();
            assert_eq!(f.evaluate(&opt), Ok(1.0), "{ctx}");
            let init = f.evaluate(f.initial_solution()).expect("valid");
            assert!(init.is_finite() && init >= 0.0, "{ctx}: initial {init}");
            let again = Ehrlich::generate(v, l, c, k, q, seed).expect("deterministic");
            assert_eq!(again, f, "{ctx}: not deterministic");
        }
    }
    assert!(built >= 40, "only {built} instances built");
}

#[test]
fn impossible_parameters_are_typed_errors() {
    assert_eq!(
        Ehrlich::generate(32, 2, 1, 8, 8, 0),
        Err(EhrlichError::TooShort {
            dim: 2,
            num_motifs: 1,
            motif_length: 8,
            needed: 8
        })
    );
    assert!(matches!(
        Ehrlich::generate(32, 16, 4, 8, 8, 0),
        Err(EhrlichError::TooShort { .. })
    ));
    assert_eq!(
        Ehrlich::generate(32, 16, 4, 1, 1, 0),
        Err(EhrlichError::MotifTooShort(1))
    );
    assert_eq!(
        Ehrlich::generate(32, 16, 4, 4, 0, 0),
        Err(EhrlichError::ZeroQuantization)
    );
    assert_eq!(
        Ehrlich::generate(0, 16, 4, 4, 4, 0),
        Err(EhrlichError::ZeroStates)
    );
    assert_eq!(
        Ehrlich::generate(32, 16, 0, 4, 4, 0),
        Err(EhrlichError::NoMotifs)
    );
    let msg = Ehrlich::generate(32, 2, 1, 8, 8, 0)
        .expect_err("too short")
        .to_string();
    assert!(msg.contains("L = 2") && msg.contains("c*k = 8"), "{msg}");
}

#[test]
fn q_not_dividing_k_caps_the_optimum() {
    let f = Ehrlich::generate(8, 64, 2, 8, 3, 1).expect("builds");
    assert!(!f.optimum_reachable());
    assert_eq!(f.evaluate(&f.optimal_solution()), Ok(0.75 * 0.75));
}

#[test]
fn wrong_input_is_an_error_not_a_panic() {
    let f = Ehrlich::generate(32, 32, 2, 4, 4, 0).expect("builds");
    assert_eq!(
        f.evaluate(&[0; 5]),
        Err(EhrlichError::WrongLength {
            got: 5,
            expected: 32
        })
    );
    let mut x = f.optimal_solution();
    x[3] = 99;
    assert!(matches!(
        f.evaluate(&x),
        Err(EhrlichError::SymbolOutOfRange { position: 3, .. })
    ));
}

#[test]
fn explain_reports_banned_transition_position() {
    let f = Ehrlich::generate(32, 32, 2, 4, 4, 0).expect("builds");
    let mut x = f.optimal_solution();
    let a = x[9];
    let b = (0..32u32)
        .find(|&b| f.is_banned(a, b))
        .expect("v=32 bans some successor");
    x[10] = b;
    let ex = f.explain(&x).expect("valid");
    assert_eq!(ex.value, f64::NEG_INFINITY);
    assert_eq!(ex.banned[0].position, 10);
    assert_eq!((ex.banned[0].from, ex.banned[0].to), (a, b));
    assert!(ex.summary().contains("banned"));
    assert_eq!(ex.motifs.len(), 2);
}

/// holo-bench's `motif_search` test (notes §5): contiguous motif [0,1,2,3] on five rows.
#[test]
fn motif_search_partial_credit_as_in_holo_bench() {
    use ansatz_ehrlich::EhrlichParams;
    let build = |q: usize, motif: Vec<u32>, spacings: Vec<usize>| {
        Ehrlich::from_params(EhrlichParams {
            num_states: 10,
            dim: 5,
            motifs: vec![motif],
            spacings: vec![spacings],
            quantization: q,
            epistasis: 0.0,
            banned_transitions: vec![],
            transition: None,
            initial_solution: vec![0; 5],
        })
        .expect("valid params")
    };
    let rows = [
        [0, 1, 2, 3, 4],
        [0, 1, 2, 4, 5],
        [0, 1, 4, 5, 6],
        [0, 4, 5, 6, 7],
        [4, 5, 6, 7, 8],
    ];
    let f1 = build(1, vec![0, 1, 2, 3], vec![1, 1, 1]);
    let f4 = build(4, vec![0, 1, 2, 3], vec![1, 1, 1]);
    let h = |f: &Ehrlich, x: &[u32]| f.motif_presence(x).expect("valid")[0].0;
    let got1: Vec<f64> = rows.iter().map(|x| h(&f1, x)).collect();
    let got4: Vec<f64> = rows.iter().map(|x| h(&f4, x)).collect();
    assert_eq!(got1, [1.0, 0.0, 0.0, 0.0, 0.0]);
    assert_eq!(got4, [1.0, 0.75, 0.5, 0.25, 0.0]);
    let spaced = build(1, vec![0, 2, 4], vec![2, 2]);
    let got: Vec<f64> = rows.iter().map(|x| h(&spaced, x)).collect();
    assert_eq!(got, [1.0, 0.0, 0.0, 0.0, 0.0]);
}
