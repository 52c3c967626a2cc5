//! The HTTP plumbing both backends share: the key, one JSON POST with retries, backoff and
//! `Retry-After`, and the mapping of HTTP failures to [`ChatError`].

use super::ClientConfig;
use super::error::{ChatError, UNREACHABLE_RETRIES, excerpt, server_message};
use reqwest::blocking::{Client, RequestBuilder};
use reqwest::header::{CONTENT_TYPE, HeaderValue, RETRY_AFTER};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::fmt;
use std::sync::Once;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// An API key; `Debug` never shows it.
#[derive(Clone)]
pub(crate) struct ApiKey(String);

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey([redacted])")
    }
}

/// How a backend presents its key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Auth {
    /// `Authorization: Bearer KEY` (OpenAI-compatible).
    Bearer,
    /// `x-api-key: KEY` (Anthropic).
    XApiKey,
}

/// When to try again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RetryPolicy {
    /// Repeats after the first request.
    pub max_retries: u32,
    /// Wait before the first repeat.
    pub backoff: Duration,
    /// Cap of every wait.
    pub max_backoff: Duration,
}

impl RetryPolicy {
    /// The wait before repeat number `retry` (0 for the first): what the server asked for, or
    /// `backoff * 2^retry`, capped at `max_backoff` either way.
    pub fn delay(&self, retry: u32, retry_after: Option<Duration>) -> Duration {
        let wait = retry_after.unwrap_or_else(|| {
            let factor = 1u32.checked_shl(retry).unwrap_or(u32::MAX);
            self.backoff.checked_mul(factor).unwrap_or(Duration::MAX)
        });
        wait.min(self.max_backoff)
    }
}

/// A JSON-over-HTTP connection to one API.
#[derive(Debug)]
pub(crate) struct Http {
    client: Client,
    key: Option<ApiKey>,
    auth: Auth,
    policy: RetryPolicy,
    timeout: Duration,
}

/// What one request came to.
enum Outcome<T> {
    /// A parsed reply.
    Done(T),
    /// A transient failure; `retry_after` is what the server asked to wait.
    Retry {
        error: ChatError,
        retry_after: Option<Duration>,
    },
    /// A failure that repeating will not cure.
    Fail(ChatError),
}

/// Installs rustls' ring provider once; without it building a client panics.
fn install_crypto_provider() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        // An error means some provider is installed already, which is as good.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

