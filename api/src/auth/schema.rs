//! The auth routes' request bodies: each struct is what the handler parses and what the
//! OpenAPI document shows.

use serde::Deserialize;
use utoipa::ToSchema;

use crate::request::Required;

/// Username and password.
#[derive(Deserialize, ToSchema)]
pub struct LoginRequest {
    #[schema(value_type = String)]
    pub username: Required<String>,
    #[schema(value_type = String, format = Password)]
    pub password: Required<String>,
}

/// A refresh token from login or refresh.
#[derive(Deserialize, ToSchema)]
pub struct RefreshRequest {
    #[schema(value_type = String)]
    pub refresh: Required<String>,
}
