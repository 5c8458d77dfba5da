//! Dex entry response shapes (DRF's list, detail, create, update and sync serializers).
//! `image_checksum` and `dex_compatible_url` are never null when the entry has an image
//! (docs/wire-compatibility.md#m9); a location is shown only to the entry's owner.

use std::collections::{BTreeMap, HashMap};

use biologidex_core::ids::{AnalysisJobId, AnimalId, DexEntryId, UserId};
use biologidex_db::models::dex::{AnimalBrief, DexEntryView, Visibility};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use crate::{
    animals::AnimalListResponse,
    json::{datetime, ser_datetime},
    media::{MediaUrls, kind},
};

/// Animal creators' usernames, looked up once per response.
pub type Creators = HashMap<UserId, String>;

fn animal_list(a: &AnimalBrief, creators: &Creators) -> AnimalListResponse {
    AnimalListResponse {
        id: a.id,
        scientific_name: a.scientific_name.clone(),
        common_name: a.common_name.clone(),
        conservation_status: a.conservation_status.clone(),
        creation_index: a.creation_index,
        created_by_username: a.created_by_id.and_then(|id| creators.get(&id).cloned()),
        verified: a.verified,
    }
}

/// Six decimals, as the old numeric(9,6) columns rendered.
fn decimal(v: Option<f64>) -> Option<String> {
    v.map(|x| format!("{x:.6}"))
}

/// An entry in lists.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EntryListItem {
    #[schema(value_type = Uuid)]
    pub id: DexEntryId,
    pub owner_username: String,
    /// The animal's id.
    #[schema(value_type = Uuid)]
    pub animal: AnimalId,
    /// The animal's common name.
    pub animal_name: String,
    /// Absolute URL of the entry's image (a capability URL: anyone holding it may load the
    /// image), or null without an image.
    pub original_image: Option<String>,
    #[serde(serialize_with = "ser_datetime")]
    pub catch_date: DateTime<Utc>,
    pub visibility: Visibility,
    pub is_favorite: bool,
}

impl EntryListItem {
    pub fn new(v: &DexEntryView, urls: &MediaUrls) -> Self {
        EntryListItem {
            id: v.entry.id,
            owner_username: v.owner_username.clone(),
            animal: v.animal.id,
            animal_name: v.animal.common_name.clone(),
            original_image: urls.capability(kind::ENTRY, v.entry.image_token.as_deref()),
            catch_date: v.entry.catch_date,
            visibility: v.entry.visibility,
            is_favorite: v.entry.is_favorite,
        }
    }
}

/// One entry in full.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EntryDetail {
    #[schema(value_type = Uuid)]
    pub id: DexEntryId,
    /// The owner's user id.
    #[schema(value_type = Uuid)]
    pub owner: UserId,
    pub owner_username: String,
    /// The animal's id.
    #[schema(value_type = Uuid)]
    pub animal: AnimalId,
    pub animal_details: AnimalListResponse,
    /// Absolute capability URL of the entry's image, or null without an image.
    pub original_image: Option<String>,
    /// Always null (kept for the client).
    pub processed_image: Option<String>,
    /// SHA-256 (hex) of the image; never null when the entry has an image.
    pub image_checksum: Option<String>,
    /// Latitude as a decimal string with 6 places; null when unset or the caller is not
    /// the owner.
    pub location_lat: Option<String>,
    /// Longitude, as `location_lat`.
    pub location_lon: Option<String>,
    /// Empty unless the caller is the owner.
    pub location_name: String,
    /// `[lat, lon]` when both are shown, else null.
    pub location_coords: Option<[f64; 2]>,
    pub notes: String,
    /// Free-form JSON the client stores with the entry.
    #[schema(value_type = Object)]
    pub customizations: Value,
    #[serde(serialize_with = "ser_datetime")]
    pub catch_date: DateTime<Utc>,
    pub visibility: Visibility,
    pub is_favorite: bool,
    #[serde(serialize_with = "ser_datetime")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "ser_datetime")]
    pub updated_at: DateTime<Utc>,
}

