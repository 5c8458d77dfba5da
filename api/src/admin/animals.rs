//! Animals: search (unverified first), edit names and taxonomy, verify, merge a duplicate.

use super::form::Form;
use actix_web::{HttpResponse, http::StatusCode, web};
use biologidex_db::{
    admin,
    models::{
        admin as queries,
        animals::{Animal, AnimalFields, CONSERVATION_STATUSES},
    },
};
use maud::html;
use serde::Deserialize;

use super::{
    page::{
        AdminError, AdminResult, at, audit_table, button_form, csrf_field, finish, html_response,
        id_of, layout,
    },
    session::{CsrfForm, Staff},
    users::NoticeQuery,
};
use crate::state::AppState;

/// `?q=&unverified=` of the list.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnimalSearch {
    #[serde(default)]
    q: String,
    #[serde(default)]
    unverified: Option<String>,
    #[serde(default)]
    notice: Option<String>,
}

/// `GET /admin/animals/`.
pub async fn list(
    state: web::Data<AppState>,
    staff: Staff,
    q: web::Query<AnimalSearch>,
) -> AdminResult<HttpResponse> {
    let only_unverified = q.unverified.as_deref() == Some("on");
    let mut conn = state.db.get().await?;
    let rows = queries::search_animals(&mut conn, &q.q, only_unverified, 200).await?;
    let body = html! {
        form.search method="get" action="/admin/animals/" {
            input type="search" name="q" value=(q.q) placeholder="scientific or common name";
            label { input type="checkbox" name="unverified" value="on" checked[only_unverified]; " unverified only" }
            button type="submit" { "Search" }
        }
        p.muted { "Unverified animals come first." }
        table {
            thead { tr { th { "#" } th { "Scientific name" } th { "Common name" } th { "Family" } th { "Verified" } th { "Entries" } th { "Created" } } }
            tbody {
                @for a in &rows {
                    tr {
                        td { (a.creation_index) }
                        td { a href={"/admin/animals/" (a.id) "/"} { (a.scientific_name) } }
                        td { (a.common_name) }
                        td { (a.family) }
                        td { (if a.verified { "yes" } else { "no" }) }
                        td { (a.entries) }
                        td { (at(&a.created_at)) }
                    }
                }
            }
        }
        @if rows.is_empty() { p.muted { "No animal matches." } }
    };
    Ok(html_response(
        StatusCode::OK,
        layout("Animals", Some(&staff.frame()), q.notice.as_deref(), body),
    ))
}

/// `GET /admin/animals/{id}/`: the edit form, verify, merge, entries and audit.
pub async fn detail(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<String>,
    q: web::Query<NoticeQuery>,
) -> AdminResult<HttpResponse> {
    let id = id_of(&id)?;
    let mut conn = state.db.get().await?;
    let view = Animal::find(&mut conn, id)
        .await?
        .ok_or_else(|| AdminError::NotFound("No such animal.".to_owned()))?;
    let entries = Animal::discovery_count(&mut conn, id).await?;
    let audit = queries::audit_rows(
        &mut conn,
        queries::AuditScope::Object("animal", &id.to_string()),
        50,
    )
    .await?;
    let a = &view.animal;
    let base = format!("/admin/animals/{id}");
    let csrf = staff.csrf.as_str();
    let text = |name: &'static str, label: &'static str, value: &str| {
        html! { label { (label) input name=(name) value=(value); } }
    };
    let body = html! {
        dl.facts {
            dt { "Id" } dd { code { (a.id) } }
            dt { "Number" } dd { (a.creation_index) }
            dt { "Verified" } dd { (a.verified) }
            dt { "Created by" } dd { (view.created_by_username.as_deref().unwrap_or("—")) }
            dt { "Created" } dd { (at(&a.created_at)) }
            dt { "Dex entries" } dd { a href={"/admin/entries/?animal=" (id)} { (entries) } }
        }
        @if !a.verified {
            (button_form(&format!("{base}/verify/"), csrf, "Verify", "primary"))
        }
        h2 { "Edit" }
        form.grid method="post" action={(base) "/edit/"} {
            (csrf_field(csrf))
            (text("scientific_name", "Scientific name", &a.scientific_name))
            (text("common_name", "Common name", &a.common_name))
            (text("kingdom", "Kingdom", &a.kingdom))
            (text("phylum", "Phylum", &a.phylum))
            (text("class_name", "Class", &a.class_name))
            (text("order_name", "Order", &a.order_name))
            (text("family", "Family", &a.family))
            (text("genus", "Genus", &a.genus))
            (text("species", "Species", &a.species))
            label { "Conservation status"
                select name="conservation_status" {
                    option value="" selected[a.conservation_status.is_empty()] { "—" }
                    @for s in CONSERVATION_STATUSES {
                        option value=(s) selected[a.conservation_status == *s] { (s) }
                    }
                }
            }
            button type="submit" { "Save" }
        }
        h2 { "Merge into another animal" }
        p.muted { "This animal's entries and jobs move to the other one, and this one is deleted." }
        form.inline method="post" action={(base) "/merge/"} {
            (csrf_field(csrf))
            label { "Target animal id " input name="into" id="merge-into" required size="38"; }
            button.danger type="submit" id="merge" { "Merge" }
        }
        (audit_table(&audit))
    };
    Ok(html_response(
        StatusCode::OK,
        layout(
            &a.scientific_name,
            Some(&staff.frame()),
            q.notice.as_deref(),
            body,
        ),
    ))
}

