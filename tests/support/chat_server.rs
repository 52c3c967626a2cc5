//! A scripted HTTP server on `127.0.0.1` for tests of anything that talks to a model.
//!
//! The server answers requests in arrival order with the replies of its script (a queue);
//! when the script is used up it answers with its default reply (500 with a body saying so,
//! unless [`ChatServer::set_default`] set another). Every request is recorded (method, path,
//! headers, body) before it is answered. Each answer is sent from its own thread, so a
//! delayed answer does not hold up the next request (a client that timed out and retries
//! gets the next reply at once).
//!
//! ```ignore
//! let server = ChatServer::start([
//!     Reply::json(429, json!({"error": {"message": "slow down"}})).header("Retry-After", "1"),
//!     Reply::json(200, openai_body(&["hello"], 10, 2)),
//! ]);
//! // ... point a client at server.url() ...
//! assert_eq!(server.requests().len(), 2);
//! ```

use serde_json::{Value, json};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

/// One scripted answer.
#[derive(Clone, Debug)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// Headers besides `Content-Type`.
    pub headers: Vec<(String, String)>,
    /// `Content-Type` of the body.
    pub content_type: String,
    /// The body.
    pub body: String,
    /// How long to wait before answering.
    pub delay: Duration,
}

impl Reply {
    /// A JSON answer.
    pub fn json(status: u16, body: Value) -> Self {
        Reply {
            status,
            headers: Vec::new(),
            content_type: "application/json".to_string(),
            body: body.to_string(),
            delay: Duration::ZERO,
        }
    }

    /// A plain-text answer.
    pub fn text(status: u16, body: impl Into<String>) -> Self {
        Reply {
            status,
            headers: Vec::new(),
            content_type: "text/plain; charset=utf-8".to_string(),
            body: body.into(),
            delay: Duration::ZERO,
        }
    }

    /// The same answer with one more header.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    /// The same answer, sent after `delay`.
    pub fn delay(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }
}

/// A request as the server received it.
#[derive(Clone, Debug)]
pub struct Recorded {
    /// `POST`, `GET`, ...
    pub method: String,
    /// Path and query, e.g. `/v1/chat/completions`.
    pub path: String,
    /// Headers in arrival order, names as sent.
    pub headers: Vec<(String, String)>,
    /// The body as text (lossy UTF-8).
    pub body: String,
}

impl Recorded {
    /// The first header of that name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body parsed as JSON (panics with the body if it is not JSON).
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("request body is not JSON ({e}): {}", self.body))
    }
}

/// The state the server thread and the test share.
#[derive(Debug)]
struct Shared {
    script: VecDeque<Reply>,
    default: Reply,
    requests: Vec<Recorded>,
}

/// A running scripted server; stopped when dropped.
pub struct ChatServer {
    url: String,
    shared: Arc<Mutex<Shared>>,
    server: Arc<tiny_http::Server>,
    stopping: Arc<AtomicBool>,
    acceptor: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for ChatServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChatServer")
            .field("url", &self.url)
            .field("shared", &self.shared)
            .finish_non_exhaustive()
    }
}

/// Locks the shared state, whatever a panicking thread left.
fn lock(shared: &Mutex<Shared>) -> MutexGuard<'_, Shared> {
    shared.lock().unwrap_or_else(PoisonError::into_inner)
}

impl ChatServer {
    /// Starts a server on a free port of 127.0.0.1 with the given script.
    pub fn start(script: impl IntoIterator<Item = Reply>) -> Self {
        let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").expect("bind 127.0.0.1:0"));
        let port = server.server_addr().to_ip().expect("an IP listener").port();
        let shared = Arc::new(Mutex::new(Shared {
            script: script.into_iter().collect(),
            default: Reply::json(
                500,
                json!({"error": {"message": "chat_server: the script is exhausted"}}),
            ),
            requests: Vec::new(),
        }));
        let stopping = Arc::new(AtomicBool::new(false));
        let acceptor = {
            let server = Arc::clone(&server);
            let shared = Arc::clone(&shared);
            let stopping = Arc::clone(&stopping);
            std::thread::spawn(move || accept(&server, &shared, &stopping))
        };
        ChatServer {
            url: format!("http://127.0.0.1:{port}"),
            shared,
            server,
            stopping,
            acceptor: Some(acceptor),
        }
    }

