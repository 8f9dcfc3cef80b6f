//! What an operator configures against SMS pumping (`smsPumping` in the config), validated:
//! velocity limits, a daily segment budget and what to do when the counters cannot be reached.

use std::collections::BTreeMap;

/// `smsPumping`: every part optional; absent, the connector sends as the JS connector does.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SmsPumping {
    /// Checked in order; the first one a send would exceed refuses it.
    pub limits: Vec<Limit>,
    pub daily_segments: Option<DailySegments>,
    pub risk_score: Option<RiskScore>,
    pub on_store_error: OnFailure,
}

/// Twilio Lookup's SMS pumping risk, asked before sending to a number of `countries`.
#[derive(Debug, Clone, PartialEq)]
pub struct RiskScore {
    /// ISO 3166-1 alpha-2 codes, or [`ANY_COUNTRY`] for every country.
    pub countries: std::collections::BTreeSet<String>,
    /// A score above this (0 to 100) refuses the send.
    pub max_score: u8,
    /// A number Twilio's Fraud Guard blocks is refused whatever its score.
    pub refuse_blocked: bool,
    /// How long an answer is reused for the same number.
    pub cache_seconds: u64,
    /// When Lookup fails or gives no score.
    pub on_error: OnFailure,
}

impl RiskScore {
    pub fn applies_to(&self, country: &str) -> bool {
        self.countries.contains(ANY_COUNTRY) || self.countries.contains(country)
    }
}

/// "At most `max` sends per `window_seconds`" for each subject of one kind.
#[derive(Debug, Clone, PartialEq)]
pub struct Limit {
    pub by: By,
    pub max: u64,
    pub window_seconds: u64,
    /// Replaces `max` for recipients of these countries (ISO 3166-1 alpha-2, upper case).
    pub per_country: BTreeMap<String, u64>,
}

/// What a limit counts sends of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum By {
    /// The end user's IP address (Logto's `ip`), IPv4 addresses counted by their first
    /// `ipv4_prefix` bits and IPv6 by their first `ipv6_prefix` bits (/24 and /64 group a
    /// subscriber's addresses; /32 and /128 count each address).
    Ip { ipv4_prefix: u8, ipv6_prefix: u8 },
    /// The recipient's number without its last `hidden_digits` digits: a block of numbers a
    /// pumping attack walks through.
    NumberRange { hidden_digits: u8 },
    /// The recipient's country.
    Country,
}

impl By {
    /// The name the config uses (`by`), logs and messages quote.
    pub fn name(self) -> &'static str {
        match self {
            By::Ip { .. } => "ip",
            By::NumberRange { .. } => "numberRange",
            By::Country => "country",
        }
    }
}

/// At most so many SMS segments per UTC day, in total and per recipient country.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DailySegments {
    pub total: Option<u64>,
    /// Per country; the `*` entry applies to every country not listed.
    pub per_country: BTreeMap<String, u64>,
}

impl DailySegments {
    /// The budget of one recipient country, if any.
    pub fn of_country(&self, iso: &str) -> Option<u64> {
        self.per_country
            .get(iso)
            .or_else(|| self.per_country.get(ANY_COUNTRY))
            .copied()
    }
}

/// The `per_country` key of every country not listed.
pub const ANY_COUNTRY: &str = "*";
/// The country a recipient is counted under when its number belongs to none (invalid,
/// non-geographic): ISO 3166's user-assigned "unknown".
pub const UNKNOWN_COUNTRY: &str = "ZZ";

/// What a send does when a check cannot decide: the counters' store (Redis) did not answer
/// within its budget, or Lookup failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnFailure {
    /// Send anyway (one log line per outage): an outage must not stop sign-ins.
    #[default]
    Allow,
    /// Refuse the send: nothing leaves unchecked.
    Refuse,
}

impl SmsPumping {
    /// Whether a send needs its recipient's country (a country limit, a per-country value).
    pub fn needs_country(&self) -> bool {
        self.limits
            .iter()
            .any(|limit| limit.by == By::Country || !limit.per_country.is_empty())
            || self
                .daily_segments
                .as_ref()
                .is_some_and(|budget| !budget.per_country.is_empty())
            || self.risk_score.is_some()
    }
}
