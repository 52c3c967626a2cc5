//! The human proposer: a person (or an outside program) answers prompt files.
//!
//! Each round writes `DIR/human/round-NNN.prompt.md` (the conversation a model would see)
//! and waits for `DIR/human/round-NNN.reply.md`. Every solution block (`law`, `smiles`:
//! the problem's fence tag) in the reply is one
//! proposal, up to the number the round asks for (later blocks are left out); a reply
//! without any is one proposal that fails at the extract stage, like a model's. Write the reply elsewhere and move it into place, so that it appears whole.

use super::{ProposeError, Proposer, RoundContext};
use crate::candidate::{Proposal, ProposerKind, Tokens};
use crate::problem::Problem;
use crate::prompt::Speaker;
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
    fn paths<P: Problem>(ctx: &RoundContext<'_, P>) -> (PathBuf, PathBuf) {
        let dir = ctx.run.root().join("human");
        (
            dir.join(format!("round-{:03}.prompt.md", ctx.round)),
            dir.join(format!("round-{:03}.reply.md", ctx.round)),
        )
    }
}

/// The conversation as one Markdown file.
fn render<P: Problem>(ctx: &RoundContext<'_, P>, noun: &str, tag: &str) -> String {
    let mut out = format!(
        "<!-- ansatz asks for {} {noun}s: answer in the .reply.md file beside this one, one ```{tag} block per {noun} -->\n\n",
        ctx.wanted()
    );
    let turns = ctx.messages_for(ctx.wanted());
    let last = turns.len().saturating_sub(1);
    for (i, turn) in turns.iter().enumerate() {
        let who = match turn.role {
            Speaker::System => "system",
            Speaker::User => "user",
            // A closing assistant turn is the start a model's reply is given to continue
            // (the SGA prompts end with the next iteration's heading).
            Speaker::Assistant if i == last => {
                "assistant: the start of your reply, continue from here in the .reply.md file"
            }
            Speaker::Assistant => "assistant",
        };
        out.push_str(&format!("<!-- {who} -->\n\n{}\n\n", turn.content));
    }
    out
}

/// Splits a reply into one text per block tagged `tag` or untagged (the whole reply when
/// it has none).
fn split(reply: &str, tag: &str) -> Vec<String> {
    let opening = format!("```{tag}");
    let mut out = Vec::new();
    let mut current: Option<String> = None;
    for line in reply.lines() {
        let t = line.trim();
        match &mut current {
            None if t == opening || t == "```" => current = Some(String::new()),
            None => {}
            Some(body) if t == "```" => {
                out.push(format!("```{tag}\n{body}```\n"));
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

impl<P: Problem> Proposer<P> for HumanProposer {
    fn propose(&mut self, ctx: &RoundContext<'_, P>) -> Result<Vec<Proposal>, ProposeError> {
        let err = |message: String| ProposeError {
            proposer: "human".into(),
            message,
        };
        let (prompt, reply) = Self::paths(ctx);
        let brief = ctx.problem.brief();
        if let Some(dir) = prompt.parent() {
            std::fs::create_dir_all(dir).map_err(|e| err(format!("{}: {e}", dir.display())))?;
        }
        std::fs::write(&prompt, render(ctx, &brief.noun, &brief.block))
            .map_err(|e| err(format!("{}: {e}", prompt.display())))?;
        eprintln!(
            "human proposer: the prompt is in {}; write your {}s to {}",
            prompt.display(),
            brief.noun,
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
        let text =
            match Proposal::from_bytes(ProposerKind::Human, how.clone(), parents.clone(), &bytes) {
                Ok(text) => text,
                Err(failed) => return Ok(vec![*failed]),
            };
        let mut blocks = split(&text, &brief.block);
        // Blocks above the number asked for are dropped, and the proposals say so.
        let how = if blocks.len() > ctx.wanted().max(1) {
            let note = format!(
                "{how} ({} blocks, the first {} kept: {} were asked for)",
                blocks.len(),
                ctx.wanted().max(1),
                ctx.wanted()
            );
            eprintln!("human proposer: {note}");
            blocks.truncate(ctx.wanted().max(1));
            note
        } else {
            how
        };
        Ok(blocks
            .into_iter()
            .map(|text| Proposal {
                proposer: ProposerKind::Human,
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
        let parts = super::split(
            "two laws\n```law\nreturn F\n```\ntext\n```\nreturn I\n```\n",
            "law",
        );
        assert_eq!(
            parts,
            ["```law\nreturn F\n```\n", "```law\nreturn I\n```\n"]
        );
        assert_eq!(super::split("no law", "law"), ["no law"]);
        assert_eq!(
            super::split("```smiles\nCCO\n```", "smiles"),
            ["```smiles\nCCO\n```\n"]
        );
    }
}
