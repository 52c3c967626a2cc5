use super::*;
use crate::evolve::{EvolveConfig, library};
use crate::law::physics;
use ansatz_grammar::{Signature, egraph, load};
use ansatz_simulator::MaterialKind;
use rand::SeedableRng;

/// Every structured law checks and passes the elastic physics checks (symmetric,
/// frame-indifferent, zero at rest) at its defaults.
fn assert_sound(source: &str) {
    let law = load(source, &Signature::elastic()).unwrap_or_else(|e| panic!("{source}\n{e}"));
    let failures = physics::check(&law, MaterialKind::Elastic);
    assert!(failures.is_empty(), "{source}\n{failures:?}");
}

#[test]
fn every_seed_and_random_law_is_sound() {
    for g in seeds() {
        assert_sound(&g.source());
    }
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    for _ in 0..60 {
        let p = random_law(&mut rng).expect("a law");
        assert_sound(&p.to_string());
    }
}

#[test]
fn a_term_at_rest_is_zero_or_rejected() {
    // `exp(c) * I` and a Gent shape of a missing factor are not terms.
    assert!(!Term::new(Basis::Identity, Factor::One).valid());
    assert!(!Term::new(Basis::B, Factor::One).valid());
    let gent = |basis| Term {
        shape: Shape::Gent,
        ..Term::new(basis, Factor::I1Iso)
    };
    assert!(!gent(Basis::Identity).valid());
    assert!(gent(Basis::DevIso).valid());
    assert!(Term::new(Basis::Identity, Factor::LogJ).valid());
}

#[test]
fn a_parent_is_read_back_with_its_fitted_values() {
    let g = Genome::of(
        &[
            Term::new(Basis::DevIso, Factor::One),
            Term {
                shape: Shape::Gent,
                ..Term::new(Basis::DevIso, Factor::I1Iso)
            },
            Term::new(Basis::Identity, Factor::JPower),
        ],
        SEED_LOG_MODULUS,
    );
    let mut program = g.program().expect("parses");
    crate::evolve::tree::prune(&mut program);
    let source = program.to_string();
    let fitted: Vec<f64> = (0..program.params.len()).map(|i| i as f64 + 0.5).collect();
    let parent = Parent {
        source: &source,
        fitness: 1.0,
        params: &fitted,
    };
    let back = Genome::decode(&parent).expect("decodes");
    let values: Vec<f64> = back
        .program()
        .expect("parses")
        .params
        .iter()
        .map(|p| p.value)
        .collect();
    assert_eq!(values, fitted);
    // A law not built here is not read back.
    let other = "param c_i_logj_lin_p = 1.0\nreturn exp(c_i_logj_lin_p) * F";
    let parent = Parent {
        source: other,
        fitness: 1.0,
        params: &[],
    };
    assert_eq!(Genome::decode(&parent), None);
}

#[test]
fn a_negligible_term_is_found() {
    let mut g = Genome::of(
        &[
            Term::new(Basis::BMinusI, Factor::One),
            Term::new(Basis::Identity, Factor::LogJ),
        ],
        SEED_LOG_MODULUS,
    );
    assert_eq!(g.negligible(), None);
    g.genes[1].1.insert('c', SEED_LOG_MODULUS - 10.0);
    assert_eq!(g.negligible(), Some(1));
}

/// Offspring of `rounds` rounds of an elastic search without the library, each round's
/// offspring the next round's parents (losses made up from their order).
fn run(seed: u64, rounds: usize) -> Vec<Offspring> {
    let config = EvolveConfig {
        seed,
        library: false,
        ..EvolveConfig::default()
    };
    let mut evolve = Evolve::new(Signature::elastic(), MaterialKind::Elastic, config);
    assert!(evolve.library_names().is_empty());
    let mut seen = BTreeSet::new();
    let mut all: Vec<Offspring> = Vec::new();
    let mut parents: Vec<(String, f64)> = Vec::new();
    for _ in 0..rounds {
        let shown: Vec<Parent<'_>> = parents
            .iter()
            .map(|(s, f)| Parent {
                source: s,
                fitness: *f,
                params: &[],
            })
            .collect();
        let batch = evolve.propose(&shown, 16, &seen);
        seen.extend(batch.iter().map(|o| o.hash));
        parents = batch
            .iter()
            .enumerate()
            .map(|(i, o)| (o.source.clone(), 1.0 / (1.0 + i as f64)))
            .collect();
        all.extend(batch);
    }
    all
}

