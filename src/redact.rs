//! Redaction: the last gate before a failure leaves the core. Every secret of a request is
//! removed from what a failure says, also where a server echoed it encoded.

use crate::error::ConnectorFailure;

// Beside the failure's other methods in spirit; here because it is the one user of the engine.
impl ConnectorFailure {
    /// Removes every occurrence of `secrets` from the message and data.
    ///
    /// Error text can come from places we do not control (a server echoing a header, a
    /// transport error naming a URL), so this is the last gate before anything leaves the core.
    pub fn redacted(self, secrets: &[&str]) -> Self {
        self.map_text(&|text| redact(text, secrets))
    }
}

/// Shorter secrets are not redacted: replacing a 1-3 character token would mangle unrelated
/// text while hiding nothing an attacker could not guess anyway.
const MIN_REDACTABLE_LEN: usize = 4;
pub const REDACTED: &str = "[redacted]";

/// Removes every occurrence of `secrets` from `text`, also where the text carries them encoded.
///
/// Each secret is searched in the text as it is and in the text decoded the ways a server may
/// have encoded what it echoes: JSON string escapes (`\"`, `\\`, `\/`, `\uXXXX`; once or
/// twice), percent encoding (once or twice, `+` as space, any hex case) and line breaks inside a value (a
/// wrapped base64 credential). Each secret is also searched as its base64 and base64url, padded
/// or not, so passing a `user:secret` pair covers its Basic credential (see
/// `twilio::basic_authorization`). A match in a decoded view redacts the span of the original
/// text it came from; longest first, so a credential that contains a shorter secret is redacted
/// whole.
pub fn redact(text: &str, secrets: &[&str]) -> String {
    // Spans are `u32` offsets; anything longer than 4 GiB never reaches an error.
    if u32::try_from(text.len()).is_err() {
        return text.to_owned();
    }
    let mut secrets: Vec<Vec<u8>> = secrets
        .iter()
        .filter(|s| s.len() >= MIN_REDACTABLE_LEN)
        .flat_map(|s| encoded_forms(s))
        .collect();
    if secrets.is_empty() {
        return text.to_owned();
    }
    secrets.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
    secrets.dedup();
    let finders: Vec<memchr::memmem::Finder> =
        secrets.iter().map(memchr::memmem::Finder::new).collect();
    let original = View {
        bytes: text.as_bytes().to_vec(),
        starts: (0..text.len() as u32).collect(),
    };
    let mut spans = Vec::new();
    search(&original, 0, &finders, text.len(), &mut spans);
    if spans.is_empty() {
        return text.to_owned();
    }
    spans.sort_unstable();
    let mut out = String::with_capacity(text.len());
    let mut done = 0;
    for (start, end) in spans {
        // A decoded match may begin or end inside a multi-byte character: widen to whole ones.
        let start = (0..=start)
            .rev()
            .find(|&i| text.is_char_boundary(i))
            .unwrap_or(0);
        let end = (end..=text.len())
            .find(|&i| text.is_char_boundary(i))
            .unwrap_or(text.len());
        if end <= done {
            continue;
        }
        if start >= done {
            out.push_str(&text[done..start]);
            out.push_str(REDACTED);
        }
        done = end;
    }
    out.push_str(&text[done..]);
    out
}

/// A secret as it is and as base64 and base64url, padded or not: a `user:secret` pair's base64
/// is the Basic credential.
fn encoded_forms(secret: &str) -> Vec<Vec<u8>> {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    use base64::Engine as _;

    let mut forms = vec![secret.as_bytes().to_vec()];
    for engine in [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD] {
        forms.push(engine.encode(secret).into_bytes());
    }
    forms
}

/// The text, or a decoding of it, with where each byte starts in the original text.
struct View {
    bytes: Vec<u8>,
    starts: Vec<u32>,
}

type Step = fn(&[u8], usize) -> Option<(u8, usize)>;

/// The decodings tried, in order; every subset of them is applied (32 views at most, only the
/// ones that change something, at most 6 alive at once). Twice each: JSON in JSON and double
/// percent-encoding are common in echoes.
const STEPS: [Step; 5] = [
    json_unescape,
    json_unescape,
    percent_decode,
    percent_decode,
    line_break,
];

/// Records the original span of every secret found in `view` and in its further decodings.
fn search(
    view: &View,
    next_step: usize,
    finders: &[memchr::memmem::Finder],
    original_len: usize,
    spans: &mut Vec<(usize, usize)>,
) {
    let end_of = |i: usize| view.starts.get(i).map_or(original_len, |&s| s as usize);
    for finder in finders {
        let len = finder.needle().len();
        for at in finder.find_iter(&view.bytes) {
            spans.push((view.starts[at] as usize, end_of(at + len)));
        }
    }
    for (index, step) in STEPS.iter().enumerate().skip(next_step) {
        if let Some(decoded) = view.decode(*step) {
            search(&decoded, index + 1, finders, original_len, spans);
        }
    }
}