impl EntryDetail {
    pub fn new(v: &DexEntryView, viewer: UserId, urls: &MediaUrls, creators: &Creators) -> Self {
        let e = &v.entry;
        let mine = e.owner_id == viewer;
        let (lat, lon) = if mine {
            (e.location_lat, e.location_lon)
        } else {
            (None, None)
        };
        EntryDetail {
            id: e.id,
            owner: e.owner_id,
            owner_username: v.owner_username.clone(),
            animal: v.animal.id,
            animal_details: animal_list(&v.animal, creators),
            original_image: urls.capability(kind::ENTRY, e.image_token.as_deref()),
            processed_image: None,
            image_checksum: e.image_checksum.clone(),
            location_lat: decimal(lat),
            location_lon: decimal(lon),
            location_name: if mine {
                e.location_name.clone()
            } else {
                String::new()
            },
            location_coords: lat.zip(lon).map(|(a, b)| [a, b]),
            notes: e.notes.clone(),
            customizations: e.customizations.clone(),
            catch_date: e.catch_date,
            visibility: e.visibility,
            is_favorite: e.is_favorite,
            created_at: e.created_at,
            updated_at: e.updated_at,
        }
    }
}

/// The 201 body of a new entry (`source_vision_job` is the job's id, not its description).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EntryCreated {
    #[schema(value_type = Uuid)]
    pub id: DexEntryId,
    /// The animal's id.
    #[schema(value_type = Uuid)]
    pub animal: AnimalId,
    /// The vision job the image came from, if any.
    #[schema(value_type = Option<Uuid>)]
    pub source_vision_job: Option<AnalysisJobId>,
    /// Absolute capability URL of the entry's image, or null without an image.
    pub original_image: Option<String>,
    /// SHA-256 (hex) of the image; never null when the entry has an image.
    pub image_checksum: Option<String>,
    /// Latitude as a decimal string with 6 places, or null.
    pub location_lat: Option<String>,
    /// Longitude, as `location_lat`.
    pub location_lon: Option<String>,
    pub location_name: String,
    pub notes: String,
    #[serde(serialize_with = "ser_datetime")]
    pub catch_date: DateTime<Utc>,
    pub visibility: Visibility,
    /// The animal's Pokédex number.
    pub creation_index: i32,
}

impl EntryCreated {
    pub fn new(v: &DexEntryView, urls: &MediaUrls) -> Self {
        let e = &v.entry;
        EntryCreated {
            id: e.id,
            animal: v.animal.id,
            source_vision_job: e.source_vision_job_id,
            original_image: urls.capability(kind::ENTRY, e.image_token.as_deref()),
            image_checksum: e.image_checksum.clone(),
            location_lat: decimal(e.location_lat),
            location_lon: decimal(e.location_lon),
            location_name: e.location_name.clone(),
            notes: e.notes.clone(),
            catch_date: e.catch_date,
            visibility: e.visibility,
            creation_index: v.animal.creation_index,
        }
    }
}

/// The 200 body of an edit: the update serializer's fields plus the fresh animal
/// (docs/wire-compatibility.md#m6).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EntryUpdated {
    #[schema(value_type = Uuid)]
    pub id: DexEntryId,
    /// The animal's id.
    #[schema(value_type = Uuid)]
    pub animal: AnimalId,
    pub animal_details: AnimalListResponse,
    pub notes: String,
    /// Free-form JSON the client stores with the entry.
    #[schema(value_type = Object)]
    pub customizations: Value,
    pub visibility: Visibility,
    pub is_favorite: bool,
    pub location_name: String,
}

impl EntryUpdated {
    pub fn new(v: &DexEntryView, creators: &Creators) -> Self {
        EntryUpdated {
            id: v.entry.id,
            animal: v.animal.id,
            animal_details: animal_list(&v.animal, creators),
            notes: v.entry.notes.clone(),
            customizations: v.entry.customizations.clone(),
            visibility: v.entry.visibility,
            is_favorite: v.entry.is_favorite,
            location_name: v.entry.location_name.clone(),
        }
    }
}

/// An entry as sync sends it (the client keys its local dex by `creation_index`).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SyncItem {
    /// The entry's id.
    #[schema(value_type = Uuid)]
    pub id: DexEntryId,
    #[schema(value_type = Uuid)]
    pub animal_id: AnimalId,
    /// The animal's Pokédex number.
    pub creation_index: i32,
    /// The animal's scientific name.
    pub scientific_name: String,
    /// The animal's common name.
    pub common_name: String,
    pub owner_username: String,
    /// Absolute capability URL of the entry's image, or null without an image.
    pub dex_compatible_url: Option<String>,
    /// SHA-256 (hex) of that image; never null when there is an image.
    pub image_checksum: Option<String>,
    /// When the image last changed: the source vision job's completion (or creation), else
    /// the entry's `updated_at`.
    #[serde(serialize_with = "ser_datetime")]
    pub image_updated_at: DateTime<Utc>,
    #[serde(serialize_with = "ser_datetime")]
    pub catch_date: DateTime<Utc>,
    pub is_favorite: bool,
    pub visibility: Visibility,
    #[serde(serialize_with = "ser_datetime")]
    pub updated_at: DateTime<Utc>,
}

