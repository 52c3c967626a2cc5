//! Trajectories: observed or simulated particle positions per frame, optional velocities,
//! and full states `(x, v, C, F)` at some frames (needed for teacher forcing).
//!
//! File format (`.npz`, written by [`Trajectory::write_npz`], read by
//! [`Trajectory::read_npz`]): `x` float64 `(T, N, 3)` positions and `frames` int64 `(T,)`
//! their frame indices (optional on reading: `0..T`); optionally `v` float64 `(T, N, 3)`
//! velocities at the same frames; optionally `teacher_frames` int64 `(K,)` with `x_tf`,
//! `v_tf` `(K, N, 3)`, `C_tf`, `F_tf` `(K, N, 3, 3)`: full states. The SGA reference files
//! (`x_planes`, `x_frames`, ...; see tests/data/reference/README.md) are read as well.

use crate::npy::{NpyArray, NpyData};
use crate::npz::Npz;
use crate::{SimError, State, TrajectoryError};
use nalgebra::{Matrix3, Vector3};
use std::path::Path;

/// A trajectory of `N` particles.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Trajectory {
    /// Frame index of each entry of `positions`, strictly increasing.
    pub frames: Vec<usize>,
    /// Positions per listed frame.
    pub positions: Vec<Vec<Vector3<f64>>>,
    /// Velocities at the same frames as `positions`, when observed.
    pub velocities: Option<Vec<Vec<Vector3<f64>>>>,
    /// Full states at some frames (strictly increasing frame indices).
    pub states: Vec<(usize, State<f64>)>,
}

impl Trajectory {
    /// Number of particles (0 for an empty trajectory).
    pub fn n_particles(&self) -> usize {
        self.positions
            .first()
            .map(Vec::len)
            .or_else(|| self.states.first().map(|(_, s)| s.len()))
            .unwrap_or(0)
    }

    /// Index into `positions` of `frame`, if observed.
    pub fn position_index(&self, frame: usize) -> Option<usize> {
        self.frames.binary_search(&frame).ok()
    }

    /// The full state at `frame`, if stored.
    pub fn state_at(&self, frame: usize) -> Option<&State<f64>> {
        self.states
            .binary_search_by_key(&frame, |(f, _)| *f)
            .ok()
            .map(|i| &self.states[i].1)
    }

    /// Checks sizes, ordering and finiteness (positions and velocities, naming the frame and
    /// particle) against a particle count.
    pub fn validate(&self, n_particles: usize) -> Result<(), SimError> {
        let bad = |m: String| Err(SimError::InvalidTarget(m));
        if self.frames.len() != self.positions.len() {
            return bad(format!(
                "{} frame indices for {} position frames",
                self.frames.len(),
                self.positions.len()
            ));
        }
        if self.frames.windows(2).any(|w| w[0] >= w[1])
            || self.states.windows(2).any(|w| w[0].0 >= w[1].0)
        {
            return bad("frame indices must be strictly increasing".into());
        }
        if let Some(v) = &self.velocities
            && v.len() != self.positions.len()
        {
            return bad("velocities and positions cover different frames".into());
        }
        let frames = self
            .positions
            .iter()
            .chain(self.velocities.iter().flatten());
        if let Some(f) = frames.clone().find(|f| f.len() != n_particles) {
            return bad(format!(
                "a frame has {} particles, expected {n_particles}",
                f.len()
            ));
        }
        let named = [
            ("position", Some(&self.positions)),
            ("velocity", self.velocities.as_ref()),
        ];
        for (what, frames) in named {
            for (k, frame) in frames.into_iter().flatten().enumerate() {
                if let Some(p) = frame.iter().position(|x| !x.iter().all(|c| c.is_finite())) {
                    return bad(format!(
                        "the {what} of particle {p} at frame {} is not finite ({:?})",
                        self.frames.get(k).copied().unwrap_or(k),
                        frame[p].as_slice()
                    ));
                }
            }
        }
        if let Some((frame, _)) = self
            .states
            .iter()
            .find(|(_, s)| s.len() != n_particles || !s.is_consistent())
        {
            return bad(format!("the state of frame {frame} has the wrong size"));
        }
        Ok(())
    }

