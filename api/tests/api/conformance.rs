//! Every JSON answer the tests receive through `TestApp::call` is checked against the OpenAPI
//! document: a success must be documented for its route with a schema it satisfies, and a
//! documented error must match its schema. The whole suite thereby keeps the docs truthful.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, OnceLock},
};

use jsonschema::Validator;
use serde_json::Value;

fn document() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(|| serde_json::to_value(api::docs::document()).unwrap())
}

/// The documented path template a concrete path is served by: literal segments win over
/// `{params}` (`/dex/entries/recent/` is not `/dex/entries/{pk}/`).
fn template(path: &str) -> Option<String> {
    let segs: Vec<&str> = path.split('/').collect();
    document()["paths"]
        .as_object()?
        .keys()
        .filter(|t| {
            let tsegs: Vec<&str> = t.split('/').collect();
            tsegs.len() == segs.len()
                && tsegs
                    .iter()
                    .zip(&segs)
                    .all(|(t, s)| t == s || (t.starts_with('{') && !s.is_empty()))
        })
        .max_by_key(|t| t.split('/').filter(|s| !s.starts_with('{')).count())
        .cloned()
}

type Cache = Mutex<HashMap<(String, String, u16), Option<Arc<Validator>>>>;

/// The validator of a documented JSON response, if that response is documented.
fn validator(path: &str, method: &str, status: u16) -> Option<Arc<Validator>> {
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let key = (path.to_owned(), method.to_owned(), status);
    let cache = CACHE.get_or_init(Default::default);
    if let Some(v) = cache.lock().unwrap().get(&key) {
        return v.clone();
    }
    let doc = document();
    let schema = doc["paths"][path][method]["responses"][status.to_string()]["content"]
        .as_object()
        .and_then(|c| c.get("application/json"))
        .and_then(|c| c.get("schema"))
        .cloned();
    let compiled = schema.map(|mut s| {
        // `#/components/...` references resolve against this root.
        s["components"] = doc["components"].clone();
        let v = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .build(&s)
            .unwrap_or_else(|e| panic!("{method} {path} {status}: bad schema: {e}"));
        Arc::new(v)
    });
    cache.lock().unwrap().insert(key, compiled.clone());
    compiled
}

/// Checks one answer; `path` may carry a query string.
pub fn check(method: &str, path: &str, status: u16, body: &Value) {
    let path = path.split('?').next().unwrap_or(path);
    let method = method.to_ascii_lowercase();
    let Some(tpl) = template(path) else {
        assert!(
            status == 404 || status == 301,
            "{method} {path}: not in the OpenAPI document"
        );
        return;
    };
    let documented = document()["paths"][&tpl][&method]["responses"]
        .get(status.to_string())
        .is_some();
    if (200..300).contains(&status) && status != 204 {
        assert!(documented, "{method} {tpl}: {status} is not documented");
    }
    if let Some(v) = validator(&tpl, &method, status) {
        let errors: Vec<String> = v
            .iter_errors(body)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(
            errors.is_empty(),
            "{method} {tpl} {status}: the answer does not match the document:\n{}\nbody: {body}",
            errors.join("\n")
        );
    }
}
