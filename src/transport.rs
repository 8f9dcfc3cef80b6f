//! The HTTPS client: one pooled, keep-alive client per process, rustls on the ring provider,
//! Mozilla's roots plus `NODE_EXTRA_CA_CERTS`, proxies from the environment, no redirects.

use std::io::Read as _;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use rustls::RootCertStore;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;

use crate::error::ConnectorFailure;
use crate::secret::Secret;

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
/// read until its own `deadline` at most (the one its send then runs under, `timeout` after the
/// call started), so a slow or endless file fails sends on time instead of blocking the runtime
/// thread.
pub async fn shared_client(
    connect_timeout: Duration,
    deadline: tokio::time::Instant,
    timeout: Duration,
) -> Result<reqwest::Client, ConnectorFailure> {
    let extra = extra_roots(deadline, timeout).await?;
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
#[cfg(test)]
fn shared_client_count() -> usize {
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
    build_client_with(connect_timeout, &load_extra_roots()).map_err(ConnectorFailure::into_message)
}

fn build_client_with(
    connect_timeout: Duration,
    extra: &[CertificateDer<'static>],
) -> Result<reqwest::Client, ConnectorFailure> {
    let mut roots = RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    let (_added, _ignored) = roots.add_parsable_certificates(extra.iter().cloned());
    let mut tls = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|err| ConnectorFailure::setup("TLS", &err))?
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
        // reqwest's own discovery off: proxies come from `env_proxies`, which refuses what
        // reqwest would silently skip.
        .no_proxy();
    for proxy in env_proxies()? {
        builder = builder.proxy(proxy);
    }
    builder
        .build()
        .map_err(|err| ConnectorFailure::setup("HTTP client", &err))
}

/// The longest proxy URL read. One with a long token stays far below it; the HTTP client
/// cannot use one near 64 KiB at all.
pub const MAX_PROXY_URL_BYTES: usize = 8 * 1024;

/// A proxy variable in force: its name and value.
type Setting = (&'static str, String);

/// The proxy variables for the HTTP and the HTTPS destinations, read here rather than by
/// reqwest (whose own discovery is off), in reqwest's order: of each pair the first that is
/// set and not empty (an empty one counts as unset, as curl reads it, so `HTTP_PROXY=''` does
/// not hide `http_proxy`), and `ALL_PROXY` for either when its own is unset. `REQUEST_METHOD`
/// turns nothing off: the connector is no CGI program, where `HTTP_PROXY` could come from a
/// request header, and an operator's proxy must not vanish because the variable is set.
fn proxy_settings() -> Result<[Option<Setting>; 2], ConnectorFailure> {
    proxy_settings_from(|name| std::env::var_os(name))
}

fn proxy_settings_from(
    lookup: impl Fn(&str) -> Option<std::ffi::OsString>,
) -> Result<[Option<Setting>; 2], ConnectorFailure> {
    let first = |names: [&'static str; 2]| {
        for name in names {
            let Some(value) = lookup(name).filter(|value| !value.is_empty()) else {
                continue;
            };
            // Not "unset": that would connect directly.
            let value = value
                .into_string()
                .map_err(|_| ConnectorFailure::invalid_proxy(name, "not valid UTF-8"))?;
            return Ok(Some((name, value)));
        }
        Ok::<_, ConnectorFailure>(None)
    };
    let all = first(["ALL_PROXY", "all_proxy"])?;
    Ok([
        first(["HTTP_PROXY", "http_proxy"])?.or_else(|| all.clone()),
        first(["HTTPS_PROXY", "https_proxy"])?.or(all),
    ])
}

/// A proxy URL as the url crate reads it (`scheme://` optional, meaning http), refused unless
/// it is plainly `http(s)://[user[:password]@]host[:port][/]` with a host name, IPv4 or IPv6
/// address for a host. reqwest would silently ignore a value its parser rejects, or read
/// `http://u:p#w@proxy` as the host `u`, and connect directly: an operator who set a proxy
/// never wants that.
fn proxy_url(name: &str, value: &str) -> Result<reqwest::Url, ConnectorFailure> {
    if value.len() > MAX_PROXY_URL_BYTES {
        return Err(ConnectorFailure::invalid_proxy(
            name,
            &format!("longer than {MAX_PROXY_URL_BYTES} bytes"),
        ));
    }
    let text = if value.contains("://") {
        value.to_owned()
    } else {
        format!("http://{value}")
    };
    let url = reqwest::Url::parse(&text)
        .map_err(|err| ConnectorFailure::invalid_proxy(name, &err.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(ConnectorFailure::invalid_proxy(
            name,
            "only http and https proxies are supported",
        ));
    }
    let host = url.host_str().unwrap_or_default();
    if host.is_empty() {
        return Err(ConnectorFailure::invalid_proxy(name, "no host"));
    }
    // The url crate keeps `$`, `{`, `"` and the like in a host name (an unexpanded
    // `${PROXY_HOST}` or `{{proxy}}`, even percent-encoded); no resolvable name has them. An
    // IPv6 address comes bracketed and already checked.
    if !host.starts_with('[') {
        if let Some(bad) = host
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_')))
        {
            return Err(ConnectorFailure::invalid_proxy(
                name,
                &format!(
                    "its host has {bad:?}, which no host name has; an unexpanded template or variable?"
                ),
            ));
        }
    }
    if url.path() != "/" || url.query().is_some() || url.fragment().is_some() || text.contains(' ')
    {
        return Err(ConnectorFailure::invalid_proxy(
            name,
            "unexpected path, query, fragment or space",
        ));
    }
    Ok(url)
}

/// The proxy for one destination scheme, built from the very URL validated here, and the
/// credentials it sends.
///
/// reqwest hands the URL's text to hyper-util's proxy matcher, which drops what it cannot
/// read without a word (the client then connects directly). So that matcher is run here on
/// that same text, and the proxy is refused unless it yields exactly this proxy: scheme, host,
/// port, and a credential exactly when the URL has one.
fn proxy_for(
    name: &'static str,
    value: &str,
    secure: bool,
) -> Result<(reqwest::Proxy, Vec<Secret>), ConnectorFailure> {
    let url = proxy_url(name, value)?;
    let matcher = hyper_util::client::proxy::matcher::Matcher::builder()
        .all(String::from(url.clone()))
        .build();
    let destination = if secure {
        "https://api.twilio.com/"
    } else {
        "http://api.twilio.com/"
    };
    let destination = destination.parse().expect("a valid URI");
    let intercept = matcher
        .intercept(&destination)
        .ok_or_else(|| ConnectorFailure::invalid_proxy(name, "the HTTP client cannot read it"))?;
    let found = intercept.uri();
    let default_port = |scheme: Option<&str>| match scheme {
        Some("https") => Some(443),
        Some("http") => Some(80),
        _ => None,
    };
    let has_credential = !url.username().is_empty() || url.password().is_some();
    let same = found.scheme_str() == Some(url.scheme())
        && found.host() == url.host_str()
        && found
            .port_u16()
            .or_else(|| default_port(found.scheme_str()))
            == url.port_or_known_default()
        && intercept.basic_auth().is_some() == has_credential;
    if !same {
        return Err(ConnectorFailure::invalid_proxy(
            name,
            "the HTTP client reads it differently",
        ));
    }
    let secrets = credential_secrets(&url, intercept.basic_auth());
    let proxy = if secure {
        reqwest::Proxy::https(url)
    } else {
        reqwest::Proxy::http(url)
    }
    .map_err(|_| ConnectorFailure::invalid_proxy(name, "the HTTP client refuses it"))?;
    Ok((proxy.no_proxy(reqwest::NoProxy::from_env()), secrets))
}

/// What a proxy URL's credential may be echoed as: the password and `user:password`, or for a
/// user alone (a token) the user and `user:` (whose base64 is what is sent), each decoded and
/// as written, and the Basic credential exactly as the client sends it.
fn credential_secrets(
    url: &reqwest::Url,
    basic: Option<&reqwest::header::HeaderValue>,
) -> Vec<Secret> {
    let (user, password) = (url.username(), url.password());
    let mut secrets = Vec::new();
    let mut add = |secret: String| {
        let secret = Secret::new(secret);
        if !secrets.contains(&secret) {
            secrets.push(secret);
        }
    };
    match password {
        Some(password) => {
            add(format!(
                "{}:{}",
                percent_decode(user),
                percent_decode(password)
            ));
            add(percent_decode(password));
            add(password.to_owned());
        }
        None if !user.is_empty() => {
            add(format!("{}:", percent_decode(user)));
            add(percent_decode(user));
            add(user.to_owned());
        }
        None => {}
    }
    if let Some(credential) = basic
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Basic "))
    {
        add(credential.to_owned());
    }
    secrets
}

fn env_proxies() -> Result<Vec<reqwest::Proxy>, ConnectorFailure> {
    let [http, https] = proxy_settings()?;
    let mut proxies = Vec::new();
    for (setting, secure) in [(http, false), (https, true)] {
        let Some((name, value)) = setting else {
            continue;
        };
        let (proxy, secrets) = proxy_for(name, &value, secure)?;
        remember_proxy_secrets(secrets);
        proxies.push(proxy);
    }
    Ok(proxies)
}

/// Every proxy credential a client was built with, in each form `credential_secrets` lists, so
/// a proxy that echoes them (its `Proxy-Authorization`) is redacted too. Collected when clients
/// are built, so once the shared client exists a send reads no environment variable.
static PROXY_SECRETS: Mutex<Vec<Secret>> = Mutex::new(Vec::new());

pub fn proxy_secrets() -> Vec<Secret> {
    // A send prepares its request before its client exists: until one does, read the variables
    // the client will read.
    if CLIENTS.get().is_none() {
        let [http, https] = proxy_settings().unwrap_or_default();
        for (setting, secure) in [(http, false), (https, true)] {
            if let Some(Ok((_, secrets))) =
                setting.map(|(name, value)| proxy_for(name, &value, secure))
            {
                remember_proxy_secrets(secrets);
            }
        }
    }
    PROXY_SECRETS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .clone()
}

fn remember_proxy_secrets(found: Vec<Secret>) {
    let mut secrets = PROXY_SECRETS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    for secret in found {
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

/// The certificates of `NODE_EXTRA_CA_CERTS` (read once per process), for a `rediss://` store.
pub(crate) async fn extra_root_certificates(
    deadline: tokio::time::Instant,
    timeout: Duration,
) -> Result<Vec<CertificateDer<'static>>, ConnectorFailure> {
    Ok(extra_roots(deadline, timeout).await?.as_ref().clone())
}

/// The certificates of `NODE_EXTRA_CA_CERTS`, read once per process on a thread of its own.
async fn extra_roots(
    deadline: tokio::time::Instant,
    timeout: Duration,
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
    let ready = tokio::time::timeout_at(deadline, receiver.wait_for(Option::is_some)).await;
    match ready {
        Ok(Ok(loaded)) => Ok(loaded.clone().unwrap_or_default()),
        _ => Err(ConnectorFailure::extra_ca_still_loading(
            &std::env::var_os("NODE_EXTRA_CA_CERTS")
                .unwrap_or_default()
                .to_string_lossy(),
            timeout,
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
            crate::stderr::write_line(&format!(
                "Warning: connector-twilio-sms-native: ignoring extra certs from `{}`, load failed: {err}",
                path.to_string_lossy()
            ));
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
    use crate::error::ErrorKind;

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
            assert_eq!(err.kind(), ErrorKind::InvalidOptions, "{bad}");
            assert!(err.message().contains("HTTPS_PROXY"), "{bad}");
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

    #[test]
    fn proxy_urls_the_http_client_would_drop_are_refused_without_quoting_them() {
        let long = format!("http://user:{}@127.0.0.1:3128", "x".repeat(64 * 1024));
        for bad in [
            "http://${PROXY_HOST}:3128",
            "http://{{proxy}}:3128",
            "http://%7B%7Bproxy%7D%7D:3128",
            "http://pro\"xy:3128",
            "http://pro`xy:3128",
            long.as_str(),
        ] {
            for secure in [false, true] {
                let Err(err) = proxy_for("ALL_PROXY", bad, secure) else {
                    panic!("{bad} was accepted");
                };
                assert_eq!(err.kind(), ErrorKind::InvalidOptions, "{bad}");
                assert!(err
                    .message()
                    .starts_with("ALL_PROXY is not a usable proxy URL"));
                assert!(err.message().len() < 300, "{}", err.message());
                assert!(!err.message().contains("xxxx") && !err.message().contains("proxy}"));
            }
        }
    }

    #[test]
    fn every_proxy_url_accepted_is_the_proxy_the_client_uses() {
        for good in [
            "http://127.0.0.1:8080",
            "127.0.0.1:8080",
            "http://user:pa%23ss@proxy.local:3128/",
            "http://t%40ken@proxy_1.local",
            "https://proxy.local",
            "http://[::1]:3128",
            "HTTP://Proxy.Example.COM:80",
        ] {
            for secure in [false, true] {
                assert!(proxy_for("HTTP_PROXY", good, secure).is_ok(), "{good}");
            }
        }
    }

    #[test]
    fn every_form_of_a_proxy_credential_is_a_secret() {
        use base64::Engine as _;
        let base64 = |text: &str| base64::engine::general_purpose::STANDARD.encode(text);
        let exposed = |value: &str| {
            let (_, secrets) = proxy_for("HTTP_PROXY", value, false).unwrap();
            secrets
                .iter()
                .map(|s| s.expose().to_owned())
                .collect::<Vec<_>>()
        };
        // A user alone is a token: it is sent as base64 of `user:`.
        let secrets = exposed("http://t%40ken-only@proxy:3128");
        for form in ["t@ken-only", "t%40ken-only", "t@ken-only:"] {
            assert!(secrets.iter().any(|s| s == form), "{form}: {secrets:?}");
        }
        assert!(secrets.contains(&base64("t@ken-only:")));
        let text = format!(
            "407: Basic {} from t%40ken-only",
            base64("t@ken-only:").trim_end_matches('=')
        );
        let shown = crate::redact::redact(
            &text,
            &secrets.iter().map(String::as_str).collect::<Vec<_>>(),
        );
        assert!(!shown.contains("ken"), "{shown}");

        let secrets = exposed("http://us%65r:p%40ss-word@proxy:3128");
        for form in ["user:p@ss-word", "p@ss-word", "p%40ss-word"] {
            assert!(secrets.iter().any(|s| s == form), "{form}: {secrets:?}");
        }
        assert!(secrets.contains(&base64("user:p@ss-word")));
        assert!(exposed("http://proxy:3128").is_empty());
    }

    #[test]
    fn an_empty_proxy_variable_counts_as_unset_and_cgi_turns_nothing_off() {
        use std::ffi::OsString;
        let settings = |vars: &[(&str, &str)]| {
            let vars: Vec<(String, OsString)> = vars
                .iter()
                .map(|(k, v)| (k.to_string(), OsString::from(v)))
                .collect();
            proxy_settings_from(move |name| {
                vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
            })
            .unwrap()
        };
        let [http, https] = settings(&[
            ("HTTP_PROXY", ""),
            ("http_proxy", "http://lower:1"),
            ("HTTPS_PROXY", "http://upper:2"),
            ("https_proxy", "http://lower:2"),
            ("REQUEST_METHOD", "GET"),
        ]);
        assert_eq!(http, Some(("http_proxy", "http://lower:1".to_owned())));
        assert_eq!(https, Some(("HTTPS_PROXY", "http://upper:2".to_owned())));
        let [http, https] = settings(&[("ALL_PROXY", ""), ("all_proxy", "http://all:3")]);
        assert_eq!(http, Some(("all_proxy", "http://all:3".to_owned())));
        assert_eq!(https, http);
        assert_eq!(settings(&[("HTTP_PROXY", "")]), [None, None]);
    }

    #[cfg(unix)]
    #[test]
    fn a_proxy_variable_that_is_not_utf8_is_refused_not_skipped() {
        use std::os::unix::ffi::OsStringExt as _;
        let err = proxy_settings_from(|name| {
            (name == "HTTPS_PROXY").then(|| std::ffi::OsString::from_vec(b"http://\xff:1".to_vec()))
        })
        .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidOptions);
        assert!(err
            .message()
            .starts_with("HTTPS_PROXY is not a usable proxy URL (not valid UTF-8)"));
    }

    #[tokio::test]
    async fn the_client_cache_is_bounded() {
        for ms in 1..=(MAX_CLIENTS as u64 * 3) {
            let timeout = Duration::from_secs(5);
            let deadline = tokio::time::Instant::now() + timeout;
            shared_client(Duration::from_millis(ms), deadline, timeout)
                .await
                .unwrap();
        }
        assert_eq!(shared_client_count(), MAX_CLIENTS);
    }
}
