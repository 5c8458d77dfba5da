//! `GET /`: a short page for a person who opens the server's address (the old server answered
//! a JSON 404): its name and version, and where to go next.

use actix_web::{HttpResponse, http::StatusCode, http::header, web};
use maud::html;

use crate::{admin::page, state::AppState};

/// Mounts `/`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/").route(web::get().to(landing)));
}

async fn landing(state: web::Data<AppState>) -> HttpResponse {
    let links = [
        ("/api/docs/", "API documentation (Swagger UI)"),
        ("/api/redoc/", "API documentation (ReDoc)"),
        ("/api/schema/", "OpenAPI document (JSON)"),
        ("/admin/", "Operators' console (staff only)"),
        ("/health/", "Liveness"),
        ("/ready/", "Readiness"),
        ("/api/v1/health/", "Component health"),
    ];
    let body = html! {
        p { "The BiologiDex server: the HTTP API of the BiologiDex game client." }
        p.muted { "Version " (state.settings.version) " · " (state.settings.environment) }
        ul.plain {
            @for (href, label) in &links {
                li { a href=(href) { (label) } " " code { (href) } }
            }
        }
    };
    let mut res = page::html_response(
        StatusCode::OK,
        page::layout("BiologiDex server", None, None, body),
    );
    if let Ok(v) = header::HeaderValue::from_str(page::CSP) {
        res.headers_mut().insert(header::CONTENT_SECURITY_POLICY, v);
    }
    res
}
