//! The human proposer: a person (or an outside program) answers prompt files.
//!
//! Each round writes `DIR/human/round-NNN.prompt.md` (the conversation a model would see)
//! and waits for `DIR/human/round-NNN.reply.md`. Every `law` block in the reply is one
//! proposal; a reply without any is one proposal that fails at the extract stage, like a
//! model's. Write the reply elsewhere and move it into place, so that it appears whole.

use super::{ProposeError, Proposer, RoundContext};
use crate::search::candidate::{Proposal, Tokens};
use crate::search::prompt::Speaker;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// Asks a person through files.
#[derive(Debug)]
pub struct HumanProposer {
    /// How long to wait for a reply before the run ends (None: forever).
    pub timeout: Option<Duration>,
    /// How often to look for the reply.
    pub poll: Duration,
}

impl Default for HumanProposer {
    fn default() -> Self {
        HumanProposer {
            timeout: None,
            poll: Duration::from_millis(200),
        }
    }
}

impl HumanProposer {
    fn paths(ctx: &RoundContext<'_>) -> (PathBuf, PathBuf) {
        let dir = ctx.run.root().join("human");
        (
            dir.join(format!("round-{:03}.prompt.md", ctx.round)),
            dir.join(format!("round-{:03}.reply.md", ctx.round)),
        )
    }
}

/// The conversation as one Markdown file.
fn render(ctx: &RoundContext<'_>) -> String {
    let mut out = format!(
        "<!-- ansatz asks for {} laws: answer in the .reply.md file beside this one, one ```law block per law -->\n\n",
        ctx.wanted()
    );
    for turn in ctx.messages() {
        let who = match turn.role {
            Speaker::System => "system",
            Speaker::User => "user",
            Speaker::Assistant => "assistant",
        };
        out.push_str(&format!("<!-- {who} -->\n\n{}\n\n", turn.content));
    }
    out
}

/// Splits a reply into one text per law block (the whole reply when it has none).
fn split(reply: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current: Option<String> = None;
    for line in reply.lines() {
        let t = line.trim();
        match &mut current {
            None if t == "```law" || t == "```" => current = Some(String::new()),
            None => {}
            Some(body) if t == "```" => {
                out.push(format!("```law\n{body}```\n"));
                current = None;
            }
            Some(body) => {
                body.push_str(line);
                body.push('\n');
            }
        }
    }
    if out.is_empty() {
        out.push(reply.to_string());
    }
    out
}

impl Proposer for HumanProposer {
    fn name(&self) -> &str {
        "human"
    }

    fn propose(&mut self, ctx: &RoundContext<'_>) -> Result<Vec<Proposal>, ProposeError> {
        let err = |message: String| ProposeError {
            proposer: "human".into(),
            message,
        };
        let (prompt, reply) = Self::paths(ctx);
        if let Some(dir) = prompt.parent() {
            std::fs::create_dir_all(dir).map_err(|e| err(format!("{}: {e}", dir.display())))?;
        }
        std::fs::write(&prompt, render(ctx))
            .map_err(|e| err(format!("{}: {e}", prompt.display())))?;
        eprintln!(
            "human proposer: the prompt is in {}; write your laws to {}",
            prompt.display(),
            reply.display()
        );
        let started = Instant::now();
        while !reply.exists() {
            if ctx.stop.load(Ordering::SeqCst) {
                return Err(err("stopped while waiting for the reply".into()));
            }
            if self.timeout.is_some_and(|t| started.elapsed() > t) {
                return Err(err(format!(
                    "no reply in {} after the timeout",
                    reply.display()
                )));
            }
            std::thread::sleep(self.poll);
        }
        let bytes = std::fs::read(&reply).map_err(|e| err(format!("{}: {e}", reply.display())))?;
        let parents = ctx.shown.to_vec();
        let how = format!("round-{:03}.reply.md", ctx.round);
        // A reply that is not UTF-8 or too long is one failed proposal; the run goes on.
        let text = match Proposal::from_bytes("human", how.clone(), parents.clone(), &bytes) {
            Ok(text) => text,
            Err(failed) => return Ok(vec![*failed]),
        };
        Ok(split(&text)
            .into_iter()
            .map(|text| Proposal {
                proposer: "human".into(),
                how: how.clone(),
                parents: parents.clone(),
                text,
                tokens: Tokens::default(),
                error: None,
                cut: None,
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_reply_splits_into_its_law_blocks() {
        let parts = super::split("two laws\n```law\nreturn F\n```\ntext\n```\nreturn I\n```\n");
        assert_eq!(
            parts,
            ["```law\nreturn F\n```\n", "```law\nreturn I\n```\n"]
        );
        assert_eq!(super::split("no law"), ["no law"]);
    }
}
