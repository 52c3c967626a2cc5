//! Measures the evaluator's cost per call for two reference laws, in f64 and with
//! `DualSVec64<3>` parameters (run with `cargo run --release --example eval_cost`).
//! A measurement, not a test: the numbers depend on the machine and its load.

use ansatz_grammar::{Compiled, Signature, load};
use ansatz_linalg::{DualSVec64, Real};
use nalgebra::Matrix3;
use std::hint::black_box;
use std::time::Instant;

fn matrices(n: usize) -> Vec<Matrix3<f64>> {
    (0..n)
        .map(|k| {
            let t = k as f64 * 0.37;
            Matrix3::new(
                1.0 + 0.2 * t.sin(),
                0.1 * t.cos(),
                0.05,
                -0.03 * t.sin(),
                0.9 + 0.1 * t.cos(),
                0.02,
                0.04,
                0.01,
                1.1 - 0.1 * t.sin(),
            )
        })
        .collect()
}

fn time<T: Real>(c: &Compiled, fs: &[Matrix3<T>], params: &[T]) -> f64 {
    let mut scratch = c.scratch::<T>();
    let mut out = vec![Matrix3::<T>::zeros(); fs.len()];
    c.eval_mat3_batch(fs, params, &mut out, &mut scratch)
        .unwrap();
    let mut best = f64::INFINITY;
    for _ in 0..7 {
        let start = Instant::now();
        for _ in 0..20 {
            c.eval_mat3_batch(black_box(fs), black_box(params), &mut out, &mut scratch)
                .unwrap();
        }
        best = best.min(start.elapsed().as_secs_f64() / (20 * fs.len()) as f64);
    }
    black_box(&out);
    best * 1e9
}

fn main() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../tasks/laws");
    let fs = matrices(1000);
    let extra: Vec<String> = std::env::args().skip(1).collect();
    let names: Vec<String> = if extra.is_empty() {
        ["neohookean", "plasticine", "sand", "imaginary"]
            .iter()
            .map(|s| s.to_string())
            .collect()
    } else {
        extra
    };
    for name in &names {
        let src = if name.contains("return") {
            name.replace(';', "\n")
        } else {
            std::fs::read_to_string(format!("{root}/{name}.law")).unwrap()
        };
        let name = if name.len() > 12 {
            &name[name.len() - 12..]
        } else {
            name.as_str()
        };
        let c = load(&src, &Signature::elastic()).unwrap().into_compiled();
        let th = c.defaults().to_vec();
        let f64_ns = time::<f64>(&c, &fs, &th);
        let fd: Vec<Matrix3<DualSVec64<3>>> =
            fs.iter().map(|f| f.map(DualSVec64::<3>::cst)).collect();
        let pd = Compiled::seed_params::<DualSVec64<3>>(&th);
        let d_ns = if th.len() <= 3 {
            format!("{:8.0}", time(&c, &fd, &pd))
        } else {
            "     n/a".into()
        };
        println!(
            "{name:<12} {:>3} instructions   f64 {f64_ns:8.0} ns/call   DualSVec64<3> {d_ns} ns/call",
            c.len()
        );
    }
}
