//! The document and the two viewers. Every byte comes from the binary: Swagger UI from
//! utoipa-swagger-ui's vendored build, ReDoc from `api/assets/redoc/` (see its README).

use std::{
    borrow::Cow,
    sync::{Arc, OnceLock},
};

use actix_web::{HttpResponse, http::header, web, web::Bytes};
use utoipa_swagger_ui::Config;

use super::{asset, document_json};

const REDOC_JS: &[u8] = include_bytes!("../../assets/redoc/redoc.standalone.js");

/// Relative links, so the pages also work behind a path prefix.
const REDOC_HTML: &str = r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>BiologiDex API · ReDoc</title>
</head>
<body>
<redoc spec-url="../schema/" hide-hostname="true"></redoc>
<script src="redoc.standalone.js"></script>
</body>
</html>
"#;

/// The OpenAPI 3.1 document (JSON).
#[utoipa::path(
    get, path = "/api/schema/", tag = "docs",
    responses((status = 200, description = "The OpenAPI 3.1 document of this API.",
        content_type = "application/vnd.oai.openapi+json"))
)]
pub async fn schema() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/vnd.oai.openapi+json")
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .body(document_json())
}

/// Swagger UI with the online validator off: it would send the document to an outside host.
fn swagger_config() -> Arc<Config<'static>> {
    static CONFIG: OnceLock<Arc<Config<'static>>> = OnceLock::new();
    CONFIG
        .get_or_init(|| {
            Arc::new(
                Config::new(["../schema/"])
                    .validator_url("none")
                    .persist_authorization(false)
                    .display_request_duration(true),
            )
        })
        .clone()
}

/// Swagger UI (its page and assets under `/api/docs/`).
#[utoipa::path(
    get, path = "/api/docs/", tag = "docs",
    responses((status = 200, description = "Swagger UI.", content_type = "text/html"))
)]
pub async fn swagger(tail: web::Path<String>) -> HttpResponse {
    match utoipa_swagger_ui::serve(&tail, swagger_config()) {
        Ok(Some(file)) => {
            // The bundled files are static: serve them without copying (1.5 MB for the bundle).
            let body = match file.bytes {
                Cow::Borrowed(bytes) => Bytes::from_static(bytes),
                Cow::Owned(bytes) => Bytes::from(bytes),
            };
            let mut res = asset(&file.content_type, body);
            if file.gzpipped {
                res.headers_mut().insert(
                    header::CONTENT_ENCODING,
                    header::HeaderValue::from_static("gzip"),
                );
            }
            res
        }
        Ok(None) => crate::fallback::not_found_json(),
        Err(e) => {
            tracing::error!(error = %e, "swagger ui asset");
            HttpResponse::InternalServerError().finish()
        }
    }
}

/// ReDoc (its page and script under `/api/redoc/`).
#[utoipa::path(
    get, path = "/api/redoc/", tag = "docs",
    responses((status = 200, description = "ReDoc.", content_type = "text/html"))
)]
pub async fn redoc(tail: web::Path<String>) -> HttpResponse {
    match tail.as_str() {
        "" | "index.html" => asset("text/html; charset=utf-8", REDOC_HTML),
        "redoc.standalone.js" => asset("text/javascript; charset=utf-8", REDOC_JS),
        _ => crate::fallback::not_found_json(),
    }
}
