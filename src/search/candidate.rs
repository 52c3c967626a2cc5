//! One candidate law: from a proposer's text to a ledger line.
//!
//! The flow of ARCHITECTURE.md: extract the law block, parse and type-check against the
//! problem's signature, take the canonical form and hash in the e-graph (a hash seen before
//! is a duplicate: recorded, not fitted), fit (the problem's part: [`Problem::fit`], which
//! ends with [`Checked::finish`]), and describe the result. Every failure is data: a
//! [`Verdict::Failed`] with its stage and message, an infinite fitness.

use super::extract::extract;
use super::problem::Problem;
use super::prompt::code_section;
use crate::fit::{FitRecord, Stage, Verdict, json};
use ansatz_grammar::{CheckedProgram, egraph};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Instant;

/// Tokens a language model spent on a proposal (zero for other proposers).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tokens {
    /// Prompt (input) tokens.
    pub prompt: u64,
    /// Completion (output) tokens.
    pub completion: u64,
}

impl std::ops::AddAssign for Tokens {
    fn add_assign(&mut self, other: Tokens) {
        self.prompt += other.prompt;
        self.completion += other.completion;
    }
}

/// A proposal as a proposer made it, before the engine looks at it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Proposal {
    /// The proposer's name (`start`, `evolve`, `llm`, `human`, `replay`).
    pub proposer: String,
    /// How it was made (an evolve operator, `T=0.5`, a file name...).
    pub how: String,
    /// Ids of the candidates it was made from.
    pub parents: Vec<usize>,
    /// The raw text: a model's whole reply, or a law program.
    pub text: String,
    /// Tokens spent on it (a request's tokens are shared out evenly over its completions).
    pub tokens: Tokens,
    /// Why the proposer could not produce a text (a failed model request), if so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The length in bytes and FNV-1a digest of a reply that was cut to
    /// [`MAX_REPLY_BYTES`] before it was stored (see [`Proposal::bounded`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cut: Option<CutReply>,
}

/// The most bytes of a reply the engine keeps: a longer reply is a failed proposal whose
/// stored text is its first [`KEPT_OF_LONG_REPLY`] bytes, so no record or prompt grows
/// with what a proposer writes.
pub const MAX_REPLY_BYTES: usize = 64 * 1024;

/// How much of a reply over [`MAX_REPLY_BYTES`] is kept in the records.
pub const KEPT_OF_LONG_REPLY: usize = 2 * 1024;

/// What is known of a reply that was cut: its whole length and digest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CutReply {
    /// Length of the whole reply, bytes.
    pub bytes: usize,
    /// FNV-1a 64-bit digest of the whole reply, hexadecimal.
    pub fnv1a: String,
}

