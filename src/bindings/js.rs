//! The JS side of the bridge: the engine functions called on every send (created once per JS
//! environment), pending exceptions, `String(value)`, and the `Error` every failure becomes.

use napi::bindgen_prelude::*;
use napi::{Env, JsString, JsValue, ValueType};

use crate::error::ConnectorFailure;
use crate::js_json::{JS_TYPE_MARKER, KNOWN_KEYS, WHOLE_KEYS};
use crate::twilio;

/// The config serializer: `JSON.stringify` with a replacer. An object becomes a copy holding
/// only the keys the validator reads (read by property access, as the JS guard reads them, so
/// unknown keys are never touched: a throwing getter, a cycle or a BigInt there cannot fail
/// the config), except under the keys of `js_json::WHOLE_KEYS`, kept whole so the validator sees
/// (and refuses) every key there; a function, symbol or BigInt, which JSON has no form for,
/// becomes a marker so the validator can name it.
const SERIALIZER: &str = r#"((keys, whole, marker) => {
  const stringify = JSON.stringify;
  // Copies kept whole; their children are kept whole too.
  const open = new WeakSet();
  const replacer = function (key, value) {
    const type = typeof value;
    if (type === 'function' || type === 'symbol' || type === 'bigint') return { [marker]: type };
    if (value === null || type !== 'object' || value[marker] !== undefined) return value;
    if (open.has(this) || (whole.includes(key) && !Array.isArray(this))) {
      const copy = Array.isArray(value) ? [] : {};
      for (const name of Object.keys(value)) copy[name] = value[name];
      open.add(copy);
      return copy;
    }
    if (Array.isArray(value)) return value;
    const known = {};
    for (const name of keys) if (value[name] !== undefined) known[name] = value[name];
    return known;
  };
  return (config) => stringify(config, replacer);
})"#;

/// A JS value whose handle scope is the current call. Function references must be `'static`
/// to live in the environment's instance data; their arguments and results never outlive the
/// call that uses them.
type Value = Unknown<'static>;

/// The engine functions this addon calls on every send, created once per JS environment (the
/// main thread and each worker have their own) and kept in its instance data, which napi frees
/// with the environment: rebuilding them for every send would cost more than their work.
struct Helpers {
    /// [`SERIALIZER`] applied to the validator's keys.
    serialize: FunctionRef<Value, Value>,
    /// The engine's own `JSON.parse`.
    parse: FunctionRef<String, Value>,
    /// The engine's own `String`, for the one value coercion refuses: a symbol.
    string: FunctionRef<Value, Value>,
}

fn helpers(env: &Env) -> Result<&'static Helpers> {
    if let Some(helpers) = env.get_instance_data::<Helpers>()? {
        return Ok(helpers);
    }
    type MakeSerializer<'env> = Function<
        'env,
        FnArgs<(Vec<&'env str>, Vec<&'env str>, &'env str)>,
        Function<'env, Value, Value>,
    >;
    let make: MakeSerializer = env.run_script(SERIALIZER)?;
    let serialize = make
        .call(FnArgs::from((
            KNOWN_KEYS.to_vec(),
            WHOLE_KEYS.to_vec(),
            JS_TYPE_MARKER,
        )))?
        .create_ref()?;
    let parse: Function<String, Value> = env.run_script("JSON.parse")?;
    let string: Function<Value, Value> = env.run_script("String")?;
    let helpers = Helpers {
        serialize,
        parse: parse.create_ref()?,
        string: string.create_ref()?,
    };
    env.set_instance_data(helpers, (), |_| {})?;
    env.get_instance_data::<Helpers>()?
        .map(|helpers| &*helpers)
        .ok_or_else(|| Error::from_reason("instance data was not kept"))
}

/// Serializes a config with [`SERIALIZER`]: JSON text, or why the engine could not.
pub(super) fn json_stringify(env: &Env, value: Unknown) -> std::result::Result<String, String> {
    let stringify = || -> Result<Value> {
        // SAFETY: the same handle, used only within this call's handle scope.
        let value: Value = unsafe { Unknown::from_raw_unchecked(env.raw(), value.raw()) };
        helpers(env)?.serialize.borrow_back(env)?.call(value)
    };
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

/// Twilio's Message resource as a JS object. V8's own `JSON.parse` builds it from the text
/// Twilio sent in one call, several times faster than creating it property by property through
/// N-API; only a body that is not JSON takes the slow path.
pub(super) fn message_object(env: &Env, delivered: twilio::Delivered) -> Result<Unknown<'_>> {
    let parse = helpers(env)?.parse.borrow_back(env)?;
    match parse.call(delivered.body.clone()) {
        Ok(message) => Ok(message),
        Err(_) => {
            clear_pending_exception(env);
            env.to_js_value(&delivered.message())
        }
    }
}

// napi 3 has no safe wrapper for pending exceptions: the two functions below call N-API itself.

/// The message of the pending JS exception, which is cleared.
pub(super) fn take_pending_exception(env: &Env) -> Option<String> {
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
pub(super) fn string_or_exception(value: Unknown) -> std::result::Result<String, String> {
    let env = Env::from_raw(value.value().env);
    let text = if matches!(value.get_type(), Ok(ValueType::Symbol)) {
        // Coercion (`` `${value}` ``, N-API's coerce_to_string) throws on a symbol; `String()`
        // gives `Symbol(description)`, which is what connector-kit's `String(value ?? '')`
        // renders.
        string_of_symbol(&env, value)
    } else {
        value.coerce_to_string()
    };
    text.and_then(|text: JsString| text.into_utf8()?.into_owned())
        .map_err(|err| take_pending_exception(&env).unwrap_or(err.reason))
}

fn string_of_symbol<'env>(env: &'env Env, symbol: Unknown) -> Result<JsString<'env>> {
    // SAFETY: the same handle, used only within this call's handle scope.
    let symbol: Value = unsafe { Unknown::from_raw_unchecked(env.raw(), symbol.raw()) };
    let text = helpers(env)?.string.borrow_back(env)?.call(symbol)?;
    // SAFETY: `String()` always returns a string.
    unsafe { text.cast::<JsString>() }
}

/// JavaScript's `String(value)`, through the engine.
pub(super) fn js_to_string(value: Unknown) -> Result<String> {
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
pub(super) fn throwable(env: &Env, failure: &ConnectorFailure) -> napi::Error {
    let build = || -> Result<napi::Error> {
        let mut error = env.create_error(napi::Error::from_reason(failure.message().to_owned()))?;
        error.set_named_property("code", failure.code().as_str())?;
        let data = match failure.data() {
            serde_json::Value::String(message) => serde_json::json!({ "message": message }),
            other => other.clone(),
        };
        error.set_named_property("data", env.to_js_value(&data)?)?;
        Ok(napi::Error::from(error.to_unknown()))
    };
    build().unwrap_or_else(|err| err)
}
