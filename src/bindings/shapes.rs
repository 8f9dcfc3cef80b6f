//! The shapes index.d.ts gives what crosses the boundary: the config, the message resource,
//! the preview, the config check and the error.

use napi_derive::napi;

// The template, config, options and message structs below are never built in Rust: they exist
// so the generated index.d.ts types what crosses the boundary as plain JS values.

/// One SMS template: `content` may hold `{{code}}` and other payload placeholders.
#[allow(dead_code)]
#[napi(object)]
pub struct SmsTemplate {
    pub usage_type: String,
    pub content: String,
    /// BCP 47 tag (`fr`, `pt-BR`): used when Logto's `payload.locale` matches it (exactly, then
    /// by primary language). Templates without one are the fallback.
    pub locale: Option<String>,
}

/// The connector config, the same shape Logto saves for the official Twilio SMS connector.
#[allow(dead_code)]
#[napi(object, js_name = "TwilioSmsConfig")]
pub struct TwilioSmsConfigShape {
    /// One of the REST API hosts Twilio documents: `api.twilio.com` (default) or
    /// `api.us1.twilio.com` (US1), `api.dublin.ie1.twilio.com` (IE1), `api.sydney.au1.twilio.com`
    /// (AU1). Any other host is refused, such as the edge-less `api.ie1.twilio.com` (stopped
    /// working on 2026-04-28) or another edge (`api.frankfurt.de1.twilio.com`).
    pub host: Option<String>,
    #[napi(js_name = "accountSID")]
    pub account_sid: String,
    /// Which credential authenticates (the Console's Select). Without it: the API key pair when
    /// both halves are set, else `authToken`.
    #[napi(ts_type = "'authToken' | 'apiKey'")]
    pub auth_method: Option<String>,
    /// Required when `authMethod` is `authToken`, or (without `authMethod`) unless `apiKeySID`
    /// and `apiKeySecret` are set.
    pub auth_token: Option<String>,
    /// API Key SID (`SK…`): with `apiKeySecret`, the Basic-auth credential instead of
    /// `accountSID:authToken` (the API key wins when both are set).
    #[napi(js_name = "apiKeySID")]
    pub api_key_sid: Option<String>,
    pub api_key_secret: Option<String>,
    /// Which sender to use (the Console's Select; `phoneNumber` means `fromPhoneNumber`, whatever
    /// its form). Without it: `fromMessagingServiceSID` and/or `fromPhoneNumber`, whichever are set.
    #[napi(ts_type = "'messagingService' | 'phoneNumber'")]
    pub sender_type: Option<String>,
    /// Messaging Service SID (`MG…`, checked with `senderType: 'messagingService'`); required
    /// unless `fromPhoneNumber` is set.
    #[napi(js_name = "fromMessagingServiceSID")]
    pub from_messaging_service_sid: Option<String>,
    /// The sender sent as `From`: an E.164 number (`+15551234567`), a short code (5 or 6
    /// digits) or an alphanumeric sender ID (1 to 11 letters, digits, spaces and `+ - _ &`, at
    /// least one letter; not allowed to the US and Canada, and recipients cannot reply to it).
    pub from_phone_number: Option<String>,
    /// ISO 3166-1 alpha-2 codes (`['US', 'CA']`): a send to a number of any other country, or
    /// to no valid number of these, is refused before any request. Absent or empty: no limit.
    pub allowed_countries: Option<Vec<String>>,
    /// Sends `RiskCheck=disable` when true.
    pub disable_risk_check: Option<bool>,
    /// `twilioDefault` ignores `validityPeriod`; `custom` requires it. Without it: used when set.
    #[napi(ts_type = "'twilioDefault' | 'custom'")]
    pub validity_period_mode: Option<String>,
    /// Seconds (1 to 36000) Twilio may queue the message before dropping it (`ValidityPeriod`).
    pub validity_period: Option<u32>,
    /// Sends `SmartEncoded`: Twilio replaces Unicode look-alikes with GSM-7 characters. `on` /
    /// `off` (the Console's Select) are `true` / `false`; `default` sends nothing.
    #[napi(ts_type = "boolean | 'on' | 'off' | 'default'")]
    pub smart_encoded: Option<bool>,
    /// Must include the usage types Register, SignIn, ForgotPassword and Generic.
    pub templates: Vec<SmsTemplate>,
    /// Limits against SMS pumping, checked before any request to Twilio (docs/sms-pumping.md).
    /// Absent: none.
    pub sms_pumping: Option<SmsPumping>,
}

