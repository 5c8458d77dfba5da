//! The users routes' request bodies: each struct is what the handler parses (through
//! `crate::request`) and what the OpenAPI document shows.

use serde::Deserialize;
use utoipa::{
    ToSchema,
    openapi::{
        RefOr, Schema,
        schema::{ObjectBuilder, Type},
    },
};

use super::fields::{Email, FriendCode, NewPassword, Username};
use crate::request::{Chars, FieldValue, Nullable, Optional, Refusal, Required};

/// A new account. Every field is required.
#[derive(Deserialize, ToSchema)]
pub struct RegisterRequest {
    /// At most 150 characters: letters, digits and `@ . + - _` (surrounding spaces are trimmed,
    /// the name is NFKC-normalised). Unique, case-sensitive.
    #[schema(value_type = String)]
    pub username: Required<Username>,
    /// A valid address of at most 254 characters; its domain part is lower-cased. Unique,
    /// ignoring case.
    #[schema(value_type = String)]
    pub email: Required<Email>,
    /// At least 8 characters, not a common password, not entirely numeric.
    #[schema(value_type = String, format = Password)]
    pub password: Required<NewPassword>,
    /// Must equal `password` (checked once every other field is valid).
    #[schema(value_type = String, format = Password)]
    pub password_confirm: Required<String>,
}

/// The current password and the new one.
#[derive(Deserialize, ToSchema)]
pub struct PasswordChangeRequest {
    /// The current password; a wrong one is a field error on `old_password`.
    #[schema(value_type = String, format = Password)]
    pub old_password: Required<String>,
    /// At least 8 characters, not a common password, not entirely numeric.
    #[schema(value_type = String, format = Password)]
    pub new_password: Required<String>,
    /// If sent, must equal `new_password`.
    #[schema(value_type = String, required = false, format = Password)]
    pub new_password_confirm: Optional<String>,
}

/// A friend code to look up.
#[derive(Deserialize, ToSchema)]
pub struct FriendCodeRequest {
    /// Exactly 8 characters (`A–Z`, `0–9`); matched ignoring case.
    #[schema(value_type = String, min_length = 8, max_length = 8, example = "IRAA2K44")]
    pub friend_code: Required<FriendCode>,
}

/// `null`, the only value `avatar` accepts.
fn null_only() -> impl Into<RefOr<Schema>> {
    ObjectBuilder::new()
        .schema_type(Type::Null)
        .description(Some("Only `null`: removes the avatar."))
}

/// Profile changes; every field is optional (PUT too) and only the fields sent change.
#[derive(Deserialize, ToSchema)]
pub struct ProfileUpdateRequest {
    /// At most 500 characters; blank allowed, `null` not.
    #[schema(value_type = String, required = false, max_length = 500)]
    pub bio: Optional<Chars<BIO_MAX>>,
    /// Only `null`, which removes the avatar: avatar uploads are not supported (a string is
    /// refused as "not a file").
    #[schema(schema_with = null_only, required = false)]
    pub avatar: Nullable<NotAFile>,
    /// Any JSON value the client uses to style the user's cards (at most 4 KiB as JSON);
    /// stored as sent.
    #[schema(value_type = Option<serde_json::Value>, required = false)]
    pub preferred_card_style: Nullable<CardStyle>,
}

/// Most characters of a bio.
pub const BIO_MAX: usize = 500;
/// Largest card style, as JSON: it is sent with every user of a list page, so it stays small.
pub const CARD_STYLE_MAX: usize = 4096;

/// A value where only a file (which this API never takes) would do.
#[derive(Debug, Clone, Default)]
pub struct NotAFile;

impl FieldValue for NotAFile {
    fn from_json(_: serde_json::Value) -> Result<Self, Refusal> {
        // DRF's message for a string sent to a file field.
        Err(vec![
            "The submitted data was not a file. Check the encoding type on the form.".to_owned(),
        ])
    }
}

/// The card style settings, bounded in size.
#[derive(Debug, Clone, Default)]
pub struct CardStyle(pub serde_json::Value);

impl FieldValue for CardStyle {
    fn from_json(value: serde_json::Value) -> Result<Self, Refusal> {
        if value.to_string().len() > CARD_STYLE_MAX {
            return Err(vec![format!(
                "Ensure this value has no more than {CARD_STYLE_MAX} bytes as JSON."
            )]);
        }
        Ok(CardStyle(value))
    }
}
