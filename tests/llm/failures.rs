//! Retries, timeouts and typed failures, for both wire protocols.

use super::{SHAPES, ask, assert_posted, config, set_key, simple_request, success, usage};
use crate::support::chat_server::{ChatServer, Reply};
use ansatz::engine::llm::{
    AnthropicClient, ChatError, ClientConfig, Message, OpenAiClient, Provider, client,
};
use serde_json::json;
use std::time::{Duration, Instant};

/// An error body of the OpenAI/Anthropic shape.
fn error_body(status: u16, message: &str) -> Reply {
    Reply::json(
        status,
        json!({"error": {"type": "error", "message": message}}),
    )
}

#[test]
fn rate_limit_waits_for_retry_after_then_succeeds() {
    for shape in SHAPES {
        let server = ChatServer::start([
            error_body(429, "slow down").header("Retry-After", "1"),
            success(shape, "law", 11, 3),
        ]);
        let config = ClientConfig {
            max_backoff: Duration::from_secs(5),
            ..config(shape, &server, None)
        };
        let start = Instant::now();
        let completion = ask(&config, &simple_request()).expect("complete");
        let waited = start.elapsed();
        assert!(waited >= Duration::from_millis(950), "{shape}: {waited:?}");
        assert!(waited < Duration::from_secs(4), "{shape}: {waited:?}");
        assert_eq!(completion.texts, ["law"]);
        assert_eq!((completion.attempts, completion.usage), (2, usage(11, 3)));
        assert_posted(&server.requests(), shape, 2);
    }
}

#[test]
fn retry_after_is_capped_at_max_backoff() {
    for shape in SHAPES {
        let server = ChatServer::start([
            error_body(429, "come back in an hour").header("Retry-After", "3600"),
            error_body(503, "later").header("Retry-After", "not a date"),
            error_body(503, "later").header("Retry-After", "Fri, 31 Dec 9999 23:59:59 GMT"),
            success(shape, "law", 1, 1),
        ]);
        let start = Instant::now();
        let completion = ask(&config(shape, &server, None), &simple_request()).expect("complete");
        // Three waits of at most max_backoff (50 ms).
        assert!(start.elapsed() < Duration::from_secs(2), "{shape}");
        assert_eq!(completion.attempts, 4);
    }
}

#[test]
fn rate_limit_until_the_retries_run_out() {
    for shape in SHAPES {
        let server = ChatServer::start([]);
        server.set_default(error_body(429, "quota exceeded for test-model"));
        let config = ClientConfig {
            max_retries: 1,
            ..config(shape, &server, None)
        };
        let error = ask(&config, &simple_request()).expect_err("rate limited");
        let ChatError::RateLimited { attempts, message } = &error else {
            panic!("{shape}: {error:?}");
        };
        assert_eq!(
            (*attempts, message.as_str()),
            (2, "quota exceeded for test-model")
        );
        assert_eq!(server.requests().len(), 2);
    }
}

#[test]
fn server_errors_are_retried_with_backoff_then_fail() {
    for shape in SHAPES {
        let crash = Reply::text(500, "model crashed: CUDA out of memory");
        let server = ChatServer::start([crash.clone(), crash.clone(), crash]);
        server.push([success(shape, "never read", 1, 1)]);
        let config = ClientConfig {
            max_retries: 2,
            backoff: Duration::from_millis(40),
            max_backoff: Duration::from_secs(1),
            ..config(shape, &server, None)
        };
        let start = Instant::now();
        let error = ask(&config, &simple_request()).expect_err("server error");
        // Waits of 40 ms and 80 ms between the three requests.
        assert!(start.elapsed() >= Duration::from_millis(120), "{shape}");
        let ChatError::Server {
            status,
            attempts,
            message,
        } = &error
        else {
            panic!("{shape}: {error:?}");
        };
        assert_eq!((*status, *attempts), (500, 3));
        assert_eq!(message, "model crashed: CUDA out of memory");
        let shown = error.to_string();
        assert!(
            shown.contains("after 3 attempts") && shown.contains("CUDA"),
            "{shown}"
        );
        assert_eq!(server.requests().len(), 3);
        assert_eq!(
            server.remaining(),
            1,
            "the success after the retries is not asked for"
        );
    }
}

#[test]
fn every_transient_server_status_is_retried() {
    for shape in SHAPES {
        let statuses = [500, 502, 503, 504, 529];
        let mut script: Vec<Reply> = statuses.iter().map(|s| error_body(*s, "busy")).collect();
        script.push(success(shape, "law", 2, 2));
        let server = ChatServer::start(script);
        let patient = ClientConfig {
            max_retries: 5,
            ..config(shape, &server, None)
        };
        let completion = ask(&patient, &simple_request()).expect("complete");
        assert_eq!((completion.attempts, completion.usage), (6, usage(2, 2)));

        // 501 Not Implemented will not change: no retry.
        let server = ChatServer::start([error_body(501, "no such feature")]);
        let error = ask(&config(shape, &server, None), &simple_request()).expect_err("501");
        assert!(
            matches!(
                error,
                ChatError::Server {
                    status: 501,
                    attempts: 1,
                    ..
                }
            ),
            "{shape}: {error:?}"
        );
    }
}

