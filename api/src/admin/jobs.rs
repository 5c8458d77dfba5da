//! Vision jobs: recent and failed jobs with their error, retry one or all failed ones of a
//! period, and the provider cost per day and model against `VISION_DAILY_BUDGET_USD`.

use std::collections::BTreeMap;

use super::form::Form;
use actix_web::{HttpResponse, http::StatusCode, web};
use biologidex_db::{
    admin,
    models::{admin as queries, vision::JobStatus},
};
use chrono::{NaiveDate, Utc};
use maud::{Markup, html};
use serde::Deserialize;

use super::{
    page::{
        AdminError, AdminResult, at, button_form, csrf_field, finish, html_response, id_of, layout,
    },
    session::{CsrfForm, Staff},
};
use crate::state::AppState;

/// Days the cost chart covers.
const CHART_DAYS: i32 = 14;

/// `?status=` of the list.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobFilter {
    #[serde(default)]
    status: String,
    #[serde(default)]
    notice: Option<String>,
}

/// Bars of cost per day, one colour class per model, and the budget as a line.
fn cost_chart(costs: &[queries::DailyCost], budget: Option<f64>) -> Markup {
    let today = Utc::now().date_naive();
    let days: Vec<NaiveDate> = (0..CHART_DAYS)
        .rev()
        .filter_map(|d| today.checked_sub_days(chrono::Days::new(u64::try_from(d).unwrap_or(0))))
        .collect();
    let mut per_day: BTreeMap<NaiveDate, Vec<(&str, f64)>> = BTreeMap::new();
    let mut models: Vec<&str> = Vec::new();
    for c in costs {
        per_day
            .entry(c.day)
            .or_default()
            .push((&c.model, c.cost_usd));
        if !models.contains(&c.model.as_str()) {
            models.push(&c.model);
        }
    }
    let top = days
        .iter()
        .map(|d| {
            per_day
                .get(d)
                .map_or(0.0, |v| v.iter().map(|(_, c)| c).sum())
        })
        .fold(budget.unwrap_or(0.0), f64::max)
        .max(0.01);
    let (w, h, pad) = (560.0_f64, 180.0_f64, 30.0_f64);
    let bar = (w - pad) / f64::from(CHART_DAYS);
    let y = |v: f64| h - pad - (v / top) * (h - 2.0 * pad);
    let colour = |m: &str| models.iter().position(|x| *x == m).unwrap_or(0) % 6;
    let mut bars = Vec::new();
    let mut labels = Vec::new();
    for (i, d) in days.iter().enumerate() {
        let x = pad + bar * (i as f64) + 2.0;
        let mut base = 0.0;
        for (model, cost) in per_day.get(d).map(Vec::as_slice).unwrap_or_default() {
            let (top_y, bottom_y) = (y(base + cost), y(base));
            bars.push((
                x,
                top_y,
                (bottom_y - top_y).max(0.5),
                format!("bar m{}", colour(model)),
                format!("{d} {model}: ${cost:.4}"),
            ));
            base += cost;
        }
        if i % 2 == 0 {
            labels.push((x, d.format("%m-%d").to_string()));
        }
    }
    html! {
        svg.chart xmlns="http://www.w3.org/2000/svg" viewBox={"0 0 " (w) " " (h)} role="img"
            aria-label="Vision cost per day and model" {
            line.axis x1=(pad) y1=(h - pad) x2=(w) y2=(h - pad) {}
            text.label x="0" y=(y(top) + 4.0) { "$" (format!("{top:.2}")) }
            text.label x="0" y=(h - pad + 4.0) { "$0" }
            @for (x, top_y, height, class, tip) in &bars {
                rect class=(class) x=(x) y=(top_y) width=(bar - 4.0) height=(height) {
                    title { (tip) }
                }
            }
            @for (x, label) in &labels {
                text.label x=(x) y=(h - pad + 16.0) { (label) }
            }
            @if let Some(b) = budget {
                line.budget x1=(pad) y1=(y(b)) x2=(w) y2=(y(b)) {}
                text.label x=(w - 120.0) y=(y(b) - 4.0) { "budget $" (format!("{b:.2}")) "/day" }
            }
        }
        p.legend {
            @for m in &models {
                span class={"swatch m" (colour(m))} {} " " (m) " "
            }
            @if models.is_empty() { "No provider cost in the last " (CHART_DAYS) " days." }
        }
    }
}

