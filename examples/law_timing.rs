//! Forward rollouts of the SGA cube with a hand-written law or its `.law` program, for
//! profiling (the criterion group `law` in `benches/law.rs` is the reference measurement).
//!
//! `cargo run --release --example law_timing -- <rust|law> <neohookean|plasticine>
//! <f64|dual> [steps]`; `dual` is `DualSVec64<2>` for neo-Hookean and `DualSVec64<3>` for
//! plasticine. Under `valgrind --tool=callgrind` a few tens of steps give stable
//! instruction counts (BENCHMARKS.md, "Law programs in the simulator").

use ansatz::kinds::mpm::material::LawMaterial;
use ansatz_grammar::{Signature, load};
use ansatz_linalg::DualSVec64;
use ansatz_simulator::materials::{NeoHookean, VonMises, seed_params};
use ansatz_simulator::{Material, MaterialKind, Scene, SimScalar, Simulator};
use std::time::Instant;

fn forward<T: SimScalar>(scene: &Scene, material: &dyn Material<T>, steps: usize) -> f64 {
    let mut sim = Simulator::<T>::new(scene).expect("valid scene");
    for step in 0..steps {
        sim.advance(material, step).expect("finite rollout");
    }
    sim.position(0)[0].re()
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: law_timing <rust|law> <neohookean|plasticine> <f64|dual> [steps]";
    let [which, name, scalar] = [0, 1, 2].map(|k| args.get(k).expect(usage).as_str());
    let scene = Scene::sga_cube();
    let steps = args.get(3).map_or(scene.steps, |s| s.parse().expect(usage));
    let path = format!("{}/tasks/laws/{name}.law", env!("CARGO_MANIFEST_DIR"));
    let src = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let law = load(&src, &Signature::elastic()).unwrap_or_else(|e| panic!("{path}: {e}"));
    let c = law.compiled();
    let kind = match name {
        "neohookean" => MaterialKind::Elastic,
        _ => MaterialKind::Plastic,
    };
    let start = Instant::now();
    let x = match (which, name, scalar) {
        ("rust", "neohookean", "f64") => forward::<f64>(&scene, &NeoHookean::default(), steps),
        ("rust", "plasticine", "f64") => forward::<f64>(&scene, &VonMises::default(), steps),
        ("law", _, "f64") => {
            let m = LawMaterial::new(c, c.defaults(), kind).expect("parameters");
            forward::<f64>(&scene, &m, steps)
        }
        ("rust", "neohookean", "dual") => {
            let theta = seed_params::<DualSVec64<2>>(&NeoHookean::<f64>::DEFAULTS);
            let m = NeoHookean::from_params(&theta).expect("parameters");
            forward::<DualSVec64<2>>(&scene, &m, steps)
        }
        ("law", "neohookean", "dual") => {
            let theta = seed_params::<DualSVec64<2>>(c.defaults());
            let m = LawMaterial::new(c, &theta, kind).expect("parameters");
            forward::<DualSVec64<2>>(&scene, &m, steps)
        }
        ("rust", "plasticine", "dual") => {
            let theta = seed_params::<DualSVec64<3>>(&VonMises::<f64>::DEFAULTS);
            let m = VonMises::from_params(&theta).expect("parameters");
            forward::<DualSVec64<3>>(&scene, &m, steps)
        }
        ("law", "plasticine", "dual") => {
            let theta = seed_params::<DualSVec64<3>>(c.defaults());
            let m = LawMaterial::new(c, &theta, kind).expect("parameters");
            forward::<DualSVec64<3>>(&scene, &m, steps)
        }
        _ => panic!("{usage}"),
    };
    println!(
        "{which} {name} {scalar}: {steps} steps in {:.3} s (x0 = {x})",
        start.elapsed().as_secs_f64()
    );
}
