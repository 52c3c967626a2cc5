//! The deduplication decision on real law pairs (`tests/data/dedup_pairs.toml`): every
//! equivalent pair shares a key (the e-graph's canonical hash or the numeric fingerprint),
//! no different pair does, and a law that is undefined everywhere never shares one with a
//! valid law.

use super::{LawDetail, screen};
use ansatz_engine::{Proposal, ProposerKind, Tokens, dedup_keys};
use ansatz_grammar::Signature;
use serde::Deserialize;
use std::collections::BTreeSet;

#[derive(Deserialize)]
struct Pairs {
    equivalent: Vec<Pair>,
    different: Vec<Pair>,
}

#[derive(Deserialize)]
struct Pair {
    name: String,
    signature: Option<String>,
    a: String,
    b: String,
}

/// The screened detail of a law written as a bare program.
fn detail(text: &str, signature: &Signature, name: &str) -> LawDetail {
    let proposal = Proposal {
        proposer: ProposerKind::Evolve,
        how: String::new(),
        parents: Vec::new(),
        text: text.trim().to_string(),
        tokens: Tokens::default(),
        error: None,
        cut: None,
    };
    let s = screen(&proposal, signature);
    if let Err((stage, message)) = &s.outcome {
        panic!("{name}: rejected at {stage}: {message}\n{text}");
    }
    s.detail
}

/// Which keys two laws share: (canonical hash, fingerprint).
fn shared(a: &LawDetail, b: &LawDetail) -> (bool, bool) {
    let kb: BTreeSet<String> = dedup_keys(b).collect();
    let ka: BTreeSet<String> = dedup_keys(a).collect();
    let both = |k: &String| kb.contains(k);
    (
        ka.iter().filter(|k| !k.starts_with("2:")).any(both),
        ka.iter().filter(|k| k.starts_with("2:")).any(both),
    )
}

fn pairs() -> Pairs {
    toml::from_str(include_str!("../../tests/data/dedup_pairs.toml")).expect("the pair file")
}

fn details(p: &Pair) -> (LawDetail, LawDetail) {
    let signature: Signature = p
        .signature
        .as_deref()
        .unwrap_or("F: mat3 -> mat3")
        .parse()
        .expect("a signature");
    (
        detail(&p.a, &signature, &p.name),
        detail(&p.b, &signature, &p.name),
    )
}

#[test]
fn equivalent_pairs_share_a_key_and_different_pairs_do_not() {
    let pairs = pairs();
    assert!(pairs.equivalent.len() >= 50 && pairs.different.len() >= 50);
    let (mut by_hash, mut by_fingerprint_only) = (0, 0);
    let mut missed = Vec::new();
    for p in &pairs.equivalent {
        let (a, b) = details(p);
        match shared(&a, &b) {
            (true, _) => by_hash += 1,
            (false, true) => by_fingerprint_only += 1,
            (false, false) => missed.push(format!(
                "{}:\n  {:?} {:?}\n  {:?} {:?}",
                p.name, a.canonical, a.fingerprint, b.canonical, b.fingerprint
            )),
        }
    }
    let mut merged = Vec::new();
    for p in &pairs.different {
        let (a, b) = details(p);
        let (h, f) = shared(&a, &b);
        if h || f {
            merged.push(format!("{} (hash {h}, fingerprint {f})", p.name));
        }
    }
    eprintln!(
        "{} equivalent pairs: {by_hash} share the canonical hash, {by_fingerprint_only} only \
         the fingerprint; {} different pairs",
        pairs.equivalent.len(),
        pairs.different.len()
    );
    assert!(
        missed.is_empty(),
        "equivalent pairs not deduplicated:\n{}",
        missed.join("\n")
    );
    assert!(
        merged.is_empty(),
        "different pairs deduplicated: {merged:?}"
    );
}

#[test]
fn an_undefined_law_shares_no_key_with_a_valid_one() {
    let sig = Signature::elastic();
    let nan = detail("return (F - F) / (det(F) - det(F)) + F", &sig, "nan");
    let f = detail("return F", &sig, "F");
    assert_eq!(nan.fingerprint, None);
    assert_eq!(shared(&nan, &f), (false, false));
    assert_ne!(nan.canonical, f.canonical);
}
