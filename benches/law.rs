//! A law program inside the simulator against the hand-written Rust material, as in
//! BENCHMARKS.md ("Law programs in the simulator"): one 1000-step rollout of the SGA cube
//! scene per sample, with `ansatz::kinds::mpm::material::LawMaterial` (the compiled `.law` file, evaluated
//! in batches over all particles) or the hand-written law of `ansatz_simulator::materials`.
//! Compare each `law_*` row with its `rust_*` twin from the same run.

use ansatz::kinds::mpm::material::LawMaterial;
use ansatz_grammar::{CheckedProgram, Signature, load};
use ansatz_linalg::DualSVec64;
use ansatz_simulator::materials::{DruckerPrager, NeoHookean, VonMises, seed_params};
use ansatz_simulator::{
    LossConfig, Material, MaterialKind, Recording, Scene, SimScalar, Simulator, Trajectory, loss,
    rollout,
};
use criterion::Criterion;
use std::hint::black_box;
use std::time::Duration;

/// A forward rollout of `scene.steps` steps, nothing recorded.
fn forward<T: SimScalar, M: Material<T>>(scene: &Scene, material: &M) -> f64 {
    let mut sim = Simulator::<T>::new(scene).expect("valid scene");
    for step in 0..scene.steps {
        sim.advance(material, step).expect("finite rollout");
    }
    ansatz_linalg::Real::re(&sim.position(0)[0])
}

fn target(scene: &Scene, material: &dyn Material<f64>) -> Trajectory {
    let recording = Recording {
        velocities: true,
        states_every: Some(100),
    };
    rollout::<f64, _>(scene, material, recording).expect("ground truth")
}

fn law(name: &str) -> CheckedProgram {
    let path = format!("{}/tasks/laws/{name}.law", env!("CARGO_MANIFEST_DIR"));
    let src = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    // Elastic and plastic laws share the signature `F: mat3 -> mat3`.
    load(&src, &Signature::elastic()).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Registers the law-versus-Rust benchmarks.
pub fn benches(c: &mut Criterion) {
    let scene = Scene::sga_cube();
    let elastic_gt = target(&scene, &NeoHookean::default());
    let sand_gt = target(&scene, &DruckerPrager::default());
    let config = LossConfig::default();
    let neohookean = law("neohookean");
    let plasticine = law("plasticine");
    let (nh, vm) = (neohookean.compiled(), plasticine.compiled());
    assert_eq!(nh.defaults(), NeoHookean::<f64>::DEFAULTS);
    assert_eq!(vm.defaults(), VonMises::<f64>::DEFAULTS);

    let mut group = c.benchmark_group("law");
    group.sample_size(10).warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(10));

    group.bench_function("rust_neohookean_f64_forward", |b| {
        b.iter(|| forward::<f64, _>(&scene, black_box(&NeoHookean::default())))
    });
    group.bench_function("law_neohookean_f64_forward", |b| {
        b.iter(|| {
            let m = LawMaterial::new(nh, nh.defaults(), MaterialKind::Elastic).expect("params");
            forward::<f64, _>(&scene, black_box(&m))
        })
    });
    group.bench_function("rust_neohookean_dual2_loss_gradient", |b| {
        b.iter(|| {
            let theta = seed_params::<DualSVec64<2>>(&NeoHookean::<f64>::DEFAULTS);
            let m = NeoHookean::from_params(&theta).expect("two parameters");
            loss(&scene, &m, &elastic_gt, &config)
                .expect("loss")
                .position
        })
    });
    group.bench_function("law_neohookean_dual2_loss_gradient", |b| {
        b.iter(|| {
            let theta = seed_params::<DualSVec64<2>>(nh.defaults());
            let m = LawMaterial::new(nh, &theta, MaterialKind::Elastic).expect("params");
            loss(&scene, &m, &elastic_gt, &config)
                .expect("loss")
                .position
        })
    });
    group.bench_function("rust_von_mises_f64_forward", |b| {
        b.iter(|| forward::<f64, _>(&scene, black_box(&VonMises::default())))
    });
    group.bench_function("law_plasticine_f64_forward", |b| {
        b.iter(|| {
            let m = LawMaterial::new(vm, vm.defaults(), MaterialKind::Plastic).expect("params");
            forward::<f64, _>(&scene, black_box(&m))
        })
    });
    group.bench_function("rust_von_mises_dual3_loss_gradient", |b| {
        b.iter(|| {
            let theta = seed_params::<DualSVec64<3>>(&VonMises::<f64>::DEFAULTS);
            let m = VonMises::from_params(&theta).expect("three parameters");
            loss(&scene, &m, &sand_gt, &config).expect("loss").position
        })
    });
    group.bench_function("law_plasticine_dual3_loss_gradient", |b| {
        b.iter(|| {
            let theta = seed_params::<DualSVec64<3>>(vm.defaults());
            let m = LawMaterial::new(vm, &theta, MaterialKind::Plastic).expect("params");
            loss(&scene, &m, &sand_gt, &config).expect("loss").position
        })
    });
    group.finish();
}
