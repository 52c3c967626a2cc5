//! The five SGA ground truths are reproduced by the hand-written laws, with the exact SVD
//! (the default) and, more closely, with the reference's own approximate SVD.

mod common;

use ansatz_linalg::SvdMethod;
use ansatz_simulator::materials::{DruckerPrager, Mixture, NeoHookean, VonMises, Water};
use ansatz_simulator::{Material, Recording, Scene, rollout};
use common::{ground_truth, max_position_difference};

/// Rolls `material` out with each SVD method and checks the largest position difference
/// to the reference over all 1001 frames: at most 1e-4 with the exact SVD (the issue's
/// bound), and at most `reference_bound` with the reference's SVD.
fn check(name: &str, material: &dyn Material<f64>, reference_bound: f64) {
    for (svd, bound) in [
        (SvdMethod::Exact, 1e-4),
        (SvdMethod::Reference, reference_bound),
    ] {
        check_with(name, material, svd, bound);
    }
}

fn check_with(name: &str, material: &dyn Material<f64>, svd: SvdMethod, bound: f64) {
    let reference = ground_truth(name);
    assert_eq!(
        reference.frames.len(),
        1001,
        "{name}: frames in the reference"
    );
    let scene = Scene {
        svd,
        ..Scene::sga_cube()
    };
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
    println!(
        "{name}, {} SVD: max |dx| over 1001 frames = {max:.3e} (worst frame {frame})",
        svd.name()
    );
    assert!(
        max <= bound,
        "{name}, {} SVD: max |dx| = {max:e} at frame {frame}",
        svd.name()
    );
}

#[test]
fn neohookean() {
    check("neohookean", &NeoHookean::default(), 1e-4);
}

#[test]
fn plasticine() {
    check("plasticine", &VonMises::default(), 1e-5);
}

#[test]
fn sand() {
    check("sand", &DruckerPrager::default(), 2e-5);
}

#[test]
fn water() {
    check("water", &Water, 1e-4);
}

#[test]
fn rebuttal() {
    check("rebuttal", &Mixture::default(), 3e-5);
}
