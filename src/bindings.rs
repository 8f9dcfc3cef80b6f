//! N-API surface: converts JS values in and out and nothing else; every rule lives in the core.

use std::sync::Arc;

use napi::bindgen_prelude::*;
use napi::{Env, JsDate, JsString, JsValue, ValueType};
use napi_derive::napi;

use crate::config::{self, Config, ConfigError};
use crate::error::{ConnectorFailure, ErrorKind};
use crate::js::{JS_TYPE_MARKER, KNOWN_KEYS};
use crate::template::Payload;
use crate::{guard, preview, transport, twilio, usage};

/// Connector-kit error codes this connector rejects with (`error.code`).
#[napi(string_enum)]
pub enum ConnectorErrorCode {
    #[napi(value = "general")]
    General,
    #[napi(value = "invalid_config")]
    InvalidConfig,
    #[napi(value = "invalid_request_parameters")]
    InvalidRequestParameters,
    #[napi(value = "invalid_response")]
    InvalidResponse,
    #[napi(value = "template_not_found")]
    TemplateNotFound,
    #[napi(value = "rate_limit_exceeded")]
    RateLimitExceeded,
}

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
    /// `api.twilio.com` (default) or a regional host such as `api.dublin.ie1.twilio.com`.
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
    /// Which sender to use (the Console's Select). Without it: `fromMessagingServiceSID` and/or
    /// `fromPhoneNumber`, whichever are set.
    #[napi(ts_type = "'messagingService' | 'phoneNumber'")]
    pub sender_type: Option<String>,
    /// Messaging Service SID (`MG…`); required unless `fromPhoneNumber` is set.
    #[napi(js_name = "fromMessagingServiceSID")]
    pub from_messaging_service_sid: Option<String>,
    /// Sender number in E.164 (`+15551234567`), sent as `From`.
    pub from_phone_number: Option<String>,
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
}

