//! The benchmark's ceiling: the leanest keep-alive HTTPS client we can put in front of the bench
//! server (reqwest + rustls on tokio, no Node, no N-API), sending the connector's request.
//! Whatever it reaches is what the server and this machine allow; the connectors are stated
//! as a share of it.
//!
//!   bench_ceiling --url https://127.0.0.1:PORT --ca ca.pem --total 20000 --concurrency 64
//!
//! Prints one JSON line: sends, failures, seconds, sendsPerSec, p50Ms, p99Ms.

use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Instant;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

async fn run(
    client: &reqwest::Client,
    url: &str,
    total: usize,
    concurrency: usize,
) -> (Vec<f64>, usize, f64) {
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (client, url, next) = (client.clone(), url.to_owned(), next.clone());
        tasks.push(tokio::spawn(async move {
            let (mut latencies, mut failures) = (Vec::new(), 0usize);
            while next.fetch_add(1, Relaxed) < total {
                let t0 = Instant::now();
                let sent = client
                    .post(&url)
                    .header("authorization", "Basic QUN4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4OnRva2Vu")
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body("To=%2B15551234567&MessagingServiceSid=MGbench&Body=Your+Logto+sign-in+verification+code+is+123456.&RiskCheck=enable")
                    .send()
                    .await;
                let ok = match sent {
                    Ok(response) => response.status().is_success() && response.bytes().await.is_ok(),
                    Err(_) => false,
                };
                if ok {
                    latencies.push(t0.elapsed().as_secs_f64() * 1000.0);
                } else {
                    failures += 1;
                }
            }
            (latencies, failures)
        }));
    }
    let (mut latencies, mut failures) = (Vec::new(), 0);
    for task in tasks {
        let (l, f) = task.await.expect("sender task");
        latencies.extend(l);
        failures += f;
    }
    (latencies, failures, started.elapsed().as_secs_f64())
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1]
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let base = arg(&args, "--url").ok_or("--url is required")?;
    let ca = arg(&args, "--ca").ok_or("--ca is required")?;
    let total: usize = arg(&args, "--total").map_or(Ok(20_000), |v| v.parse())?;
    let concurrency: usize = arg(&args, "--concurrency").map_or(Ok(64), |v| v.parse())?;
    let warmup: usize = arg(&args, "--warmup").map_or(Ok(1_000), |v| v.parse())?;

    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(&ca)? {
        roots.add(cert?)?;
    }
    let mut tls = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()?
    .with_root_certificates(roots)
    .with_no_client_auth();
    tls.alpn_protocols = vec![b"http/1.1".to_vec()];
    let client = reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .tcp_nodelay(true)
        .build()?;
    let url = format!("{base}/2010-04-01/Accounts/ACbench/Messages.json");

    // Warm the pool to the measured concurrency first, as the connectors are warmed.
    run(&client, &url, warmup, concurrency).await;
    let (mut latencies, failures, seconds) = run(&client, &url, total, concurrency).await;
    latencies.sort_by(f64::total_cmp);
    println!(
        "{{\"sends\":{},\"failures\":{},\"seconds\":{:.4},\"sendsPerSec\":{:.1},\"p50Ms\":{:.4},\"p99Ms\":{:.4}}}",
        latencies.len(),
        failures,
        seconds,
        latencies.len() as f64 / seconds,
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99)
    );
    Ok(())
}
