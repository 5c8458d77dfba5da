//! Responses every route of a kind shares, added once instead of on each handler:
//! 401 for authenticated routes, 404 for routes with an id, 400 for routes taking a body,
//! 429 for everything under the throttled `/api/v1`.

use utoipa::openapi::{
    ContentBuilder, OpenApi, Ref, RefOr, ResponseBuilder,
    path::{HttpMethod, Operation},
    schema::AnyOfBuilder,
};

use super::JWT;

fn detail_response(text: &str, schema: &str) -> RefOr<utoipa::openapi::Response> {
    RefOr::T(
        ResponseBuilder::new()
            .description(text)
            .content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name(schema)))
                    .build(),
            )
            .build(),
    )
}

fn needs_token(op: &Operation) -> bool {
    op.security.iter().flatten().any(|req| {
        serde_json::to_value(req)
            .ok()
            .and_then(|v| v.as_object().map(|o| o.contains_key(JWT)))
            .unwrap_or(false)
    })
}

fn add_missing(op: &mut Operation, status: &str, text: &str, schema: &str) {
    op.responses
        .responses
        .entry(status.to_owned())
        .or_insert_with(|| detail_response(text, schema));
}

/// Any route may answer `{"detail"}` with 400: a NUL character in the path or query string is
/// refused before routing.
fn allow_detail_400(op: &mut Operation) {
    let response = op
        .responses
        .responses
        .entry("400".to_owned())
        .or_insert_with(|| detail_response("Malformed request.", "Detail"));
    let RefOr::T(r) = response else { return };
    for content in r.content.values_mut() {
        if let RefOr::T(c) = content
            && let Some(schema) = c.schema.take()
        {
            c.schema = Some(
                AnyOfBuilder::new()
                    .item(schema)
                    .item(Ref::from_schema_name("Detail"))
                    .into(),
            );
        }
    }
}

/// What a success says when the handler gave no description (OpenAPI requires one).
fn default_description(status: &str) -> &'static str {
    match status {
        "201" => "Created.",
        "204" => "Done; no body.",
        _ => "OK.",
    }
}

/// Adds the shared responses to every operation of `doc`, fills missing response descriptions,
/// and makes operation ids unique (one handler serving PUT and PATCH gets one id per method).
pub fn add(doc: &mut OpenApi) {
    let mut seen = std::collections::HashSet::new();
    for (path, item) in doc.paths.paths.iter_mut() {
        let throttled = path.starts_with("/api/v1/") && path != "/api/v1/health/";
        for (method, name) in [
            (HttpMethod::Get, "get"),
            (HttpMethod::Post, "post"),
            (HttpMethod::Put, "put"),
            (HttpMethod::Patch, "patch"),
            (HttpMethod::Delete, "delete"),
        ] {
            let Some(op) = operation(item, method) else {
                continue;
            };
            if let Some(id) = op.operation_id.as_mut()
                && !seen.insert(id.clone())
            {
                id.push('_');
                id.push_str(name);
                seen.insert(id.clone());
            }
            for (status, response) in op.responses.responses.iter_mut() {
                if let RefOr::T(r) = response
                    && r.description.is_empty()
                {
                    r.description = default_description(status).to_owned();
                }
            }
            if op.request_body.is_some() {
                add_missing(
                    op,
                    "400",
                    "Invalid input: the fields at fault and why.",
                    "FieldErrors",
                );
                add_missing(
                    op,
                    "413",
                    "The body is over its cap (1 MiB of JSON, a few KB on credential routes, \
                     `MAX_UPLOAD_SIZE_MB` for a photo).",
                    "Detail",
                );
            }
            allow_detail_400(op);
            if needs_token(op) {
                add_missing(
                    op,
                    "401",
                    "Missing, invalid or expired access token.",
                    "Detail",
                );
            }
            if path.contains('{') {
                add_missing(
                    op,
                    "404",
                    "No such object, or not visible to the caller.",
                    "Detail",
                );
            }
            if throttled {
                add_missing(
                    op,
                    "429",
                    "Rate limited; `Retry-After` gives the seconds to wait.",
                    "Detail",
                );
            }
        }
    }
}

fn operation(item: &mut utoipa::openapi::PathItem, method: HttpMethod) -> Option<&mut Operation> {
    match method {
        HttpMethod::Get => item.get.as_mut(),
        HttpMethod::Post => item.post.as_mut(),
        HttpMethod::Put => item.put.as_mut(),
        HttpMethod::Patch => item.patch.as_mut(),
        HttpMethod::Delete => item.delete.as_mut(),
        _ => None,
    }
}
