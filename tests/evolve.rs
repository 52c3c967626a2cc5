//! The offline proposer `evolve`: validity, uniqueness and determinism of its offspring,
//! every operator at work, garbage parents, parameter carry-over, library seeds in the
//! first batch, and the time per offspring (printed with `--nocapture`).

use ansatz::evolve::{Evolve, EvolveConfig, OPERATORS, Offspring, Parent};
use ansatz_grammar::{Signature, egraph, load};
use ansatz_simulator::MaterialKind;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

const ELASTIC_LAWS: &[&str] = &[
    include_str!("../tasks/laws/linear.law"),
    include_str!("../tasks/laws/corotated.law"),
    include_str!("../tasks/laws/neohookean.law"),
    include_str!("../tasks/laws/hencky.law"),
];

const PLASTIC_LAWS: &[&str] = &[
    include_str!("../tasks/laws/identity.law"),
    include_str!("../tasks/laws/water.law"),
    include_str!("../tasks/laws/plasticine.law"),
    include_str!("../tasks/laws/sand.law"),
    include_str!("../tasks/laws/imaginary.law"),
];

fn laws(kind: MaterialKind) -> &'static [&'static str] {
    match kind {
        MaterialKind::Plastic => PLASTIC_LAWS,
        _ => ELASTIC_LAWS,
    }
}

