//! The run directory: configuration, ledger, round proposals, transcripts.
//!
//! ```text
//! DIR/config.json            the resolved configuration (read back by --resume)
//! DIR/ledger.jsonl           one JSON line per finished candidate (appended and synced as
//!                            each finishes; rewritten in id order, atomically, after a round)
//! DIR/rounds/round-NNN.json  the proposals of a round, written before any is evaluated,
//!                            so a resumed round evaluates exactly the same proposals
//! DIR/transcripts/           every exchange with a language model
//! DIR/report.md, best.law, progress.svg, exports/   the report (rewritten after each round)
//! ```
//!
//! A run killed at any point loses at most the candidates whose fits were running: a line
//! cut short by the kill is dropped when the ledger is read back.

use crate::candidate::{Candidate, Detail, Proposal};
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// One candidate as a ledger line (no newline), its keys in the problem's
/// [`Detail::LEDGER_ORDER`]; every value is written exactly as serde writes it.
pub fn ledger_line<D: Detail>(candidate: &Candidate<D>) -> Result<String, serde_json::Error> {
    let plain = serde_json::to_string(candidate)?;
    if D::LEDGER_ORDER.is_empty() {
        return Ok(plain);
    }
    let mut fields = top_level_fields(&plain)?;
    let mut line = String::with_capacity(plain.len());
    let mut push = |key: &str, value: &RawValue| {
        line.push(if line.is_empty() { '{' } else { ',' });
        // Keys are field names: written as serde writes them.
        line.push_str(&serde_json::to_string(key).unwrap_or_default());
        line.push(':');
        line.push_str(value.get());
    };
    for key in D::LEDGER_ORDER {
        if let Some(at) = fields.iter().position(|(k, _)| k == key) {
            let (k, v) = fields.remove(at);
            push(&k, v);
        }
    }
    for (k, v) in fields {
        push(&k, v);
    }
    if line.is_empty() {
        line.push('{');
    }
    line.push('}');
    Ok(line)
}

/// The keys of a JSON object and the text of their values, in the order written.
fn top_level_fields(object: &str) -> Result<Vec<(String, &RawValue)>, serde_json::Error> {
    struct Fields;
    impl<'de> serde::de::Visitor<'de> for Fields {
        type Value = Vec<(String, &'de RawValue)>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(
            self,
            mut map: A,
        ) -> Result<Self::Value, A::Error> {
            let mut fields = Vec::new();
            while let Some(key) = map.next_key::<String>()? {
                fields.push((key, map.next_value::<&'de RawValue>()?));
            }
            Ok(fields)
        }
    }
    let mut de = serde_json::Deserializer::from_str(object);
    serde::Deserializer::deserialize_map(&mut de, Fields)
}

/// A problem with the run directory.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LedgerError {
    /// Reading or writing failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
    /// A line of a ledger or a round file is not what this version writes.
    #[error("{path}:{line}: {message}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// 1-based line (1 for a whole-file JSON document).
        line: usize,
        /// What is wrong.
        message: String,
    },
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> LedgerError + '_ {
    move |source| LedgerError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// A run directory.
#[derive(Clone, Debug)]
pub struct RunDir {
    root: PathBuf,
}

impl RunDir {
    /// Opens (creating if needed) the run directory at `root`.
    pub fn open(root: impl Into<PathBuf>) -> Result<RunDir, LedgerError> {
        let root = root.into();
        for d in [root.clone(), root.join("rounds"), root.join("transcripts")] {
            fs::create_dir_all(&d).map_err(io_err(&d))?;
        }
        Ok(RunDir { root })
    }

    /// The directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `DIR/ledger.jsonl`.
    pub fn ledger_path(&self) -> PathBuf {
        self.root.join("ledger.jsonl")
    }

    /// `DIR/config.json`.
    pub fn config_path(&self) -> PathBuf {
        self.root.join("config.json")
    }

    fn round_path(&self, round: usize) -> PathBuf {
        self.root
            .join("rounds")
            .join(format!("round-{round:03}.json"))
    }

    /// Appends one candidate to the ledger and syncs it to disk.
    pub fn append<D: Detail>(&self, candidate: &Candidate<D>) -> Result<(), LedgerError> {
        let path = self.ledger_path();
        let mut line = ledger_line(candidate).map_err(|e| LedgerError::Corrupt {
            path: path.clone(),
            line: 0,
            message: e.to_string(),
        })?;
        line.push('\n');
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(io_err(&path))?;
        file.write_all(line.as_bytes()).map_err(io_err(&path))?;
        file.sync_data().map_err(io_err(&path))
    }

    /// Reads the ledger (empty when there is none yet), sorted by id. A last line cut short
    /// by a kill is dropped and the file repaired.
    pub fn load<D: Detail>(&self) -> Result<Vec<Candidate<D>>, LedgerError> {
        let path = self.ledger_path();
        if !path.exists() {
            return Ok(Vec::new());
        }
        let mut candidates: Vec<Candidate<D>> = read_ledger(&path)?;
        candidates.sort_by_key(|c| c.id);
        candidates.dedup_by_key(|c| c.id);
        self.rewrite(&candidates)?;
        Ok(candidates)
    }

    /// Replaces the ledger by `candidates` (in the given order), atomically.
    pub fn rewrite<D: Detail>(&self, candidates: &[Candidate<D>]) -> Result<(), LedgerError> {
        let mut text = String::new();
        for c in candidates {
            let line = ledger_line(c).map_err(|e| LedgerError::Corrupt {
                path: self.ledger_path(),
                line: 0,
                message: e.to_string(),
            })?;
            text.push_str(&line);
            text.push('\n');
        }
        self.write_atomic(&self.ledger_path(), text.as_bytes())
    }

    /// Writes `bytes` to `path` through a temporary file and a rename.
    pub fn write_atomic(&self, path: &Path, bytes: &[u8]) -> Result<(), LedgerError> {
        write_atomic(path, bytes)
    }

    /// Records the proposals of `round` before they are evaluated.
    pub fn save_round(&self, round: usize, proposals: &[Proposal]) -> Result<(), LedgerError> {
        let path = self.round_path(round);
        let text = serde_json::to_string_pretty(proposals).map_err(|e| LedgerError::Corrupt {
            path: path.clone(),
            line: 1,
            message: e.to_string(),
        })?;
        self.write_atomic(&path, text.as_bytes())
    }

    /// The recorded proposals of `round`, if that round got as far as proposing.
    pub fn load_round(&self, round: usize) -> Result<Option<Vec<Proposal>>, LedgerError> {
        let path = self.round_path(round);
        if !path.exists() {
            return Ok(None);
        }
        let text = fs::read_to_string(&path).map_err(io_err(&path))?;
        serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| LedgerError::Corrupt {
                path,
                line: 1,
                message: e.to_string(),
            })
    }

    /// Writes a transcript file `DIR/transcripts/NAME`.
    pub fn save_transcript(
        &self,
        name: &str,
        value: &serde_json::Value,
    ) -> Result<(), LedgerError> {
        let path = self.root.join("transcripts").join(name);
        let text = serde_json::to_string_pretty(value).map_err(|e| LedgerError::Corrupt {
            path: path.clone(),
            line: 1,
            message: e.to_string(),
        })?;
        self.write_atomic(&path, text.as_bytes())
    }
}

