//! The console's page frame, its error pages and small rendering helpers.

use actix_web::{HttpResponse, ResponseError, http::StatusCode, http::header};
use biologidex_db::models::admin::AuditEntry;
use chrono::{DateTime, Utc};
use maud::{DOCTYPE, Markup, html};

/// Same-origin everything, no script at all, no framing.
pub const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; \
    form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Sections of the navigation bar: (path, label).
const NAV: &[(&str, &str)] = &[
    ("/admin/", "Overview"),
    ("/admin/users/", "Users"),
    ("/admin/animals/", "Animals"),
    ("/admin/entries/", "Dex entries"),
    ("/admin/jobs/", "Vision jobs"),
    ("/admin/taxonomy/", "Taxonomy"),
    ("/admin/system/", "System"),
    ("/admin/audit/", "Audit log"),
];

/// Who is signed in, for the frame.
pub struct Frame<'a> {
    pub username: &'a str,
    pub csrf: &'a str,
}

/// A full page: header with navigation and logout, an optional notice, the body.
pub fn layout(
    title: &str,
    frame: Option<&Frame<'_>>,
    notice: Option<&str>,
    body: Markup,
) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · BiologiDex console" }
                link rel="stylesheet" href="/admin/static/admin.css";
            }
            body {
                header {
                    span.brand { "BiologiDex console" }
                    @if let Some(f) = frame {
                        nav {
                            @for (path, label) in NAV {
                                a href=(path) { (label) }
                            }
                        }
                        form.logout method="post" action="/admin/logout/" {
                            input type="hidden" name="csrf" value=(f.csrf);
                            span { (f.username) }
                            button type="submit" { "Log out" }
                        }
                    }
                }
                main {
                    h1 { (title) }
                    @if let Some(n) = notice {
                        p.notice role="status" { (n) }
                    }
                    (body)
                }
            }
        }
    }
}

/// An HTML response with the console's headers (never cached: pages hold personal data).
pub fn html_response(status: StatusCode, markup: Markup) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::CONTENT_TYPE, "text/html; charset=utf-8"))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(markup.into_string())
}

/// `303 See Other` to `location` (after a form post).
pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .finish()
}

/// `location` with a notice for the next page.
pub fn with_notice(location: &str, notice: &str) -> String {
    let sep = if location.contains('?') { '&' } else { '?' };
    format!(
        "{location}{sep}notice={}",
        url::form_urlencoded::byte_serialize(notice.as_bytes()).collect::<String>()
    )
}

/// A moment as operators read it (UTC).
pub fn at(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// An optional moment.
pub fn at_opt(t: Option<&DateTime<Utc>>) -> String {
    t.map_or_else(|| "—".to_owned(), at)
}

/// The audit rows of an object.
pub fn audit_table(rows: &[AuditEntry]) -> Markup {
    html! {
        h2 { "Audit" }
        @if rows.is_empty() {
            p.muted { "No admin action recorded yet." }
        } @else {
            table.audit {
                thead { tr { th { "When" } th { "Who" } th { "Action" } th { "Object" } th { "Before" } th { "After" } } }
                tbody {
                    @for r in rows {
                        tr {
                            td { (at(&r.created_at)) }
                            td { (r.actor_name) }
                            td { code { (r.action) } }
                            td { (r.object_type) " " code { (r.object_id) } }
                            td { code.json { (r.before.as_ref().map(ToString::to_string).unwrap_or_default()) } }
                            td { code.json { (r.after.as_ref().map(ToString::to_string).unwrap_or_default()) } }
                        }
                    }
                }
            }
        }
    }
}

/// A hidden CSRF field.
pub fn csrf_field(token: &str) -> Markup {
    html! { input type="hidden" name="csrf" value=(token); }
}

/// A one-button form posting to `action`.
pub fn button_form(action: &str, csrf: &str, label: &str, class: &str) -> Markup {
    html! {
        form.inline method="post" action=(action) {
            (csrf_field(csrf))
            button class=(class) type="submit" { (label) }
        }
    }
}

/// What can go wrong on a console page.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// Not signed in: go to the login form, then back.
    #[error("login required")]
    Login(String),
    /// Signed in but not staff (or no longer), or a bad CSRF token.
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("too many attempts")]
    Throttled(u64),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// The console's result type.
pub type AdminResult<T> = Result<T, AdminError>;

impl From<biologidex_core::Error> for AdminError {
    fn from(e: biologidex_core::Error) -> Self {
        use biologidex_core::Error as E;
        match e {
            E::NotFound(what) => AdminError::NotFound(format!("{} not found.", what.name())),
            E::NotFoundBecause(m) => AdminError::NotFound(m),
            E::Rule(m) | E::BadRequest(m) => AdminError::BadRequest(m),
            E::Validation(fields) => AdminError::BadRequest(
                fields
                    .into_iter()
                    .map(|(f, m)| format!("{f}: {}", m.join(" ")))
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
            other => AdminError::Internal(anyhow::anyhow!(other)),
        }
    }
}

impl From<diesel::result::Error> for AdminError {
    fn from(e: diesel::result::Error) -> Self {
        biologidex_core::Error::from(e).into()
    }
}

impl From<diesel_async::pooled_connection::bb8::RunError> for AdminError {
    fn from(e: diesel_async::pooled_connection::bb8::RunError) -> Self {
        AdminError::Internal(anyhow::anyhow!("database unavailable: {e}"))
    }
}

impl ResponseError for AdminError {
    fn status_code(&self) -> StatusCode {
        match self {
            AdminError::Login(_) => StatusCode::SEE_OTHER,
            AdminError::Forbidden(_) => StatusCode::FORBIDDEN,
            AdminError::NotFound(_) => StatusCode::NOT_FOUND,
            AdminError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AdminError::Throttled(_) => StatusCode::TOO_MANY_REQUESTS,
            AdminError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        let message = match self {
            AdminError::Login(next) => {
                let to = format!(
                    "/admin/login/?next={}",
                    url::form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
                );
                return see_other(&to);
            }
            AdminError::Internal(e) => {
                tracing::error!(error = %e, "console request failed");
                "Something went wrong; the error is in the server log.".to_owned()
            }
            AdminError::Throttled(wait) => {
                format!("Too many login attempts; try again in {wait} seconds.")
            }
            other => other.to_string(),
        };
        let body = html! {
            p.error { (message) }
            p { a href="/admin/" { "Back to the console" } }
        };
        let mut res = html_response(
            status,
            layout(
                status.canonical_reason().unwrap_or("Error"),
                None,
                None,
                body,
            ),
        );
        if let AdminError::Throttled(wait) = self
            && let Ok(v) = header::HeaderValue::from_str(&wait.to_string())
        {
            res.headers_mut().insert(header::RETRY_AFTER, v);
        }
        res
    }
}

/// A path id; a malformed one is "not found".
pub fn id_of<T: From<uuid::Uuid>>(id: &str) -> AdminResult<T> {
    uuid::Uuid::parse_str(id)
        .map(T::from)
        .map_err(|_| AdminError::NotFound("No such object.".to_owned()))
}

/// After a committed action: invalidate trees, queue jobs, and go to `to` with the summary.
pub async fn finish(
    state: &crate::state::AppState,
    outcome: biologidex_db::admin::Outcome,
    to: &str,
) -> HttpResponse {
    biologidex_db::admin::invalidate(&state.redis, &state.settings, &outcome.invalidate).await;
    for id in &outcome.requeue {
        crate::vision::create::enqueue(state, *id).await;
    }
    see_other(&with_notice(to, &outcome.summary))
}
