//! One candidate: from a proposer's text to a ledger line.
//!
//! A [`Proposal`] is what a proposer wrote; the problem screens it (extract, parse, check,
//! deduplication key) and evaluates what passes; a [`Candidate`] is the result, with the
//! problem's own [`Detail`] flattened into its ledger line. Every failure is data: a
//! [`Verdict::Failed`] with its [`Stage`] and message, and an infinite fitness.

use crate::json;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

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
    /// Who made it.
    pub proposer: ProposerKind,
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
                 write the solutions alone, without long text"
            ));
        }
        self
    }

    /// A proposal made of raw bytes that should be UTF-8 text (a reply file): invalid
    /// UTF-8 becomes a failed proposal naming the byte offset.
    pub fn from_bytes(
        proposer: ProposerKind,
        how: String,
        parents: Vec<usize>,
        bytes: &[u8],
    ) -> Result<String, Box<Proposal>> {
        match std::str::from_utf8(bytes) {
            Ok(text) if text.len() <= MAX_REPLY_BYTES => Ok(text.to_string()),
            Ok(text) => Err(Box::new(
                Proposal {
                    proposer,
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
                    proposer,
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

/// Who made a proposal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProposerKind {
    /// The problem's starting solution (round 0).
    Start,
    /// A built-in offline search (evolutionary operators on solutions).
    Evolve,
    /// A language model.
    Llm,
    /// A person or an outside program answering prompt files.
    Human,
    /// A recorded run, replayed.
    Replay,
}

impl ProposerKind {
    /// Whether its texts are replies written for the prompt (a model's or a person's):
    /// those must hold a fenced block; other proposers may give a bare solution.
    pub fn writes_replies(self) -> bool {
        matches!(self, ProposerKind::Llm | ProposerKind::Human)
    }

    /// Its name, as the ledger writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            ProposerKind::Start => "start",
            ProposerKind::Evolve => "evolve",
            ProposerKind::Llm => "llm",
            ProposerKind::Human => "human",
            ProposerKind::Replay => "replay",
        }
    }
}

impl std::fmt::Display for ProposerKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for ProposerKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s {
            "start" => ProposerKind::Start,
            "evolve" => ProposerKind::Evolve,
            "llm" => ProposerKind::Llm,
            "human" => ProposerKind::Human,
            "replay" => ProposerKind::Replay,
            other => {
                return Err(format!(
                    "unknown proposer {other:?} (evolve, llm, human, replay)"
                ));
            }
        })
    }
}

/// Where a candidate failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    /// The proposer could not produce a text (a model request failed, a reply too long or
    /// not UTF-8).
    Propose,
    /// The text held no solution block.
    Extract,
    /// The solution does not parse.
    Parse,
    /// The solution is not valid for the problem (a type error, an impossible molecule).
    Type,
    /// The solution is a re-spelling of one evaluated before.
    Duplicate,
    /// The solution fails a check of physics the problem makes before any evaluation
    /// (laws: a stress that is not symmetric, not frame-indifferent, not zero at rest),
    /// and the problem's setting rejects such solutions.
    Physics,
    /// The run evaluates only the most promising of each round by a cheap estimate, and
    /// this candidate was not among them (not evaluated; it stays a duplicate key).
    Prescreen,
    /// The evaluation failed (a simulation went non-finite, an outside program failed).
    /// Ledgers written before the engine was generic call it `simulate`.
    #[serde(alias = "simulate")]
    Evaluate,
    /// The inner optimisation could not proceed.
    Fit,
    /// A time or evaluation budget ran out before the first evaluation finished.
    Timeout,
}

impl Stage {
    /// Whether the candidate had reached its evaluation when it failed here (the screening
    /// stages before it cost nothing).
    pub fn reached_evaluation(self) -> bool {
        matches!(self, Stage::Evaluate | Stage::Fit | Stage::Timeout)
    }
}

impl std::fmt::Display for Stage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = match self {
            Stage::Propose => "propose",
            Stage::Extract => "extract",
            Stage::Parse => "parse",
            Stage::Type => "type",
            Stage::Duplicate => "duplicate",
            Stage::Physics => "physics",
            Stage::Prescreen => "prescreen",
            Stage::Evaluate => "evaluate",
            Stage::Fit => "fit",
            Stage::Timeout => "timeout",
        };
        f.write_str(s)
    }
}

/// How a candidate's evaluation ended.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "lowercase")]
pub enum Verdict {
    /// At least one evaluation succeeded; `note` says why the inner optimiser stopped.
    Ok {
        /// Why the optimiser stopped.
        note: String,
    },
    /// No usable fitness: the stage and the message.
    Failed {
        /// Where it failed.
        stage: Stage,
        /// What happened.
        message: String,
    },
}

