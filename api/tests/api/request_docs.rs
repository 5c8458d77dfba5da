//! The request schema each route documents is the struct its handler parses: every
//! `request_body = X` in a `#[utoipa::path]` (and every `X = "application/json"` of a
//! `request_body(content(...))`) must be read by the handler below it through
//! `Valid<X ...>`, or `from_fields` / `checked_from_fields` into an `X`. Handlers not yet moved
//! to typed requests are listed in `PENDING`; the list may only shrink (a listed handler that
//! now conforms fails the test until it is taken off). Likewise every IntoParams struct in a
//! route's `params(...)` must be what its handler takes as `ValidQuery<X>` (the pagination's
//! `PageQuery` aside), and no handler reads a query or body as an untyped map.

use std::{fs, path::Path};

const PENDING: &[&str] = &[];

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The documented request struct at `rest` (just past `request_body = `, or past
/// `request_body(content(` where the JSON one counts: a form's text parts are read into it
/// too), with the handler below it: (schema, handler, its text without whitespace).
fn documented_body(rest: &str, content: bool) -> Option<(String, String, String)> {
    let named = if content {
        let json = rest.find(" = \"application/json\"")?;
        let start = rest[..json].rfind('(')? + 1;
        &rest[start..json]
    } else {
        rest
    };
    let schema: String = named
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
        .collect();
    let schema = schema.rsplit("::").next().unwrap_or_default().to_owned();
    let (_, name, flat) = handler_after(rest)?;
    Some((schema, name, flat))
}

/// The first handler in `rest`: the text before `pub async fn`, its name, and its text up to
/// the next item at column 0, without whitespace (however rustfmt breaks the lines).
fn handler_after(rest: &str) -> Option<(&str, String, String)> {
    let fn_at = rest.find("pub async fn ")?;
    let sig = &rest[fn_at + "pub async fn ".len()..];
    let name: String = sig
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    let end = sig.find("\n}\n").unwrap_or(sig.len());
    let flat: String = sig[..end].split_whitespace().collect();
    Some((&rest[..fn_at], name, flat))
}

/// (file:handler, documented request struct, whether the handler parses it).
fn routes() -> Vec<(String, String, bool)> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut found = Vec::new();
    for file in files {
        let text = fs::read_to_string(&file).unwrap_or_default();
        let rel = file
            .strip_prefix(&src)
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_default();
        let plain = text
            .match_indices("request_body = ")
            .map(|(at, m)| (&text[at + m.len()..], false));
        let content = text
            .match_indices("request_body(content(")
            .map(|(at, m)| (&text[at + m.len()..], true));
        for (rest, content) in plain.chain(content) {
            let Some((schema, name, flat)) = documented_body(rest, content) else {
                continue;
            };
            let parses = flat.contains(&format!("Valid<{schema}"))
                || (flat.contains("from_fields(")
                    && (flat.contains(&format!("{schema}{{"))
                        || flat.contains(&format!(":{schema}=from_fields"))
                        || flat.contains(&format!(":{schema}=checked_from_fields"))));
            found.push((format!("{rel}:{name}"), schema, parses));
        }
    }
    found
}

#[test]
fn every_documented_request_body_is_the_struct_its_handler_parses() {
    let routes = routes();
    assert!(
        routes.len() >= 17,
        "found only {} documented bodies",
        routes.len()
    );
    let mut wrong = Vec::new();
    for (handler, schema, parses) in &routes {
        let pending = PENDING.contains(&handler.as_str());
        if *parses && pending {
            wrong.push(format!(
                "{handler} now parses {schema}: take it off PENDING"
            ));
        } else if !parses && !pending {
            wrong.push(format!(
                "{handler} documents {schema} but does not parse it"
            ));
        }
    }
    for stale in PENDING
        .iter()
        .filter(|p| !routes.iter().any(|(h, _, _)| h == *p))
    {
        wrong.push(format!(
            "{stale} is on PENDING but documents no request body"
        ));
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// Query structs the pagination reads (`page`), not the handler.
const READ_BY_PAGINATION: &[&str] = &["PageQuery"];

/// The text between `open` (just past an opening parenthesis) and its closing one.
fn balanced(text: &str) -> &str {
    let mut depth = 1;
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return &text[..i];
                }
            }
            _ => {}
        }
    }
    text
}

/// (file:handler, documented query struct, whether the handler parses it).
fn queries() -> Vec<(String, String, bool)> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut found = Vec::new();
    for file in files {
        let text = fs::read_to_string(&file).unwrap_or_default();
        let rel = file
            .strip_prefix(&src)
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_default();
        for (at, _) in text.match_indices("#[utoipa::path(") {
            let rest = &text[at..];
            let Some((attr, name, flat)) = handler_after(rest) else {
                continue;
            };
            let Some(p_at) = attr.find("params(") else {
                continue;
            };
            // Top-level items of params(...) that are not tuples name IntoParams structs.
            let inner = balanced(&attr[p_at + "params(".len()..]);
            let (mut depth, mut item, mut items) = (0, String::new(), Vec::new());
            for c in inner.chars() {
                match c {
                    '(' => depth += 1,
                    ')' => depth -= 1,
                    ',' if depth == 0 => items.push(std::mem::take(&mut item)),
                    _ if depth == 0 => item.push(c),
                    _ => {}
                }
            }
            items.push(item);
            for item in items {
                let item = item.trim();
                if item.is_empty()
                    || !item
                        .chars()
                        .all(|c| c.is_alphanumeric() || "_:".contains(c))
                {
                    continue;
                }
                let schema = item.rsplit("::").next().unwrap_or_default().to_owned();
                if READ_BY_PAGINATION.contains(&schema.as_str()) {
                    continue;
                }
                let parses = flat.contains(&format!("ValidQuery<{schema}>"));
                found.push((format!("{rel}:{name}"), schema, parses));
            }
        }
    }
    found
}

#[test]
fn every_documented_query_is_the_struct_its_handler_parses() {
    let queries = queries();
    assert!(
        queries.len() >= 9,
        "found only {} documented queries",
        queries.len()
    );
    let wrong: Vec<String> = queries
        .iter()
        .filter(|(_, _, parses)| !parses)
        .map(|(handler, schema, _)| format!("{handler} documents {schema} but does not parse it"))
        .collect();
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn no_handler_reads_a_query_or_body_as_an_untyped_map() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let untyped: Vec<String> = files
        .iter()
        .filter(|f| {
            let text: String = fs::read_to_string(f)
                .unwrap_or_default()
                .split_whitespace()
                .collect();
            text.contains("Query<HashMap<") || text.contains("Json<Value>")
        })
        .map(|f| f.display().to_string())
        .collect();
    assert!(untyped.is_empty(), "untyped requests in {untyped:?}");
}
