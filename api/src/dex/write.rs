//! Creating and changing entries (owner only). Every write recomputes the owner's profile
//! counters in the same transaction.

use actix_web::{HttpRequest, HttpResponse, web};
use biologidex_core::Error;
use biologidex_core::error::Missing;
use biologidex_core::ids::{DexEntryId, StoredImageId, UserId};
use biologidex_db::models::{
    accounts::User,
    animals::Animal,
    dex::{DexEntry, DexEntryView, EntryChanges, NewEntry, Viewer},
    images, vision,
};
use biologidex_media::images::{Edits, convert};
use diesel_async::AsyncConnection;

use super::{
    dto::{EntryCreated, EntryDetail, EntryUpdated},
    schema::{EntryCreateRequest, EntryUpdateRequest},
    viewer,
};
use crate::{
    ApiError, ApiResult,
    auth::AuthUser,
    ids::path_uuid,
    media::MediaUrls,
    request::{checked_from_fields, object},
    state::AppState,
    upload,
};

fn invalid_pk(raw: impl std::fmt::Display) -> String {
    format!("Invalid pk \"{raw}\" - object does not exist.")
}

/// Records a catch (JSON or multipart), with the image of the caller's own
/// vision job (`source_vision_job`) or an uploaded `original_image`.
#[utoipa::path(
    post, path = "/api/v1/dex/entries/", tag = "dex",
    security(("jwt" = [])),
    request_body(content(
        (EntryCreateRequest = "application/json"),
        (super::schema::EntryCreateForm = "multipart/form-data"),
    )),
    responses(
        (status = 201, description = "The new entry.", body = EntryCreated),
        (status = 400, description = "Invalid fields: an unknown animal, or a vision job \
            that is not the caller's (`Invalid pk \"…\" - object does not exist.`); neither a \
            job nor an image (`non_field_errors`); an image that cannot be decoded or is too \
            large; an animal and catch date the caller already has. A body that cannot be \
            parsed gets `{\"detail\": \"…\"}` instead.",
            body = crate::docs::schemas::FieldErrors),
    )
)]
pub async fn create_entry(
    state: web::Data<AppState>,
    req: HttpRequest,
    me: AuthUser,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    let max = state.settings.max_upload_size_mb * 1024 * 1024;
    let input = upload::read(&req, payload, "original_image", max).await?;
    let has_file = input.file.is_some();
    let body: EntryCreateRequest =
        checked_from_fields(object(input.fields)?, |b: &EntryCreateRequest, errors| {
            b.check(has_file, errors);
        })?;
    let new = body.into_new(me.id);
    // Decode and re-encode an upload off the executor (strips EXIF, bounds the size).
    let blob = match input.file {
        Some(file) => {
            let converted =
                biologidex_core::cpu::run(move || convert(&file.bytes, Edits::default()))
                    .await?
                    .map_err(|e| ApiError::field("original_image", e.to_string()))?;
            Some(converted.image)
        }
        None => None,
    };
    let mut conn = state.db.get().await?;
    if Animal::find(&mut conn, new.animal_id).await?.is_none() {
        return Err(ApiError::field("animal", invalid_pk(new.animal_id)));
    }
    let job_image = match new.source_vision_job_id {
        Some(id) => Some(
            vision::image_of_owned_job(&mut conn, id, me.id)
                .await?
                .ok_or_else(|| ApiError::field("source_vision_job", invalid_pk(id)))?,
        ),
        None => None,
    };
    let entry = insert_entry(&state, &mut conn, new, blob, job_image).await?;
    tracing::info!(dex_entry.id = %entry.id, user.id = %me.id, "dex entry created");
    crate::graph::invalidate::dex_changed(&state, &mut conn, me.id).await;
    let view = own_view(&mut conn, me.id, entry.id).await?;
    let urls = MediaUrls::new(&req, &state.settings);
    Ok(HttpResponse::Created().json(EntryCreated::new(&view, &urls)))
}

/// Stores the image (an upload, or the vision job's) with the entry and recounts the owner's
/// profile, in one transaction.
async fn insert_entry(
    state: &AppState,
    conn: &mut diesel_async::AsyncPgConnection,
    mut new: NewEntry,
    blob: Option<images::ImageBlob>,
    job_image: Option<(StoredImageId, String)>,
) -> ApiResult<DexEntry> {
    let storage = state.storage.clone();
    conn.transaction::<_, ApiError, _>(async |conn| {
        (new.image_id, new.image_checksum) = match (&blob, job_image) {
            (Some(blob), _) => (
                Some(images::store(conn, storage.as_ref(), blob).await?),
                Some(blob.checksum.clone()),
            ),
            (None, Some((id, sum))) => (Some(id), Some(sum)),
            (None, None) => (None, None),
        };
        let entry = DexEntry::insert(conn, &new).await?;
        User::recount(conn, new.owner_id).await?;
        Ok(entry)
    })
    .await
}

async fn own_view(
    conn: &mut diesel_async::AsyncPgConnection,
    me: UserId,
    id: DexEntryId,
) -> ApiResult<DexEntryView> {
    // The owner sees every entry of their own: no relations to load.
    DexEntry::find_visible(conn, &Viewer::owner(me), id)
        .await?
        .ok_or(ApiError::not_found(Missing::DexEntry))
}

