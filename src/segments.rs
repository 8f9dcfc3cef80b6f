//! How many SMS segments a body costs, by the rules Twilio bills with: GSM-7 when every
//! character is in the GSM 03.38 alphabet (extension characters take an escape septet too),
//! UCS-2 otherwise. A multi-part message loses room per part to the concatenation header, and
//! an escape pair or a grapheme cluster (a surrogate pair, an emoji with its skin-tone modifier,
//! a ZWJ sequence, a flag) is never split across parts (handsets would garble it).
//!
//! The rules are those of Twilio's own calculator (github.com/TwilioDevEd/message-segment-calculator,
//! `src/libs/SegmentedMessage.ts` and `Segment.ts`): the body is cut into grapheme clusters
//! (with `\r\n` counted as two), a cluster of more than one UTF-16 unit or outside GSM 03.38
//! makes the whole body UCS-2, and each cluster goes whole into a 1,120-bit part, of which a
//! multi-part message spends 48 bits on the concatenation header.

use unicode_segmentation::UnicodeSegmentation;

/// Twilio refuses a body longer than this (error 21617). Its documentation counts "characters"
/// and warns that emoji and other non-GSM characters count as several; UTF-16 code units are
/// the strictest reading that matches that warning, so that is what `over_body_limit` uses.
pub const MAX_BODY_CHARS: usize = 1600;

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
    /// UTF-16 code units of the body, what `MAX_BODY_CHARS` is measured in.
    pub utf16_units: usize,
    /// More than `MAX_BODY_CHARS`: Twilio would refuse the message.
    pub over_body_limit: bool,
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

/// The clusters the body is packed by: extended grapheme clusters, except that `\r\n` is two
/// (Twilio's calculator splits it, as GSM-7 carries CR and LF as two septets).
fn clusters(body: &str) -> impl Iterator<Item = &str> {
    body.graphemes(true).flat_map(|g| match g {
        "\r\n" => ["\r", "\n"].into_iter().take(2),
        g => [g, ""].into_iter().take(1),
    })
}

/// Septets of a cluster in GSM-7, or `None` when GSM-7 cannot carry it (a cluster of more than
/// one character never can: its extra characters are combining marks, modifiers or joiners).
fn gsm7_cluster_width(cluster: &str) -> Option<usize> {
    let mut chars = cluster.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) => gsm7_width(c),
        _ => None,
    }
}

pub fn segment(body: &str) -> Segmentation {
    let gsm: Option<Vec<usize>> = clusters(body).map(gsm7_cluster_width).collect();
    let (encoding, widths) = match gsm {
        Some(widths) => (Encoding::Gsm7, widths),
        None => (
            Encoding::Ucs2,
            clusters(body)
                .map(|g| g.encode_utf16().count())
                .collect::<Vec<_>>(),
        ),
    };
    let units: usize = widths.iter().sum();
    let (single, per_part) = encoding.capacity();
    let segments = match units {
        0 => 0,
        n if n <= single => 1,
        _ => pack(&widths, per_part),
    };
    let utf16_units = body.encode_utf16().count();
    Segmentation {
        encoding,
        units,
        segments,
        utf16_units,
        over_body_limit: utf16_units > MAX_BODY_CHARS,
    }
}

