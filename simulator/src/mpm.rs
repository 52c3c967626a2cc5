//! One MLS-MPM step with APIC transfer, exactly in the order of spec/sga.md, section 1.2:
//! (plastic projection, Hencky stress) or elastic stress; P2G; grid update with the mass
//! epsilon, gravity, then the asymmetric free-slip walls; G2P with the F update and the
//! position clamp.

use crate::materials::Hencky;
use crate::{Material, MaterialKind, NonFiniteQuantity, Scene, SimError, State};
use ansatz_linalg::Real;
use nalgebra::{Matrix3, Vector3};

/// Quadratic B-spline stencil of one particle, computed once per step and shared by P2G
/// and G2P.
#[derive(Clone, Copy, Debug)]
struct Stencil<T> {
    /// Flat index of the base node.
    base: usize,
    /// Weights `w[axis][k]` of the three nodes per axis.
    w: [[T; 3]; 3],
    /// `fr = x / dx − base` (spec: `f`), in `[0.5, 1.5)` per axis.
    fr: [T; 3],
}

/// A reusable simulator for one scene: it owns the grid and the per-step buffers, so
/// stepping allocates nothing.
///
/// ```
/// use ansatz_simulator::{Scene, Simulator, State, materials::NeoHookean};
/// let scene = Scene::sga_cube();
/// let mut sim = Simulator::<f64>::new(&scene).unwrap();
/// let mut state = State::initial(&scene);
/// sim.step(&mut state, &NeoHookean::default(), 0).unwrap();
/// assert!(state.x[0][0] > scene.positions[0][0]); // the cube moves toward +x
/// ```
#[derive(Clone, Debug)]
pub struct Simulator<T: Real> {
    n: usize,
    dx: f64,
    inv_dx: f64,
    dt: f64,
    mass: f64,
    /// `−Δt V⁰ 4/dx²`: multiplies τ in the affine momentum.
    stress_scale: f64,
    gravity_dt: [f64; 3],
    bound: usize,
    clip_lo: f64,
    clip_hi: f64,
    mass_eps: f64,
    hencky: Hencky,
    grid_mv: Vec<[T; 3]>,
    grid_m: Vec<T>,
    stencils: Vec<Stencil<T>>,
    stress: Vec<Matrix3<T>>,
    projected: Vec<Matrix3<T>>,
}

impl<T: Real> Simulator<T> {
    /// A simulator for `scene` (validated).
    pub fn new(scene: &Scene) -> Result<Self, SimError> {
        scene.validate()?;
        let n = scene.grid_size;
        let dx = scene.dx();
        let inv_dx = scene.grid_size as f64;
        let g = scene.gravity * scene.dt;
        Ok(Self {
            n,
            dx,
            inv_dx,
            dt: scene.dt,
            mass: scene.particle_mass(),
            stress_scale: -scene.dt * scene.particle_volume * 4.0 * inv_dx * inv_dx,
            gravity_dt: [g[0], g[1], g[2]],
            bound: scene.bound,
            clip_lo: scene.clip_bound * dx,
            clip_hi: 1.0 - scene.clip_bound * dx,
            mass_eps: scene.mass_eps,
            hencky: Hencky::default(),
            grid_mv: vec![[T::zero(); 3]; n * n * n],
            grid_m: vec![T::zero(); n * n * n],
            stencils: Vec::new(),
            stress: Vec::new(),
            projected: Vec::new(),
        })
    }

    /// Grid masses after the last step's P2G (flat, index `(i n + j) n + k`).
    pub fn grid_mass(&self) -> &[T] {
        &self.grid_m
    }

    /// Advances `state` by one step with `material`. `step` only names the step in errors.
    pub fn step<M: Material<T> + ?Sized>(
        &mut self,
        state: &mut State<T>,
        material: &M,
        step: usize,
    ) -> Result<(), SimError> {
        let np = state.len();
        if !state.is_consistent() {
            return Err(SimError::InvalidScene("inconsistent state arrays".into()));
        }
        self.stress.resize(np, Matrix3::zeros());
        let material_error = |source| SimError::Material { step, source };
        match material.kind() {
            MaterialKind::Elastic => {
                material
                    .apply(&state.f, &mut self.stress)
                    .map_err(material_error)?;
                check_matrices(&self.stress, step, NonFiniteQuantity::Material)?;
            }
            MaterialKind::Plastic => {
                self.projected.resize(np, Matrix3::zeros());
                material
                    .apply(&state.f, &mut self.projected)
                    .map_err(material_error)?;
                check_matrices(&self.projected, step, NonFiniteQuantity::Material)?;
                std::mem::swap(&mut state.f, &mut self.projected);
                self.hencky
                    .apply(&state.f, &mut self.stress)
                    .map_err(material_error)?;
                check_matrices(&self.stress, step, NonFiniteQuantity::Stress)?;
            }
        }
        self.compute_stencils(&state.x);
        self.p2g(state);
        self.grid_update();
        self.g2p(state, step)
    }

