//! Connector config: the same shape and the same acceptance rules as the JS connector's zod
//! guard (plus upstream's optional `host`), validated once into a typed value whose types hold
//! what validation guarantees (one credential, at least one sender).

pub(crate) mod cache;
#[cfg(any(test, feature = "test-support"))]
pub mod fixture;
mod issues;
mod rules;

use serde_json::Value;

pub use issues::ConfigError;

use crate::country::AllowedCountries;
use crate::secret::Secret;
use crate::sender;

/// The usage types Logto needs for its complete flow; a config without one of them is rejected
/// up front rather than failing a user's sign-in later.
pub const REQUIRED_USAGE_TYPES: [&str; 4] = ["Register", "SignIn", "ForgotPassword", "Generic"];
pub const GENERIC_USAGE_TYPE: &str = "Generic";
pub const DEFAULT_HOST: &str = "api.twilio.com";

#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    pub usage_type: String,
    pub content: String,
    /// A BCP 47 tag (`fr`, `pt-BR`); `None` is the fallback for every language.
    pub locale: Option<String>,
}

/// A Twilio API Key: its SID is the Basic-auth user instead of the Account SID.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiKey {
    pub sid: String,
    pub secret: Secret,
}

/// How requests authenticate: exactly one credential is used.
#[derive(Debug, Clone, PartialEq)]
pub enum Credential {
    /// The JS connector's: the Account SID and its auth token.
    AuthToken(Secret),
    /// An API key. It wins over an auth token configured beside it (a key can be revoked on its
    /// own, so an admin who set one up means it to be used); that token is kept only so error
    /// redaction still covers it.
    ApiKey {
        key: ApiKey,
        unused_token: Option<Secret>,
    },
}

/// Who the message is from: a Messaging Service, a sender sent as `From`, or both.
#[derive(Debug, Clone, PartialEq)]
pub enum Sender {
    /// `MessagingServiceSid`: the JS connector's only sender.
    MessagingService(String),
    /// `From`: an E.164 number, a short code or an alphanumeric sender ID.
    From(sender::FromAddress),
    /// Both are sent; Twilio then wants the `From` in the service's sender pool.
    Both {
        messaging_service_sid: String,
        from: sender::FromAddress,
    },
}

impl Sender {
    pub fn messaging_service_sid(&self) -> Option<&str> {
        match self {
            Sender::MessagingService(sid) => Some(sid),
            Sender::Both {
                messaging_service_sid,
                ..
            } => Some(messaging_service_sid),
            Sender::From(_) => None,
        }
    }

    /// What is sent as `From`, if anything.
    pub fn sent_as_from(&self) -> Option<&sender::FromAddress> {
        match self {
            Sender::From(from) | Sender::Both { from, .. } => Some(from),
            Sender::MessagingService(_) => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Lower-cased, as Twilio host names are; `None` means `api.twilio.com`.
    pub host: Option<String>,
    pub account_sid: String,
    pub credential: Credential,
    pub sender: Sender,
    pub disable_risk_check: bool,
    /// Seconds, 1..=36000, sent as `ValidityPeriod`.
    pub validity_period: Option<u32>,
    pub smart_encoded: Option<bool>,
    pub templates: Vec<Template>,
    /// The countries `to` may belong to; `None` (absent or empty) sends anywhere, as the JS
    /// connector does.
    pub allowed_countries: Option<AllowedCountries>,
    /// The SMS-pumping defence (`smsPumping`); `None` sends as the JS connector does.
    pub sms_pumping: Option<std::sync::Arc<crate::pumping::policy::SmsPumping>>,
}

impl Config {
    pub fn host(&self) -> &str {
        self.host.as_deref().unwrap_or(DEFAULT_HOST)
    }

    /// The Basic-auth user and password.
    pub fn credentials(&self) -> (&str, &Secret) {
        match &self.credential {
            Credential::AuthToken(token) => (&self.account_sid, token),
            Credential::ApiKey { key, .. } => (&key.sid, &key.secret),
        }
    }

    /// Every configured credential, used or not, each with the Basic-auth user it pairs with,
    /// so error redaction covers them all.
    pub fn credential_pairs(&self) -> Vec<(&str, &Secret)> {
        match &self.credential {
            Credential::AuthToken(token) => vec![(&self.account_sid, token)],
            Credential::ApiKey { key, unused_token } => {
                let token = unused_token.iter().map(|t| (self.account_sid.as_str(), t));
                token.chain([(key.sid.as_str(), &key.secret)]).collect()
            }
        }
    }

    /// Parses JSON text (what the bindings get from `JSON.stringify`) and validates it.
    pub fn from_json(text: &str) -> Result<Config, ConfigError> {
        match serde_json::from_str::<Value>(&crate::js_json::replace_lone_surrogates(text)) {
            Ok(value) => Config::from_value(&value),
            Err(err) => Err(ConfigError::whole(format!(
                "Expected a JSON object (config could not be parsed: {err})"
            ))),
        }
    }

    pub fn from_value(value: &Value) -> Result<Config, ConfigError> {
        rules::validate(value)
    }
}
