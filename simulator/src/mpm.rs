//! One MLS-MPM step with APIC transfer, exactly in the order of the SGA reference:
//! (plastic projection, Hencky stress) or elastic stress; P2G; grid update with the mass
//! epsilon, gravity, then the asymmetric free-slip walls; G2P with the F update and the
//! position clamp.
//!
//! The particle state lives inside the [`Simulator`] in the fast scalar of
//! [`SimScalar`]; only F (to the material) and the stress (back) cross to the public
//! scalar each step. 3x3 matrices are row-major `[S; 9]` arrays here.

use crate::fast::{FastScalar, SimScalar};
use crate::materials::Hencky;
use crate::{Material, MaterialKind, NonFiniteQuantity, Scene, SimError, State, StepContext};
use ansatz_linalg::SvdMethod;
use nalgebra::{Matrix3, Vector3};

/// Quadratic B-spline stencil of one particle, computed once per step and shared by P2G
/// and G2P.
#[derive(Clone, Copy, Debug)]
struct Stencil<S> {
    /// Flat index of the base node.
    base: usize,
    /// Node weights `w[(a·3 + b)·3 + c] = wx[a] wy[b] wz[c]` of the 27 nodes.
    w: [S; 27],
    /// `fr = x / dx − base` (spec: `f`), in `[0.5, 1.5)` per axis.
    fr: [S; 3],
}

/// Particle state in the fast scalar (structure of arrays).
#[derive(Clone, Debug)]
pub(crate) struct Particles<S> {
    pub(crate) x: Vec<[S; 3]>,
    pub(crate) v: Vec<[S; 3]>,
    c: Vec<[S; 9]>,
    f: Vec<[S; 9]>,
}

/// A simulator for one scene: it owns the particle state, the grid and the per-step
/// buffers, so stepping allocates nothing.
///
/// ```
/// use ansatz_simulator::{Scene, Simulator, materials::NeoHookean};
/// let scene = Scene::sga_cube();
/// let mut sim = Simulator::<f64>::new(&scene).unwrap();
/// sim.advance(&NeoHookean::default(), 0).unwrap();
/// assert!(sim.position(0)[0] > scene.positions[0][0]); // the cube moves toward +x
/// ```
#[derive(Clone, Debug)]
pub struct Simulator<T: SimScalar> {
    n: usize,
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
    svd: SvdMethod,
    hencky: Hencky,
    pub(crate) particles: Particles<T::Fast>,
    /// Per node `[m v₀, m v₁, m v₂, m]`, then `[v₀, v₁, v₂, m]` after the grid update.
    grid: Vec<[T::Fast; 4]>,
    /// Touched node box `[lo, hi]` per axis (inclusive), from the last P2G.
    touched: [[usize; 2]; 3],
    /// True while the grid may hold values of an unfinished step.
    dirty: bool,
    /// Total grid mass and momentum after the last P2G (real parts).
    grid_totals: [f64; 4],
    stencils: Vec<Stencil<T::Fast>>,
    stress: Vec<[T::Fast; 9]>,
    def_grad: Vec<Matrix3<T>>,
    law_out: Vec<Matrix3<T>>,
    law_stress: Vec<Matrix3<T>>,
}

impl<T: SimScalar> Simulator<T> {
    /// A simulator for `scene` (validated), holding the scene's initial state.
    pub fn new(scene: &Scene) -> Result<Self, SimError> {
        scene.validate()?;
        let n = scene.grid_size;
        let dx = scene.dx();
        let inv_dx = scene.grid_size as f64;
        let g = scene.gravity * scene.dt;
        let zero = T::Fast::cst(0.0);
        let mut sim = Self {
            n,
            inv_dx,
            dt: scene.dt,
            mass: scene.particle_mass(),
            stress_scale: -scene.dt * scene.particle_volume * 4.0 * inv_dx * inv_dx,
            gravity_dt: [g[0], g[1], g[2]],
            bound: scene.bound,
            clip_lo: scene.clip_bound * dx,
            clip_hi: 1.0 - scene.clip_bound * dx,
            mass_eps: scene.mass_eps,
            svd: scene.svd,
            hencky: Hencky::default(),
            particles: Particles {
                x: Vec::new(),
                v: Vec::new(),
                c: Vec::new(),
                f: Vec::new(),
            },
            grid: vec![[zero; 4]; n * n * n],
            touched: [[0, n - 1]; 3],
            dirty: false,
            grid_totals: [0.0; 4],
            stencils: Vec::new(),
            stress: Vec::new(),
            def_grad: Vec::new(),
            law_out: Vec::new(),
            law_stress: Vec::new(),
        };
        sim.load(&State::initial(scene))?;
        Ok(sim)
    }

