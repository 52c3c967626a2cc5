//! Trajectory files: the reference format decodes, our files round-trip, NumPy reads them.

mod common;

use ansatz_simulator::materials::NeoHookean;
use ansatz_simulator::{LossConfig, Recording, Scene, Trajectory, loss, rollout};
use std::path::PathBuf;
use std::process::Command;

fn short_rollout() -> (Scene, Trajectory) {
    let mut scene = Scene::sga_cube();
    scene.steps = 30;
    let recording = Recording {
        velocities: true,
        states_every: Some(10),
    };
    let traj = rollout::<f64, _>(&scene, &NeoHookean::default(), recording).unwrap();
    (scene, traj)
}

fn temp_file(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("ansatz-sim-{}-{name}", std::process::id()))
}

#[test]
fn reference_file_decodes() {
    let gt = common::ground_truth("neohookean");
    assert_eq!(gt.frames, (0..=1000).collect::<Vec<_>>());
    assert_eq!(gt.n_particles(), 1000);
    // Frame 0 is the SGA cube (float32-rounded).
    let scene = Scene::sga_cube();
    for (a, b) in gt.positions[0].iter().zip(&scene.positions) {
        assert!((a - b).amax() < 1e-7);
    }
    // Teacher states at 0, 100, ..., 1000 agree with the positions of the same frames.
    assert_eq!(gt.states.len(), 11);
    let (frame, state) = &gt.states[3];
    assert_eq!(*frame, 300);
    assert_eq!(state.x, gt.positions[300]);
    assert!((state.f[0].determinant() - 1.0).abs() < 0.2);
}

#[test]
fn npz_round_trip() {
    let (_, traj) = short_rollout();
    let path = temp_file("roundtrip.npz");
    traj.write_npz(&path).unwrap();
    let back = Trajectory::read_npz(&path).unwrap();
    std::fs::remove_file(&path).ok();
    assert_eq!(back, traj);
}

#[test]
fn sparse_positions_only_target() {
    // A user's observation: positions at every 5th frame, no velocities, no states.
    let (scene, traj) = short_rollout();
    let mut sparse = Trajectory::default();
    for (i, &f) in traj.frames.iter().enumerate().filter(|(_, f)| **f % 5 == 0) {
        sparse.frames.push(f);
        sparse.positions.push(traj.positions[i].clone());
    }
    let free = LossConfig {
        teacher_every: None,
        ..LossConfig::default()
    };
    let report = loss::<f64, _>(&scene, &NeoHookean::default(), &sparse, &free).unwrap();
    assert_eq!(report.frames.len(), 6); // frames 5, 10, ..., 30
    assert!(report.position.abs() < 1e-20 && report.velocity.is_none());
    // Teacher forcing needs full states: refused with a clear error.
    let err = loss::<f64, _>(
        &scene,
        &NeoHookean::default(),
        &sparse,
        &LossConfig::default(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("full state of frame 0"), "{err}");
}

fn has_numpy(test: &str) -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import numpy"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        println!("SKIPPED {test}: python3 with numpy is not available");
    }
    ok
}

#[test]
fn reads_a_users_numpy_file() {
    if !has_numpy("reads_a_users_numpy_file") {
        return;
    }
    // A user's observation saved with np.savez_compressed: float32 positions of 4 frames
    // (frames 0, 5, 10, 15) and velocities, as a person would write it.
    let (scene, traj) = short_rollout();
    let path = temp_file("user.npz");
    let src = temp_file("user-src.npz");
    traj.write_npz(&src).unwrap();
    let script = format!(
        "import numpy as np\n\
         d = np.load({:?})\n\
         np.savez_compressed({:?}, x=d['x'][0:16:5].astype(np.float32), \
         v=d['v'][0:16:5].astype(np.float32), frames=np.array([0, 5, 10, 15], dtype=np.int32))\n",
        src.display().to_string(),
        path.display().to_string()
    );
    let out = Command::new("python3")
        .args(["-c", &script])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "numpy failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let user = Trajectory::read_npz(&path).unwrap();
    std::fs::remove_file(&path).ok();
    std::fs::remove_file(&src).ok();
    assert_eq!(user.frames, vec![0, 5, 10, 15]);
    assert!(user.states.is_empty());
    assert!((user.positions[3][7] - traj.positions[15][7]).amax() < 1e-6);
    let free = LossConfig {
        teacher_every: None,
        ..LossConfig::default()
    };
    let report = loss::<f64, _>(&scene, &NeoHookean::default(), &user, &free).unwrap();
    assert_eq!(report.frames.len(), 3);
    // Only float32 rounding separates the observation from the law that made it.
    assert!(
        report.position < 1e-8 && report.velocity.unwrap() < 1e-8,
        "{report:?}"
    );
}

#[test]
fn numpy_loads_written_files() {
    if !has_numpy("numpy_loads_written_files") {
        return;
    }
    let (_, traj) = short_rollout();
    let path = temp_file("numpy.npz");
    traj.write_npz(&path).unwrap();
    let script = format!(
        "import numpy as np\n\
         d = np.load({:?})\n\
         assert d['x'].shape == (31, 1000, 3) and d['x'].dtype == np.float64\n\
         assert d['v'].shape == (31, 1000, 3)\n\
         assert list(d['frames']) == list(range(31))\n\
         assert list(d['teacher_frames']) == [0, 10, 20, 30]\n\
         assert d['F_tf'].shape == (4, 1000, 3, 3)\n\
         print(repr(float(d['x'][30, 999, 1])), repr(float(d['F_tf'][3, 5, 0, 1])))\n",
        path.display().to_string()
    );
    let out = Command::new("python3")
        .args(["-c", &script])
        .output()
        .unwrap();
    std::fs::remove_file(&path).ok();
    assert!(
        out.status.success(),
        "numpy failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let values: Vec<f64> = text
        .split_whitespace()
        .map(|s| s.parse().unwrap())
        .collect();
    assert_eq!(values[0], traj.positions[30][999][1]);
    assert_eq!(values[1], traj.states[3].1.f[5][(0, 1)]);
}
