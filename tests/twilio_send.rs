//! The core's send path against a real local HTTP server, no Node involved.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use connector_twilio_sms_native::{
    build_client, fixture, prepare, send, Config, ConnectorErrorCode, ConnectorOptions, ErrorKind,
    SendOptions, UsageType, Waiting,
};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const TOKEN: &str = "core-test-auth-token";

/// The fixture with this file's token.
fn config() -> Config {
    fixture::config(json!({ "authToken": TOKEN }))
}

/// Serves one connection: reads a full request, answers with `response` (or nothing).
async fn serve_once(response: Option<String>) -> (String, tokio::task::JoinHandle<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let handle = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut request = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            let n = socket.read(&mut buf).await.unwrap();
            request.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&request);
            if let Some((head, body)) = text.split_once("\r\n\r\n") {
                let length = head
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase()
                            .strip_prefix("content-length: ")
                            .map(|v| v.trim().parse::<usize>().unwrap())
                    })
                    .unwrap_or(0);
                if body.len() >= length {
                    break;
                }
            }
            if n == 0 {
                break;
            }
        }
        match response {
            Some(response) => socket.write_all(response.as_bytes()).await.unwrap(),
            None => tokio::time::sleep(Duration::from_secs(5)).await,
        }
        String::from_utf8(request).unwrap()
    });
    (url, handle)
}

/// A SignIn code to +1, with an empty payload.
fn sign_in(options: &SendOptions) -> connector_twilio_sms_native::Outgoing {
    prepare(
        &config(),
        options,
        "1",
        UsageType::string("SignIn"),
        &json!({}),
    )
    .unwrap()
}

fn options(base_url: String) -> SendOptions {
    SendOptions::new(ConnectorOptions {
        base_url: Some(base_url),
        ..ConnectorOptions::default()
    })
    .unwrap()
}

fn http(status: &str, extra: &str, body: &str) -> String {
    format!("HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n{extra}\r\n{body}", body.len())
}

async fn run(
    response: Option<String>,
    timeout: Duration,
) -> (
    Result<serde_json::Value, connector_twilio_sms_native::ConnectorFailure>,
    Option<String>,
) {
    let (url, server) = serve_once(response).await;
    // One answer per server: a retry would find nobody listening.
    let options = SendOptions {
        timeout,
        max_retries: 0,
        ..options(url)
    };
    let request = prepare(
        &config(),
        &options,
        "15550001",
        UsageType::string("SignIn"),
        &json!({ "code": "987" }),
    )
    .unwrap();
    let client = build_client(options.connect_timeout).unwrap();
    let result = send(&client, request, &options, tokio::time::Instant::now())
        .await
        .map(|delivered| delivered.message());
    let received = if result.is_ok() || !server.is_finished() {
        tokio::time::timeout(Duration::from_millis(200), server)
            .await
            .ok()
            .map(|r| r.unwrap())
    } else {
        None
    };
    (result, received)
}

#[tokio::test]
async fn sends_the_exact_request_and_parses_the_message() {
    let (result, received) = run(
        Some(http(
            "201 Created",
            "",
            r#"{"sid":"SM1","status":"queued"}"#,
        )),
        Duration::from_secs(5),
    )
    .await;
    assert_eq!(result.unwrap()["sid"], "SM1");
    let received = received.unwrap();
    assert!(
        received.starts_with("POST /2010-04-01/Accounts/AC0123/Messages.json HTTP/1.1\r\n"),
        "{received}"
    );
    assert!(
        received.contains("authorization: Basic QUMwMTIzOmNvcmUtdGVzdC1hdXRoLXRva2Vu\r\n"),
        "{received}"
    );
    assert!(received.contains("content-type: application/x-www-form-urlencoded\r\n"));
    assert!(received.ends_with(
        "\r\n\r\nTo=%2B15550001&MessagingServiceSid=MG99&Body=Your+code%3A+987+%26+more&RiskCheck=enable"
    ));
}