/// Parts needed when each cluster (of `width` units) must fit whole into one part. A cluster
/// wider than a part (a very long ZWJ run) starts a part of its own and overflows it, as in
/// Twilio's calculator.
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

    /// Bodies and the encoding and segment count Twilio's calculator
    /// (TwilioDevEd/message-segment-calculator at a50230f, `SegmentedMessage` with its default
    /// `auto` encoding and no smart encoding) gives for each; a body is the concatenation of
    /// `text` repeated `n` times. Counting by code points instead of clusters gets "skin tone at
    /// the boundary", "keycap straddles 67" and "combining mark straddles 67" wrong.
    type Row = (
        &'static str,
        &'static [(&'static str, usize)],
        Encoding,
        usize,
    );

    #[rustfmt::skip]
    const TWILIO_CALCULATOR: &[Row] = {
        use Encoding::{Gsm7, Ucs2};
        &[
        ("ascii 160", &[("a", 160)], Gsm7, 1),
        ("ascii 161", &[("a", 161)], Gsm7, 2),
        ("ascii 306", &[("a", 306)], Gsm7, 2),
        ("ascii 307", &[("a", 307)], Gsm7, 3),
        ("euro at end of single", &[("a", 158), ("\u{20ac}", 1)], Gsm7, 1),
        ("euro overflows single", &[("a", 159), ("\u{20ac}", 1)], Gsm7, 2),
        ("escape pair straddles 153", &[("a", 152), ("\u{20ac}", 1), ("a", 152)], Gsm7, 3),
        ("escape pair fits before 153", &[("a", 151), ("\u{20ac}", 1), ("a", 153)], Gsm7, 2),
        ("brackets 80", &[("{", 80)], Gsm7, 1),
        ("brackets 81", &[("[]", 40), ("{", 1)], Gsm7, 2),
        ("crlf gsm 80", &[("\u{d}\u{a}", 80)], Gsm7, 1),
        ("crlf gsm 81", &[("\u{d}\u{a}", 81)], Gsm7, 2),
        ("han 70", &[("\u{4e2d}", 70)], Ucs2, 1),
        ("han 71", &[("\u{4e2d}", 71)], Ucs2, 2),
        ("han 134", &[("\u{4e2d}", 134)], Ucs2, 2),
        ("han 135", &[("\u{4e2d}", 135)], Ucs2, 3),
        ("skin tone at the boundary", &[("\u{4e2d}", 65), ("\u{1f44d}\u{1f3fd}", 1), ("\u{4e2d}", 65)], Ucs2, 3),
        ("skin tone after 63", &[("\u{4e2d}", 63), ("\u{1f44d}\u{1f3fd}", 1), ("\u{4e2d}", 67)], Ucs2, 2),
        ("emoji 35", &[("\u{1f600}", 35)], Ucs2, 1),
        ("emoji 36", &[("\u{1f600}", 36)], Ucs2, 2),
        ("surrogate straddles 67", &[("\u{4e2d}", 66), ("\u{1f600}", 1), ("\u{4e2d}", 66)], Ucs2, 3),
        ("zwj family at boundary", &[("a", 60), ("\u{1f468}\u{200d}\u{1f469}\u{200d}\u{1f467}\u{200d}\u{1f466}", 1), ("b", 10)], Ucs2, 2),
        ("zwj family x6", &[("\u{1f468}\u{200d}\u{1f469}\u{200d}\u{1f467}\u{200d}\u{1f466}", 6)], Ucs2, 1),
        ("zwj family x7", &[("\u{1f468}\u{200d}\u{1f469}\u{200d}\u{1f467}\u{200d}\u{1f466}", 7)], Ucs2, 2),
        ("flags 17", &[("\u{1f1eb}\u{1f1f7}", 17)], Ucs2, 1),
        ("flags 18", &[("\u{1f1eb}\u{1f1f7}", 18)], Ucs2, 2),
        ("flag straddles boundary", &[("x", 65), ("\u{1f1ef}\u{1f1f5}", 1), ("y", 10)], Ucs2, 2),
        ("rainbow flag zwj", &[("\u{1f3f3}\u{fe0f}\u{200d}\u{1f308}", 10)], Ucs2, 1),
        ("keycap sequences", &[("1\u{fe0f}\u{20e3}", 23), ("a", 2)], Ucs2, 2),
        ("combining acute", &[("e\u{301}", 35)], Ucs2, 1),
        ("combining acute 36", &[("e\u{301}", 36)], Ucs2, 2),
        ("mixed latin greek gsm", &[("\u{394}\u{3a9}\u{3a3} abc ", 20)], Gsm7, 1),
        ("mixed latin cyrillic", &[("\u{41a}\u{43e}\u{434} ", 17), ("ok", 1)], Ucs2, 1),
        ("arabic with emoji", &[("\u{645}\u{631}\u{62d}\u{628}\u{627} ", 11), ("\u{1f642}", 1)], Ucs2, 1),
        ("devanagari", &[("\u{928}\u{92e}\u{938}\u{94d}\u{924}\u{947} ", 10), ("!", 1)], Ucs2, 2),
        ("hangul syllables", &[("\u{d55c}\u{ad6d}\u{c5b4}", 24)], Ucs2, 2),
        ("otp template gsm", &[("Your code is 123456. It expires in 10 minutes.", 1)], Gsm7, 1),
        ("otp template with emoji", &[("Your code is 123456 \u{1f510} It expires in 10 minutes.", 1)], Ucs2, 1),
        ("woman technologist skin zwj", &[("\u{1f469}\u{1f3fd}\u{200d}\u{1f4bb}", 9), (".", 1)], Ucs2, 1),
        ("gsm extension run 76", &[("|", 76), ("ab", 4)], Gsm7, 1),
        ("ucs2 with euro", &[("\u{20ac}", 68), ("\u{e7}", 3)], Ucs2, 2),
        ("surrogate straddles 67", &[("\u{4e2d}", 66), ("\u{1f600}", 1), ("\u{4e2d}", 66)], Ucs2, 3),
        ("zwj family straddles 67", &[("\u{4e2d}", 60), ("\u{1f468}\u{200d}\u{1f469}\u{200d}\u{1f467}\u{200d}\u{1f466}", 1), ("\u{4e2d}", 70)], Ucs2, 3),
        ("flag straddles 67", &[("\u{4e2d}", 66), ("\u{1f1e9}\u{1f1ea}", 1), ("\u{4e2d}", 66)], Ucs2, 3),
        ("keycap straddles 67", &[("\u{4e2d}", 65), ("1\u{fe0f}\u{20e3}", 1), ("\u{4e2d}", 66)], Ucs2, 3),
        ("combining mark straddles 67", &[("\u{4e2d}", 66), ("e\u{301}", 1), ("\u{4e2d}", 66)], Ucs2, 3),
        ("skin tone straddles 67 in part 2", &[("\u{4e2d}", 67), ("\u{4e2d}", 65), ("\u{1f44d}\u{1f3fd}", 1), ("\u{4e2d}", 10)], Ucs2, 3),
        ]
    };

    #[test]
    fn agrees_with_twilios_segment_calculator() {
        assert!(TWILIO_CALCULATOR.len() >= 30);
        for (name, parts, encoding, segments) in TWILIO_CALCULATOR {
            let body: String = parts.iter().map(|(t, n)| t.repeat(*n)).collect();
            let s = segment(&body);
            assert_eq!((s.encoding, s.segments), (*encoding, *segments), "{name}");
        }
    }

    #[test]
    fn a_grapheme_cluster_is_never_split() {
        // 65 units, then a 4-unit thumbs-up with its skin tone: code points would put its
        // first half in part 1; the cluster moves whole to part 2, and part 3 takes the rest.
        let body = format!("{}👍🏽{}", "中".repeat(65), "中".repeat(65));
        assert_eq!(seg(&body), (Encoding::Ucs2, 134, 3));
    }

    #[test]
    fn bodies_over_1600_utf16_units_are_flagged() {
        let s = segment(&"a".repeat(1600));
        assert_eq!((s.utf16_units, s.over_body_limit), (1600, false));
        assert!(segment(&"a".repeat(1601)).over_body_limit);
        // 800 emoji are 1,600 UTF-16 units; one more character is over.
        assert!(!segment(&"😀".repeat(800)).over_body_limit);
        assert!(segment(&format!("{}a", "😀".repeat(800))).over_body_limit);
    }
}
