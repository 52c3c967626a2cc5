//! OpenAI-compatible chat completions (OpenAI, vLLM, llama.cpp, Ollama, ...).

use super::retry::{Auth, Http};
use super::{ChatClient, ChatError, ChatRequest, ClientConfig, Completion, Message, Usage};
use serde::{Deserialize, Serialize};

/// A client of `POST {base_url}/chat/completions`.
///
/// The message list goes out as is; `n` completions are asked for in one request and, when
/// the server returns fewer (llama.cpp and Ollama ignore `n`), the remainder in further
/// requests, the k-th of which carries `seed + k`. `max_tokens` and `seed` are left out when
/// `None`.
#[derive(Debug)]
pub struct OpenAiClient {
    http: Http,
    url: String,
    base_url: String,
    model: String,
}

/// The request body.
#[derive(Serialize)]
struct Body<'a> {
    model: &'a str,
    messages: &'a [Message],
    temperature: f64,
    n: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    seed: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_tokens: Option<u32>,
}

/// The parts of a reply that are read.
#[derive(Deserialize)]
struct Reply {
    choices: Vec<Choice>,
    #[serde(default)]
    usage: Option<ReplyUsage>,
}

/// One completion.
#[derive(Deserialize)]
struct Choice {
    #[serde(default)]
    index: Option<usize>,
    message: ChoiceMessage,
}

/// A completion's message; `content` may be null (a refusal, a tool call), read as "".
#[derive(Deserialize)]
struct ChoiceMessage {
    #[serde(default)]
    content: Option<String>,
}

/// Token counts; servers may leave any of them out.
#[derive(Deserialize)]
struct ReplyUsage {
    #[serde(default)]
    prompt_tokens: Option<u64>,
    #[serde(default)]
    completion_tokens: Option<u64>,
}

impl OpenAiClient {
    /// Reads the key (if `config.api_key_env` names one) and builds the client. The
    /// configuration's provider is not looked at.
    pub fn new(config: &ClientConfig) -> Result<Self, ChatError> {
        let base_url = config.base_url.trim_end_matches('/').to_string();
        Ok(OpenAiClient {
            http: Http::new(config, Auth::Bearer)?,
            url: format!("{base_url}/chat/completions"),
            base_url,
            model: config.model.clone(),
        })
    }
}

impl ChatClient for OpenAiClient {
    fn complete(&self, request: &ChatRequest) -> Result<Completion, ChatError> {
        if request.messages.is_empty() {
            return Err(ChatError::InvalidRequest {
                message: "the conversation has no messages".to_string(),
            });
        }
        let mut completion = Completion::default();
        let mut round: u64 = 0;
        while completion.texts.len() < request.n {
            let wanted = request.n - completion.texts.len();
            let body = Body {
                model: &self.model,
                messages: &request.messages,
                temperature: request.temperature,
                n: wanted,
                seed: request.seed.map(|seed| seed.wrapping_add(round)),
                max_tokens: request.max_tokens,
            };
            let (reply, attempts): (Reply, u32) =
                self.http.post(&self.url, &self.model, &[], &body)?;
            completion.attempts += attempts;
            if let Some(usage) = reply.usage {
                completion.usage += Usage {
                    prompt_tokens: usage.prompt_tokens.unwrap_or(0),
                    completion_tokens: usage.completion_tokens.unwrap_or(0),
                };
            }
            if reply.choices.is_empty() {
                return Err(ChatError::BadResponse {
                    message: format!(
                        "{} returned no choices (asked for {wanted})",
                        self.describe()
                    ),
                });
            }
            let mut choices = reply.choices;
            choices.sort_by_key(|choice| choice.index.unwrap_or(usize::MAX));
            let texts = choices
                .into_iter()
                .take(wanted)
                .map(|choice| choice.message.content.unwrap_or_default());
            completion.texts.extend(texts);
            round += 1;
        }
        Ok(completion)
    }

    fn describe(&self) -> String {
        let text = format!("openai-compatible {} at {}", self.model, self.base_url);
        self.http.redact(&text)
    }
}
