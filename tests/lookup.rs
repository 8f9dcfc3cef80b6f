//! Twilio Lookup's SMS pumping risk against a real local HTTP server, no Node involved: the
//! request on the wire, every answer shape, faults, and the cache.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use connector_twilio_sms_native::{
    build_client, cached_sms_pumping_risk, fixture, sms_pumping_risk, Config, ConnectorErrorCode,
    ConnectorFailure, ErrorKind, LookupRequest, PumpingRisk, Reason, RiskCache, SendOptions,
    Waiting,
};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::time::Instant;

const TOKEN: &str = "lookup-test-auth-token";
const NUMBER: &str = "+447700900123";

fn config() -> Config {
    fixture::config(json!({ "authToken": TOKEN }))
}

/// What the server answers a request with: the whole HTTP response, or `None` for silence.
type Answer = Box<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// A local server answering each request (one per connection) by `answer`, recording them.
struct Server {
    url: String,
    requests: Arc<Mutex<Vec<String>>>,
}

impl Server {
    async fn start(answer: Answer) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(Mutex::new(Vec::new()));
        let recorded = requests.clone();
        let answer = Arc::new(answer);
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let recorded = recorded.clone();
                let answer = answer.clone();
                tokio::spawn(async move {
                    let mut request = Vec::new();
                    let mut buf = [0u8; 4096];
                    // A GET has no body: the head ends the request.
                    while !request.ends_with(b"\r\n\r\n") {
                        match socket.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => request.extend_from_slice(&buf[..n]),
                        }
                    }
                    let request = String::from_utf8(request).unwrap();
                    recorded.lock().unwrap().push(request.clone());
                    match answer(&request) {
                        Some(response) => {
                            let _ = socket.write_all(response.as_bytes()).await;
                        }
                        None => tokio::time::sleep(Duration::from_secs(30)).await,
                    }
                });
            }
        });
        Server { url, requests }
    }

    /// A server giving every request the same answer.
    async fn answering(response: String) -> Server {
        Server::start(Box::new(move |_| Some(response.clone()))).await
    }

    fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

fn http(status: &str, body: &str) -> String {
    format!(
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\nconnection: close\r\n\
         content-length: {}\r\n\r\n{body}",
        body.len()
    )
}

/// Twilio's phone number resource for `number` with `risk` as `sms_pumping_risk`, every other
/// package null (the shape of the OpenAPI description's `fetchSmsPumpingRisk` example).
fn resource(number: &str, risk: Value) -> String {
    json!({
        "calling_country_code": "44",
        "country_code": "GB",
        "phone_number": number,
        "national_format": "07700 900123",
        "valid": true,
        "validation_errors": [],
        "caller_name": null,
        "sim_swap": null,
        "call_forwarding": null,
        "line_status": null,
        "line_type_intelligence": null,
        "identity_match": null,
        "reassigned_number": null,
        "sms_pumping_risk": risk,
        "phone_number_quality_score": null,
        "pre_fill": null,
        "url": format!("https://lookups.twilio.com/v2/PhoneNumbers/{number}"),
    })
    .to_string()
}

fn risk(score: u8, blocked: bool) -> Value {
    json!({
        "carrier_risk_category": if score > 75 { "high" } else { "low" },
        "number_blocked": blocked,
        "number_blocked_date": if blocked { json!("2024-03-01T17:20:05Z") } else { Value::Null },
        "number_blocked_last_3_months": blocked,
        "sms_pumping_risk_score": score,
        "error_code": null,
    })
}

fn twilio_error(status: u16, code: u32, message: &str) -> String {
    json!({
        "code": code,
        "message": message,
        "more_info": format!("https://www.twilio.com/docs/errors/{code}"),
        "status": status,
    })
    .to_string()
}

fn options(base_url: &str) -> SendOptions {
    SendOptions {
        base_url: Some(base_url.to_owned()),
        ..SendOptions::default()
    }
}

async fn ask(server: &Server, within: Duration) -> Result<PumpingRisk, ConnectorFailure> {
    let options = options(&server.url);
    let request = LookupRequest::new(&config(), &options, NUMBER).unwrap();
    let client = build_client(options.connect_timeout).unwrap();
    sms_pumping_risk(&client, &request, Instant::now() + within).await
}

