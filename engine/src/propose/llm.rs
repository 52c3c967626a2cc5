//! The language-model proposer: SGA's two requests per round (exploit and explore
//! temperatures) over one conversation, every exchange kept as a transcript.

use super::{ProposeError, Proposer, RoundContext};
use crate::candidate::{Proposal, ProposerKind, Tokens};
use crate::llm::{ChatClient, ChatError, ChatRequest, Message, Role};
use crate::problem::Problem;
use crate::prompt::Speaker;

/// Proposes with a chat model.
pub struct LlmProposer {
    client: Box<dyn ChatClient>,
    /// Token limit of a completion (None: the server's default).
    pub max_tokens: Option<u32>,
}

impl LlmProposer {
    /// A proposer over `client`.
    pub fn new(client: Box<dyn ChatClient>) -> LlmProposer {
        LlmProposer {
            client,
            max_tokens: None,
        }
    }
}

/// Errors after which asking again cannot help: the run ends.
fn is_fatal(e: &ChatError) -> bool {
    matches!(
        e,
        ChatError::MissingKey { .. }
            | ChatError::Unauthorized { .. }
            | ChatError::NotFound { .. }
            | ChatError::Unreachable { .. }
            | ChatError::InvalidRequest { .. }
    )
}

impl<P: Problem> Proposer<P> for LlmProposer {
    fn propose(&mut self, ctx: &RoundContext<'_, P>) -> Result<Vec<Proposal>, ProposeError> {
        let messages: Vec<Message> = ctx
            .messages()
            .into_iter()
            .map(|t| {
                let role = match t.role {
                    Speaker::System => Role::System,
                    Speaker::User => Role::User,
                    Speaker::Assistant => Role::Assistant,
                };
                Message::new(role, t.content)
            })
            .collect();
        let mut out = Vec::new();
        let mut exchanges = Vec::new();
        let batches = [
            (ctx.exploit, ctx.exploit_temperature),
            (ctx.explore, ctx.explore_temperature),
        ];
        for (k, &(n, temperature)) in batches.iter().enumerate() {
            if n == 0 {
                continue;
            }
            let request = ChatRequest {
                messages: messages.clone(),
                temperature,
                n,
                seed: Some(ctx.round_seed().wrapping_add(k as u64)),
                max_tokens: self.max_tokens,
            };
            let how = format!("T={temperature}");
            match self.client.complete(&request) {
                Ok(completion) => {
                    let count = completion.texts.len().max(1) as u64;
                    let share = Tokens {
                        prompt: completion.usage.prompt_tokens / count,
                        completion: completion.usage.completion_tokens / count,
                    };
                    // Replies are bounded before anything keeps them (transcripts included).
                    let proposals: Vec<Proposal> = completion
                        .texts
                        .into_iter()
                        .map(|text| {
                            Proposal {
                                proposer: ProposerKind::Llm,
                                how: how.clone(),
                                parents: ctx.shown.to_vec(),
                                text,
                                tokens: share,
                                error: None,
                                cut: None,
                            }
                            .bounded()
                        })
                        .collect();
                    let replies: Vec<&str> = proposals.iter().map(|p| p.text.as_str()).collect();
                    exchanges.push(serde_json::json!({
                        "temperature": temperature,
                        "n": n,
                        "replies": replies,
                        "usage": completion.usage,
                        "attempts": completion.attempts,
                    }));
                    out.extend(proposals);
                }
                Err(e) if is_fatal(&e) => {
                    return Err(ProposeError {
                        proposer: self.client.describe(),
                        message: e.to_string(),
                    });
                }
                Err(e) => {
                    exchanges.push(serde_json::json!({
                        "temperature": temperature,
                        "n": n,
                        "error": e.to_string(),
                    }));
                    for _ in 0..n {
                        out.push(Proposal {
                            proposer: ProposerKind::Llm,
                            how: how.clone(),
                            parents: ctx.shown.to_vec(),
                            text: String::new(),
                            tokens: Tokens::default(),
                            error: Some(format!("the model request failed: {e}")),
                            cut: None,
                        });
                    }
                }
            }
        }
        let transcript = serde_json::json!({
            "round": ctx.round,
            "model": self.client.describe(),
            "messages": messages,
            "exchanges": exchanges,
        });
        // A transcript that cannot be written is not worth losing the round over.
        if let Err(e) = ctx
            .run
            .save_transcript(&format!("round-{:03}.json", ctx.round), &transcript)
        {
            eprintln!("warning: {e}");
        }
        Ok(out)
    }
}