/// Writes `bytes` to `path` through a temporary file (`path` with the extension `tmp`),
/// synced, and a rename: a reader sees the whole file or none.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), LedgerError> {
    let tmp = path.with_extension("tmp");
    let mut file = File::create(&tmp).map_err(io_err(&tmp))?;
    file.write_all(bytes).map_err(io_err(&tmp))?;
    file.sync_all().map_err(io_err(&tmp))?;
    fs::rename(&tmp, path).map_err(io_err(path))
}

/// Reads a ledger file: every complete line must be a `T` (a candidate, or the part of it
/// one needs); an unterminated last line (a write cut short) is ignored.
pub fn read_ledger<T: DeserializeOwned>(path: &Path) -> Result<Vec<T>, LedgerError> {
    let text = fs::read_to_string(path).map_err(io_err(path))?;
    let complete = text.ends_with('\n');
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::with_capacity(lines.len());
    for (i, line) in lines.iter().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<T>(line) {
            Ok(c) => out.push(c),
            Err(_) if i + 1 == lines.len() && !complete => {}
            Err(e) => {
                return Err(LedgerError::Corrupt {
                    path: path.to_path_buf(),
                    line: i + 1,
                    message: e.to_string(),
                });
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::candidate::{ProposerKind, Stage, Tokens, Verdict};

    #[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
    struct Curve {
        #[serde(with = "crate::json::vec_nan_null")]
        loss_curve: Vec<f64>,
    }
    impl Detail for Curve {
        fn key(&self) -> Option<&str> {
            None
        }
    }

    fn candidate(id: usize) -> Candidate<Curve> {
        with_detail(
            id,
            Curve {
                loss_curve: vec![0.1 + 0.2, f64::NAN],
            },
        )
    }

    fn with_detail<D>(id: usize, detail: D) -> Candidate<D> {
        Candidate {
            id,
            round: 1,
            proposal: Proposal {
                proposer: ProposerKind::Evolve,
                how: "crossover".into(),
                parents: vec![0],
                text: "return F\n".into(),
                tokens: Tokens::default(),
                error: None,
                cut: None,
            },
            shown: None,
            duplicate_of: None,
            detail,
            fitness: f64::INFINITY,
            verdict: Verdict::Failed {
                stage: Stage::Evaluate,
                message: "step 3".into(),
            },
            feedback: String::new(),
            seconds: 1.0 / 3.0,
            finished: Some(1.0e9 + 1.0 / 3.0),
            estimate: None,
        }
    }

    #[test]
    fn a_line_cut_by_a_kill_is_dropped_and_the_rest_reads_back_exactly() {
        let dir = std::env::temp_dir().join(format!("ansatz-ledger-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let run = RunDir::open(&dir).unwrap();
        run.append(&candidate(2)).unwrap();
        run.append(&candidate(1)).unwrap();
        let mut text = std::fs::read_to_string(run.ledger_path()).unwrap();
        let line = serde_json::to_string(&candidate(3)).unwrap();
        text.push_str(&line[..line.len() / 2]);
        std::fs::write(run.ledger_path(), &text).unwrap();
        let back: Vec<Candidate<Curve>> = run.load().unwrap();
        assert_eq!(back.iter().map(|c| c.id).collect::<Vec<_>>(), [1, 2]);
        assert_eq!(
            back[0].detail.loss_curve[0].to_bits(),
            (0.1f64 + 0.2).to_bits()
        );
        assert!(back[0].detail.loss_curve[1].is_nan());
        assert_eq!(back[0].fitness, f64::INFINITY);
        assert_eq!(back[0].seconds.to_bits(), (1.0f64 / 3.0).to_bits());
        assert_eq!(back[0].finished, Some(1.0e9 + 1.0 / 3.0));
        // The file was repaired: sorted, whole lines only.
        let repaired = std::fs::read_to_string(run.ledger_path()).unwrap();
        assert!(repaired.ends_with("}\n") && repaired.lines().count() == 2);
        // A damaged line in the middle is an error naming the line.
        std::fs::write(run.ledger_path(), format!("{{\"id\": 1}}\n{repaired}")).unwrap();
        let err = run.load::<Curve>().unwrap_err().to_string();
        assert!(err.contains("ledger.jsonl:1"), "{err}");
    }

    /// A detail that places its keys among the engine's.
    #[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
    struct Placed {
        law: String,
        #[serde(with = "crate::json::vec_nan_null")]
        loss_curve: Vec<f64>,
    }
    impl Detail for Placed {
        const LEDGER_ORDER: &'static [&'static str] =
            &["id", "law", "shown", "round", "loss_curve", "fitness"];
        fn key(&self) -> Option<&str> {
            None
        }
    }

    fn keys(line: &str) -> Vec<String> {
        let fields = top_level_fields(line).unwrap();
        fields.into_iter().map(|(k, _)| k).collect()
    }

    #[test]
    fn a_problem_places_its_keys_among_the_engines_and_the_line_reads_back() {
        let placed = with_detail(
            4,
            Placed {
                law: "return F\n".into(),
                loss_curve: vec![0.1 + 0.2, f64::NAN, 1e-300],
            },
        );
        let line = ledger_line(&placed).unwrap();
        let written = keys(&line);
        assert_eq!(
            written[..6],
            ["id", "law", "shown", "round", "loss_curve", "fitness"]
        );
        // The rest follow in the derived order, and nothing is lost or doubled.
        let plain = serde_json::to_string(&placed).unwrap();
        let derived = keys(&plain);
        assert_ne!(derived, written, "the derived order differs");
        let rest: Vec<_> = derived
            .iter()
            .filter(|k| !Placed::LEDGER_ORDER.contains(&k.as_str()))
            .collect();
        assert_eq!(written[6..].iter().collect::<Vec<_>>(), rest);
        // Nested objects keep their own order (the proposal's tokens: prompt first).
        assert!(
            line.contains(r#""tokens":{"prompt":0,"completion":0}"#),
            "{line}"
        );
        // Same values as the derived line, floats to the bit.
        let a: serde_json::Value = serde_json::from_str(&line).unwrap();
        let b: serde_json::Value = serde_json::from_str(&plain).unwrap();
        assert_eq!(a, b);
        let back: Candidate<Placed> = serde_json::from_str(&line).unwrap();
        assert_eq!(
            back.detail.loss_curve[0].to_bits(),
            (0.1f64 + 0.2).to_bits()
        );
        assert!(back.detail.loss_curve[1].is_nan());
        assert_eq!(back.detail.loss_curve[2], 1e-300);
        assert_eq!(back.seconds.to_bits(), (1.0f64 / 3.0).to_bits());
        // A detail without an order keeps the derived line.
        assert_eq!(
            ledger_line(&candidate(4)).unwrap(),
            serde_json::to_string(&candidate(4)).unwrap()
        );
    }

    #[test]
    fn round_files_round_trip() {
        let dir = std::env::temp_dir().join(format!("ansatz-rounds-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let run = RunDir::open(&dir).unwrap();
        assert!(run.load_round(1).unwrap().is_none());
        let p = vec![candidate(1).proposal];
        run.save_round(1, &p).unwrap();
        assert_eq!(run.load_round(1).unwrap().unwrap(), p);
    }
}
