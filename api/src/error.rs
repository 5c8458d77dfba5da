//! `ApiError`: the one mapping from domain errors to DRF-compatible HTTP responses.

use actix_web::{
    HttpResponse, ResponseError,
    http::{StatusCode, header},
};
use biologidex_core::{Error, error::Missing};
use biologidex_media::storage::StorageError;
use serde_json::{Value, json};

/// Every handler error. Wraps [`biologidex_core::Error`] so `?` works on model calls.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct ApiError(#[from] pub Error);

/// Handler result.
pub type ApiResult<T> = Result<T, ApiError>;

impl From<diesel::result::Error> for ApiError {
    fn from(e: diesel::result::Error) -> Self {
        ApiError(e.into())
    }
}

impl From<diesel_async::pooled_connection::bb8::RunError> for ApiError {
    fn from(e: diesel_async::pooled_connection::bb8::RunError) -> Self {
        ApiError(e.into())
    }
}

/// A storage failure keeps its type, so an outage answers 503 (see `store_outage`).
impl From<StorageError> for ApiError {
    fn from(e: StorageError) -> Self {
        ApiError(Error::Internal(e.into()))
    }
}

impl From<anyhow::Error> for ApiError {
    fn from(e: anyhow::Error) -> Self {
        ApiError(Error::Internal(e))
    }
}

impl ApiError {
    /// `{"detail": msg}` with the given status, for errors that are not field problems.
    pub fn detail(status: StatusCode, msg: impl Into<String>) -> HttpResponse {
        HttpResponse::build(status).json(json!({ "detail": msg.into() }))
    }

    /// A 400 whose body is `{"detail": msg}` (malformed bodies).
    pub fn detail_error(msg: impl Into<String>) -> Self {
        ApiError(Error::BadRequest(msg.into()))
    }

    /// 404 with DRF's "No <Model> matches the given query." text.
    pub fn not_found(missing: Missing) -> Self {
        ApiError(Error::NotFound(missing))
    }

    /// 400 for one field.
    pub fn field(field: &str, msg: impl Into<String>) -> Self {
        ApiError(Error::field(field, msg))
    }

    /// A rule violation (`{"detail": msg, "error": msg}`) answered with 400.
    pub fn rule(msg: impl Into<String>) -> Self {
        ApiError(Error::Rule(msg.into()))
    }
}

/// Whether the failure is the media store not answering (a 503 the client may retry), wherever
/// in shared code it was wrapped.
fn store_outage(cause: &anyhow::Error) -> bool {
    cause.chain().any(|e| {
        matches!(
            e.downcast_ref::<StorageError>(),
            Some(StorageError::Unavailable(_))
        )
    })
}

fn unauthorized(body: Value) -> HttpResponse {
    HttpResponse::Unauthorized()
        .insert_header((header::WWW_AUTHENTICATE, r#"Bearer realm="api""#))
        .json(body)
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match &self.0 {
            Error::NotFound(_) | Error::NotFoundBecause(_) => StatusCode::NOT_FOUND,
            Error::Validation(_) | Error::Rule(_) | Error::BadRequest(_) => StatusCode::BAD_REQUEST,
            Error::Unauthorized
            | Error::BadCredentials
            | Error::InvalidAccessToken(_)
            | Error::InvalidRefreshToken(_) => StatusCode::UNAUTHORIZED,
            Error::Forbidden | Error::ForbiddenBecause(_) => StatusCode::FORBIDDEN,
            Error::Throttled(_) => StatusCode::TOO_MANY_REQUESTS,
            Error::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Error::PoolUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Error::Internal(cause) if store_outage(cause) => StatusCode::SERVICE_UNAVAILABLE,
            Error::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        let body: Value = match &self.0 {
            Error::NotFound(missing) => json!({ "detail": missing.detail() }),
            Error::NotFoundBecause(msg) => json!({ "detail": msg, "error": msg }),
            Error::Validation(fields) => json!(fields),
            Error::BadRequest(msg) => json!({ "detail": msg }),
            // Rule violations carry `error` too: the old server's custom views sent it
            // (docs/wire-compatibility.md#m8).
            Error::Rule(msg) => json!({ "detail": msg, "error": msg }),
            Error::Unauthorized => {
                return unauthorized(
                    json!({ "detail": "Authentication credentials were not provided." }),
                );
            }
            Error::BadCredentials => {
                return unauthorized(
                    json!({ "detail": "No active account found with the given credentials" }),
                );
            }
            Error::InvalidAccessToken(message) => {
                return unauthorized(json!({
                    "detail": "Given token not valid for any token type",
                    "code": "token_not_valid",
                    "messages": [{ "token_class": "AccessToken", "token_type": "access", "message": message }],
                }));
            }
            Error::InvalidRefreshToken(detail) => {
                return unauthorized(json!({ "detail": detail, "code": "token_not_valid" }));
            }
            Error::TooLarge => json!({ "detail": "Request body is too large." }),
            Error::Forbidden => {
                json!({ "detail": "You do not have permission to perform this action." })
            }
            Error::ForbiddenBecause(msg) => json!({ "detail": msg, "error": msg }),
            Error::Throttled(wait) => {
                return HttpResponse::TooManyRequests()
                    .insert_header((header::RETRY_AFTER, wait.to_string()))
                    .json(json!({ "detail": format!("Request was throttled. Expected available in {wait} seconds.") }));
            }
            Error::PoolUnavailable(cause) => {
                tracing::error!(error = %cause, "database pool unavailable");
                json!({ "detail": "Service temporarily unavailable." })
            }
            Error::Internal(cause) if store_outage(cause) => {
                tracing::error!(error = %cause, "media storage unavailable");
                return HttpResponse::ServiceUnavailable()
                    .insert_header((header::RETRY_AFTER, "30"))
                    .json(json!({ "detail": "Media storage is unavailable. Try again shortly." }));
            }
            Error::Internal(cause) => {
                // The one place internal failures are logged; the body never carries the cause.
                tracing::error!(error = ?cause, "internal error");
                json!({ "detail": "A server error occurred." })
            }
        };
        HttpResponse::build(status).json(body)
    }
}
