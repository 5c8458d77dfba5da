//! Changing the catalogue.

use actix_web::{HttpResponse, web};
use biologidex_core::Error;
use biologidex_core::error::Missing;
use biologidex_db::models::animals::Animal;

use super::{
    dto::{AnimalResponse, LookupOrCreateResponse},
    fields::{self, AnimalRequest},
    schema::{AnimalCreateRequest, AnimalLookupRequest, AnimalUpdateRequest},
};
use crate::{
    ApiError, ApiResult,
    auth::AuthUser,
    ids::path_uuid,
    request::{checked_from_fields, object},
    state::AppState,
};

/// Any signed-in user adds an animal (unverified unless staff).
#[utoipa::path(
    post, path = "/api/v1/animals/", tag = "animals",
    security(("jwt" = [])),
    request_body = AnimalCreateRequest,
    responses(
        (status = 201, description = "The new animal (`discovery_count` 0).",
            body = AnimalResponse),
        (status = 400, description = "Invalid fields, or the scientific name is taken \
            (`animal with this scientific name already exists.`).",
            body = crate::docs::schemas::FieldErrors),
    )
)]
pub async fn create_animal(
    state: web::Data<AppState>,
    me: AuthUser,
    body: crate::input::Json,
) -> ApiResult<HttpResponse> {
    let body: AnimalCreateRequest =
        checked_from_fields(object(body.into_inner())?, |b, errors| {
            fields::check(b, errors, None, false)
        })?;
    let fields = fields::apply(body.sent(), None, me.is_staff);
    let mut conn = state.db.get().await?;
    let animal = Animal::create(&mut conn, fields, Some(me.id)).await?;
    tracing::info!(animal.id = %animal.id, creation_index = animal.creation_index, "animal created");
    let view = Animal::find(&mut conn, animal.id)
        .await?
        .ok_or(ApiError::not_found(Missing::Animal))?;
    Ok(HttpResponse::Created().json(AnimalResponse::new(view, 0)))
}

/// Finds an animal by name or creates it; any signed-in user (docs/wire-compatibility.md#m5). An
/// existing animal (any case) is returned with 200; otherwise it is created (common name defaulting
/// to the scientific name) with 201.
#[utoipa::path(
    post, path = "/api/v1/animals/lookup_or_create/", tag = "animals",
    security(("jwt" = [])),
    request_body = AnimalLookupRequest,
    responses(
        (status = 200, description = "An animal with this scientific name (any case) exists; \
            the other fields are validated but not applied.", body = LookupOrCreateResponse),
        (status = 201, description = "The animal was created.", body = LookupOrCreateResponse),
        (status = 400, description = "`scientific_name` missing or blank (a rule error, \
            `scientific_name is required`), or other invalid fields (field errors).",
            body = super::schema::RuleOrFieldErrors),
    )
)]
pub async fn lookup_or_create_animal(
    state: web::Data<AppState>,
    me: AuthUser,
    body: crate::input::Json,
) -> ApiResult<HttpResponse> {
    let map = fields::lookup_defaults(body.into_inner())?;
    let body: AnimalLookupRequest =
        checked_from_fields(map, |b, errors| fields::check(b, errors, None, false))?;
    let fields = fields::apply(body.sent(), None, me.is_staff);
    let mut conn = state.db.get().await?;
    let (view, created) = Animal::lookup_or_create(&mut conn, fields, Some(me.id)).await?;
    let discovered = if created {
        0
    } else {
        Animal::discovery_count(&mut conn, view.animal.id).await?
    };
    let body = LookupOrCreateResponse {
        animal: AnimalResponse::new(view, discovered),
        created,
    };
    Ok(if created {
        HttpResponse::Created().json(body)
    } else {
        HttpResponse::Ok().json(body)
    })
}

/// Edits an animal. Staff only. PUT requires both names; PATCH changes only the
/// fields sent.
#[utoipa::path(
    method(put, patch), path = "/api/v1/animals/{pk}/", tag = "animals",
    security(("jwt" = [])),
    params(("pk" = Uuid, Path, description = "The animal's id.")),
    request_body = AnimalUpdateRequest,
    responses(
        (status = 200, description = "The updated animal.", body = AnimalResponse),
        (status = 403, description = "The caller is not staff.",
            body = crate::docs::schemas::Detail),
    )
)]
pub async fn update_animal(
    state: web::Data<AppState>,
    me: AuthUser,
    req: actix_web::HttpRequest,
    pk: web::Path<String>,
    body: crate::input::Json,
) -> ApiResult<HttpResponse> {
    let id = path_uuid(&pk)?;
    if !me.is_staff {
        return Err(ApiError(Error::Forbidden));
    }
    let mut conn = state.db.get().await?;
    let current = Animal::find(&mut conn, id)
        .await?
        .ok_or(ApiError::not_found(Missing::Animal))?;
    let full = req.method() == actix_web::http::Method::PUT;
    let body: AnimalUpdateRequest =
        checked_from_fields(object(body.into_inner())?, |b, errors| {
            fields::check(b, errors, Some(&current.animal), full)
        })?;
    let fields = fields::apply(body.sent(), Some(&current.animal), true);
    let view = Animal::update(&mut conn, id, fields)
        .await?
        .ok_or(ApiError::not_found(Missing::Animal))?;
    crate::graph::invalidate::animals_changed(&state).await;
    let discovered = Animal::discovery_count(&mut conn, id).await?;
    Ok(HttpResponse::Ok().json(AnimalResponse::new(view, discovered)))
}

/// Deletes an animal. Staff only. The Pokédex number is never reused.
#[utoipa::path(
    delete, path = "/api/v1/animals/{pk}/", tag = "animals",
    security(("jwt" = [])),
    params(("pk" = Uuid, Path, description = "The animal's id.")),
    responses(
        (status = 204, description = "Deleted, with the animal's dex entries."),
        (status = 403, description = "The caller is not staff.",
            body = crate::docs::schemas::Detail),
    )
)]
pub async fn delete_animal(
    state: web::Data<AppState>,
    me: AuthUser,
    pk: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = path_uuid(&pk)?;
    if !me.is_staff {
        return Err(ApiError(Error::Forbidden));
    }
    let mut conn = state.db.get().await?;
    if Animal::delete(&mut conn, id).await? == 0 {
        return Err(ApiError::not_found(Missing::Animal));
    }
    tracing::info!(animal.id = %id, by = %me.id, "animal deleted");
    crate::graph::invalidate::animals_changed(&state).await;
    Ok(HttpResponse::NoContent().finish())
}