impl SyncItem {
    pub fn new(v: &DexEntryView, urls: &MediaUrls) -> Self {
        let e = &v.entry;
        SyncItem {
            id: e.id,
            animal_id: v.animal.id,
            creation_index: v.animal.creation_index,
            scientific_name: v.animal.scientific_name.clone(),
            common_name: v.animal.common_name.clone(),
            owner_username: v.owner_username.clone(),
            dex_compatible_url: urls.capability(kind::ENTRY, e.image_token.as_deref()),
            image_checksum: e.image_checksum.clone(),
            image_updated_at: v.image_updated_at(),
            catch_date: e.catch_date,
            is_favorite: e.is_favorite,
            visibility: e.visibility,
            updated_at: e.updated_at,
        }
    }
}

/// The caller's own dex.
// Fields in alphabetical order (here and below): these bodies have always been sent with
// sorted keys.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SyncResponse {
    /// Number of `entries`.
    pub count: usize,
    /// Ids of entries deleted since `last_sync` (empty on a full sync).
    #[schema(value_type = Vec<Uuid>)]
    pub deleted: Vec<DexEntryId>,
    /// Entries changed at or after `last_sync` (all on a full sync), in Pokédex order.
    pub entries: Vec<SyncItem>,
    /// The next `last_sync` (ISO 8601 ending in `+00:00`).
    pub server_time: String,
}

/// One user's dex as the caller may see it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UserEntriesResponse {
    /// Ids of entries deleted, or no longer visible to the caller, since `last_sync` (empty
    /// on a full sync).
    #[schema(value_type = Vec<Uuid>)]
    pub deleted: Vec<DexEntryId>,
    /// Visible entries changed at or after `last_sync` (all on a full sync), in Pokédex order.
    pub entries: Vec<SyncItem>,
    /// The next `last_sync` (ISO 8601 ending in `+00:00`).
    pub server_time: String,
    /// Number of `entries`.
    pub total_count: usize,
    /// The user whose dex this is.
    #[schema(value_type = Uuid)]
    pub user_id: UserId,
}

/// One friend in the friends overview.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FriendOverview {
    pub friend_code: String,
    /// When the latest of those entries changed (ISO 8601 ending in `+00:00`), or null.
    pub latest_update: Option<String>,
    /// The friend's entries the caller may see (visibility `friends` or `public`).
    pub total_entries: i64,
    #[schema(value_type = Uuid)]
    pub user_id: UserId,
    pub username: String,
}

/// The caller's accepted friends, newest account first.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FriendsOverviewResponse {
    pub friends: Vec<FriendOverview>,
}

/// One `batch_sync` result: the dex, or why it cannot be synced.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum BatchSyncResult {
    Synced {
        /// Number of `entries`.
        count: usize,
        /// Ids of entries deleted, or no longer visible to the caller, since `last_sync`.
        #[schema(value_type = Vec<Uuid>)]
        deleted: Vec<DexEntryId>,
        /// Visible entries changed at or after `last_sync` (all on a full sync).
        entries: Vec<SyncItem>,
    },
    Failed {
        /// `Invalid user_id`, `User not found` or `Not friends with this user`.
        error: String,
    },
}

/// Each requested dex's changes.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BatchSyncResponse {
    /// One result per request, keyed by its `user_id` as sent (`self` when absent); a repeated
    /// key keeps the last request's result.
    pub results: BTreeMap<String, BatchSyncResult>,
    /// The next `last_sync` of every synced dex (ISO 8601 ending in `+00:00`).
    pub server_time: String,
}

/// `server_time` as the old server wrote it (Python `isoformat()`: `+00:00`, not `Z`).
pub fn server_time(t: &DateTime<Utc>) -> String {
    let z = datetime(t);
    format!("{}+00:00", z.trim_end_matches('Z'))
}
