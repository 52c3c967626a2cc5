//! Quick timing of 1000-step rollouts of the SGA cube (the criterion benchmarks in
//! `benches/simulator.rs` are the reference measurement; this is for profiling).
//!
//! `cargo run --release -p ansatz-simulator --example timing [which]` with `which` one of
//! `f64`, `dual2`, `dual4`, `plastic`, `plastic3` (default: all).

use ansatz_linalg::DualSVec64;
use ansatz_simulator::materials::{Linear, NeoHookean, VonMises, seed_params};
use ansatz_simulator::{LossConfig, Material, Recording, Scene, Simulator, loss, rollout};
use std::time::Instant;

fn forward<M: Material<f64>>(scene: &Scene, m: &M) -> f64 {
    let mut sim = Simulator::<f64>::new(scene).expect("valid scene");
    for s in 0..scene.steps {
        sim.advance(m, s).expect("finite rollout");
    }
    sim.position(0)[0]
}

/// CPU time of this thread in seconds (Linux schedstat), or NaN elsewhere.
fn cpu_time() -> f64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<f64>().ok())
        .map_or(f64::NAN, |ns| ns * 1e-9)
}

fn time(name: &str, repeats: usize, mut f: impl FnMut() -> f64) {
    let mut times = Vec::new();
    let mut cpu = Vec::new();
    let mut sink = 0.0;
    for _ in 0..repeats {
        let t = Instant::now();
        let c = cpu_time();
        sink += f();
        cpu.push(cpu_time() - c);
        times.push(t.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    cpu.sort_by(f64::total_cmp);
    println!(
        "{name}: median wall {:.4} s, cpu {:.4} s over {repeats} ({sink:.3})",
        times[repeats / 2],
        cpu[repeats / 2]
    );
}

fn main() {
    let which = std::env::args().nth(1).unwrap_or_default();
    let run = |w: &str| which.is_empty() || which == w;
    let mut scene = Scene::sga_cube();
    if let Some(steps) = std::env::args().nth(2).and_then(|s| s.parse().ok()) {
        scene.steps = steps;
    }
    let repeats = if scene.steps < 1000 { 1 } else { 5 };
    let recording = Recording {
        velocities: false,
        states_every: Some(100),
    };
    let elastic_gt = if run("dual2") || run("dual4") {
        rollout::<f64, _>(&scene, &NeoHookean::default(), recording).expect("gt")
    } else {
        Default::default()
    };
    let plastic_gt = if run("plastic3") {
        rollout::<f64, _>(&scene, &VonMises::default(), recording).expect("gt")
    } else {
        Default::default()
    };
    let config = LossConfig::default();
    if run("f64") {
        time("elastic f64 forward", repeats, || {
            forward(&scene, &NeoHookean::default())
        });
    }
    if run("dual2") {
        time("elastic dual2 loss+grad", repeats, || {
            let law = Linear::from_params(&seed_params::<DualSVec64<2>>(&[10.0, -1.0])).expect("2");
            loss(&scene, &law, &elastic_gt, &config)
                .expect("loss")
                .position
                .re
        });
    }
    if run("dual4") {
        time("elastic dual4 loss+grad", repeats, || {
            let p = seed_params::<DualSVec64<4>>(&[10.0, -1.0, 0.0, 0.0]);
            let law = Linear::from_params(&p[..2]).expect("2");
            loss(&scene, &law, &elastic_gt, &config)
                .expect("loss")
                .position
                .re
        });
    }
    if run("plastic") {
        time("plastic f64 forward", repeats, || {
            forward(&scene, &VonMises::default())
        });
    }
    if run("plastic3") {
        time("plastic dual3 loss+grad", repeats, || {
            let p = seed_params::<DualSVec64<3>>(&VonMises::<f64>::DEFAULTS);
            let law = VonMises::from_params(&p).expect("3");
            loss(&scene, &law, &plastic_gt, &config)
                .expect("loss")
                .position
                .re
        });
    }
}