/// The edit form: names and taxonomy.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EditForm {
    csrf: String,
    scientific_name: String,
    common_name: String,
    kingdom: String,
    phylum: String,
    class_name: String,
    order_name: String,
    family: String,
    genus: String,
    species: String,
    conservation_status: String,
}

/// Each value against its column's limit (the API's own field limits).
fn check_lengths(f: &EditForm) -> AdminResult<()> {
    let limits = [
        ("scientific name", &f.scientific_name, 200),
        ("common name", &f.common_name, 200),
        ("kingdom", &f.kingdom, 100),
        ("phylum", &f.phylum, 100),
        ("class", &f.class_name, 100),
        ("order", &f.order_name, 100),
        ("family", &f.family, 100),
        ("genus", &f.genus, 100),
        ("species", &f.species, 100),
    ];
    match limits
        .iter()
        .find(|(_, value, max)| value.trim().chars().count() > *max)
    {
        Some((label, _, max)) => Err(AdminError::BadRequest(format!(
            "The {label} can have at most {max} characters."
        ))),
        None => Ok(()),
    }
}

/// `POST /admin/animals/{id}/edit/`: the fields not on the form are kept.
pub async fn edit(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<String>,
    form: Form<EditForm>,
) -> AdminResult<HttpResponse> {
    staff.check_csrf(&form.csrf)?;
    let id = id_of(&id)?;
    let f = form.into_inner();
    check_lengths(&f)?;
    let name = f
        .scientific_name
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    if name.is_empty() {
        return Err(AdminError::BadRequest(
            "The scientific name cannot be empty.".to_owned(),
        ));
    }
    if !f.conservation_status.is_empty()
        && !CONSERVATION_STATUSES.contains(&f.conservation_status.as_str())
    {
        return Err(AdminError::BadRequest(
            "Unknown conservation status.".to_owned(),
        ));
    }
    let mut conn = state.db.get().await?;
    let current = Animal::find(&mut conn, id)
        .await?
        .ok_or_else(|| AdminError::NotFound("No such animal.".to_owned()))?
        .animal;
    let fields = AnimalFields {
        scientific_name: name,
        common_name: f.common_name.trim().to_owned(),
        kingdom: f.kingdom.trim().to_owned(),
        phylum: f.phylum.trim().to_owned(),
        class_name: f.class_name.trim().to_owned(),
        order_name: f.order_name.trim().to_owned(),
        family: f.family.trim().to_owned(),
        genus: f.genus.trim().to_owned(),
        species: f.species.trim().to_owned(),
        conservation_status: f.conservation_status,
        description: current.description,
        habitat: current.habitat,
        diet: current.diet,
        interesting_facts: current.interesting_facts,
        verified: current.verified,
    };
    let outcome = admin::edit_animal(&mut conn, &staff.actor(), id, fields).await?;
    drop(conn);
    Ok(finish(&state, outcome, &format!("/admin/animals/{id}/")).await)
}

/// `POST /admin/animals/{id}/verify/`.
pub async fn verify(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<String>,
    form: Form<CsrfForm>,
) -> AdminResult<HttpResponse> {
    staff.check_csrf(&form.csrf)?;
    let id = id_of(&id)?;
    let mut conn = state.db.get().await?;
    let outcome = admin::verify_animal(&mut conn, &staff.actor(), id).await?;
    drop(conn);
    Ok(finish(&state, outcome, &format!("/admin/animals/{id}/")).await)
}

/// The merge form.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MergeForm {
    csrf: String,
    into: String,
}

/// `POST /admin/animals/{id}/merge/`: into the target's page afterwards.
pub async fn merge(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<String>,
    form: Form<MergeForm>,
) -> AdminResult<HttpResponse> {
    staff.check_csrf(&form.csrf)?;
    let from = id_of(&id)?;
    let into = uuid::Uuid::parse_str(form.into.trim())
        .map(biologidex_core::ids::AnimalId)
        .map_err(|_| AdminError::BadRequest("The target must be an animal id.".to_owned()))?;
    let mut conn = state.db.get().await?;
    let outcome = admin::merge_animals(&mut conn, &staff.actor(), from, into).await?;
    drop(conn);
    Ok(finish(&state, outcome, &format!("/admin/animals/{into}/")).await)
}