    /// Number of particles.
    pub fn n_particles(&self) -> usize {
        self.particles.x.len()
    }

    /// Replaces the particle state, derivatives included.
    pub fn load(&mut self, state: &State<T>) -> Result<(), SimError> {
        if !state.is_consistent() {
            return Err(SimError::InvalidScene("inconsistent state arrays".into()));
        }
        let vec = |v: &Vector3<T>| v.data.0[0].map(|c| T::Fast::from_real(&c));
        let mat = |m: &Matrix3<T>| std::array::from_fn(|k| T::Fast::from_real(&m[(k / 3, k % 3)]));
        let p = &mut self.particles;
        p.x = state.x.iter().map(vec).collect();
        p.v = state.v.iter().map(vec).collect();
        p.c = state.c.iter().map(mat).collect();
        p.f = state.f.iter().map(mat).collect();
        Ok(())
    }

    /// Replaces the particle state by observed values with zero derivatives (a
    /// teacher-forcing reset). Reuses the allocations.
    pub fn reset(&mut self, state: &State<f64>) -> Result<(), SimError> {
        if !state.is_consistent() {
            return Err(SimError::InvalidScene("inconsistent state arrays".into()));
        }
        let vec = |v: &Vector3<f64>| v.data.0[0].map(T::Fast::cst);
        let mat = |m: &Matrix3<f64>| std::array::from_fn(|k| T::Fast::cst(m[(k / 3, k % 3)]));
        let p = &mut self.particles;
        fill(&mut p.x, state.x.iter().map(vec));
        fill(&mut p.v, state.v.iter().map(vec));
        fill(&mut p.c, state.c.iter().map(mat));
        fill(&mut p.f, state.f.iter().map(mat));
        Ok(())
    }

    /// The current particle state.
    pub fn state(&self) -> State<T> {
        let vec = |v: &[T::Fast; 3]| Vector3::from_fn(|i, _| v[i].to_real());
        let mat = |m: &[T::Fast; 9]| Matrix3::from_fn(|i, j| m[3 * i + j].to_real());
        let p = &self.particles;
        State {
            x: p.x.iter().map(vec).collect(),
            v: p.v.iter().map(vec).collect(),
            c: p.c.iter().map(mat).collect(),
            f: p.f.iter().map(mat).collect(),
        }
    }

    /// Total grid mass and momentum `[m, m v₀, m v₁, m v₂]` right after the last
    /// particle-to-grid transfer (real parts): a diagnostic for conservation tests.
    pub fn grid_totals(&self) -> [f64; 4] {
        self.grid_totals
    }

    /// Position of particle `p`.
    pub fn position(&self, p: usize) -> Vector3<T> {
        Vector3::from_fn(|i, _| self.particles.x[p][i].to_real())
    }

    /// Velocity of particle `p`.
    pub fn velocity(&self, p: usize) -> Vector3<T> {
        Vector3::from_fn(|i, _| self.particles.v[p][i].to_real())
    }

    /// Advances `state` by one step: loads it, calls [`Simulator::advance`] and writes the
    /// result back (convenient; rollouts use `advance` directly and avoid the copies).
    pub fn step<M: Material<T> + ?Sized>(
        &mut self,
        state: &mut State<T>,
        material: &M,
        step: usize,
    ) -> Result<(), SimError> {
        self.load(state)?;
        self.advance(material, step)?;
        *state = self.state();
        Ok(())
    }

    /// Advances the held state by one step with `material`. `step` only names the step
    /// in errors. On error the state is left partly updated.
    pub fn advance<M: Material<T> + ?Sized>(
        &mut self,
        material: &M,
        step: usize,
    ) -> Result<(), SimError> {
        self.constitutive(material, step)?;
        self.compute_stencils();
        self.p2g();
        self.grid_update();
        self.g2p(step)
    }