/// `smsPumping`: every part optional; an unknown key is refused.
#[allow(dead_code)]
#[napi(object)]
pub struct SmsPumping {
    /// Checked in order; a send over any of them is refused with `rate_limit_exceeded`.
    pub limits: Option<Vec<SendLimit>>,
    /// SMS segments per UTC day; over it a send is refused with `usage_limit_exceeded`
    /// (`rate_limit_exceeded` for a Logto whose connector-kit lacks that code).
    pub daily_segments: Option<DailySegments>,
    /// Twilio Lookup's SMS pumping risk score, asked before sending to these countries.
    pub risk_score: Option<RiskScore>,
    /// When the counters' store cannot answer in time: `allow` (default) sends uncounted,
    /// `refuse` refuses the send.
    #[napi(ts_type = "'allow' | 'refuse'")]
    pub on_store_error: Option<String>,
}

/// At most `max` sends per `windowSeconds` per client network, number range or country.
#[allow(dead_code)]
#[napi(object)]
pub struct SendLimit {
    /// `ip`: the end user's address (Logto's `ip`); `numberRange`: the recipient's number
    /// without its last `hiddenDigits`; `country`: the recipient's country.
    #[napi(ts_type = "'ip' | 'numberRange' | 'country'")]
    pub by: String,
    /// 0 to 1000000000.
    pub max: u32,
    /// 1 to 2592000 (30 days); windows are fixed, aligned to the Unix epoch.
    pub window_seconds: u32,
    /// Replaces `max` for recipients of these countries (ISO 3166-1 alpha-2).
    #[napi(ts_type = "Record<string, number>")]
    pub per_country: Option<std::collections::HashMap<String, u32>>,
    /// `ip` only: IPv4 addresses counted by their first N bits (1 to 32, default 32).
    pub ipv4_prefix: Option<u32>,
    /// `ip` only: IPv6 addresses counted by their first N bits (1 to 128, default 64).
    pub ipv6_prefix: Option<u32>,
    /// `numberRange` only: how many trailing digits a range leaves out (1 to 8, default 3).
    pub hidden_digits: Option<u32>,
}

/// Twilio Lookup v2 (`Fields=sms_pumping_risk`) asked about each recipient of `countries`,
/// after the velocity limits and before the daily budget; answers cached per number.
#[allow(dead_code)]
#[napi(object)]
pub struct RiskScore {
    /// ISO 3166-1 alpha-2 codes, or `*` for every country.
    pub countries: Vec<String>,
    /// 0 to 100: a higher score refuses the send (`invalid_request_parameters`).
    pub max_score: u32,
    /// Refuse a number Twilio's Fraud Guard blocks, whatever its score (default true).
    pub refuse_blocked: Option<bool>,
    /// How long an answer is reused for the same number (default 86400, range 0 to 2592000).
    pub cache_seconds: Option<u32>,
    /// When Lookup fails or gives no score: `allow` (default) or `refuse`.
    #[napi(ts_type = "'allow' | 'refuse'")]
    pub on_error: Option<String>,
}

/// At most so many SMS segments per UTC day, in total and per recipient country.
#[allow(dead_code)]
#[napi(object)]
pub struct DailySegments {
    pub total: Option<u32>,
    /// ISO 3166-1 alpha-2 codes to segments; `*` is every country not listed.
    #[napi(ts_type = "Record<string, number>")]
    pub per_country: Option<std::collections::HashMap<String, u32>>,
}

/// What Logto knows of a send beyond its message: the end user's address.
#[allow(dead_code)]
#[napi(object)]
pub struct SendContext {
    /// The end user's IP address (Logto passes `ip`), for `smsPumping`'s `ip` limits.
    pub ip: Option<String>,
}

