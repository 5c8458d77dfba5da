//! Request-body validation with DRF's messages: every problem is collected into field errors
//! (`{"field": ["msg"]}`), unknown fields are refused rather than silently dropped, and
//! integral floats (`0.0`, which the Godot client sends for `0`) count as integers.

use actix_web::{FromRequest, HttpRequest, dev::Payload, error::JsonPayloadError};
use biologidex_core::error::FieldErrors;
use futures_util::future::LocalBoxFuture;
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::{
    ApiError, ApiResult,
    request::{FieldValue, NOT_BLANK, NOT_NULL, RawText, not_a_choice, too_long},
};

/// Largest JSON body of an ordinary route.
pub const JSON_MAX: usize = 1024 * 1024;
/// Largest JSON body of the anonymous credential routes (login, registration, refresh).
pub const CREDENTIALS_MAX: usize = 8 * 1024;
/// PostgreSQL refuses NUL in text and jsonb, so it is refused here for every value and key.
pub const NUL_MESSAGE: &str = "Null characters are not allowed.";

/// A JSON request body of at most `MAX` bytes (413 beyond), with no NUL character anywhere
/// in it (a field error on the top-level key that holds one). Every JSON route takes its body
/// through this extractor rather than `web::Json`.
#[derive(Debug)]
pub struct Json<const MAX: usize = JSON_MAX>(pub Value);

impl<const MAX: usize> Json<MAX> {
    pub fn into_inner(self) -> Value {
        self.0
    }
}

/// The 413 every body cap answers.
pub fn too_large() -> ApiError {
    ApiError(biologidex_core::Error::TooLarge)
}

impl<const MAX: usize> FromRequest for Json<MAX> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = actix_web::web::JsonBody::<Value>::new(req, payload, None, true).limit(MAX);
        Box::pin(async move {
            let value = body.await.map_err(|err| match err {
                JsonPayloadError::Overflow { .. }
                | JsonPayloadError::OverflowKnownLength { .. } => too_large(),
                JsonPayloadError::ContentType => {
                    ApiError::detail_error("Unsupported media type; send application/json.")
                }
                other => ApiError::detail_error(format!("JSON parse error - {other}")),
            })?;
            refuse_nul(&value)?;
            Ok(Json(value))
        })
    }
}

/// Middleware refusing a path or query string that decodes to a NUL (only `%00` does): every
/// query parameter and path segment is covered before any handler sees it.
pub async fn refuse_nul_uri(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<actix_web::dev::ServiceResponse<actix_web::body::BoxBody>, actix_web::Error> {
    let uri = req.uri();
    let raw = uri.path_and_query().map_or("", |pq| pq.as_str());
    if raw
        .as_bytes()
        .windows(3)
        .any(|w| w.eq_ignore_ascii_case(b"%00"))
    {
        let res = actix_web::ResponseError::error_response(&ApiError::detail_error(NUL_MESSAGE));
        return Ok(req.into_response(res));
    }
    Ok(next.call(req).await?.map_into_boxed_body())
}

fn has_nul(v: &Value) -> bool {
    match v {
        Value::String(s) => s.contains('\0'),
        Value::Array(items) => items.iter().any(has_nul),
        Value::Object(map) => map.iter().any(|(k, v)| k.contains('\0') || has_nul(v)),
        _ => false,
    }
}

/// Fails with a field error on every top-level key whose name or value holds a NUL.
pub fn refuse_nul(value: &Value) -> ApiResult<()> {
    let mut errors = FieldErrors::new();
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                if k.contains('\0') || has_nul(v) {
                    let key = k.replace('\0', "");
                    errors.insert(key, vec![NUL_MESSAGE.to_owned()]);
                }
            }
        }
        other if has_nul(other) => {
            errors.insert("non_field_errors".to_owned(), vec![NUL_MESSAGE.to_owned()]);
        }
        _ => {}
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError(biologidex_core::Error::Validation(errors)))
    }
}

pub use crate::request::REQUIRED;

/// A JSON object being validated.
#[derive(Debug)]
pub struct Body {
    map: Map<String, Value>,
    errors: FieldErrors,
}

impl Body {
    /// Takes the request's JSON; it must be an object whose keys are all in `allowed`.
    pub fn new(value: Value, allowed: &[&str]) -> ApiResult<Body> {
        let map = crate::request::object(value)?;
        let mut errors = FieldErrors::new();
        for key in map.keys().filter(|k| !allowed.contains(&k.as_str())) {
            errors.insert(key.clone(), vec!["Unknown field.".to_owned()]);
        }
        Ok(Body { map, errors })
    }

