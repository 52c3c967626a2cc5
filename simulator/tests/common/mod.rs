//! Shared helpers of the simulator's integration tests.
#![allow(dead_code)]

use ansatz_simulator::Trajectory;
use std::path::PathBuf;

/// The reference data of the original implementation (`tests/data/reference` in the repository).
pub fn reference_dir() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/data/reference"
    ))
}

/// Reads a reference file, failing the test with a clear message when it is missing.
pub fn reference_path(name: &str) -> PathBuf {
    let path = reference_dir().join(name);
    assert!(
        path.exists(),
        "reference file {} is missing: the tests need the shared reference data \
         (tests/data/reference in the repository)",
        path.display()
    );
    path
}

/// A reference ground truth `gt_<name>.npz`.
pub fn ground_truth(name: &str) -> Trajectory {
    let path = reference_path(&format!("gt_{name}.npz"));
    Trajectory::read_npz(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// A number from a reference JSON file, found by its key path (a tiny scanner, so the
/// tests need no JSON crate): the first number after the last key of `keys`, each key
/// searched after the previous one.
pub fn json_number(file: &str, keys: &[&str]) -> f64 {
    let path = reference_path(file);
    let text = std::fs::read_to_string(&path).expect("readable reference JSON");
    let mut pos = 0;
    for key in keys {
        let quoted = format!("\"{key}\"");
        pos += text[pos..]
            .find(&quoted)
            .unwrap_or_else(|| panic!("key {key} not in {file}"))
            + quoted.len();
    }
    let rest = text[pos..].trim_start_matches(|c: char| c == ':' || c.is_whitespace());
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || "+-.eE".contains(c)))
        .unwrap_or(rest.len());
    rest[..end]
        .parse()
        .unwrap_or_else(|_| panic!("no number after {keys:?} in {file}"))
}

/// Maximum absolute position difference over all frames both trajectories list.
pub fn max_position_difference(a: &Trajectory, b: &Trajectory) -> (f64, usize) {
    let mut worst = (0.0f64, 0usize);
    for (i, frame) in a.frames.iter().enumerate() {
        let Some(j) = b.position_index(*frame) else {
            continue;
        };
        for (p, q) in a.positions[i].iter().zip(&b.positions[j]) {
            let d = (p - q).amax();
            if d > worst.0 {
                worst = (d, *frame);
            }
        }
    }
    worst
}