#[test]
fn slow_replies_time_out() {
    for shape in SHAPES {
        let slow = success(shape, "too late", 1, 1).delay(Duration::from_secs(3));
        let server = ChatServer::start([slow.clone(), slow]);
        let config = ClientConfig {
            timeout: Duration::from_millis(300),
            max_retries: 1,
            ..config(shape, &server, None)
        };
        let start = Instant::now();
        let error = ask(&config, &simple_request()).expect_err("timeout");
        assert!(
            start.elapsed() < Duration::from_millis(2500),
            "{shape}: did not wait"
        );
        let ChatError::Timeout { attempts, seconds } = error else {
            panic!("{shape}: {error:?}");
        };
        assert_eq!((attempts, seconds), (2, 0.3));
        assert_eq!(server.requests().len(), 2);
    }
}

#[test]
fn a_slow_reply_then_a_fast_one_succeeds() {
    for shape in SHAPES {
        let server = ChatServer::start([
            success(shape, "too late", 1, 1).delay(Duration::from_secs(3)),
            success(shape, "in time", 20, 5),
        ]);
        let config = ClientConfig {
            timeout: Duration::from_millis(300),
            ..config(shape, &server, None)
        };
        let start = Instant::now();
        let completion = ask(&config, &simple_request()).expect("complete");
        assert!(start.elapsed() < Duration::from_millis(2500), "{shape}");
        assert_eq!(completion.texts, ["in time"]);
        // Only the answered request counts tokens.
        assert_eq!((completion.attempts, completion.usage), (2, usage(20, 5)));
    }
}

#[test]
fn refused_keys_fail_after_one_request() {
    for shape in SHAPES {
        for status in [401, 403] {
            let server = ChatServer::start([error_body(status, "invalid x-api-key")]);
            let error = ask(&config(shape, &server, None), &simple_request()).expect_err("401");
            let ChatError::Unauthorized {
                status: got,
                message,
            } = &error
            else {
                panic!("{shape}: {error:?}");
            };
            assert_eq!((*got, message.as_str()), (status, "invalid x-api-key"));
            assert_posted(&server.requests(), shape, 1);
        }
    }
}

#[test]
fn unknown_model_is_not_found_naming_url_and_model() {
    for shape in SHAPES {
        let server = ChatServer::start([error_body(404, "model 'test-model' not found")]);
        let error = ask(&config(shape, &server, None), &simple_request()).expect_err("404");
        let ChatError::NotFound {
            url,
            model,
            message,
        } = &error
        else {
            panic!("{shape}: {error:?}");
        };
        let expected_url = match shape {
            Provider::OpenAi => format!("{}/v1/chat/completions", server.url()),
            _ => format!("{}/v1/messages", server.url()),
        };
        assert_eq!((url, model.as_str()), (&expected_url, "test-model"));
        assert_eq!(message, "model 'test-model' not found");
        assert!(error.to_string().contains(&expected_url));
        assert_eq!(server.requests().len(), 1);
    }
}

#[test]
fn other_client_errors_are_bad_requests_with_the_server_message() {
    for shape in SHAPES {
        let anthropic_shape = json!({"type": "error", "error": {
            "type": "invalid_request_error", "message": "temperature: must be <= 1"}});
        let long = "x".repeat(2000);
        let server = ChatServer::start([
            Reply::json(400, anthropic_shape),
            Reply::text(422, long.clone()),
        ]);
        let config = config(shape, &server, None);
        let error = ask(&config, &simple_request()).expect_err("400");
        let ChatError::BadRequest { status, message } = &error else {
            panic!("{shape}: {error:?}");
        };
        assert_eq!(
            (*status, message.as_str()),
            (400, "temperature: must be <= 1")
        );
        let error = ask(&config, &simple_request()).expect_err("422");
        let ChatError::BadRequest { status, message } = &error else {
            panic!("{shape}: {error:?}");
        };
        assert_eq!(*status, 422);
        assert!(
            message.len() < 400 && message.starts_with("xxx"),
            "{message}"
        );
        assert_eq!(server.requests().len(), 2, "no retries");
    }
}

#[test]
fn a_missing_key_variable_is_named() {
    set_key("ANSATZ_TEST_KEY_EMPTY", "  ");
    for shape in SHAPES {
        let server = ChatServer::start([]);
        for var in ["ANSATZ_TEST_KEY_NEVER_SET", "ANSATZ_TEST_KEY_EMPTY"] {
            let error = client(&config(shape, &server, Some(var)))
                .err()
                .expect("no key");
            assert!(
                matches!(&error, ChatError::MissingKey { var: v } if v == var),
                "{error:?}"
            );
            assert!(error.to_string().contains(var));
        }
        assert_eq!(server.requests().len(), 0);
    }
}

