//! The operators' console at `/admin/`: server-rendered HTML (maud), one small stylesheet, no
//! script, a strict same-origin CSP. Staff only, through its own cookie session
//! (`session.rs`); every action goes through `biologidex_db::admin`, which writes the audit row.

pub mod animals;
pub mod cli;
pub mod entries;
pub mod form;
pub mod jobs;
pub mod page;
pub mod session;
pub mod system;
pub mod taxonomy;
pub mod users;

use actix_web::{HttpResponse, http::StatusCode, http::header, middleware::DefaultHeaders, web};
use biologidex_db::models::admin as queries;
use maud::html;

use page::{AdminResult, at, html_response, layout};
use session::Staff;

use crate::state::AppState;

const CSS: &str = include_str!("../../assets/admin/admin.css");

/// Mounts `/admin/...`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/admin")
            .wrap(
                DefaultHeaders::new()
                    .add((header::CONTENT_SECURITY_POLICY, page::CSP))
                    .add(("X-Robots-Tag", "noindex")),
            )
            .route("/", web::get().to(overview))
            .route("/static/admin.css", web::get().to(css))
            .route("/login/", web::get().to(session::login_form))
            .route("/login/", web::post().to(session::login))
            .route("/logout/", web::post().to(session::logout))
            .route("/audit/", web::get().to(audit))
            .route("/users/", web::get().to(users::list))
            .route("/users/{id}/", web::get().to(users::detail))
            .route("/users/{id}/active/", web::post().to(users::set_active))
            .route("/users/{id}/staff/", web::post().to(users::set_staff))
            .route("/users/{id}/password/", web::post().to(users::set_password))
            .route("/users/{id}/delete/", web::post().to(users::delete))
            .route("/animals/", web::get().to(animals::list))
            .route("/animals/{id}/", web::get().to(animals::detail))
            .route("/animals/{id}/edit/", web::post().to(animals::edit))
            .route("/animals/{id}/verify/", web::post().to(animals::verify))
            .route("/animals/{id}/merge/", web::post().to(animals::merge))
            .route("/entries/", web::get().to(entries::list))
            .route("/entries/{id}/hide/", web::post().to(entries::hide))
            .route("/entries/{id}/delete/", web::post().to(entries::delete))
            .route("/jobs/", web::get().to(jobs::list))
            .route("/jobs/retry-failed/", web::post().to(jobs::retry_failed))
            .route("/jobs/{id}/retry/", web::post().to(jobs::retry))
            .route("/taxonomy/", web::get().to(taxonomy::page))
            .route("/taxonomy/import/", web::post().to(taxonomy::start_import))
            .route("/system/", web::get().to(system::page))
            .default_service(web::to(not_found)),
    );
}

async fn css() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/css; charset=utf-8"))
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(CSS)
}

async fn not_found() -> HttpResponse {
    html_response(
        StatusCode::NOT_FOUND,
        layout(
            "Not found",
            None,
            None,
            html! { p { "No such console page. " a href="/admin/" { "Back to the console" } } },
        ),
    )
}

/// `GET /admin/`: the totals and the latest actions.
async fn overview(state: web::Data<AppState>, staff: Staff) -> AdminResult<HttpResponse> {
    let mut conn = state.db.get().await?;
    let t = queries::totals(&mut conn).await?;
    let recent = queries::audit_rows(&mut conn, queries::AuditScope::All, 10).await?;
    let cards = [
        ("Users", t.users, "/admin/users/"),
        ("Active users", t.active_users, "/admin/users/"),
        ("Animals", t.animals, "/admin/animals/"),
        (
            "Unverified animals",
            t.unverified_animals,
            "/admin/animals/?unverified=on",
        ),
        ("Dex entries", t.entries, "/admin/entries/"),
        (
            "Failed jobs (24 h)",
            t.failed_jobs_24h,
            "/admin/jobs/?status=failed",
        ),
    ];
    let body = html! {
        div.cards {
            @for (label, n, href) in &cards {
                a.card href=(href) { b { (n) } (label) }
            }
        }
        (page::audit_table(&recent))
        p { a href="/admin/audit/" { "Full audit log" } }
        p.muted { "Server " (state.settings.version) " · " (state.settings.environment) }
    };
    Ok(html_response(
        StatusCode::OK,
        layout("Overview", Some(&staff.frame()), None, body),
    ))
}

/// `GET /admin/audit/`: the newest actions on every object.
async fn audit(state: web::Data<AppState>, staff: Staff) -> AdminResult<HttpResponse> {
    let mut conn = state.db.get().await?;
    let rows = queries::audit_rows(&mut conn, queries::AuditScope::All, 500).await?;
    let body = html! {
        table {
            thead { tr { th { "When" } th { "Who" } th { "Action" } th { "Object" } } }
            tbody {
                @for r in &rows {
                    tr {
                        td { (at(&r.created_at)) }
                        td { (r.actor_name) }
                        td { code { (r.action) } }
                        td {
                            @match r.object_type.as_str() {
                                "user" => { a href={"/admin/users/" (r.object_id) "/"} { "user " (r.object_id) } }
                                "animal" => { a href={"/admin/animals/" (r.object_id) "/"} { "animal " (r.object_id) } }
                                _ => { (r.object_type) " " (r.object_id) }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(html_response(
        StatusCode::OK,
        layout("Audit log", Some(&staff.frame()), None, body),
    ))
}