/// The failure shows no form of the token: as is, in the Basic credential, percent-encoded.
fn assert_no_credential(failure: &ConnectorFailure) {
    let text = format!("{failure} {:?}", failure.data());
    for form in [
        TOKEN,
        "QUMwMTIzOmxvb2t1cC10ZXN0LWF1dGgtdG9rZW4",
        "lookup%2Dtest",
    ] {
        assert!(!text.contains(form), "{form} in {text}");
    }
}

#[tokio::test]
async fn sends_the_exact_request_and_reads_the_risk() {
    let server = Server::answering(http("200 OK", &resource(NUMBER, risk(61, false)))).await;
    let risk = ask(&server, Duration::from_secs(5)).await.unwrap();
    let info = risk.sms_pumping_risk.as_ref().unwrap();
    assert_eq!(info.sms_pumping_risk_score, Some(61));
    assert_eq!(info.number_blocked, Some(false));
    assert_eq!(info.carrier_risk_category.as_deref(), Some("low"));
    assert_eq!(risk.phone_number.as_deref(), Some(NUMBER));
    assert_eq!(
        risk.refuses(60, true),
        Some(Reason::ScoreAbove {
            score: 61,
            max_score: 60
        })
    );
    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert!(
        request
            .starts_with("GET /v2/PhoneNumbers/+447700900123?Fields=sms_pumping_risk HTTP/1.1\r\n"),
        "{request}"
    );
    assert!(
        request.contains("authorization: Basic QUMwMTIzOmxvb2t1cC10ZXN0LWF1dGgtdG9rZW4=\r\n"),
        "{request}"
    );
    assert!(
        request.contains("accept: application/json\r\n"),
        "{request}"
    );

    // With an API key, the key is the credential, as for Messages.
    let keyed =
        fixture::config(json!({ "apiKeySID": "SK77", "apiKeySecret": "lookup-key-secret" }));
    let options = options(&server.url);
    let request = LookupRequest::new(&keyed, &options, NUMBER).unwrap();
    let client = build_client(options.connect_timeout).unwrap();
    sms_pumping_risk(&client, &request, Instant::now() + Duration::from_secs(5))
        .await
        .unwrap();
    let basic = format!(
        "authorization: Basic {}\r\n",
        base64_of("SK77:lookup-key-secret")
    );
    let requests = server.requests();
    assert!(requests[1].contains(&basic), "{}", requests[1]);
}

/// A Basic credential's token.
fn base64_of(text: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(text)
}

#[tokio::test]
async fn reads_a_blocked_number_a_null_package_and_an_error_code() {
    let server = Server::answering(http("200 OK", &resource(NUMBER, risk(100, true)))).await;
    let blocked = ask(&server, Duration::from_secs(5)).await.unwrap();
    assert_eq!(
        blocked.refuses(100, true),
        Some(Reason::NumberBlocked {
            since: Some("2024-03-01T17:20:05Z".into())
        })
    );
    let server = Server::answering(http("200 OK", &resource(NUMBER, Value::Null))).await;
    let null = ask(&server, Duration::from_secs(5)).await.unwrap();
    assert!(null.unknown());
    assert_eq!(null.refuses(0, true), None);
    let failed = json!({
        "carrier_risk_category": null, "number_blocked": null, "number_blocked_date": null,
        "number_blocked_last_3_months": null, "sms_pumping_risk_score": null, "error_code": 60606,
    });
    let server = Server::answering(http("200 OK", &resource(NUMBER, failed))).await;
    let failed = ask(&server, Duration::from_secs(5)).await.unwrap();
    assert_eq!(
        failed.sms_pumping_risk.as_ref().unwrap().error_code,
        Some(60606)
    );
    assert!(failed.unknown());
    assert_eq!(failed.refuses(0, true), None);
}

