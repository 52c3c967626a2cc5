//! 3x3 linear algebra for ansatz, generic over `f64` and forward-mode dual numbers.
//!
//! Everything here works for any [`Real`] scalar: `f64` for values, and
//! [`num_dual::DualSVec64<N>`] for values with exact derivatives in N directions.
//! The signed SVD and the polar decomposition carry the clamped forward-mode derivative
//! of the SGA reference, so their derivatives stay finite
//! at `F = I` and at repeated singular values, where a generic SVD on dual numbers is NaN.
//!
//! ```
//! use ansatz_linalg::{Real, svd_signed};
//! use nalgebra::Matrix3;
//! use num_dual::DualSVec64;
//!
//! // F = I + t * E with t the one derivative direction: the SVD of the identity.
//! let t = DualSVec64::<1>::var(0.0, 0);
//! let e = Matrix3::new(0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
//! let f = Matrix3::<DualSVec64<1>>::identity() + e.map(DualSVec64::cst) * t;
//! let svd = svd_signed(&f);
//! assert!(svd.u.iter().chain(svd.v.iter()).all(|x| x.is_all_finite()));
//! assert!((svd.sigma[0].re() - 1.0).abs() < 1e-15);
//! ```
#![warn(missing_docs)]

mod dense;
mod jacobi;
mod mat3;
mod real;
mod svd;
mod warp_svd;

pub use dense::solve_dense;
pub use jacobi::svd_exact_f64_each;
pub use mat3::{det3, from_f64, inv3, mul3, mul3_tn, re3, trace3};
pub use num_dual::DualSVec64;
pub use real::{Real, gradient, seed_params};
pub use svd::{
    SVD_GAP_CLAMP, Svd, SvdMethod, polar, svd_exact_f64, svd_signed, svd_signed_each,
    svd_signed_f64, svd_signed_f64_each,
};
pub use warp_svd::svd_reference_f32;