/// The part of Twilio's Message resource callers rely on; the object carries every field
/// Twilio returned.
#[allow(dead_code)]
#[napi(object)]
pub struct MessageResource {
    /// `SM…`
    pub sid: String,
    /// `queued` or `accepted` on success.
    pub status: String,
    pub to: String,
    pub body: String,
    #[napi(js_name = "num_segments")]
    pub num_segments: Option<String>,
    pub price: Option<String>,
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

/// A Twilio SMS sender bound to one validated config. Instances share one connection pool.
#[napi]
pub struct TwilioSmsConnector {
    config: Arc<Config>,
    options: twilio::SendOptions,
}

#[napi]
impl TwilioSmsConnector {
    /// Validates `config` (throws an Error with `code: 'invalid_config'` naming every problem).
    #[napi(
        constructor,
        ts_args_type = "config: TwilioSmsConfig, options?: ConnectorOptions"
    )]
    pub fn new(env: Env, config: Unknown, options: Option<Unknown>) -> Result<Self> {
        let built = guard::catch_sync(|| {
            let config = parse_config(&env, config)?;
            Ok((config, parse_options(options)?))
        });
        match built {
            Ok((config, options)) => Ok(TwilioSmsConnector { config, options }),
            Err(failure) => Err(throwable(&env, &failure)),
        }
    }

    /// Sends one SMS. Resolves with Twilio's Message resource; rejects with an Error carrying
    /// `code` (a connector-kit error code) and `data`. Never throws synchronously.
    #[napi(
        ts_args_type = "to: string, usageType: string, payload?: Record<string, unknown>",
        ts_return_type = "Promise<MessageResource>"
    )]
    pub fn send_message<'env>(
        &self,
        env: &'env Env,
        to: Unknown,
        usage_type: Unknown,
        payload: Option<Unknown>,
    ) -> Result<PromiseRaw<'env, Unknown<'env>>> {
        let prepared =
            guard::catch_sync(|| prepare(&self.config, &self.options, to, usage_type, payload));
        spawn_send(env, prepared, self.options.clone())
    }

    /// Outbound SMS since `startFrom` (default: the first of the current month, UTC), from
    /// Twilio's Usage Records (`sms-outbound`). Settles within 2.5 s (Logto allows 3 s).
    #[napi(ts_args_type = "startFrom?: Date", ts_return_type = "Promise<number>")]
    pub fn get_usage<'env>(
        &self,
        env: &'env Env,
        start_from: Option<Unknown>,
    ) -> Result<PromiseRaw<'env, Unknown<'env>>> {
        let prepared = guard::catch_sync(|| {
            start_day(start_from).and_then(|day| usage::prepare(&self.config, &self.options, day))
        });
        let timeout = self.options.timeout.min(usage::USAGE_TIMEOUT);
        let connect_timeout = self.options.connect_timeout;
        let fut = guard::catch_async(async move {
            let request = prepared?;
            let client = transport::shared_client(connect_timeout, timeout).await?;
            usage::fetch(&client, request, timeout).await
        });
        env.spawn_future_with_callback(
            async move { Ok(fut.await) },
            |env, outcome: std::result::Result<u64, ConnectorFailure>| match outcome {
                // A JS number, never a BigInt: counts stay far below 2^53.
                Ok(count) => env.to_js_value(&(count as f64)),
                Err(failure) => Err(throwable(env, &failure)),
            },
        )
    }

    /// The template, body, encoding and segment count a send would use; no network call.
    /// `locale` overrides `payload.locale`. Throws `template_not_found` like a send rejects.
    #[napi(ts_args_type = "usageType: string, payload?: Record<string, unknown>, locale?: string")]
    pub fn preview(
        &self,
        env: Env,
        usage_type: Unknown,
        payload: Option<Unknown>,
        locale: Option<Unknown>,
    ) -> Result<MessagePreview> {
        let is_string = matches!(usage_type.get_type(), Ok(ValueType::String));
        let type_label = js_to_string(usage_type).unwrap_or_default();
        let payload = JsPayload::new(payload);
        let locale = locale
            .filter(|l| matches!(l.get_type(), Ok(ValueType::String)))
            .and_then(|l| js_to_string(l).ok());
        let result = guard::catch_sync(|| {
            let result = preview::preview(
                &self.config,
                is_string.then_some(type_label.as_str()),
                &type_label,
                &payload,
                locale.as_deref(),
            );
            payload.check()?;
            result
        });
        match result {
            Ok(p) => Ok(MessagePreview {
                template: TemplateChoice {
                    usage_type: p.template.usage_type.clone(),
                    locale: p.template.locale.clone(),
                    content: p.template.content.clone(),
                },
                body: p.body,
                encoding: p.segmentation.encoding.as_str().to_owned(),
                units: u32::try_from(p.segmentation.units).unwrap_or(u32::MAX),
                segments: u32::try_from(p.segmentation.segments).unwrap_or(u32::MAX),
            }),
            Err(failure) => Err(throwable(&env, &failure)),
        }
    }

    /// The usage types this connector has templates for, in config order.
    #[napi(getter)]
    pub fn usage_types(&self) -> Vec<String> {
        self.config
            .templates
            .iter()
            .map(|t| t.usage_type.clone())
            .collect()
    }
}

