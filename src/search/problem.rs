//! What a search is about: a [`Problem`] says what a law takes and returns, where the
//! search starts, how a law is fitted and judged, and what the prompt says about it. The
//! search loop, the ledger, resuming, replay and the proposers know nothing else of it.
//!
//! A simulation [`Task`] is one problem (its laws are constitutive laws fitted through the
//! MPM simulator); a table to regress is another. A new kind of problem implements the
//! trait: its [`Problem::fit`] fits the checked law's constants however it likes, records
//! every evaluation in a [`FitRecord`](crate::fit::FitRecord), writes the feedback text, and ends with
//! [`Checked::finish`], which fills in the candidate. The search needs nothing else: build
//! a [`SearchConfig`](super::SearchConfig) with [`SearchConfig::with_fit`](super::SearchConfig::with_fit)
//! and give the problem to a [`Search`](super::Search).
//!
//! A toy problem (one scalar input `x`, its law's constants not fitted but taken as given)
//! searched by a proposer that always proposes the same law:
//!
//! ```
//! use ansatz::fit::Verdict;
//! use ansatz::search::propose::{ProposeError, Proposer, RoundContext};
//! use ansatz::search::{
//!     Brief, Candidate, Checked, Evaluation, FitRecord, FitSettings, Problem, Proposal,
//!     Search, SearchConfig, Silent, Tokens, ledger::RunDir,
//! };
//! use ansatz_grammar::{Signature, Type, Value};
//! use std::sync::atomic::AtomicBool;
//! use std::time::Instant;
//!
//! /// Points (x, y) on y = 3x.
//! struct Line {
//!     signature: Signature,
//!     points: Vec<(f64, f64)>,
//! }
//!
//! impl Problem for Line {
//!     fn name(&self) -> &str {
//!         "line"
//!     }
//!     fn signature(&self) -> &Signature {
//!         &self.signature
//!     }
//!     fn start(&self) -> (String, String) {
//!         ("built in".into(), "return x".into())
//!     }
//!     fn fit(
//!         &self,
//!         checked: Checked,
//!         settings: &FitSettings,
//!         observer: &mut dyn FnMut(&Evaluation) -> bool,
//!     ) -> Candidate {
//!         let started = Instant::now();
//!         let law = checked.law.compiled();
//!         let params = law.defaults().to_vec();
//!         let mut scratch = law.scratch();
//!         let mut loss = 0.0;
//!         for &(x, y) in &self.points {
//!             let v = law.eval(&[Value::Scalar(x)], &params, &mut scratch);
//!             let v = v.ok().and_then(|v| v.as_scalar()).unwrap_or(f64::NAN);
//!             loss += (v - y).powi(2) / self.points.len() as f64;
//!         }
//!         let evaluation = Evaluation {
//!             params: params.clone(),
//!             loss,
//!             velocity: None,
//!             gradient: Vec::new(),
//!             error: None,
//!             seconds: 0.0,
//!         };
//!         observer(&evaluation);
//!         let record = FitRecord {
//!             task: self.name().into(),
//!             settings: settings.clone(),
//!             law: checked.law.program().to_string(),
//!             param_names: law.param_names().to_vec(),
//!             start_params: params.clone(),
//!             evaluations: vec![evaluation],
//!             best: Some(0),
//!             fitness: loss,
//!             final_params: params,
//!             verdict: Verdict::Ok { note: String::new() },
//!             seconds: started.elapsed().as_secs_f64(),
//!         };
//!         let feedback = format!("Mean squared error: {loss:.6e}");
//!         checked.finish(record, feedback, started)
//!     }
//!     fn brief(&self) -> Brief {
//!         Brief {
//!             setup: "### Context\n\nFind y as a function of x.".into(),
//!             format: "Write one ```law block.".into(),
//!         }
//!     }
//! }
//!
//! /// Always proposes y = a x with a = 3.
//! struct Fixed;
//! impl Proposer for Fixed {
//!     fn name(&self) -> &str {
//!         "fixed"
//!     }
//!     fn propose(&mut self, ctx: &RoundContext<'_>) -> Result<Vec<Proposal>, ProposeError> {
//!         assert!(ctx.messages()[1].content.contains("Find y as a function of x."));
//!         Ok(vec![Proposal {
//!             proposer: "fixed".into(),
//!             how: String::new(),
//!             parents: ctx.shown.to_vec(),
//!             text: "param a = 3.0\nreturn a * x".into(),
//!             tokens: Tokens::default(),
//!             error: None,
//!             cut: None,
//!         }])
//!     }
//! }
//!
//! let line = Line {
//!     signature: Signature::new([("x", Type::Scalar)], Type::Scalar),
//!     points: vec![(1.0, 3.0), (2.0, 6.0)],
//! };
//! let mut config = SearchConfig::with_fit("line.csv", FitSettings::default());
//! config.rounds = 1;
//! let dir = std::env::temp_dir().join(format!("ansatz-doc-problem-{}", std::process::id()));
//! let _ = std::fs::remove_dir_all(&dir);
//! let stop = AtomicBool::new(false);
//! let outcome = Search {
//!     problem: &line,
//!     config: &config,
//!     run: RunDir::open(&dir).unwrap(),
//!     proposer: Box::new(Fixed),
//!     stop: &stop,
//! }
//! .run(&mut Silent)
//! .unwrap();
//! assert_eq!(outcome.best, Some(1));
//! assert_eq!(outcome.candidates[0].fitness, 10.0); // y = x: (1 - 3)² and (2 - 6)², averaged
//! assert_eq!(outcome.candidates[1].fitness, 0.0);
//! assert!(std::fs::read_to_string(dir.join("report.md")).unwrap().contains("# ansatz search: line"));
//! std::fs::remove_dir_all(&dir).unwrap();
//! ```