    /// Reads a trajectory `.npz`: either this crate's format or an SGA reference file.
    pub fn read_npz(path: impl AsRef<Path>) -> Result<Self, TrajectoryError> {
        let npz = Npz::read(path)?;
        let mut traj = Trajectory::default();
        if npz.arrays.contains_key("x_planes") {
            let (frames, positions) = decode_x_planes(&npz)?;
            traj.frames = frames;
            traj.positions = positions;
        } else {
            let (t, positions) = vectors(&npz, "x")?;
            traj.positions = positions;
            traj.frames = match npz.arrays.get("frames") {
                Some(_) => indices(&npz, "frames", t)?,
                None => (0..t).collect(),
            };
            if npz.arrays.contains_key("v") {
                let (tv, v) = vectors(&npz, "v")?;
                if tv != t {
                    return Err(bad_array("v", "not the same frames as x"));
                }
                traj.velocities = Some(v);
            }
        }
        if npz.arrays.contains_key("teacher_frames") {
            let (k, x) = vectors(&npz, "x_tf")?;
            let tf = indices(&npz, "teacher_frames", k)?;
            let (_, v) = vectors(&npz, "v_tf")?;
            let (_, c) = matrices(&npz, "C_tf")?;
            let (_, f) = matrices(&npz, "F_tf")?;
            if v.len() != k || c.len() != k || f.len() != k {
                return Err(bad_array("teacher_frames", "state arrays differ in length"));
            }
            let mut iter = x.into_iter().zip(v).zip(c).zip(f);
            traj.states = tf
                .into_iter()
                .map(|frame| {
                    let (((x, v), c), f) = iter.next().expect("lengths checked above");
                    (frame, State { x, v, c, f })
                })
                .collect();
        }
        Ok(traj)
    }

    /// Writes the trajectory in this crate's `.npz` format (see the module docs), which
    /// NumPy loads with `np.load(path)`.
    pub fn write_npz(&self, path: impl AsRef<Path>) -> Result<(), TrajectoryError> {
        let n = self.n_particles();
        let mut npz = Npz::default();
        let put = |npz: &mut Npz, name: &str, shape: Vec<usize>, data: NpyData| {
            npz.arrays
                .insert(name.to_string(), NpyArray { shape, data });
        };
        let flat_v = |frames: &[Vec<Vector3<f64>>]| -> Vec<f64> {
            frames
                .iter()
                .flatten()
                .flat_map(|p| [p[0], p[1], p[2]])
                .collect()
        };
        let flat_m = |frames: &[&Vec<Matrix3<f64>>]| -> Vec<f64> {
            // Row-major (C order) 3x3 blocks.
            frames
                .iter()
                .flat_map(|ms| ms.iter())
                .flat_map(|m| (0..9).map(move |k| m[(k / 3, k % 3)]))
                .collect()
        };
        let ints = |v: &[usize]| NpyData::I64(v.iter().map(|&f| f as i64).collect());
        let t = self.positions.len();
        put(
            &mut npz,
            "x",
            vec![t, n, 3],
            NpyData::F64(flat_v(&self.positions)),
        );
        put(&mut npz, "frames", vec![t], ints(&self.frames));
        if let Some(v) = &self.velocities {
            put(&mut npz, "v", vec![t, n, 3], NpyData::F64(flat_v(v)));
        }
        if !self.states.is_empty() {
            let k = self.states.len();
            let frames: Vec<usize> = self.states.iter().map(|(f, _)| *f).collect();
            let xs: Vec<Vec<Vector3<f64>>> = self.states.iter().map(|(_, s)| s.x.clone()).collect();
            let vs: Vec<Vec<Vector3<f64>>> = self.states.iter().map(|(_, s)| s.v.clone()).collect();
            let cs: Vec<&Vec<Matrix3<f64>>> = self.states.iter().map(|(_, s)| &s.c).collect();
            let fs: Vec<&Vec<Matrix3<f64>>> = self.states.iter().map(|(_, s)| &s.f).collect();
            put(&mut npz, "teacher_frames", vec![k], ints(&frames));
            put(&mut npz, "x_tf", vec![k, n, 3], NpyData::F64(flat_v(&xs)));
            put(&mut npz, "v_tf", vec![k, n, 3], NpyData::F64(flat_v(&vs)));
            put(
                &mut npz,
                "C_tf",
                vec![k, n, 3, 3],
                NpyData::F64(flat_m(&cs)),
            );
            put(
                &mut npz,
                "F_tf",
                vec![k, n, 3, 3],
                NpyData::F64(flat_m(&fs)),
            );
        }
        npz.write(path)
    }
}

/// Frames of per-particle vectors.
type VectorFrames = Vec<Vec<Vector3<f64>>>;
/// Frames of per-particle matrices.
type MatrixFrames = Vec<Vec<Matrix3<f64>>>;

