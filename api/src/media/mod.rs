//! Media URLs and serving. The client downloads images with no token
//! (docs/wire-compatibility.md#image-urls), so every image URL is a capability:
//! `/media/<kind>/<token>.png` with a random 128-bit token kept in the database, handed only to
//! users allowed to see the image, and rotated (revoking old URLs) when an entry's visibility
//! narrows or a friendship ends. Plain storage paths are never served. URLs are absolute on default
//! ports (`PUBLIC_BASE_URL`, or the request's host).

mod delivery;

use actix_web::{HttpRequest, HttpResponse, web};
use biologidex_core::config::Settings;
use biologidex_core::error::Missing;
use biologidex_db::models::dex::DexEntry;

use crate::{ApiError, ApiResult, fallback::resource, state::AppState, urls::base_url};

/// This domain's part of the OpenAPI document (see `crate::docs`).
#[derive(utoipa::OpenApi)]
#[openapi(paths(serve_image))]
pub struct Doc;

/// Builds absolute URLs for one request.
#[derive(Debug, Clone)]
pub struct MediaUrls {
    base: String,
}

/// An image's bytes, as the OpenAPI document shows binary responses.
#[derive(utoipa::ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct Png(pub Vec<u8>);

/// Which table a token belongs to.
pub mod kind {
    /// A dex entry's image.
    pub const ENTRY: &str = "e";
    /// A vision job's image (owner only).
    pub const JOB: &str = "j";
    /// A profile picture (public, as profiles are): `avatars/<checksum>.png`.
    pub const AVATAR: &str = "avatars";
}

impl MediaUrls {
    /// URLs as the caller of `req` reaches this server.
    pub fn new(req: &HttpRequest, settings: &Settings) -> Self {
        MediaUrls {
            base: base_url(req, settings),
        }
    }

    /// The public URL of a public media object (avatars).
    pub fn public(&self, key: &str) -> String {
        format!("{}/media/{key}", self.base)
    }

    /// `public` for an optional key.
    pub fn public_opt(&self, key: Option<&str>) -> Option<String> {
        key.filter(|k| !k.is_empty()).map(|k| self.public(k))
    }

    /// The capability URL of an image.
    pub fn capability(&self, kind: &str, token: Option<&str>) -> Option<String> {
        token.map(|t| format!("{}/media/{kind}/{t}.png", self.base))
    }
}

/// Mounts `/media/{kind}/{file}`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/media/{kind}/{file}").route(web::get().to(serve_image)));
}

fn valid_token(t: &str) -> bool {
    t.len() == 32 && t.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Serves an image by capability token: no access token is needed, the URL itself grants
/// access (image URLs in responses are these). Unknown, revoked or malformed tokens are 404.
/// With `MEDIA_X_ACCEL_REDIRECT`, the bytes come from nginx (`X-Accel-Redirect`); with
/// `MEDIA_SIGNED_URL_SECONDS`, from the object store through a pre-signed URL.
#[utoipa::path(
    get, path = "/media/{kind}/{file}", tag = "media",
    params(
        ("kind" = String, Path, description = "`e` for a dex entry's image, `j` for a vision job's, `avatars` for a profile picture."),
        ("file" = String, Path, description = "`<token>.png`, the token being 32 hex digits (avatars: `<sha-256>.png`)."),
    ),
    responses(
        (status = 200, description = "The image. Objects are content-addressed and immutable: the `ETag` is their checksum.",
            content_type = "image/png", body = Png,
            headers(
                ("Cache-Control" = String, description = "`private, max-age=31536000, immutable` (avatars: `public, max-age=86400`)"),
                ("ETag" = String, description = "Strong: the image's SHA-256 in quotes."),
                ("Accept-Ranges" = String, description = "`bytes`"),
            )),
        (status = 206, description = "The part named by a single-range `Range: bytes=...` header (a resumed download).",
            content_type = "image/png", body = Png,
            headers(("Content-Range" = String, description = "`bytes <first>-<last>/<size>`"))),
        (status = 302, description = "With `MEDIA_SIGNED_URL_SECONDS`: a short-lived pre-signed URL of the object store.",
            headers(("Location" = String, description = "The pre-signed URL."))),
        (status = 304, description = "`If-None-Match` names the current `ETag`."),
        (status = 404, description = "Unknown, revoked or malformed token.", body = crate::docs::schemas::Detail),
        (status = 416, description = "The `Range` starts past the end of the image.", body = crate::docs::schemas::Detail,
            headers(("Content-Range" = String, description = "`bytes */<size>`"))),
        (status = 503, description = "The media store does not answer.", body = crate::docs::schemas::Detail),
    )
)]
pub async fn serve_image(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let (kind, file) = path.into_inner();
    if kind == kind::AVATAR {
        return serve_avatar(&state, &req, &file).await;
    }
    let token = file
        .strip_suffix(".png")
        .filter(|t| valid_token(t))
        .ok_or(ApiError::not_found(Missing::Object))?;
    let mut conn = state.db.get().await?;
    let found = match kind.as_str() {
        kind::ENTRY => DexEntry::image_by_token(&mut conn, token).await?,
        kind::JOB => biologidex_db::models::vision::image_by_token(&mut conn, token).await?,
        _ => None,
    };
    drop(conn);
    let (key, content_type) = found.ok_or(ApiError::not_found(Missing::Object))?;
    delivery::send(&state, &req, &key, &content_type, delivery::PRIVATE).await
}

/// An avatar, when a user shows it: the name is the file's checksum, so it is public only
/// through a profile that links it.
async fn serve_avatar(state: &AppState, req: &HttpRequest, file: &str) -> ApiResult<HttpResponse> {
    let named = file
        .strip_suffix(".png")
        .is_some_and(|c| c.len() == 64 && c.bytes().all(|b| b.is_ascii_hexdigit()));
    if !named {
        return Err(ApiError::not_found(Missing::Object));
    }
    let key = format!("{}/{file}", kind::AVATAR);
    let mut conn = state.db.get().await?;
    let shown = biologidex_db::models::accounts::User::avatar_in_use(&mut conn, &key).await?;
    drop(conn);
    if !shown {
        return Err(ApiError::not_found(Missing::Object));
    }
    delivery::send(state, req, &key, "image/png", delivery::AVATAR).await
}
