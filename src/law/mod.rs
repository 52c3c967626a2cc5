//! What every law problem shares (a constitutive law fitted through the simulator, a
//! formula fitted to a table): the [`LawDetail`] a ledger line keeps, the screen of a law
//! (extract the ```law block, parse, type-check against the problem's signature, e-graph
//! canonical form and hash as the deduplication key, the numeric fingerprint as the second
//! key), the fit record, the prompt parts that
//! teach the law language, and the report and exports of the best law.

pub mod family;
pub mod fit_text;
pub mod lint;
pub mod physics;
pub mod prompt;
pub mod record;

use ansatz_engine::extract::{Fence, extract};
use ansatz_engine::json;
use ansatz_engine::{Candidate, Detail, Judged, LedgerError, Proposal, RunDir, Screening, Stage};
use ansatz_grammar::export::{Target, export, export_files};
use ansatz_grammar::{CheckedProgram, Signature, check, egraph, fingerprint, parse};
use record::FitRecord;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt::Write;

/// A problem whose solutions are laws of one signature (what the offline evolve proposer
/// needs to know of it).
pub trait LawProblem: ansatz_engine::Problem<Detail = LawDetail> {
    /// What a law takes and returns.
    fn signature(&self) -> &Signature;

    /// The first-order effect on the problem's loss of moving each parameter in `which`
    /// (indices into `law`'s parameters) alone from `params`, one [`Gain`] per index in that
    /// order; `None` when the problem has no such estimate (the default) or it failed. The
    /// offline proposer ranks candidate additions to a law by it.
    fn gains(&self, _law: &CheckedProgram, _params: &[f64], _which: &[usize]) -> Option<Vec<Gain>> {
        None
    }
}

/// The loss near a point along one parameter, to second order in the Gauss–Newton sense:
/// `L(p + d) ≈ L(p) + gradient·d + curvature·d²/2`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Gain {
    /// `∂L/∂p`.
    pub gradient: f64,
    /// The Gauss–Newton curvature (`2 Σ J²` scaled as the loss; never negative).
    pub curvature: f64,
}

impl Gain {
    /// The move that minimises the quadratic model (0 without curvature).
    pub fn step(&self) -> f64 {
        if self.curvature > 0.0 && self.gradient.is_finite() {
            -self.gradient / self.curvature
        } else {
            0.0
        }
    }

    /// How much that move lowers the model's loss (0 without curvature).
    pub fn decrease(&self) -> f64 {
        if self.curvature > 0.0 && self.gradient.is_finite() {
            self.gradient * self.gradient / (2.0 * self.curvature)
        } else {
            0.0
        }
    }
}

/// The fenced block laws are written in.
pub const FENCE: Fence<'static> = Fence {
    tag: "law",
    noun: "law",
    language: "the law language",
};

/// What the ledger keeps of a law candidate.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LawDetail {
    /// The extracted law source (absent when extraction failed).
    pub law: Option<String>,
    /// Canonical form (parameters named p0, p1, ...).
    pub canonical: Option<String>,
    /// Canonical hash, 16 hex digits: the deduplication key.
    pub hash: Option<String>,
    /// Numeric fingerprint, 16 hex digits (`ansatz_grammar::fingerprint`): the second
    /// deduplication key (absent for a law not finite at any sample point).
    pub fingerprint: Option<String>,
    /// The family key ([`family::family`]): laws that differ only in how their constants
    /// are written share it (absent in ledgers written before it existed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family: Option<String>,
    /// Complexity of the canonical form.
    pub complexity: Option<u64>,
    /// Parameter names, in declaration order.
    pub param_names: Vec<String>,
    /// Best parameters found (the law's defaults when not fitted).
    pub params: Vec<f64>,
    /// Loss of every evaluation (NaN: failed).
    #[serde(with = "json::vec_nan_null")]
    pub loss_curve: Vec<f64>,
    /// Velocity loss of every evaluation (NaN: failed or not available).
    #[serde(with = "json::vec_nan_null")]
    pub velocity_curve: Vec<f64>,
    /// The full fit record (absent when the law never reached the fit).
    pub fit: Option<FitRecord>,
    /// Warnings about the law as written ([`lint::warnings`]), shown above its feedback.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// The physics checks the law failed at screening (simulation tasks; see
    /// [`physics`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub physics: Vec<physics::Failure>,
}

