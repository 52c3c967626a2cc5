//! Criterion benchmarks of ansatz: one binary built from modules.
//!
//! Run: `cargo bench --bench benches -- <filter>` (e.g. `simulator`, `law`, `egraph`).

use criterion::{criterion_group, criterion_main};

mod egraph;
mod law;
mod simulator;

criterion_group!(benches, simulator::benches, law::benches, egraph::benches);
criterion_main!(benches);
