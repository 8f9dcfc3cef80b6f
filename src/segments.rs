//! How many SMS segments a body costs, by the rules Twilio bills with: GSM-7 when every
//! character is in the GSM 03.38 alphabet (extension characters take an escape septet too),
//! UCS-2 otherwise. A multi-part message loses room per part to the concatenation header, and
//! an escape pair or a surrogate pair is never split across parts (handsets would garble it).

/// The SMS character encoding a body needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Gsm7,
    Ucs2,
}

impl Encoding {
    pub fn as_str(self) -> &'static str {
        match self {
            Encoding::Gsm7 => "GSM-7",
            Encoding::Ucs2 => "UCS-2",
        }
    }

    /// Units (septets or UTF-16 code units) in a single-part message, and per part of a
    /// multi-part one (the rest carries the 6-byte concatenation header).
    fn capacity(self) -> (usize, usize) {
        match self {
            Encoding::Gsm7 => (160, 153),
            Encoding::Ucs2 => (70, 67),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segmentation {
    pub encoding: Encoding,
    /// Septets for GSM-7, UTF-16 code units for UCS-2.
    pub units: usize,
    /// 0 for an empty body (Twilio refuses to send one).
    pub segments: usize,
}

/// GSM 03.38 basic character set, in table order (0x1B, the escape, is left out).
const GSM7_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?\
¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
/// Characters reached through the escape: two septets each.
const GSM7_EXTENSION: &str = "\u{0C}^{}\\[~]|€";

/// Septets `c` takes in GSM-7, or `None` when GSM-7 cannot carry it.
fn gsm7_width(c: char) -> Option<usize> {
    if GSM7_BASIC.contains(c) {
        Some(1)
    } else if GSM7_EXTENSION.contains(c) {
        Some(2)
    } else {
        None
    }
}

pub fn segment(body: &str) -> Segmentation {
    let gsm: Option<Vec<usize>> = body.chars().map(gsm7_width).collect();
    let (encoding, widths) = match gsm {
        Some(widths) => (Encoding::Gsm7, widths),
        None => (
            Encoding::Ucs2,
            body.chars().map(char::len_utf16).collect::<Vec<_>>(),
        ),
    };
    let units: usize = widths.iter().sum();
    let (single, per_part) = encoding.capacity();
    let segments = match units {
        0 => 0,
        n if n <= single => 1,
        _ => pack(&widths, per_part),
    };
    Segmentation {
        encoding,
        units,
        segments,
    }
}

/// Parts needed when each character (of `width` units) must fit whole into one part.
fn pack(widths: &[usize], per_part: usize) -> usize {
    let mut parts = 1;
    let mut used = 0;
    for &width in widths {
        if used + width > per_part {
            parts += 1;
            used = 0;
        }
        used += width;
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(body: &str) -> (Encoding, usize, usize) {
        let s = segment(body);
        (s.encoding, s.units, s.segments)
    }

    #[test]
    fn the_basic_table_has_all_127_characters() {
        assert_eq!(GSM7_BASIC.chars().count(), 127);
        assert_eq!(GSM7_EXTENSION.chars().count(), 10);
    }

    #[test]
    fn gsm7_single_and_multi_part_limits() {
        assert_eq!(seg(""), (Encoding::Gsm7, 0, 0));
        assert_eq!(seg(&"a".repeat(160)), (Encoding::Gsm7, 160, 1));
        assert_eq!(seg(&"a".repeat(161)), (Encoding::Gsm7, 161, 2));
        assert_eq!(seg(&"a".repeat(306)), (Encoding::Gsm7, 306, 2));
        assert_eq!(seg(&"a".repeat(307)), (Encoding::Gsm7, 307, 3));
    }

    #[test]
    fn extension_characters_take_two_septets_and_are_not_split() {
        assert_eq!(seg("€"), (Encoding::Gsm7, 2, 1));
        assert_eq!(seg(&"{".repeat(80)), (Encoding::Gsm7, 160, 1));
        assert_eq!(seg(&"{".repeat(81)), (Encoding::Gsm7, 162, 2));
        // 152 septets, then an escape pair: it would straddle the 153 boundary, so it moves.
        let body = format!("{}€{}", "a".repeat(152), "a".repeat(152));
        assert_eq!(seg(&body), (Encoding::Gsm7, 306, 3));
        let body = format!("{}€{}", "a".repeat(151), "a".repeat(153));
        assert_eq!(seg(&body), (Encoding::Gsm7, 306, 2));
    }

    #[test]
    fn gsm7_covers_accents_greek_and_controls_of_the_table() {
        let body = "Ça coûte 5€? Åßé ΔΩ @£$¥ ¡¿ ÄÖÑÜ§ äöñüà\r\n";
        // û is not GSM-7.
        assert_eq!(segment(body).encoding, Encoding::Ucs2);
        let body = "Ça coute 5€? Åßé ΔΩ @£$¥ ¡¿ ÄÖÑÜ§ äöñüà\r\n[]{}|~^\\\u{0C}";
        assert_eq!(segment(body).encoding, Encoding::Gsm7);
        for not_gsm in ["`", "ç", "á", "中", "😀", "\t", "’"] {
            assert_eq!(segment(not_gsm).encoding, Encoding::Ucs2, "{not_gsm}");
        }
    }

    #[test]
    fn ucs2_limits_and_surrogate_pairs() {
        assert_eq!(seg(&"中".repeat(70)), (Encoding::Ucs2, 70, 1));
        assert_eq!(seg(&"中".repeat(71)), (Encoding::Ucs2, 71, 2));
        assert_eq!(seg(&"中".repeat(134)), (Encoding::Ucs2, 134, 2));
        assert_eq!(seg(&"中".repeat(135)), (Encoding::Ucs2, 135, 3));
        assert_eq!(seg(&"😀".repeat(35)), (Encoding::Ucs2, 70, 1));
        // 66 units, then a surrogate pair that would straddle the 67 boundary.
        let body = format!("{}😀{}", "中".repeat(66), "中".repeat(66));
        assert_eq!(seg(&body), (Encoding::Ucs2, 134, 3));
        let body = format!("{}😀{}", "中".repeat(65), "中".repeat(67));
        assert_eq!(seg(&body), (Encoding::Ucs2, 134, 2));
    }

    #[test]
    fn one_non_gsm_character_switches_the_whole_body_to_ucs2() {
        let body = format!("{}é", "a".repeat(100));
        assert_eq!(seg(&body), (Encoding::Gsm7, 101, 1));
        let body = format!("{}ç", "a".repeat(100));
        assert_eq!(seg(&body), (Encoding::Ucs2, 101, 2));
    }

    #[test]
    fn logtos_default_template_with_a_six_digit_code_fits_one_segment() {
        let body = "Your Logto sign-in verification code is 123456. The code will remain active for 10 minutes.";
        assert_eq!(segment(body).segments, 1);
        assert_eq!(segment(body).encoding, Encoding::Gsm7);
    }
}
