//! Sending a stored object as an HTTP response: content-addressed objects never change, so the
//! checksum in the key is a strong `ETag`, `If-None-Match` answers 304 without touching the
//! store, and a single `Range` answers 206 (a client on a bad connection resumes a download).
//! Several ranges, or a range that cannot be parsed, get the whole object, as RFC 9110 allows.

use actix_web::{
    HttpMessage, HttpRequest, HttpResponse, HttpResponseBuilder,
    http::header::{self, EntityTag, IfNoneMatch, IfRange},
};
use biologidex_core::error::Missing;
use biologidex_media::storage::StorageError;
use http_range_header::RangeUnsatisfiableError;
use serde_json::json;

use crate::{ApiError, ApiResult, state::AppState};

/// Capability URLs: the token names one image for good, and the URL is handed only to users
/// allowed to see it, so a private cache may keep it.
pub const PRIVATE: &str = "private, max-age=31536000, immutable";
/// Avatars are public but can be withdrawn: shared caches keep them a day.
pub const AVATAR: &str = "public, max-age=86400";

/// The strong entity tag of a content-addressed key (`images/ab/<sha-256>.png`).
fn etag_of(key: &str) -> EntityTag {
    let name = key.rsplit('/').next().unwrap_or(key);
    let stem = name.split('.').next().unwrap_or(name);
    EntityTag::new_strong(stem.to_owned())
}

fn not_modified(req: &HttpRequest, etag: &EntityTag) -> bool {
    match req.get_header::<IfNoneMatch>() {
        Some(IfNoneMatch::Any) => true,
        Some(IfNoneMatch::Items(tags)) => tags.iter().any(|t| t.weak_eq(etag)),
        None => false,
    }
}

/// The `Range` header to honour: none when `If-Range` names another version.
fn wanted_range<'r>(req: &'r HttpRequest, etag: &EntityTag) -> Option<&'r str> {
    let range = req.headers().get(header::RANGE)?.to_str().ok()?;
    match req.get_header::<IfRange>() {
        Some(IfRange::EntityTag(tag)) if !tag.strong_eq(etag) => None,
        Some(IfRange::Date(_)) => None,
        _ => Some(range),
    }
}

fn missing(key: &str, e: StorageError) -> ApiError {
    match e {
        // A row names an object the store lacks: an operator's problem, a 404 for the client.
        StorageError::NotFound(_) => {
            tracing::error!(storage.key = %key, "stored object missing");
            ApiError::not_found(Missing::Object)
        }
        other => other.into(),
    }
}

/// The object under `key`: 304, a redirect (nginx or a pre-signed URL), 206 or 200.
pub async fn send(
    state: &AppState,
    req: &HttpRequest,
    key: &str,
    content_type: &str,
    cache_control: &'static str,
) -> ApiResult<HttpResponse> {
    let etag = etag_of(key);
    // 200, 206 and 304 carry the same validators.
    let cached = |mut response: HttpResponseBuilder| {
        response
            .insert_header((header::CACHE_CONTROL, cache_control))
            .insert_header(header::ETag(etag.clone()));
        response
    };
    if not_modified(req, &etag) {
        return Ok(cached(HttpResponse::NotModified()).finish());
    }
    if state.settings.media_x_accel_redirect {
        return Ok(cached(HttpResponse::Ok())
            .insert_header(("X-Accel-Redirect", format!("/protected-media/{key}")))
            .insert_header((header::CONTENT_TYPE, content_type))
            .finish());
    }
    if let Some(ttl) = state.settings.media_signed_url_ttl
        && let Some(url) = state.storage.signed_url(key, ttl).await?
    {
        return Ok(HttpResponse::Found()
            .insert_header((header::LOCATION, url))
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .finish());
    }
    let part = match wanted_range(req, &etag) {
        None => None,
        Some(range) => {
            let size = state.storage.size(key).await.map_err(|e| missing(key, e))?;
            match http_range_header::parse_range_header(range).and_then(|r| r.validate(size)) {
                Ok(ranges) if ranges.len() == 1 => {
                    Some((*ranges[0].start(), *ranges[0].end(), size))
                }
                Err(RangeUnsatisfiableError::Unsatisfiable) => {
                    return Ok(HttpResponse::RangeNotSatisfiable()
                        .insert_header((header::CONTENT_RANGE, format!("bytes */{size}")))
                        .json(json!({ "detail": "The requested range is past the end of the image." })));
                }
                // Several ranges, or one that cannot be parsed: the whole object.
                _ => None,
            }
        }
    };
    let Some((first, last, size)) = part else {
        let bytes = state.storage.get(key).await.map_err(|e| missing(key, e))?;
        return Ok(cached(HttpResponse::Ok())
            .insert_header((header::CONTENT_TYPE, content_type.to_owned()))
            .insert_header((header::ACCEPT_RANGES, "bytes"))
            .body(bytes));
    };
    let bytes = state
        .storage
        .get_range(key, first..last + 1)
        .await
        .map_err(|e| missing(key, e))?;
    Ok(cached(HttpResponse::PartialContent())
        .insert_header((header::CONTENT_TYPE, content_type.to_owned()))
        .insert_header((
            header::CONTENT_RANGE,
            format!("bytes {first}-{last}/{size}"),
        ))
        .body(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_etag_is_the_checksum_in_the_key() {
        let tag = etag_of("images/ab/abcdef.png");
        assert_eq!(tag.to_string(), "\"abcdef\"");
        assert!(!tag.weak);
        assert_eq!(etag_of("avatars/0123.png").tag(), "0123");
    }
}
