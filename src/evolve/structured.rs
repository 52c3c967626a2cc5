//! The structured operator: elastic laws built in the form every isotropic law takes,
//! `tau = sum of coefficient * shape(factor) * basis`, instead of looked up.
//!
//! * A **basis** is a tensor coaxial with `B = F @ F.T`: `I`, `B - I`, `B`, `B @ B - B`,
//!   the deviatoric isochoric `dev(Bb)` and `dev(Bb @ Bb)` (`Bb = J ** (-2 / 3) * B`), or a
//!   principal-stretch tensor `U @ diag(s ** a - 1) @ U.T`, `U @ diag(log(s)) @ U.T`. So a
//!   sum of terms is `phi0 I + phi1 B + phi2 B²` or its principal-stretch equivalent.
//! * A **factor** is a scalar invariant that vanishes at rest: `log(J)`, `J - 1`,
//!   `J (J - 1)`, `J² - 1`, `1 - J ** (-q)`, `I1 - 3`, `I1b - 3`, `I2b - 3` (or none).
//! * A **shape** maps the factor: itself, its square, Gent's `1 / (1 - x / Jm)` or
//!   `exp(g x)`.
//!
//! A term is kept only when it vanishes at rest (its basis does, or its factor does and the
//! shape keeps zero), so every law built here gives `tau(I) = 0`. Each term's coefficient
//! is `±exp(c)` with `c` a parameter (a log modulus, defaulting to log 1e5 for seeds, the
//! scale of the shipped tasks' moduli), so a fit moves moduli on a log scale.
//!
//! The parameter names carry the structure (`c_devbb_i1b_gent_p` is the coefficient of
//! `+ Gent(I1b - 3) dev(Bb)`; `g_...`, `a_...`, `q_...` its shape, basis and factor
//! parameters), so a parent built here is read back ([`Genome::decode`]) with its fitted
//! values, and grown (a term added), pruned (a negligible or random term removed), varied
//! (one part of a term replaced) or crossed (a term of another parent added).

use super::Parent;
use ansatz_grammar::{Program, parse};
use rand::Rng;
use rand::seq::{IndexedRandom, SliceRandom};
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeMap;

/// Log of the default modulus of a seed's terms (1e5, the scale of the shipped moduli).
const SEED_LOG_MODULUS: f64 = 11.5;
/// Log of the default modulus of a term added to a fitted parent (1e4: a small change).
const GROWN_LOG_MODULUS: f64 = 9.2;
/// A term whose modulus is below this fraction of the largest one is negligible.
const NEGLIGIBLE: f64 = 1e-3;