/// Reads the message arguments and builds the request, without touching the network.
fn prepare(
    config: &Config,
    options: &twilio::SendOptions,
    to: Unknown,
    usage_type: Unknown,
    payload: Option<Unknown>,
) -> std::result::Result<twilio::Outgoing, ConnectorFailure> {
    let to = match to.get_type() {
        Ok(ValueType::String) => js_to_string(to).map_err(|_| {
            ConnectorFailure::new(
                ErrorKind::InvalidArgument,
                "`to` could not be read as a string",
            )
        })?,
        _ => {
            return Err(ConnectorFailure::new(
                ErrorKind::InvalidArgument,
                "`to` must be a phone number string, e.g. +15551234567",
            ))
        }
    };
    let is_string = matches!(usage_type.get_type(), Ok(ValueType::String));
    let type_label = js_to_string(usage_type).unwrap_or_default();
    let payload = JsPayload::new(payload);
    let outgoing = twilio::prepare(
        config,
        options,
        &to,
        is_string.then_some(type_label.as_str()),
        &type_label,
        &payload,
    );
    // A payload value that could not be read would leave a blank in the message (a code-less
    // "verification" SMS): nothing is sent.
    payload.check()?;
    outgoing
}

/// Runs a prepared send on the runtime; the promise settles on the JS thread.
fn spawn_send<'env>(
    env: &'env Env,
    prepared: std::result::Result<twilio::Outgoing, ConnectorFailure>,
    options: twilio::SendOptions,
) -> Result<PromiseRaw<'env, Unknown<'env>>> {
    let fut = guard::catch_async(async move {
        let request = prepared?;
        let client = transport::shared_client(options.connect_timeout, options.timeout).await?;
        twilio::send(&client, request, &options).await
    });
    env.spawn_future_with_callback(
        async move { Ok(fut.await) },
        |env, outcome: std::result::Result<twilio::Delivered, ConnectorFailure>| match outcome {
            Ok(delivered) => message_object(env, &delivered),
            Err(failure) => Err(throwable(env, &failure)),
        },
    )
}

/// One send with a config given per call, as Logto hands it to the connector: the same as
/// `new TwilioSmsConnector(config, options).sendMessage(to, usageType, payload)` without an
/// object to build and collect for every send. Never throws synchronously: an invalid config
/// rejects with `invalid_config`. Validated configs are cached by content.
#[napi(
    js_name = "sendMessage",
    ts_args_type = "config: TwilioSmsConfig, to: string, usageType: string, payload?: Record<string, unknown>, options?: ConnectorOptions",
    ts_return_type = "Promise<MessageResource>"
)]
pub fn send_message_with<'env>(
    env: &'env Env,
    config: Unknown,
    to: Unknown,
    usage_type: Unknown,
    payload: Option<Unknown>,
    options: Option<Unknown>,
) -> Result<PromiseRaw<'env, Unknown<'env>>> {
    let built = guard::catch_sync(|| Ok((parse_config(env, config)?, parse_options(options)?)));
    match built {
        Ok((config, options)) => {
            let prepared =
                guard::catch_sync(|| prepare(&config, &options, to, usage_type, payload));
            spawn_send(env, prepared, options)
        }
        Err(failure) => spawn_send(env, Err(failure), twilio::SendOptions::default()),
    }
}

/// `startFrom` as Twilio's `StartDate`: a valid `Date`'s UTC day, or the first of this month.
fn start_day(start_from: Option<Unknown>) -> std::result::Result<usage::Day, ConnectorFailure> {
    let invalid = || {
        ConnectorFailure::new(
            ErrorKind::InvalidArgument,
            "startFrom must be a valid Date (years 1 to 9999), or left out for the first of the \
             current month (UTC)",
        )
    };
    let Some(value) = start_from.filter(|v| !matches!(v.get_type(), Ok(ValueType::Undefined)))
    else {
        return Ok(usage::Day::today().first_of_month());
    };
    if !value.is_date().unwrap_or(false) {
        return Err(invalid());
    }
    let date: JsDate = unsafe { value.cast() }.map_err(|_| invalid())?;
    let millis = date.value_of().map_err(|_| invalid())?;
    usage::Day::from_unix_millis(millis).ok_or_else(invalid)
}