impl Detail for LawDetail {
    /// The columns of the ledger written before the engine existed, newer keys beside
    /// their kin, so that a seeded run's ledger is the same line for line.
    const LEDGER_ORDER: &'static [&'static str] = &[
        "id",
        "round",
        "proposer",
        "how",
        "parents",
        "text",
        "tokens",
        "error",
        "cut",
        "law",
        "shown",
        "canonical",
        "hash",
        "fingerprint",
        "family",
        "complexity",
        "duplicate_of",
        "param_names",
        "params",
        "loss_curve",
        "velocity_curve",
        "fitness",
        "verdict",
        "feedback",
        "fit",
        "warnings",
        "physics",
        "seconds",
        "finished",
        "estimate",
    ];

    fn key(&self) -> Option<&str> {
        self.hash.as_deref()
    }

    fn second_key(&self) -> Option<&str> {
        self.fingerprint.as_deref()
    }

    fn complexity(&self) -> Option<u64> {
        self.complexity
    }

    /// The law's first comment line, else its first line.
    fn label(&self) -> Option<String> {
        let law = self.law.as_deref()?;
        let lines = || law.lines().map(str::trim).filter(|l| !l.is_empty());
        lines()
            .find(|l| l.starts_with('#') && l.len() > 1)
            .or_else(|| lines().next())
            .map(str::to_string)
    }

    /// The law with its constant parts made parameters, canonical ([`family::family`]).
    fn family(&self) -> Option<String> {
        self.family.clone()
    }

    /// What the law returns: its last `return` line without the keyword (its bindings
    /// are named as the law names them).
    fn summary(&self) -> Option<String> {
        let law = self.law.as_deref()?;
        let line = law
            .lines()
            .map(|l| l.split('#').next().unwrap_or("").trim())
            .rfind(|l| l.starts_with("return"))?;
        Some(line.trim_start_matches("return").trim().to_string())
    }
}

impl LawDetail {
    /// Fitted parameters by name.
    pub fn named_params(&self) -> BTreeMap<String, f64> {
        self.param_names
            .iter()
            .cloned()
            .zip(self.params.iter().copied())
            .collect()
    }

    /// Fills in the fit's results and returns the judgement: parameters (the best ones),
    /// loss and velocity curves from `record`, `feedback` as the text shown to proposers.
    pub fn finish(&mut self, record: FitRecord, feedback: String) -> Judged {
        self.params = record.best_params().to_vec();
        self.loss_curve = record.evaluations.iter().map(|e| e.loss).collect();
        self.velocity_curve = record
            .evaluations
            .iter()
            .map(|e| e.velocity.unwrap_or(f64::NAN))
            .collect();
        let mut text = String::new();
        for w in &self.warnings {
            text.push_str(&format!("Warning: {w}\n\n"));
        }
        text.push_str(&feedback);
        let judged = Judged {
            fitness: record.fitness,
            verdict: record.verdict.clone(),
            feedback: text,
        };
        self.fit = Some(record);
        judged
    }
}

/// Why a law whose hash or fingerprint equals that of candidate `first` is rejected.
pub fn duplicate_message(first: usize) -> String {
    format!(
        "the same law as candidate #{first} (equal up to algebra and parameter names, or \
         equal in value at sample deformations): propose a law of a different form"
    )
}

