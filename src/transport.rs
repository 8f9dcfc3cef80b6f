//! The HTTPS client: one pooled, keep-alive client per process, rustls on the ring provider,
//! Mozilla's roots plus `NODE_EXTRA_CA_CERTS`, proxies from the environment, no redirects.

use std::io::Read as _;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use rustls::RootCertStore;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;

use crate::error::{ConnectorFailure, ErrorKind};
use crate::secret::Secret;

pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Twilio's edge closes idle keep-alive connections after about a minute and a half.
const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(60);
const USER_AGENT: &str = concat!("connector-twilio-sms-native/", env!("CARGO_PKG_VERSION"));
/// Distinct `connectTimeoutMs` values with a pool of their own; beyond this the least recently
/// used pool is dropped (requests in flight on it finish: they hold their own handle).
pub const MAX_CLIENTS: usize = 8;
/// `NODE_EXTRA_CA_CERTS` holds a few PEM certificates; a file past this is not one.
pub const MAX_CA_FILE_BYTES: u64 = 4 * 1024 * 1024;

type Clients = Mutex<Vec<(Duration, reqwest::Client)>>;
static CLIENTS: OnceLock<Clients> = OnceLock::new();

/// The process-wide client that every connector instance shares, so a Logto server with many
/// tenants keeps one warm pool instead of one per tenant. reqwest fixes the connect timeout per
/// client, so an embedder that sets its own gets a pool of its own (at most [`MAX_CLIENTS`]).
///
/// The first call has `NODE_EXTRA_CA_CERTS` read on a thread of its own; a call waits for that
/// read at most `wait` (what is left of the send's deadline), so a slow or endless file fails
/// sends on time instead of blocking the runtime thread.
pub async fn shared_client(
    connect_timeout: Duration,
    wait: Duration,
) -> Result<reqwest::Client, ConnectorFailure> {
    let extra = extra_roots(wait).await?;
    let mut clients = CLIENTS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    // Least recently used first.
    if let Some(index) = clients.iter().position(|(t, _)| *t == connect_timeout) {
        let entry = clients.remove(index);
        let client = entry.1.clone();
        clients.push(entry);
        return Ok(client);
    }
    let client = build_client_with(connect_timeout, &extra)?;
    if clients.len() >= MAX_CLIENTS {
        clients.remove(0);
    }
    clients.push((connect_timeout, client.clone()));
    Ok(client)
}

/// How many pooled clients the process holds.
pub fn shared_client_count() -> usize {
    CLIENTS.get().map_or(0, |clients| {
        clients
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .len()
    })
}

/// A fresh client; the shared one should be preferred everywhere but in tests that run each
/// case on its own runtime (pooled connections are tied to the runtime that opened them).
/// Reads `NODE_EXTRA_CA_CERTS` on the calling thread.
pub fn build_client(connect_timeout: Duration) -> Result<reqwest::Client, String> {
    build_client_with(connect_timeout, &load_extra_roots()).map_err(|failure| failure.message)
}

fn build_client_with(
    connect_timeout: Duration,
    extra: &[CertificateDer<'static>],
) -> Result<reqwest::Client, ConnectorFailure> {
    let general = |message: String| ConnectorFailure::new(ErrorKind::Setup, message);
    let mut roots = RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    let (_added, _ignored) = roots.add_parsable_certificates(extra.iter().cloned());
    let mut tls = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|err| general(format!("TLS setup failed: {err}")))?
    .with_root_certificates(roots)
    .with_no_client_auth();
    // Twilio's REST API speaks HTTP/1.1; offering only that keeps h2 out of the binary.
    tls.alpn_protocols = vec![b"http/1.1".to_vec()];

    let mut builder = reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        // Credentials go to the configured host and nowhere else.
        .redirect(reqwest::redirect::Policy::none())
        // Retries are decided by the delivery policy alone, which knows what is safe to resend.
        .retry(reqwest::retry::never())
        .connect_timeout(connect_timeout)
        .pool_idle_timeout(POOL_IDLE_TIMEOUT)
        .tcp_nodelay(true)
        .user_agent(USER_AGENT)
        // Proxies come from `env_proxies`, which refuses what reqwest would silently skip.
        .no_proxy();
    for proxy in env_proxies()? {
        builder = builder.proxy(proxy);
    }
    builder
        .build()
        .map_err(|err| general(format!("HTTP client setup failed: {err}")))
}

