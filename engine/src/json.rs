//! JSON has no NaN or infinity: non-finite losses are written as `null` and read back as
//! NaN (losses) or +∞ (fitness), so records survive a round trip.

use serde::{Deserialize, Deserializer, Serializer};

/// `f64` with `null` for non-finite values; `null` reads back as NaN.
pub mod nan_null {
    use super::*;

    /// Writes finite values as numbers, others as `null`.
    pub fn serialize<S: Serializer>(x: &f64, s: S) -> Result<S::Ok, S::Error> {
        if x.is_finite() {
            s.serialize_f64(*x)
        } else {
            s.serialize_none()
        }
    }

    /// Reads a number, or `null` as NaN.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
    }
}

/// `f64` with `null` for non-finite values; `null` reads back as +∞ (a fitness).
pub mod inf_null {
    use super::*;

    /// Writes finite values as numbers, others as `null`.
    pub fn serialize<S: Serializer>(x: &f64, s: S) -> Result<S::Ok, S::Error> {
        super::nan_null::serialize(x, s)
    }

    /// Reads a number, or `null` as +∞.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::INFINITY))
    }
}

/// `Option<f64>` (with `#[serde(default, skip_serializing_if = "Option::is_none")]`): a
/// present non-finite value is written as `null` and read back as +∞.
pub mod opt_inf_null {
    use super::*;

    /// Writes a finite value as a number, another as `null`.
    pub fn serialize<S: Serializer>(x: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_some(&x.filter(|v| v.is_finite()))
    }

    /// Reads a number, or `null` as +∞.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
        Ok(Some(
            Option::<f64>::deserialize(d)?.unwrap_or(f64::INFINITY),
        ))
    }
}

/// `Vec<f64>` with `null` entries for non-finite values (read back as NaN).
pub mod vec_nan_null {
    use super::*;
    use serde::ser::SerializeSeq;

    /// Writes each entry as a number or `null`.
    pub fn serialize<S: Serializer>(v: &[f64], s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(v.len()))?;
        for x in v {
            seq.serialize_element(&x.is_finite().then_some(*x))?;
        }
        seq.end()
    }

    /// Reads numbers, `null` as NaN.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f64>, D::Error> {
        Ok(Vec::<Option<f64>>::deserialize(d)?
            .into_iter()
            .map(|x| x.unwrap_or(f64::NAN))
            .collect())
    }
}
