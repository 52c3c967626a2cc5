//! The pieces of a structured law: a tensor basis, a scalar invariant factor and a shape,
//! and the term they make (`±exp(c) * shape(factor) * basis`), named in parameter names.

use rand::Rng;
use rand::seq::IndexedRandom;
use rand_chacha::ChaCha8Rng;

/// Declares a small enum with a tag per variant (the tag is part of parameter names).
macro_rules! tagged {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $v:ident => $tag:literal,)* }) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
        pub(crate) enum $name { $($(#[$vm])* $v,)* }
        impl $name {
            pub(crate) const ALL: &'static [$name] = &[$($name::$v,)*];
            pub(crate) fn tag(self) -> &'static str {
                match self { $($name::$v => $tag,)* }
            }
            pub(crate) fn from_tag(tag: &str) -> Option<$name> {
                Self::ALL.iter().copied().find(|x| x.tag() == tag)
            }
        }
    };
}

tagged!(
    /// The tensor a term multiplies.
    Basis {
        /// `I`.
        Identity => "i",
        /// `B - I`.
        BMinusI => "bmi",
        /// `B`.
        B => "b",
        /// `B @ B - B`.
        BSquaredMinusB => "bbmb",
        /// `dev(Bb)`.
        DevIso => "devbb",
        /// `dev(Bb @ Bb)`.
        DevIsoSquared => "devbb2",
        /// `U @ diag(s ** a - 1) @ U.T`.
        Principal => "pow",
        /// `U @ diag(log(s)) @ U.T`.
        Hencky => "hencky",
    }
);

tagged!(
    /// The scalar invariant a term's shape reads.
    Factor {
        /// None (the shape is then the identity).
        One => "one",
        /// `log(J)`.
        LogJ => "logj",
        /// `J - 1`.
        JMinus1 => "jm1",
        /// `J * (J - 1)`.
        JTimesJMinus1 => "jjm1",
        /// `J * J - 1`.
        JSquaredMinus1 => "j2m1",
        /// `1 - J ** (-q)`.
        JPower => "jpow",
        /// `I1 - 3`.
        I1 => "i1",
        /// `I1b - 3`.
        I1Iso => "i1b",
        /// `I2b - 3`.
        I2Iso => "i2b",
    }
);

tagged!(
    /// What is done to the factor.
    Shape {
        /// `x`.
        Linear => "lin",
        /// `x * x`.
        Square => "sq",
        /// `1 / (1 - x * exp(-g))` (Gent, limit `Jm = exp(g)`).
        Gent => "gent",
        /// `exp(g * x)`.
        Exponential => "exp",
    }
);

/// One term `±exp(c) * shape(factor) * basis`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Term {
    /// The tensor.
    pub basis: Basis,
    /// The invariant.
    pub factor: Factor,
    /// What is done to the invariant.
    pub shape: Shape,
    /// A negative coefficient.
    pub negative: bool,
}

impl Term {
    pub(crate) const fn new(basis: Basis, factor: Factor) -> Term {
        Term {
            basis,
            factor,
            shape: Shape::Linear,
            negative: false,
        }
    }

    /// Its name in parameter names, e.g. `devbb_i1b_gent_p`.
    pub(crate) fn key(self) -> String {
        let sign = if self.negative { "n" } else { "p" };
        format!(
            "{}_{}_{}_{sign}",
            self.basis.tag(),
            self.factor.tag(),
            self.shape.tag()
        )
    }

    pub(crate) fn from_key(key: &str) -> Option<Term> {
        let mut parts = key.split('_');
        let basis = Basis::from_tag(parts.next()?)?;
        let factor = Factor::from_tag(parts.next()?)?;
        let shape = Shape::from_tag(parts.next()?)?;
        let negative = match parts.next()? {
            "p" => false,
            "n" => true,
            _ => return None,
        };
        let t = Term {
            basis,
            factor,
            shape,
            negative,
        };
        (parts.next().is_none() && t.valid()).then_some(t)
    }

    /// Zero at rest, and no shape of a missing factor.
    pub(crate) fn valid(self) -> bool {
        let basis_vanishes = !matches!(self.basis, Basis::Identity | Basis::B);
        let keeps_zero = matches!(self.shape, Shape::Linear | Shape::Square);
        let shaped_one = self.factor == Factor::One && self.shape != Shape::Linear;
        !shaped_one && (basis_vanishes || (self.factor != Factor::One && keeps_zero))
    }

    /// Same term up to the sign (a law has at most one of the two).
    pub(crate) fn same_slot(self, other: Term) -> bool {
        (self.basis, self.factor, self.shape) == (other.basis, other.factor, other.shape)
    }

    /// Its extra parameters (role letter, default) besides the coefficient `c`.
    pub(crate) fn extras(self) -> Vec<(char, f64)> {
        let mut v = Vec::new();
        if self.basis == Basis::Principal {
            v.push(('a', 1.0));
        }
        if self.factor == Factor::JPower {
            v.push(('q', 1.0));
        }
        match self.shape {
            Shape::Gent => v.push(('g', 3.0)),
            Shape::Exponential => v.push(('g', 0.5)),
            Shape::Linear | Shape::Square => {}
        }
        v
    }

    /// Its expression, parameters named by [`Term::key`].
    pub(crate) fn expr(self) -> String {
        let k = self.key();
        let basis = match self.basis {
            Basis::Identity => "I".to_string(),
            Basis::BMinusI => "(B - I)".to_string(),
            Basis::B => "B".to_string(),
            Basis::BSquaredMinusB => "(B @ B - B)".to_string(),
            Basis::DevIso => "dev(Bb)".to_string(),
            Basis::DevIsoSquared => "dev(Bb @ Bb)".to_string(),
            Basis::Principal => format!("(U @ diag(s ** a_{k} - 1) @ U.T)"),
            Basis::Hencky => "(U @ diag(log(s)) @ U.T)".to_string(),
        };
        let x = match self.factor {
            Factor::One => None,
            Factor::LogJ => Some("log(J)".to_string()),
            Factor::JMinus1 => Some("(J - 1)".to_string()),
            Factor::JTimesJMinus1 => Some("(J * (J - 1))".to_string()),
            Factor::JSquaredMinus1 => Some("(J * J - 1)".to_string()),
            Factor::JPower => Some(format!("(1 - J ** (-q_{k}))")),
            Factor::I1 => Some("(I1 - 3)".to_string()),
            Factor::I1Iso => Some("(I1b - 3)".to_string()),
            Factor::I2Iso => Some("(I2b - 3)".to_string()),
        };
        let scalar = x.map(|x| match self.shape {
            Shape::Linear => x,
            Shape::Square => format!("{x} * {x}"),
            Shape::Gent => format!("1 / (1 - {x} * exp(-g_{k}))"),
            Shape::Exponential => format!("exp(g_{k} * {x})"),
        });
        let sign = if self.negative { "-" } else { "" };
        match scalar {
            Some(s) => format!("{sign}exp(c_{k}) * {s} * {basis}"),
            None => format!("{sign}exp(c_{k}) * {basis}"),
        }
    }

    /// A random valid term.
    pub(crate) fn random(rng: &mut ChaCha8Rng) -> Term {
        loop {
            let t = Term {
                basis: *Basis::ALL.choose(rng).unwrap_or(&Basis::BMinusI),
                factor: *Factor::ALL.choose(rng).unwrap_or(&Factor::One),
                shape: *Shape::ALL.choose(rng).unwrap_or(&Shape::Linear),
                negative: rng.random_bool(0.25),
            };
            if t.valid() {
                return t;
            }
        }
    }
}
