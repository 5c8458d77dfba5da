//! Users: search, a user's page, (de)activation, staff, a new password, deletion.

use super::form::Form;
use actix_web::{HttpResponse, http::StatusCode, web};
use biologidex_core::domain::password;
use biologidex_db::{
    admin,
    models::{accounts::User, admin as queries, friendships::Friendship},
};
use maud::html;
use rand::Rng;
use serde::Deserialize;

use super::{
    page::{
        AdminError, AdminResult, at, at_opt, audit_table, csrf_field, finish, html_response, id_of,
        layout,
    },
    session::{CsrfForm, Staff},
};
use crate::state::AppState;

/// `?q=` of a search, `?notice=` after an action.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    notice: Option<String>,
}

/// `?notice=` after an action.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoticeQuery {
    #[serde(default)]
    pub notice: Option<String>,
}

/// `GET /admin/users/`: search by name, email or friend code.
pub async fn list(
    state: web::Data<AppState>,
    staff: Staff,
    q: web::Query<SearchQuery>,
) -> AdminResult<HttpResponse> {
    let mut conn = state.db.get().await?;
    let rows = queries::search_users(&mut conn, &q.q, 100).await?;
    let body = html! {
        form.search method="get" action="/admin/users/" {
            input type="search" name="q" value=(q.q) placeholder="name, email or friend code";
            button type="submit" { "Search" }
        }
        table {
            thead { tr { th { "Username" } th { "Email" } th { "Friend code" } th { "Active" } th { "Staff" } th { "Last login" } th { "Joined" } } }
            tbody {
                @for u in &rows {
                    tr {
                        td { a href={"/admin/users/" (u.id) "/"} { (u.username) } }
                        td { (u.email) }
                        td { code { (u.friend_code) } }
                        td { (if u.is_active { "yes" } else { "no" }) }
                        td { (if u.is_superuser { "superuser" } else if u.is_staff { "staff" } else { "" }) }
                        td { (at_opt(u.last_login.as_ref())) }
                        td { (at(&u.created_at)) }
                    }
                }
            }
        }
        @if rows.is_empty() { p.muted { "No user matches." } }
    };
    Ok(html_response(
        StatusCode::OK,
        layout("Users", Some(&staff.frame()), q.notice.as_deref(), body),
    ))
}

/// `GET /admin/users/{id}/`: profile, counters, friends, recent entries and jobs, audit.
pub async fn detail(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<String>,
    q: web::Query<NoticeQuery>,
) -> AdminResult<HttpResponse> {
    let id = id_of(&id)?;
    let mut conn = state.db.get().await?;
    let view = User::find(&mut conn, id)
        .await?
        .ok_or_else(|| AdminError::NotFound("No such user.".to_owned()))?;
    let friends = Friendship::friends_of(&mut conn, id).await?;
    let entries = queries::search_entries(&mut conn, Some(id), None, 20).await?;
    let jobs = queries::recent_jobs(&mut conn, None, Some(id), 20).await?;
    let audit = queries::audit_rows(
        &mut conn,
        queries::AuditScope::Object("user", &id.to_string()),
        50,
    )
    .await?;
    let u = &view.user;
    let p = &view.profile;
    let base = format!("/admin/users/{id}");
    let csrf = staff.csrf.as_str();
    let body = html! {
        dl.facts {
            dt { "Id" } dd { code { (u.id) } }
            dt { "Email" } dd { (u.email) }
            dt { "Friend code" } dd { code { (u.friend_code) } }
            dt { "Active" } dd { (u.is_active) }
            dt { "Staff" } dd { (u.is_staff) @if u.is_superuser { " (superuser)" } }
            dt { "Joined" } dd { (at(&u.created_at)) }
            dt { "Last login" } dd { (at_opt(u.last_login.as_ref())) }
            dt { "Bio" } dd { (u.bio) }
            dt { "Catches" } dd { (p.total_catches) }
            dt { "Unique species" } dd { (p.unique_species) }
            dt { "Last catch" } dd { (at_opt(p.last_catch_date.as_ref())) }
        }
        section.actions {
            h2 { "Actions" }
            form.inline method="post" action={(base) "/active/"} {
                (csrf_field(csrf))
                input type="hidden" name="active" value=(if u.is_active { "false" } else { "true" });
                @if u.is_active {
                    button.danger type="submit" id="deactivate" { "Deactivate (revokes every token)" }
                } @else {
                    button type="submit" id="reactivate" { "Reactivate" }
                }
            }
            form.inline method="post" action={(base) "/staff/"} {
                (csrf_field(csrf))
                input type="hidden" name="staff" value=(if u.is_staff { "false" } else { "true" });
                button type="submit" { (if u.is_staff { "Remove staff" } else { "Grant staff" }) }
            }
            form.inline method="post" action={(base) "/password/"} {
                (csrf_field(csrf))
                button type="submit" { "Set a new password" }
            }
            form.inline method="post" action={(base) "/delete/"} {
                (csrf_field(csrf))
                label { input type="checkbox" name="confirm" value="yes" required; " I mean it" }
                button.danger type="submit" { "Delete user" }
            }
        }
        h2 { "Friends (" (friends.len()) ")" }
        ul.plain {
            @for f in &friends {
                li { a href={"/admin/users/" (f.id) "/"} { (f.username) } " · " (f.total_catches) " catches" }
            }
        }
        h2 { "Recent dex entries" }
        table {
            thead { tr { th { "Caught" } th { "Animal" } th { "Visibility" } } }
            tbody { @for e in &entries { tr {
                td { (at(&e.catch_date)) }
                td { a href={"/admin/animals/" (e.animal_id) "/"} { (e.animal) } }
                td { (e.visibility) }
            } } }
        }
        p { a href={"/admin/entries/?user=" (id)} { "All entries of this user" } }
        h2 { "Recent vision jobs" }
        table {
            thead { tr { th { "Created" } th { "Status" } th { "Model" } th { "Error" } } }
            tbody { @for j in &jobs { tr {
                td { (at(&j.created_at)) }
                td { (j.status) }
                td { (j.model_name) }
                td { (j.error_message) }
            } } }
        }
        (audit_table(&audit))
    };
    Ok(html_response(
        StatusCode::OK,
        layout(&u.username, Some(&staff.frame()), q.notice.as_deref(), body),
    ))
}

