//! Request bodies, queries and value sets as the OpenAPI document shows them, and what their
//! handlers parse (through `crate::request`). The multipart form of a create is described
//! separately: its text parts are parsed as [`EntryCreateRequest`], its `original_image` part
//! is the file.

use biologidex_core::ids::{AnalysisJobId, UserId};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use biologidex_core::error::FieldErrors;
use biologidex_db::models::dex::{EntryQuery, NewEntry};

use super::{
    fields::{
        AnimalFilter, AnimalParam, Coordinate, EntryAnimal, EntryDatetime, NotAFile, SyncRequests,
        VisibilityChoice, VisibilityFilter, VisionJobRef,
    },
    sync::last_sync,
};
use crate::{
    ApiResult,
    animals::read::{ordering, search_terms},
    request::{
        Chars, FilterBool, Nullable, Optional, OptionalAny, Param, RawText, Required, RequiredAny,
    },
};

pub use biologidex_db::models::dex::Visibility;

/// A catch sent as JSON. JSON cannot carry a file, so the image comes from the caller's own
/// vision job.
#[derive(Deserialize, ToSchema)]
#[schema(as = EntryCreateJson)]
pub struct EntryCreateRequest {
    /// The animal caught (must exist).
    #[schema(value_type = Uuid)]
    pub animal: Required<EntryAnimal>,
    /// One of the caller's own vision jobs; its image becomes the entry's image.
    #[schema(value_type = Uuid)]
    pub source_vision_job: OptionalAny<VisionJobRef>,
    /// Only a file part of a form may carry the image; in JSON (or as text) it is refused.
    #[schema(ignore)]
    pub original_image: OptionalAny<NotAFile>,
    /// Latitude: a number or numeric string with at most 3 digits before the point, 6 after
    /// it and 9 in all; null or blank for none. Shown only to the owner.
    #[schema(value_type = Option<f64>)]
    pub location_lat: Nullable<Coordinate>,
    /// Longitude, as `location_lat`.
    #[schema(value_type = Option<f64>)]
    pub location_lon: Nullable<Coordinate>,
    /// Place name, at most 200 characters; shown only to the owner.
    #[schema(value_type = Option<String>, max_length = 200, nullable = false)]
    pub location_name: Optional<Chars<200>>,
    #[schema(value_type = Option<String>, nullable = false)]
    pub notes: Optional<String>,
    /// ISO 8601; values without an offset are UTC. Default: now. One entry per owner, animal
    /// and catch date.
    #[schema(value_type = Option<DateTime<Utc>>, nullable = false)]
    pub catch_date: Optional<EntryDatetime>,
    /// Default `friends`.
    #[schema(value_type = Option<Visibility>, nullable = false)]
    pub visibility: Optional<VisibilityChoice>,
}

impl EntryCreateRequest {
    /// The rule across fields, once every field is fine: the image comes from a vision job or
    /// an uploaded file.
    pub fn check(&self, has_file: bool, errors: &mut FieldErrors) {
        if errors.is_empty() && self.job().is_none() && !has_file {
            errors.insert(
                "non_field_errors".to_owned(),
                vec!["Either source_vision_job or original_image must be provided.".to_owned()],
            );
        }
    }

    fn job(&self) -> Option<AnalysisJobId> {
        self.source_vision_job.0.and_then(|j| j.0)
    }

    /// The row to insert for `owner` (its image is filled in later).
    pub fn into_new(self, owner: UserId) -> NewEntry {
        let coordinate = |c: Nullable<Coordinate>| c.into_option().flatten().and_then(|c| c.0);
        NewEntry {
            owner_id: owner,
            animal_id: self.animal.0.0,
            source_vision_job_id: self.job(),
            image_id: None,
            image_checksum: None,
            location_lat: coordinate(self.location_lat),
            location_lon: coordinate(self.location_lon),
            location_name: self.location_name.0.map(|n| n.0).unwrap_or_default(),
            notes: self.notes.0.unwrap_or_default(),
            catch_date: self.catch_date.0.map(|d| d.0),
            visibility: self
                .visibility
                .0
                .and_then(|v| v.0)
                .unwrap_or(Visibility::Friends),
        }
    }
}

// Only describes: the text parts are read as an `EntryCreateRequest`.
/// A catch sent as a form: every field is text; the image is either uploaded
/// (`original_image`) or taken from the caller's own vision job (`source_vision_job`), and at
/// least one of the two is required.
#[derive(ToSchema)]
pub struct EntryCreateForm {
    /// The animal caught (must exist).
    pub animal: Uuid,
    /// One of the caller's own vision jobs; its image is used when no file is uploaded.
    pub source_vision_job: Option<Uuid>,
    /// The photo: JPEG, PNG or WebP, at most `MAX_UPLOAD_SIZE_MB` (10 MB by default); stored
    /// as a PNG of at most 2560×2560 without EXIF.
    #[schema(value_type = Option<String>, format = Binary, nullable = false)]
    pub original_image: Option<String>,
    /// Latitude with at most 3 digits before the point, 6 after it and 9 in all; blank for
    /// none. Shown only to the owner.
    #[schema(nullable = false)]
    pub location_lat: Option<f64>,
    /// Longitude, as `location_lat`.
    #[schema(nullable = false)]
    pub location_lon: Option<f64>,
    /// Place name, at most 200 characters; shown only to the owner.
    #[schema(max_length = 200, nullable = false)]
    pub location_name: Option<String>,
    #[schema(nullable = false)]
    pub notes: Option<String>,
    /// ISO 8601; values without an offset are UTC. Default: now. One entry per owner, animal
    /// and catch date.
    #[schema(nullable = false)]
    pub catch_date: Option<DateTime<Utc>>,
    /// Default `friends`.
    #[schema(nullable = false)]
    pub visibility: Option<Visibility>,
}

