//! The benchmark's stand-in for Twilio: a small HTTPS/1.1 keep-alive server that answers every
//! POST with 201 and a Message resource. Written in Rust (tokio + rustls, like the connector
//! under test) so that the server is never what limits a run.
//!
//!   bench_server --cert server.pem --key server-key.pem
//!
//! Prints one JSON line, `{"port":…,"control":…}`, once both listeners are up. The control
//! port speaks plain HTTP on 127.0.0.1:
//!   GET  /stats                         counters as JSON
//!   POST /reset                         zero the counters
//!   POST /mode?latency_ms=50&limit=100  answer after 50 ms; above 100 requests in flight
//!                                       answer 429 with Twilio's 20429 error (limit=0: none)

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Duration;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;

const MAX_HEAD: usize = 64 * 1024;

#[derive(Default)]
struct Counters {
    tcp_accepted: AtomicU64,
    tls_connections: AtomicU64,
    tls_failures: AtomicU64,
    requests: AtomicU64,
    created: AtomicU64,
    rejected: AtomicU64,
    in_flight: AtomicU64,
    max_in_flight: AtomicU64,
}

#[derive(Default)]
struct State {
    counters: Counters,
    latency_ms: AtomicU64,
    /// 0: no limit.
    limit: AtomicU64,
}

impl State {
    fn stats_json(&self) -> String {
        let c = &self.counters;
        format!(
            "{{\"tcpAccepted\":{},\"tlsConnections\":{},\"tlsFailures\":{},\"requests\":{},\"created\":{},\"rejected\":{},\"inFlight\":{},\"maxInFlight\":{},\"latencyMs\":{},\"limit\":{}}}",
            c.tcp_accepted.load(Relaxed),
            c.tls_connections.load(Relaxed),
            c.tls_failures.load(Relaxed),
            c.requests.load(Relaxed),
            c.created.load(Relaxed),
            c.rejected.load(Relaxed),
            c.in_flight.load(Relaxed),
            c.max_in_flight.load(Relaxed),
            self.latency_ms.load(Relaxed),
            self.limit.load(Relaxed),
        )
    }

    fn reset(&self) {
        let c = &self.counters;
        for counter in [
            &c.tcp_accepted,
            &c.tls_connections,
            &c.tls_failures,
            &c.requests,
            &c.created,
            &c.rejected,
        ] {
            counter.store(0, Relaxed);
        }
        c.max_in_flight.store(c.in_flight.load(Relaxed), Relaxed);
    }
}

struct Request {
    method: String,
    target: String,
    body: Vec<u8>,
    close: bool,
}

/// Reads one request (head, then a Content-Length body); `None` when the peer closed cleanly.
async fn read_request<S: AsyncRead + Unpin>(
    stream: &mut S,
    buf: &mut Vec<u8>,
) -> std::io::Result<Option<Request>> {
    let invalid =
        |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_owned());
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        if buf.len() > MAX_HEAD {
            return Err(invalid("request head too large"));
        }
        let mut chunk = [0u8; 16 * 1024];
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return if buf.is_empty() {
                Ok(None)
            } else {
                Err(invalid("truncated head"))
            };
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = std::str::from_utf8(&buf[..head_end]).map_err(|_| invalid("head not UTF-8"))?;
    let mut lines = head.split("\r\n");
    let mut first = lines.next().unwrap_or_default().split(' ');
    let method = first.next().unwrap_or_default().to_owned();
    let target = first.next().unwrap_or_default().to_owned();
    let mut length = 0usize;
    let mut close = false;
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            length = value.parse().map_err(|_| invalid("bad content-length"))?;
        } else if name.eq_ignore_ascii_case("connection") {
            close = value.eq_ignore_ascii_case("close");
        }
    }
    while buf.len() < head_end + length {
        let mut chunk = [0u8; 16 * 1024];
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(invalid("truncated body"));
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let body = buf[head_end..head_end + length].to_vec();
    buf.drain(..head_end + length);
    Ok(Some(Request {
        method,
        target,
        body,
        close,
    }))
}

fn response(status: &str, body: &str, close: bool) -> Vec<u8> {
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: {}\r\nConnection: {}\r\n\r\n{body}",
        body.len(),
        if close { "close" } else { "keep-alive" }
    )
    .into_bytes()
}

/// `application/x-www-form-urlencoded` value decoding, enough to echo `To` and `Body`.
fn form_field(form: &[u8], name: &str) -> String {
    let decode = |s: &[u8]| {
        let mut out = Vec::with_capacity(s.len());
        let mut i = 0;
        while i < s.len() {
            match s[i] {
                b'+' => out.push(b' '),
                b'%' if i + 2 < s.len() => {
                    let hex = std::str::from_utf8(&s[i + 1..i + 3]).ok();
                    match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                        Some(byte) => {
                            out.push(byte);
                            i += 2;
                        }
                        None => out.push(b'%'),
                    }
                }
                byte => out.push(byte),
            }
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    };
    form.split(|&b| b == b'&')
        .filter_map(|pair| {
            let mut kv = pair.splitn(2, |&b| b == b'=');
            let key = kv.next()?;
            (decode(key) == name).then(|| decode(kv.next().unwrap_or_default()))
        })
        .next()
        .unwrap_or_default()
}

fn json_string(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| "\"\"".to_owned())
}

