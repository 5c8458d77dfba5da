//! `POST /images/convert/` (multipart `image` + optional `transformations`), and the owner's
//! `GET .../{pk}/` and `GET .../{pk}/download/` (410 once expired).

use actix_web::{HttpRequest, HttpResponse, http::header, web};
use biologidex_core::error::Missing;
use biologidex_db::models::{
    conversions::{Conversion, NewConversion},
    images,
};
use biologidex_media::images::convert;
use chrono::{DateTime, Utc};
use diesel_async::AsyncConnection;
use serde::Serialize;
use serde_json::{Value, json};

use super::{capture, edits::parse_edits};
use crate::{
    ApiError, ApiResult, auth::AuthUser, ids::path_uuid, json::ser_datetime, state::AppState,
    upload, urls::base_url,
};

// Fields in alphabetical order: the order the keys have always had on the wire.
/// What the conversion did.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ConversionMetadata {
    /// When and where the photo was taken (owner only).
    #[schema(value_type = super::schema::Capture)]
    capture: Value,
    /// SHA-256 of the converted PNG (hex).
    checksum: String,
    /// `[width, height]` of the converted PNG (at most 2560 a side).
    #[schema(value_type = Option<Vec<u32>>, required = true, example = json!([2560, 1920]))]
    converted_size: Option<Value>,
    /// The upload's real format: `JPEG`, `PNG` or `WEBP`.
    #[schema(example = "JPEG")]
    original_format: String,
    /// `[width, height]` of the upload, before any rotation.
    #[schema(value_type = Option<Vec<u32>>, required = true, example = json!([4032, 3024]))]
    original_size: Option<Value>,
    /// The edits applied: those sent, plus `exif_rotation`.
    #[schema(value_type = super::schema::Transformations)]
    transformations_applied: Value,
}

// Fields in alphabetical order: the order the keys have always had on the wire.
/// A converted photo, ready for a vision job for 30 minutes.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ConversionResponse {
    #[serde(serialize_with = "ser_datetime")]
    created_at: DateTime<Utc>,
    /// Absolute URL of the converted PNG (`.../images/convert/{id}/download/`, owner only).
    download_url: String,
    /// 30 minutes after creation; the PNG cannot be downloaded or used after that.
    #[serde(serialize_with = "ser_datetime")]
    expires_at: DateTime<Utc>,
    /// The conversion id a vision job takes.
    #[schema(value_type = uuid::Uuid)]
    id: biologidex_core::ids::ImageConversionId,
    metadata: ConversionMetadata,
}

fn response(c: &Conversion, req: &HttpRequest, state: &AppState) -> ConversionResponse {
    ConversionResponse {
        created_at: c.created_at,
        download_url: format!(
            "{}/api/v1/images/convert/{}/download/",
            base_url(req, &state.settings),
            c.id
        ),
        expires_at: c.expires_at,
        id: c.id,
        metadata: ConversionMetadata {
            capture: c.capture_metadata.clone(),
            checksum: c.checksum.clone(),
            converted_size: c.converted_size.clone(),
            original_format: c.original_format.clone(),
            original_size: c.original_size.clone(),
            transformations_applied: c.transformations.clone(),
        },
    }
}