#[tokio::test]
async fn error_answers_are_lookup_statuses_without_the_credential() {
    for (status, code, message) in [
        (401, 20003, "Authenticate"),
        (
            404,
            20404,
            "The requested resource /v2/PhoneNumbers/+447700900123 was not found",
        ),
        (429, 20429, "Too Many Requests"),
        (500, 20500, "Internal Server Error"),
    ] {
        // The server echoes the credential it got, as a hostile or broken proxy could.
        let answer: Answer = Box::new(move |request: &str| {
            let auth = request
                .lines()
                .find_map(|l| l.strip_prefix("authorization: "))
                .unwrap_or_default()
                .to_owned();
            let echoed = format!("{message} ({auth}; token {TOKEN})");
            Some(http(
                &format!("{status} Whatever"),
                &twilio_error(status, code, &echoed),
            ))
        });
        let server = Server::start(answer).await;
        let failure = ask(&server, Duration::from_secs(5)).await.unwrap_err();
        assert_eq!(failure.kind(), ErrorKind::LookupStatus(status));
        assert_eq!(failure.code(), ConnectorErrorCode::General);
        assert!(
            failure.message().contains(&format!(
                "answered HTTP {status} with Twilio error {code}: {message}"
            )),
            "{}",
            failure.message()
        );
        assert_no_credential(&failure);
        assert!(
            failure.message().contains("[redacted]"),
            "{}",
            failure.message()
        );
        assert_eq!(server.requests().len(), 1, "no retry");
    }
}

#[tokio::test]
async fn a_silent_server_times_out_at_the_deadline() {
    let server = Server::start(Box::new(|_| None)).await;
    let failure = ask(&server, Duration::from_millis(200)).await.unwrap_err();
    assert_eq!(failure.kind(), ErrorKind::Timeout(Waiting::Lookup));
    assert_eq!(failure.code(), ConnectorErrorCode::General);
    assert!(
        failure.message().starts_with(&format!(
            "Twilio Lookup request to {} timed out after",
            server.url
        )),
        "{}",
        failure.message()
    );
    // A deadline already past fails the same way, without waiting.
    let failure = ask(&server, Duration::ZERO).await.unwrap_err();
    assert_eq!(failure.kind(), ErrorKind::Timeout(Waiting::Lookup));
}

