//! The particle state carried between steps: position, velocity, APIC matrix C and
//! deformation gradient F, stored as structure of arrays.

use crate::Scene;
use ansatz_linalg::{Real, from_f64, re3};
use nalgebra::{Matrix3, Vector3};

/// Per-particle state `(x, v, C, F)` (as in the SGA reference).
#[derive(Clone, Debug, PartialEq)]
pub struct State<T: Real> {
    /// Positions.
    pub x: Vec<Vector3<T>>,
    /// Velocities.
    pub v: Vec<Vector3<T>>,
    /// APIC affine velocity matrices.
    pub c: Vec<Matrix3<T>>,
    /// Deformation gradients (for plastic laws: the un-projected F, as recorded).
    pub f: Vec<Matrix3<T>>,
}

impl<T: Real> State<T> {
    /// The initial state of a scene: its positions and velocities, `C = 0`, `F = I`,
    /// all derivatives zero.
    pub fn initial(scene: &Scene) -> Self {
        let n = scene.n_particles();
        Self {
            x: scene.positions.iter().map(|p| p.map(T::cst)).collect(),
            v: scene.velocities.iter().map(|p| p.map(T::cst)).collect(),
            c: vec![Matrix3::zeros(); n],
            f: vec![Matrix3::identity(); n],
        }
    }

    /// Number of particles.
    pub fn len(&self) -> usize {
        self.x.len()
    }

    /// True when there are no particles.
    pub fn is_empty(&self) -> bool {
        self.x.is_empty()
    }

    /// Real parts only.
    pub fn to_f64(&self) -> State<f64> {
        State {
            x: self.x.iter().map(|p| p.map(|c| c.re())).collect(),
            v: self.v.iter().map(|p| p.map(|c| c.re())).collect(),
            c: self.c.iter().map(re3).collect(),
            f: self.f.iter().map(re3).collect(),
        }
    }

    /// Overwrites this state with `values`, every derivative set to zero (a teacher-forcing
    /// reset). Reuses the allocations.
    pub fn reset_from(&mut self, values: &State<f64>) {
        fn copy<A: Copy, B>(dst: &mut Vec<B>, src: &[A], f: impl Fn(&A) -> B) {
            dst.clear();
            dst.extend(src.iter().map(f));
        }
        copy(&mut self.x, &values.x, |p| p.map(T::cst));
        copy(&mut self.v, &values.v, |p| p.map(T::cst));
        copy(&mut self.c, &values.c, from_f64);
        copy(&mut self.f, &values.f, from_f64);
    }

    /// True when the four arrays have the same length.
    pub fn is_consistent(&self) -> bool {
        let n = self.x.len();
        self.v.len() == n && self.c.len() == n && self.f.len() == n
    }
}