/// The FNV-1a 64-bit digest of `bytes`.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The longest prefix of `text` of at most `max` bytes that ends on a character boundary.
fn prefix(text: &str, max: usize) -> &str {
    let mut end = max.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

impl Proposal {
    /// The proposal with its text bounded: a text over [`MAX_REPLY_BYTES`] becomes a failed
    /// proposal that keeps the first [`KEPT_OF_LONG_REPLY`] bytes, the whole length and a
    /// digest.
    pub fn bounded(mut self) -> Proposal {
        if self.text.len() > MAX_REPLY_BYTES {
            let bytes = self.text.len();
            self.cut = Some(CutReply {
                bytes,
                fnv1a: format!("{:016x}", fnv1a(self.text.as_bytes())),
            });
            self.text = prefix(&self.text, KEPT_OF_LONG_REPLY).to_string();
            self.error.get_or_insert(format!(
                "the reply has {bytes} bytes, over the limit of {MAX_REPLY_BYTES}: \
                 write the laws alone, without long text"
            ));
        }
        self
    }

    /// A proposal made of raw bytes that should be UTF-8 text (a reply file): invalid
    /// UTF-8 becomes a failed proposal naming the byte offset.
    pub fn from_bytes(
        proposer: &str,
        how: String,
        parents: Vec<usize>,
        bytes: &[u8],
    ) -> Result<String, Box<Proposal>> {
        match std::str::from_utf8(bytes) {
            Ok(text) if text.len() <= MAX_REPLY_BYTES => Ok(text.to_string()),
            Ok(text) => Err(Box::new(
                Proposal {
                    proposer: proposer.into(),
                    how,
                    parents,
                    text: text.to_string(),
                    tokens: Tokens::default(),
                    error: None,
                    cut: None,
                }
                .bounded(),
            )),
            Err(e) => {
                let offset = e.valid_up_to();
                Err(Box::new(Proposal {
                    proposer: proposer.into(),
                    how,
                    parents,
                    text: prefix(&String::from_utf8_lossy(bytes), KEPT_OF_LONG_REPLY).to_string(),
                    tokens: Tokens::default(),
                    error: Some(format!(
                        "the reply is not UTF-8 text: invalid byte at offset {offset}"
                    )),
                    cut: (bytes.len() > KEPT_OF_LONG_REPLY).then(|| CutReply {
                        bytes: bytes.len(),
                        fnv1a: format!("{:016x}", fnv1a(bytes)),
                    }),
                }))
            }
        }
    }
}

/// One evaluated candidate: a line of the ledger.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    /// Position in the run (0 is the starting law).
    pub id: usize,
    /// Round (0 for the starting law).
    pub round: usize,
    /// The proposal.
    #[serde(flatten)]
    pub proposal: Proposal,
    /// The extracted law source (absent when extraction failed).
    pub law: Option<String>,
    /// What later prompts show of it (its plan and code, or its law in a code section).
    pub shown: Option<String>,
    /// Canonical form (parameters named p0, p1, ...).
    pub canonical: Option<String>,
    /// Canonical hash, 16 hex digits.
    pub hash: Option<String>,
    /// Complexity of the canonical form.
    pub complexity: Option<u64>,
    /// The earlier candidate this one duplicates.
    pub duplicate_of: Option<usize>,
    /// Parameter names, in declaration order.
    pub param_names: Vec<String>,
    /// Best parameters found (the law's defaults when not fitted).
    pub params: Vec<f64>,
    /// Position loss of every evaluation (NaN: failed).
    #[serde(with = "json::vec_nan_null")]
    pub loss_curve: Vec<f64>,
    /// Velocity loss of every evaluation (NaN: failed or not available).
    #[serde(with = "json::vec_nan_null")]
    pub velocity_curve: Vec<f64>,
    /// Best position loss (+∞ when nothing succeeded): the ranking key.
    #[serde(with = "json::inf_null")]
    pub fitness: f64,
    /// The outcome.
    pub verdict: Verdict,
    /// The feedback text shown to proposers (or the error text).
    pub feedback: String,
    /// The full fit record (absent when the law never reached the fit).
    pub fit: Option<FitRecord>,
    /// Wall time spent on the candidate (extraction to feedback), seconds.
    pub seconds: f64,
}

impl Candidate {
    /// Whether the candidate has a finite fitness.
    pub fn is_ok(&self) -> bool {
        self.fitness.is_finite()
    }

    /// The stage at which it failed, if it did.
    pub fn failed_stage(&self) -> Option<Stage> {
        match &self.verdict {
            Verdict::Failed { stage, .. } => Some(*stage),
            Verdict::Ok { .. } => None,
        }
    }

    /// Fitted parameters by name.
    pub fn named_params(&self) -> BTreeMap<String, f64> {
        self.param_names
            .iter()
            .cloned()
            .zip(self.params.iter().copied())
            .collect()
    }

    fn failed(id: usize, round: usize, proposal: Proposal, stage: Stage, message: String) -> Self {
        Candidate {
            id,
            round,
            proposal,
            law: None,
            shown: None,
            canonical: None,
            hash: None,
            complexity: None,
            duplicate_of: None,
            param_names: Vec::new(),
            params: Vec::new(),
            loss_curve: Vec::new(),
            velocity_curve: Vec::new(),
            fitness: f64::INFINITY,
            feedback: format!("The law was rejected at the {stage} stage: {message}"),
            verdict: Verdict::Failed { stage, message },
            fit: None,
            seconds: 0.0,
        }
    }
}

/// A candidate that passed the checks and waits for its fit.
pub struct Checked {
    /// The candidate so far (verdict still to be decided).
    pub candidate: Candidate,
    /// The checked law.
    pub law: CheckedProgram,
}

impl Checked {
    /// The fitted candidate: its parameters (the best ones), loss and velocity curves,
    /// fitness and verdict from `record`, `feedback` as the text shown to proposers, the
    /// record kept, and the time since `started` (when the fit began) added to its time.
    /// The part of [`Problem::fit`] that every problem shares.
    pub fn finish(self, record: FitRecord, feedback: String, started: Instant) -> Candidate {
        let mut c = self.candidate;
        c.params = record.best_params().to_vec();
        c.loss_curve = record.evaluations.iter().map(|e| e.loss).collect();
        c.velocity_curve = record
            .evaluations
            .iter()
            .map(|e| e.velocity.unwrap_or(f64::NAN))
            .collect();
        c.fitness = record.fitness;
        c.verdict = record.verdict.clone();
        c.feedback = feedback;
        c.fit = Some(record);
        c.seconds += started.elapsed().as_secs_f64();
        c
    }
}

/// What the cheap stages decided about a proposal.
pub enum Screened {
    /// Rejected (extract, parse, type or duplicate): final.
    Done(Box<Candidate>),
    /// To be fitted.
    Fit(Box<Checked>),
}