/// The screen of a law proposal: extract (for a reply; a bare program is taken whole),
/// parse, type-check against `signature`, canonical form and hash.
pub fn screen(proposal: &Proposal, signature: &Signature) -> Screening<LawDetail, CheckedProgram> {
    let mut detail = LawDetail::default();
    let text = &proposal.text;
    // A model's or a person's reply must hold a law block; other proposers (evolve, the
    // starting law) give a bare program, or a reply-like text with a block.
    let (source, shown) =
        if proposal.proposer.writes_replies() || text.contains("```") || text.contains("~~~") {
            match extract(text, &FENCE) {
                Ok(e) => (e.body, e.shown),
                Err(message) => {
                    return Screening {
                        detail,
                        shown: None,
                        outcome: Err((Stage::Extract, message)),
                    };
                }
            }
        } else {
            (text.clone(), prompt::code_section(text))
        };
    let law = match parse(&source) {
        Err(e) => Err((Stage::Parse, e.with_source(&source).render())),
        Ok(program) => {
            check(&program, signature).map_err(|e| (Stage::Type, e.with_source(&source).render()))
        }
    };
    detail.law = Some(source);
    let law = match law {
        Ok(law) => law,
        Err(rejection) => {
            return Screening {
                detail,
                shown: Some(shown),
                outcome: Err(rejection),
            };
        }
    };
    let canonical = egraph::canonical(&law);
    let compiled = law.compiled();
    detail.canonical = Some(canonical.form.clone());
    detail.hash = Some(canonical.hash_hex());
    detail.fingerprint = fingerprint(&law).map(|h| format!("{h:016x}"));
    detail.family = family::family(&law);
    detail.complexity = Some(canonical.complexity);
    detail.param_names = compiled.param_names().to_vec();
    detail.params = compiled.defaults().to_vec();
    detail.warnings = lint::warnings(law.program());
    Screening {
        detail,
        shown: Some(shown),
        outcome: Ok(law),
    }
}

/// The candidate's law with its fitted parameters as defaults (None when it has no law or
/// the values do not fit it).
pub fn fitted_law(detail: &LawDetail, signature: &Signature) -> Option<CheckedProgram> {
    let mut program = parse(detail.law.as_deref()?).ok()?;
    if program.params.len() != detail.params.len() || detail.params.iter().any(|v| !v.is_finite()) {
        return None;
    }
    for (p, v) in program.params.iter_mut().zip(&detail.params) {
        p.value = *v;
    }
    check(&program, signature).ok()
}

/// The report section of a law: its fitted parameters, the law with them as defaults, its
/// LaTeX, and `notes` (the problem's text about the fitted law, may be empty).
pub fn report_section(
    detail: &LawDetail,
    signature: &Signature,
    notes: impl Fn(&CheckedProgram) -> String,
) -> String {
    let mut s = String::new();
    for (name, value) in detail.param_names.iter().zip(&detail.params) {
        let _ = writeln!(s, "- `{name}` = {value:.9e}");
    }
    if !detail.params.is_empty() {
        s.push('\n');
    }
    match fitted_law(detail, signature) {
        Some(law) => {
            let _ = writeln!(s, "```law\n{}\n```\n", law.program().to_string().trim_end());
            let latex = export(&law, Target::Latex);
            let latex: Vec<&str> = latex
                .lines()
                .filter(|l| !l.trim_start().starts_with('%'))
                .collect();
            let _ = writeln!(s, "$$\n{}\n$$\n", latex.join("\n").trim());
            let notes = notes(&law);
            if !notes.trim().is_empty() {
                let _ = writeln!(s, "{}\n", notes.trim_end());
            }
        }
        None => {
            let _ = writeln!(
                s,
                "```law\n{}\n```\n",
                detail.law.as_deref().unwrap_or("").trim_end()
            );
        }
    }
    s
}

/// Writes `best.law` (the best law with its fitted values as defaults) and `exports/` (the
/// law in every export target, one file each) into the run directory.
pub fn write_best(
    run: &RunDir,
    problem_name: &str,
    best: &Candidate<LawDetail>,
    signature: &Signature,
) -> Result<(), LedgerError> {
    let Some(law) = fitted_law(&best.detail, signature) else {
        return Ok(());
    };
    let root = run.root();
    let header = format!(
        "# ansatz: best law of the {problem_name} search (candidate #{}, loss {:.6e})\n",
        best.id, best.fitness
    );
    run.write_atomic(
        &root.join("best.law"),
        format!("{header}{}\n", law.program().to_string().trim_end()).as_bytes(),
    )?;
    let dir = root.join("exports");
    std::fs::create_dir_all(&dir).map_err(|source| LedgerError::Io {
        path: dir.clone(),
        source,
    })?;
    for (name, text) in export_files(&law, "best") {
        run.write_atomic(&dir.join(name), text.as_bytes())?;
    }
    Ok(())
}

#[cfg(test)]
mod dedup_pairs;
