//! `serde_json::Value` as a payload, printed the way JavaScript's `String(value)` prints it, so
//! Rust tests can render without a JS engine. Not part of the library: the bindings render from
//! the live JS object.

use serde_json::Value;

use super::Payload;

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
fn js_string(value: &Value) -> String {
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
fn js_number(x: f64) -> String {
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
    use crate::template::render;
    use serde_json::json;

    fn r(template: &str, payload: Value) -> String {
        render(template, &payload)
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
}