#[test]
fn without_the_library_offspring_are_built_sound_and_reproducible() {
    let library: BTreeSet<u64> = library::forms(MaterialKind::Elastic)
        .iter()
        .map(|(_, src)| {
            let law = load(src, &Signature::elastic()).expect("library form checks");
            egraph::canonical(&law).hash
        })
        .collect();
    let offspring = run(7, 3);
    assert_eq!(offspring.len(), 48);
    let structured = offspring
        .iter()
        .filter(|o| o.operator == "structured")
        .count();
    assert!(structured >= 36, "{structured} structured of 48");
    assert!(
        offspring
            .iter()
            .any(|o| o.operator == "structured" && !o.parents.is_empty())
    );
    for o in &offspring {
        assert_ne!(o.operator, "library");
        assert!(!library.contains(&o.hash), "a library form: {}", o.source);
        let law = load(&o.source, &Signature::elastic()).expect("checks");
        assert_eq!(egraph::canonical(&law).hash, o.hash);
        if o.operator == "structured" {
            assert_sound(&o.source);
        }
    }
    assert_eq!(offspring, run(7, 3));
    assert_ne!(offspring, run(8, 3));
}

#[test]
fn with_the_library_the_structured_share_is_kept_on_both_paths() {
    let mut evolve = Evolve::new(
        Signature::elastic(),
        MaterialKind::Elastic,
        EvolveConfig::default(),
    );
    let start = "param mu = 1000\nreturn mu * (F @ F.T - I)";
    let parents = [Parent {
        source: start,
        fitness: 0.3,
        params: &[2500.0],
    }];
    let batch = evolve.propose(&parents, 16, &BTreeSet::new());
    let count = |op: &str| batch.iter().filter(|o| o.operator == op).count();
    assert_eq!(count("library"), 7, "the seven elastic forms");
    assert_eq!(count("structured"), 4, "a quarter of 16");
    // On the plastic path the structured operator builds return mappings, each the
    // identity at rest and rotation-equivariant.
    let mut plastic = Evolve::new(
        Signature::elastic(),
        MaterialKind::Plastic,
        EvolveConfig::default(),
    );
    let start = "return F";
    let parents = [Parent {
        source: start,
        fitness: 0.3,
        params: &[],
    }];
    let batch = plastic.propose(&parents, 16, &BTreeSet::new());
    let built: Vec<&Offspring> = batch
        .iter()
        .filter(|o| o.operator == "structured")
        .collect();
    assert_eq!(built.len(), 4);
    for o in built {
        let law = load(&o.source, &Signature::elastic()).expect("checks");
        let failures = physics::check(&law, MaterialKind::Plastic);
        assert!(failures.is_empty(), "{}\n{failures:?}", o.source);
    }
}

#[test]
fn plastic_structures_are_sound_and_read_back() {
    let all = plastic::seeds();
    assert_eq!(
        all.len(),
        7,
        "three yields by three volume rules, less the two without parameters"
    );
    for g in &all {
        let source = g.source();
        let law = load(&source, &Signature::elastic()).unwrap_or_else(|e| panic!("{source}\n{e}"));
        let failures = physics::check(&law, MaterialKind::Plastic);
        assert!(failures.is_empty(), "{source}\n{failures:?}");
        let mut program = g.program().expect("parses");
        crate::evolve::tree::prune(&mut program);
        let printed = program.to_string();
        let fitted: Vec<f64> = program.params.iter().map(|p| p.value + 0.25).collect();
        let parent = Parent {
            source: &printed,
            fitness: 1.0,
            params: &fitted,
        };
        let back = plastic::Genome::decode(&parent).expect("decodes");
        let values: Vec<f64> = back
            .program()
            .expect("parses")
            .params
            .iter()
            .map(|p| p.value)
            .collect();
        assert_eq!(values, fitted, "{printed}");
    }
}

#[test]
fn an_exhausted_structured_space_leaves_the_batch_to_the_others() {
    let seen: BTreeSet<u64> = plastic::seeds()
        .iter()
        .map(|g| {
            let law = load(&g.source(), &Signature::elastic()).expect("checks");
            egraph::canonical(&law).hash
        })
        .collect();
    let mut evolve = Evolve::new(
        Signature::elastic(),
        MaterialKind::Plastic,
        EvolveConfig::default(),
    );
    let parents = [Parent {
        source: "param w = 0.5\nreturn w * F",
        fitness: 0.3,
        params: &[],
    }];
    let batch = evolve.propose(&parents, 16, &seen);
    assert_eq!(batch.len(), 16);
    assert!(batch.iter().all(|o| o.operator != "structured"));
}