/// The proxy variables reqwest reads, in its order: `(variable, value)` for the HTTP and the
/// HTTPS destinations (`ALL_PROXY` for either when its own is unset). None under CGI, where
/// `HTTP_PROXY` may come from a request header.
fn proxy_settings() -> [Option<(&'static str, String)>; 2] {
    if std::env::var_os("REQUEST_METHOD").is_some() {
        return [None, None];
    }
    let first = |names: &[&'static str]| {
        names
            .iter()
            .find_map(|name| std::env::var(name).ok().map(|value| (*name, value)))
            .filter(|(_, value)| !value.is_empty())
    };
    let all = first(&["ALL_PROXY", "all_proxy"]);
    [
        first(&["HTTP_PROXY", "http_proxy"]).or_else(|| all.clone()),
        first(&["HTTPS_PROXY", "https_proxy"]).or(all),
    ]
}

/// A proxy URL as the url crate reads it (`scheme://` optional, meaning http), refused unless
/// it is plainly `http(s)://[user[:password]@]host[:port][/]`. reqwest would silently ignore a
/// value its parser rejects, or read `http://u:p#w@proxy` as the host `u`, and connect
/// directly: an operator who set a proxy never wants that.
fn proxy_url(name: &str, value: &str) -> Result<reqwest::Url, ConnectorFailure> {
    let invalid = |why: &str| {
        ConnectorFailure::new(
            ErrorKind::InvalidOptions,
            format!(
                "{name} is not a usable proxy URL ({why}); expected http://[user:password@]host:port, \
                 with `#`, `/`, `?`, `@` and spaces in the user or password percent-encoded"
            ),
        )
    };
    let text = if value.contains("://") {
        value.to_owned()
    } else {
        format!("http://{value}")
    };
    let url = reqwest::Url::parse(&text).map_err(|err| invalid(&err.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid("only http and https proxies are supported"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(invalid("no host"));
    }
    if url.path() != "/" || url.query().is_some() || url.fragment().is_some() || text.contains(' ')
    {
        return Err(invalid("unexpected path, query, fragment or space"));
    }
    Ok(url)
}

fn env_proxies() -> Result<Vec<reqwest::Proxy>, ConnectorFailure> {
    let [http, https] = proxy_settings();
    let mut proxies = Vec::new();
    for (setting, secure) in [(http, false), (https, true)] {
        let Some((name, value)) = setting else {
            continue;
        };
        let url = proxy_url(name, &value)?;
        remember_proxy_secrets(&url);
        let made = if secure {
            reqwest::Proxy::https(url.as_str())
        } else {
            reqwest::Proxy::http(url.as_str())
        };
        let proxy = made.map_err(|err| {
            ConnectorFailure::new(
                ErrorKind::InvalidOptions,
                format!("{name} is not a usable proxy URL: {err}"),
            )
        })?;
        proxies.push(proxy.no_proxy(reqwest::NoProxy::from_env()));
    }
    Ok(proxies)
}

/// Every proxy password and `user:password` pair a client was built with, so a proxy that
/// echoes them (its `Proxy-Authorization`) is redacted too. Collected when clients are built,
/// so once the shared client exists a send reads no environment variable.
static PROXY_SECRETS: Mutex<Vec<Secret>> = Mutex::new(Vec::new());

pub fn proxy_secrets() -> Vec<Secret> {
    // A send prepares its request before its client exists: until one does, read the variables
    // the client will read.
    if CLIENTS.get().is_none() {
        for (name, value) in proxy_settings().into_iter().flatten() {
            if let Ok(url) = proxy_url(name, &value) {
                remember_proxy_secrets(&url);
            }
        }
    }
    PROXY_SECRETS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .clone()
}

fn remember_proxy_secrets(url: &reqwest::Url) {
    let Some(password) = url.password() else {
        return;
    };
    let password = percent_decode(password);
    let pair = format!("{}:{password}", percent_decode(url.username()));
    let mut secrets = PROXY_SECRETS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    for secret in [Secret::new(pair), Secret::new(password)] {
        if !secrets.contains(&secret) {
            secrets.push(secret);
        }
    }
}

fn percent_decode(text: &str) -> String {
    percent_encoding::percent_decode_str(text)
        .decode_utf8_lossy()
        .into_owned()
}

/// The certificates of `NODE_EXTRA_CA_CERTS`, read once per process on a thread of its own.
async fn extra_roots(
    wait: Duration,
) -> Result<Arc<Vec<CertificateDer<'static>>>, ConnectorFailure> {
    type Loaded = Option<Arc<Vec<CertificateDer<'static>>>>;
    static LOADED: OnceLock<tokio::sync::watch::Receiver<Loaded>> = OnceLock::new();
    let mut receiver = LOADED
        .get_or_init(|| {
            let (sender, receiver) = tokio::sync::watch::channel(None);
            let spawned = std::thread::Builder::new()
                .name("twilio-sms-ca-file".into())
                .spawn(move || {
                    let _ = sender.send(Some(Arc::new(load_extra_roots())));
                });
            if spawned.is_err() {
                // No thread to spare: read here, as before.
                let (sender, receiver) =
                    tokio::sync::watch::channel(Some(Arc::new(load_extra_roots())));
                drop(sender);
                return receiver;
            }
            receiver
        })
        .clone();
    let ready = tokio::time::timeout(wait, receiver.wait_for(Option::is_some)).await;
    match ready {
        Ok(Ok(loaded)) => Ok(loaded.clone().unwrap_or_default()),
        _ => Err(ConnectorFailure::new(
            ErrorKind::Setup,
            format!(
                "Still reading the CA file named by NODE_EXTRA_CA_CERTS (`{}`) after {} ms; \
                 point it at a PEM file of CA certificates",
                std::env::var_os("NODE_EXTRA_CA_CERTS")
                    .unwrap_or_default()
                    .to_string_lossy(),
                wait.as_millis()
            ),
        )),
    }
}

/// Every certificate in the PEM file named by `NODE_EXTRA_CA_CERTS`, the variable Node itself
/// reads, so one setting serves both.
fn load_extra_roots() -> Vec<CertificateDer<'static>> {
    let Some(path) = std::env::var_os("NODE_EXTRA_CA_CERTS").filter(|p| !p.is_empty()) else {
        return Vec::new();
    };
    match extra_certificates(std::path::Path::new(&path)) {
        Ok(certs) => certs,
        // Node warns and carries on in this case; so do we.
        Err(err) => {
            eprintln!(
                "Warning: connector-twilio-sms-native: ignoring extra certs from `{}`, load failed: {err}",
                path.to_string_lossy()
            );
            Vec::new()
        }
    }
}

fn extra_certificates(path: &std::path::Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let mut pem = Vec::new();
    std::fs::File::open(path)
        .and_then(|file| file.take(MAX_CA_FILE_BYTES + 1).read_to_end(&mut pem))
        .map_err(|err| err.to_string())?;
    if pem.len() as u64 > MAX_CA_FILE_BYTES {
        return Err(format!(
            "larger than {MAX_CA_FILE_BYTES} bytes; not a file of CA certificates"
        ));
    }
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|err| format!("{err:?}"))?;
    if certs.is_empty() {
        return Err("no PEM certificate found".to_owned());
    }
    Ok(certs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxy_urls_that_do_not_parse_plainly_are_refused() {
        for bad in [
            "http://user:pa#ss@127.0.0.1:8080",
            "http://user:pa/ss@127.0.0.1:8080",
            "http://user:pa?ss@127.0.0.1:8080",
            "http://user:pa ss@127.0.0.1:8080",
            "http://user:1234/x@127.0.0.1:8080",
            "socks5://127.0.0.1:1080",
            "http://",
        ] {
            let err = proxy_url("HTTPS_PROXY", bad).unwrap_err();
            assert_eq!(err.kind, ErrorKind::InvalidOptions, "{bad}");
            assert!(err.message.contains("HTTPS_PROXY"), "{bad}");
        }
        for good in [
            "http://127.0.0.1:8080",
            "127.0.0.1:8080",
            "http://user:pa%23ss@proxy.local:3128/",
            "https://proxy.local",
        ] {
            assert!(proxy_url("HTTPS_PROXY", good).is_ok(), "{good}");
        }
    }

    #[tokio::test]
    async fn the_client_cache_is_bounded() {
        for ms in 1..=(MAX_CLIENTS as u64 * 3) {
            shared_client(Duration::from_millis(ms), Duration::from_secs(5))
                .await
                .unwrap();
        }
        assert_eq!(shared_client_count(), MAX_CLIENTS);
    }
}