/// Twilio's Message resource, as the Messages API answers a create.
fn message_json(target: &str, form: &[u8], serial: u64) -> String {
    let account = target.split('/').nth(3).unwrap_or("AC");
    let sid = format!("SM{serial:032x}");
    let now = "Mon, 24 Nov 2025 09:00:00 +0000";
    format!(
        concat!(
            "{{\"account_sid\":{acc},\"api_version\":\"2010-04-01\",\"body\":{body},",
            "\"date_created\":\"{now}\",\"date_sent\":null,\"date_updated\":\"{now}\",",
            "\"direction\":\"outbound-api\",\"error_code\":null,\"error_message\":null,\"from\":null,",
            "\"messaging_service_sid\":{mg},\"num_media\":\"0\",\"num_segments\":\"1\",\"price\":null,",
            "\"price_unit\":\"USD\",\"sid\":\"{sid}\",\"status\":\"accepted\",",
            "\"subresource_uris\":{{\"media\":\"/2010-04-01/Accounts/{a}/Messages/{sid}/Media.json\"}},",
            "\"to\":{to},\"uri\":\"/2010-04-01/Accounts/{a}/Messages/{sid}.json\"}}"
        ),
        acc = json_string(account),
        a = account,
        body = json_string(&form_field(form, "Body")),
        mg = json_string(&form_field(form, "MessagingServiceSid")),
        to = json_string(&form_field(form, "To")),
        now = now,
        sid = sid,
    )
}

const TOO_MANY: &str = r#"{"code":20429,"message":"Too Many Requests","more_info":"https://www.twilio.com/docs/errors/20429","status":429}"#;

async fn answer_twilio(state: &State, request: &Request) -> Vec<u8> {
    let c = &state.counters;
    let serial = c.requests.fetch_add(1, Relaxed);
    let latency = Duration::from_millis(state.latency_ms.load(Relaxed));
    let limit = state.limit.load(Relaxed);
    let in_flight = c.in_flight.fetch_add(1, Relaxed) + 1;
    if limit > 0 && in_flight > limit {
        // Rejected requests do not hold a slot, but still take the round trip.
        c.in_flight.fetch_sub(1, Relaxed);
        c.rejected.fetch_add(1, Relaxed);
        if !latency.is_zero() {
            tokio::time::sleep(latency).await;
        }
        return response("429 Too Many Requests", TOO_MANY, request.close);
    }
    c.max_in_flight.fetch_max(in_flight, Relaxed);
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let ok = request.method == "POST" && request.target.ends_with("/Messages.json");
    let out = if ok {
        c.created.fetch_add(1, Relaxed);
        response(
            "201 Created",
            &message_json(&request.target, &request.body, serial),
            request.close,
        )
    } else {
        response(
            "404 Not Found",
            r#"{"code":20404,"message":"Not Found","status":404}"#,
            request.close,
        )
    };
    c.in_flight.fetch_sub(1, Relaxed);
    out
}

async fn serve_twilio<S: AsyncRead + AsyncWrite + Unpin>(state: Arc<State>, mut stream: S) {
    let mut buf = Vec::with_capacity(4096);
    while let Ok(Some(request)) = read_request(&mut stream, &mut buf).await {
        let out = answer_twilio(&state, &request).await;
        if stream.write_all(&out).await.is_err() || request.close {
            break;
        }
    }
    let _ = stream.shutdown().await;
}

async fn serve_control(state: Arc<State>, mut stream: tokio::net::TcpStream) {
    let mut buf = Vec::new();
    while let Ok(Some(request)) = read_request(&mut stream, &mut buf).await {
        let (path, query) = request
            .target
            .split_once('?')
            .unwrap_or((&request.target, ""));
        let body = match (request.method.as_str(), path) {
            ("GET", "/stats") => state.stats_json(),
            ("POST", "/reset") => {
                state.reset();
                state.stats_json()
            }
            ("POST", "/mode") => {
                for (key, value) in query.split('&').filter_map(|kv| kv.split_once('=')) {
                    let value = value.parse().unwrap_or(0);
                    match key {
                        "latency_ms" => state.latency_ms.store(value, Relaxed),
                        "limit" => state.limit.store(value, Relaxed),
                        _ => {}
                    }
                }
                state.stats_json()
            }
            _ => "{\"error\":\"unknown\"}".to_owned(),
        };
        if stream
            .write_all(&response("200 OK", &body, request.close))
            .await
            .is_err()
            || request.close
        {
            break;
        }
    }
}

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let cert = arg(&args, "--cert").ok_or("--cert <pem> is required")?;
    let key = arg(&args, "--key").ok_or("--key <pem> is required")?;
    let certs = CertificateDer::pem_file_iter(&cert)?.collect::<Result<Vec<_>, _>>()?;
    let key = PrivateKeyDer::from_pem_file(&key)?;
    let mut tls = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()?
    .with_no_client_auth()
    .with_single_cert(certs, key)?;
    tls.alpn_protocols = vec![b"http/1.1".to_vec()];
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(tls));

    let state = Arc::new(State::default());
    let twilio = TcpListener::bind("127.0.0.1:0").await?;
    let control = TcpListener::bind("127.0.0.1:0").await?;
    println!(
        "{{\"port\":{},\"control\":{}}}",
        twilio.local_addr()?.port(),
        control.local_addr()?.port()
    );

    let control_state = state.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = control.accept().await {
            tokio::spawn(serve_control(control_state.clone(), stream));
        }
    });

    loop {
        let (stream, _) = twilio.accept().await?;
        let _ = stream.set_nodelay(true);
        state.counters.tcp_accepted.fetch_add(1, Relaxed);
        let (state, acceptor) = (state.clone(), acceptor.clone());
        tokio::spawn(async move {
            match acceptor.accept(stream).await {
                Ok(tls) => {
                    state.counters.tls_connections.fetch_add(1, Relaxed);
                    serve_twilio(state, tls).await;
                }
                Err(_) => {
                    state.counters.tls_failures.fetch_add(1, Relaxed);
                }
            }
        });
    }
}
