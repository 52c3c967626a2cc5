//! Quick timing of the signed SVD, one matrix at a time and batched:
//! `cargo run --release -p ansatz-linalg --example svd_timing`.
use ansatz_linalg::{svd_exact_f64, svd_exact_f64_each, svd_reference_f32};
use nalgebra::Matrix3;
use std::hint::black_box;
use std::time::Instant;

fn main() {
    // Deformation gradients like the simulator's: rotations times mild stretches.
    let mats: Vec<Matrix3<f64>> = (0..1000)
        .map(|i| {
            let t = i as f64 * 0.37;
            let r = nalgebra::Rotation3::new(nalgebra::Vector3::new(t.sin(), t.cos(), 0.3 * t));
            let r2 = nalgebra::Rotation3::new(nalgebra::Vector3::new(0.2 * t, t.cos(), t.sin()));
            r.matrix()
                * Matrix3::from_diagonal(&nalgebra::Vector3::new(1.0 + 0.1 * t.sin(), 0.95, 1.02))
                * r2.matrix().transpose()
        })
        .collect();
    let reps: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(2000);
    let time = |name: &str, f: &dyn Fn() -> f64| {
        let t = Instant::now();
        let mut sink = 0.0;
        for _ in 0..reps {
            sink += f();
        }
        let ns = t.elapsed().as_secs_f64() / (reps * mats.len()) as f64 * 1e9;
        println!("{name}: {ns:.0} ns per matrix ({sink:.3})");
    };
    time("exact, one at a time", &|| {
        mats.iter()
            .map(|f| svd_exact_f64(black_box(f)).sigma[2])
            .sum()
    });
    time("exact, batched", &|| {
        let mut s = 0.0;
        svd_exact_f64_each(mats.len(), |i| black_box(mats[i]), |_, x| s += x.sigma[2]);
        s
    });
    time("reference f32", &|| {
        mats.iter()
            .map(|f| svd_reference_f32(black_box(f)).sigma[2])
            .sum()
    });
}