    /// `http://127.0.0.1:PORT` (no trailing slash).
    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// Appends replies to the script.
    pub fn push(&self, replies: impl IntoIterator<Item = Reply>) {
        lock(&self.shared).script.extend(replies);
    }

    /// The answer once the script is used up.
    pub fn set_default(&self, reply: Reply) {
        lock(&self.shared).default = reply;
    }

    /// Every request received so far, in arrival order.
    pub fn requests(&self) -> Vec<Recorded> {
        lock(&self.shared).requests.clone()
    }

    /// Scripted replies not yet used.
    pub fn remaining(&self) -> usize {
        lock(&self.shared).script.len()
    }
}

impl Drop for ChatServer {
    fn drop(&mut self) {
        self.stopping.store(true, Ordering::SeqCst);
        self.server.unblock();
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
    }
}

/// The accept loop: record, pick the reply, answer on a new thread.
fn accept(server: &tiny_http::Server, shared: &Mutex<Shared>, stopping: &AtomicBool) {
    loop {
        let mut request = match server.recv() {
            Ok(request) => request,
            // Unblocked by `drop`, or a failed accept (then keep serving).
            Err(_) if stopping.load(Ordering::SeqCst) => return,
            Err(_) => {
                std::thread::sleep(Duration::from_millis(1));
                continue;
            }
        };
        let mut body = Vec::new();
        let _ = request.as_reader().read_to_end(&mut body);
        let recorded = Recorded {
            method: request.method().to_string(),
            path: request.url().to_string(),
            headers: request
                .headers()
                .iter()
                .map(|h| (h.field.to_string(), h.value.to_string()))
                .collect(),
            body: String::from_utf8_lossy(&body).into_owned(),
        };
        let reply = {
            let mut shared = lock(shared);
            shared.requests.push(recorded);
            match shared.script.pop_front() {
                Some(reply) => reply,
                None => shared.default.clone(),
            }
        };
        std::thread::spawn(move || {
            std::thread::sleep(reply.delay);
            let mut response =
                tiny_http::Response::from_string(reply.body).with_status_code(reply.status);
            let content_type = ("Content-Type".to_string(), reply.content_type);
            for (name, value) in std::iter::once(content_type).chain(reply.headers) {
                if let Ok(header) = tiny_http::Header::from_bytes(name.as_bytes(), value.as_bytes())
                {
                    response.add_header(header);
                }
            }
            // The client may have given up (a timeout test): nothing to do then.
            let _ = request.respond(response);
        });
    }
}

/// A chat-completions success body: one choice per text (index in order), and usage.
pub fn openai_body(texts: &[&str], prompt_tokens: u64, completion_tokens: u64) -> Value {
    let choices: Vec<Value> = texts
        .iter()
        .enumerate()
        .map(|(index, text)| {
            json!({
                "index": index,
                "message": {"role": "assistant", "content": text},
                "finish_reason": "stop",
            })
        })
        .collect();
    json!({
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "model": "test-model",
        "choices": choices,
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    })
}

/// An Anthropic messages success body: one text block per text, and usage.
pub fn anthropic_body(texts: &[&str], input_tokens: u64, output_tokens: u64) -> Value {
    let content: Vec<Value> = texts
        .iter()
        .map(|text| json!({"type": "text", "text": text}))
        .collect();
    json!({
        "id": "msg_test",
        "type": "message",
        "role": "assistant",
        "model": "test-model",
        "content": content,
        "stop_reason": "end_turn",
        "usage": {"input_tokens": input_tokens, "output_tokens": output_tokens},
    })
}