    /// Records an error on `field`.
    pub fn error(&mut self, field: &str, message: impl Into<String>) {
        self.errors
            .entry(field.to_owned())
            .or_default()
            .push(message.into());
    }

    /// Records several errors on `field`.
    pub fn errors(&mut self, field: &str, messages: Vec<String>) {
        for m in messages {
            self.error(field, m);
        }
    }

    /// True when an error was recorded on `field`.
    pub fn has_error(&self, field: &str) -> bool {
        self.errors.contains_key(field)
    }

    /// True when `field` is present (even as null).
    pub fn has(&self, field: &str) -> bool {
        self.map.contains_key(field)
    }

    fn take(&mut self, field: &str, required: bool) -> Option<Value> {
        match self.map.remove(field) {
            None if required => {
                self.error(field, REQUIRED);
                None
            }
            None => None,
            Some(Value::Null) => {
                self.error(field, NOT_NULL);
                None
            }
            Some(v) => Some(v),
        }
    }

    /// Converts a present value with a field type's rules, recording its refusal.
    fn convert<T: FieldValue>(&mut self, field: &str, v: Value) -> Option<T> {
        match T::from_json(v) {
            Ok(value) => Some(value),
            Err(messages) => {
                self.errors(field, messages);
                None
            }
        }
    }

    /// A required, non-blank value of a text field type.
    fn required_text<T: FieldValue>(&mut self, field: &str) -> Option<T> {
        let v = self.take(field, true)?;
        let s: T = self.convert(field, v)?;
        if s.is_blank() {
            self.error(field, NOT_BLANK);
            return None;
        }
        Some(s)
    }

    /// A required, trimmed, non-blank string.
    pub fn required_str(&mut self, field: &str) -> Option<String> {
        self.required_text(field)
    }

    /// An optional trimmed string (blank allowed).
    pub fn optional_str(&mut self, field: &str) -> Option<String> {
        self.typed(field)
    }

    /// A required string kept exactly as sent (passwords are not trimmed here).
    pub fn required_raw_str(&mut self, field: &str) -> Option<String> {
        self.required_text::<RawText>(field).map(|s| s.0)
    }

    /// Records Django's max-length error on `field` when `value` has more than `max`
    /// characters (PostgreSQL counts characters in `varchar(max)` too).
    pub fn max_chars(&mut self, field: &str, value: Option<&str>, max: usize) -> bool {
        let over = value.is_some_and(|v| v.chars().count() > max);
        if over {
            self.error(field, too_long(max));
        }
        !over
    }

    /// An optional value of a field type (`null` refused), with its messages.
    fn typed<T: FieldValue>(&mut self, field: &str) -> Option<T> {
        let v = self.take(field, false)?;
        self.convert(field, v)
    }

    /// An optional UUID.
    pub fn optional_uuid(&mut self, field: &str) -> Option<Uuid> {
        self.typed(field)
    }

    /// An optional integer; integral floats such as `90.0` are accepted.
    pub fn optional_int(&mut self, field: &str) -> Option<i64> {
        self.typed(field)
    }

    /// An optional boolean (`true`/`false`, and the strings and 0/1 DRF accepts).
    pub fn optional_bool(&mut self, field: &str) -> Option<bool> {
        self.typed(field)
    }

    /// An optional value that may be explicitly `null`: `None` when absent,
    /// `Some(None)` for null.
    pub fn nullable(&mut self, field: &str) -> Option<Option<Value>> {
        match self.map.remove(field) {
            None => None,
            Some(Value::Null) => Some(None),
            Some(v) => Some(Some(v)),
        }
    }

    /// An optional number (integers and numeric strings too).
    pub fn optional_float(&mut self, field: &str) -> Option<f64> {
        self.typed(field)
    }

    /// A required value from a fixed set of choices.
    pub fn required_choice(&mut self, field: &str, choices: &[&str]) -> Option<String> {
        let v = self.take(field, true)?;
        match v {
            Value::String(s) if choices.contains(&s.as_str()) => Some(s),
            other => {
                self.error(field, not_a_choice(&other));
                None
            }
        }
    }

    /// Any JSON value (null allowed), if present.
    pub fn optional_json(&mut self, field: &str) -> Option<Value> {
        self.map.remove(field)
    }

    /// Fails with every collected field error, if any.
    pub fn finish(self) -> ApiResult<()> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(ApiError(biologidex_core::Error::Validation(self.errors)))
        }
    }

    /// True when no error has been recorded so far.
    pub fn is_clean(&self) -> bool {
        self.errors.is_empty()
    }
}
