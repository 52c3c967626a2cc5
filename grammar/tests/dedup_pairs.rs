//! The deduplication keys on real law pairs (`tests/data/dedup_pairs.toml` of the
//! repository): every equivalent pair shares the canonical hash or the numeric
//! fingerprint, no different pair shares either. (The root crate's `law::dedup_pairs`
//! test runs the same pairs through the engine's key decision.)

use ansatz_grammar::{CheckedProgram, Signature, egraph, fingerprint, load};

const PAIRS: &str = include_str!("../../tests/data/dedup_pairs.toml");

/// One pair as the file writes it.
#[derive(Default)]
struct Pair {
    group: String,
    name: String,
    signature: Option<String>,
    a: String,
    b: String,
}

/// Reads the pair file: `[[group]]` headers, `key = "text"` and `key = '''text'''`.
fn pairs() -> Vec<Pair> {
    let mut out: Vec<Pair> = Vec::new();
    let mut lines = PAIRS.lines();
    while let Some(line) = lines.next() {
        let line = line.trim();
        if line.starts_with('#') {
            continue;
        }
        if let Some(group) = line.strip_prefix("[[").and_then(|l| l.strip_suffix("]]")) {
            out.push(Pair {
                group: group.to_string(),
                ..Pair::default()
            });
            continue;
        }
        let Some((key, value)) = line.split_once(" = ") else {
            continue;
        };
        let value = if let Some(rest) = value.strip_prefix("'''") {
            let mut text = rest.to_string();
            while !text.ends_with("'''") {
                text.push('\n');
                text.push_str(lines.next().expect("a closing '''"));
            }
            text.trim_end_matches("'''").trim().to_string()
        } else {
            value.trim_matches('"').to_string()
        };
        let pair = out.last_mut().expect("a [[group]] first");
        match key {
            "name" => pair.name = value,
            "signature" => pair.signature = Some(value),
            "a" => pair.a = value,
            "b" => pair.b = value,
            other => panic!("unknown key {other}"),
        }
    }
    out
}

fn law(src: &str, sig: &Signature, name: &str) -> CheckedProgram {
    load(src, sig).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn equivalent_pairs_share_a_key_and_different_pairs_do_not() {
    let pairs = pairs();
    let count = |g: &str| pairs.iter().filter(|p| p.group == g).count();
    assert!(count("equivalent") >= 50 && count("different") >= 50);
    let (mut by_hash, mut by_fingerprint_only) = (0, 0);
    let (mut missed, mut merged) = (Vec::new(), Vec::new());
    for p in &pairs {
        let sig: Signature = p
            .signature
            .as_deref()
            .unwrap_or("F: mat3 -> mat3")
            .parse()
            .expect("a signature");
        let (a, b) = (law(&p.a, &sig, &p.name), law(&p.b, &sig, &p.name));
        let (ca, cb) = (egraph::canonical(&a), egraph::canonical(&b));
        let (fa, fb) = (fingerprint(&a), fingerprint(&b));
        let hash = ca.hash == cb.hash;
        let print = fa.is_some() && fa == fb;
        match (p.group.as_str(), hash, print) {
            ("equivalent", true, _) => by_hash += 1,
            ("equivalent", false, true) => by_fingerprint_only += 1,
            ("equivalent", false, false) => missed.push(format!(
                "{}:\n  {} {fa:?}\n  {} {fb:?}",
                p.name, ca.form, cb.form
            )),
            ("different", false, false) => {}
            ("different", ..) => {
                merged.push(format!("{} (hash {hash}, fingerprint {print})", p.name))
            }
            (g, ..) => panic!("unknown group {g}"),
        }
    }
    eprintln!(
        "{} equivalent pairs: {by_hash} share the canonical hash, {by_fingerprint_only} only \
         the fingerprint; {} different pairs",
        count("equivalent"),
        count("different")
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
