//! Rate limits shared by every api replica (Redis counters): per user for authenticated
//! callers, per client IP for anonymous ones, a stricter per-IP limit on login and
//! registration against password guessing, and an upload rate on photo conversions and vision
//! jobs (cost control). Fixed windows, like DRF's rates (`100/hour`).
//! Hand-written because the maintained limiter crates either keep state in-process or pull a
//! second `redis` version. Redis trouble fails open (logged and counted, docs/decisions.md#d16).

use std::time::{SystemTime, UNIX_EPOCH};

use actix_web::{
    Error, ResponseError,
    body::{BoxBody, MessageBody},
    dev::{ServiceRequest, ServiceResponse},
    http::Method,
    middleware::Next,
    web::Data,
};
use biologidex_core::{config::Rate, redis_util};

use crate::{ApiError, auth::bearer, state::AppState, urls::client_ip};

/// One counter to check: its key (without window) and its rate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    pub key: String,
    pub rate: Rate,
}

/// The pattern of the route the request will reach (`/api/v1/vision/jobs/{pk}/`), matched on
/// the path as the router decodes it, so `/api/v1/auth/log%69n/` is the login route too.
pub fn route_pattern(req: &ServiceRequest) -> Option<String> {
    req.request()
        .resource_map()
        .match_pattern(req.match_info().as_str())
}

fn is_multipart(req: &ServiceRequest) -> bool {
    req.headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.to_ascii_lowercase().starts_with("multipart/"))
}

/// Routes that decode a photo: conversions, jobs, and entries created with `original_image`.
fn is_upload_endpoint(req: &ServiceRequest, route: Option<&str>) -> bool {
    req.method() == Method::POST
        && match route {
            Some("/api/v1/images/convert/" | "/api/v1/vision/jobs/") => true,
            Some("/api/v1/dex/entries/") => is_multipart(req),
            _ => false,
        }
}

fn is_credential_endpoint(req: &ServiceRequest, route: Option<&str>) -> bool {
    req.method() == Method::POST && matches!(route, Some("/api/v1/auth/login/" | "/api/v1/users/"))
}

/// The counters a request counts against.
pub fn scopes(req: &ServiceRequest, state: &AppState) -> Vec<Scope> {
    let settings = &state.settings;
    let ip = client_ip(req.request(), settings)
        .map_or_else(|| "unknown".to_owned(), |ip| ip.to_string());
    let user = bearer(req.request()).and_then(|t| state.jwt.verify_access(req.request(), t).ok());
    let ident = user
        .as_ref()
        .map_or_else(|| ip.clone(), |c| c.user_id.to_string());
    let route = route_pattern(req);
    let upload = is_upload_endpoint(req, route.as_deref()).then(|| Scope {
        key: format!("throttle:upload:{ident}"),
        rate: settings.throttle_upload,
    });
    let mut scopes = vec![match user {
        Some(claims) => Scope {
            key: format!("throttle:user:{}", claims.user_id),
            rate: settings.throttle_user,
        },
        None => Scope {
            key: format!("throttle:anon:{ip}"),
            rate: settings.throttle_anon,
        },
    }];
    scopes.extend(upload);
    if is_credential_endpoint(req, route.as_deref()) {
        scopes.push(Scope {
            key: format!("throttle:login:{ip}"),
            rate: settings.throttle_login,
        });
    }
    scopes
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Counts the request; `Some(seconds)` when a limit is exceeded.
pub async fn count(state: &AppState, scopes: &[Scope]) -> Result<Option<u64>, String> {
    let now = now_secs();
    let windows: Vec<(String, u64, u64)> = scopes
        .iter()
        .map(|s| {
            let period = s.rate.period.as_secs().max(1);
            let window = now / period;
            let key = state.settings.redis_key(&format!("{}:{window}", s.key));
            (key, period, (window + 1) * period - now)
        })
        .collect();
    let keys = windows.clone();
    let counts: Vec<u64> = redis_util::run(&state.redis, async move |c| {
        let mut pipe = redis::pipe();
        for (key, period, _) in &keys {
            pipe.cmd("INCR")
                .arg(key)
                .cmd("EXPIRE")
                .arg(key)
                .arg(period + 1)
                .ignore();
        }
        pipe.query_async(c).await
    })
    .await?;
    let wait = scopes
        .iter()
        .zip(&counts)
        .zip(&windows)
        .filter(|((s, n), _)| **n > s.rate.requests)
        .map(|(_, (_, _, left))| (*left).max(1))
        .max();
    Ok(wait)
}

/// The middleware (`middleware::from_fn(throttle)` on the `/api/v1` scope).
pub async fn throttle(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    if let Some(state) = req.app_data::<Data<AppState>>().cloned() {
        let scopes = scopes(&req, &state);
        match count(&state, &scopes).await {
            Ok(Some(wait)) => {
                let res = ApiError(biologidex_core::Error::Throttled(wait)).error_response();
                return Ok(req.into_response(res));
            }
            Ok(None) => {}
            Err(e) => {
                state
                    .metrics
                    .redis_failures
                    .with_label_values(&["throttle"])
                    .inc();
                tracing::warn!(error = %e, "rate limiting skipped: redis unavailable");
            }
        }
    }
    Ok(next.call(req).await?.map_into_boxed_body())
}
