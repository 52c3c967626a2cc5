//! ansatz-engine: the bilevel search, for any kind of problem.
//!
//! A proposer (a language model, a person answering prompt files, a recorded run, or a
//! problem's own offline search) writes candidate solutions as text; the [`Problem`] screens
//! each (extract, parse, check, deduplicate) and evaluates what passes (its inner
//! optimisation); the result goes into the run's ledger and back to the proposer, round
//! after round. The engine knows nothing of physics, laws or molecules: a problem kind says
//! what a solution is through the [`Problem`] trait and keeps what it needs in its
//! [`Detail`].
//!
//! A toy problem: find an integer whose square is 49. Solutions are written in ```int
//! blocks; the fitness is the distance of the square to 49.
//!
//! ```
//! use ansatz_engine::prompt::Brief;
//! use ansatz_engine::{
//!     Candidate, GoOn, Judged, LedgerError, Problem, Proposal, ProposeError, Proposer,
//!     ProposerKind, RoundContext, RunDir, Screening, Search, SearchConfig, Silent, Stage,
//!     StopReason, Tokens, Verdict,
//! };
//! use std::sync::atomic::AtomicBool;
//!
//! struct Square;
//!
//! impl Problem for Square {
//!     type Detail = ();
//!     type Solution = i64;
//!     type Settings = ();
//!     fn name(&self) -> &str {
//!         "square"
//!     }
//!     fn start(&self) -> Option<(String, String)> {
//!         Some(("built in".into(), "1".into()))
//!     }
//!     fn screen(&self, proposal: &Proposal) -> Screening<(), i64> {
//!         let text = proposal.text.trim().trim_start_matches("```int").trim_end_matches("```");
//!         Screening {
//!             detail: (),
//!             shown: None,
//!             outcome: text
//!                 .trim()
//!                 .parse()
//!                 .map_err(|e| (Stage::Parse, format!("not an integer: {e}"))),
//!         }
//!     }
//!     fn evaluate(&self, n: i64, _: &mut (), _: &(), _: &mut GoOn<'_>) -> Judged {
//!         let fitness = (n.saturating_mul(n) - 49).abs() as f64;
//!         Judged {
//!             fitness,
//!             verdict: Verdict::Ok { note: String::new() },
//!             feedback: format!("distance {fitness}"),
//!         }
//!     }
//!     fn brief(&self) -> Brief {
//!         Brief {
//!             system: "You write integers.".into(),
//!             setup: "Find n with n * n = 49.".into(),
//!             task: "Write a better integer.".into(),
//!             format: "One ```int block.".into(),
//!             block: "int".into(),
//!             noun: "integer".into(),
//!             same_form: String::new(),
//!         }
//!     }
//! }
//!
//! /// Proposes 7 and a malformed text.
//! struct Fixed;
//! impl Proposer<Square> for Fixed {
//!     fn propose(&mut self, ctx: &RoundContext<'_, Square>) -> Result<Vec<Proposal>, ProposeError> {
//!         assert!(ctx.messages()[1].content.contains("n * n = 49"));
//!         let proposal = |text: &str| Proposal {
//!             proposer: ProposerKind::Evolve,
//!             how: String::new(),
//!             parents: ctx.shown.to_vec(),
//!             text: text.into(),
//!             tokens: Tokens::default(),
//!             error: None,
//!             cut: None,
//!         };
//!         Ok(vec![proposal("```int\n7\n```"), proposal("seven")])
//!     }
//! }
//!
//! let dir = std::env::temp_dir().join(format!("ansatz-engine-doc-{}", std::process::id()));
//! let _ = std::fs::remove_dir_all(&dir);
//! let mut config = SearchConfig::new("square.toml", ());
//! config.rounds = 1;
//! let stop = AtomicBool::new(false);
//! let outcome = Search {
//!     problem: &Square,
//!     config: &config,
//!     run: RunDir::open(&dir)?,
//!     proposer: Box::new(Fixed),
//!     stop: &stop,
//! }
//! .run(&mut Silent)
//! .expect("the run");
//! assert_eq!(outcome.best, Some(1));
//! assert_eq!(outcome.candidates[0].fitness, 48.0);
//! assert_eq!(outcome.candidates[2].failed_stage(), Some(Stage::Parse));
//! assert_eq!(outcome.stopped, StopReason::RoundsDone { rounds: 1 });
//! std::fs::remove_dir_all(&dir).expect("cleanup");
//! # Ok::<(), LedgerError>(())
//! ```
#![warn(missing_docs)]

pub mod candidate;
pub mod executor;
pub mod extract;
pub mod json;
pub mod ledger;
pub mod llm;
pub mod plot;
pub mod problem;
pub mod prompt;
pub mod propose;
pub mod report;
pub mod search;

pub use candidate::{
    Candidate, Detail, Proposal, ProposerKind, Stage, Tokens, Verdict, dedup_keys,
};
pub use executor::{Executor, ExecutorError, LocalExecutor, RoundWork, Screened, Submission};
pub use ledger::{LedgerError, RunDir};
pub use problem::{GoOn, Judged, Problem, Screening};
pub use prompt::Brief;
pub use propose::{ProposeError, Proposer, RoundContext};
pub use search::{
    Events, LlmSettings, Outcome, Search, SearchConfig, SearchError, Silent, StopReason,
};