#[test]
fn unreachable_servers_are_retried_briefly_then_unreachable() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("address").port()
    };
    for shape in SHAPES {
        let config = ClientConfig {
            base_url: format!("http://127.0.0.1:{port}"),
            api_key_env: None,
            max_retries: 5,
            backoff: Duration::from_millis(5),
            ..ClientConfig::new(shape, "test-model")
        };
        let error = ask(&config, &simple_request()).expect_err("refused");
        // A refused connection is retried at most UNREACHABLE_RETRIES times, not max_retries.
        assert!(
            matches!(error, ChatError::Unreachable { attempts: 3, .. }),
            "{shape}: {error:?}"
        );
    }
}

#[test]
fn the_key_is_never_shown() {
    let var = "ANSATZ_TEST_KEY_NEVER_SHOWN";
    let key = "sk-test-never-shown-5d81e";
    set_key(var, key);
    for shape in SHAPES {
        let echo = format!("Incorrect API key provided: {key}");
        let server = ChatServer::start([
            error_body(401, &echo),
            error_body(500, &echo),
            error_body(500, &echo),
            Reply::text(400, echo.clone()),
            Reply::text(200, echo.clone()),
        ]);
        let config = ClientConfig {
            max_retries: 1,
            ..config(shape, &server, Some(var))
        };
        let mut shown = Vec::new();
        for _ in 0..4 {
            let error = ask(&config, &simple_request()).expect_err("an error");
            shown.push(error.to_string());
            shown.push(format!("{error:?}"));
        }
        let unreachable = ClientConfig {
            base_url: "http://127.0.0.1:1".to_string(),
            max_retries: 0,
            ..config.clone()
        };
        let error = ask(&unreachable, &simple_request()).expect_err("refused");
        shown.push(format!("{error} {error:?}"));
        let chat = client(&config).expect("client");
        shown.push(chat.describe());
        shown.push(match shape {
            Provider::OpenAi => format!("{:?}", OpenAiClient::new(&config).expect("client")),
            _ => format!("{:?}", AnthropicClient::new(&config).expect("client")),
        });
        for text in &shown {
            assert!(!text.contains(key), "{shape}: the key shows in {text}");
        }
        assert!(shown[0].contains("Incorrect API key provided: [redacted]"));
        // The server did receive it.
        assert_eq!(server.requests().len(), 5);
    }
}

#[test]
fn an_exhausted_script_answers_its_default() {
    let server = ChatServer::start([]);
    let config = ClientConfig {
        max_retries: 0,
        ..config(Provider::OpenAi, &server, None)
    };
    let error = ask(&config, &simple_request()).expect_err("default 500");
    assert!(error.to_string().contains("script is exhausted"), "{error}");
    server.set_default(success(Provider::OpenAi, "default", 1, 1));
    assert_eq!(
        ask(&config, &simple_request()).expect("ok").texts,
        ["default"]
    );
}

#[test]
fn anthropic_conversations_must_open_with_the_user() {
    let server = ChatServer::start([]);
    let mut request = simple_request();
    request.messages = vec![Message::system("s"), Message::assistant("a")];
    let anthropic = config(Provider::Anthropic, &server, None);
    let error = ask(&anthropic, &request).expect_err("invalid");
    assert!(
        matches!(error, ChatError::InvalidRequest { .. }),
        "{error:?}"
    );
    request.messages.clear();
    for shape in SHAPES {
        let error = ask(&config(shape, &server, None), &request).expect_err("empty");
        assert!(
            matches!(error, ChatError::InvalidRequest { .. }),
            "{error:?}"
        );
    }
    assert_eq!(server.requests().len(), 0);
}

#[test]
fn providers_and_defaults() {
    assert_eq!("openai".parse(), Ok(Provider::OpenAi));
    assert_eq!("Anthropic".parse(), Ok(Provider::Anthropic));
    assert!("mistral".parse::<Provider>().is_err());
    assert_eq!(
        serde_json::to_value(Provider::OpenAi).ok(),
        Some(json!("openai"))
    );
    let openai = ClientConfig::openai("gpt-4o");
    assert_eq!(openai.base_url, "https://api.openai.com/v1");
    assert_eq!(openai.api_key_env.as_deref(), Some("OPENAI_API_KEY"));
    assert_eq!(
        (
            openai.timeout,
            openai.max_retries,
            openai.backoff,
            openai.max_backoff
        ),
        (
            Duration::from_secs(300),
            5,
            Duration::from_secs(1),
            Duration::from_secs(60)
        )
    );
    let anthropic = ClientConfig::anthropic("claude");
    assert_eq!(anthropic.base_url, "https://api.anthropic.com");
    assert_eq!(anthropic.api_key_env.as_deref(), Some("ANTHROPIC_API_KEY"));
    let local = ClientConfig::local("http://localhost:11434/v1", "llama3");
    assert_eq!(
        (local.provider, local.api_key_env),
        (Provider::OpenAi, None)
    );
    let chat = client(&ClientConfig::local("http://localhost:11434/v1/", "llama3"));
    let description = chat.expect("client").describe();
    assert_eq!(
        description,
        "openai-compatible llama3 at http://localhost:11434/v1"
    );
}