/// Converts an upload: detect the real format, orient, rotate/crop, flatten, shrink, PNG.
///
/// The PNG fits inside 2560×2560. Refused files are 400 field errors on `image`. Step one of
/// the two-step upload: the returned id goes to `POST /api/v1/vision/jobs/`.
#[utoipa::path(
    post, path = "/api/v1/images/convert/", tag = "images",
    security(("jwt" = [])),
    request_body(content = super::schema::ConvertRequest, content_type = "multipart/form-data"),
    responses(
        (status = 201, body = ConversionResponse),
    )
)]
pub async fn create_conversion(
    state: web::Data<AppState>,
    req: HttpRequest,
    me: AuthUser,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    let max = state.settings.max_upload_size_mb * 1024 * 1024;
    let input = upload::read(&req, payload, "image", max).await?;
    let mut fields = input.fields;
    let transformations = fields
        .as_object_mut()
        .and_then(|o| o.remove("transformations"));
    if let Some(extra) = fields.as_object().and_then(|o| o.keys().next()) {
        return Err(ApiError::field(extra, "Unknown field."));
    }
    let file = input
        .file
        .ok_or_else(|| ApiError::field("image", "No file was submitted."))?;
    let (edits, mut applied) =
        parse_edits(transformations).map_err(|m| ApiError::field("transformations", m))?;

    let bytes = file.bytes;
    let (converted, capture) =
        biologidex_core::cpu::run(move || (convert(&bytes, edits), capture::read(&bytes))).await?;
    let converted = converted.map_err(|e| ApiError::field("image", e.to_string()))?;
    if converted.exif_rotation != 0
        && let Some(obj) = applied.as_object_mut()
    {
        obj.insert("exif_rotation".to_owned(), json!(converted.exif_rotation));
    }

    let mut conn = state.db.get().await?;
    let storage = state.storage.clone();
    let conversion = conn
        .transaction::<_, ApiError, _>(async |conn| {
            let image = images::store(conn, storage.as_ref(), &converted.image).await?;
            let thumb = images::store(conn, storage.as_ref(), &converted.thumbnail).await?;
            Ok(Conversion::insert(
                conn,
                &NewConversion {
                    user_id: me.id,
                    converted_image_id: Some(image),
                    thumbnail_image_id: Some(thumb),
                    original_format: converted.original_format.to_owned(),
                    original_size: Some(json!([
                        converted.original_size.0,
                        converted.original_size.1
                    ])),
                    converted_size: Some(json!([converted.image.width, converted.image.height])),
                    transformations: applied,
                    checksum: converted.image.checksum.clone(),
                    capture_metadata: capture,
                },
            )
            .await?)
        })
        .await?;
    tracing::info!(image_conversion.id = %conversion.id, user.id = %me.id, "photo converted");
    Ok(HttpResponse::Created().json(response(&conversion, &req, &state)))
}

async fn owned(state: &AppState, me: &AuthUser, raw: &str) -> ApiResult<Conversion> {
    let id = path_uuid(raw)?;
    let mut conn = state.db.get().await?;
    Conversion::find_owned(&mut conn, id, me.id)
        .await?
        .ok_or(ApiError::not_found(Missing::ImageConversion))
}

/// The owner's conversion.
///
/// Still shown after it expired, until the cleanup removes it.
#[utoipa::path(
    get, path = "/api/v1/images/convert/{pk}/", tag = "images",
    security(("jwt" = [])),
    params(("pk" = Uuid, Path, description = "The conversion's id.")),
    responses((status = 200, body = ConversionResponse))
)]
pub async fn get_conversion(
    state: web::Data<AppState>,
    req: HttpRequest,
    me: AuthUser,
    pk: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let c = owned(&state, &me, &pk).await?;
    Ok(HttpResponse::Ok().json(response(&c, &req, &state)))
}

/// The converted PNG; 410 after expiry.
#[utoipa::path(
    get, path = "/api/v1/images/convert/{pk}/download/", tag = "images",
    security(("jwt" = [])),
    params(("pk" = Uuid, Path, description = "The conversion's id.")),
    responses(
        (status = 200, description = "The converted PNG (`Content-Disposition: inline`).",
            content_type = "image/png", body = crate::media::Png),
        (status = 410, description = "The conversion has expired.",
            body = crate::docs::schemas::RuleError),
    )
)]
pub async fn download_conversion(
    state: web::Data<AppState>,
    me: AuthUser,
    pk: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let c = owned(&state, &me, &pk).await?;
    if Utc::now() > c.expires_at {
        let msg = "This conversion has expired";
        return Ok(HttpResponse::Gone().json(json!({ "detail": msg, "error": msg })));
    }
    let image = c
        .converted_image_id
        .ok_or(ApiError::not_found(Missing::ImageConversion))?;
    let mut conn = state.db.get().await?;
    let key = Conversion::image_key(&mut conn, image).await?;
    drop(conn);
    let bytes = state.storage.get(&key).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "image/png"))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("inline; filename=\"converted_{}.png\"", c.id),
        ))
        .body(bytes))
}
