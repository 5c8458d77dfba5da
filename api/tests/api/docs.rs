//! The OpenAPI document and its two viewers: every mounted route documented with its methods,
//! auth and response schemas; the viewers load nothing from another host.

use std::collections::{BTreeMap, BTreeSet};

use reqwest::Method;
use serde_json::Value;

use crate::helpers::TestApp;

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

async fn spawn() -> TestApp {
    // The probe below sends a few hundred anonymous requests.
    TestApp::spawn_with(&[
        ("THROTTLE_ANON_RATE", "100000/hour"),
        ("THROTTLE_LOGIN_RATE", "100000/hour"),
    ])
    .await
}

async fn document(app: &TestApp) -> Value {
    let res = app.get("/api/schema/").await;
    assert_eq!(res.status(), 200);
    let ctype = res.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(
        ctype.starts_with("application/vnd.oai.openapi+json"),
        "{ctype}"
    );
    res.json().await.unwrap()
}

/// Documented operations: path → methods.
fn documented(doc: &Value) -> BTreeMap<String, BTreeSet<String>> {
    doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(path, item)| {
            let methods = METHODS
                .iter()
                .filter(|m| item.get(**m).is_some())
                .map(|m| (*m).to_owned())
                .collect();
            (path.clone(), methods)
        })
        .collect()
}

