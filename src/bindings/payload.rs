//! The payload walker: placeholders read from the live JS payload object.

use napi::bindgen_prelude::*;
use napi::{Env, JsValue, ValueType};

use super::js::{js_to_string, string_or_exception, take_pending_exception};
use crate::error::ConnectorFailure;
use crate::template::Payload;

/// The live JS payload: `in` and `String()` are the engine's own, so prototype keys, getters,
/// Dates and arrays render exactly as connector-kit renders them.
///
/// A read that throws (a getter, a Proxy trap, a `toString`) is remembered, and fails the send
/// or preview with the field's name once rendering is over.
pub(super) struct JsPayload<'a>(
    Option<Unknown<'a>>,
    std::cell::RefCell<Option<ConnectorFailure>>,
);

impl<'a> JsPayload<'a> {
    pub(super) fn new(payload: Option<Unknown<'a>>) -> Self {
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
            *first = Some(ConnectorFailure::payload_unreadable(
                field,
                reason.as_deref(),
            ));
        }
    }

    fn failed_with(&self, field: &str, reason: String) {
        let mut first = self.1.borrow_mut();
        if first.is_none() {
            *first = Some(ConnectorFailure::payload_unreadable(field, Some(&reason)));
        }
    }

    pub(super) fn check(&self) -> std::result::Result<(), ConnectorFailure> {
        match self.1.borrow_mut().take() {
            Some(failure) => Err(failure),
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
            Ok(ValueType::Undefined | ValueType::Null) | Err(_) => String::new(),
            _ => string_or_exception(current).unwrap_or_else(|reason| {
                self.failed_with(path, reason);
                String::new()
            }),
        }
    }
}
