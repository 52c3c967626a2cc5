//! The run directory: configuration, labelled data per round, checkpoints and round records.
//!
//! Layout:
//! - `config.json`: the [`LlomeConfig`]; resuming under another configuration is refused, except
//!   for the number of rounds (a finished run can be extended);
//! - `labels_R.json`: the sequences labelled in round R with their values (round 0 = GA data);
//! - `model_R.safetensors`, `optim_R.safetensors`: weights and AdamW state after round R's training;
//! - `state.json`: the last completed phase ([`Progress`]);
//! - `rounds.jsonl`: one [`crate::RoundRecord`] per completed round.
//!
//! Every file is written to a temporary name and renamed, and `state.json` is written last, so a
//! run killed at any point resumes from its last completed phase.

use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::config::LlomeConfig;
use crate::error::{LlomeError, Result, io_err, json_err};

/// Where a run stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    /// The round's model is trained and saved; generation and labelling are next.
    Trained,
    /// The round is complete (its labels and record are saved).
    Labelled,
}

/// The last completed phase of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    /// Round index (0 = the GA data).
    pub round: usize,
    /// Phase reached in that round.
    pub phase: Phase,
}

/// A run directory.
#[derive(Debug, Clone)]
pub struct RunDir {
    root: PathBuf,
}

impl RunDir {
    /// Opens (creating if needed) a run directory for `config`; refuses one that holds a run made
    /// with a different configuration.
    pub fn open(root: &Path, config: &LlomeConfig) -> Result<Self> {
        std::fs::create_dir_all(root).map_err(io_err(root))?;
        let dir = RunDir {
            root: root.to_path_buf(),
        };
        let cfg_path = dir.path("config.json");
        if cfg_path.exists() {
            let old: LlomeConfig = dir.read_json("config.json")?;
            // only the number of rounds may change: a finished run can be extended
            let same = LlomeConfig {
                rounds: config.rounds,
                ..old
            } == *config;
            if !same {
                return Err(LlomeError::ConfigMismatch(root.to_path_buf()));
            }
            dir.write_json("config.json", config)?;
        } else {
            dir.write_json("config.json", config)?;
        }
        Ok(dir)
    }
    /// A file of the run.
    pub fn path(&self, name: &str) -> PathBuf {
        self.root.join(name)
    }
    /// Reads a JSON file of the run.
    pub fn read_json<T: DeserializeOwned>(&self, name: &str) -> Result<T> {
        let p = self.path(name);
        let text = std::fs::read_to_string(&p).map_err(io_err(&p))?;
        serde_json::from_str(&text).map_err(json_err(&p))
    }
    /// Writes a JSON file atomically.
    pub fn write_json<T: Serialize>(&self, name: &str, value: &T) -> Result<()> {
        let p = self.path(name);
        let text = serde_json::to_string(value).map_err(json_err(&p))?;
        self.write_text(name, &text)
    }
    /// Reads a file of JSON lines (blank lines skipped); a missing file is no lines.
    pub fn read_lines<T: DeserializeOwned>(&self, name: &str) -> Result<Vec<T>> {
        let p = self.path(name);
        if !p.exists() {
            return Ok(Vec::new());
        }
        let text = std::fs::read_to_string(&p).map_err(io_err(&p))?;
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).map_err(json_err(&p)))
            .collect()
    }
    /// Writes `items` as a file of JSON lines, atomically.
    pub fn write_lines<T: Serialize>(&self, name: &str, items: &[T]) -> Result<()> {
        let p = self.path(name);
        let mut text = String::new();
        for item in items {
            text.push_str(&serde_json::to_string(item).map_err(json_err(&p))?);
            text.push('\n');
        }
        self.write_text(name, &text)
    }
    /// Writes a text file atomically (temporary name, then rename).
    pub fn write_text(&self, name: &str, text: &str) -> Result<()> {
        let p = self.path(name);
        let tmp = self.path(&format!("{name}.tmp"));
        std::fs::write(&tmp, text).map_err(io_err(&tmp))?;
        std::fs::rename(&tmp, &p).map_err(io_err(&p))
    }
    /// Runs `save` on a temporary path, then renames it to `name`.
    pub fn write_with(&self, name: &str, save: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
        let tmp = self.path(&format!("{name}.tmp"));
        save(&tmp)?;
        let p = self.path(name);
        std::fs::rename(&tmp, &p).map_err(io_err(&p))
    }
    /// The saved progress, if any.
    pub fn progress(&self) -> Result<Option<Progress>> {
        if self.path("state.json").exists() {
            Ok(Some(self.read_json("state.json")?))
        } else {
            Ok(None)
        }
    }
}