impl Http {
    /// Reads the key named by the configuration and builds the HTTP client.
    pub fn new(config: &ClientConfig, auth: Auth) -> Result<Self, ChatError> {
        let key = match &config.api_key_env {
            None => None,
            Some(var) => match std::env::var(var) {
                Ok(key) if !key.trim().is_empty() => Some(ApiKey(key.trim().to_string())),
                _ => return Err(ChatError::MissingKey { var: var.clone() }),
            },
        };
        install_crypto_provider();
        let client = Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.connect_timeout)
            .user_agent(concat!("ansatz/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ChatError::Transport {
                attempts: 0,
                message: format!("building the HTTP client: {}", error_chain(&e)),
            })?;
        Ok(Http {
            client,
            key,
            auth,
            policy: RetryPolicy {
                max_retries: config.max_retries,
                backoff: config.backoff,
                max_backoff: config.max_backoff,
            },
            timeout: config.timeout,
        })
    }

    /// POSTs `body` as JSON to `url` with the extra `headers`, retrying transient failures,
    /// and parses a success reply as `T`. Returns the reply and the requests made.
    pub fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        url: &str,
        model: &str,
        headers: &[(&'static str, &str)],
        body: &B,
    ) -> Result<(T, u32), ChatError> {
        let bytes = serde_json::to_vec(body).map_err(|e| ChatError::InvalidRequest {
            message: format!("encoding the request: {e}"),
        })?;
        let mut attempts = 0;
        loop {
            attempts += 1;
            match self.attempt(url, model, headers, &bytes, attempts) {
                Outcome::Done(reply) => return Ok((reply, attempts)),
                Outcome::Fail(error) => return Err(error),
                Outcome::Retry { error, .. } if attempts > self.policy.max_retries => {
                    return Err(error);
                }
                Outcome::Retry { retry_after, .. } => {
                    std::thread::sleep(self.policy.delay(attempts - 1, retry_after));
                }
            }
        }
    }

    /// One request; `attempts` counts it.
    fn attempt<T: DeserializeOwned>(
        &self,
        url: &str,
        model: &str,
        headers: &[(&'static str, &str)],
        body: &[u8],
        attempts: u32,
    ) -> Outcome<T> {
        let mut request = self
            .client
            .post(url)
            .header(CONTENT_TYPE, "application/json")
            .body(body.to_vec());
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = match self.authorize(request).send() {
            Ok(response) => response,
            Err(e) => return self.transport_failure(&e, attempts),
        };
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|value| parse_retry_after(value, SystemTime::now()));
        let text = match response.text() {
            Ok(text) => text,
            Err(e) => return self.transport_failure(&e, attempts),
        };
        if (200..300).contains(&status) {
            return match serde_json::from_str(&text) {
                Ok(reply) => Outcome::Done(reply),
                Err(e) => Outcome::Fail(ChatError::BadResponse {
                    message: self.redact(&format!(
                        "reply is not the expected JSON ({e}): {}",
                        excerpt(&text)
                    )),
                }),
            };
        }
        let message = self.redact(&server_message(&text));
        match status {
            401 | 403 => Outcome::Fail(ChatError::Unauthorized { status, message }),
            404 => Outcome::Fail(ChatError::NotFound {
                url: url.to_string(),
                model: model.to_string(),
                message,
            }),
            429 => Outcome::Retry {
                error: ChatError::RateLimited { attempts, message },
                retry_after,
            },
            501 | 505 => Outcome::Fail(ChatError::Server {
                status,
                attempts,
                message,
            }),
            500.. => Outcome::Retry {
                error: ChatError::Server {
                    status,
                    attempts,
                    message,
                },
                retry_after,
            },
            400..500 => Outcome::Fail(ChatError::BadRequest { status, message }),
            _ => Outcome::Fail(ChatError::BadResponse {
                message: format!("unexpected HTTP status {status}: {message}"),
            }),
        }
    }

    /// Adds the key, if any, the way the backend wants it.
    fn authorize(&self, request: RequestBuilder) -> RequestBuilder {
        match (&self.key, self.auth) {
            (None, _) => request,
            (Some(key), Auth::Bearer) => request.bearer_auth(&key.0),
            (Some(key), Auth::XApiKey) => match HeaderValue::from_str(&key.0) {
                Ok(mut value) => {
                    value.set_sensitive(true);
                    request.header("x-api-key", value)
                }
                // Not a valid header value: send nothing, the server answers 401.
                Err(_) => request,
            },
        }
    }

    /// Timeouts and broken connections are retried; anything else the HTTP client reports
    /// (a malformed URL, a redirect loop) is not.
    fn transport_failure<T>(&self, error: &reqwest::Error, attempts: u32) -> Outcome<T> {
        let retry = |error| Outcome::Retry {
            error,
            retry_after: None,
        };
        if error.is_timeout() {
            return retry(ChatError::Timeout {
                attempts,
                seconds: self.timeout.as_secs_f64(),
            });
        }
        let message = excerpt(&self.redact(&error_chain(error)));
        if error.is_connect() {
            let unreachable = ChatError::Unreachable { attempts, message };
            return if attempts > UNREACHABLE_RETRIES {
                Outcome::Fail(unreachable)
            } else {
                retry(unreachable)
            };
        }
        let failure = ChatError::Transport { attempts, message };
        if error.is_request() || error.is_body() {
            retry(failure)
        } else {
            Outcome::Fail(failure)
        }
    }

    /// `text` with every occurrence of the key replaced by `[redacted]`.
    pub fn redact(&self, text: &str) -> String {
        match &self.key {
            Some(key) if !key.0.is_empty() => text.replace(&key.0, "[redacted]"),
            _ => text.to_string(),
        }
    }
}

/// An error and its sources, joined with `: `.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let line = cause.to_string();
        if !text.contains(&line) {
            text.push_str(": ");
            text.push_str(&line);
        }
        source = cause.source();
    }
    text
}

