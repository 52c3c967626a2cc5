//! Criterion benchmarks of ansatz: one binary built from modules.
//!
//! Run: `cargo bench --bench benches -- <filter>` (e.g. `simulator`, `law`).

use criterion::{criterion_group, criterion_main};

mod law;
mod simulator;

criterion_group!(benches, simulator::benches, law::benches);
criterion_main!(benches);
