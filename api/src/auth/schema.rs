//! Request bodies as the OpenAPI document shows them. Handlers read bodies strictly through
//! `input::Body` (unknown fields are refused with a field error), so these types only describe.

use utoipa::ToSchema;

/// Username and password.
#[derive(ToSchema)]
pub struct LoginRequest {
    pub username: String,
    #[schema(format = Password)]
    pub password: String,
}

/// A refresh token from login or refresh.
#[derive(ToSchema)]
pub struct RefreshRequest {
    pub refresh: String,
}