/// Changes to an entry: PUT requires `animal`, PATCH nothing. Location and catch date cannot
/// be changed.
#[derive(Deserialize, ToSchema)]
pub struct EntryUpdateRequest {
    /// Another animal (must exist); the owner may not already have an entry of it with the
    /// same catch date.
    #[schema(value_type = Uuid, required = false)]
    pub animal: Optional<EntryAnimal>,
    #[schema(value_type = String, required = false)]
    pub notes: Optional<String>,
    /// Free-form JSON the client stores with the entry.
    #[schema(value_type = Object, required = false)]
    pub customizations: OptionalAny<Value>,
    /// Narrowing the visibility revokes the image URLs handed out before.
    #[schema(value_type = Visibility, required = false)]
    pub visibility: Optional<VisibilityChoice>,
    /// `true`/`false` (also `1`/`0`, `"yes"`/`"no"`, `"on"`/`"off"`).
    #[schema(value_type = bool, required = false)]
    pub is_favorite: Optional<bool>,
    /// At most 200 characters.
    #[schema(value_type = String, required = false, max_length = 200)]
    pub location_name: Optional<Chars<200>>,
}

/// The query of the single-dex sync routes.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LastSync {
    /// The `server_time` of the previous sync (ISO 8601; a `+` decoded to a space is
    /// accepted). Absent or blank: a full sync (`deleted` is then empty).
    #[param(value_type = Option<String>)]
    pub last_sync: Param<RawText>,
}

impl LastSync {
    /// The time to sync from: `None` for a full sync; unreadable is a rule error.
    pub fn since(self) -> ApiResult<Option<DateTime<Utc>>> {
        last_sync(text(self.last_sync).as_ref())
    }
}

// Only describes: `SyncRequests` reads the items leniently (one that is not an object syncs
// `self`).
/// One dex to sync.
#[derive(ToSchema)]
pub struct SyncRequest {
    /// `self` (the default when absent or null) or a user id: the caller's own, a friend's.
    /// The result is keyed by this value as sent.
    pub user_id: Option<String>,
    /// The `server_time` of the previous sync of this dex (ISO 8601); absent, null, blank or
    /// unreadable means a full sync.
    pub last_sync: Option<String>,
}

/// Several dexes synced at once.
#[derive(Deserialize, ToSchema)]
pub struct BatchSyncRequest {
    /// At most 50 requests.
    #[schema(value_type = Vec<SyncRequest>, max_items = 50)]
    pub sync_requests: RequiredAny<SyncRequests>,
}

fn text(p: Param<RawText>) -> Option<String> {
    p.into_inner().map(|t| t.0)
}

/// `by_animal`'s animal. Absent or empty is the handler's rule error (`animal_id parameter
/// required`); a malformed id is a field error.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ByAnimalQuery {
    /// The animal.
    #[param(value_type = Uuid)]
    pub animal_id: Param<AnimalParam>,
}

/// The entry list's filters, search and ordering (`page` is read by the pagination).
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EntryListQuery {
    /// Only entries of this animal.
    #[param(value_type = Option<Uuid>)]
    pub animal: Param<AnimalFilter>,
    /// Only entries with this visibility.
    #[param(value_type = Option<Visibility>)]
    pub visibility: Param<VisibilityFilter>,
    #[doc = "Only favourites (`true`) or the others (`false`); `1`/`0`, \
        `yes`/`no`, `on`/`off` also work, other values are ignored."]
    #[param(value_type = Option<bool>)]
    pub is_favorite: Param<FilterBool>,
    #[doc = "Terms separated by spaces or commas; each must appear (any case) in \
        the animal's scientific or common name or in the notes."]
    #[param(value_type = Option<String>)]
    pub search: Param<RawText>,
    #[doc = "Comma-separated keys among `catch_date` and `created_at`, `-` in \
        front for descending; unknown keys are ignored. Default `-catch_date`."]
    #[param(value_type = Option<String>)]
    pub ordering: Param<RawText>,
}

impl EntryListQuery {
    /// The model's query. A bad `search` is refused after the filters were read, as DRF's
    /// search runs after django-filter.
    pub fn into_query(self) -> ApiResult<EntryQuery> {
        Ok(EntryQuery {
            animal: self.animal.into_inner().map(|a| a.0),
            visibility: self.visibility.into_inner().map(|v| v.0),
            is_favorite: self.is_favorite.into_inner().and_then(|b| b.0),
            search: search_terms(text(self.search).as_ref())?,
            ordering: ordering(text(self.ordering).as_ref(), &["catch_date", "created_at"]),
        })
    }
}
