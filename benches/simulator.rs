//! One 1000-step rollout of the SGA cube scene, as in BENCHMARKS.md: f64 forward runs, and
//! teacher-forced loss + gradient runs with `DualSVec64<N>` (the fitting workload), on one
//! thread, and (`*_2threads`) as `loss_and_gradient` runs them, the ten teacher-forced
//! segments spread over a 2-thread pool. Also the 3x3 signed SVD alone (`svd_*`).

use ansatz_linalg::{DualSVec64, svd_exact_f64, svd_exact_f64_each, svd_reference_f32};
use ansatz_simulator::materials::{Linear, NeoHookean, VonMises, seed_params};
use ansatz_simulator::{
    LossConfig, Material, Preset, Recording, Scene, SimScalar, Simulator, Trajectory, loss,
    loss_and_gradient, rollout,
};
use criterion::Criterion;
use nalgebra::{Matrix3, Rotation3, Vector3};
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
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .expect("thread pool");
    group.bench_function("elastic_dual2_loss_gradient_2threads", |b| {
        b.iter(|| {
            pool.install(|| {
                loss_and_gradient(
                    &scene,
                    &Preset::Linear,
                    &Linear::<f64>::DEFAULTS,
                    &elastic_gt,
                    &config,
                )
                .expect("loss")
                .gradient[0]
            })
        })
    });
    group.bench_function("plastic_dual3_loss_gradient_2threads", |b| {
        b.iter(|| {
            pool.install(|| {
                loss_and_gradient(
                    &scene,
                    &Preset::VonMises,
                    &VonMises::<f64>::DEFAULTS,
                    &sand_gt,
                    &config,
                )
                .expect("loss")
                .gradient[0]
            })
        })
    });
    group.finish();

    // The signed SVD of 1000 deformation gradients like the simulator's (rotations times
    // mild stretches): one at a time, batched (four in lock step), and the reference's.
    let mats: Vec<Matrix3<f64>> = (0..1000)
        .map(|i| {
            let t = i as f64 * 0.37;
            let r1 = Rotation3::new(Vector3::new(t.sin(), t.cos(), 0.3 * t));
            let r2 = Rotation3::new(Vector3::new(0.2 * t, t.cos(), t.sin()));
            r1.matrix()
                * Matrix3::from_diagonal(&Vector3::new(1.0 + 0.1 * t.sin(), 0.95, 1.02))
                * r2.matrix().transpose()
        })
        .collect();
    let mut group = c.benchmark_group("svd");
    group
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500));
    group.measurement_time(Duration::from_secs(2));
    group.bench_function("exact_one_at_a_time_1000", |b| {
        b.iter(|| {
            mats.iter()
                .map(|f| svd_exact_f64(black_box(f)).sigma[2])
                .sum::<f64>()
        })
    });
    group.bench_function("exact_batched_1000", |b| {
        b.iter(|| {
            let mut s = 0.0;
            svd_exact_f64_each(mats.len(), |i| black_box(mats[i]), |_, x| s += x.sigma[2]);
            s
        })
    });
    group.bench_function("reference_f32_1000", |b| {
        b.iter(|| {
            mats.iter()
                .map(|f| svd_reference_f32(black_box(f)).sigma[2])
                .sum::<f64>()
        })
    });
    group.finish();
}