/// Runs the cheap stages on a proposal: extract (for text that is not a bare program),
/// parse, check, canonical hash. `seen` maps hashes to the id that first had them; a new
/// hash is added to it.
pub fn screen(
    problem: &dyn Problem,
    id: usize,
    round: usize,
    proposal: Proposal,
    seen: &mut BTreeMap<u64, usize>,
) -> Screened {
    let started = Instant::now();
    if let Some(message) = proposal.error.clone() {
        return Screened::Done(Box::new(Candidate::failed(
            id,
            round,
            proposal,
            Stage::Propose,
            message,
        )));
    }
    // A model's or a person's reply must hold a law block; other proposers (evolve, the
    // starting law) give a bare program, or a reply-like text with a block.
    let is_reply = matches!(proposal.proposer.as_str(), "llm" | "human");
    let (source, shown) =
        if is_reply || proposal.text.contains("```") || proposal.text.contains("~~~") {
            match extract(&proposal.text) {
                Ok(e) => (e.law, e.shown),
                Err(message) => {
                    let mut c = Candidate::failed(id, round, proposal, Stage::Extract, message);
                    c.seconds = started.elapsed().as_secs_f64();
                    return Screened::Done(Box::new(c));
                }
            }
        } else {
            let law = proposal.text.clone();
            let shown = code_section(&law);
            (law, shown)
        };
    let law = match ansatz_grammar::parse(&source) {
        Err(e) => Err((Stage::Parse, e.with_source(&source).render())),
        Ok(program) => ansatz_grammar::check(&program, problem.signature())
            .map_err(|e| (Stage::Type, e.with_source(&source).render())),
    };
    let law = match law {
        Ok(law) => law,
        Err((stage, message)) => {
            let mut c = Candidate::failed(id, round, proposal, stage, message);
            c.law = Some(source);
            c.shown = Some(shown);
            c.seconds = started.elapsed().as_secs_f64();
            return Screened::Done(Box::new(c));
        }
    };
    let canonical = egraph::canonical(&law);
    let compiled = law.compiled();
    let mut c = Candidate::failed(id, round, proposal, Stage::Fit, String::new());
    c.law = Some(source);
    c.shown = Some(shown);
    c.canonical = Some(canonical.form.clone());
    c.hash = Some(canonical.hash_hex());
    c.complexity = Some(canonical.complexity);
    c.param_names = compiled.param_names().to_vec();
    c.params = compiled.defaults().to_vec();
    if let Some(&first) = seen.get(&canonical.hash) {
        let message = format!(
            "the same law as candidate #{first} (equal up to algebra and parameter names): \
             propose a law of a different form"
        );
        c.feedback = format!("The law was rejected at the duplicate stage: {message}");
        c.verdict = Verdict::Failed {
            stage: Stage::Duplicate,
            message,
        };
        c.duplicate_of = Some(first);
        c.seconds = started.elapsed().as_secs_f64();
        return Screened::Done(Box::new(c));
    }
    seen.insert(canonical.hash, id);
    c.seconds = started.elapsed().as_secs_f64();
    Screened::Fit(Box::new(Checked { candidate: c, law }))
}

#[cfg(test)]
mod bound_tests {
    use super::*;

    fn proposal(text: String) -> Proposal {
        Proposal {
            proposer: "human".into(),
            how: String::new(),
            parents: vec![],
            text,
            tokens: Tokens::default(),
            error: None,
            cut: None,
        }
    }

    #[test]
    fn a_long_reply_is_cut_and_failed_with_its_length_and_digest() {
        let long = "é".repeat(MAX_REPLY_BYTES); // two bytes each: twice the limit
        let p = proposal(long.clone()).bounded();
        assert!(p.text.len() <= KEPT_OF_LONG_REPLY && long.starts_with(&p.text));
        let cut = p.cut.expect("cut recorded");
        assert_eq!(cut.bytes, long.len());
        assert_eq!(cut.fnv1a, format!("{:016x}", fnv1a(long.as_bytes())));
        assert!(p.error.expect("failed").contains("over the limit"));
        // A reply within the limit is left alone.
        let short = proposal("return F".into()).bounded();
        assert_eq!(
            (short.text.as_str(), short.cut, short.error),
            ("return F", None, None)
        );
    }

    #[test]
    fn invalid_utf8_is_a_failed_proposal_naming_the_offset() {
        let bytes = b"```law\nreturn F\xff\xfe\n```".to_vec();
        let failed = Proposal::from_bytes("human", "r".into(), vec![], &bytes).expect_err("fails");
        assert!(failed.error.expect("error").contains("offset 15"));
        assert_eq!(
            Proposal::from_bytes("human", "r".into(), vec![], b"return F").expect("ok"),
            "return F"
        );
    }
}