/// Checks a config without building a connector (backs the Logto module's `configGuard`).
#[napi(ts_args_type = "config: unknown")]
pub fn validate_config(env: Env, config: Unknown) -> ConfigCheck {
    match guard::catch_sync(|| parse_config(&env, config)) {
        Ok(_) => ConfigCheck {
            success: true,
            message: None,
            issues: None,
        },
        Err(failure) => ConfigCheck {
            success: false,
            message: Some(failure.message),
            issues: failure.data.get("issues").cloned(),
        },
    }
}

/// Config values reach Rust as JSON text from the engine's own `JSON.stringify`, so getters and
/// `toJSON` behave the way JS code expects.
fn parse_config(env: &Env, config: Unknown) -> std::result::Result<Arc<Config>, ConnectorFailure> {
    let kind = config.get_type().unwrap_or(ValueType::Unknown);
    let not_an_object =
        |found: &str| ConfigError::whole(format!("Expected object, received {found}")).to_failure();
    match kind {
        ValueType::Object => {}
        ValueType::Null => return Err(not_an_object("null")),
        other => return Err(not_an_object(&other.to_string().to_lowercase())),
    }
    let text = json_stringify(env, config).map_err(|reason| {
        ConfigError::whole(format!("Cannot be serialized as JSON ({reason})")).to_failure()
    })?;
    config::cached_from_json(&text).map_err(|err| err.to_failure())
}

/// The config serializer: `JSON.stringify` with a replacer. An object becomes a copy holding
/// only the keys the validator reads (read by property access, as the JS guard reads them, so
/// unknown keys are never touched: a throwing getter, a cycle or a BigInt there cannot fail
/// the config), and a function, symbol or BigInt, which JSON has no form for, becomes a marker
/// so the validator can name it.
const SERIALIZER: &str = r#"((keys, marker) => {
  const stringify = JSON.stringify;
  const replacer = function (key, value) {
    const type = typeof value;
    if (type === 'function' || type === 'symbol' || type === 'bigint') return { [marker]: type };
    if (value === null || type !== 'object' || Array.isArray(value) || value[marker] !== undefined) return value;
    const known = {};
    for (const name of keys) if (value[name] !== undefined) known[name] = value[name];
    return known;
  };
  return (config) => stringify(config, replacer);
})"#;

/// A JS function created once per JS environment (the main thread and each worker have their
/// own) and kept alive by a reference for that environment's lifetime: rebuilding it for every
/// send would cost more than the work it does.
type CachedFunction = std::thread::LocalKey<std::cell::RefCell<Vec<(usize, usize)>>>;

fn cached_function<'env>(
    env: &'env Env,
    cache: &'static CachedFunction,
    create: impl FnOnce(&Env) -> Result<Unknown<'env>>,
) -> Result<Function<'env, Unknown<'env>, Unknown<'env>>> {
    let raw_env = env.raw();
    let cached = cache.with_borrow(|entries| {
        entries
            .iter()
            .find(|(cached_env, _)| *cached_env == raw_env as usize)
            .map(|&(_, reference)| reference)
    });
    if let Some(reference) = cached {
        let mut value = std::ptr::null_mut();
        let status = unsafe {
            napi::sys::napi_get_reference_value(
                raw_env,
                reference as napi::sys::napi_ref,
                &mut value,
            )
        };
        if status == napi::sys::Status::napi_ok && !value.is_null() {
            return unsafe { Function::from_napi_value(raw_env, value) };
        }
    }
    let function = create(env)?;
    let mut reference = std::ptr::null_mut();
    let status =
        unsafe { napi::sys::napi_create_reference(raw_env, function.raw(), 1, &mut reference) };
    if status == napi::sys::Status::napi_ok {
        cache.with_borrow_mut(|entries| {
            entries.retain(|(cached_env, _)| *cached_env != raw_env as usize);
            entries.push((raw_env as usize, reference as usize));
        });
    }
    unsafe { Function::from_napi_value(raw_env, function.raw()) }
}