use super::candidate::{Candidate, Checked};
use super::prompt::Brief;
use crate::feedback::{Feedback, KeyStates};
use crate::fit::{Evaluation, FitSettings, fit};
use crate::task::Task;
use ansatz_grammar::{CheckedProgram, Signature};
use std::time::Instant;

/// A problem the search solves: laws of one signature, judged by one fit.
///
/// Object safe: a search holds a `&dyn Problem`. `Sync`, because the fits of a round run in
/// parallel on the same problem.
pub trait Problem: Sync {
    /// Short name (reports, fit records).
    fn name(&self) -> &str;

    /// What a law takes and returns (laws are type-checked against it).
    fn signature(&self) -> &Signature;

    /// The starting law: how it was given (e.g. its path, recorded as the proposal's `how`)
    /// and its source text.
    fn start(&self) -> (String, String);

    /// Fits a screened candidate and judges it: parameters, curves, fitness, verdict,
    /// feedback text and the fit record (see [`Checked::finish`]). `observer` sees every
    /// evaluation and may stop the fit by returning `false` (Ctrl-C, a wall-time budget).
    /// Never fails: a law that cannot be evaluated ends with a failed verdict.
    fn fit(
        &self,
        checked: Checked,
        settings: &FitSettings,
        observer: &mut dyn FnMut(&Evaluation) -> bool,
    ) -> Candidate;

    /// What the prompt says about the problem (its setup and format requirements).
    fn brief(&self) -> Brief;

    /// Extra report text about a fitted candidate whose law (with its fitted values as
    /// defaults) is `law`, placed after the law in `report.md`; empty for none.
    fn report_law(&self, _candidate: &Candidate, _law: &CheckedProgram) -> String {
        String::new()
    }
}

/// A simulation task: laws are constitutive laws, fitted by gradient descent through the
/// simulator; the feedback shows the key particles of a free rollout of the fitted law.
impl Problem for Task {
    fn name(&self) -> &str {
        Task::name(self)
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn start(&self) -> (String, String) {
        (self.spec.start.display().to_string(), self.start.1.clone())
    }

    fn fit(
        &self,
        checked: Checked,
        settings: &FitSettings,
        observer: &mut dyn FnMut(&Evaluation) -> bool,
    ) -> Candidate {
        let started = Instant::now();
        let record = fit(self, &checked.law, None, settings, observer);
        let states = if record.is_ok() {
            KeyStates::simulate(self, &checked.law, record.best_params()).ok()
        } else {
            None
        };
        let feedback = Feedback { record, states };
        let mut text = feedback.text();
        let record = feedback.record;
        if record.fitness.is_finite() {
            text.push_str(&format!(
                "\n\nBest position loss: {:.6e} ({} evaluations)",
                record.fitness,
                record.evaluations.len()
            ));
        }
        checked.finish(record, text, started)
    }

    fn brief(&self) -> Brief {
        let observed =
            KeyStates::from_trajectory(&self.target, &self.key_particles, self.scene.steps).text();
        Brief::material(self.kind, &self.spec.description, Some(&observed))
    }
}