/// A concrete URL for a path template (any id will do: only the routing is probed).
fn concrete(template: &str) -> String {
    template
        .split('/')
        .map(|seg| match seg {
            "{x}" | "{y}" => "0".to_owned(),
            "{kind}" => "e".to_owned(),
            "{file}" => "0.png".to_owned(),
            s if s.starts_with('{') => "00000000-0000-0000-0000-000000000000".to_owned(),
            s => s.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("/")
}

fn full_path(mounted: &str) -> String {
    let top_level = ["/health/", "/ready/", "/metrics", "/media/", "/api/"];
    if top_level.iter().any(|p| mounted.starts_with(p)) {
        mounted.to_owned()
    } else {
        format!("/api/v1{mounted}")
    }
}

#[tokio::test]
async fn the_document_lists_every_mounted_route_with_its_methods() {
    let app = spawn().await;
    let doc = document(&app).await;
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc["openapi"]
    );
    assert_eq!(doc["info"]["title"], "BiologiDex API");
    let documented = documented(&doc);

    let mounted: BTreeSet<String> = api::fallback::mounted::paths()
        .iter()
        .map(|p| full_path(p))
        .collect();
    assert!(mounted.len() > 60, "routes not recorded: {mounted:?}");
    let docs_pages = ["/api/schema/", "/api/docs/", "/api/redoc/"];
    let documented_paths: BTreeSet<String> = documented
        .keys()
        .filter(|p| !docs_pages.contains(&p.as_str()))
        .cloned()
        .collect();
    let undocumented: Vec<_> = mounted.difference(&documented_paths).collect();
    assert!(
        undocumented.is_empty(),
        "mounted but not documented: {undocumented:?}"
    );
    let unmounted: Vec<_> = documented_paths.difference(&mounted).collect();
    assert!(
        unmounted.is_empty(),
        "documented but not mounted: {unmounted:?}"
    );

    // Methods: a path answers 405 exactly for the methods it does not document.
    let mut wrong = Vec::new();
    for path in &mounted {
        let url = concrete(path);
        for method in METHODS {
            let res = app
                .client
                .request(
                    Method::from_bytes(method.to_uppercase().as_bytes()).unwrap(),
                    app.url(&url),
                )
                .send()
                .await
                .unwrap();
            let is_mounted = res.status() != 405;
            if is_mounted != documented[path].contains(method) {
                wrong.push(format!("{method} {path}: {}", res.status()));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "methods differ from the document: {wrong:#?}"
    );
}

/// What an operation's `security` says about the bearer token.
#[derive(Debug, PartialEq)]
enum Token {
    Required,
    Optional,
    Unused,
}

fn token(op: &Value) -> Token {
    let reqs = op["security"].as_array().cloned().unwrap_or_default();
    let jwt = reqs.iter().any(|r| r.get("jwt").is_some());
    let anonymous = reqs
        .iter()
        .any(|r| r.as_object().is_some_and(|o| o.is_empty()));
    match (jwt, anonymous) {
        (true, false) => Token::Required,
        (true, true) => Token::Optional,
        _ => Token::Unused,
    }
}

#[tokio::test]
async fn every_operation_declares_its_auth_and_response_schemas() {
    let app = spawn().await;
    let doc = document(&app).await;
    assert_eq!(
        doc["components"]["securitySchemes"]["jwt"]["scheme"],
        "bearer"
    );
    let mut problems = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in METHODS {
            let Some(op) = item.get(method) else { continue };
            // The server is the judge: a route that needs a token answers 401 without one.
            let mut probe = app.client.request(
                Method::from_bytes(method.to_uppercase().as_bytes()).unwrap(),
                app.url(&concrete(path)),
            );
            if method != "get" && method != "delete" {
                probe = probe.json(&serde_json::json!({}));
            }
            let status = probe.send().await.unwrap().status();
            let declared = token(op);
            if (status == 401) != (declared == Token::Required) {
                problems.push(format!(
                    "{method} {path}: answers {status} without a token, documented {declared:?}"
                ));
            }
            if op["tags"].as_array().is_none_or(Vec::is_empty) {
                problems.push(format!("{method} {path}: no tag"));
            }
            let responses = op["responses"].as_object().unwrap();
            let success: Vec<_> = responses.keys().filter(|k| k.starts_with('2')).collect();
            if success.is_empty() {
                problems.push(format!("{method} {path}: no success response"));
            }
            for status in success {
                let r = &responses[status];
                if status != "204" && r["content"].as_object().is_none_or(|c| c.is_empty()) {
                    problems.push(format!("{method} {path}: {status} has no content"));
                }
            }
            if declared != Token::Unused && responses.get("401").is_none() {
                problems.push(format!("{method} {path}: no 401"));
            }
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
    // The shared error shapes are components that responses refer to.
    for name in ["Detail", "FieldErrors", "RuleError", "BadRequest"] {
        assert!(doc["components"]["schemas"].get(name).is_some(), "{name}");
    }
}

/// Every `src="..."` and `href="..."` value of an HTML page.
fn linked(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    for attr in ["src=", "href="] {
        for part in html.split(attr).skip(1) {
            let quote = part.chars().next().unwrap();
            if quote == '"' || quote == '\'' {
                out.extend(part[1..].split(quote).next().map(str::to_owned));
            }
        }
    }
    out
}

fn outside_host(link: &str) -> bool {
    let lower = link.trim().to_ascii_lowercase();
    lower.starts_with("//") || lower.contains("://")
}

async fn page(app: &TestApp, path: &str) -> String {
    let res = app.get(path).await;
    assert_eq!(res.status(), 200, "{path}");
    let csp = res.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("default-src 'self'"), "{path}: {csp}");
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    res.text().await.unwrap()
}

/// Fetches each linked asset relative to `base` and returns the bodies of the scripts.
async fn assets(app: &TestApp, base: &str, links: &[String]) -> Vec<String> {
    let mut scripts = Vec::new();
    for link in links {
        assert!(!outside_host(link), "{base} links to another host: {link}");
        let url = if link.starts_with('/') {
            link.clone()
        } else {
            format!("{base}{}", link.trim_start_matches("./"))
        };
        let res = app.get(&url).await;
        assert_eq!(res.status(), 200, "{url}");
        if url.ends_with(".js") {
            scripts.push(res.text().await.unwrap());
        }
    }
    scripts
}

#[tokio::test]
async fn swagger_ui_is_served_from_the_binary_with_the_validator_off() {
    let app = spawn().await;
    let html = page(&app, "/api/docs/").await;
    let links = linked(&html);
    assert!(
        links.iter().any(|l| l.contains("swagger-ui-bundle.js")),
        "{links:?}"
    );
    let scripts = assets(&app, "/api/docs/", &links).await;
    let init = scripts
        .iter()
        .find(|s| s.contains("SwaggerUIBundle("))
        .expect("the initializer script");
    assert!(init.contains(r#""validatorUrl": "none""#), "{init}");
    assert!(init.contains(r#""url": "../schema/""#), "{init}");
    // Without the slash, the docs page is one redirect away (as every other route).
    let res = app.get("/api/docs").await;
    assert_eq!(res.status(), 301);
}

#[tokio::test]
async fn redoc_is_served_from_the_binary() {
    let app = spawn().await;
    let html = page(&app, "/api/redoc/").await;
    let links = linked(&html);
    assert_eq!(links, ["redoc.standalone.js"]);
    assert!(html.contains(r#"spec-url="../schema/""#), "{html}");
    let scripts = assets(&app, "/api/redoc/", &links).await;
    assert!(scripts[0].len() > 500_000, "the real ReDoc bundle");
    assert!(
        !scripts[0].contains("cdn.redoc.ly"),
        "the logo would load from a CDN"
    );
    let res = app.get("/api/redoc/nothing.js").await;
    assert_eq!(res.status(), 404);
}