/// Finds an entry the caller may see and checks they own it (403 for a friend, 404 when it
/// is not visible at all).
async fn owned(
    conn: &mut diesel_async::AsyncPgConnection,
    me: &AuthUser,
    raw: &str,
) -> ApiResult<DexEntryView> {
    let id = path_uuid(raw)?;
    let viewer = Viewer::load(conn, me.id).await?;
    let view = DexEntry::find_visible(conn, &viewer, id)
        .await?
        .ok_or(ApiError::not_found(Missing::DexEntry))?;
    if view.entry.owner_id != me.id {
        return Err(ApiError(Error::Forbidden));
    }
    Ok(view)
}

/// Edit animal, notes, customizations, visibility, favourite
/// and place name (PUT requires `animal`). A collision with another entry of the same animal
/// and catch date is a field error; the response is the fresh row.
#[utoipa::path(
    method(put, patch), path = "/api/v1/dex/entries/{pk}/", tag = "dex",
    security(("jwt" = [])),
    params(("pk" = Uuid, Path, description = "The entry's id.")),
    request_body = EntryUpdateRequest,
    responses(
        (status = 200, description = "The entry as saved.", body = EntryUpdated),
        (status = 400, description = "Invalid fields: an unknown animal (`Invalid pk \"…\" - \
            object does not exist.`), or an animal the owner already has an entry of with the \
            same catch date.", body = crate::docs::schemas::FieldErrors),
        (status = 403, description = "The entry is visible to the caller but not theirs.",
            body = crate::docs::schemas::Detail),
    )
)]
pub async fn update_entry(
    state: web::Data<AppState>,
    req: HttpRequest,
    me: AuthUser,
    pk: web::Path<String>,
    body: crate::input::Json,
) -> ApiResult<HttpResponse> {
    let mut conn = state.db.get().await?;
    let current = owned(&mut conn, &me, &pk).await?;
    let put = req.method() == actix_web::http::Method::PUT;
    let body: EntryUpdateRequest = checked_from_fields(
        object(body.into_inner())?,
        |b: &EntryUpdateRequest, errors| {
            if put && b.animal.0.is_none() && !errors.contains_key("animal") {
                errors.insert(
                    "animal".to_owned(),
                    vec![crate::request::REQUIRED.to_owned()],
                );
            }
        },
    )?;
    let animal = body.animal.into_inner().map(|a| a.0);
    let changes = EntryChanges {
        animal_id: animal,
        notes: body.notes.into_inner(),
        customizations: body.customizations.into_inner(),
        visibility: body.visibility.into_inner().and_then(|v| v.0),
        is_favorite: body.is_favorite.into_inner(),
        location_name: body.location_name.into_inner().map(|n| n.0),
    };
    if let Some(a) = animal
        && Animal::find(&mut conn, a).await?.is_none()
    {
        return Err(ApiError::field("animal", invalid_pk(a)));
    }
    let id = current.entry.id;
    conn.transaction::<_, ApiError, _>(async |conn| {
        DexEntry::update(conn, id, &changes).await?;
        if changes.animal_id.is_some() {
            User::recount(conn, me.id).await?;
        }
        Ok(())
    })
    .await?;
    crate::graph::invalidate::dex_changed(&state, &mut conn, me.id).await;
    let view = own_view(&mut conn, me.id, id).await?;
    let creators = viewer::creators(&mut conn, std::slice::from_ref(&view)).await?;
    Ok(HttpResponse::Ok().json(EntryUpdated::new(&view, &creators)))
}

/// Deletes an entry. Owner only; recorded for friends' syncs.
#[utoipa::path(
    delete, path = "/api/v1/dex/entries/{pk}/", tag = "dex",
    security(("jwt" = [])),
    params(("pk" = Uuid, Path, description = "The entry's id.")),
    responses(
        (status = 204, description = "Deleted; later syncs list its id in `deleted`."),
        (status = 403, description = "The entry is visible to the caller but not theirs.",
            body = crate::docs::schemas::Detail),
    )
)]
pub async fn delete_entry(
    state: web::Data<AppState>,
    me: AuthUser,
    pk: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let mut conn = state.db.get().await?;
    let current = owned(&mut conn, &me, &pk).await?;
    let id = current.entry.id;
    conn.transaction::<_, ApiError, _>(async |conn| {
        DexEntry::delete(conn, id).await?;
        User::recount(conn, me.id).await?;
        Ok(())
    })
    .await?;
    tracing::info!(dex_entry.id = %id, user.id = %me.id, "dex entry deleted");
    crate::graph::invalidate::dex_changed(&state, &mut conn, me.id).await;
    Ok(HttpResponse::NoContent().finish())
}

/// Toggles the favourite flag. Owner only; the change reaches the next sync.
#[utoipa::path(
    post, path = "/api/v1/dex/entries/{pk}/toggle_favorite/", tag = "dex",
    security(("jwt" = [])),
    params(("pk" = Uuid, Path, description = "The entry's id.")),
    responses(
        (status = 200, description = "The entry with `is_favorite` flipped.", body = EntryDetail),
        (status = 403, description = "The entry is visible to the caller but not theirs.",
            body = crate::docs::schemas::Detail),
    )
)]
pub async fn toggle_favorite(
    state: web::Data<AppState>,
    req: HttpRequest,
    me: AuthUser,
    pk: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let mut conn = state.db.get().await?;
    let current = owned(&mut conn, &me, &pk).await?;
    DexEntry::toggle_favorite(&mut conn, current.entry.id).await?;
    crate::graph::invalidate::dex_changed(&state, &mut conn, me.id).await;
    let view = own_view(&mut conn, me.id, current.entry.id).await?;
    let creators = viewer::creators(&mut conn, std::slice::from_ref(&view)).await?;
    let urls = MediaUrls::new(&req, &state.settings);
    Ok(HttpResponse::Ok().json(EntryDetail::new(&view, me.id, &urls, &creators)))
}