fn bad_array(name: &str, reason: &str) -> TrajectoryError {
    TrajectoryError::BadArray {
        name: name.to_string(),
        reason: reason.to_string(),
    }
}

/// An array of shape `(T, N, 3)` as `T` frames of `N` vectors.
fn vectors(npz: &Npz, name: &str) -> Result<(usize, VectorFrames), TrajectoryError> {
    let a = npz.get(name)?;
    let [t, n, 3] = a.shape[..] else {
        return Err(bad_array(name, "expected shape (T, N, 3)"));
    };
    let data = a.to_f64().ok_or_else(|| bad_array(name, "not numeric"))?;
    let frames = (0..t)
        .map(|i| {
            (0..n)
                .map(|p| Vector3::from_column_slice(&data[(i * n + p) * 3..][..3]))
                .collect()
        })
        .collect();
    Ok((t, frames))
}

/// An array of shape `(K, N, 3, 3)` (row-major blocks) as `K` frames of `N` matrices.
fn matrices(npz: &Npz, name: &str) -> Result<(usize, MatrixFrames), TrajectoryError> {
    let a = npz.get(name)?;
    let [k, n, 3, 3] = a.shape[..] else {
        return Err(bad_array(name, "expected shape (K, N, 3, 3)"));
    };
    let data = a.to_f64().ok_or_else(|| bad_array(name, "not numeric"))?;
    let frames = (0..k)
        .map(|i| {
            (0..n)
                .map(|p| Matrix3::from_row_slice(&data[(i * n + p) * 9..][..9]))
                .collect()
        })
        .collect();
    Ok((k, frames))
}

/// A 1-D integer array of non-negative frame indices with `len` entries.
fn indices(npz: &Npz, name: &str, len: usize) -> Result<Vec<usize>, TrajectoryError> {
    let a = npz.get(name)?;
    let v = a
        .to_i64()
        .ok_or_else(|| bad_array(name, "not an integer array"))?;
    if a.shape != [len] {
        return Err(bad_array(name, &format!("expected shape ({len},)")));
    }
    v.into_iter()
        .map(|f| usize::try_from(f).map_err(|_| bad_array(name, "negative frame index")))
        .collect()
}

/// Decodes the lossless `x_planes` encoding of the reference files: four little-endian
/// byte planes of the second time-difference of the float32 bit patterns.
fn decode_x_planes(npz: &Npz) -> Result<(Vec<usize>, VectorFrames), TrajectoryError> {
    let planes = npz.get("x_planes")?;
    let [4, t, n, 3] = planes.shape[..] else {
        return Err(bad_array("x_planes", "expected shape (4, T, N, 3)"));
    };
    let NpyData::U8(bytes) = &planes.data else {
        return Err(bad_array("x_planes", "expected uint8"));
    };
    let frames = indices(npz, "x_frames", t)?;
    let plane = t * n * 3;
    let mut running = vec![0i64; n * 3]; // first difference
    let mut value = vec![0i64; n * 3];
    let mut out = Vec::with_capacity(t);
    for i in 0..t {
        let mut frame = Vec::with_capacity(n);
        for p in 0..n {
            let mut v = Vector3::zeros();
            for c in 0..3 {
                let e = (i * n + p) * 3 + c;
                let d2 = i32::from_le_bytes([
                    bytes[e],
                    bytes[plane + e],
                    bytes[2 * plane + e],
                    bytes[3 * plane + e],
                ]);
                let k = p * 3 + c;
                running[k] += d2 as i64;
                value[k] += running[k];
                v[c] = f32::from_bits(value[k] as i32 as u32) as f64;
            }
            frame.push(v);
        }
        out.push(frame);
    }
    Ok((frames, out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_non_finite_value_is_refused_with_its_frame_and_particle() {
        let frame = |v: f64| vec![Vector3::new(0.1, 0.2, 0.3), Vector3::new(v, 0.5, 0.5)];
        let mut t = Trajectory {
            frames: vec![0, 505],
            positions: vec![frame(0.4), frame(f64::NAN)],
            ..Trajectory::default()
        };
        let message = t.validate(2).expect_err("NaN refused").to_string();
        assert!(
            message.contains("position of particle 1 at frame 505"),
            "{message}"
        );
        t.positions[1] = frame(0.4);
        assert!(t.validate(2).is_ok());
        t.velocities = Some(vec![frame(0.0), frame(f64::INFINITY)]);
        let message = t.validate(2).expect_err("inf refused").to_string();
        assert!(
            message.contains("velocity of particle 1 at frame 505"),
            "{message}"
        );
    }
}
