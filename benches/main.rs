//! Criterion benchmarks of ansatz: one binary built from modules.
//!
//! Run: `cargo bench --bench benches -- <filter>` (e.g. `simulator`).

use criterion::{criterion_group, criterion_main};

mod simulator;

criterion_group!(benches, simulator::benches);
criterion_main!(benches);
