//! The HTTPS client: one pooled, keep-alive client per process, rustls on the ring provider,
//! Mozilla's roots plus `NODE_EXTRA_CA_CERTS`, proxies from the environment, no redirects.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use rustls::RootCertStore;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;

use crate::error::{ConnectorFailure, ErrorCode};

pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Twilio's edge closes idle keep-alive connections after about a minute and a half.
const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(60);
const USER_AGENT: &str = concat!("connector-twilio-sms-native/", env!("CARGO_PKG_VERSION"));

/// The process-wide client that every connector instance shares, so a Logto server with many
/// tenants keeps one warm pool instead of one per tenant. reqwest fixes the connect timeout per
/// client, so an embedder that sets its own gets a pool of its own.
pub fn shared_client(connect_timeout: Duration) -> Result<reqwest::Client, ConnectorFailure> {
    static CLIENTS: OnceLock<Mutex<HashMap<Duration, reqwest::Client>>> = OnceLock::new();
    let mut clients = CLIENTS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(client) = clients.get(&connect_timeout) {
        return Ok(client.clone());
    }
    let client = build_client(connect_timeout)
        .map_err(|reason| ConnectorFailure::new(ErrorCode::General, reason))?;
    clients.insert(connect_timeout, client.clone());
    Ok(client)
}

/// A fresh client; the shared one should be preferred everywhere but in tests that run each
/// case on its own runtime (pooled connections are tied to the runtime that opened them).
pub fn build_client(connect_timeout: Duration) -> Result<reqwest::Client, String> {
    let mut tls = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|err| format!("TLS setup failed: {err}"))?
    .with_root_certificates(root_store())
    .with_no_client_auth();
    // Twilio's REST API speaks HTTP/1.1; offering only that keeps h2 out of the binary.
    tls.alpn_protocols = vec![b"http/1.1".to_vec()];

    reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        // Credentials go to the configured host and nowhere else.
        .redirect(reqwest::redirect::Policy::none())
        // Retries are decided by the delivery policy alone, which knows what is safe to resend.
        .retry(reqwest::retry::never())
        .connect_timeout(connect_timeout)
        .pool_idle_timeout(POOL_IDLE_TIMEOUT)
        .tcp_nodelay(true)
        .user_agent(USER_AGENT)
        .build()
        .map_err(|err| format!("HTTP client setup failed: {err}"))
}

/// Mozilla's roots (webpki-roots) plus every certificate in the PEM file named by
/// `NODE_EXTRA_CA_CERTS`, the variable Node itself reads, so one setting serves both.
fn root_store() -> RootCertStore {
    let mut roots = RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    if let Some(path) = std::env::var_os("NODE_EXTRA_CA_CERTS").filter(|p| !p.is_empty()) {
        match extra_certificates(std::path::Path::new(&path)) {
            Ok(certs) => {
                let (_added, _ignored) = roots.add_parsable_certificates(certs);
            }
            // Node warns and carries on in this case; so do we.
            Err(err) => eprintln!(
                "Warning: connector-twilio-sms-native: ignoring extra certs from `{}`, load failed: {err}",
                path.to_string_lossy()
            ),
        }
    }
    roots
}

fn extra_certificates(path: &std::path::Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let pem = std::fs::read(path).map_err(|err| err.to_string())?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|err| format!("{err:?}"))?;
    if certs.is_empty() {
        return Err("no PEM certificate found".to_owned());
    }
    Ok(certs)
}
