//! The embedder's options (the config is Logto's; these are the host application's): the
//! shape JS passes, declared once, and its checked form.

use std::time::Duration;

use crate::error::ConnectorFailure;
#[cfg(test)]
use crate::error::{env_var, ErrorKind};

/// Long enough for Twilio on a slow day, short enough that a sign-in page does not hang.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Half of Twilio's common per-account limit of 100, leaving room for other clients of the
/// same account (a second Logto instance, a back-office tool). The ceiling of the adaptive
/// limit: a process never has more in flight, and fewer while Twilio answers 429.
pub const DEFAULT_MAX_CONCURRENCY: usize = 50;
/// Retries of attempts that were never written (connection failures); 429s are bounded by
/// the deadline instead.
pub const DEFAULT_MAX_RETRIES: u32 = 3;
const MAX_TIMEOUT_MS: f64 = 600_000.0;
/// The send counters' budget on Redis: a round trip on a local network takes well under a
/// millisecond, so a Redis slower than this is treated as down (`smsPumping.onStoreError`).
pub const DEFAULT_REDIS_TIMEOUT: Duration = Duration::from_millis(25);
/// The longest host name DNS resolves (RFC 1035 limits a name to 255 octets on the wire).
const MAX_HOST_LEN: usize = 253;

// Declared once: the bindings read the JS object into this, index.d.ts types it from this,
// and `SendOptions::new` checks it.
/// The embedder's options (Logto's config is separate): where requests go, time limits and
/// concurrency. Every field is optional.
#[cfg_attr(
    all(feature = "node", not(test)),
    napi_derive::napi(object, js_name = "ConnectorOptions")
)]
#[derive(Debug, Clone, Default)]
pub struct ConnectorOptions {
    /// `scheme://host[:port]` used instead of `https://<host>` (Twilio-compatible test servers).
    pub base_url: Option<String>,
    /// Total time for one send: waiting for a slot, every attempt and backoff. Default 10000,
    /// range 1..=600000.
    pub timeout_ms: Option<f64>,
    /// Time to open a connection (TCP and TLS). Default 5000, range 1..=600000.
    pub connect_timeout_ms: Option<f64>,
    /// Ceiling of requests in flight per Twilio credential (the limit adapts below it on 429s); the rest wait in order. Default 50, range 1..=1000.
    pub max_concurrency: Option<f64>,
    /// Retries of a connection that failed before sending (a 429 is retried until the deadline). Default 3, range 0..=10.
    pub max_retries: Option<f64>,
    /// `redis://` or `rediss://` URL of the Redis (or Valkey) that holds `smsPumping`'s counters for every replica; without it, counts are per process.
    pub redis_url: Option<String>,
    /// How long a send waits for those counters before `smsPumping.onStoreError` applies. Default 25, range 1..=10000.
    pub redis_timeout_ms: Option<f64>,
}

/// A Redis URL: the URL itself, a credential, and the form logs and errors show.
#[derive(Debug, Clone, PartialEq)]
pub struct RedisUrl {
    pub url: crate::secret::Secret,
    /// Without user name and password.
    pub shown: String,
}

/// [`ConnectorOptions`] checked, with the defaults filled in.
#[derive(Debug, Clone, PartialEq)]
pub struct SendOptions {
    /// The origin replacing `https://<host>`.
    pub base_url: Option<String>,
    /// The whole call: queueing, every attempt and every backoff.
    pub timeout: Duration,
    pub connect_timeout: Duration,
    /// The ceiling of requests in flight per Twilio credential.
    pub max_concurrency: usize,
    /// Retries of attempts that were never written.
    pub max_retries: u32,
    /// Where `smsPumping`'s counters live; `None`: in this process.
    pub redis: Option<RedisUrl>,
    pub redis_timeout: Duration,
}

impl Default for SendOptions {
    fn default() -> Self {
        SendOptions {
            base_url: None,
            timeout: DEFAULT_TIMEOUT,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            max_concurrency: DEFAULT_MAX_CONCURRENCY,
            max_retries: DEFAULT_MAX_RETRIES,
            redis: None,
            redis_timeout: DEFAULT_REDIS_TIMEOUT,
        }
    }
}

impl SendOptions {
    pub fn new(raw: ConnectorOptions) -> Result<Self, ConnectorFailure> {
        let defaults = SendOptions::default();
        let millis = |name, value: Option<f64>, default: Duration| {
            ranged(name, "a number of milliseconds", value, 1.0, MAX_TIMEOUT_MS)
                .map(|ms| ms.map_or(default, |ms| Duration::from_millis(ms as u64)))
        };
        Ok(SendOptions {
            base_url: raw
                .base_url
                .map(|url| validate_base_url(&url))
                .transpose()?,
            timeout: millis("timeoutMs", raw.timeout_ms, defaults.timeout)?,
            connect_timeout: millis(
                "connectTimeoutMs",
                raw.connect_timeout_ms,
                defaults.connect_timeout,
            )?,
            max_concurrency: ranged(
                "maxConcurrency",
                "an integer",
                raw.max_concurrency,
                1.0,
                1000.0,
            )?
            .map_or(defaults.max_concurrency, |n| n as usize),
            max_retries: ranged("maxRetries", "an integer", raw.max_retries, 0.0, 10.0)?
                .map_or(defaults.max_retries, |n| n as u32),
            redis: raw
                .redis_url
                .map(|url| validate_redis_url(&url))
                .transpose()?,
            redis_timeout: ranged(
                "redisTimeoutMs",
                "a number of milliseconds",
                raw.redis_timeout_ms,
                1.0,
                10_000.0,
            )?
            .map_or(defaults.redis_timeout, |ms| {
                Duration::from_millis(ms as u64)
            }),
        })
    }
}