    fn compute_stencils(&mut self, x: &[Vector3<T>]) {
        let n = self.n;
        let max_base = (n - 3) as f64;
        let half = T::cst(0.5);
        let three_quarters = T::cst(0.75);
        self.stencils.clear();
        for p in x {
            let mut base = [0usize; 3];
            let mut w = [[T::zero(); 3]; 3];
            let mut fr = [T::zero(); 3];
            for a in 0..3 {
                let xi = p[a] * T::cst(self.inv_dx);
                // Stencil guard: the base is clamped so that nodes never leave the grid.
                let b = (xi.re() - 0.5).floor().clamp(0.0, max_base);
                base[a] = b as usize;
                let f = xi - T::cst(b);
                let d0 = T::cst(1.5) - f;
                let d1 = f - T::one();
                let d2 = f - half;
                w[a] = [half * d0 * d0, three_quarters - d1 * d1, half * d2 * d2];
                fr[a] = f;
            }
            self.stencils.push(Stencil {
                base: (base[0] * n + base[1]) * n + base[2],
                w,
                fr,
            });
        }
    }

    /// Particle-to-grid: `mv_i += w_i (m v + (S τ + m C) dpos_i)`, `m_i += w_i m`, with
    /// `dpos_i = (node − fr) dx`; sequential in particle order (deterministic).
    fn p2g(&mut self, state: &State<T>) {
        let n = self.n;
        let mass = T::cst(self.mass);
        self.grid_mv.fill([T::zero(); 3]);
        self.grid_m.fill(T::zero());
        let scale = T::cst(self.stress_scale * self.dx);
        let m_dx = T::cst(self.mass * self.dx);
        for (p, st) in self.stencils.iter().enumerate() {
            // A = (S τ + m C) dx, so that affine · dpos = A (node − fr).
            let tau = &self.stress[p];
            let c = &state.c[p];
            let a = Matrix3::from_fn(|i, j| tau[(i, j)] * scale + c[(i, j)] * m_dx);
            let v = &state.v[p];
            // q = m v − A fr: the contribution at the base node before weighting.
            let q: [T; 3] = std::array::from_fn(|i| {
                v[i] * mass - (a[(i, 0)] * st.fr[0] + a[(i, 1)] * st.fr[1] + a[(i, 2)] * st.fr[2])
            });
            let col = |j: usize| [a[(0, j)], a[(1, j)], a[(2, j)]];
            let (a0, a1, a2) = (col(0), col(1), col(2));
            let mut qa = q;
            for ia in 0..3 {
                let mut qb = qa;
                for ib in 0..3 {
                    let wab = st.w[0][ia] * st.w[1][ib];
                    let row = st.base + (ia * n + ib) * n;
                    let mut qc = qb;
                    for ic in 0..3 {
                        let w = wab * st.w[2][ic];
                        let node = &mut self.grid_mv[row + ic];
                        node[0] += qc[0] * w;
                        node[1] += qc[1] * w;
                        node[2] += qc[2] * w;
                        self.grid_m[row + ic] += w * mass;
                        add3(&mut qc, &a2);
                    }
                    add3(&mut qb, &a1);
                }
                add3(&mut qa, &a0);
            }
        }
    }

    /// Grid update: `v = mv / (m + eps) + Δt g` (only `Δt g` where `m = 0`), then the
    /// free-slip walls: index `< bound` loses negative normal velocity, index
    /// `> n − bound` loses positive normal velocity (stored in place of the momentum).
    fn grid_update(&mut self) {
        let n = self.n;
        let eps = T::cst(self.mass_eps);
        let g = self.gravity_dt.map(T::cst);
        let hi = n.saturating_sub(self.bound);
        let mut idx = 0;
        for i in 0..n {
            for j in 0..n {
                for k in 0..n {
                    let m = self.grid_m[idx];
                    let mv = &mut self.grid_mv[idx];
                    let mut v = if m.re() > 0.0 {
                        let inv = T::one() / (m + eps);
                        [mv[0] * inv + g[0], mv[1] * inv + g[1], mv[2] * inv + g[2]]
                    } else {
                        g
                    };
                    for (axis, pos) in [i, j, k].into_iter().enumerate() {
                        let vel = v[axis].re();
                        if (pos < self.bound && vel < 0.0) || (pos > hi && vel > 0.0) {
                            v[axis] = T::zero();
                        }
                    }
                    *mv = v;
                    idx += 1;
                }
            }
        }
    }