fn parents(sources: &[&'static str]) -> Vec<Parent<'static>> {
    sources
        .iter()
        .enumerate()
        .map(|(i, s)| Parent {
            source: s,
            fitness: 1.0 + i as f64,
            params: &[],
        })
        .collect()
}

fn hash_of(src: &str) -> u64 {
    let law = load(src, &Signature::elastic()).expect("law checks");
    egraph::canonical(&law).hash
}

fn config(seed: u64) -> EvolveConfig {
    EvolveConfig {
        seed,
        ..EvolveConfig::default()
    }
}

/// Every offspring checks, is within the limits, and is new to `seen` and to its batch.
fn assert_valid(batch: &[Offspring], seen: &BTreeSet<u64>, config: &EvolveConfig) {
    let mut hashes = BTreeSet::new();
    for o in batch {
        let law =
            load(&o.source, &Signature::elastic()).unwrap_or_else(|e| panic!("{e}\n{}", o.source));
        assert!(law.params().len() <= config.max_params, "{}", o.source);
        assert!(OPERATORS.contains(&o.operator));
        let hash = egraph::canonical(&law).hash;
        assert_eq!(hash, o.hash, "{}", o.source);
        assert!(!seen.contains(&hash), "seen before: {}", o.source);
        assert!(hashes.insert(hash), "repeated in the batch: {}", o.source);
    }
}

/// Several rounds from the shipped laws, both paths, several seeds: all valid, every
/// operator productive at least once per path.
#[test]
fn offspring_are_valid_new_and_every_operator_works() {
    for kind in [MaterialKind::Elastic, MaterialKind::Plastic] {
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        let mut perturbed = 0;
        for seed in 0..3 {
            let cfg = config(seed);
            let mut evolve = Evolve::new(Signature::elastic(), kind, cfg);
            let sources = laws(kind);
            let mut seen: BTreeSet<u64> = sources.iter().map(|s| hash_of(s)).collect();
            let mut population: Vec<String> = sources.iter().map(|s| s.to_string()).collect();
            for _round in 0..3 {
                let parents: Vec<Parent<'_>> = population
                    .iter()
                    .enumerate()
                    .map(|(i, s)| Parent {
                        source: s,
                        fitness: (i % 7) as f64,
                        params: &[],
                    })
                    .collect();
                // Made-up gains (the same for every coefficient): the elastic path's
                // structured parents are then grown by the guided operator too.
                let mut gains = |_: &ansatz_grammar::Program, which: &[usize]| {
                    Some(
                        which
                            .iter()
                            .map(|_| ansatz::law::Gain {
                                gradient: -1.0,
                                curvature: 1.0,
                            })
                            .collect(),
                    )
                };
                let batch = evolve.propose_with_gains(&parents, 16, &seen, Some(&mut gains));
                assert_eq!(batch.len(), 16, "{kind:?} seed {seed}");
                assert_valid(&batch, &seen, &cfg);
                for o in &batch {
                    *counts.entry(o.operator).or_default() += 1;
                    perturbed += usize::from(o.perturbed);
                    assert!(o.parents.iter().all(|&i| i < parents.len()));
                    seen.insert(o.hash);
                }
                population.extend(batch.into_iter().map(|o| o.source));
            }
        }
        println!("{kind:?}: operator counts {counts:?}, perturbed {perturbed}");
        for op in OPERATORS {
            // Guided growth adds terms to structured elastic laws only.
            if *op == "guided" && kind == MaterialKind::Plastic {
                assert_eq!(counts.get(op), None);
                continue;
            }
            assert!(
                counts.get(op).copied().unwrap_or(0) > 0,
                "{kind:?}: {op} never produced"
            );
        }
        assert!(perturbed > 0);
    }
}

#[test]
fn same_seed_same_offspring_different_seed_different_offspring() {
    let parents = parents(ELASTIC_LAWS);
    let seen: BTreeSet<u64> = ELASTIC_LAWS.iter().map(|s| hash_of(s)).collect();
    let run = |seed| {
        let mut e = Evolve::new(Signature::elastic(), MaterialKind::Elastic, config(seed));
        let first = e.propose(&parents, 12, &seen);
        let second = e.propose(&parents, 12, &seen);
        (first, second)
    };
    let a = run(7);
    assert_eq!(a, run(7));
    assert_ne!(a, run(8));
    assert_ne!(a.0, a.1, "a second call continues the random sequence");
}

#[test]
fn garbage_parents_never_panic_and_still_give_library_seeds() {
    let huge = "return F + ".repeat(5000) + "F";
    let deep = "(".repeat(10_000) + "F" + &")".repeat(10_000);
    // Valid but far over max_nodes: a wide law of 40 bindings.
    let wide = (0..40)
        .map(|i| format!("x{i} = det(F) * F @ F.T + trace(F) * F - {i} * I\n"))
        .collect::<String>()
        + "return "
        + &(0..40)
            .map(|i| format!("x{i}"))
            .collect::<Vec<_>>()
            .join(" + ");
    let nested = "return ".to_string() + &"exp(".repeat(40) + "F" + &")".repeat(40);
    let garbage: Vec<&str> = vec![
        "",
        "return",
        "param = \n",
        "return torch.det(F) * I",
        "return sum(F)",
        "\u{0}\u{1}\u{ff}",
        &huge,
        &deep,
        &wide,
        &nested,
        "param a = 1\nparam b = 2\nparam c = 3\nparam d = 4\nparam e = 5\nparam f = 6\nparam g = 7\nparam h = 8\nparam i = 9\nreturn a * F",
    ];
    for kind in [MaterialKind::Elastic, MaterialKind::Plastic] {
        let parents: Vec<Parent<'_>> = garbage
            .iter()
            .map(|s| Parent {
                source: s,
                fitness: f64::NAN,
                params: &[f64::NAN, f64::INFINITY],
            })
            .collect();
        let mut evolve = Evolve::new(Signature::elastic(), kind, config(1));
        let batch = evolve.propose(&parents, 16, &BTreeSet::new());
        assert!(batch.len() >= 5, "{kind:?}: {}", batch.len());
        assert!(batch.iter().any(|o| o.operator == "library"));
        assert_valid(&batch, &BTreeSet::new(), evolve.config());
        assert!(evolve.propose(&[], 4, &BTreeSet::new()).len() == 4);
    }
}

/// Shipped laws with random bytes cut out or doubled: whatever still checks is used as a
/// parent, the rest is skipped; nothing panics and the offspring stay valid.
#[test]
fn corrupted_parents_never_panic() {
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(99);
    for round in 0..12 {
        let kind = if round % 2 == 0 {
            MaterialKind::Elastic
        } else {
            MaterialKind::Plastic
        };
        let corrupted: Vec<String> = laws(kind)
            .iter()
            .map(|s| {
                let mut b = s.as_bytes().to_vec();
                for _ in 0..3 {
                    let i = rng.random_range(0..b.len());
                    let j = (i + rng.random_range(0..4)).min(b.len());
                    if rng.random_bool(0.5) {
                        b.drain(i..j);
                    } else {
                        let piece = b[i..j].to_vec();
                        b.splice(i..i, piece);
                    }
                }
                String::from_utf8_lossy(&b).into_owned()
            })
            .collect();
        let parents: Vec<Parent<'_>> = corrupted
            .iter()
            .map(|s| Parent {
                source: s,
                fitness: rng.random_range(0.0..1.0),
                params: &[1.0, 2.0],
            })
            .collect();
        let mut evolve = Evolve::new(Signature::elastic(), kind, config(round));
        let batch = evolve.propose(&parents, 4, &BTreeSet::new());
        assert!(!batch.is_empty());
        assert_valid(&batch, &BTreeSet::new(), evolve.config());
    }
}

#[test]
fn children_start_from_the_parents_fitted_values() {
    let src = "param mu = 1\nparam k = 2\nJ = det(F)\nreturn mu * (F @ F.T - I) + k * log(J) * I";
    let fitted = [123.25, -0.5];
    let parents = [Parent {
        source: src,
        fitness: 0.1,
        params: &fitted,
    }];
    let seen = BTreeSet::from([hash_of(src)]);
    let mut evolve = Evolve::new(
        Signature::elastic(),
        MaterialKind::Elastic,
        EvolveConfig {
            perturb_rate: 0.0,
            ..config(3)
        },
    );
    let batch = evolve.propose(&parents, 24, &seen);
    let mut carried = 0;
    for o in batch.iter().filter(|o| o.operator != "library") {
        let law = load(&o.source, &Signature::elastic()).expect("checks");
        for (name, value) in law.params() {
            match name.as_str() {
                "mu" => assert_eq!(value, 123.25, "{}", o.source),
                "k" => assert_eq!(value, -0.5, "{}", o.source),
                _ => {}
            }
            carried += usize::from(name == "mu" || name == "k");
        }
    }
    assert!(carried > 0);
}

#[test]
fn library_seeds_start_from_their_own_defaults() {
    // A parent's fitted values can sit where a new form's gradient vanishes (the linear
    // law's Poisson sigmoid at -25 after a fit on jelly): seeds do not take them.
    let linear = include_str!("../tasks/laws/linear.law");
    let fitted = [10.8, -25.0];
    let parents = [Parent {
        source: linear,
        fitness: 0.5,
        params: &fitted,
    }];
    let mut evolve = Evolve::new(Signature::elastic(), MaterialKind::Elastic, config(0));
    let batch = evolve.propose(&parents, 16, &BTreeSet::from([hash_of(linear)]));
    let neo = batch
        .iter()
        .find(|o| o.source.contains("log(J)") && o.operator == "library")
        .expect("neo-Hookean seeded in the first batch");
    let law = load(&neo.source, &Signature::elastic()).expect("checks");
    assert_eq!(
        law.params(),
        vec![
            ("youngs_modulus_log".to_string(), 10.0),
            ("poissons_ratio_sigmoid".to_string(), -1.0)
        ]
    );
    assert!(neo.parents.is_empty());
}

/// The lead's acceptance runs: the true law's form is in the first batch of 16 from the
/// task's starting law, for every seed.
#[test]
fn first_batch_contains_the_true_families() {
    let neo = hash_of(include_str!("../tasks/laws/neohookean.law"));
    let water = hash_of(include_str!("../tasks/laws/water.law"));
    let cases = [
        (
            MaterialKind::Elastic,
            include_str!("../tasks/laws/linear.law"),
            neo,
        ),
        (
            MaterialKind::Plastic,
            include_str!("../tasks/laws/identity.law"),
            water,
        ),
    ];
    for (kind, start, truth) in cases {
        for seed in 0..5 {
            let mut evolve = Evolve::new(Signature::elastic(), kind, config(seed));
            let parents = [Parent {
                source: start,
                fitness: 1.0,
                params: &[],
            }];
            let batch = evolve.propose(&parents, 16, &BTreeSet::from([hash_of(start)]));
            assert!(
                batch.iter().any(|o| o.hash == truth),
                "{kind:?} seed {seed}"
            );
        }
    }
}

#[test]
fn small_limits_are_respected_and_an_exhausted_search_stops() {
    let cfg = EvolveConfig {
        max_params: 2,
        max_nodes: 40,
        attempts_per_offspring: 5,
        ..config(4)
    };
    for kind in [MaterialKind::Elastic, MaterialKind::Plastic] {
        let mut evolve = Evolve::new(Signature::elastic(), kind, cfg);
        let parents = parents(laws(kind));
        let seen: BTreeSet<u64> = laws(kind).iter().map(|s| hash_of(s)).collect();
        let batch = evolve.propose(&parents, 300, &seen);
        assert!(batch.len() < 300);
        assert_valid(&batch, &seen, &cfg);
        for o in &batch {
            let p = ansatz_grammar::parse(&o.source).expect("parses");
            let nodes: usize = p.stmts.iter().map(|s| s.value.size()).sum::<usize>() + p.ret.size();
            assert!(nodes <= 40, "{nodes}: {}", o.source);
        }
        assert!(evolve.stats().attempts <= 300 * 5);
    }
}

#[test]
fn other_signatures_use_their_inputs_as_building_blocks() {
    let sig: Signature = "x: scalar, y: scalar -> scalar".parse().expect("signature");
    let mut evolve = Evolve::new(sig.clone(), MaterialKind::Elastic, config(2));
    assert!(evolve.library_names().is_empty());
    let parents = [Parent {
        source: "param a = 2\nreturn a * x + exp(y)",
        fitness: 1.0,
        params: &[],
    }];
    let mut seen = BTreeSet::new();
    for _ in 0..3 {
        let batch = evolve.propose(&parents, 8, &seen);
        assert!(!batch.is_empty());
        for o in batch {
            let law = load(&o.source, &sig).expect("checks");
            assert!(seen.insert(egraph::canonical(&law).hash));
        }
    }
}

#[test]
fn time_per_offspring() {
    let mut total = 0;
    let started = Instant::now();
    for kind in [MaterialKind::Elastic, MaterialKind::Plastic] {
        let parents = parents(laws(kind));
        let seen: BTreeSet<u64> = laws(kind).iter().map(|s| hash_of(s)).collect();
        let mut evolve = Evolve::new(Signature::elastic(), kind, config(11));
        total += evolve.propose(&parents, 32, &seen).len();
        println!("evolve {kind:?}: {:?}", evolve.stats());
    }
    let per = started.elapsed().as_secs_f64() * 1e3 / total.max(1) as f64;
    println!(
        "evolve: {total} offspring, {per:.1} ms per offspring (debug build of the root crate)"
    );
}