/// `true`/`false` from a form.
fn flag(v: &str) -> AdminResult<bool> {
    match v {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(AdminError::BadRequest("Expected true or false.".to_owned())),
    }
}

/// The (de)activation form.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActiveForm {
    csrf: String,
    active: String,
}

/// `POST /admin/users/{id}/active/`.
pub async fn set_active(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<String>,
    form: Form<ActiveForm>,
) -> AdminResult<HttpResponse> {
    staff.check_csrf(&form.csrf)?;
    let id = id_of(&id)?;
    let active = flag(&form.active)?;
    let mut conn = state.db.get().await?;
    let outcome = admin::set_active(&mut conn, &staff.actor(), id, active).await?;
    drop(conn);
    state.auth_cache.forget(id);
    Ok(finish(&state, outcome, &format!("/admin/users/{id}/")).await)
}

/// The staff form.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StaffForm {
    csrf: String,
    staff: String,
}

/// `POST /admin/users/{id}/staff/`.
pub async fn set_staff(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<String>,
    form: Form<StaffForm>,
) -> AdminResult<HttpResponse> {
    staff.check_csrf(&form.csrf)?;
    let id = id_of(&id)?;
    let on = flag(&form.staff)?;
    let mut conn = state.db.get().await?;
    let outcome = admin::set_staff(&mut conn, &staff.actor(), id, on).await?;
    drop(conn);
    state.auth_cache.forget(id);
    Ok(finish(&state, outcome, &format!("/admin/users/{id}/")).await)
}

/// A random password that passes the strength rules (shown once, never stored in clear).
fn generated_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rng();
    (0..20)
        .map(|i| {
            if i > 0 && i % 5 == 0 {
                '-'
            } else {
                char::from(ALPHABET[rng.random_range(0..ALPHABET.len())])
            }
        })
        .collect()
}

/// `POST /admin/users/{id}/password/`: a generated password, shown once on the answer.
pub async fn set_password(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<String>,
    form: Form<CsrfForm>,
) -> AdminResult<HttpResponse> {
    staff.check_csrf(&form.csrf)?;
    let id = id_of(&id)?;
    let pw = generated_password();
    let clear = pw.clone();
    let hash = biologidex_core::cpu::run(move || password::hash(&clear))
        .await
        .map_err(|e| AdminError::Internal(anyhow::anyhow!("{e}")))?
        .map_err(AdminError::Internal)?;
    let mut conn = state.db.get().await?;
    let outcome = admin::set_password(&mut conn, &staff.actor(), id, &hash).await?;
    drop(conn);
    state.auth_cache.forget(id);
    let body = html! {
        p { (outcome.summary) }
        p { "The new password, shown only this once:" }
        p.secret { code id="new-password" { (pw) } }
        p { a href={"/admin/users/" (id) "/"} { "Back to the user" } }
    };
    Ok(html_response(
        StatusCode::OK,
        layout("New password", Some(&staff.frame()), None, body),
    ))
}

/// The deletion form: the box must be ticked.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeleteForm {
    pub csrf: String,
    #[serde(default)]
    pub confirm: Option<String>,
}

/// `POST /admin/users/{id}/delete/`.
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
    if id == staff.id {
        return Err(AdminError::BadRequest(
            "You cannot delete your own account here.".to_owned(),
        ));
    }
    let mut conn = state.db.get().await?;
    let outcome = admin::delete_user(&mut conn, &staff.actor(), id).await?;
    drop(conn);
    state.auth_cache.forget(id);
    Ok(finish(&state, outcome, "/admin/users/").await)
}