/// What a problem keeps of a candidate beyond what every candidate has (for a law: its
/// source, canonical form, fitted parameters, loss curve and fit record). Written into the
/// candidate's ledger line, field by field.
pub trait Detail:
    Clone + Default + std::fmt::Debug + PartialEq + Serialize + DeserializeOwned + Send + Sync
{
    /// The order of the keys of the problem's ledger lines, the engine's keys and the
    /// problem's alike (a problem whose ledger format is older than the engine keeps its
    /// columns where they were). Keys not named follow in their declared order. Empty (the
    /// default): the order in which the fields are declared, the engine's around the
    /// problem's.
    const LEDGER_ORDER: &'static [&'static str] = &[];

    /// The deduplication key of the solution (two candidates with the same key are the
    /// same solution), once the screen got that far.
    fn key(&self) -> Option<&str>;

    /// A second deduplication key (laws: the numeric fingerprint), for solutions that
    /// are equal although their first keys differ; none by default.
    fn second_key(&self) -> Option<&str> {
        None
    }

    /// The solution's complexity (for ranking ties and the Pareto front), if it has one.
    fn complexity(&self) -> Option<u64> {
        None
    }

    /// A one-line description of the solution (a law's first comment line), by which
    /// prompts name it; None: the prompt quotes the first line of the solution's block.
    fn label(&self) -> Option<String> {
        None
    }

    /// The family of the solution: solutions of one family differ only in their constants
    /// (re-parametrisations of one law), and the prompt shows one of them. Defaults to the
    /// deduplication key.
    fn family(&self) -> Option<String> {
        self.key().map(str::to_string)
    }
    /// The solution on one line (progress lines, the hall of fame), once the screen got
    /// that far.
    fn summary(&self) -> Option<String> {
        None
    }
}

/// The deduplication keys of a detail: its key, and its second key marked `2:` (so the
/// two kinds of key never collide).
pub fn dedup_keys<D: Detail>(detail: &D) -> impl Iterator<Item = String> + '_ {
    detail
        .key()
        .map(str::to_string)
        .into_iter()
        .chain(detail.second_key().map(|k| format!("2:{k}")))
}

/// A candidate's detail for problems that keep nothing more.
impl Detail for () {
    fn key(&self) -> Option<&str> {
        None
    }
}

/// One candidate: a line of the ledger.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(bound(deserialize = "D: DeserializeOwned"))]
pub struct Candidate<D> {
    /// Position in the run (0 is the starting solution).
    pub id: usize,
    /// Round (0 for the starting solution).
    pub round: usize,
    /// The proposal.
    #[serde(flatten)]
    pub proposal: Proposal,
    /// What later prompts show of it (its plan and code, or its solution in a code section).
    pub shown: Option<String>,
    /// The earlier candidate this one duplicates.
    pub duplicate_of: Option<usize>,
    /// What the problem keeps of it.
    #[serde(flatten)]
    pub detail: D,
    /// Its fitness, lower is better (+∞ when nothing succeeded): the ranking key.
    #[serde(with = "json::inf_null")]
    pub fitness: f64,
    /// The outcome.
    pub verdict: Verdict,
    /// The feedback text shown to proposers (or the error text).
    pub feedback: String,
    /// Wall time spent on the candidate (screen to feedback), seconds.
    pub seconds: f64,
    /// When its evaluation ended, seconds since the Unix epoch (the progress plot orders
    /// candidates by it); `None` when it was not evaluated, or in a ledger written before
    /// this field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished: Option<f64>,
    /// The problem's cheap estimate of its fitness, when the run asked for one
    /// ([`crate::SearchConfig::fit_best`]; `null` when not finite).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "json::opt_inf_null"
    )]
    pub estimate: Option<f64>,
}

/// Now, seconds since the Unix epoch (0 on a clock set before it).
pub fn unix_seconds() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

impl<D: Detail> Candidate<D> {
    /// Whether the candidate has a finite fitness.
    pub fn is_ok(&self) -> bool {
        self.fitness.is_finite()
    }

    /// Whether the candidate reached its evaluation (was not rejected by the screen).
    pub fn evaluated(&self) -> bool {
        match &self.verdict {
            Verdict::Ok { .. } => true,
            Verdict::Failed { stage, .. } => stage.reached_evaluation(),
        }
    }

    /// The stage at which it failed, if it did.
    pub fn failed_stage(&self) -> Option<Stage> {
        match &self.verdict {
            Verdict::Failed { stage, .. } => Some(*stage),
            Verdict::Ok { .. } => None,
        }
    }

    /// A candidate that failed at `stage` with `message`, with the given detail; `noun`
    /// names what the problem's solutions are (`law`, `molecule`) in the feedback.
    pub fn failed(
        id: usize,
        round: usize,
        proposal: Proposal,
        detail: D,
        stage: Stage,
        message: String,
        noun: &str,
    ) -> Self {
        Candidate {
            id,
            round,
            proposal,
            shown: None,
            duplicate_of: None,
            detail,
            fitness: f64::INFINITY,
            feedback: format!("The {noun} was rejected at the {stage} stage: {message}"),
            verdict: Verdict::Failed { stage, message },
            seconds: 0.0,
            finished: None,
            estimate: None,
        }
    }
}

#[cfg(test)]
mod bound_tests {
    use super::*;

    fn proposal(text: String) -> Proposal {
        Proposal {
            proposer: ProposerKind::Human,
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
        let failed = Proposal::from_bytes(ProposerKind::Human, "r".into(), vec![], &bytes)
            .expect_err("fails");
        assert!(failed.error.expect("error").contains("offset 15"));
        assert_eq!(
            Proposal::from_bytes(ProposerKind::Human, "r".into(), vec![], b"return F").expect("ok"),
            "return F"
        );
    }
}