/// The wait a `Retry-After` header asks for: whole seconds, or an HTTP date (IMF-fixdate,
/// `Sun, 06 Nov 1994 08:49:37 GMT`) counted from `now` (a date in the past means no wait).
pub(crate) fn parse_retry_after(value: &HeaderValue, now: SystemTime) -> Option<Duration> {
    let text = value.to_str().ok()?.trim();
    if let Ok(seconds) = text.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let when = UNIX_EPOCH + Duration::from_secs(parse_http_date(text)?);
    Some(when.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Seconds since 1970 of an IMF-fixdate such as `Sun, 06 Nov 1994 08:49:37 GMT`.
fn parse_http_date(text: &str) -> Option<u64> {
    let parts: Vec<&str> = text.split_whitespace().collect();
    let [_weekday, day, month, year, time, "GMT"] = parts.as_slice() else {
        return None;
    };
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = MONTHS.iter().position(|m| m == month)? as u64 + 1;
    let day: u64 = day.parse().ok().filter(|d| (1..=31).contains(d))?;
    let year: u64 = year.parse().ok().filter(|y| *y >= 1970)?;
    let clock: Vec<u64> = time
        .split(':')
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    let [hour, minute, second] = clock.as_slice() else {
        return None;
    };
    if *hour > 23 || *minute > 59 || *second > 60 {
        return None;
    }
    // Days from 1970-01-01 to the date (Howard Hinnant's days_from_civil, years >= 1970).
    let (y, m) = if month <= 2 {
        (year - 1, month + 9)
    } else {
        (year, month - 3)
    };
    let era = y / 400;
    let yoe = y - era * 400;
    let doy = (153 * m + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = (era * 146_097 + doe).checked_sub(719_468)?;
    Some(days * 86_400 + hour * 3600 + minute * 60 + second)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        let policy = RetryPolicy {
            max_retries: 5,
            backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(60),
        };
        let waits: Vec<u64> = (0..8).map(|k| policy.delay(k, None).as_secs()).collect();
        assert_eq!(waits, [1, 2, 4, 8, 16, 32, 60, 60]);
        assert_eq!(policy.delay(100, None), Duration::from_secs(60));
        let asked = Some(Duration::from_secs(7));
        assert_eq!(policy.delay(3, asked), Duration::from_secs(7));
        let too_long = Some(Duration::from_secs(3600));
        assert_eq!(policy.delay(0, too_long), Duration::from_secs(60));
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let now = UNIX_EPOCH + Duration::from_secs(784_111_777); // Sun, 06 Nov 1994 08:49:37 GMT
        let header = |s: &'static str| HeaderValue::from_static(s);
        assert_eq!(
            parse_retry_after(&header("120"), now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            parse_retry_after(&header("Sun, 06 Nov 1994 08:50:07 GMT"), now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            parse_retry_after(&header("Sat, 05 Nov 1994 08:49:37 GMT"), now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after(&header("soon"), now), None);
        assert_eq!(parse_retry_after(&header("-1"), now), None);
        assert_eq!(parse_http_date("Thu, 01 Jan 1970 00:00:00 GMT"), Some(0));
        assert_eq!(
            parse_http_date("Tue, 29 Feb 2000 12:00:00 GMT"),
            Some(951_825_600)
        );
        assert_eq!(parse_http_date("Tue, 29 Foo 2000 12:00:00 GMT"), None);
    }

    #[test]
    fn the_key_is_redacted_in_debug() {
        let key = ApiKey("sk-secret-123".to_string());
        assert!(!format!("{key:?}").contains("sk-secret"));
    }
}
