//! Types (shapes) of the language and task signatures such as `F: mat3 -> mat3`.

use std::fmt;

/// The type of a value: its shape. Every expression has exactly one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Type {
    /// A real number.
    Scalar,
    /// A 3-vector.
    Vec3,
    /// A 3x3 matrix.
    Mat3,
}

impl Type {
    /// The name used in the language and in messages: `scalar`, `vec3`, `mat3`.
    pub fn name(self) -> &'static str {
        match self {
            Type::Scalar => "scalar",
            Type::Vec3 => "vec3",
            Type::Mat3 => "mat3",
        }
    }

    /// Parses `scalar`, `vec3` or `mat3`.
    pub fn from_name(name: &str) -> Option<Type> {
        match name {
            "scalar" => Some(Type::Scalar),
            "vec3" => Some(Type::Vec3),
            "mat3" => Some(Type::Mat3),
            _ => None,
        }
    }

    /// Number of real entries.
    pub fn len(self) -> usize {
        match self {
            Type::Scalar => 1,
            Type::Vec3 => 3,
            Type::Mat3 => 9,
        }
    }

    /// False: every type has at least one entry (present for symmetry with `len`).
    pub fn is_empty(self) -> bool {
        false
    }
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What a task's program takes and returns: named inputs and one output type.
///
/// ```
/// use ansatz_grammar::{Signature, Type};
/// let s: Signature = "F: mat3 -> mat3".parse().unwrap();
/// assert_eq!(s, Signature::elastic());
/// assert_eq!(s.output, Type::Mat3);
/// assert_eq!(s.to_string(), "F: mat3 -> mat3");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Signature {
    /// Input names and types, in the order values are passed to the evaluator.
    pub inputs: Vec<(String, Type)>,
    /// The type the program must return.
    pub output: Type,
}

impl Signature {
    /// Elastic constitutive law: deformation gradient `F: mat3` to Kirchhoff stress `mat3`.
    pub fn elastic() -> Self {
        Signature {
            inputs: vec![("F".to_string(), Type::Mat3)],
            output: Type::Mat3,
        }
    }

    /// Plastic return mapping: deformation gradient `F: mat3` to the corrected `F` (`mat3`).
    pub fn plastic() -> Self {
        Signature::elastic()
    }

    /// A signature from input names and types and an output type.
    pub fn new<S: Into<String>>(inputs: impl IntoIterator<Item = (S, Type)>, output: Type) -> Self {
        Signature {
            inputs: inputs.into_iter().map(|(n, t)| (n.into(), t)).collect(),
            output,
        }
    }

    /// A preset by name: `elastic` or `plastic`; otherwise parses the text as a signature.
    pub fn named(name: &str) -> Result<Self, SignatureError> {
        match name.trim() {
            "elastic" => Ok(Signature::elastic()),
            "plastic" => Ok(Signature::plastic()),
            other => other.parse(),
        }
    }
}

impl fmt::Display for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (name, ty)) in self.inputs.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{name}: {ty}")?;
        }
        write!(f, " -> {}", self.output)
    }
}

/// A malformed signature text.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "bad signature '{text}': {reason} (write e.g. 'F: mat3 -> mat3' or 'x: scalar, y: scalar -> scalar')"
)]
#[non_exhaustive]
pub struct SignatureError {
    /// The text given.
    pub text: String,
    /// What is wrong with it.
    pub reason: String,
}

impl std::str::FromStr for Signature {
    type Err = SignatureError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let err = |reason: &str| SignatureError {
            text: text.to_string(),
            reason: reason.to_string(),
        };
        let (ins, out) = text.split_once("->").ok_or_else(|| err("missing '->'"))?;
        let output = Type::from_name(out.trim()).ok_or_else(|| err("unknown output type"))?;
        let mut inputs: Vec<(String, Type)> = Vec::new();
        for part in ins.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, ty) = part
                .split_once(':')
                .ok_or_else(|| err("an input needs 'name: type'"))?;
            let name = name.trim();
            let valid = name
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !valid {
                return Err(err("input names are identifiers"));
            }
            if inputs.iter().any(|(n, _)| n == name) {
                return Err(err("duplicate input name"));
            }
            let ty = Type::from_name(ty.trim()).ok_or_else(|| err("unknown input type"))?;
            inputs.push((name.to_string(), ty));
        }
        Ok(Signature { inputs, output })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_signatures() {
        let s: Signature = "x: scalar, y: vec3 -> scalar".parse().unwrap();
        assert_eq!(s.inputs.len(), 2);
        assert_eq!(s.to_string(), "x: scalar, y: vec3 -> scalar");
        assert!("F mat3 -> mat3".parse::<Signature>().is_err());
        assert!("F: tensor -> mat3".parse::<Signature>().is_err());
        assert!("F: mat3".parse::<Signature>().is_err());
        assert_eq!(Signature::named("plastic").unwrap(), Signature::plastic());
    }
}
