//! The offline proposer: valid new molecules, deterministic for a seed, and a 3-generation run
//! on a tiny budget.

use ansatz_molecules::{
    Budget, Evolution, EvolutionConfig, OfflineRun, Task, run_offline, screen_many,
};

use crate::tools;

fn config(seed: u64) -> EvolutionConfig {
    EvolutionConfig {
        population: 6,
        crossover_rate: 0.5,
        seed,
        max_seeds: 4,
    }
}

#[test]
fn children_are_new_valid_and_deterministic() {
    let t = tools();
    let task = Task::builtin("gap").expect("task");
    let make = |seed| {
        let mut evo = Evolution::new(config(seed), task.rules.clone(), t.python.clone());
        let first = evo.propose(4).expect("seeds");
        assert!(first.iter().all(|p| p.op == "seed"));
        for (i, s) in [
            "Cc1ccccc1O",
            "N#Cc1ccccn1",
            "CC1=CC(=O)C=CC1=O",
            "Nc1ccc(N)cc1",
        ]
        .iter()
        .enumerate()
        {
            evo.observe(s, i as f64);
        }
        evo.propose(12).expect("children")
    };
    let a = make(7);
    assert_eq!(a, make(7), "same seed, same children");
    assert_ne!(a, make(8), "another seed, other children");
    assert!(a.len() >= 10, "{} children", a.len());
    assert!(a.iter().all(|p| p.op != "seed" && !p.parents.is_empty()));
    let replies: Vec<&str> = a.iter().map(|p| p.reply.as_str()).collect();
    let screened = screen_many(&replies, &task.rules, &t.python);
    let mut seen = std::collections::BTreeSet::new();
    for (p, s) in a.iter().zip(&screened) {
        let m = s.as_ref().unwrap_or_else(|e| panic!("{}: {e}", p.reply));
        assert!(
            seen.insert(m.canonical.clone()),
            "duplicate child {}",
            m.canonical
        );
        assert!(!p.parents.contains(&m.canonical), "child equals its parent");
    }
}

#[test]
fn three_generations_on_a_tiny_budget() {
    let t = tools();
    let task = Task::builtin("gap_minus2").expect("task");
    let budget = Budget {
        conformers: 1,
        opt_level: "loose".into(),
        ..Budget::default()
    };
    let run = OfflineRun {
        config: config(0),
        rounds: 3,
        per_round: 4,
        threads: 2,
        max_seconds: None,
    };
    let (evals, reports) = run_offline(&task, &budget, &t, &run, |_| {}).expect("run");
    assert_eq!(reports.len(), 3);
    assert_eq!(evals.len(), 12, "all 12 proposals screened and evaluated");
    assert!(reports.iter().all(|r| r.rejected == 0));
    let ok = evals.iter().filter(|e| e.outcome.is_ok()).count();
    assert!(ok >= 10, "{ok} of 12 evaluations succeeded");
    // Best loss never gets worse.
    assert!(reports.windows(2).all(|w| w[1].best_loss <= w[0].best_loss));
    let keys: std::collections::BTreeSet<_> =
        evals.iter().map(|e| e.molecule.canonical.clone()).collect();
    assert_eq!(keys.len(), 12, "no molecule evaluated twice");
}
