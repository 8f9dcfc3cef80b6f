//! What every Twilio request carries: the account's URL, the Basic credential, and the secrets
//! an error it produces must never show. Shared by messages and usage.

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use super::options::SendOptions;
use crate::config::Config;
use crate::error::ConnectorFailure;
use crate::secret::Secret;
use crate::transport;

/// Removes a request's `secrets` and the proxies' credentials from `failure`. The proxy
/// credentials are taken again here: the client the request went through may have been built
/// (and read the proxy variables) after the request was prepared.
pub(crate) fn redact_request(secrets: &[Secret], failure: ConnectorFailure) -> ConnectorFailure {
    let proxy = transport::proxy_secrets();
    let secrets: Vec<&str> = secrets.iter().chain(&proxy).map(Secret::expose).collect();
    failure.redacted(&secrets)
}

/// RFC 3986 `pchar` minus the percent sign: unreserved, sub-delims, `:` and `@` stay as they are.
const PATH_SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'!')
    .remove(b'$')
    .remove(b'&')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')')
    .remove(b'*')
    .remove(b'+')
    .remove(b',')
    .remove(b';')
    .remove(b'=')
    .remove(b':')
    .remove(b'@');

/// An authenticated request to one of the account's resources. `Debug` shows where it goes,
/// never the credential.
pub struct AccountRequest {
    /// `https://<host>`, or the embedder's base URL: what errors name.
    pub origin: String,
    /// `<origin>/2010-04-01/Accounts/<sid>/<resource>`.
    pub url: String,
    /// The `Authorization` header value.
    pub authorization: Secret,
    /// What must never appear in an error this request produces.
    secrets: Vec<Secret>,
}

impl AccountRequest {
    /// `resource` is the path under the account, e.g. `Messages.json`.
    pub fn new(
        config: &Config,
        options: &SendOptions,
        resource: &str,
    ) -> Result<Self, ConnectorFailure> {
        let origin = origin(config, options);
        let url = format!(
            "{origin}/2010-04-01/Accounts/{}/{resource}",
            account_segment(config)?
        );
        let (authorization, secrets) = basic_authorization(config);
        Ok(AccountRequest {
            origin,
            url,
            authorization,
            secrets,
        })
    }

    /// The URL's path: `/2010-04-01/Accounts/<sid>/<resource>`.
    pub fn path(&self) -> &str {
        &self.url[self.origin.len()..]
    }

    /// Removes every secret of this request from `failure`: the last gate before it leaves.
    /// The proxy credentials are taken again here: the client this request went through may
    /// have been built (and read the proxy variables) after the request was prepared.
    pub fn redact(&self, failure: ConnectorFailure) -> ConnectorFailure {
        redact_request(&self.secrets, failure)
    }

    #[cfg(test)]
    pub(crate) fn secrets(&self) -> Vec<&str> {
        self.secrets.iter().map(Secret::expose).collect()
    }
}

impl std::fmt::Debug for AccountRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccountRequest")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

/// `https://<host>`, or the embedder's base URL.
fn origin(config: &Config, options: &SendOptions) -> String {
    match &options.base_url {
        Some(origin) => origin.clone(),
        None => format!("https://{}", config.host()),
    }
}

/// The account SID as one URL path segment. `.` and `..` are refused: URL parsers (WHATWG's,
/// reqwest's, fetch's) resolve them, and their encodings `%2E`/`%2e%2E`, as dot segments, so
/// the authenticated request would leave the account's path whatever we write.
fn account_segment(config: &Config) -> Result<String, ConnectorFailure> {
    if matches!(config.account_sid.as_str(), "." | "..") {
        return Err(ConnectorFailure::account_sid_is_a_dot_segment(
            &config.account_sid,
        ));
    }
    Ok(path_segment_encode(&config.account_sid))
}

/// Keeps a path segment a single segment: an account SID with `/`, `?` or `#` cannot point
/// the authenticated request at another path.
pub(crate) fn path_segment_encode(value: &str) -> String {
    utf8_percent_encode(value, PATH_SEGMENT).to_string()
}

/// The `Authorization` header value, and every secret an error must never show: each configured
/// credential (used or not), the `user:secret` pairs they form and the proxies' credentials.
/// `redact::redact` also finds each as base64 and base64url (so the Basic credential), and
/// JSON-escaped, percent-encoded or wrapped across lines.
pub(crate) fn basic_authorization(config: &Config) -> (Secret, Vec<Secret>) {
    use base64::Engine as _;

    let (user, password) = config.credentials();
    let credentials =
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{}", password.expose()));
    let pairs = config.credential_pairs();
    let mut secrets: Vec<Secret> = pairs.iter().map(|(_, secret)| (*secret).clone()).collect();
    for (user, secret) in pairs {
        secrets.push(Secret::new(format!("{user}:{}", secret.expose())));
    }
    secrets.extend(transport::proxy_secrets());
    (Secret::new(format!("Basic {credentials}")), secrets)
}

/// `application/x-www-form-urlencoded` the way `URLSearchParams` serializes it (alphanumerics
/// and `*-._` stay, space becomes `+`, every other UTF-8 byte is `%XX`), fields in order.
pub fn form<'a>(fields: impl IntoIterator<Item = (&'a str, &'a str)>, capacity: usize) -> String {
    let mut form = form_urlencoded::Serializer::new(String::with_capacity(capacity));
    form.extend_pairs(fields);
    form.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The hand-written encoders these replaced, kept as the reference for the same bytes.
    fn reference_form(value: &str) -> String {
        let mut out = String::new();
        for byte in value.bytes() {
            match byte {
                b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'*' | b'-' | b'.' | b'_' => {
                    out.push(byte as char)
                }
                b' ' => out.push('+'),
                _ => out.push_str(&format!("%{byte:02X}")),
            }
        }
        out
    }

    fn reference_segment(value: &str) -> String {
        let keep = |b: u8| b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@".contains(&b);
        value
            .bytes()
            .map(|b| {
                if keep(b) {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect()
    }

    #[test]
    fn encodings() {
        assert_eq!(
            form([("a b+c*-._~!é😀", "x y")], 0),
            "a+b%2Bc*-._%7E%21%C3%A9%F0%9F%98%80=x+y"
        );
        assert_eq!(
            path_segment_encode("AC/1?x#y %é~!$&'()*+,;=:@"),
            "AC%2F1%3Fx%23y%20%25%C3%A9~!$&'()*+,;=:@"
        );
        // Every byte value (as Latin-1 and as a control or ASCII character) and a few
        // multi-byte characters encode exactly as before.
        let mut every: String = (0u32..=0x2FF).filter_map(char::from_u32).collect();
        every.push_str("😀\u{fffd}\u{10ffff}");
        assert_eq!(
            form([("k", every.as_str())], 0),
            format!("k={}", reference_form(&every))
        );
        assert_eq!(path_segment_encode(&every), reference_segment(&every));
    }
}
