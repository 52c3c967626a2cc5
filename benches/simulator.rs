//! One 1000-step rollout of the SGA cube scene, as in BENCHMARKS.md: f64 forward runs, and
//! teacher-forced loss + gradient runs with `DualSVec64<N>` (the fitting workload).

use ansatz_linalg::DualSVec64;
use ansatz_simulator::materials::{Linear, NeoHookean, VonMises, seed_params};
use ansatz_simulator::{
    LossConfig, Material, Recording, Scene, SimScalar, Simulator, Trajectory, loss, rollout,
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

/// Registers the simulator benchmarks.
pub fn benches(c: &mut Criterion) {
    let scene = Scene::sga_cube();
    let elastic_gt = target(&scene, &NeoHookean::default());
    let sand_gt = target(
        &scene,
        &ansatz_simulator::materials::DruckerPrager::default(),
    );
    let config = LossConfig::default();
    let mut group = c.benchmark_group("simulator");
    group.sample_size(10).warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(10));

    group.bench_function("elastic_f64_forward", |b| {
        b.iter(|| forward::<f64, _>(&scene, black_box(&NeoHookean::default())))
    });
    group.bench_function("elastic_dual2_loss_gradient", |b| {
        b.iter(|| {
            let theta = seed_params::<DualSVec64<2>>(&Linear::<f64>::DEFAULTS);
            let law = Linear::from_params(&theta).expect("two parameters");
            loss(&scene, &law, &elastic_gt, &config)
                .expect("loss")
                .position
        })
    });
    group.bench_function("elastic_dual4_loss_gradient", |b| {
        b.iter(|| {
            // Two law parameters carried in four derivative directions (the cost of a
            // 4-parameter law's rollout).
            let theta = seed_params::<DualSVec64<4>>(&[10.0, -1.0, 0.0, 0.0]);
            let law = Linear::from_params(&theta[..2]).expect("two parameters");
            loss(&scene, &law, &elastic_gt, &config)
                .expect("loss")
                .position
        })
    });
    group.bench_function("elastic_dual2_forward", |b| {
        b.iter(|| {
            let theta = seed_params::<DualSVec64<2>>(&NeoHookean::<f64>::DEFAULTS);
            let law = NeoHookean::from_params(&theta).expect("two parameters");
            forward::<DualSVec64<2>, _>(&scene, &law)
        })
    });
    group.bench_function("plastic_f64_forward", |b| {
        b.iter(|| forward::<f64, _>(&scene, black_box(&VonMises::default())))
    });
    group.bench_function("plastic_dual3_loss_gradient", |b| {
        b.iter(|| {
            let theta = seed_params::<DualSVec64<3>>(&VonMises::<f64>::DEFAULTS);
            let law = VonMises::from_params(&theta).expect("three parameters");
            loss(&scene, &law, &sand_gt, &config)
                .expect("loss")
                .position
        })
    });
    group.finish();
}
