//! Language-model chat clients: the proposers' way of asking a model for candidate laws.
//!
//! Two wire protocols are spoken, over blocking `reqwest` with rustls (no OpenSSL, no async
//! runtime in this crate's code):
//!
//! * [`Provider::OpenAi`]: OpenAI-compatible chat completions, `POST {base_url}/chat/completions`
//!   (the base URL includes `/v1`). This covers OpenAI itself and local servers: vLLM
//!   (`http://localhost:8000/v1`), llama.cpp's `llama-server` (`http://127.0.0.1:8080/v1`),
//!   Ollama (`http://localhost:11434/v1`), LM Studio, SGLang and others. The message list is sent
//!   as is (a trailing assistant message included), `n` completions are asked for in one request
//!   and `seed` is passed on. Servers that ignore `n` (llama.cpp, Ollama) answer with fewer
//!   choices; the client then asks again for the remainder until `n` texts are collected. Each
//!   follow-up request carries `seed + k` (k = 1, 2, ...) so a seeded server does not return the
//!   same text again.
//! * [`Provider::Anthropic`]: the messages API, `POST {base_url}/v1/messages`. System messages
//!   are joined and passed separately, consecutive messages of the same role are merged with a
//!   blank line (`"\n\n"`), and a trailing assistant message is a prefill: the reply continues
//!   it and only the continuation is returned. The API has no `n` and no seed: one request is
//!   made per completion and `seed` is ignored. `max_tokens` defaults to 4096.
//!
//! Both retry rate limits (429), server errors (500, 502, 503, 504, 529 and other 5xx except
//! 501 and 505), timeouts and dropped connections up to [`ClientConfig::max_retries`] times,
//! waiting `backoff * 2^k` (capped at `max_backoff`) or what the server's `Retry-After` asks
//! (also capped at `max_backoff`). Authentication failures, unknown models and other 4xx
//! answers fail at once with a typed [`ChatError`].
//!
//! The API key is read from the environment variable named by [`ClientConfig::api_key_env`]
//! when the client is built. It is never printed: `Debug` shows it redacted, and neither error
//! messages nor [`ChatClient::describe`] contain it (a server that echoes the key in an error
//! body has it replaced by `[redacted]`). Local servers need no key: set `api_key_env` to
//! `None` (as [`ClientConfig::local`] does) and no `Authorization` header is sent.
//!
//! ```no_run
//! use ansatz_engine::llm::{client, ChatRequest, ClientConfig, Message};
//!
//! let config = ClientConfig::local("http://localhost:8000/v1", "Qwen/Qwen2.5-7B-Instruct");
//! let chat = client(&config)?;
//! let request = ChatRequest {
//!     messages: vec![Message::system("You are a physicist."), Message::user("Propose a law.")],
//!     temperature: 1.0,
//!     n: 4,
//!     seed: Some(0),
//!     max_tokens: None,
//! };
//! let completion = chat.complete(&request)?;
//! assert_eq!(completion.texts.len(), 4);
//! # Ok::<(), ansatz_engine::llm::ChatError>(())
//! ```

mod anthropic;
mod error;
mod openai;
mod retry;

pub use anthropic::{ANTHROPIC_MAX_TOKENS, ANTHROPIC_VERSION, AnthropicClient};
pub use error::ChatError;
pub use openai::OpenAiClient;

use serde::{Deserialize, Serialize};
use std::fmt;
use std::ops::{Add, AddAssign};
use std::time::Duration;

/// Who speaks a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Instructions that frame the conversation.
    System,
    /// The asking side (the engine).
    User,
    /// The model.
    Assistant,
}

/// One message of a conversation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// Who speaks.
    pub role: Role,
    /// What is said.
    pub content: String,
}

impl Message {
    /// A message of the given role.
    pub fn new(role: Role, content: impl Into<String>) -> Self {
        Message {
            role,
            content: content.into(),
        }
    }

    /// A system message.
    pub fn system(content: impl Into<String>) -> Self {
        Message::new(Role::System, content)
    }

    /// A user message.
    pub fn user(content: impl Into<String>) -> Self {
        Message::new(Role::User, content)
    }

    /// An assistant message (as the last message: a prefill the reply continues).
    pub fn assistant(content: impl Into<String>) -> Self {
        Message::new(Role::Assistant, content)
    }
}

/// What to ask a model: one conversation, `n` independent completions of it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChatRequest {
    /// The conversation. Must not be empty.
    pub messages: Vec<Message>,
    /// Sampling temperature (OpenAI accepts 0 to 2, Anthropic 0 to 1; not clamped here).
    pub temperature: f64,
    /// Number of completions wanted. Zero makes no request and returns no texts.
    pub n: usize,
    /// Sampling seed (OpenAI-compatible servers only; Anthropic has none).
    pub seed: Option<u64>,
    /// Token limit of each completion; `None` leaves it to the server (OpenAI) or 4096
    /// (Anthropic, which requires one).
    pub max_tokens: Option<u32>,
}

/// Tokens spent, as the servers count them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Usage {
    /// Tokens of the prompt (summed over all requests made).
    pub prompt_tokens: u64,
    /// Tokens generated (summed over all requests made).
    pub completion_tokens: u64,
}