#[tokio::test]
async fn maps_429_and_errors_and_never_leaks_the_token() {
    // A Retry-After past the deadline: no room to retry, so the 429 itself is the answer.
    let (result, _) = run(
        Some(http(
            "429 Too Many Requests",
            "retry-after: 60\r\n",
            r#"{"code":20429}"#,
        )),
        Duration::from_secs(5),
    )
    .await;
    assert_eq!(
        result.unwrap_err().code(),
        ConnectorErrorCode::RateLimitExceeded
    );
    let echo = format!(r#"{{"echo":"{TOKEN}"}}"#);
    let (result, _) = run(
        Some(http("400 Bad Request", "", &echo)),
        Duration::from_secs(5),
    )
    .await;
    let failure = result.unwrap_err();
    assert_eq!(failure.kind(), ErrorKind::TwilioStatus(400));
    assert_eq!(failure.code(), ConnectorErrorCode::General);
    assert!(!format!("{failure} {:?}", failure.data()).contains(TOKEN));
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let (result, _) = run(
        Some(http(
            "302 Found",
            "location: http://127.0.0.1:9/elsewhere\r\n",
            "",
        )),
        Duration::from_secs(5),
    )
    .await;
    let failure = result.unwrap_err();
    assert_eq!(failure.kind(), ErrorKind::Redirect);
    assert_eq!(failure.code(), ConnectorErrorCode::General);
}

#[tokio::test]
async fn a_silent_server_times_out() {
    let started = std::time::Instant::now();
    let (result, _) = run(None, Duration::from_millis(200)).await;
    let failure = result.unwrap_err();
    assert_eq!(failure.kind(), ErrorKind::Timeout(Waiting::Answer));
    assert_eq!(failure.code(), ConnectorErrorCode::General);
    assert!(
        failure.message().contains("timed out after 200 ms"),
        "{}",
        failure.message()
    );
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn a_refused_connection_is_retried_then_named() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let options = SendOptions {
        max_retries: 2,
        ..options(url)
    };
    let request = sign_in(&options);
    let started = std::time::Instant::now();
    let failure = send(
        &build_client(options.connect_timeout).unwrap(),
        request,
        &options,
        tokio::time::Instant::now(),
    )
    .await
    .unwrap_err();
    assert_eq!(failure.kind(), ErrorKind::Transport);
    assert_eq!(failure.code(), ConnectorErrorCode::General);
    assert!(
        failure.message().contains("could not connect"),
        "{}",
        failure.message()
    );
    // Two backoffs of at least 100 ms and 200 ms happened: the refusals were retried.
    assert!(started.elapsed() >= Duration::from_millis(300));
}

/// Answers 429 to the first `busy` requests (one per connection), then 201.
#[tokio::test]
async fn a_429_is_retried_until_twilio_accepts() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(async move {
        let mut seen = 0;
        loop {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut buf = vec![0u8; 8192];
            let n = socket.read(&mut buf).await.unwrap();
            assert!(n > 0);
            seen += 1;
            let answer = if seen <= 2 {
                http(
                    "429 Too Many Requests",
                    "retry-after: 0\r\nconnection: close\r\n",
                    r#"{"code":20429}"#,
                )
            } else {
                http("201 Created", "connection: close\r\n", r#"{"sid":"SM9"}"#)
            };
            socket.write_all(answer.as_bytes()).await.unwrap();
            if seen == 3 {
                return seen;
            }
        }
    });
    let options = options(url);
    let request = sign_in(&options);
    let client = build_client(options.connect_timeout).unwrap();
    let message = send(&client, request, &options, tokio::time::Instant::now())
        .await
        .unwrap()
        .message();
    assert_eq!(message["sid"], "SM9");
    assert_eq!(server.await.unwrap(), 3);
}

/// Answers every request with 429 and `retry_after`, one connection after another, counting.
async fn always_429(retry_after: &'static str) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(AtomicUsize::new(0));
    let counter = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let counter = counter.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 8192];
                if socket.read(&mut buf).await.unwrap_or(0) == 0 {
                    return;
                }
                counter.fetch_add(1, Ordering::SeqCst);
                let extra = format!("retry-after: {retry_after}\r\nconnection: close\r\n");
                let answer = http("429 Too Many Requests", &extra, r#"{"code":20429}"#);
                let _ = socket.write_all(answer.as_bytes()).await;
            });
        }
    });
    (url, seen)
}

/// A 429 is retried until the deadline leaves no room, not `max_retries` times.
#[tokio::test]
async fn a_persistent_429_is_retried_until_the_deadline() {
    let (url, seen) = always_429("0").await;
    let options = SendOptions {
        timeout: Duration::from_millis(1500),
        max_retries: 0,
        ..options(url)
    };
    let request = sign_in(&options);
    let client = build_client(options.connect_timeout).unwrap();
    let failure = send(&client, request, &options, tokio::time::Instant::now())
        .await
        .unwrap_err();
    assert_eq!(failure.kind(), ErrorKind::TwilioStatus(429));
    assert_eq!(failure.code(), ConnectorErrorCode::RateLimitExceeded);
    assert_eq!(failure.data(), &json!(r#"{"code":20429}"#));
    // Backoffs of at most 200, 400 and 800 ms fit in 1.5 s: three retries at least.
    assert!(seen.load(Ordering::SeqCst) >= 4, "{seen:?} requests");
}

/// A `Retry-After` no clock can add (it overflowed `Instant + Duration` once, a panic) or
/// beyond the deadline ends the send at once with the 429. One that cannot be read is ignored:
/// the send backs off as usual and ends with the 429, or with the deadline's timeout when a
/// retry is in flight then.
#[tokio::test]
async fn a_hostile_retry_after_is_a_clean_429() {
    for (value, readable) in [
        ("18446744073709551615", true),
        ("1e19", false),
        ("Fri, 31 Dec 9999 23:59:59 GMT", true),
        ("Sat, 01 Jan 99999 00:00:00 GMT", false),
    ] {
        let (url, seen) = always_429(value).await;
        let options = SendOptions {
            timeout: Duration::from_millis(800),
            ..options(url)
        };
        let request = sign_in(&options);
        let client = build_client(options.connect_timeout).unwrap();
        let failure = send(&client, request, &options, tokio::time::Instant::now())
            .await
            .unwrap_err();
        let timed_out = matches!(failure.kind(), ErrorKind::Timeout(_));
        if readable || !timed_out {
            assert_eq!(failure.kind(), ErrorKind::TwilioStatus(429), "{value}");
            assert_eq!(
                failure.code(),
                ConnectorErrorCode::RateLimitExceeded,
                "{value}"
            );
        }
        assert!(seen.load(Ordering::SeqCst) >= 1, "{value}");
    }
}
