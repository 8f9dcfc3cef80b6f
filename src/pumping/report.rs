//! What operators see of the defence: one JSON line on stderr per refused send and per change
//! in the counters' store health, never a whole number, IP address or credential.

use serde_json::{json, Value};

use super::counters::{Counter, Rule, Subject};
use super::redis_store::Health;

const SOURCE: &str = "connector-twilio-sms-native";

/// The config path of a counter's rule, as messages and logs name it.
pub fn rule_path(rule: &Rule) -> String {
    match rule {
        Rule::Limit { index, .. } => format!("limits[{index}]"),
        Rule::DailyTotal => "dailySegments.total".to_owned(),
        Rule::DailyCountry(country) => format!("dailySegments.perCountry.{country}"),
    }
}

pub fn refused(counter: &Counter, count: u64, subject: &Subject, now: u64) {
    let mut line = json!({
        "level": "warn",
        "source": SOURCE,
        "event": "sms_pumping_refused",
        "rule": format!("smsPumping.{}", rule_path(&counter.rule)),
        "country": subject.country.as_deref(),
        "to": subject.masked_number(),
        "ip": subject.masked_ip(),
        "count": count,
        "adding": counter.add,
        "limit": counter.max,
        "resetsInSeconds": counter.resets_at.saturating_sub(now),
    });
    if let Rule::Limit {
        by, window_seconds, ..
    } = &counter.rule
    {
        line["by"] = Value::from(by.name());
        line["windowSeconds"] = Value::from(*window_seconds);
    }
    emit(&line);
}

pub fn risk_refused(subject: &Subject, reason: &super::lookup::Reason) {
    let mut line = json!({
        "level": "warn",
        "source": SOURCE,
        "event": "sms_pumping_refused",
        "rule": "smsPumping.riskScore",
        "country": subject.country.as_deref(),
        "to": subject.masked_number(),
        "ip": subject.masked_ip(),
    });
    match reason {
        super::lookup::Reason::ScoreAbove { score, max_score } => {
            line["score"] = Value::from(*score);
            line["maxScore"] = Value::from(*max_score);
        }
        super::lookup::Reason::NumberBlocked { since } => {
            line["numberBlocked"] = Value::from(true);
            line["blockedSince"] = Value::from(since.as_deref());
        }
    }
    emit(&line);
}

/// Lookup could not score a number: logged whether the send goes on or not.
pub fn risk_unknown(subject: &Subject, reason: &str, refused: bool) {
    emit(&json!({
        "level": "warn",
        "source": SOURCE,
        "event": if refused { "sms_pumping_refused" } else { "sms_pumping_unscored" },
        "rule": "smsPumping.riskScore",
        "country": subject.country.as_deref(),
        "to": subject.masked_number(),
        "ip": subject.masked_ip(),
        "reason": reason,
    }));
}

pub fn store_health(store: &str, health: Health, reason: Option<&str>, refuse: bool) {
    let line = match health {
        Health::WentDown => json!({
            "level": "error",
            "source": SOURCE,
            "event": "sms_pumping_store_down",
            "store": store,
            "reason": reason,
            "sends": if refuse { "refused until it answers (onStoreError: refuse)" } else { "allowed uncounted until it answers (onStoreError: allow)" },
        }),
        Health::CameBack => json!({
            "level": "info",
            "source": SOURCE,
            "event": "sms_pumping_store_up",
            "store": store,
        }),
    };
    emit(&line);
}

fn emit(line: &Value) {
    crate::stderr::write_line(&line.to_string());
}
