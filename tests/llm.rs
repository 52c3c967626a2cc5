//! The chat clients against the scripted server of `tests/support` on 127.0.0.1: exact
//! request bodies and headers, `n` and the top-up of short answers, retries with backoff
//! and `Retry-After`, timeouts, typed failures, and that the key is never shown.
//!
//! Every test uses its own server and its own key variable, so they run in parallel.

use crate::support::chat_server::{ChatServer, Recorded, Reply, anthropic_body, openai_body};
use ansatz::engine::llm::{
    ChatError, ChatRequest, ClientConfig, Completion, Message, Provider, Usage, client,
};
use serde_json::{Value, json};
use std::time::Duration;

mod failures;

/// The two wire protocols.
const SHAPES: [Provider; 2] = [Provider::OpenAi, Provider::Anthropic];

/// Sets a test's own key variable to `value`.
fn set_key(var: &str, value: &str) {
    assert!(
        var.starts_with("ANSATZ_TEST_"),
        "test key variables are test-unique"
    );
    // SAFETY: every test writes only its own variable, once, before building a client; the
    // standard library serialises environment access, and nothing in these tests reads the
    // environment through libc while another thread writes.
    unsafe { std::env::set_var(var, value) };
}

/// A configuration for `shape` against `server`: short timeouts and millisecond backoffs.
fn config(shape: Provider, server: &ChatServer, key_var: Option<&str>) -> ClientConfig {
    let base_url = match shape {
        Provider::OpenAi => format!("{}/v1/", server.url()),
        _ => server.url(),
    };
    ClientConfig {
        base_url,
        api_key_env: key_var.map(str::to_string),
        timeout: Duration::from_secs(5),
        connect_timeout: Duration::from_secs(2),
        max_retries: 3,
        backoff: Duration::from_millis(5),
        max_backoff: Duration::from_millis(50),
        ..ClientConfig::new(shape, "test-model")
    }
}

/// The path the backend posts to.
fn path(shape: Provider) -> &'static str {
    match shape {
        Provider::OpenAi => "/v1/chat/completions",
        _ => "/v1/messages",
    }
}

/// A success reply of `shape` with one text (one choice or one text block).
fn success(shape: Provider, text: &str, prompt: u64, completion: u64) -> Reply {
    match shape {
        Provider::OpenAi => Reply::json(200, openai_body(&[text], prompt, completion)),
        _ => Reply::json(200, anthropic_body(&[text], prompt, completion)),
    }
}

/// A one-completion request.
fn simple_request() -> ChatRequest {
    ChatRequest {
        messages: vec![
            Message::system("Be brief."),
            Message::user("Propose a law."),
        ],
        temperature: 0.5,
        n: 1,
        seed: Some(1),
        max_tokens: None,
    }
}

/// Builds the client and asks once.
fn ask(config: &ClientConfig, request: &ChatRequest) -> Result<Completion, ChatError> {
    client(config)?.complete(request)
}

fn assert_posted(requests: &[Recorded], shape: Provider, count: usize) {
    assert_eq!(requests.len(), count, "{shape}: requests made");
    for request in requests {
        assert_eq!(request.method, "POST");
        assert_eq!(request.path, path(shape));
        assert_eq!(request.header("content-type"), Some("application/json"));
    }
}