impl View {
    /// `None` when the step changes nothing, so no view is searched twice.
    fn decode(&self, step: Step) -> Option<View> {
        let mut out = View {
            bytes: Vec::with_capacity(self.bytes.len()),
            starts: Vec::with_capacity(self.bytes.len()),
        };
        let mut changed = false;
        let mut i = 0;
        while i < self.bytes.len() {
            match step(&self.bytes, i) {
                // A decoded byte, or nothing (a line break dropped).
                Some((byte, len)) => {
                    changed = true;
                    if len > 0 {
                        out.bytes.push(byte);
                        out.starts.push(self.starts[i]);
                    }
                    i += len.max(1);
                }
                None => {
                    out.bytes.push(self.bytes[i]);
                    out.starts.push(self.starts[i]);
                    i += 1;
                }
            }
        }
        changed.then_some(out)
    }
}

/// CR and LF are dropped (reported as zero bytes long), as in a wrapped base64 credential.
fn line_break(bytes: &[u8], i: usize) -> Option<(u8, usize)> {
    matches!(bytes[i], b'\r' | b'\n').then_some((0, 0))
}

fn hex(bytes: &[u8]) -> Option<u32> {
    let text = std::str::from_utf8(bytes).ok()?;
    u32::from_str_radix(text, 16).ok()
}

/// `%XX` as the byte, `+` as a space.
fn percent_decode(bytes: &[u8], i: usize) -> Option<(u8, usize)> {
    match bytes[i] {
        b'%' => hex(bytes.get(i + 1..i + 3)?).map(|b| (b as u8, 3)),
        b'+' => Some((b' ', 1)),
        _ => None,
    }
}

/// A JSON string escape as the byte it stands for; `\uXXXX` only for ASCII, which is what a
/// secret's escapes are in practice (non-ASCII secrets are matched raw or percent-encoded).
fn json_unescape(bytes: &[u8], i: usize) -> Option<(u8, usize)> {
    if bytes[i] != b'\\' {
        return None;
    }
    let byte = match *bytes.get(i + 1)? {
        b'u' => {
            let unit = hex(bytes.get(i + 2..i + 6)?)?;
            return (unit < 0x80).then_some((unit as u8, 6));
        }
        b'n' => b'\n',
        b'r' => b'\r',
        b't' => b'\t',
        b'b' => 0x08,
        b'f' => 0x0c,
        other @ (b'"' | b'\\' | b'/') => other,
        _ => return None,
    };
    Some((byte, 2))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    #[test]
    fn redaction_covers_message_and_nested_data() {
        let failure = ConnectorFailure::with_data(
            ErrorKind::Internal,
            "token s3cr3t-token leaked",
            serde_json::json!({ "a": ["x s3cr3t-token y"], "b": "s3cr3t-token" }),
        )
        .redacted(&["s3cr3t-token"]);
        let text = format!("{failure} {:?}", failure.data());
        assert!(!text.contains("s3cr3t-token"), "{text}");
        assert!(text.contains(REDACTED));
    }

    #[test]
    fn encoded_echoes_are_redacted() {
        let secret = r#"to"k\e/n+x y"#;
        let base = "QUMxOnRvImtcZS9uK3ggeQ==";
        let cases = [
            secret.to_owned(),
            serde_json::to_string(secret)
                .unwrap()
                .trim_matches('"')
                .to_owned(),
            secret
                .replace('\\', "\\\\")
                .replace('/', "\\/")
                .replace('"', "\\\""),
            "to%22k%5Ce%2Fn%2Bx%20y".to_owned(),
            "to%22k%5ce%2fn%2bx+y".to_owned(),
            "to%2522k%255Ce%252Fn%252Bx%2520y".to_owned(),
            r"to\u0022k\u005ce\u002fn+x y".to_owned(),
            base.replace('=', "%3D"),
            format!("{}\r\n{}", &base[..10], &base[10..]),
            format!("{}\\n{}", &base[..10], &base[10..]),
        ];
        for echoed in cases {
            let text = format!("before {echoed} after é");
            let out = redact(&text, &[secret, "AC1:to\"k\\e/n+x y"]);
            assert_eq!(out, format!("before {REDACTED} after é"), "{echoed}");
        }
        assert_eq!(redact("a%", &["abcd"]), "a%");
        assert_eq!(redact("\\u00e9 %zz \\", &["abcd"]), "\\u00e9 %zz \\");
    }

    #[test]
    fn short_secrets_are_left_alone() {
        assert_eq!(redact("abc", &["a"]), "abc");
    }
}
