//! The five SGA ground truths are reproduced by the hand-written laws.

mod common;

use ansatz_simulator::materials::{DruckerPrager, Mixture, NeoHookean, VonMises, Water};
use ansatz_simulator::{Material, Recording, Scene, rollout};
use common::{ground_truth, max_position_difference};

fn check(name: &str, material: &dyn Material<f64>) {
    let reference = ground_truth(name);
    assert_eq!(
        reference.frames.len(),
        1001,
        "{name}: frames in the reference"
    );
    let scene = Scene::sga_cube();
    let ours = rollout::<f64, _>(
        &scene,
        material,
        Recording {
            velocities: false,
            states_every: None,
        },
    )
    .unwrap_or_else(|e| panic!("{name}: {e}"));
    let (max, frame) = max_position_difference(&ours, &reference);
    println!("{name}: max |dx| over 1001 frames = {max:.3e} (worst frame {frame})");
    assert!(max <= 1e-4, "{name}: max |dx| = {max:e} at frame {frame}");
}

#[test]
fn neohookean() {
    check("neohookean", &NeoHookean::default());
}

#[test]
fn plasticine() {
    check("plasticine", &VonMises::default());
}

#[test]
fn sand() {
    check("sand", &DruckerPrager::default());
}

#[test]
fn water() {
    check("water", &Water);
}

#[test]
fn rebuttal() {
    check("rebuttal", &Mixture::default());
}
