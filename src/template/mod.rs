//! Placeholder rendering with connector-kit's `replaceSendMessageHandlebars` semantics:
//! `{{ key.path }}`, root key missing → left as is, a broken path → '', values printed the way
//! JavaScript's `String(value)` prints them.

use serde_json::Value;

mod select;

pub use select::{choose, of_type, primary_language};

/// Where placeholder values come from. The bindings implement it over the live JS payload
/// object (so `in` and `String()` are JavaScript's own); the core implements it for JSON.
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

impl Payload for Value {
    fn locale(&self) -> Option<String> {
        self.get("locale")?.as_str().map(str::to_owned)
    }

    fn has_root(&self, key: &str) -> bool {
        match self {
            Value::Object(map) => map.contains_key(key),
            Value::Array(items) => key == "length" || array_index(key, items.len()).is_some(),
            _ => false,
        }
    }

    fn render_path(&self, path: &str) -> String {
        let mut current = Some(Node::Value(self));
        for part in path.split('.') {
            current = current.and_then(|node| node.step(part));
        }
        match current {
            None | Some(Node::Value(Value::Null)) => String::new(),
            Some(Node::Value(value)) => js_string(value),
            Some(Node::Length(len)) => len.to_string(),
        }
    }
}

/// A point on a path walk: a JSON value, or an array's computed `length`.
enum Node<'a> {
    Value(&'a Value),
    Length(usize),
}

impl<'a> Node<'a> {
    fn step(self, part: &str) -> Option<Node<'a>> {
        match self {
            Node::Value(Value::Object(map)) => map.get(part).map(Node::Value),
            Node::Value(Value::Array(items)) if part == "length" => Some(Node::Length(items.len())),
            Node::Value(Value::Array(items)) => {
                array_index(part, items.len()).map(|i| Node::Value(&items[i]))
            }
            // Primitives are not objects: getValue stops with `undefined`.
            _ => None,
        }
    }
}

/// A canonical array index ("0", "12", not "01" or "+1"), as JavaScript property keys work.
fn array_index(key: &str, len: usize) -> Option<usize> {
    let canonical =
        key == "0" || (!key.starts_with('0') && key.bytes().all(|b| b.is_ascii_digit()));
    if key.is_empty() || !canonical {
        return None;
    }
    key.parse::<usize>().ok().filter(|i| *i < len)
}

/// `String(value)` for JSON values: arrays are joined with commas (null items print as ''),
/// objects print as `[object Object]`.
pub fn js_string(value: &Value) -> String {
    match value {
        Value::Null => "null".to_owned(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => js_number(n.as_f64().unwrap_or(f64::NAN)),
        Value::String(s) => s.clone(),
        Value::Array(items) => items
            .iter()
            .map(|item| match item {
                Value::Null => String::new(),
                other => js_string(other),
            })
            .collect::<Vec<_>>()
            .join(","),
        Value::Object(_) => "[object Object]".to_owned(),
    }
}

/// ECMAScript `Number::toString(10)`: shortest round-trip digits, exponent form outside
/// 1e-7 < |x| < 1e21.
pub fn js_number(x: f64) -> String {
    if x.is_nan() {
        return "NaN".to_owned();
    }
    if x == 0.0 {
        return "0".to_owned();
    }
    if x.is_infinite() {
        return if x > 0.0 { "Infinity" } else { "-Infinity" }.to_owned();
    }
    if x < 0.0 {
        return format!("-{}", js_number(-x));
    }
    // Rust's `{:e}` prints the shortest digits that round-trip, e.g. "1.2345e-7".
    let sci = format!("{x:e}");
    let (mantissa, exponent) = sci.split_once('e').expect("`{:e}` always has an exponent");
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let k = digits.len() as i32;
    let n = exponent.parse::<i32>().expect("integer exponent") + 1;
    if k <= n && n <= 21 {
        format!("{digits}{}", "0".repeat((n - k) as usize))
    } else if 0 < n && n <= 21 {
        let (int, frac) = digits.split_at(n as usize);
        format!("{int}.{frac}")
    } else if -6 < n && n <= 0 {
        format!("0.{}{digits}", "0".repeat((-n) as usize))
    } else {
        let e = n - 1;
        let sign = if e >= 0 { '+' } else { '-' };
        let (first, rest) = digits.split_at(1);
        if rest.is_empty() {
            format!("{first}e{sign}{}", e.abs())
        } else {
            format!("{first}.{rest}e{sign}{}", e.abs())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
    fn values_print_like_javascript() {
        let payload = json!({
            "n": 42, "f": 0.1, "big": 1e21, "tiny": 1e-7, "neg": -1.5, "t": true, "nul": null,
            "list": [1, [2, 3], null, "x", {}], "obj": { "a": 1 }, "s": "str"
        });
        let cases = [
            ("{{n}}", "42"),
            ("{{f}}", "0.1"),
            ("{{big}}", "1e+21"),
            ("{{tiny}}", "1e-7"),
            ("{{neg}}", "-1.5"),
            ("{{t}}", "true"),
            ("{{nul}}", ""),
            ("{{list}}", "1,2,3,,x,[object Object]"),
            ("{{list.0}}", "1"),
            ("{{list.1.1}}", "3"),
            ("{{list.length}}", "5"),
            ("{{list.01}}", ""),
            ("{{list.9}}", ""),
            ("{{obj}}", "[object Object]"),
            ("{{obj.a.b}}", ""),
            ("{{s.length}}", ""),
            ("{{n.x}}", ""),
        ];
        for (template, expected) in cases {
            assert_eq!(r(template, payload.clone()), expected, "{template}");
        }
    }

    #[test]
    fn number_formatting() {
        for (x, s) in [
            (1.0, "1"),
            (123456789012345680000.0, "123456789012345680000"),
            (1.5e300, "1.5e+300"),
            (0.000001, "0.000001"),
            (1.2e-7, "1.2e-7"),
            (-0.0, "0"),
            (f64::INFINITY, "Infinity"),
            (f64::NAN, "NaN"),
            (9007199254740993.0, "9007199254740992"),
            (0.30000000000000004, "0.30000000000000004"),
        ] {
            assert_eq!(js_number(x), s, "{x}");
        }
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
