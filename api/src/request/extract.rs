//! The extractors: a JSON body ([`Valid`]) or a query string ([`ValidQuery`]) read into its
//! request struct, every problem answered at once as the contract's field errors.

use std::collections::HashMap;

use actix_web::{FromRequest, HttpRequest, dev::Payload};
use biologidex_core::error::FieldErrors;
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::reader::{self, Unknown};
use crate::{
    ApiError, ApiResult,
    input::{JSON_MAX, Json},
};

/// A JSON body of at most `MAX` bytes read into `T`: unknown keys refused, NUL refused, every
/// field's problem reported together.
#[derive(Debug)]
pub struct Valid<T, const MAX: usize = JSON_MAX>(pub T);

impl<T, const MAX: usize> Valid<T, MAX> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

/// Reads a JSON object's fields (a body, or multipart text parts) into `T`.
pub fn from_fields<T: DeserializeOwned>(fields: Map<String, Value>) -> ApiResult<T> {
    reader::read(fields).map_err(|errors| ApiError(biologidex_core::Error::Validation(errors)))
}

/// Reads a JSON object's fields into `T`, then runs `check` (the rules that span fields, which
/// see the errors so far and placeholders where a field was refused): every problem at once.
pub fn checked_from_fields<T: DeserializeOwned>(
    fields: Map<String, Value>,
    check: impl FnOnce(&T, &mut FieldErrors),
) -> ApiResult<T> {
    reader::read_checked(fields, Unknown::Refuse, check)
        .map_err(|errors| ApiError(biologidex_core::Error::Validation(errors)))
}

/// The object a body must be, or DRF's message naming what came instead.
pub fn object(value: Value) -> ApiResult<Map<String, Value>> {
    let kind = match value {
        Value::Object(map) => return Ok(map),
        Value::Array(_) => "list",
        Value::String(_) => "str",
        Value::Number(_) => "number",
        Value::Bool(_) => "bool",
        Value::Null => "null",
    };
    Err(ApiError::field(
        "non_field_errors",
        format!("Invalid data. Expected a dictionary, but got {kind}."),
    ))
}

impl<T: DeserializeOwned + 'static, const MAX: usize> FromRequest for Valid<T, MAX> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = Json::<MAX>::from_request(req, payload);
        Box::pin(async move { from_fields(object(body.await?.into_inner())?).map(Valid) })
    }
}

/// A query string read into `T`, every value a string. Unknown parameters are skipped (as
/// Django's filters skip them), the last of repeated parameters wins, and a [`Param`] field
/// takes an empty value as absent (a field type that reads `?x=` otherwise sees it).
///
/// [`Param`]: super::Param
#[derive(Debug)]
pub struct ValidQuery<T>(pub T);

impl<T> ValidQuery<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T: DeserializeOwned> FromRequest for ValidQuery<T> {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(query(req.query_string()).map(ValidQuery))
    }
}

fn query<T: DeserializeOwned>(raw: &str) -> ApiResult<T> {
    // Decoded as `web::Query` decodes (and refuses) it, with the same message.
    let pairs = actix_web::web::Query::<HashMap<String, String>>::from_query(raw)
        .map_err(|e| ApiError::detail_error(e.to_string()))?;
    let map: Map<String, Value> = pairs
        .into_inner()
        .into_iter()
        .map(|(k, v)| (k, Value::String(v)))
        .collect();
    reader::read_checked(map, Unknown::Ignore, |_: &T, _| {})
        .map_err(|errors| ApiError(biologidex_core::Error::Validation(errors)))
}