    /// Evaluates the law: elastic τ(F), or plastic F̃(F) (stored as F) and Hencky τ(F̃).
    #[inline(never)]
    fn constitutive<M: Material<T> + ?Sized>(
        &mut self,
        material: &M,
        step: usize,
    ) -> Result<(), SimError> {
        let np = self.n_particles();
        self.def_grad.resize(np, Matrix3::zeros());
        for (dst, src) in self.def_grad.iter_mut().zip(&self.particles.f) {
            for (k, v) in src.iter().enumerate() {
                dst[(k / 3, k % 3)] = v.to_real();
            }
        }
        self.law_out.resize(np, Matrix3::zeros());
        let material_error = |source| SimError::Material { step, source };
        let ctx = StepContext { svd: self.svd };
        material
            .apply(&self.def_grad, &mut self.law_out, ctx)
            .map_err(material_error)?;
        let stress = match material.kind() {
            MaterialKind::Elastic => &self.law_out,
            MaterialKind::Plastic => {
                to_fast_into(&mut self.particles.f, &self.law_out);
                check_matrices(&self.particles.f, step, NonFiniteQuantity::Material)?;
                self.law_stress.resize(np, Matrix3::zeros());
                self.hencky
                    .apply(&self.law_out, &mut self.law_stress, self.svd)
                    .map_err(material_error)?;
                &self.law_stress
            }
        };
        to_fast_into(&mut self.stress, stress);
        let quantity = match material.kind() {
            MaterialKind::Elastic => NonFiniteQuantity::Material,
            _ => NonFiniteQuantity::Stress,
        };
        check_matrices(&self.stress, step, quantity)
    }

    #[inline(never)]
    #[allow(clippy::needless_range_loop)] // three nested stencil axes read best as indices
    fn compute_stencils(&mut self) {
        let n = self.n;
        let max_base = (n - 3) as f64;
        let half = T::Fast::cst(0.5);
        let zero = T::Fast::cst(0.0);
        let mut lo = [n; 3];
        let mut hi = [0usize; 3];
        // Written in place: a stencil is several hundred bytes, and building each on the
        // stack and pushing it cost a memmove per particle.
        self.stencils.resize(
            self.particles.x.len(),
            Stencil {
                base: 0,
                w: [zero; 27],
                fr: [zero; 3],
            },
        );
        for (p, st) in self.particles.x.iter().zip(self.stencils.iter_mut()) {
            let mut base = [0usize; 3];
            let mut w = [[zero; 3]; 3];
            for a in 0..3 {
                let xi = p[a].scale(self.inv_dx);
                // Stencil guard: the base is clamped so that nodes never leave the grid.
                // Truncation is floor here: ξ − 0.5 ≥ 0 inside the clip bounds, and the clamp
                // maps anything below 0 to 0 either way.
                let b = ((xi.re() - 0.5) as i64).clamp(0, max_base as i64) as f64;
                base[a] = b as usize;
                lo[a] = lo[a].min(base[a]);
                hi[a] = hi[a].max(base[a] + 2);
                let f = xi - T::Fast::cst(b);
                let d0 = T::Fast::cst(1.5) - f;
                let d1 = f - T::Fast::cst(1.0);
                let d2 = f - half;
                w[a] = [
                    (d0 * d0).scale(0.5),
                    T::Fast::cst(0.75) - d1 * d1,
                    (d2 * d2).scale(0.5),
                ];
                st.fr[a] = f;
            }
            for a in 0..3 {
                for b in 0..3 {
                    let wab = w[0][a] * w[1][b];
                    for c in 0..3 {
                        st.w[(a * 3 + b) * 3 + c] = wab * w[2][c];
                    }
                }
            }
            st.base = (base[0] * n + base[1]) * n + base[2];
        }
        self.touched = std::array::from_fn(|a| [lo[a], hi[a].max(lo[a])]);
    }