#[test]
fn openai_multi_round_conversation_sends_exact_bodies() {
    let var = "ANSATZ_TEST_KEY_OPENAI_ROUNDS";
    let key = "sk-test-openai-rounds-7f3a";
    set_key(var, key);
    let server = ChatServer::start([
        Reply::json(200, openai_body(&["law A", "law B"], 100, 40)),
        Reply::json(200, openai_body(&["law C"], 180, 25)),
    ]);
    let chat = client(&config(Provider::OpenAi, &server, Some(var))).expect("client");
    let mut messages = vec![
        Message::system("You are a physicist."),
        Message::user("## Problem Setup"),
    ];
    let first = ChatRequest {
        messages: messages.clone(),
        temperature: 0.5,
        n: 2,
        seed: Some(7),
        max_tokens: None,
    };
    let one = chat.complete(&first).expect("first round");
    assert_eq!(one.texts, ["law A", "law B"]);
    assert_eq!((one.attempts, one.usage), (1, usage(100, 40)));

    messages.push(Message::assistant("## Iteration 1\n\nlaw A"));
    messages.push(Message::user("### Feedback\n\nloss 0.5"));
    messages.push(Message::assistant("## Iteration 2"));
    let second = ChatRequest {
        messages: messages.clone(),
        temperature: 1.0,
        n: 1,
        seed: None,
        max_tokens: Some(256),
    };
    let two = chat.complete(&second).expect("second round");
    assert_eq!(two.texts, ["law C"]);
    assert_eq!((two.attempts, two.usage), (1, usage(180, 25)));

    let requests = server.requests();
    assert_posted(&requests, Provider::OpenAi, 2);
    for request in &requests {
        assert_eq!(
            request.header("authorization"),
            Some(format!("Bearer {key}").as_str())
        );
        assert_eq!(request.header("x-api-key"), None);
    }
    assert_eq!(
        requests[0].json(),
        json!({
            "model": "test-model",
            "messages": [
                {"role": "system", "content": "You are a physicist."},
                {"role": "user", "content": "## Problem Setup"},
            ],
            "temperature": 0.5,
            "n": 2,
            "seed": 7,
        })
    );
    // The trailing assistant message goes out as is; no seed and a token limit.
    assert_eq!(
        requests[1].json(),
        json!({
            "model": "test-model",
            "messages": [
                {"role": "system", "content": "You are a physicist."},
                {"role": "user", "content": "## Problem Setup"},
                {"role": "assistant", "content": "## Iteration 1\n\nlaw A"},
                {"role": "user", "content": "### Feedback\n\nloss 0.5"},
                {"role": "assistant", "content": "## Iteration 2"},
            ],
            "temperature": 1.0,
            "n": 1,
            "max_tokens": 256,
        })
    );
    assert_eq!(
        chat.describe(),
        format!("openai-compatible test-model at {}/v1", server.url())
    );
}

#[test]
fn anthropic_multi_round_conversation_merges_roles_and_prefills() {
    let var = "ANSATZ_TEST_KEY_ANTHROPIC_ROUNDS";
    let key = "sk-ant-test-rounds-91c2";
    set_key(var, key);
    let two_blocks = json!({
        "content": [
            {"type": "text", "text": " 1\n\nlaw"},
            {"type": "tool_use", "id": "t", "name": "x", "input": {}},
            {"type": "text", "text": " A"},
        ],
        "usage": {"input_tokens": 300, "output_tokens": 12},
    });
    let server = ChatServer::start([
        Reply::json(200, two_blocks),
        Reply::json(200, anthropic_body(&[" 1\n\nlaw B"], 300, 14)),
        Reply::json(200, anthropic_body(&["law C"], 500, 30)),
    ]);
    let chat = client(&config(Provider::Anthropic, &server, Some(var))).expect("client");
    let first = ChatRequest {
        messages: vec![
            Message::system("You are a physicist."),
            Message::user("## Problem Setup"),
            Message::user("## Format Requirements"),
            Message::assistant("## Iteration"),
        ],
        temperature: 0.5,
        n: 2,
        seed: Some(7),
        max_tokens: None,
    };
    let one = chat.complete(&first).expect("first round");
    // Only the continuation of the prefill, text blocks joined.
    assert_eq!(one.texts, [" 1\n\nlaw A", " 1\n\nlaw B"]);
    assert_eq!((one.attempts, one.usage), (2, usage(600, 26)));

    let second = ChatRequest {
        messages: vec![
            Message::system("You are a physicist."),
            Message::user("## Problem Setup"),
            Message::assistant("## Iteration 1\n\nlaw A"),
            Message::user("### Feedback\n\nloss 0.5"),
            Message::user("## Format Requirements"),
            Message::system("Answer in one block."),
        ],
        temperature: 1.0,
        n: 1,
        seed: None,
        max_tokens: Some(100),
    };
    let two = chat.complete(&second).expect("second round");
    assert_eq!(two.texts, ["law C"]);
    assert_eq!((two.attempts, two.usage), (1, usage(500, 30)));

    let requests = server.requests();
    assert_posted(&requests, Provider::Anthropic, 3);
    for request in &requests {
        assert_eq!(request.header("x-api-key"), Some(key));
        assert_eq!(request.header("anthropic-version"), Some("2023-06-01"));
        assert_eq!(request.header("authorization"), None);
    }
    let first_body = json!({
        "model": "test-model",
        "max_tokens": 4096,
        "system": "You are a physicist.",
        "messages": [
            {"role": "user", "content": "## Problem Setup\n\n## Format Requirements"},
            {"role": "assistant", "content": "## Iteration"},
        ],
        "temperature": 0.5,
    });
    // One request per completion, the same body each time (no seed: Anthropic has none).
    assert_eq!(requests[0].json(), first_body);
    assert_eq!(requests[1].json(), first_body);
    assert_eq!(
        requests[2].json(),
        json!({
            "model": "test-model",
            "max_tokens": 100,
            "system": "You are a physicist.\n\nAnswer in one block.",
            "messages": [
                {"role": "user", "content": "## Problem Setup"},
                {"role": "assistant", "content": "## Iteration 1\n\nlaw A"},
                {"role": "user", "content": "### Feedback\n\nloss 0.5\n\n## Format Requirements"},
            ],
            "temperature": 1.0,
        })
    );
    assert_eq!(
        chat.describe(),
        format!("anthropic test-model at {}", server.url())
    );
}