/// Made-up gains: the coefficient named `c_KEY` of `x` gets (gradient, curvature); every
/// other coefficient no gain. Records the calls' parameter names.
fn made_up_gains<'a>(
    wanted: &'a [(&'a str, f64, f64)],
    calls: &'a mut Vec<Vec<String>>,
    fail_batches_with: Option<&'a str>,
) -> impl FnMut(&Program, &[usize]) -> Option<Vec<Gain>> + 'a {
    move |program: &Program, which: &[usize]| {
        let names: Vec<String> = which
            .iter()
            .map(|&i| program.params[i].name.clone())
            .collect();
        calls.push(names.clone());
        if which.len() > 1
            && let Some(bad) = fail_batches_with
            && names.iter().any(|n| n == bad)
        {
            return None;
        }
        Some(
            names
                .iter()
                .map(|n| {
                    let (gradient, curvature) = wanted
                        .iter()
                        .find(|(k, _, _)| *n == format!("c_{k}"))
                        .map_or((0.0, 1.0), |&(_, g, c)| (g, c));
                    Gain {
                        gradient,
                        curvature,
                    }
                })
                .collect(),
        )
    }
}

#[test]
fn guided_growth_ranks_every_addition_by_its_gain_and_starts_it_at_its_step() {
    let parent = Genome::of(
        &[
            Term::new(Basis::DevIso, Factor::One),
            Term::new(Basis::Identity, Factor::JTimesJMinus1),
        ],
        12.0,
    );
    let slots = additions(&parent);
    assert!(slots.len() > 200, "{} slots", slots.len());
    assert!(slots.iter().all(|t| t.valid() && !t.negative));
    // Y: step −3 (the coefficient 1 + step is −2: a negative term), decrease 4.5;
    // X: step +2 (coefficient 3), decrease 2. Every other slot: no gain.
    let wanted = [
        ("devbb2_one_lin_p", 3.0, 1.0),
        ("devbb_i1b_lin_p", -2.0, 1.0),
    ];
    let mut calls = Vec::new();
    let ranked = guided_growth(&parent, &mut made_up_gains(&wanted, &mut calls, None));
    assert_eq!(calls.len(), slots.len().div_ceil(8));
    assert!(calls.iter().all(|c| c.len() <= 8));
    let asked: BTreeSet<String> = calls.iter().flatten().cloned().collect();
    assert_eq!(asked.len(), slots.len(), "each slot once");
    assert!(
        !asked.contains("c_devbb_one_lin_p"),
        "not the parent's own terms"
    );
    assert_eq!(ranked.len(), 2);
    let probe = 12.0 - PROBE_BELOW;
    let value = |p: &Program, name: &str| {
        p.params
            .iter()
            .find(|q| q.name == name)
            .map(|q| q.value)
            .unwrap_or_else(|| panic!("{name} in\n{p}"))
    };
    let (t1, first, d1) = &ranked[0];
    assert_eq!(t1.basis, Basis::DevIsoSquared);
    assert!((d1 - 4.5).abs() < 1e-12);
    assert!((value(first, "c_devbb2_one_lin_n") - (probe + 2f64.ln())).abs() < 1e-12);
    assert_eq!(
        value(first, "c_devbb_one_lin_p"),
        12.0,
        "the parent's values kept"
    );
    let (_, second, d2) = &ranked[1];
    assert!((d2 - 2.0).abs() < 1e-12);
    assert!((value(second, "c_devbb_i1b_lin_p") - (probe + 3f64.ln())).abs() < 1e-12);
    for (_, p, _) in &ranked {
        assert_sound(&p.to_string());
        assert!(p.params.len() <= 8);
    }
}