/// `GET /admin/jobs/`.
pub async fn list(
    state: web::Data<AppState>,
    staff: Staff,
    q: web::Query<JobFilter>,
) -> AdminResult<HttpResponse> {
    let filter = match q.status.as_str() {
        "" => None,
        s => Some(
            JobStatus::parse(s)
                .ok_or_else(|| AdminError::BadRequest("Unknown status.".to_owned()))?,
        ),
    };
    let mut conn = state.db.get().await?;
    let rows = queries::recent_jobs(&mut conn, filter, None, 200).await?;
    let costs = queries::daily_costs(&mut conn, CHART_DAYS).await?;
    let budget = state.settings.vision_daily_budget_usd;
    let today_total: f64 = costs
        .iter()
        .filter(|c| c.day == Utc::now().date_naive())
        .map(|c| c.cost_usd)
        .sum();
    let csrf = staff.csrf.as_str();
    let body = html! {
        h2 { "Cost per day" }
        p { "Today: $" (format!("{today_total:.4}"))
            @match budget { Some(b) => { " of a $" (format!("{b:.2}")) " daily budget" }, None => { " (no daily budget set)" } } }
        (cost_chart(&costs, budget))
        h2 { "Retry failed jobs" }
        form.inline method="post" action="/admin/jobs/retry-failed/" {
            (csrf_field(csrf))
            label { "Failed since " input name="since" value="24h" size="22"; }
            button type="submit" id="retry-failed" { "Retry all" }
            span.muted { " an age (90m, 24h, 7d), a date or an RFC 3339 time" }
        }
        h2 { "Recent jobs" }
        nav.filters {
            a href="/admin/jobs/" { "all" }
            @for s in JobStatus::ALL { " · " a href={"/admin/jobs/?status=" (s)} { (s) } }
        }
        table {
            thead { tr { th { "Created" } th { "User" } th { "Status" } th { "Model" } th { "Cost" } th { "Retries" } th { "Error" } th {} } }
            tbody {
                @for j in &rows {
                    tr {
                        td { (at(&j.created_at)) }
                        td { a href={"/admin/users/" (j.user_id) "/"} { (j.username) } }
                        td class={"status " (j.status)} { (j.status) }
                        td { (j.model_name) }
                        td { (j.cost_usd.map(|c| format!("${c:.4}")).unwrap_or_default()) }
                        td { (j.retry_count) }
                        td { (j.error_message) }
                        td {
                            @if j.status == JobStatus::Failed {
                                (button_form(&format!("/admin/jobs/{}/retry/", j.id), csrf, "Retry", "retry"))
                            }
                        }
                    }
                }
            }
        }
        @if rows.is_empty() { p.muted { "No job." } }
    };
    Ok(html_response(
        StatusCode::OK,
        layout(
            "Vision jobs",
            Some(&staff.frame()),
            q.notice.as_deref(),
            body,
        ),
    ))
}

/// `POST /admin/jobs/{id}/retry/`.
pub async fn retry(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<String>,
    form: Form<CsrfForm>,
) -> AdminResult<HttpResponse> {
    staff.check_csrf(&form.csrf)?;
    let id = id_of(&id)?;
    let mut conn = state.db.get().await?;
    let outcome = admin::retry_job(&mut conn, &staff.actor(), id).await?;
    drop(conn);
    Ok(finish(&state, outcome, "/admin/jobs/").await)
}

/// The retry-all form.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetryFailedForm {
    csrf: String,
    since: String,
}

/// `POST /admin/jobs/retry-failed/`.
pub async fn retry_failed(
    state: web::Data<AppState>,
    staff: Staff,
    form: Form<RetryFailedForm>,
) -> AdminResult<HttpResponse> {
    staff.check_csrf(&form.csrf)?;
    let since = super::cli::parse_since(&form.since, Utc::now())
        .map_err(|e| AdminError::BadRequest(e.to_string()))?;
    let mut conn = state.db.get().await?;
    let outcome = admin::retry_failed_since(&mut conn, &staff.actor(), since).await?;
    drop(conn);
    Ok(finish(&state, outcome, "/admin/jobs/").await)
}
