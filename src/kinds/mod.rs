//! The kinds of problem a search can be about, one folder each, and the registry that maps
//! a task file's `kind` to its code.
//!
//! A kind is a [`ProblemKind`]: how to load its task file into a [`Problem`], its default
//! evaluation settings, its offline proposer, and the answer printed for its best
//! candidate. `ansatz search`, `--resume` and `--proposer replay` go through
//! [`Kind::visit`], so a new kind is one folder and one line of [`registry!`]'s table
//! below.

use ansatz_engine::{Candidate, Problem, Proposer};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// An error loading a task of some kind.
pub type KindError = Box<dyn std::error::Error + Send + Sync>;

/// Settings a user may override on the command line, for kinds where they apply.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Overrides {
    /// The inner optimiser of a law fit.
    pub optimizer: Option<crate::law::record::Optimizer>,
    /// Most evaluations of one candidate's inner fit.
    pub fit_evaluations: Option<usize>,
    /// The feedback format of a law's fit (`--feedback`).
    pub feedback: Option<ansatz_engine::prompt::FeedbackFormat>,
    /// What happens to a law that fails a physics check (simulation tasks).
    pub physics: Option<crate::law::record::PhysicsPolicy>,
    /// Turns the offline proposer's library of classical forms off (law kinds).
    pub no_library: bool,
    /// Turns the short-horizon grid of moduli before each L-BFGS fit off (simulation tasks).
    pub no_start_grid: bool,
    /// The offline search of a sequence task (Ehrlich).
    pub sequence_search: Option<ehrlich::search::SequenceSearch>,
}

impl Overrides {
    /// Refuses an override given for a task of kind `kind` that it does not apply to,
    /// naming the kinds it applies to: the one place that knows which override goes with
    /// which kind ([`ProblemKind::apply`] then only applies them). `--feedback` applies to
    /// every kind (the engine's history is formatted by it).
    pub fn check(&self, kind: Kind) -> Result<(), KindError> {
        const SIMULATION: (&[Kind], &str) = (&[Kind::Mpm], "simulation (mpm)");
        const LAW: (&[Kind], &str) = (&[Kind::Mpm, Kind::Table], "law (mpm, table)");
        const SEQUENCE: (&[Kind], &str) = (&[Kind::Ehrlich], "sequence (ehrlich)");
        let given = [
            (self.optimizer.is_some(), "--optimizer", SIMULATION),
            (self.fit_evaluations.is_some(), "--fit-evaluations", LAW),
            (self.physics.is_some(), "--physics", SIMULATION),
            (self.no_library, "--no-library", LAW),
            (self.no_start_grid, "--no-start-grid", SIMULATION),
            (
                self.sequence_search.is_some(),
                "--sequence-search",
                SEQUENCE,
            ),
        ];
        for (set, flag, (kinds, what)) in given {
            if set && !kinds.contains(&kind) {
                return Err(format!(
                    "{flag} applies to {what} tasks only, not to this {kind} task"
                )
                .into());
            }
        }
        Ok(())
    }
}

/// What a kind of problem brings to the engine.
pub trait ProblemKind {
    /// Its problem.
    type Problem: Problem;

    /// Loads a task file into the problem and its default evaluation settings.
    fn load(
        task: &Path,
    ) -> Result<(Self::Problem, <Self::Problem as Problem>::Settings), KindError>;

    /// Applies command-line overrides to the settings; those that do not apply to this
    /// kind were refused before by [`Overrides::check`].
    fn apply(
        settings: &mut <Self::Problem as Problem>::Settings,
        overrides: &Overrides,
    ) -> Result<(), KindError>;

    /// The built-in offline proposer, for a run with evaluation settings `settings`.
    fn offline(
        problem: &Self::Problem,
        settings: &<Self::Problem as Problem>::Settings,
    ) -> Box<dyn Proposer<Self::Problem>>;

    /// The answer printed on the terminal for the best candidate (the law with its fitted
    /// values, say).
    fn answer(
        problem: &Self::Problem,
        best: &Candidate<<Self::Problem as Problem>::Detail>,
    ) -> String;
}

/// Something done with a kind whatever it is (run a search, replay one): the registry calls
/// [`KindVisitor::visit`] with the kind's type.
pub trait KindVisitor {
    /// What it gives back.
    type Output;
    /// Does it for kind `K`.
    fn visit<K: ProblemKind>(self, kind: Kind) -> Self::Output;
}

/// The registry: one line per kind (its folder, the type in it that implements
/// [`ProblemKind`], its variant, its name in task files).
macro_rules! registry {
    ($($module:ident :: $kind:ident => $variant:ident, $name:literal;)*) => {
        $(pub mod $module;)*


        /// A kind of problem, as a task file names it (`kind = "mpm"`, the default).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "lowercase")]
        pub enum Kind {
            $(
                #[doc = concat!("`", $name, "`")]
                $variant,
            )*
        }

        impl Kind {
            /// Every kind.
            pub const ALL: &[Kind] = &[$(Kind::$variant),*];

            /// Its name in task files.
            pub fn name(self) -> &'static str {
                match self {
                    $(Kind::$variant => $name,)*
                }
            }

            /// Does `visitor`'s work with this kind's type.
            pub fn visit<V: KindVisitor>(self, visitor: V) -> V::Output {
                match self {
                    $(Kind::$variant => visitor.visit::<$module::$kind>(self),)*
                }
            }
        }
    };
}

registry! {
    mpm::MpmKind => Mpm, "mpm";
    table::TableKind => Table, "table";
    ehrlich::EhrlichKind => Ehrlich, "ehrlich";
    molecules::MoleculesKind => Molecules, "molecules";
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Kind {
    type Err = String;
    fn from_str(s: &str) -> Result<Kind, String> {
        Kind::ALL
            .iter()
            .copied()
            .find(|k| k.name() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = Kind::ALL.iter().map(|k| k.name()).collect();
                format!("unknown kind {s:?} (known: {})", names.join(", "))
            })
    }
}

impl Kind {
    /// The kind a task file names (`kind = "..."`; none: `mpm`).
    pub fn of_task_file(path: &Path) -> Result<Kind, KindError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("reading {}: {e}", path.display()))?;
        let table: toml::Table = toml::from_str(&text).map_err(|e| {
            format!(
                "{}: not a task file (TOML with a `kind`, default \"mpm\"): {e}",
                path.display()
            )
        })?;
        match table.get("kind") {
            None => Ok(Kind::Mpm),
            Some(toml::Value::String(s)) => Ok(s
                .parse::<Kind>()
                .map_err(|e| format!("{}: {e}", path.display()))?),
            Some(other) => Err(format!(
                "{}: `kind` must be a string, not {}",
                path.display(),
                other.type_str()
            )
            .into()),
        }
    }
}
