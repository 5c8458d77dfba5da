//! The extractor: a JSON body ([`Valid`]) read into its request struct, every problem answered
//! at once as the contract's field errors.

use actix_web::{FromRequest, HttpRequest, dev::Payload};
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::reader;
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
