//! The driver: determinism, resume, generation safety.

mod common;

use ansatz_llome::generate::parse_output;
use ansatz_llome::{GenerationConfig, Model, Vocab, generate, run};
use common::{small_function, temp_dir, toy_config};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

#[test]
fn same_seed_same_records_and_resume_continues_identically() {
    let f = small_function();
    let cfg = toy_config("marge", 5);
    let (d1, d2) = (temp_dir("det-a"), temp_dir("det-b"));
    let a = run(&f, &cfg, &d1).expect("run a");
    assert_eq!(a.len(), 3);
    assert!(
        a[1].labelled > 0 && a[2].work.pairs > 0,
        "the toy run trains on real pairs: {a:?}"
    );
    assert_eq!(a[2].work.objective, "marge");
    assert!(a[1].labelled <= cfg.labels_per_round);
    assert_eq!(
        a[2].oracle_calls,
        a[0].oracle_calls + a[1].labelled + a[2].labelled
    );
    // a second run in another directory: the same records apart from timings
    let mut other = cfg.clone();
    other.labels_per_round += 1;
    let err = run(&f, &other, &d1).expect_err("config mismatch is refused");
    assert!(err.to_string().contains("different configuration"));
    // run to round 1 only, by simulating a kill after round 1: run the full config in d2 but
    // delete everything of round 2 first
    let _ = run(&f, &cfg, &d2).expect("run b");
    for name in [
        "model_2.safetensors",
        "optim_2.safetensors",
        "labels_2.json",
        "train_2.json",
    ] {
        std::fs::remove_file(d2.join(name)).expect("remove");
    }
    std::fs::write(d2.join("state.json"), r#"{"round":1,"phase":"labelled"}"#).expect("state");
    let b = run(&f, &cfg, &d2).expect("resume");
    let strip = |r: &[ansatz_llome::RoundRecord]| {
        r.iter()
            .map(|x| ansatz_llome::RoundRecord {
                seconds: 0.0,
                work: ansatz_llome::RoundWork {
                    train_seconds: 0.0,
                    generate_seconds: 0.0,
                    ..x.work.clone()
                },
                ..x.clone()
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(strip(&a), strip(&b));
    let w1 = std::fs::read(d1.join("model_2.safetensors")).expect("w1");
    let w2 = std::fs::read(d2.join("model_2.safetensors")).expect("w2");
    assert_eq!(w1, w2, "identical weights after resume");
    // killed after training round 2, before labelling: resumes from the trained model
    std::fs::remove_file(d2.join("labels_2.json")).expect("remove");
    std::fs::write(d2.join("state.json"), r#"{"round":2,"phase":"trained"}"#).expect("state");
    let c = run(&f, &cfg, &d2).expect("resume trained");
    assert_eq!(strip(&a), strip(&c));
    std::fs::remove_dir_all(&d1).ok();
    std::fs::remove_dir_all(&d2).ok();
}

#[test]
fn dpo_and_sft_runs_complete() {
    let f = small_function();
    for obj in ["dpo", "sft"] {
        let mut cfg = toy_config(obj, 1);
        cfg.rounds = 2;
        let d = temp_dir(obj);
        let r = run(&f, &cfg, &d).expect("run");
        assert_eq!(r[2].work.objective, obj);
        assert!(r[2].running_best >= r[0].running_best);
        std::fs::remove_dir_all(&d).ok();
    }
}

#[test]
fn untrained_model_output_is_rejected_not_a_panic() {
    // an untrained model emits junk: every output either parses into L valid symbols or is
    // counted as rejected
    let f = small_function();
    let cfg = toy_config("sft", 0).model.model_config(32, 32);
    let m = Model::new(cfg, 3).expect("model");
    let vocab = Vocab::new(32);
    let g = GenerationConfig {
        num_seeds: 2,
        iterations: 2,
        temperatures: vec![1.0, 3.0],
        samples_per_temperature: 4,
        batch_rows: 7,
    };
    let seeds = vec![f.initial_solution().to_vec(); 2];
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let rep = generate(&m, &vocab, &seeds, &g, 0.0, &mut rng).expect("generate");
    assert_eq!(rep.generated, 2 * 2 * 9);
    let rejected: usize = rep.rejected.values().sum();
    assert_eq!(rep.candidates.len() + rejected, rep.generated);
    assert!(rejected > 0, "an untrained model should produce junk");
    for c in &rep.candidates {
        assert_eq!(c.x.len(), 32);
        assert!(c.x.iter().all(|&s| s < 32));
        assert!(c.loglik <= 0.0);
    }
    // same seed, same output
    let again = generate(
        &m,
        &vocab,
        &seeds,
        &g,
        0.0,
        &mut ChaCha8Rng::seed_from_u64(0),
    )
    .expect("generate");
    assert_eq!(rep, again);
    // the batch size does not change the outputs
    let g2 = GenerationConfig {
        batch_rows: 1000,
        ..g.clone()
    };
    let big = generate(
        &m,
        &vocab,
        &seeds,
        &g2,
        0.0,
        &mut ChaCha8Rng::seed_from_u64(0),
    )
    .expect("generate");
    assert_eq!(rep, big);
    // hand-made junk
    let close = vocab.close();
    assert!(parse_output(&vocab, &[vocab.open(), 1, 2, close], 32).is_err());
    assert!(parse_output(&vocab, &[vocab.open(), vocab.inc(), close], 2).is_err());
    assert!(parse_output(&vocab, &[vocab.open(), 1, 2], 2).is_err());
    assert_eq!(
        parse_output(&vocab, &[vocab.open(), 1, 2, close], 2),
        Ok(vec![1, 2])
    );
}

#[test]
fn a_finished_run_can_be_extended() {
    let f = small_function();
    let cfg = toy_config("marge", 9);
    let (d1, d2) = (temp_dir("ext-a"), temp_dir("ext-b"));
    let full = run(&f, &cfg, &d1).expect("two rounds");
    let mut short = cfg.clone();
    short.rounds = 1;
    assert_eq!(run(&f, &short, &d2).expect("one round").len(), 2);
    let extended = run(&f, &cfg, &d2).expect("extended");
    let strip = |r: &[ansatz_llome::RoundRecord]| {
        r.iter()
            .map(|x| ansatz_llome::RoundRecord {
                seconds: 0.0,
                work: ansatz_llome::RoundWork {
                    train_seconds: 0.0,
                    generate_seconds: 0.0,
                    ..x.work.clone()
                },
                ..x.clone()
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(strip(&full), strip(&extended));
    std::fs::remove_dir_all(&d1).ok();
    std::fs::remove_dir_all(&d2).ok();
}