#[test]
fn a_batch_that_cannot_be_scored_is_scored_term_by_term() {
    let parent = Genome::of(
        &[
            Term::new(Basis::BMinusI, Factor::One),
            Term::new(Basis::Identity, Factor::LogJ),
        ],
        11.0,
    );
    let wanted = [("i_jm1_lin_p", -1.0, 2.0)];
    let mut calls = Vec::new();
    let ranked = guided_growth(
        &parent,
        &mut made_up_gains(&wanted, &mut calls, Some("c_i_jm1_lin_p")),
    );
    let singles = calls.iter().filter(|c| c.len() == 1).count();
    assert!((1..=8).contains(&singles), "{singles} single calls");
    assert_eq!(ranked.len(), 1);
    assert!(ranked[0].1.params.iter().any(|p| p.name == "c_i_jm1_lin_p"));
    // No modulus to measure against: nothing to grow.
    let empty = Genome { genes: Vec::new() };
    assert!(guided_growth(&empty, &mut made_up_gains(&wanted, &mut Vec::new(), None)).is_empty());
}

#[test]
fn guided_offspring_come_from_the_best_structured_parent_and_skip_seen_laws() {
    let good = Genome::of(
        &[
            Term::new(Basis::DevIso, Factor::One),
            Term::new(Basis::Identity, Factor::LogJ),
        ],
        11.0,
    )
    .source();
    let worse = Genome::of(
        &[
            Term::new(Basis::BMinusI, Factor::One),
            Term::new(Basis::Identity, Factor::JMinus1),
        ],
        11.0,
    )
    .source();
    let parents = [
        Parent {
            source: &worse,
            fitness: 0.5,
            params: &[],
        },
        Parent {
            source: &good,
            fitness: 0.1,
            params: &[],
        },
    ];
    // Gains that rank slots by a made-up order: the k-th slot of `additions` gains 1 / (k+1).
    let order: Vec<String> = additions(&Genome::decode(&parents[1]).expect("decodes"))
        .iter()
        .map(|t| format!("c_{}", t.key()))
        .collect();
    let mut gains = |program: &Program, which: &[usize]| -> Option<Vec<Gain>> {
        Some(
            which
                .iter()
                .map(|&i| {
                    let k = order.iter().position(|n| *n == program.params[i].name);
                    Gain {
                        gradient: k.map_or(0.0, |k| -1.0 / (k as f64 + 1.0)),
                        curvature: 1.0,
                    }
                })
                .collect(),
        )
    };
    let config = EvolveConfig {
        library: false,
        ..EvolveConfig::default()
    };
    let mut evolve = Evolve::new(Signature::elastic(), MaterialKind::Elastic, config);
    let batch = evolve.propose_with_gains(&parents, 16, &BTreeSet::new(), Some(&mut gains));
    let guided: Vec<&Offspring> = batch.iter().filter(|o| o.operator == "guided").collect();
    assert_eq!(guided.len(), config.guided);
    assert!(guided.iter().all(|o| o.parents == vec![1]));
    assert!(guided[0].source.contains(&order[0]), "{}", guided[0].source);
    // One term per basis first, although the made-up ranking puts all of the first
    // basis's slots on top.
    let added_basis = |o: &Offspring| -> String {
        let law = load(&o.source, &Signature::elastic()).expect("checks");
        let new: Vec<String> = law
            .program()
            .params
            .iter()
            .filter(|p| p.name.starts_with("c_") && !good.contains(&p.name))
            .map(|p| p.name.split('_').nth(1).unwrap_or_default().to_string())
            .collect();
        assert_eq!(new.len(), 1, "{}", o.source);
        new[0].clone()
    };
    let bases: BTreeSet<String> = guided.iter().map(|o| added_basis(o)).collect();
    assert_eq!(bases.len(), guided.len(), "{bases:?}");
    // With the first choice seen, the next ones come.
    let seen: BTreeSet<u64> = [guided[0].hash].into();
    let mut again = Evolve::new(Signature::elastic(), MaterialKind::Elastic, config);
    let batch = again.propose_with_gains(&parents, 16, &seen, Some(&mut gains));
    let next: Vec<&Offspring> = batch.iter().filter(|o| o.operator == "guided").collect();
    assert_eq!(next.len(), config.guided);
    assert!(next.iter().all(|o| o.hash != guided[0].hash));
    assert_eq!(next[0].hash, guided[1].hash);
    // Without gains, nothing is guided.
    let batch = Evolve::new(Signature::elastic(), MaterialKind::Elastic, config).propose(
        &parents,
        16,
        &BTreeSet::new(),
    );
    assert!(batch.iter().all(|o| o.operator != "guided"));
}
