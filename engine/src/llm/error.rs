//! What can go wrong talking to a model.

/// Retries of a request whose connection could not be made at all (a dead server is not
/// waited for as long as a busy one).
pub const UNREACHABLE_RETRIES: u32 = 2;

/// A failed chat request. Messages quote at most about 300 characters of what the server
/// said and never contain the API key.
///
/// `attempts` counts the HTTP requests of the call that failed, retries included (with
/// several requests per completion, the earlier successful ones are not counted).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ChatError {
    /// The configured key variable is unset or empty.
    #[error(
        "environment variable {var} holding the API key is not set (set api_key_env to none for a server without a key)"
    )]
    MissingKey {
        /// The variable's name.
        var: String,
    },
    /// The server refused the key (401 or 403). Not retried.
    #[error("unauthorized (HTTP {status}): {message}")]
    Unauthorized {
        /// 401 or 403.
        status: u16,
        /// The server's message.
        message: String,
    },
    /// The URL or the model does not exist (404). Not retried.
    #[error("not found (HTTP 404) at {url} for model {model:?}: {message}")]
    NotFound {
        /// The URL requested.
        url: String,
        /// The model asked for.
        model: String,
        /// The server's message.
        message: String,
    },
    /// Still rate limited (429) when the retries ran out.
    #[error("rate limited (HTTP 429) after {attempts} attempts: {message}")]
    RateLimited {
        /// Requests made.
        attempts: u32,
        /// The server's last message.
        message: String,
    },
    /// The server failed (5xx): after the retries ran out, or at once for 501 and 505.
    #[error("server error (HTTP {status}) after {attempts} attempts: {message}")]
    Server {
        /// The last status.
        status: u16,
        /// Requests made.
        attempts: u32,
        /// The server's last message.
        message: String,
    },
    /// The last request took longer than the configured timeout.
    #[error("no reply within {seconds} s after {attempts} attempts")]
    Timeout {
        /// Requests made.
        attempts: u32,
        /// The timeout of one request.
        seconds: f64,
    },
    /// No connection could be made (refused, unknown host): the server is not there.
    /// Retried at most [`UNREACHABLE_RETRIES`] times, then fatal for a search.
    #[error("cannot reach the model server after {attempts} attempts: {message}")]
    Unreachable {
        /// Requests made.
        attempts: u32,
        /// What failed.
        message: String,
    },
    /// The connection failed or broke (also: the HTTP client could not be built, with
    /// `attempts` zero).
    #[error("transport error after {attempts} attempts: {message}")]
    Transport {
        /// Requests made.
        attempts: u32,
        /// What failed.
        message: String,
    },
    /// The server rejected the request (a 4xx other than 401, 403, 404 and 429). Not retried.
    #[error("bad request (HTTP {status}): {message}")]
    BadRequest {
        /// The status.
        status: u16,
        /// The server's message.
        message: String,
    },
    /// The server answered success with something that is not a usable reply (invalid
    /// JSON, no choices, an unexpected status).
    #[error("bad response: {message}")]
    BadResponse {
        /// What is wrong, with an excerpt of the body.
        message: String,
    },
    /// The request cannot be sent as it is (empty conversation, a conversation the
    /// protocol cannot express). Nothing was sent.
    #[error("invalid request: {message}")]
    InvalidRequest {
        /// What is wrong.
        message: String,
    },
}

/// How many characters of a server's body an error quotes.
pub(crate) const EXCERPT_CHARS: usize = 300;

/// The first [`EXCERPT_CHARS`] characters of `text`, trimmed, with `…` if cut.
pub(crate) fn excerpt(text: &str) -> String {
    let text = text.trim();
    match text.char_indices().nth(EXCERPT_CHARS) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

/// The human part of an error body: `error.message` (OpenAI, Anthropic), `error` as a string
/// (Ollama), a top-level `message` (vLLM), else the body itself; as an excerpt.
pub(crate) fn server_message(body: &str) -> String {
    let found = serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|value| {
            let error = value.get("error");
            error
                .and_then(|e| e.get("message"))
                .or(error)
                .or_else(|| value.get("message"))
                .and_then(|m| m.as_str())
                .map(str::to_string)
        });
    match found {
        Some(message) if !message.trim().is_empty() => excerpt(&message),
        _ if body.trim().is_empty() => "(empty body)".to_string(),
        _ => excerpt(body),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpt_cuts_at_a_character_boundary() {
        let long = "é".repeat(EXCERPT_CHARS + 10);
        let cut = excerpt(&long);
        assert_eq!(cut.chars().count(), EXCERPT_CHARS + 1);
        assert!(cut.ends_with('…'));
        assert_eq!(excerpt("  short \n"), "short");
    }

    #[test]
    fn server_message_reads_the_usual_shapes() {
        let openai = r#"{"error":{"message":"bad model","type":"invalid_request_error"}}"#;
        assert_eq!(server_message(openai), "bad model");
        let anthropic =
            r#"{"type":"error","error":{"type":"not_found_error","message":"model: x"}}"#;
        assert_eq!(server_message(anthropic), "model: x");
        assert_eq!(
            server_message(r#"{"error":"model not found"}"#),
            "model not found"
        );
        assert_eq!(server_message(r#"{"object":"error","message":"m"}"#), "m");
        assert_eq!(server_message("plain text"), "plain text");
        assert_eq!(server_message(""), "(empty body)");
    }
}
