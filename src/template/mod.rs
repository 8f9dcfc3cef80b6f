//! Placeholder rendering with connector-kit's `replaceSendMessageHandlebars` semantics:
//! `{{ key.path }}`, root key missing → left as is, a broken path → '', values printed the way
//! JavaScript's `String(value)` prints them.

mod select;

// JSON values as payloads, for tests only: the bindings render from the live JS object.
#[cfg(any(test, feature = "test-support"))]
mod json_payload;

pub use select::{choose, UsageType};

/// Where placeholder values come from. The bindings implement it over the live JS payload
/// object (so `in` and `String()` are JavaScript's own); tests implement it for JSON.
pub trait Payload {
    /// JavaScript's `key in payload`.
    fn has_root(&self, key: &str) -> bool;
    /// `String(getValue(payload, path) ?? '')` for a dotted `path`.
    fn render_path(&self, path: &str) -> String;
    /// `payload.locale` when it is a string: Logto's language for the recipient, which picks
    /// a localized template. Anything else means "no locale".
    fn locale(&self) -> Option<String>;
}

/// The largest rendered body, in UTF-8 bytes: 40 times Twilio's 1,600 characters (at least
/// 16,384 characters), far above any real SMS and far below what could hurt the host.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Renders `template`, replacing each `{{ key }}` whose root key the payload has.
pub fn render(template: &str, payload: &dyn Payload) -> String {
    render_capped(template, payload, usize::MAX).unwrap_or_default()
}

/// [`render`], or `None` as soon as the result would exceed `max` bytes: a huge template or
/// payload value is refused without building the whole body.
pub fn render_capped(template: &str, payload: &dyn Payload, max: usize) -> Option<String> {
    if template.len() > max {
        return None;
    }
    let mut out = String::with_capacity(template.len() + 16);
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        if out.len() > max {
            return None;
        }
        out.push_str(&rest[..start]);
        let candidate = &rest[start..];
        match match_placeholder(candidate) {
            Some((len, key)) => {
                let root = key.split('.').next().unwrap_or_default();
                if !root.is_empty() && payload.has_root(root) {
                    out.push_str(&payload.render_path(key));
                } else {
                    out.push_str(&candidate[..len]);
                }
                rest = &candidate[len..];
            }
            None => {
                // Like a global regex scan: no match here, so retry one character further on.
                out.push('{');
                rest = &candidate[1..];
            }
        }
    }
    out.push_str(rest);
    (out.len() <= max).then_some(out)
}

/// Matches `{{\s*([\w.]+)\s*}}` at the start of `text`: the match length and the key.
fn match_placeholder(text: &str) -> Option<(usize, &str)> {
    let body = text.strip_prefix("{{")?;
    let key_start = body.len() - body.trim_start_matches(is_js_whitespace).len();
    let after_ws = &body[key_start..];
    let key_len = after_ws
        .bytes()
        .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_' || *b == b'.')
        .count();
    if key_len == 0 {
        return None;
    }
    let key = &after_ws[..key_len];
    let tail = &after_ws[key_len..];
    let tail_trimmed = tail.trim_start_matches(is_js_whitespace);
    tail_trimmed.strip_prefix("}}")?;
    let consumed = text.len() - tail_trimmed.len() + 2;
    Some((consumed, key))
}

/// JavaScript's `\s` (WhiteSpace and LineTerminator), which differs from `char::is_whitespace`.
fn is_js_whitespace(c: char) -> bool {
    matches!(
        c,
        '\t' | '\n' | '\u{0B}' | '\u{0C}' | '\r' | ' ' | '\u{A0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200A}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{202F}'
                | '\u{205F}'
                | '\u{3000}'
                | '\u{FEFF}'
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn r(template: &str, payload: Value) -> String {
        render(template, &payload)
    }

    /// Counts the values it renders, to show rendering stops at the cap.
    struct Counting(std::cell::Cell<usize>);

    impl Payload for Counting {
        fn has_root(&self, _: &str) -> bool {
            true
        }
        fn render_path(&self, _: &str) -> String {
            self.0.set(self.0.get() + 1);
            "x".repeat(1_000_000)
        }
        fn locale(&self) -> Option<String> {
            None
        }
    }

    #[test]
    fn rendering_stops_at_the_cap() {
        let payload = Counting(std::cell::Cell::new(0));
        let template = "{{code}}".repeat(200);
        assert_eq!(render_capped(&template, &payload, MAX_BODY_BYTES), None);
        assert_eq!(payload.0.get(), 1);
        assert_eq!(
            render_capped(&"y".repeat(MAX_BODY_BYTES + 1), &payload, MAX_BODY_BYTES),
            None
        );
        let at_cap = "y".repeat(MAX_BODY_BYTES);
        assert_eq!(
            render_capped(&at_cap, &json!({}), MAX_BODY_BYTES),
            Some(at_cap)
        );
    }

    #[test]
    fn connector_kit_examples() {
        assert_eq!(r("{{code}}", json!({ "code": "123" })), "123");
        assert_eq!(r("{{ code }}", json!({ "code": "123" })), "123");
        assert_eq!(r("{{code}}", json!({})), "{{code}}");
        assert_eq!(r("{{application.name}}", json!({ "application": {} })), "");
        assert_eq!(
            r(
                "Your application name is {{application.name}}",
                json!({ "application": { "name": "Logto" } })
            ),
            "Your application name is Logto"
        );
        assert_eq!(r("{{application.name}}", json!({})), "{{application.name}}");
    }

    #[test]
    fn scanning_matches_the_global_regex() {
        let p = json!({ "code": "1", "a": { "b": "c" } });
        assert_eq!(r("{{{code}}}", p.clone()), "{1}");
        assert_eq!(r("{{ code}} {{code }} {{\tcode\n}}", p.clone()), "1 1 1");
        assert_eq!(r("{{\u{a0}code\u{3000}}}", p.clone()), "1");
        assert_eq!(
            r("{{co de}} {{}} {{-x}} {{code", p.clone()),
            "{{co de}} {{}} {{-x}} {{code"
        );
        assert_eq!(r("{{a.b}}{{a..b}}{{.a}}", p.clone()), "c{{.a}}");
        assert_eq!(r("é{{code}}ü", p.clone()), "é1ü");
        assert_eq!(r("{{code}}", json!(null)), "{{code}}");
        assert_eq!(r("{{ a . b }}", p), "{{ a . b }}");
    }
}