/// The part of Twilio's Message resource callers rely on, typed as Twilio's API definition
/// types it; the object carries every field Twilio returned.
#[allow(dead_code)]
#[napi(object)]
pub struct MessageResource {
    /// `SM…` (or `MM…`), 34 characters: a send resolves only with a string `sid`.
    pub sid: String,
    /// `queued` or `accepted` right after a send.
    #[napi(
        ts_type = "'queued' | 'sending' | 'sent' | 'failed' | 'delivered' | 'undelivered' | 'receiving' | 'received' | 'accepted' | 'scheduled' | 'read' | 'partially_delivered' | 'canceled'"
    )]
    pub status: String,
    #[napi(ts_type = "string | null")]
    pub to: String,
    #[napi(ts_type = "string | null")]
    pub body: String,
    /// Segments billed, as a decimal string.
    #[napi(js_name = "num_segments", ts_type = "string | null")]
    pub num_segments: String,
    /// Null until the message is priced.
    #[napi(ts_type = "string | null")]
    pub price: String,
    /// Twilio's error code when the message failed or was undelivered, else null.
    #[napi(js_name = "error_code", ts_type = "number | null")]
    pub error_code: i64,
    #[napi(js_name = "error_message", ts_type = "string | null")]
    pub error_message: String,
}

/// The template a preview chose.
#[napi(object)]
pub struct TemplateChoice {
    pub usage_type: String,
    pub locale: Option<String>,
    pub content: String,
}

/// What a send would deliver, computed without any network call.
#[napi(object)]
pub struct MessagePreview {
    pub template: TemplateChoice,
    /// The rendered body.
    pub body: String,
    #[napi(ts_type = "'GSM-7' | 'UCS-2'")]
    pub encoding: String,
    /// Septets (GSM-7) or UTF-16 code units (UCS-2).
    pub units: u32,
    /// SMS segments Twilio bills (0 for an empty body).
    pub segments: u32,
    /// UTF-16 code units of the body, what Twilio's 1,600-character limit is measured in.
    pub utf16_units: u32,
    /// More than 1,600 characters: Twilio would refuse the message (error 21617).
    pub over_body_limit: bool,
    /// Present when `to` was given.
    pub recipient: Option<RecipientCheck>,
}

/// A previewed recipient, judged as a send would judge it.
#[napi(object)]
pub struct RecipientCheck {
    /// ISO 3166-1 alpha-2 code from libphonenumber's metadata; absent for a number of no
    /// country (invalid, or non-geographic such as +800).
    pub country: Option<String>,
    /// Whether `allowedCountries` lets a send reach it (always true without the field).
    pub allowed: bool,
    /// The error message a send would reject with, when not allowed.
    pub rejection: Option<String>,
}

/// What `validateConfig` answers: zod's `safeParse` shape without the parsed data.
#[napi(object)]
pub struct ConfigCheck {
    pub success: bool,
    /// Every problem, one per line, when `success` is false.
    pub message: Option<String>,
    /// `{ code, path, message }` per problem, with `expected` and `received` for
    /// `invalid_type` (zod issue shape).
    pub issues: Option<serde_json::Value>,
}

/// What the constructor throws and every promise rejects with: an `Error` carrying these
/// fields (`error instanceof Error` holds; cast to this type to read `code` and `data`).
#[allow(dead_code)]
#[napi(object, js_name = "TwilioSmsError")]
pub struct TwilioSmsErrorShape {
    pub name: String,
    pub message: String,
    #[napi(ts_type = "ConnectorErrorCode")]
    pub code: String,
    /// `{ message }` (Twilio's raw answer for an HTTP error), or for `invalid_config` from the
    /// config `{ name: 'ConfigError', issues }` with issues in zod's shape.
    #[napi(
        ts_type = "{ message: string } | { name: 'ConfigError'; issues: Array<{ code: string; path: Array<string | number>; message: string; expected?: string; received?: string }> }"
    )]
    pub data: serde_json::Value,
}