thread_local! {
    // (environment, reference) pairs of this thread: a worker thread has its own environment,
    // and each instance of the module loaded into one environment has its own N-API handle.
    static SERIALIZE: std::cell::RefCell<Vec<(usize, usize)>> = const { std::cell::RefCell::new(Vec::new()) };
    static PARSE: std::cell::RefCell<Vec<(usize, usize)>> = const { std::cell::RefCell::new(Vec::new()) };
}

fn serializer(env: &Env) -> Result<Function<'_, Unknown<'_>, Unknown<'_>>> {
    cached_function(env, &SERIALIZE, |env| {
        let make: Function<FnArgs<(Vec<&str>, &str)>, Unknown> = env.run_script(SERIALIZER)?;
        make.call(FnArgs::from((KNOWN_KEYS.to_vec(), JS_TYPE_MARKER)))
    })
}

/// Twilio's Message resource as a JS object. V8's own `JSON.parse` builds it from the text
/// Twilio sent in one call, several times faster than creating it property by property through
/// N-API; only a body that is not JSON takes the slow path.
fn message_object<'env>(env: &'env Env, delivered: &twilio::Delivered) -> Result<Unknown<'env>> {
    let parse = cached_function(env, &PARSE, |env| env.run_script("JSON.parse"))?;
    match parse.call(env.create_string(&delivered.body)?.to_unknown()) {
        Ok(message) => Ok(message),
        Err(_) => {
            clear_pending_exception(env);
            env.to_js_value(&delivered.message())
        }
    }
}

fn json_stringify(env: &Env, value: Unknown) -> std::result::Result<String, String> {
    let stringify = || -> Result<Unknown> { serializer(env)?.call(value) };
    match stringify() {
        Ok(out) if matches!(out.get_type(), Ok(ValueType::String)) => {
            js_to_string(out).map_err(|err| err.reason)
        }
        Ok(_) => Err("JSON.stringify returned no text".to_owned()),
        // A cycle, a BigInt or a throwing getter or toJSON in a config field; the engine's
        // message names the cause (not the values).
        Err(err) => Err(take_pending_exception(env).unwrap_or(err.reason)),
    }
}

fn parse_options(
    options: Option<Unknown>,
) -> std::result::Result<twilio::SendOptions, ConnectorFailure> {
    let invalid = |what: &str| ConnectorFailure::new(ErrorKind::InvalidOptions, what.to_owned());
    let Some(options) = options else {
        return Ok(twilio::SendOptions::default());
    };
    match options.get_type() {
        Ok(ValueType::Undefined | ValueType::Null) => return Ok(twilio::SendOptions::default()),
        Ok(ValueType::Object) => {}
        _ => {
            return Err(invalid(
                "options must be an object like { baseUrl, timeoutMs, maxConcurrency }",
            ))
        }
    }
    let object: Object =
        unsafe { options.cast() }.map_err(|_| invalid("options must be an object"))?;
    // A throwing getter fails the options: skipping it would send with a default (the real
    // Twilio for `baseUrl`) and leave the exception pending for the next N-API call.
    let field = |name: &str| -> std::result::Result<Option<Unknown>, ConnectorFailure> {
        match object.get_named_property::<Unknown>(name) {
            Ok(value) => {
                Ok(Some(value).filter(|v| !matches!(v.get_type(), Ok(ValueType::Undefined))))
            }
            Err(err) => {
                let env = Env::from_raw(object.value().env);
                let reason = take_pending_exception(&env).unwrap_or(err.reason);
                Err(invalid(&format!(
                    "options.{name} could not be read: {reason}"
                )))
            }
        }
    };
    let base_url = match field("baseUrl")? {
        None => None,
        Some(v) if matches!(v.get_type(), Ok(ValueType::String)) => js_to_string(v).ok(),
        Some(_) => {
            return Err(invalid(
                "options.baseUrl must be a string like https://127.0.0.1:8443",
            ))
        }
    };
    let number = |name: &str| -> std::result::Result<Option<f64>, ConnectorFailure> {
        match field(name)? {
            None => Ok(None),
            Some(v) if matches!(v.get_type(), Ok(ValueType::Number)) => unsafe { v.cast::<f64>() }
                .map(Some)
                .map_err(|_| invalid(&format!("options.{name} must be a number"))),
            Some(_) => Err(invalid(&format!("options.{name} must be a number"))),
        }
    };
    twilio::SendOptions::new(twilio::ConnectorOptions {
        base_url,
        timeout_ms: number("timeoutMs")?,
        connect_timeout_ms: number("connectTimeoutMs")?,
        max_concurrency: number("maxConcurrency")?,
        max_retries: number("maxRetries")?,
    })
}

