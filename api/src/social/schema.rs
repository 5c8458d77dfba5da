//! Request bodies and enumerations as the OpenAPI document shows them. Handlers read bodies
//! strictly through `input::Body` (unknown fields are refused with a field error), so these
//! types only describe.

use utoipa::ToSchema;
use uuid::Uuid;

/// Whom to ask: by friend code or by user id.
///
/// At least one is required; the code wins when both are sent.
#[derive(ToSchema)]
pub struct FriendRequest {
    /// The other user's friend code: exactly 8 characters, matched ignoring case. An unknown
    /// code is a field error.
    #[schema(nullable = false, min_length = 8, max_length = 8, example = "IRAA2K44")]
    pub friend_code: Option<String>,
    /// The other user's id (used when no `friend_code` is sent). An unknown or inactive user
    /// is a field error.
    #[schema(nullable = false)]
    pub user_id: Option<Uuid>,
    /// Another name for `user_id` (`user_id` wins when both are sent).
    #[schema(nullable = false)]
    pub to_user_id: Option<Uuid>,
}

/// How the recipient answers a request.
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum Action {
    /// Become friends (pending requests only).
    Accept,
    /// Decline (pending requests only); the sender may ask again later.
    Reject,
    /// Block the sender, whatever the row's status: neither sees the other any more.
    Block,
}

/// The recipient's answer.
#[derive(ToSchema)]
pub struct RespondRequest {
    pub action: Action,
}
