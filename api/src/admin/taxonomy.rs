//! Taxonomy: import history with counts and bad rows, a running import's live progress (the
//! page reloads itself while one runs: no script needed), and starting an import from a path
//! the server can read (run on a worker).

use super::form::Form;
use actix_web::{HttpResponse, http::StatusCode, web};
use biologidex_core::jobs::RunTaxonomyImport;
use biologidex_db::{admin, models::admin as queries};
use maud::html;
use serde::Deserialize;

use super::{
    page::{
        AdminError, AdminResult, at, at_opt, audit_table, csrf_field, html_response, see_other,
        with_notice,
    },
    session::Staff,
    users::NoticeQuery,
};
use crate::state::AppState;

/// Seconds between reloads while an import runs.
const REFRESH_SECS: u32 = 5;

/// `GET /admin/taxonomy/`.
pub async fn page(
    state: web::Data<AppState>,
    staff: Staff,
    q: web::Query<NoticeQuery>,
) -> AdminResult<HttpResponse> {
    let mut conn = state.db.get().await?;
    let rows = queries::imports(&mut conn, 50).await?;
    let audit = queries::audit_rows(&mut conn, queries::AuditScope::Type("import"), 20).await?;
    let running = rows
        .iter()
        .any(|r| r.status == "pending" || r.status == "processing");
    let body = html! {
        @if running {
            p.notice { "An import is running; this page reloads every " (REFRESH_SECS) " seconds." }
        }
        h2 { "Start an import" }
        form.inline method="post" action="/admin/taxonomy/import/" {
            (csrf_field(&staff.csrf))
            label { "ColDP release (zip or folder) on the server " input name="path" size="50" required; }
            button type="submit" { "Import on a worker" }
        }
        h2 { "History" }
        table {
            thead { tr { th { "Created" } th { "Version" } th { "Status" } th { "Path" } th { "Records" } th { "Imported" } th { "Bad rows" } th { "Progress" } th { "Started" } th { "Finished" } } }
            tbody {
                @for r in &rows {
                    tr {
                        td { (at(&r.created_at)) }
                        td { (r.version) }
                        td class={"status " (r.status)} { (r.status) }
                        td { code { (r.file_path) } }
                        td { (r.records_total) }
                        td { (r.records_imported) }
                        td { (r.records_failed) }
                        td { code.json { (if r.progress.is_null() { String::new() } else { r.progress.to_string() }) } }
                        td { (at_opt(r.started_at.as_ref())) }
                        td { (at_opt(r.completed_at.as_ref())) }
                    }
                }
            }
        }
        @if rows.is_empty() { p.muted { "No import yet." } }
        (audit_table(&audit))
    };
    let markup = super::page::layout("Taxonomy", Some(&staff.frame()), q.notice.as_deref(), body);
    if running {
        // A refresh header reloads the page without any script (the CSP allows none).
        let mut res = html_response(StatusCode::OK, markup);
        if let Ok(v) = actix_web::http::header::HeaderValue::from_str(&REFRESH_SECS.to_string()) {
            res.headers_mut().insert(
                actix_web::http::header::HeaderName::from_static("refresh"),
                v,
            );
        }
        return Ok(res);
    }
    Ok(html_response(StatusCode::OK, markup))
}

/// The import form.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportForm {
    csrf: String,
    path: String,
}

/// `POST /admin/taxonomy/import/`: records the job and queues it for a worker.
pub async fn start_import(
    state: web::Data<AppState>,
    staff: Staff,
    form: Form<ImportForm>,
) -> AdminResult<HttpResponse> {
    staff.check_csrf(&form.csrf)?;
    let path = std::path::PathBuf::from(form.path.trim());
    if !path.is_absolute() || !path.exists() {
        return Err(AdminError::BadRequest(
            "Give an absolute path the server can read.".to_owned(),
        ));
    }
    let job = biologidex_taxonomy::import::create_col_job(&state.db, &path)
        .await
        .map_err(|e| AdminError::BadRequest(e.to_string()))?;
    let mut conn = state.db.get().await?;
    admin::record_import_started(&mut conn, &staff.actor(), job.id, &form.path).await?;
    drop(conn);
    let notice = match state
        .jobs
        .push(RunTaxonomyImport {
            import_job_id: job.id,
        })
        .await
    {
        Ok(()) => format!("import {} queued", job.id),
        Err(e) => {
            tracing::warn!(error = %e, "import not queued");
            format!(
                "import {} recorded but not queued: Redis is unavailable",
                job.id
            )
        }
    };
    Ok(see_other(&with_notice("/admin/taxonomy/", &notice)))
}