/// The live JS payload: `in` and `String()` are the engine's own, so prototype keys, getters,
/// Dates and arrays render exactly as connector-kit renders them.
///
/// A read that throws (a getter, a Proxy trap, a `toString`) is remembered, and fails the send
/// or preview with the field's name once rendering is over.
struct JsPayload<'a>(Option<Unknown<'a>>, std::cell::RefCell<Option<String>>);

impl<'a> JsPayload<'a> {
    fn new(payload: Option<Unknown<'a>>) -> Self {
        JsPayload(
            payload.filter(|p| matches!(p.get_type(), Ok(ValueType::Object))),
            std::cell::RefCell::new(None),
        )
    }

    fn object(&self) -> Option<Object<'_>> {
        self.0
            .as_ref()
            .and_then(|v| unsafe { v.cast::<Object>() }.ok())
    }

    /// Takes the pending exception and remembers the first field that could not be read.
    fn failed(&self, env: napi::sys::napi_env, field: &str) {
        let reason = take_pending_exception(&Env::from_raw(env));
        let mut first = self.1.borrow_mut();
        if first.is_none() {
            *first = Some(format!(
                "payload.{field} could not be read: {}",
                reason.unwrap_or_else(|| "it threw".to_owned())
            ));
        }
    }

    fn failed_with(&self, field: &str, reason: String) {
        let mut first = self.1.borrow_mut();
        if first.is_none() {
            *first = Some(format!("payload.{field} could not be read: {reason}"));
        }
    }

    fn check(&self) -> std::result::Result<(), ConnectorFailure> {
        match self.1.borrow_mut().take() {
            Some(message) => Err(ConnectorFailure::new(ErrorKind::InvalidArgument, message)),
            None => Ok(()),
        }
    }
}

impl Payload for JsPayload<'_> {
    fn locale(&self) -> Option<String> {
        let object = self.object()?;
        let value = object
            .get_named_property::<Unknown>("locale")
            .map_err(|_| self.failed(object.value().env, "locale"))
            .ok()?;
        match value.get_type() {
            Ok(ValueType::String) => js_to_string(value).ok(),
            _ => None,
        }
    }

    fn has_root(&self, key: &str) -> bool {
        let Some(object) = self.object() else {
            return false;
        };
        object.has_property(key).unwrap_or_else(|_| {
            // A Proxy `has` trap threw.
            self.failed(object.value().env, key);
            false
        })
    }

    fn render_path(&self, path: &str) -> String {
        let Some(mut current) = self.0 else {
            return String::new();
        };
        let env = current.value().env;
        for part in path.split('.') {
            // Only objects (typeof 'object', not null) are walked into; anything else ends in ''.
            if !matches!(current.get_type(), Ok(ValueType::Object)) {
                return String::new();
            }
            let Ok(object) = (unsafe { current.cast::<Object>() }) else {
                return String::new();
            };
            match object.get_named_property::<Unknown>(part) {
                Ok(next) => current = next,
                Err(_) => {
                    self.failed(env, path);
                    return String::new();
                }
            }
        }
        match current.get_type() {
            Ok(ValueType::Undefined | ValueType::Null | ValueType::Symbol) | Err(_) => {
                String::new()
            }
            _ => string_or_exception(current).unwrap_or_else(|reason| {
                self.failed_with(path, reason);
                String::new()
            }),
        }
    }
}