impl Add for Usage {
    type Output = Usage;
    fn add(self, other: Usage) -> Usage {
        Usage {
            prompt_tokens: self.prompt_tokens.saturating_add(other.prompt_tokens),
            completion_tokens: self
                .completion_tokens
                .saturating_add(other.completion_tokens),
        }
    }
}

impl AddAssign for Usage {
    fn add_assign(&mut self, other: Usage) {
        *self = *self + other;
    }
}

/// The answer to a [`ChatRequest`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Completion {
    /// The completions, exactly `n` of them. After an assistant prefill, only the
    /// continuation.
    pub texts: Vec<String>,
    /// Tokens spent over all requests (a server that reports none counts as zero).
    pub usage: Usage,
    /// HTTP requests made, retries and follow-up requests included.
    pub attempts: u32,
}

/// A chat model behind some API.
pub trait ChatClient: Send + Sync {
    /// Asks for `request.n` completions of the conversation, retrying transient failures.
    fn complete(&self, request: &ChatRequest) -> Result<Completion, ChatError>;

    /// Which backend, model and URL this is, e.g.
    /// `openai-compatible gpt-4o at http://127.0.0.1:8000/v1`. Never contains the key.
    fn describe(&self) -> String;
}

/// Which wire protocol a server speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    /// OpenAI-compatible chat completions (OpenAI, vLLM, llama.cpp, Ollama, ...).
    OpenAi,
    /// Anthropic's messages API.
    Anthropic,
}

impl Provider {
    /// The default base URL of the provider's public API.
    pub fn default_base_url(self) -> &'static str {
        match self {
            Provider::OpenAi => "https://api.openai.com/v1",
            Provider::Anthropic => "https://api.anthropic.com",
        }
    }

    /// The environment variable that holds the provider's key by default.
    pub fn default_key_env(self) -> &'static str {
        match self {
            Provider::OpenAi => "OPENAI_API_KEY",
            Provider::Anthropic => "ANTHROPIC_API_KEY",
        }
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Provider::OpenAi => "openai",
            Provider::Anthropic => "anthropic",
        })
    }
}

impl std::str::FromStr for Provider {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "openai" | "openai-compatible" => Ok(Provider::OpenAi),
            "anthropic" => Ok(Provider::Anthropic),
            other => Err(format!(
                "unknown provider {other:?} (expected openai or anthropic)"
            )),
        }
    }
}

/// How to reach a model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientConfig {
    /// The wire protocol.
    pub provider: Provider,
    /// The API root: for OpenAI-compatible servers including `/v1`
    /// (`https://api.openai.com/v1`, `http://localhost:8000/v1`), for Anthropic without it
    /// (`https://api.anthropic.com`). A trailing `/` is ignored.
    pub base_url: String,
    /// The model name the server knows.
    pub model: String,
    /// The environment variable holding the API key, read when the client is built. `None`
    /// means no key (local servers): no authentication header is sent. `Some(var)` with `var`
    /// unset or empty is [`ChatError::MissingKey`].
    pub api_key_env: Option<String>,
    /// Limit of one HTTP request, from connecting to the last byte of the reply.
    pub timeout: Duration,
    /// Limit of establishing the connection.
    pub connect_timeout: Duration,
    /// How many times a failed request is repeated (so at most `max_retries + 1` requests).
    pub max_retries: u32,
    /// Wait before the first retry; doubled for each further one.
    pub backoff: Duration,
    /// Cap of every wait, `Retry-After` included.
    pub max_backoff: Duration,
}

impl ClientConfig {
    /// The provider's public API with its usual key variable, a 300 s timeout, 5 retries
    /// and a backoff of 1 s doubling up to 60 s.
    pub fn new(provider: Provider, model: impl Into<String>) -> Self {
        ClientConfig {
            provider,
            base_url: provider.default_base_url().to_string(),
            model: model.into(),
            api_key_env: Some(provider.default_key_env().to_string()),
            timeout: Duration::from_secs(300),
            connect_timeout: Duration::from_secs(10),
            max_retries: 5,
            backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(60),
        }
    }

    /// OpenAI's API (key in `OPENAI_API_KEY`).
    pub fn openai(model: impl Into<String>) -> Self {
        ClientConfig::new(Provider::OpenAi, model)
    }

    /// Anthropic's API (key in `ANTHROPIC_API_KEY`).
    pub fn anthropic(model: impl Into<String>) -> Self {
        ClientConfig::new(Provider::Anthropic, model)
    }

    /// A local OpenAI-compatible server without a key, e.g. vLLM at
    /// `http://localhost:8000/v1`, llama.cpp at `http://127.0.0.1:8080/v1` or Ollama at
    /// `http://localhost:11434/v1`.
    pub fn local(base_url: impl Into<String>, model: impl Into<String>) -> Self {
        ClientConfig {
            base_url: base_url.into(),
            api_key_env: None,
            ..ClientConfig::new(Provider::OpenAi, model)
        }
    }
}

/// Builds the client the configuration asks for, reading the API key from the environment.
pub fn client(config: &ClientConfig) -> Result<Box<dyn ChatClient>, ChatError> {
    Ok(match config.provider {
        Provider::OpenAi => Box::new(OpenAiClient::new(config)?),
        Provider::Anthropic => Box::new(AnthropicClient::new(config)?),
    })
}