    /// Grid-to-particle: `v' = Σ w v_i`, `C' = 4/dx² Σ w v_i dpos_iᵀ`,
    /// `F' = (I + Δt C') F`, `x' = clamp(x + Δt v')`.
    fn g2p(&mut self, state: &mut State<T>, step: usize) -> Result<(), SimError> {
        let n = self.n;
        let dt = T::cst(self.dt);
        let c_scale = T::cst(4.0 * self.inv_dx);
        let two = T::cst(2.0);
        for (p, st) in self.stencils.iter().enumerate() {
            // Partial sums of w v_i by the node's offset along each axis.
            let zero = [T::zero(); 3];
            let (mut sa, mut sb, mut sc) = ([zero; 3], [zero; 3], [zero; 3]);
            for ia in 0..3 {
                for ib in 0..3 {
                    let wab = st.w[0][ia] * st.w[1][ib];
                    let row = st.base + (ia * n + ib) * n;
                    let mut t = zero;
                    for ic in 0..3 {
                        let w = wab * st.w[2][ic];
                        let gv = &self.grid_mv[row + ic];
                        let wv = [gv[0] * w, gv[1] * w, gv[2] * w];
                        add3(&mut t, &wv);
                        add3(&mut sc[ic], &wv);
                    }
                    add3(&mut sb[ib], &t);
                    add3(&mut sa[ia], &t);
                }
            }
            let vp: [T; 3] = std::array::from_fn(|i| sa[0][i] + sa[1][i] + sa[2][i]);
            // B = Σ w v_i nodeᵀ, column per axis.
            let b: [[T; 3]; 3] =
                [sa, sb, sc].map(|s| std::array::from_fn(|i| s[1][i] + s[2][i] * two));
            // C' = 4/dx (B − v' frᵀ); dtc = Δt C'.
            let c_new = Matrix3::from_fn(|i, j| (b[j][i] - vp[i] * st.fr[j]) * c_scale);
            let f_old = state.f[p];
            let dtc = c_new * dt;
            let f_new = Matrix3::from_fn(|i, j| {
                f_old[(i, j)]
                    + dtc[(i, 0)] * f_old[(0, j)]
                    + dtc[(i, 1)] * f_old[(1, j)]
                    + dtc[(i, 2)] * f_old[(2, j)]
            });
            let x_old = state.x[p];
            let x_new = Vector3::from_fn(|i, _| {
                let xi = x_old[i] + vp[i] * dt;
                // The clamp passes derivative only when inactive.
                if xi.re() < self.clip_lo {
                    T::cst(self.clip_lo)
                } else if xi.re() > self.clip_hi {
                    T::cst(self.clip_hi)
                } else {
                    xi
                }
            });
            let v_new = Vector3::new(vp[0], vp[1], vp[2]);
            if !(x_new.iter().chain(v_new.iter()).all(|c| c.is_all_finite())) {
                return Err(SimError::NonFinite {
                    step,
                    particle: p,
                    quantity: NonFiniteQuantity::Particle,
                });
            }
            state.x[p] = x_new;
            state.v[p] = v_new;
            state.c[p] = c_new;
            state.f[p] = f_new;
        }
        Ok(())
    }
}

#[inline(always)]
fn add3<T: Real>(acc: &mut [T; 3], v: &[T; 3]) {
    acc[0] += v[0];
    acc[1] += v[1];
    acc[2] += v[2];
}

fn check_matrices<T: Real>(
    m: &[Matrix3<T>],
    step: usize,
    quantity: NonFiniteQuantity,
) -> Result<(), SimError> {
    match m.iter().position(|a| !a.iter().all(|c| c.is_all_finite())) {
        Some(particle) => Err(SimError::NonFinite {
            step,
            particle,
            quantity,
        }),
        None => Ok(()),
    }
}
