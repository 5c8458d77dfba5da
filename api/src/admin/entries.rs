//! Dex entries: find by user or animal; hide or delete one (moderation).

use super::form::Form;
use actix_web::{HttpResponse, http::StatusCode, web};
use biologidex_db::{admin, models::admin as queries, models::dex::Visibility};
use maud::html;
use serde::Deserialize;
use uuid::Uuid;

use super::{
    page::{
        AdminError, AdminResult, at, audit_table, csrf_field, finish, html_response, id_of, layout,
    },
    session::{CsrfForm, Staff},
    users::DeleteForm,
};
use crate::state::AppState;

/// `?user=` (id or username) and `?animal=` (id).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntrySearch {
    #[serde(default)]
    user: String,
    #[serde(default)]
    animal: String,
    #[serde(default)]
    notice: Option<String>,
}

/// `GET /admin/entries/`.
pub async fn list(
    state: web::Data<AppState>,
    staff: Staff,
    q: web::Query<EntrySearch>,
) -> AdminResult<HttpResponse> {
    let mut conn = state.db.get().await?;
    let owner = match q.user.trim() {
        "" => None,
        key => Some(admin::find_user(&mut conn, key).await?.id),
    };
    let animal = match q.animal.trim() {
        "" => None,
        key => Some(
            Uuid::parse_str(key)
                .map(biologidex_core::ids::AnimalId)
                .map_err(|_| AdminError::BadRequest("The animal must be an id.".to_owned()))?,
        ),
    };
    let rows = queries::search_entries(&mut conn, owner, animal, 200).await?;
    let audit = queries::audit_rows(&mut conn, queries::AuditScope::Type("entry"), 20).await?;
    let csrf = staff.csrf.as_str();
    let body = html! {
        form.search method="get" action="/admin/entries/" {
            input type="search" name="user" value=(q.user) placeholder="user id or username";
            input type="search" name="animal" value=(q.animal) placeholder="animal id";
            button type="submit" { "Find" }
        }
        table {
            thead { tr { th { "Caught" } th { "Owner" } th { "Animal" } th { "Visibility" } th { "Notes" } th { "Moderation" } } }
            tbody {
                @for e in &rows {
                    tr {
                        td { (at(&e.catch_date)) }
                        td { a href={"/admin/users/" (e.owner_id) "/"} { (e.owner) } }
                        td { a href={"/admin/animals/" (e.animal_id) "/"} { (e.animal) } }
                        td { (e.visibility) }
                        td { (e.notes) }
                        td {
                            @if e.visibility != Visibility::Private {
                                form.inline method="post" action={"/admin/entries/" (e.id) "/hide/"} {
                                    (csrf_field(csrf))
                                    button type="submit" { "Hide" }
                                }
                            }
                            form.inline method="post" action={"/admin/entries/" (e.id) "/delete/"} {
                                (csrf_field(csrf))
                                label { input type="checkbox" name="confirm" value="yes" required; " sure" }
                                button.danger type="submit" { "Delete" }
                            }
                        }
                    }
                }
            }
        }
        @if rows.is_empty() { p.muted { "No entry matches." } }
        (audit_table(&audit))
    };
    Ok(html_response(
        StatusCode::OK,
        layout(
            "Dex entries",
            Some(&staff.frame()),
            q.notice.as_deref(),
            body,
        ),
    ))
}

/// `POST /admin/entries/{id}/hide/`: private to its owner from now on.
pub async fn hide(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<String>,
    form: Form<CsrfForm>,
) -> AdminResult<HttpResponse> {
    staff.check_csrf(&form.csrf)?;
    let id = id_of(&id)?;
    let mut conn = state.db.get().await?;
    let outcome = admin::hide_entry(&mut conn, &staff.actor(), id).await?;
    drop(conn);
    Ok(finish(&state, outcome, "/admin/entries/").await)
}

/// `POST /admin/entries/{id}/delete/`.
pub async fn delete(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<String>,
    form: Form<DeleteForm>,
) -> AdminResult<HttpResponse> {
    staff.check_csrf(&form.csrf)?;
    if form.confirm.as_deref() != Some("yes") {
        return Err(AdminError::BadRequest(
            "Tick the confirmation box to delete.".to_owned(),
        ));
    }
    let id = id_of(&id)?;
    let mut conn = state.db.get().await?;
    let outcome = admin::delete_entry(&mut conn, &staff.actor(), id).await?;
    drop(conn);
    Ok(finish(&state, outcome, "/admin/entries/").await)
}