/// Checks an optional numeric option; integers only, since a fractional count or millisecond
/// would be silently rounded.
fn ranged(
    name: &str,
    what: &str,
    value: Option<f64>,
    min: f64,
    max: f64,
) -> Result<Option<f64>, ConnectorFailure> {
    match value {
        None => Ok(None),
        Some(v) if v.fract() == 0.0 && (min..=max).contains(&v) => Ok(Some(v)),
        Some(_) => Err(ConnectorFailure::option_out_of_range(name, what, min, max)),
    }
}

fn validate_base_url(text: &str) -> Result<String, ConnectorFailure> {
    let invalid = ConnectorFailure::base_url_not_an_origin;
    let url = reqwest::Url::parse(text).map_err(|_| invalid())?;
    let plain = matches!(url.scheme(), "http" | "https")
        && url.host_str().is_some()
        && url.username().is_empty()
        && url.password().is_none()
        && url.path() == "/"
        && url.query().is_none()
        && url.fragment().is_none();
    if !plain {
        return Err(invalid());
    }
    // The URL parser takes a host name of any length; DNS resolves none longer than 253
    // characters, and a longer one would make every request URL too long for the HTTP client.
    let host_len = url.host_str().map_or(0, str::len);
    if host_len > MAX_HOST_LEN {
        return Err(ConnectorFailure::base_url_host_too_long(
            host_len,
            MAX_HOST_LEN,
        ));
    }
    Ok(url.origin().ascii_serialization())
}

/// A URL redis-rs accepts, of the two schemes for a server on the network.
fn validate_redis_url(text: &str) -> Result<RedisUrl, ConnectorFailure> {
    let url = reqwest::Url::parse(text)
        .map_err(|err| ConnectorFailure::redis_url_invalid(&err.to_string()))?;
    if !matches!(url.scheme(), "redis" | "rediss") {
        return Err(ConnectorFailure::redis_url_invalid(&format!(
            "the scheme is {}",
            crate::error::excerpt(url.scheme())
        )));
    }
    redis::IntoConnectionInfo::into_connection_info(text)
        .map_err(|err| ConnectorFailure::redis_url_invalid(&err.to_string()))?;
    let mut shown = url.clone();
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    Ok(RedisUrl {
        url: crate::secret::Secret::new(text),
        shown: shown.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_option_names_the_logto_modules_variable() {
        let names = [
            ("baseUrl", "TWILIO_SMS_NATIVE_BASE_URL"),
            ("timeoutMs", "TWILIO_SMS_NATIVE_TIMEOUT_MS"),
            ("connectTimeoutMs", "TWILIO_SMS_NATIVE_CONNECT_TIMEOUT_MS"),
            ("maxConcurrency", "TWILIO_SMS_NATIVE_MAX_CONCURRENCY"),
            ("maxRetries", "TWILIO_SMS_NATIVE_MAX_RETRIES"),
            ("redisUrl", "TWILIO_SMS_NATIVE_REDIS_URL"),
            ("redisTimeoutMs", "TWILIO_SMS_NATIVE_REDIS_TIMEOUT_MS"),
        ];
        for (option, variable) in names {
            assert_eq!(env_var(option), variable);
        }
    }

    #[test]
    fn base_url_and_timeout_are_checked() {
        for bad in [
            "ftp://x",
            "http://u:p@x",
            "http://x/path",
            "http://x?q",
            "nope",
            "http://x#f",
        ] {
            let raw = ConnectorOptions {
                base_url: Some(bad.into()),
                ..ConnectorOptions::default()
            };
            assert!(SendOptions::new(raw).is_err(), "{bad}");
        }
        let long_host = |len: usize| {
            SendOptions::new(ConnectorOptions {
                base_url: Some(format!("http://{}:8443", "a".repeat(len))),
                ..ConnectorOptions::default()
            })
        };
        assert!(long_host(MAX_HOST_LEN).is_ok());
        let err = long_host(120_000).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidOptions);
        assert_eq!(
            err.message(),
            "options.baseUrl (TWILIO_SMS_NATIVE_BASE_URL for the Logto module) has a host name \
             120000 characters long; a host name has at most 253"
        );
        for bad in [0.0, -1.0, 1.5, f64::NAN, f64::INFINITY, 1e9] {
            for raw in [
                ConnectorOptions {
                    timeout_ms: Some(bad),
                    ..ConnectorOptions::default()
                },
                ConnectorOptions {
                    connect_timeout_ms: Some(bad),
                    ..ConnectorOptions::default()
                },
                ConnectorOptions {
                    max_concurrency: Some(bad),
                    ..ConnectorOptions::default()
                },
            ] {
                assert!(SendOptions::new(raw).is_err(), "{bad}");
            }
        }
        for bad in [-1.0, 0.5, 11.0] {
            let raw = ConnectorOptions {
                max_retries: Some(bad),
                ..ConnectorOptions::default()
            };
            assert!(SendOptions::new(raw).is_err(), "{bad}");
        }
        let options = SendOptions::new(ConnectorOptions {
            max_retries: Some(0.0),
            max_concurrency: Some(1000.0),
            ..ConnectorOptions::default()
        })
        .unwrap();
        assert_eq!((options.max_retries, options.max_concurrency), (0, 1000));
        assert_eq!(
            SendOptions::new(ConnectorOptions {
                base_url: Some("HTTPS://LOCALHOST:8443".into()),
                ..ConnectorOptions::default()
            })
            .unwrap()
            .base_url
            .as_deref(),
            Some("https://localhost:8443")
        );
    }
}