#[tokio::test]
async fn a_2xx_that_is_not_lookups_answer_is_refused_without_quoting_it() {
    for body in [
        format!("<html>Sign in to the Wi-Fi {TOKEN}</html>"),
        String::new(),
        format!(r#"{{"sid":"SM1","echo":"{TOKEN}"}}"#),
        resource(
            NUMBER,
            json!({ "sms_pumping_risk_score": 101, "number_blocked": false }),
        ),
    ] {
        let server = Server::answering(http("200 OK", &body)).await;
        let failure = ask(&server, Duration::from_secs(5)).await.unwrap_err();
        assert_eq!(failure.kind(), ErrorKind::LookupAnswer, "{body}");
        assert_eq!(failure.code(), ConnectorErrorCode::General);
        assert_no_credential(&failure);
    }
}

#[tokio::test]
async fn redirects_large_answers_and_refused_connections() {
    let server = Server::answering(format!(
        "HTTP/1.1 302 Found\r\nlocation: http://127.0.0.1:9/{TOKEN}\r\nconnection: close\r\n\
         content-length: 0\r\n\r\n"
    ))
    .await;
    let failure = ask(&server, Duration::from_secs(5)).await.unwrap_err();
    assert_eq!(failure.kind(), ErrorKind::Redirect);
    assert_no_credential(&failure);
    assert_eq!(server.requests().len(), 1, "the redirect was not followed");

    let huge = "x".repeat(2 * 1024 * 1024);
    let server = Server::answering(http("200 OK", &huge)).await;
    let failure = ask(&server, Duration::from_secs(5)).await.unwrap_err();
    assert_eq!(failure.kind(), ErrorKind::TooLarge);

    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let options = options(&url);
    let request = LookupRequest::new(&config(), &options, NUMBER).unwrap();
    let client = build_client(options.connect_timeout).unwrap();
    let failure = sms_pumping_risk(&client, &request, Instant::now() + Duration::from_secs(5))
        .await
        .unwrap_err();
    assert_eq!(failure.kind(), ErrorKind::Transport);
    assert!(
        failure.message().contains("could not connect"),
        "{}",
        failure.message()
    );
}

/// Answers 500 to the first request, then the risk: counts what reached the server.
#[tokio::test]
async fn the_cache_answers_repeats_and_keeps_no_failure() {
    let seen = Arc::new(Mutex::new(0));
    let counter = seen.clone();
    let server = Server::start(Box::new(move |_| {
        let mut seen = counter.lock().unwrap();
        *seen += 1;
        Some(if *seen == 1 {
            http(
                "500 Internal Server Error",
                &twilio_error(500, 20500, "oops"),
            )
        } else {
            http("200 OK", &resource(NUMBER, risk(12, false)))
        })
    }))
    .await;
    let options = options(&server.url);
    let client = build_client(options.connect_timeout).unwrap();
    let request = LookupRequest::new(&config(), &options, NUMBER).unwrap();
    let deadline = || Instant::now() + Duration::from_secs(5);
    let hour = Duration::from_secs(3600);

    let cache = RiskCache::new(100);
    let failure = cached_sms_pumping_risk(&client, &request, deadline(), &cache, hour)
        .await
        .unwrap_err();
    assert_eq!(failure.kind(), ErrorKind::LookupStatus(500));
    assert!(cache.is_empty(), "a failure is not cached");
    let first = cached_sms_pumping_risk(&client, &request, deadline(), &cache, hour)
        .await
        .unwrap();
    let again = cached_sms_pumping_risk(&client, &request, deadline(), &cache, hour)
        .await
        .unwrap();
    assert_eq!(first, again);
    assert_eq!(server.requests().len(), 2, "the repeat came from the cache");

    // Another number is another entry.
    let other = LookupRequest::new(&config(), &options, "+447700900124").unwrap();
    cached_sms_pumping_risk(&client, &other, deadline(), &cache, hour)
        .await
        .unwrap();
    assert_eq!(server.requests().len(), 3);
    assert_eq!(cache.len(), 2);

    // An answer past its TTL is asked again.
    let short = RiskCache::new(100);
    let ms = Duration::from_millis(1);
    cached_sms_pumping_risk(&client, &request, deadline(), &short, ms)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(20)).await;
    cached_sms_pumping_risk(&client, &request, deadline(), &short, ms)
        .await
        .unwrap();
    assert_eq!(server.requests().len(), 5);

    // At most `capacity` answers: the oldest goes first.
    let small = RiskCache::new(2);
    for n in 0..5 {
        let request =
            LookupRequest::new(&config(), &options, &format!("+4477009001{n:02}")).unwrap();
        cached_sms_pumping_risk(&client, &request, deadline(), &small, hour)
            .await
            .unwrap();
    }
    assert_eq!(small.len(), 2);
    let oldest = LookupRequest::new(&config(), &options, "+447700900100").unwrap();
    let newest = LookupRequest::new(&config(), &options, "+447700900104").unwrap();
    assert!(small.get(oldest.key(), Instant::now()).is_none());
    assert!(small.get(newest.key(), Instant::now()).is_some());
}

/// A package that reports an error is asked again next time; a null package (an invalid
/// number) is an answer, and is kept.
#[tokio::test]
async fn the_cache_keeps_no_package_error() {
    let answer = |number: &str| {
        if number.ends_with("00") {
            json!({ "carrier_risk_category": null, "number_blocked": null,
                    "number_blocked_date": null, "number_blocked_last_3_months": null,
                    "sms_pumping_risk_score": null, "error_code": 60008 })
        } else {
            Value::Null
        }
    };
    let server = Server::start(Box::new(move |request: &str| {
        let number = request
            .split_once("/v2/PhoneNumbers/")
            .and_then(|(_, rest)| rest.split_once('?'))
            .map(|(number, _)| number.to_owned())
            .unwrap();
        Some(http("200 OK", &resource(&number, answer(&number))))
    }))
    .await;
    let options = options(&server.url);
    let client = build_client(options.connect_timeout).unwrap();
    let cache = RiskCache::new(100);
    for (number, requests) in [("+447700900100", 2), ("+447700900101", 1)] {
        let request = LookupRequest::new(&config(), &options, number).unwrap();
        let before = server.requests().len();
        for _ in 0..2 {
            let risk = cached_sms_pumping_risk(
                &client,
                &request,
                Instant::now() + Duration::from_secs(5),
                &cache,
                Duration::from_secs(3600),
            )
            .await
            .unwrap();
            assert!(risk.unknown());
        }
        assert_eq!(server.requests().len() - before, requests, "{number}");
    }
}
