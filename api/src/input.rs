//! Request bodies before they are typed (see `crate::request`): the size caps, the JSON
//! extractor and the refusal of NUL characters anywhere in a request.

use actix_web::{FromRequest, HttpRequest, dev::Payload, error::JsonPayloadError};
use biologidex_core::error::FieldErrors;
use futures_util::future::LocalBoxFuture;
use serde_json::Value;

use crate::{ApiError, ApiResult};

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
