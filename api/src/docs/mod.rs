//! The API's own documentation, served from the binary so it works offline: the OpenAPI 3.1
//! document (`/api/schema/`), Swagger UI (`/api/docs/`) and ReDoc (`/api/redoc/`).
//! Each domain describes its routes next to its handlers (`#[utoipa::path]` plus a `Doc`);
//! this module merges them and adds what every route shares (auth scheme, error responses).

mod pages;
pub mod schemas;
mod shared_responses;

use std::sync::OnceLock;

use actix_web::{HttpResponse, body::MessageBody, http::header, web};
use utoipa::{
    Modify, OpenApi,
    openapi::{
        self,
        security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
    },
};

use crate::{animals, auth, dex, graph, health, images, media, social, taxonomy, users, vision};

/// Name of the bearer-token security scheme operations refer to.
pub const JWT: &str = "jwt";

/// The document's frame; the domains' paths are merged into it by [`document`].
#[derive(OpenApi)]
#[openapi(
    info(
        title = "BiologiDex API",
        version = "1.0.0",
        description = "Real animal sightings: photos identified by a vision model, checked \
            against the Catalogue of Life, collected in a dex and a taxonomic tree shared with \
            friends. Authenticate with `Authorization: Bearer <access>` from `/api/v1/auth/login/`."
    ),
    paths(pages::schema, pages::swagger, pages::redoc),
    components(schemas(
        schemas::Detail,
        schemas::RuleError,
        schemas::FieldErrors,
        schemas::Message,
        schemas::BadRequest
    )),
    modifiers(&BearerAuth)
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, doc: &mut openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            JWT,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some("Access token from /api/v1/auth/login/ (24 h)."))
                    .build(),
            ),
        );
    }
}

/// Each domain's part of the document.
fn parts() -> [openapi::OpenApi; 11] {
    [
        health::Doc::openapi(),
        media::Doc::openapi(),
        auth::Doc::openapi(),
        users::Doc::openapi(),
        social::Doc::openapi(),
        animals::Doc::openapi(),
        dex::Doc::openapi(),
        images::Doc::openapi(),
        vision::Doc::openapi(),
        taxonomy::Doc::openapi(),
        graph::Doc::openapi(),
    ]
}

/// Merges the parts; also returns the names of components two different types both claimed
/// (a merge would silently keep one: such types need `#[schema(as = ...)]`).
fn merged() -> (openapi::OpenApi, Vec<String>) {
    let mut doc = ApiDoc::openapi();
    let mut clashes = Vec::new();
    for part in parts() {
        if let (Some(have), Some(new)) = (&doc.components, &part.components) {
            for (name, schema) in &new.schemas {
                if have.schemas.get(name).is_some_and(|s| s != schema) {
                    clashes.push(name.clone());
                }
            }
        }
        doc.merge(part);
    }
    shared_responses::add(&mut doc);
    (doc, clashes)
}

/// The whole document, built once.
pub fn document() -> &'static openapi::OpenApi {
    static DOC: OnceLock<openapi::OpenApi> = OnceLock::new();
    DOC.get_or_init(|| merged().0)
}

/// The document serialised once; it never changes while the process runs.
fn document_json() -> &'static str {
    static JSON: OnceLock<String> = OnceLock::new();
    JSON.get_or_init(|| document().to_json().unwrap_or_else(|_| "{}".to_owned()))
}

/// Mounts the document and both viewers.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/api/schema/").route(web::get().to(pages::schema)))
        .service(web::resource("/api/docs/{tail:.*}").route(web::get().to(pages::swagger)))
        .service(web::resource("/api/redoc/{tail:.*}").route(web::get().to(pages::redoc)));
}

/// Docs pages may only load from this origin (the viewers need inline styles and `blob:`
/// workers, nothing else).
const DOCS_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
    img-src 'self' data:; font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; \
    object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

fn asset(content_type: &str, body: impl MessageBody + 'static) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((header::CONTENT_SECURITY_POLICY, DOCS_CSP))
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(body)
}

#[cfg(test)]
mod tests {
    #[test]
    fn no_two_types_share_a_component_name() {
        let (_, clashes) = super::merged();
        assert!(
            clashes.is_empty(),
            "component names claimed twice: {clashes:?}"
        );
    }
}
