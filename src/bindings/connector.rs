//! The `TwilioSmsConnector` class: one validated config and options, and the calls on them.

use std::sync::Arc;

use napi::bindgen_prelude::*;
use napi::{Env, JsDate, ValueType};
use napi_derive::napi;

use super::config::parse_config;
use super::js::{js_to_string, message_object, throwable};
use super::options::parse_options;
use super::payload::JsPayload;
use super::shapes::{MessagePreview, RecipientCheck, TemplateChoice};
use super::teardown;
use crate::config::Config;
use crate::error::ConnectorFailure;
use crate::template::UsageType;
use crate::{panic_guard, preview, transport, twilio, usage};

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
        let built = panic_guard::catch_sync(|| {
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
        ts_args_type = "to: string, usageType: string, payload?: Record<string, unknown>, context?: SendContext",
        ts_return_type = "Promise<MessageResource>"
    )]
    pub fn send_message<'env>(
        &self,
        env: &'env Env,
        to: Unknown,
        usage_type: Unknown,
        payload: Option<Unknown>,
        context: Option<Unknown>,
    ) -> Result<PromiseRaw<'env, Unknown<'env>>> {
        let prepared = panic_guard::catch_sync(|| {
            prepare(
                &self.config,
                &self.options,
                to,
                usage_type,
                payload,
                context,
            )
        });
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
        let prepared = panic_guard::catch_sync(|| {
            start_day(start_from).and_then(|day| usage::prepare(&self.config, &self.options, day))
        });
        // One deadline for the whole call, from now: getting the client included.
        let started = tokio::time::Instant::now();
        let timeout = self.options.timeout.min(usage::USAGE_TIMEOUT);
        let connect_timeout = self.options.connect_timeout;
        let fut = panic_guard::catch_async(async move {
            let request = prepared?;
            let client =
                transport::shared_client(connect_timeout, started + timeout, timeout).await?;
            usage::fetch(&client, request, started, timeout).await
        });
        let fut = teardown::run(env, fut);
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
    /// `locale` overrides `payload.locale`. With `to`, also the recipient's country and whether
    /// `allowedCountries` lets a send reach it. Throws `template_not_found` like a send rejects.
    #[napi(
        ts_args_type = "usageType: string, payload?: Record<string, unknown>, locale?: string, to?: string"
    )]
    pub fn preview(
        &self,
        env: Env,
        usage_type: Unknown,
        payload: Option<Unknown>,
        locale: Option<Unknown>,
        to: Option<Unknown>,
    ) -> Result<MessagePreview> {
        let is_string = matches!(usage_type.get_type(), Ok(ValueType::String));
        let type_label = js_to_string(usage_type).unwrap_or_default();
        let usage_type = if is_string {
            UsageType::string(&type_label)
        } else {
            UsageType::other(&type_label)
        };
        let payload = JsPayload::new(payload);
        let locale = locale
            .filter(|l| matches!(l.get_type(), Ok(ValueType::String)))
            .and_then(|l| js_to_string(l).ok());
        let to = to
            .filter(|t| matches!(t.get_type(), Ok(ValueType::String)))
            .and_then(|t| js_to_string(t).ok());
        let result = panic_guard::catch_sync(|| {
            let result = preview::preview(
                &self.config,
                usage_type,
                &payload,
                locale.as_deref(),
                to.as_deref(),
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
                utf16_units: u32::try_from(p.segmentation.utf16_units).unwrap_or(u32::MAX),
                over_body_limit: p.segmentation.over_body_limit,
                recipient: p.recipient.map(|r| RecipientCheck {
                    country: r.country,
                    allowed: r.allowed,
                    rejection: r.rejection,
                }),
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
pub(super) fn prepare(
    config: &Config,
    options: &twilio::SendOptions,
    to: Unknown,
    usage_type: Unknown,
    payload: Option<Unknown>,
    context: Option<Unknown>,
) -> std::result::Result<twilio::Outgoing, ConnectorFailure> {
    let to = match to.get_type() {
        Ok(ValueType::String) => js_to_string(to).map_err(|_| ConnectorFailure::to_unreadable())?,
        _ => return Err(ConnectorFailure::to_not_a_string()),
    };
    let is_string = matches!(usage_type.get_type(), Ok(ValueType::String));
    let type_label = js_to_string(usage_type).unwrap_or_default();
    let usage_type = if is_string {
        UsageType::string(&type_label)
    } else {
        UsageType::other(&type_label)
    };
    let payload = JsPayload::new(payload);
    let outgoing = twilio::prepare(config, options, &to, usage_type, &payload);
    // A payload value that could not be read would leave a blank in the message (a code-less
    // "verification" SMS): nothing is sent.
    payload.check()?;
    let mut outgoing = outgoing?;
    outgoing.set_client_ip(client_ip(context).as_deref());
    Ok(outgoing)
}

/// `context.ip` when it is a string. Anything else counts as no address: the send context is
/// Logto's, and a send must not fail over what only the `ip` limits read.
fn client_ip(context: Option<Unknown>) -> Option<String> {
    let context = context.filter(|c| matches!(c.get_type(), Ok(ValueType::Object)))?;
    let object: Object = unsafe { context.cast() }.ok()?;
    match object.get_named_property::<Unknown>("ip") {
        Ok(ip) if matches!(ip.get_type(), Ok(ValueType::String)) => js_to_string(ip).ok(),
        Ok(_) => None,
        Err(_) => {
            // A throwing getter leaves an exception pending; the next N-API call must not see it.
            let env = Env::from_raw(object.value().env);
            let _ = super::js::take_pending_exception(&env);
            None
        }
    }
}

/// Runs a prepared send on the runtime; the promise settles on the JS thread.
pub(super) fn spawn_send<'env>(
    env: &'env Env,
    prepared: std::result::Result<twilio::Outgoing, ConnectorFailure>,
    options: twilio::SendOptions,
) -> Result<PromiseRaw<'env, Unknown<'env>>> {
    // One deadline for the whole call, from now: getting the client included.
    let started = tokio::time::Instant::now();
    let fut = panic_guard::catch_async(async move {
        let request = prepared?;
        let client = transport::shared_client(
            options.connect_timeout,
            started + options.timeout,
            options.timeout,
        )
        .await?;
        twilio::send(&client, request, &options, started).await
    });
    let fut = teardown::run(env, fut);
    env.spawn_future_with_callback(
        async move { Ok(fut.await) },
        |env, outcome: std::result::Result<twilio::Delivered, ConnectorFailure>| match outcome {
            Ok(delivered) => message_object(env, delivered),
            Err(failure) => Err(throwable(env, &failure)),
        },
    )
}

/// `startFrom` as Twilio's `StartDate`: a valid `Date`'s UTC day, or the first of this month.
fn start_day(start_from: Option<Unknown>) -> std::result::Result<usage::Day, ConnectorFailure> {
    let invalid = ConnectorFailure::start_from_invalid;
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
