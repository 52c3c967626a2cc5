//! Anthropic's messages API.

use super::retry::{Auth, Http};
use super::{ChatClient, ChatError, ChatRequest, ClientConfig, Completion, Message, Role, Usage};
use serde::{Deserialize, Serialize};

/// The API version sent in `anthropic-version`.
pub const ANTHROPIC_VERSION: &str = "2023-06-01";

/// `max_tokens` when the request sets none (the API requires one).
pub const ANTHROPIC_MAX_TOKENS: u32 = 4096;

/// A client of `POST {base_url}/v1/messages`.
///
/// How a conversation is sent:
/// * every system message, wherever it stands, goes into `system`, joined with `"\n\n"`;
/// * the other messages keep their order, consecutive messages of one role merged with
///   `"\n\n"`;
/// * the first of them must be a user message: a conversation that starts with the
///   assistant, or has no user or assistant message at all, is
///   [`ChatError::InvalidRequest`] and nothing is sent (the engine always opens with a
///   user turn; inventing one would change the prompt);
/// * a trailing assistant message is a prefill, sent with trailing whitespace removed
///   (the API rejects it otherwise); the reply continues it and only the continuation is
///   returned.
///
/// There is no `n`: one request is made per completion. There is no seed either: the
/// request's `seed` is ignored.
#[derive(Debug)]
pub struct AnthropicClient {
    http: Http,
    url: String,
    base_url: String,
    model: String,
}

/// The request body.
#[derive(Serialize)]
struct Body<'a> {
    model: &'a str,
    max_tokens: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    system: Option<String>,
    messages: &'a [Message],
    temperature: f64,
}

/// The parts of a reply that are read.
#[derive(Deserialize)]
struct Reply {
    content: Vec<Block>,
    #[serde(default)]
    usage: Option<ReplyUsage>,
}

/// A content block; only text blocks are kept.
#[derive(Deserialize)]
struct Block {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    text: Option<String>,
}

/// Token counts.
#[derive(Deserialize)]
struct ReplyUsage {
    #[serde(default)]
    input_tokens: Option<u64>,
    #[serde(default)]
    output_tokens: Option<u64>,
}

/// The system text and the merged turns Anthropic is sent (see [`AnthropicClient`]).
pub(crate) fn split_conversation(
    messages: &[Message],
) -> Result<(Option<String>, Vec<Message>), ChatError> {
    let system: Vec<&str> = messages
        .iter()
        .filter(|m| m.role == Role::System)
        .map(|m| m.content.as_str())
        .collect();
    let mut turns: Vec<Message> = Vec::new();
    for message in messages.iter().filter(|m| m.role != Role::System) {
        match turns.last_mut() {
            Some(last) if last.role == message.role => {
                last.content.push_str("\n\n");
                last.content.push_str(&message.content);
            }
            _ => turns.push(message.clone()),
        }
    }
    match turns.first() {
        Some(first) if first.role == Role::User => {}
        Some(_) => {
            return Err(ChatError::InvalidRequest {
                message: "Anthropic needs the first non-system message to be a user message"
                    .to_string(),
            });
        }
        None => {
            return Err(ChatError::InvalidRequest {
                message: "the conversation has no user message".to_string(),
            });
        }
    }
    if let Some(last) = turns.last_mut().filter(|m| m.role == Role::Assistant) {
        last.content.truncate(last.content.trim_end().len());
    }
    let system = (!system.is_empty()).then(|| system.join("\n\n"));
    Ok((system, turns))
}

impl AnthropicClient {
    /// Reads the key (if `config.api_key_env` names one) and builds the client. The
    /// configuration's provider is not looked at.
    pub fn new(config: &ClientConfig) -> Result<Self, ChatError> {
        let base_url = config.base_url.trim_end_matches('/').to_string();
        Ok(AnthropicClient {
            http: Http::new(config, Auth::XApiKey)?,
            url: format!("{base_url}/v1/messages"),
            base_url,
            model: config.model.clone(),
        })
    }
}

impl ChatClient for AnthropicClient {
    fn complete(&self, request: &ChatRequest) -> Result<Completion, ChatError> {
        let (system, turns) = split_conversation(&request.messages)?;
        let body = Body {
            model: &self.model,
            max_tokens: request.max_tokens.unwrap_or(ANTHROPIC_MAX_TOKENS),
            system,
            messages: &turns,
            temperature: request.temperature,
        };
        let headers = [("anthropic-version", ANTHROPIC_VERSION)];
        let mut completion = Completion::default();
        for _ in 0..request.n {
            let (reply, attempts): (Reply, u32) =
                self.http.post(&self.url, &self.model, &headers, &body)?;
            completion.attempts += attempts;
            if let Some(usage) = reply.usage {
                completion.usage += Usage {
                    prompt_tokens: usage.input_tokens.unwrap_or(0),
                    completion_tokens: usage.output_tokens.unwrap_or(0),
                };
            }
            let text: String = reply
                .content
                .into_iter()
                .filter(|block| block.kind == "text")
                .filter_map(|block| block.text)
                .collect();
            completion.texts.push(text);
        }
        Ok(completion)
    }

    fn describe(&self) -> String {
        let text = format!("anthropic {} at {}", self.model, self.base_url);
        self.http.redact(&text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_is_split_off_and_roles_merged() {
        let messages = [
            Message::system("S1"),
            Message::user("a"),
            Message::assistant("b"),
            Message::user("c"),
            Message::user("d"),
            Message::system("S2"),
            Message::assistant("prefill  \n"),
        ];
        let (system, turns) = split_conversation(&messages).expect("valid conversation");
        assert_eq!(system.as_deref(), Some("S1\n\nS2"));
        assert_eq!(
            turns,
            [
                Message::user("a"),
                Message::assistant("b"),
                Message::user("c\n\nd"),
                Message::assistant("prefill"),
            ]
        );
    }

    #[test]
    fn a_conversation_must_open_with_the_user() {
        let opens_with_assistant = [Message::system("s"), Message::assistant("a")];
        assert!(matches!(
            split_conversation(&opens_with_assistant),
            Err(ChatError::InvalidRequest { .. })
        ));
        assert!(matches!(
            split_conversation(&[Message::system("s")]),
            Err(ChatError::InvalidRequest { .. })
        ));
        let (system, turns) = split_conversation(&[Message::user("u")]).expect("valid");
        assert_eq!((system, turns), (None, vec![Message::user("u")]));
    }
}