    /// Particle-to-grid: `mv_i += w_i (m v + (S τ + m C) dpos_i)`, `m_i += w_i m`, with
    /// `dpos_i = (node − fr) dx`; sequential in particle order (deterministic).
    #[inline(never)]
    fn p2g(&mut self) {
        let n = self.n;
        let dx = 1.0 / self.inv_dx;
        let scale = self.stress_scale * dx;
        let m_dx = self.mass * dx;
        let mass = self.mass;
        if self.dirty {
            // A previous step stopped with an error before clearing the grid.
            self.grid.fill([T::Fast::cst(0.0); 4]);
        }
        self.dirty = true;
        let particles = &self.particles;
        for (p, st) in self.stencils.iter().enumerate() {
            // A = (S τ + m C) dx, so that affine · dpos = A (node − fr).
            let tau = &self.stress[p];
            let c = &particles.c[p];
            let mut a = [T::Fast::cst(0.0); 9];
            for k in 0..9 {
                a[k] = tau[k].scale(scale) + c[k].scale(m_dx);
            }
            let v = &particles.v[p];
            let fr = &st.fr;
            // q = m v − A fr: the contribution at the base node before weighting.
            let q = [0, 1, 2].map(|i| {
                v[i].scale(mass) - (a[3 * i] * fr[0] + a[3 * i + 1] * fr[1] + a[3 * i + 2] * fr[2])
            });
            let a0 = [a[0], a[3], a[6]];
            let a1 = [a[1], a[4], a[7]];
            let a2 = [a[2], a[5], a[8]];
            let mut qa = q;
            for ia in 0..3 {
                let mut qb = qa;
                for ib in 0..3 {
                    let w = &st.w[(ia * 3 + ib) * 3..][..3];
                    let start = st.base + (ia * n + ib) * n;
                    let row = &mut self.grid[start..start + 3];
                    let q1 = add3v(&qb, &a2);
                    let q2 = add3v(&q1, &a2);
                    scatter(&mut row[0], &qb, w[0], mass);
                    scatter(&mut row[1], &q1, w[1], mass);
                    scatter(&mut row[2], &q2, w[2], mass);
                    add3(&mut qb, &a1);
                }
                add3(&mut qa, &a0);
            }
        }
    }

    /// Grid update: `v = mv / (m + eps) + Δt g` (only `Δt g` where `m = 0`), then the
    /// free-slip walls: index `< bound` loses negative normal velocity, index
    /// `> n − bound` loses positive normal velocity. Nodes outside the touched box are
    /// never read, so they are skipped.
    #[inline(never)]
    fn grid_update(&mut self) {
        let n = self.n;
        let g = self.gravity_dt.map(T::Fast::cst);
        let hi = n.saturating_sub(self.bound);
        let zero = T::Fast::cst(0.0);
        let [bi, bj, bk] = self.touched;
        let mut totals = [0.0; 4];
        for i in bi[0]..=bi[1] {
            for j in bj[0]..=bj[1] {
                for k in bk[0]..=bk[1] {
                    let node = &mut self.grid[(i * n + j) * n + k];
                    let m = node[3];
                    totals[0] += m.re();
                    totals[1] += node[0].re();
                    totals[2] += node[1].re();
                    totals[3] += node[2].re();
                    let mut v = if m.re() > 0.0 {
                        let inv = T::Fast::cst(1.0) / (m + T::Fast::cst(self.mass_eps));
                        [
                            node[0] * inv + g[0],
                            node[1] * inv + g[1],
                            node[2] * inv + g[2],
                        ]
                    } else {
                        g
                    };
                    for (axis, pos) in [i, j, k].into_iter().enumerate() {
                        let vel = v[axis].re();
                        if (pos < self.bound && vel < 0.0) || (pos > hi && vel > 0.0) {
                            v[axis] = zero;
                        }
                    }
                    node[0] = v[0];
                    node[1] = v[1];
                    node[2] = v[2];
                }
            }
        }
        self.grid_totals = totals;
    }

