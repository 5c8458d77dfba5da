//! Answers for paths and methods no route takes: JSON instead of HTML, as the client expects.

use actix_web::{HttpRequest, HttpResponse, http::header};
use serde_json::json;

/// Unknown path: a path without its trailing slash is redirected (Django's `APPEND_SLASH`),
/// anything else is a JSON 404.
pub async fn not_found(req: HttpRequest) -> HttpResponse {
    let path = req.path();
    if !path.ends_with('/') && !path.starts_with("/media/") {
        // `//host` (or `/\host`) in Location is another host: the redirect stays on this one.
        let path = format!("/{}", path.trim_start_matches(['/', '\\']));
        let query = req.query_string();
        let location = if query.is_empty() {
            format!("{path}/")
        } else {
            format!("{path}/?{query}")
        };
        return HttpResponse::MovedPermanently()
            .insert_header((header::LOCATION, location))
            .finish();
    }
    not_found_json()
}

/// DRF's 404 body.
pub fn not_found_json() -> HttpResponse {
    HttpResponse::NotFound().json(json!({ "detail": "Not found." }))
}

/// A route exists but not for this method: DRF's 405 body.
pub async fn method_not_allowed(req: HttpRequest) -> HttpResponse {
    HttpResponse::MethodNotAllowed()
        .json(json!({ "detail": format!("Method \"{}\" not allowed.", req.method()) }))
}

/// A resource whose unmatched methods answer 405 (the app's default service would otherwise
/// answer 404, since resources inherit it). Every route is mounted through this.
pub fn resource(path: &str) -> actix_web::Resource {
    mounted::record(path);
    actix_web::web::resource(path).default_service(actix_web::web::to(method_not_allowed))
}

/// Every path mounted through [`resource`], as written (relative to its scope): the docs test
/// compares it with the OpenAPI document, so no route goes undocumented.
pub mod mounted {
    use std::{
        collections::BTreeSet,
        sync::{Mutex, PoisonError},
    };

    static PATHS: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());

    pub(super) fn record(path: &str) {
        let mut paths = PATHS.lock().unwrap_or_else(PoisonError::into_inner);
        if !paths.contains(path) {
            paths.insert(path.to_owned());
        }
    }

    /// The paths mounted so far (an application must have been built).
    pub fn paths() -> Vec<String> {
        let paths = PATHS.lock().unwrap_or_else(PoisonError::into_inner);
        paths.iter().cloned().collect()
    }
}
