//! The scene as data: particles, their statics, the initial velocity field, and the
//! simulation constants. [`Scene::sga_cube`] is the scene of every SGA task.

use crate::SimError;
use ansatz_linalg::SvdMethod;
use nalgebra::Vector3;

/// A simulation scene: everything a rollout needs besides the material.
///
/// The domain is the unit cube `[0, 1]³` covered by `grid_size³` nodes at `i · dx`,
/// `dx = 1 / grid_size` (as in the SGA reference).
#[derive(Clone, Debug, PartialEq)]
pub struct Scene {
    /// Initial particle positions.
    pub positions: Vec<Vector3<f64>>,
    /// Initial particle velocities (set from the linear and angular velocity by
    /// [`Scene::set_rigid_velocity`], or given directly).
    pub velocities: Vec<Vector3<f64>>,
    /// Initial volume of one particle, `V⁰ₚ`.
    pub particle_volume: f64,
    /// Density `ρ`; the particle mass is `V⁰ₚ ρ`.
    pub density: f64,
    /// Number of steps of a rollout (frames = steps + 1).
    pub steps: usize,
    /// Time step `Δt`.
    pub dt: f64,
    /// Gravity, added to grid velocities after the momentum division.
    pub gravity: Vector3<f64>,
    /// Nodes per axis.
    pub grid_size: usize,
    /// Wall thickness in nodes: nodes with index `< bound` lose velocity pointing to the
    /// low wall, nodes with index `> grid_size − bound` lose velocity pointing to the high wall.
    /// `0` disables the walls.
    pub bound: usize,
    /// Particle positions are clamped to `[clip_bound · dx, 1 − clip_bound · dx]`.
    pub clip_bound: f64,
    /// Added to the grid mass before dividing the momentum by it.
    pub mass_eps: f64,
    /// How the laws' and the Hencky stage's signed SVDs are computed during a step:
    /// [`SvdMethod::Exact`] (default), or [`SvdMethod::Reference`], the SGA reference's
    /// approximate `f32` decomposition, to reproduce the reference's plastic trajectories
    /// and losses to its rounding (see [`ansatz_linalg::svd_reference_f32`]).
    pub svd: SvdMethod,
}

impl Scene {
    /// The SGA cube scene (as in the SGA reference): a 10×10×10 lattice
    /// `linspace(−0.25, 0.25, 10)³ + 0.5` (index `100 ix + 10 iy + iz`), particle volume
    /// 1.25e-4, density 1e3, the 'mild' velocity (linear (1, −0.5, −0.75), angular
    /// (1, 3, 2) about (0.5, 0.5, 0.5)), 1000 steps of 5e-4 s, gravity (0, −9.8, 0), a 20³
    /// grid, walls 3 nodes thick, clip bound 0.5 dx, mass epsilon 1e-7, the exact SVD.
    pub fn sga_cube() -> Self {
        let lin = |i: usize| -0.25 + 0.5 * i as f64 / 9.0;
        let mut positions = Vec::with_capacity(1000);
        for ix in 0..10 {
            for iy in 0..10 {
                for iz in 0..10 {
                    positions.push(Vector3::new(lin(ix), lin(iy), lin(iz)).add_scalar(0.5));
                }
            }
        }
        let mut scene = Scene {
            velocities: vec![Vector3::zeros(); positions.len()],
            positions,
            particle_volume: 1.25e-4,
            density: 1e3,
            steps: 1000,
            dt: 5e-4,
            gravity: Vector3::new(0.0, -9.8, 0.0),
            grid_size: 20,
            bound: 3,
            clip_bound: 0.5,
            mass_eps: 1e-7,
            svd: SvdMethod::Exact,
        };
        scene.set_rigid_velocity(
            Vector3::new(1.0, -0.5, -0.75),
            Vector3::new(1.0, 3.0, 2.0),
            Vector3::new(0.5, 0.5, 0.5),
        );
        scene
    }

    /// Sets every particle's velocity to `linear + angular × (x − centre)`.
    pub fn set_rigid_velocity(
        &mut self,
        linear: Vector3<f64>,
        angular: Vector3<f64>,
        centre: Vector3<f64>,
    ) {
        self.velocities = self
            .positions
            .iter()
            .map(|x| linear + angular.cross(&(x - centre)))
            .collect();
    }

    /// Number of particles.
    pub fn n_particles(&self) -> usize {
        self.positions.len()
    }

    /// Grid spacing `dx = 1 / grid_size`.
    pub fn dx(&self) -> f64 {
        1.0 / self.grid_size as f64
    }

    /// Mass of one particle, `V⁰ₚ ρ`.
    pub fn particle_mass(&self) -> f64 {
        self.particle_volume * self.density
    }

    /// Checks sizes and constants; every rollout calls this first.
    pub fn validate(&self) -> Result<(), SimError> {
        let bad = |m: String| Err(SimError::InvalidScene(m));
        if self.grid_size < 3 {
            return bad(format!("grid_size {} < 3", self.grid_size));
        }
        if 2 * self.bound >= self.grid_size {
            return bad(format!(
                "walls {} nodes thick on both sides leave no free node of a {}-node grid \
                 (bound must be below grid_size / 2)",
                self.bound, self.grid_size
            ));
        }
        if self.velocities.len() != self.positions.len() {
            return bad(format!(
                "{} velocities for {} particles",
                self.velocities.len(),
                self.positions.len()
            ));
        }
        let finite = [
            self.particle_volume,
            self.density,
            self.dt,
            self.clip_bound,
            self.mass_eps,
        ];
        if finite.iter().any(|v| !v.is_finite()) || !self.gravity.iter().all(|g| g.is_finite()) {
            return bad("non-finite constant".into());
        }
        if self.dt <= 0.0 || self.particle_volume <= 0.0 || self.density <= 0.0 {
            return bad("dt, particle volume and density must be positive".into());
        }
        if self.clip_bound < 0.0 || self.clip_bound * self.dx() >= 0.5 {
            return bad(format!("clip bound {} out of range", self.clip_bound));
        }
        let all = self.positions.iter().chain(&self.velocities);
        if all.flat_map(|p| p.iter()).any(|c| !c.is_finite()) {
            return bad("non-finite initial position or velocity".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walls_wider_than_the_grid_are_refused() {
        let scene = Scene {
            bound: 100,
            grid_size: 20,
            ..Scene::sga_cube()
        };
        let message = scene.validate().expect_err("refused").to_string();
        assert!(message.contains("no free node"), "{message}");
        let scene = Scene {
            bound: 9,
            grid_size: 20,
            ..Scene::sga_cube()
        };
        assert!(scene.validate().is_ok());
    }

    #[test]
    fn sga_cube_matches_spec() {
        let s = Scene::sga_cube();
        assert_eq!(s.n_particles(), 1000);
        assert_eq!(s.positions[9], Vector3::new(0.25, 0.25, 0.75));
        assert_eq!(s.positions[999], Vector3::new(0.75, 0.75, 0.75));
        let v9 = s.velocities[9];
        assert!((v9 - Vector3::new(2.25, -1.25, -0.25)).norm() < 1e-12);
        assert!((s.particle_mass() - 0.125).abs() < 1e-15);
        s.validate().unwrap();
    }
}
