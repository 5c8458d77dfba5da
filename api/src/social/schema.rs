//! The friendship routes' request bodies: each struct is what the handler parses (through
//! `crate::request`) and what the OpenAPI document shows.

use biologidex_db::models::friendships::Action;
use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{
    request::{FieldValue, Optional, Refusal, Required, not_a_choice},
    users::fields::FriendCode,
};

/// Whom to ask: by friend code or by user id.
///
/// At least one is required; the code wins when both are sent.
#[derive(Deserialize, ToSchema)]
pub struct FriendRequest {
    /// The other user's friend code: exactly 8 characters, matched ignoring case. An unknown
    /// code is a field error.
    #[schema(value_type = String, required = false, min_length = 8, max_length = 8, example = "IRAA2K44")]
    pub friend_code: Optional<FriendCode>,
    /// The other user's id (used when no `friend_code` is sent). An unknown or inactive user
    /// is a field error.
    #[schema(value_type = Uuid, required = false)]
    pub user_id: Optional<Uuid>,
    /// Another name for `user_id` (`user_id` wins when both are sent).
    #[schema(value_type = Uuid, required = false)]
    pub to_user_id: Optional<Uuid>,
}

impl FieldValue for Action {
    fn from_json(value: Value) -> Result<Self, Refusal> {
        value
            .as_str()
            .and_then(Action::parse)
            .ok_or_else(|| vec![not_a_choice(&value)])
    }
}

/// The recipient's answer.
#[derive(Deserialize, ToSchema)]
pub struct RespondRequest {
    #[schema(value_type = Action)]
    pub action: Required<Action>,
}
