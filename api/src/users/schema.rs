//! Request bodies as the OpenAPI document shows them. Handlers read bodies strictly through
//! `input::Body` (unknown fields are refused with a field error), so these types only describe.

use utoipa::{
    ToSchema,
    openapi::{
        RefOr, Schema,
        schema::{ObjectBuilder, Type},
    },
};

/// A new account. Every field is required.
#[derive(ToSchema)]
pub struct RegisterRequest {
    /// At most 150 characters: letters, digits and `@ . + - _` (surrounding spaces are trimmed,
    /// the name is NFKC-normalised). Unique, case-sensitive.
    pub username: String,
    /// A valid address of at most 254 characters; its domain part is lower-cased. Unique,
    /// ignoring case.
    pub email: String,
    /// At least 8 characters, not a common password, not entirely numeric.
    #[schema(format = Password)]
    pub password: String,
    /// Must equal `password` (checked once every other field is valid).
    #[schema(format = Password)]
    pub password_confirm: String,
}

/// The current password and the new one.
#[derive(ToSchema)]
pub struct PasswordChangeRequest {
    /// The current password; a wrong one is a field error on `old_password`.
    #[schema(format = Password)]
    pub old_password: String,
    /// At least 8 characters, not a common password, not entirely numeric.
    #[schema(format = Password)]
    pub new_password: String,
    /// If sent, must equal `new_password`.
    #[schema(nullable = false, format = Password)]
    pub new_password_confirm: Option<String>,
}

/// A friend code to look up.
#[derive(ToSchema)]
pub struct FriendCodeRequest {
    /// Exactly 8 characters (`A–Z`, `0–9`); matched ignoring case.
    #[schema(min_length = 8, max_length = 8, example = "IRAA2K44")]
    pub friend_code: String,
}

/// `null`, the only value `avatar` accepts.
fn null_only() -> impl Into<RefOr<Schema>> {
    ObjectBuilder::new()
        .schema_type(Type::Null)
        .description(Some("Only `null`: removes the avatar."))
}

/// Profile changes; every field is optional (PUT too) and only the fields sent change.
#[derive(ToSchema)]
pub struct ProfileUpdateRequest {
    /// At most 500 characters; blank allowed, `null` not.
    #[schema(nullable = false, max_length = 500)]
    pub bio: Option<String>,
    /// Only `null`, which removes the avatar: avatar uploads are not supported (a string is
    /// refused as "not a file").
    #[schema(schema_with = null_only)]
    pub avatar: Option<()>,
    /// Any JSON value the client uses to style the user's cards; stored as sent.
    pub preferred_card_style: Option<serde_json::Value>,
}