    /// Grid-to-particle: `v' = Σ w v_i`, `C' = 4/dx² Σ w v_i dpos_iᵀ`,
    /// `F' = (I + Δt C') F`, `x' = clamp(x + Δt v')`. Clears the touched grid box after.
    #[inline(never)]
    #[allow(clippy::needless_range_loop)] // three nested stencil axes read best as indices
    fn g2p(&mut self, step: usize) -> Result<(), SimError> {
        let n = self.n;
        let dt = self.dt;
        let c_scale = 4.0 * self.inv_dx;
        let zero = T::Fast::cst(0.0);
        let particles = &mut self.particles;
        for (p, st) in self.stencils.iter().enumerate() {
            // Sums of w v_i by the node's offset along x (sa) and y (sb), and the first
            // moment along z (bz = Σ w v_i k).
            let z3 = [zero; 3];
            let (mut sa, mut sb, mut bz) = ([z3; 3], [z3; 3], z3);
            for ia in 0..3 {
                for ib in 0..3 {
                    let w = &st.w[(ia * 3 + ib) * 3..][..3];
                    let start = st.base + (ia * n + ib) * n;
                    let row = &self.grid[start..start + 3];
                    let v0 = gather(&row[0], w[0]);
                    let v1 = gather(&row[1], w[1]);
                    let v2 = gather(&row[2], w[2]);
                    let t = add3v(&add3v(&v0, &v1), &v2);
                    add3(&mut bz, &add3v(&add3v(&v1, &v2), &v2));
                    add3(&mut sa[ia], &t);
                    add3(&mut sb[ib], &t);
                }
            }
            let vp = add3v(&add3v(&sa[0], &sa[1]), &sa[2]);
            // B = Σ w v_i nodeᵀ, one column per axis.
            let bx = add3v(&add3v(&sa[1], &sa[2]), &sa[2]);
            let by = add3v(&add3v(&sb[1], &sb[2]), &sb[2]);
            let b = [bx, by, bz];
            // C' = 4/dx (B − v' frᵀ), row-major.
            let fr = &st.fr;
            let mut c_new = [zero; 9];
            for i in 0..3 {
                for j in 0..3 {
                    c_new[3 * i + j] = (b[j][i] - vp[i] * fr[j]).scale(c_scale);
                }
            }
            // F' = F + Δt C' F.
            let f_old = &particles.f[p];
            let mut f_new = *f_old;
            for i in 0..3 {
                for j in 0..3 {
                    let dcf = c_new[3 * i] * f_old[j]
                        + c_new[3 * i + 1] * f_old[3 + j]
                        + c_new[3 * i + 2] * f_old[6 + j];
                    f_new[3 * i + j] += dcf.scale(dt);
                }
            }
            let mut x_new = particles.x[p];
            for i in 0..3 {
                let xi = x_new[i] + vp[i].scale(dt);
                // The clamp passes derivative only when inactive.
                x_new[i] = if xi.re() < self.clip_lo {
                    T::Fast::cst(self.clip_lo)
                } else if xi.re() > self.clip_hi {
                    T::Fast::cst(self.clip_hi)
                } else {
                    xi
                };
            }
            if !(x_new.iter().chain(vp.iter()).all(|c| c.is_all_finite())) {
                return Err(SimError::NonFinite {
                    step,
                    particle: p,
                    quantity: NonFiniteQuantity::Particle,
                });
            }
            particles.x[p] = x_new;
            particles.v[p] = vp;
            particles.c[p] = c_new;
            particles.f[p] = f_new;
        }
        let [bi, bj, bk] = self.touched;
        for i in bi[0]..=bi[1] {
            for j in bj[0]..=bj[1] {
                let row = (i * n + j) * n;
                self.grid[row + bk[0]..=row + bk[1]].fill([zero; 4]);
            }
        }
        self.dirty = false;
        Ok(())
    }
}

/// Converts matrices of the public scalar to row-major fast arrays, in place.
fn to_fast_into<T: SimScalar>(dst: &mut Vec<[T::Fast; 9]>, src: &[Matrix3<T>]) {
    dst.resize(src.len(), [T::Fast::cst(0.0); 9]);
    for (d, s) in dst.iter_mut().zip(src) {
        for (k, v) in d.iter_mut().enumerate() {
            *v = T::Fast::from_real(&s[(k / 3, k % 3)]);
        }
    }
}

/// Replaces the contents of `dst` by `src`, reusing the allocation.
fn fill<A>(dst: &mut Vec<A>, src: impl Iterator<Item = A>) {
    dst.clear();
    dst.extend(src);
}

/// `node += [q w, w m]` (momentum and mass of one P2G contribution).
#[inline(always)]
fn scatter<S: FastScalar>(node: &mut [S; 4], q: &[S; 3], w: S, mass: f64) {
    node[0] += q[0] * w;
    node[1] += q[1] * w;
    node[2] += q[2] * w;
    node[3] += w.scale(mass);
}

/// `w v` for the velocity stored in a grid node.
#[inline(always)]
fn gather<S: FastScalar>(node: &[S; 4], w: S) -> [S; 3] {
    [node[0] * w, node[1] * w, node[2] * w]
}

#[inline(always)]
fn add3v<S: FastScalar>(a: &[S; 3], b: &[S; 3]) -> [S; 3] {
    [a[0] + b[0], a[1] + b[1], a[2] + b[2]]
}

#[inline(always)]
fn add3<S: FastScalar>(acc: &mut [S; 3], v: &[S; 3]) {
    acc[0] += v[0];
    acc[1] += v[1];
    acc[2] += v[2];
}

fn check_matrices<S: FastScalar>(
    m: &[[S; 9]],
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