/// The message of the pending JS exception, which is cleared.
fn take_pending_exception(env: &Env) -> Option<String> {
    let mut pending = false;
    let mut exception = std::ptr::null_mut();
    unsafe {
        if napi::sys::napi_is_exception_pending(env.raw(), &mut pending)
            != napi::sys::Status::napi_ok
            || !pending
            || napi::sys::napi_get_and_clear_last_exception(env.raw(), &mut exception)
                != napi::sys::Status::napi_ok
        {
            return None;
        }
        let exception = Unknown::from_raw_unchecked(env.raw(), exception);
        let message = match exception.get_type() {
            Ok(ValueType::Object) => exception
                .cast::<Object>()
                .ok()?
                .get_named_property::<Unknown>("message")
                .ok()
                .and_then(|m| js_to_string(m).ok()),
            _ => js_to_string(exception).ok(),
        };
        message.filter(|m| !m.is_empty())
    }
}

/// A JS exception caught on the Rust side stays pending in the engine (and would be thrown at
/// the caller) unless it is taken out explicitly.
fn clear_pending_exception(env: &Env) {
    let mut pending = false;
    unsafe {
        if napi::sys::napi_is_exception_pending(env.raw(), &mut pending)
            == napi::sys::Status::napi_ok
            && pending
        {
            let mut exception = std::ptr::null_mut();
            napi::sys::napi_get_and_clear_last_exception(env.raw(), &mut exception);
        }
    }
}

/// JavaScript's `String(value)`, or the message of what it threw.
fn string_or_exception(value: Unknown) -> std::result::Result<String, String> {
    let env = Env::from_raw(value.value().env);
    value
        .coerce_to_string()
        .and_then(|text: JsString| text.into_utf8()?.into_owned())
        .map_err(|err| take_pending_exception(&env).unwrap_or(err.reason))
}

/// JavaScript's `String(value)`, through the engine.
fn js_to_string(value: Unknown) -> Result<String> {
    let env = Env::from_raw(value.value().env);
    let text = value
        .coerce_to_string()
        .and_then(|text: JsString| text.into_utf8()?.into_owned());
    if text.is_err() {
        // A throwing toString() or getter: the value prints as '' and the caller goes on.
        clear_pending_exception(&env);
    }
    text
}

/// An `Error` with `code` and `data`, handed to napi so it is thrown (or rejected) as is.
fn throwable(env: &Env, failure: &ConnectorFailure) -> napi::Error {
    let build = || -> Result<napi::Error> {
        let mut error = env.create_error(napi::Error::from_reason(failure.message.clone()))?;
        error.set_named_property("code", failure.code.as_str())?;
        let data = match &failure.data {
            serde_json::Value::String(message) => serde_json::json!({ "message": message }),
            other => other.clone(),
        };
        error.set_named_property("data", env.to_js_value(&data)?)?;
        Ok(napi::Error::from(error.to_unknown()))
    };
    build().unwrap_or_else(|err| err)
}

/// One runtime thread for the whole process. Sends wait on Twilio, not on the CPU: one thread
/// drives thousands of sends per second (far past Twilio's per-account limits), keeps
/// sequential latency steady (no hand-offs between workers), and doesn't start one thread per
/// core on a large Logto host as tokio's default would.
#[napi_derive::module_init]
fn init() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("twilio-sms-native")
        .enable_all()
        .build();
    // Should the thread not start, napi-rs builds its default runtime on first use instead.
    if let Ok(runtime) = runtime {
        napi::bindgen_prelude::create_custom_tokio_runtime(runtime);
    }
    // Panics are caught and reported as `general` errors (see `guard`); nothing on stderr.
    guard::install_quiet_hook();
}
