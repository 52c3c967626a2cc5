//! Reproduces every value in the holo-bench cross-check vector files (data/*.json).

use ansatz_ehrlich::{Ehrlich, VectorFile};

const FILES: [&str; 7] = [
    "ehrlich_v4_L8_c1_k2_q2_s0.json",
    "ehrlich_v32_L32_c2_k4_q4_s0.json",
    "ehrlich_v32_L128_c4_k4_q4_s0.json",
    "llome_v32_L32_c4_k4_q4_s50494.json",
    "llome_v32_L128_c4_k4_q4_s50494.json",
    "llome_v8_L128_c8_k8_q8_s50494.json",
    "ehrlich_v20_L10_c2_k3_q3_s42.json",
];

fn load(name: &str) -> VectorFile {
    let path = format!("{}/data/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).expect("vector file present");
    VectorFile::from_json(&text).expect("vector file parses")
}

/// Exact for k a power of two (binary fractions), 1e-6 otherwise.
fn close(got: f64, want: Option<f64>, exact: bool) -> bool {
    match want {
        None => got == f64::NEG_INFINITY,
        Some(w) if exact => got == w,
        Some(w) => (got - w).abs() <= 1e-6,
    }
}

#[test]
fn params_are_consistent() {
    for name in FILES {
        let vf = load(name);
        let f = vf.function().expect("function builds");
        let v = vf.config.num_states;
        for i in 0..v {
            for j in 0..v {
                let zero = vf.params.transition_matrix[i][j] == 0.0;
                assert_eq!(zero, f.is_banned(i as u32, j as u32), "{name} ({i},{j})");
            }
        }
        let c = vf.config.num_motifs;
        for o in f.offsets() {
            assert!(o.windows(2).all(|w| w[1] > w[0]), "{name}: spacing >= 1");
            assert!(
                (o[o.len() - 1] + 1) * c <= vf.config.dim,
                "{name}: span <= L/c"
            );
        }
        assert_eq!(f.optimal_solution(), vf.params.optimal_solution, "{name}");
        assert_eq!(f.evaluate(&vf.params.optimal_solution), Ok(1.0), "{name}");
        assert_eq!(f.initial_solution(), vf.params.initial_solution.as_slice());
        assert!(f.is_feasible(f.initial_solution()), "{name}");
        let pi = &vf.params.stationary_dist;
        assert!((pi.iter().sum::<f64>() - 1.0).abs() < 1e-5, "{name}");
    }
}

#[test]
fn every_case_value_presence_count_and_loglik() {
    let mut checked = 0usize;
    for name in FILES {
        let vf = load(name);
        let f = vf.function().expect("function builds");
        let k = vf.config.motif_length;
        let exact = k.is_power_of_two();
        for case in &vf.cases {
            let ctx = format!("{name} case {} ({})", case.id, case.kind);
            let got = f.evaluate(&case.x).expect("valid sequence");
            assert!(
                close(got, case.value, exact),
                "{ctx}: {got} vs {:?}",
                case.value
            );
            assert_eq!(f.is_feasible(&case.x), case.feasible, "{ctx}");
            let pres = f.motif_presence(&case.x).expect("valid sequence");
            for (i, (h, n)) in pres.iter().enumerate() {
                assert!(
                    close(*h, Some(case.motif_present[i]), exact),
                    "{ctx} motif {i}"
                );
                assert_eq!(*n, case.motif_max_count[i], "{ctx} motif {i}");
            }
            let ex = f.explain(&case.x).expect("valid sequence");
            assert_eq!(ex.banned.is_empty(), case.feasible, "{ctx}");
            for (q, want) in &case.values_by_quantization {
                let q: usize = q.parse().expect("integer key");
                let fq = f.with_quantization(q).expect("q >= 1");
                let got = fq.evaluate(&case.x).expect("valid sequence");
                let exact_q = exact && k.is_multiple_of(k.div_ceil(q));
                assert!(close(got, *want, exact_q), "{ctx} q={q}: {got} vs {want:?}");
                checked += 1;
            }
            for (e, want) in &case.values_by_epistasis {
                let e: f64 = e.parse().expect("float key");
                let got = f.with_epistasis(e).evaluate(&case.x).expect("valid");
                assert!(close(got, *want, false), "{ctx} e={e}: {got} vs {want:?}");
                checked += 1;
            }
            let ll = f.log_likelihood(&case.x).expect("valid").expect("T known");
            match case.dmp_log_likelihood {
                None => assert_eq!(ll, f64::NEG_INFINITY, "{ctx}"),
                Some(w) => assert!(
                    (ll - w).abs() <= 1e-4 + 1e-5 * w.abs(),
                    "{ctx}: {ll} vs {w}"
                ),
            }
            checked += 4 + 2 * pres.len();
        }
    }
    assert!(checked > 10_000, "checked {checked}");
}

#[test]
fn exhaustive_table_v4_l8() {
    let vf = load("ehrlich_v4_L8_c1_k2_q2_s0.json");
    let f = vf.function().expect("function builds");
    let ex = vf.exhaustive.as_ref().expect("exhaustive table");
    let (v, l) = (vf.config.num_states, vf.config.dim);
    let denom = (vf.config.quantization as f64).powi(vf.config.num_motifs as i32);
    assert_eq!(ex.count, v.pow(l as u32));
    assert_eq!(ex.codes.len(), ex.count);
    let mut x = vec![0u32; l];
    for (idx, code) in ex.codes.chars().enumerate() {
        let mut rest = idx;
        for t in (0..l).rev() {
            x[t] = (rest % v) as u32;
            rest /= v;
        }
        let got = f.evaluate(&x).expect("valid");
        let want = match code {
            'x' => None,
            d => Some(d.to_digit(10).expect("digit") as f64 / denom),
        };
        assert!(
            close(got, want, true),
            "sequence {idx} {x:?}: {got} vs {want:?}"
        );
    }
}

#[test]
fn llome_instance_motifs() {
    let vf = load("llome_v32_L32_c4_k4_q4_s50494.json");
    let f: Ehrlich = vf.function().expect("function builds");
    assert_eq!(
        f.motifs(),
        &[
            vec![3, 16, 15, 11],
            vec![24, 3, 16, 15],
            vec![11, 14, 8, 10],
            vec![22, 27, 7, 20]
        ]
    );
}
