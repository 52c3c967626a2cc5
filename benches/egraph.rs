//! Simplifying and hashing every law of `tasks/laws` in the e-graph layer (target: under
//! 50 ms per law for `simplify`, see BENCHMARKS.md).

use ansatz_grammar::{Signature, egraph, load};
use criterion::Criterion;
use std::hint::black_box;
use std::time::Duration;

/// Registers the e-graph benchmarks: `egraph/simplify/<law>` (the readable simplified
/// law and the canonical identity: two e-graph runs) and `egraph/canonical/<law>` (the
/// identity alone, as the search computes it for every candidate).
pub fn benches(c: &mut Criterion) {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tasks/laws");
    let mut laws: Vec<_> = std::fs::read_dir(dir)
        .expect("tasks/laws")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "law"))
        .collect();
    laws.sort();
    let mut group = c.benchmark_group("egraph");
    group
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    for path in &laws {
        let name = path.file_stem().expect("file name").to_string_lossy();
        let src = std::fs::read_to_string(path).expect("readable law");
        let law = load(&src, &Signature::elastic()).expect("reference laws check");
        group.bench_function(format!("simplify/{name}"), |b| {
            b.iter(|| black_box(egraph::simplify(black_box(&law))))
        });
        group.bench_function(format!("canonical/{name}"), |b| {
            b.iter(|| black_box(egraph::canonical(black_box(&law))))
        });
    }
    group.finish();
}
