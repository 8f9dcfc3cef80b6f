//! What a log line or an error may show of a recipient or a client: enough to see a pattern
//! (the country, the range, the network), never the whole number or address.

use std::net::IpAddr;

const HIDDEN: char = '•';

/// `+44 77•••••123`: the calling code (when known), two more digits, the last three.
pub fn number(e164: &str, calling_code: Option<u16>) -> String {
    let digits: Vec<char> = e164.chars().filter(char::is_ascii_digit).collect();
    let code_len = calling_code.map_or(0, |code| code.to_string().len());
    // Short numbers show less, so at least half of the digits stay hidden.
    let (head, tail) = if digits.len() >= code_len + 8 {
        (code_len + 2, 3)
    } else if digits.len() >= 6 {
        (code_len.clamp(1, 3), 2)
    } else {
        (0, 0)
    };
    let hidden = digits.len().saturating_sub(head + tail);
    let mut shown = String::from("+");
    for (i, digit) in digits[..head].iter().enumerate() {
        if i == code_len && code_len > 0 {
            shown.push(' ');
        }
        shown.push(*digit);
    }
    if head == code_len && code_len > 0 {
        shown.push(' ');
    }
    shown.extend(std::iter::repeat_n(HIDDEN, hidden.max(1)));
    shown.extend(&digits[digits.len() - tail..]);
    shown
}

/// `203.0.•.•` or `2001:db8:•`: the network's first half.
pub fn ip(address: IpAddr) -> String {
    match address {
        IpAddr::V4(v4) => {
            let [a, b, _, _] = v4.octets();
            format!("{a}.{b}.{HIDDEN}.{HIDDEN}")
        }
        IpAddr::V6(v6) => {
            let [a, b, ..] = v6.segments();
            format!("{a:x}:{b:x}:{HIDDEN}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_keep_the_country_and_the_ends() {
        assert_eq!(number("+447700900123", Some(44)), "+44 77•••••123");
        assert_eq!(number("+12025550123", Some(1)), "+1 20•••••123");
        assert_eq!(number("+447700900123", None), "+44•••••••123");
        assert_eq!(number("+1234567", Some(1)), "+1 ••••67");
        assert_eq!(number("+12", None), "+••");
        assert_eq!(number("+", None), "+•");
    }

    #[test]
    fn addresses_keep_their_network_half() {
        assert_eq!(ip("203.0.113.7".parse().unwrap()), "203.0.•.•");
        assert_eq!(ip("2001:db8::1".parse().unwrap()), "2001:db8:•");
    }
}