fn usage(prompt_tokens: u64, completion_tokens: u64) -> Usage {
    Usage {
        prompt_tokens,
        completion_tokens,
    }
}

#[test]
fn openai_n_choices_come_from_one_request_in_index_order() {
    let unordered = json!({
        "choices": [
            {"index": 2, "message": {"role": "assistant", "content": "c"}},
            {"index": 0, "message": {"role": "assistant", "content": "a"}},
            {"index": 1, "message": {"role": "assistant", "content": null}},
        ],
        "usage": {"prompt_tokens": 50, "completion_tokens": 9},
    });
    let server = ChatServer::start([Reply::json(200, unordered)]);
    let request = ChatRequest {
        n: 3,
        ..simple_request()
    };
    let completion = ask(&config(Provider::OpenAi, &server, None), &request).expect("complete");
    assert_eq!(completion.texts, ["a", "", "c"]);
    assert_eq!((completion.attempts, completion.usage), (1, usage(50, 9)));
    let requests = server.requests();
    assert_posted(&requests, Provider::OpenAi, 1);
    // No key configured: no authentication header.
    assert_eq!(requests[0].header("authorization"), None);
}

#[test]
fn openai_fewer_choices_than_n_are_topped_up_with_new_seeds() {
    // A llama.cpp-like server answers one choice whatever n is; another answers 2 of 4.
    let server = ChatServer::start([
        Reply::json(200, openai_body(&["a"], 10, 1)),
        Reply::json(200, openai_body(&["b"], 10, 2)),
        Reply::json(200, openai_body(&["c"], 10, 3)),
    ]);
    let request = ChatRequest {
        n: 3,
        seed: Some(41),
        ..simple_request()
    };
    let completion = ask(&config(Provider::OpenAi, &server, None), &request).expect("complete");
    assert_eq!(completion.texts, ["a", "b", "c"]);
    assert_eq!((completion.attempts, completion.usage), (3, usage(30, 6)));
    let asked: Vec<(Value, Value)> = server
        .requests()
        .iter()
        .map(|r| (r.json()["n"].clone(), r.json()["seed"].clone()))
        .collect();
    assert_eq!(
        asked,
        [
            (json!(3), json!(41)),
            (json!(2), json!(42)),
            (json!(1), json!(43))
        ]
    );

    // More choices than asked for are cut; usage missing from a reply counts zero.
    let no_usage = json!({"choices": [
        {"message": {"content": "y"}}, {"message": {"content": "z"}},
    ]});
    let server = ChatServer::start([
        Reply::json(200, openai_body(&["w", "x"], 7, 7)),
        Reply::json(200, no_usage),
    ]);
    let request = ChatRequest {
        n: 3,
        seed: None,
        ..simple_request()
    };
    let completion = ask(&config(Provider::OpenAi, &server, None), &request).expect("complete");
    assert_eq!(completion.texts, ["w", "x", "y"]);
    assert_eq!((completion.attempts, completion.usage), (2, usage(7, 7)));
    let requests = server.requests();
    assert_eq!(requests[1].json()["n"], json!(1));
    assert_eq!(requests[1].json().get("seed"), None);
}

#[test]
fn n_zero_makes_no_request() {
    for shape in SHAPES {
        let server = ChatServer::start([]);
        let request = ChatRequest {
            n: 0,
            ..simple_request()
        };
        let completion = ask(&config(shape, &server, None), &request).expect("complete");
        assert_eq!(completion, Completion::default());
        assert_eq!(server.requests().len(), 0);
    }
}

#[test]
fn bad_replies_are_bad_responses() {
    for shape in SHAPES {
        let no_choices = json!({"choices": [], "usage": {"prompt_tokens": 1}});
        let server = ChatServer::start([
            Reply::text(200, "<html>proxy page</html>"),
            Reply::json(200, no_choices.clone()),
        ]);
        let config = config(shape, &server, None);
        let error = ask(&config, &simple_request()).expect_err("not JSON");
        assert!(
            matches!(&error, ChatError::BadResponse { message } if message.contains("proxy page")),
            "{shape}: {error:?}"
        );
        let error = ask(&config, &simple_request()).expect_err("no choices");
        assert!(
            matches!(error, ChatError::BadResponse { .. }),
            "{shape}: {error:?}"
        );
        // Bad replies are not retried.
        assert_eq!(server.requests().len(), 2, "{shape}");
    }
}
