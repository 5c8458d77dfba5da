//! User response shapes (DRF's `UserSerializer`); other users never see an email.

use biologidex_core::ids::UserId;
use biologidex_db::models::accounts::UserView;
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use serde_json::Value;

use crate::{
    json::{ser_datetime, ser_opt_datetime},
    media::MediaUrls,
};

/// The `profile` object.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ProfileResponse {
    /// Number of the user's dex entries (as of the last stats update).
    pub total_catches: i32,
    /// Number of distinct animals among them.
    pub unique_species: i32,
    /// The client's card style settings (any JSON, `{}` by default).
    pub preferred_card_style: Value,
    /// Day the account was created (`YYYY-MM-DD`).
    pub join_date: NaiveDate,
    /// Catch date of the newest dex entry; null before the first catch.
    #[schema(required = true)]
    #[serde(serialize_with = "ser_opt_datetime")]
    pub last_catch_date: Option<DateTime<Utc>>,
}

/// A user as the API shows it. `email` is present only for the user themself and staff.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UserResponse {
    #[schema(value_type = Uuid)]
    pub id: UserId,
    pub username: String,
    /// Only for the user themself and staff; absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// 8 characters (`A–Z`, `0–9`), never changes; friends use it to find each other.
    pub friend_code: String,
    /// At most 500 characters; may be empty.
    pub bio: String,
    /// Absolute URL of the avatar, or null.
    #[schema(required = true)]
    pub avatar: Option<String>,
    /// Badges earned (a JSON list, `[]` by default).
    #[schema(value_type = Vec<Value>)]
    pub badges: Value,
    #[serde(serialize_with = "ser_datetime")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "ser_datetime")]
    pub updated_at: DateTime<Utc>,
    pub profile: ProfileResponse,
}

impl UserResponse {
    /// Builds the response; `private` decides whether the email is included.
    pub fn new(view: UserView, urls: &MediaUrls, private: bool) -> Self {
        let u = view.user;
        let p = view.profile;
        UserResponse {
            id: u.id,
            username: u.username,
            email: private.then_some(u.email),
            friend_code: u.friend_code,
            bio: u.bio,
            avatar: urls.public_opt(u.avatar.as_deref()),
            badges: u.badges,
            created_at: u.created_at,
            updated_at: u.updated_at,
            profile: ProfileResponse {
                total_catches: p.total_catches,
                unique_species: p.unique_species,
                preferred_card_style: p.preferred_card_style,
                join_date: p.join_date,
                last_catch_date: p.last_catch_date,
            },
        }
    }
}