/// Declares a small enum with a tag per variant (the tag is part of parameter names).
macro_rules! tagged {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $v:ident => $tag:literal,)* }) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
        pub(crate) enum $name { $($(#[$vm])* $v,)* }
        impl $name {
            const ALL: &'static [$name] = &[$($name::$v,)*];
            fn tag(self) -> &'static str {
                match self { $($name::$v => $tag,)* }
            }
            fn from_tag(tag: &str) -> Option<$name> {
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
    basis: Basis,
    factor: Factor,
    shape: Shape,
    negative: bool,
}

impl Term {
    const fn new(basis: Basis, factor: Factor) -> Term {
        Term {
            basis,
            factor,
            shape: Shape::Linear,
            negative: false,
        }
    }

    /// Its name in parameter names, e.g. `devbb_i1b_gent_p`.
    fn key(self) -> String {
        let sign = if self.negative { "n" } else { "p" };
        format!(
            "{}_{}_{}_{sign}",
            self.basis.tag(),
            self.factor.tag(),
            self.shape.tag()
        )
    }

    fn from_key(key: &str) -> Option<Term> {
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
    fn valid(self) -> bool {
        let basis_vanishes = !matches!(self.basis, Basis::Identity | Basis::B);
        let keeps_zero = matches!(self.shape, Shape::Linear | Shape::Square);
        let shaped_one = self.factor == Factor::One && self.shape != Shape::Linear;
        !shaped_one && (basis_vanishes || (self.factor != Factor::One && keeps_zero))
    }

    /// Same term up to the sign (a law has at most one of the two).
    fn same_slot(self, other: Term) -> bool {
        (self.basis, self.factor, self.shape) == (other.basis, other.factor, other.shape)
    }

    /// Its extra parameters (role letter, default) besides the coefficient `c`.
    fn extras(self) -> Vec<(char, f64)> {
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
    fn expr(self) -> String {
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
    fn random(rng: &mut ChaCha8Rng) -> Term {
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

/// The invariants every law here may use (unused ones are pruned when it is finished).
const HEAD: &str = "J = det(F)
B = F @ F.T
I1 = trace(B)
Bb = J ** (-2 / 3) * B
I1b = trace(Bb)
I2b = (I1b * I1b - trace(Bb @ Bb)) / 2
U, sigma, Vh = svd(F)
s = max(sigma, 1e-5)
";

/// A law built here: its terms with their parameter values by role letter.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Genome {
    genes: Vec<(Term, BTreeMap<char, f64>)>,
}

impl Genome {
    /// A law of the given terms at their default values (`log_modulus` for coefficients).
    fn of(terms: &[Term], log_modulus: f64) -> Genome {
        let mut g = Genome { genes: Vec::new() };
        for &t in terms {
            g.add(t, log_modulus);
        }
        g
    }

    /// Adds a term at its defaults unless its slot is taken; false when it was.
    fn add(&mut self, term: Term, log_modulus: f64) -> bool {
        if !term.valid() || self.genes.iter().any(|(t, _)| t.same_slot(term)) {
            return false;
        }
        let mut values: BTreeMap<char, f64> = term.extras().into_iter().collect();
        values.insert('c', log_modulus);
        self.genes.push((term, values));
        self.genes.sort_by(|a, b| a.0.cmp(&b.0));
        true
    }

    /// The law's source text.
    pub(crate) fn source(&self) -> String {
        let mut src = String::new();
        for (t, values) in &self.genes {
            for (role, v) in values {
                src.push_str(&format!("param {role}_{} = {v:?}\n", t.key()));
            }
        }
        src.push_str(HEAD);
        let terms: Vec<String> = self.genes.iter().map(|(t, _)| t.expr()).collect();
        src.push_str(&format!("return {}", terms.join(" + ")));
        src
    }

    /// The law as a program, `None` when it has no term or does not parse.
    pub(crate) fn program(&self) -> Option<Program> {
        if self.genes.is_empty() {
            return None;
        }
        parse(&self.source()).ok()
    }

    /// Reads a parent built here back, with its fitted values; `None` for any other law.
    pub(crate) fn decode(parent: &Parent<'_>) -> Option<Genome> {
        let program = parse(parent.source).ok()?;
        let fitted = parent.params.len() == program.params.len()
            && parent.params.iter().all(|v| v.is_finite());
        let mut genes: BTreeMap<String, (Term, BTreeMap<char, f64>)> = BTreeMap::new();
        for (i, p) in program.params.iter().enumerate() {
            let (role, key) = p.name.split_once('_')?;
            let role = role.chars().next().filter(|_| role.len() == 1)?;
            let term = Term::from_key(key)?;
            let value = if fitted { parent.params[i] } else { p.value };
            let entry = genes
                .entry(key.to_string())
                .or_insert((term, BTreeMap::new()));
            entry.1.insert(role, value);
        }
        let g = Genome {
            genes: genes.into_values().collect(),
        };
        let mut g = g;
        g.genes.sort_by(|a, b| a.0.cmp(&b.0));
        // The structure must be exactly what this module writes for those terms.
        let shape = |mut p: Program| {
            p.params.iter_mut().for_each(|q| q.value = 0.0);
            super::tree::prune(&mut p);
            p.to_string()
        };
        let same = shape(g.program()?) == shape(program);
        same.then_some(g)
    }

    /// The term with the smallest modulus when it is negligible beside the largest.
    fn negligible(&self) -> Option<usize> {
        let c = |i: usize| self.genes[i].1.get(&'c').copied().unwrap_or(f64::NAN);
        let largest = (0..self.genes.len())
            .map(c)
            .fold(f64::NEG_INFINITY, f64::max);
        (0..self.genes.len())
            .filter(|&i| c(i) < largest + NEGLIGIBLE.ln())
            .min_by(|&a, &b| c(a).total_cmp(&c(b)))
    }
}

/// Seeds: a shear term and a volume term (every pair, in a fixed order).
pub(crate) fn seeds() -> Vec<Genome> {
    let shear = [
        Term::new(Basis::BMinusI, Factor::One),
        Term::new(Basis::DevIso, Factor::One),
        Term::new(Basis::Principal, Factor::One),
        Term::new(Basis::Hencky, Factor::One),
    ];
    let volume = [
        Factor::LogJ,
        Factor::JMinus1,
        Factor::JTimesJMinus1,
        Factor::JSquaredMinus1,
        Factor::JPower,
    ];
    let mut out = Vec::new();
    for f in volume {
        for s in shear {
            out.push(Genome::of(
                &[s, Term::new(Basis::Identity, f)],
                SEED_LOG_MODULUS,
            ));
        }
    }
    out
}

/// A child of structured parents (`(index into the caller's parents, genome, loss)`), or
/// `None` when the chosen change does not apply. Returns the program and the parents used.
pub(crate) fn vary(
    rng: &mut ChaCha8Rng,
    parents: &[(usize, Genome, f64)],
) -> Option<(Program, Vec<usize>)> {
    let pick = |rng: &mut ChaCha8Rng| -> Option<&(usize, Genome, f64)> {
        let a = parents.choose(rng)?;
        let b = parents.choose(rng)?;
        Some(if b.2 < a.2 { b } else { a })
    };
    let (i, parent, _) = pick(rng)?;
    let mut g = parent.clone();
    let mut used = vec![*i];
    match rng.random_range(0..8) {
        // Grow: a random new term.
        0..=2 => {
            if !g.add(Term::random(rng), GROWN_LOG_MODULUS) {
                return None;
            }
        }
        // Prune: the negligible term, else a random one.
        3 | 4 => {
            if g.genes.len() < 2 {
                return None;
            }
            let k = match g.negligible() {
                Some(k) => k,
                None => rng.random_range(0..g.genes.len()),
            };
            g.genes.remove(k);
        }
        // Vary one part of one term, keeping its coefficient.
        5 | 6 => {
            let k = rng.random_range(0..g.genes.len());
            let (old, values) = g.genes.remove(k);
            let mut t = old;
            match rng.random_range(0..4) {
                0 => t.basis = *Basis::ALL.choose(rng)?,
                1 => t.factor = *Factor::ALL.choose(rng)?,
                2 => t.shape = *Shape::ALL.choose(rng)?,
                _ => t.negative = !t.negative,
            }
            let c = values.get(&'c').copied().unwrap_or(GROWN_LOG_MODULUS);
            if t == old || !g.add(t, c) {
                return None;
            }
        }
        // Cross: a term of another parent, with its fitted values.
        _ => {
            let (j, other, _) = pick(rng)?;
            let (t, values) = other.genes.choose(rng)?.clone();
            if !g.add(t, GROWN_LOG_MODULUS) {
                return None;
            }
            if let Some(gene) = g.genes.iter_mut().find(|(u, _)| *u == t) {
                gene.1 = values;
            }
            used.push(*j);
        }
    }
    used.sort_unstable();
    used.dedup();
    Some((g.program()?, used))
}

/// A seed with one random term more (fresh structures once the seeds are used up).
pub(crate) fn random_law(rng: &mut ChaCha8Rng) -> Option<Program> {
    let mut g = seeds().choose(rng)?.clone();
    g.add(Term::random(rng), GROWN_LOG_MODULUS);
    g.program()
}

/// The seeds in a random order (the order of a batch's fresh structures).
pub(crate) fn shuffled_seeds(rng: &mut ChaCha8Rng) -> Vec<Genome> {
    let mut s = seeds();
    s.shuffle(rng);
    s
}

#[cfg(test)]
#[path = "structured_tests.rs"]
mod tests;
