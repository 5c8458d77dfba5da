//! The console's own cookie session (not the API's JWTs, docs/decisions.md#d26): login form,
//! logout, the `Staff` extractor and CSRF tokens. The cookie holds 256 random bits; the database
//! keeps only their SHA-256, the user and the session's CSRF token. Every request re-reads the
//! user, so a session ends as soon as its user is deactivated or loses staff.

use std::{future::Future, pin::Pin};

use super::form::Form;
use actix_web::{
    FromRequest, HttpRequest, HttpResponse,
    cookie::{Cookie, SameSite, time::Duration as CookieDuration},
    dev::Payload,
    web,
};
use biologidex_core::domain::password::{self, Verified};
use biologidex_db::models::{
    accounts::User,
    admin::{self, Actor},
};
use chrono::Utc;
use maud::html;
use rand::Rng;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::page::{AdminError, AdminResult, html_response, layout, see_other};
use crate::{
    state::AppState,
    throttle::{self, Scope},
    urls,
};

/// The session cookie.
pub const COOKIE: &str = "bdx_admin";
/// The login form's CSRF cookie (there is no session yet to hold its token).
const LOGIN_COOKIE: &str = "bdx_admin_login";
/// How long a console session lasts.
const SESSION_HOURS: i64 = 12;

fn random_token() -> String {
    let bytes: [u8; 32] = rand::rng().random();
    hex::encode(bytes)
}

fn digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Constant-time comparison of two tokens.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

fn state_of(req: &HttpRequest) -> AdminResult<web::Data<AppState>> {
    req.app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| AdminError::Internal(anyhow::anyhow!("AppState missing")))
}

/// `Secure` cookies whenever the client reached us over TLS (directly or through a trusted
/// proxy).
fn over_tls(req: &HttpRequest, state: &AppState) -> bool {
    urls::base_url(req, &state.settings).starts_with("https://")
}

fn cookie<'a>(name: &'a str, value: String, secure: bool, max_age: CookieDuration) -> Cookie<'a> {
    Cookie::build(name, value)
        .path("/admin/")
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Strict)
        .max_age(max_age)
        .finish()
}

/// A signed-in staff member.
#[derive(Debug, Clone)]
pub struct Staff {
    pub id: biologidex_core::ids::UserId,
    pub username: String,
    pub csrf: String,
}

impl Staff {
    /// The audit trail's name for this staff member.
    pub fn actor(&self) -> Actor {
        Actor {
            id: Some(self.id),
            name: self.username.clone(),
        }
    }

    /// Refuses a form whose CSRF token is not this session's.
    pub fn check_csrf(&self, token: &str) -> AdminResult<()> {
        if same(&self.csrf, token) {
            Ok(())
        } else {
            Err(AdminError::Forbidden(
                "The form's security token is missing or stale; reload the page and try again."
                    .to_owned(),
            ))
        }
    }

    /// The page frame for this staff member.
    pub fn frame(&self) -> super::page::Frame<'_> {
        super::page::Frame {
            username: &self.username,
            csrf: &self.csrf,
        }
    }
}

fn next_of(req: &HttpRequest) -> String {
    // After login, come back here (GET only: a form post cannot be replayed).
    if req.method() == actix_web::http::Method::GET {
        req.uri()
            .path_and_query()
            .map_or_else(|| "/admin/".to_owned(), ToString::to_string)
    } else {
        "/admin/".to_owned()
    }
}

async fn load_staff(req: HttpRequest) -> AdminResult<Staff> {
    let state = state_of(&req)?;
    let Some(token) = req.cookie(COOKIE).map(|c| c.value().to_owned()) else {
        return Err(AdminError::Login(next_of(&req)));
    };
    let hash = digest(&token);
    let mut conn = state.db.get().await?;
    let Some(s) = admin::find_session(&mut conn, &hash).await? else {
        return Err(AdminError::Login(next_of(&req)));
    };
    if !s.is_active || !s.is_staff {
        admin::delete_session(&mut conn, &hash).await?;
        return Err(AdminError::Forbidden(
            "The console is for staff only; this session has ended.".to_owned(),
        ));
    }
    Ok(Staff {
        id: s.user_id,
        username: s.username,
        csrf: s.csrf_token,
    })
}

impl FromRequest for Staff {
    type Error = AdminError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        Box::pin(load_staff(req.clone()))
    }
}

/// `?next=` of the login form.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NextQuery {
    #[serde(default)]
    next: Option<String>,
}

/// Only console paths are followed after login (no open redirect).
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with("/admin/") && !n.starts_with("//") && !n.contains('\\') => {
            n.to_owned()
        }
        _ => "/admin/".to_owned(),
    }
}

fn login_page(
    next: &str,
    csrf: &str,
    error: Option<&str>,
    status: actix_web::http::StatusCode,
) -> HttpResponse {
    let body = html! {
        @if let Some(e) = error { p.error role="alert" { (e) } }
        form.login method="post" action="/admin/login/" {
            input type="hidden" name="csrf" value=(csrf);
            input type="hidden" name="next" value=(next);
            label { "Username" input name="username" autocomplete="username" required autofocus; }
            label { "Password" input type="password" name="password" autocomplete="current-password" required; }
            button type="submit" { "Log in" }
        }
    };
    html_response(status, layout("Log in", None, None, body))
}

/// `GET /admin/login/`: the form, with a fresh login CSRF cookie.
pub async fn login_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<NextQuery>,
) -> HttpResponse {
    let csrf = random_token();
    let mut res = login_page(
        &safe_next(q.next.as_deref()),
        &csrf,
        None,
        actix_web::http::StatusCode::OK,
    );
    let c = cookie(
        LOGIN_COOKIE,
        csrf,
        over_tls(&req, &state),
        CookieDuration::hours(1),
    );
    if let Err(e) = res.add_cookie(&c) {
        tracing::warn!(error = %e, "login cookie not set");
    }
    res
}

/// The login form's fields.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginForm {
    csrf: String,
    username: String,
    password: String,
    #[serde(default)]
    next: Option<String>,
}

/// `POST /admin/login/`: staff only, under the login rate limit.
pub async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: Form<LoginForm>,
) -> AdminResult<HttpResponse> {
    let form = form.into_inner();
    let expected = req.cookie(LOGIN_COOKIE).map(|c| c.value().to_owned());
    if !expected.is_some_and(|e| same(&e, &form.csrf)) {
        return Err(AdminError::Forbidden(
            "The login form expired; reload it and try again.".to_owned(),
        ));
    }
    let ip = urls::client_ip(&req, &state.settings)
        .map_or_else(|| "unknown".to_owned(), |ip| ip.to_string());
    let scope = Scope {
        key: format!("throttle:admin-login:{ip}"),
        rate: state.settings.throttle_login,
    };
    match throttle::count(&state, &[scope]).await {
        Ok(Some(wait)) => return Err(AdminError::Throttled(wait)),
        Ok(None) => {}
        Err(e) => tracing::warn!(error = %e, "console login limit skipped: redis unavailable"),
    }
    let next = safe_next(form.next.as_deref());
    let mut conn = state.db.get().await?;
    let user = User::find_by_username(&mut conn, &form.username).await?;
    let stored = user.as_ref().map(|u| u.password_hash.clone());
    let pw = form.password.clone();
    let verified = biologidex_core::cpu::run(move || match stored {
        Some(stored) => password::verify(&pw, &stored),
        None => {
            password::verify_dummy(&pw);
            Verified::Mismatch
        }
    })
    .await
    .map_err(|e| AdminError::Internal(anyhow::anyhow!("{e}")))?;
    let user = match (user, verified) {
        (Some(u), Verified::Ok | Verified::OkNeedsUpgrade) if u.is_active => u,
        _ => {
            return Ok(login_page(
                &next,
                &form.csrf,
                Some("Wrong username or password."),
                actix_web::http::StatusCode::UNAUTHORIZED,
            ));
        }
    };
    if !user.is_staff {
        tracing::info!(user.id = %user.id, "console login refused: not staff");
        return Err(AdminError::Forbidden(
            "The console is for staff only.".to_owned(),
        ));
    }
    let token = random_token();
    let csrf = random_token();
    admin::create_session(
        &mut conn,
        &digest(&token),
        user.id,
        &csrf,
        Utc::now() + chrono::Duration::hours(SESSION_HOURS),
    )
    .await?;
    tracing::info!(user.id = %user.id, "console login");
    let secure = over_tls(&req, &state);
    let mut res = see_other(&next);
    res.add_cookie(&cookie(
        COOKIE,
        token,
        secure,
        CookieDuration::hours(SESSION_HOURS),
    ))
    .map_err(|e| AdminError::Internal(anyhow::anyhow!("{e}")))?;
    res.add_removal_cookie(&cookie(
        LOGIN_COOKIE,
        String::new(),
        secure,
        CookieDuration::ZERO,
    ))
    .map_err(|e| AdminError::Internal(anyhow::anyhow!("{e}")))?;
    Ok(res)
}

/// A form that carries nothing but its CSRF token.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CsrfForm {
    pub csrf: String,
}

/// `POST /admin/logout/`.
pub async fn logout(
    state: web::Data<AppState>,
    req: HttpRequest,
    staff: Staff,
    form: Form<CsrfForm>,
) -> AdminResult<HttpResponse> {
    staff.check_csrf(&form.csrf)?;
    if let Some(c) = req.cookie(COOKIE) {
        let mut conn = state.db.get().await?;
        admin::delete_session(&mut conn, &digest(c.value())).await?;
    }
    let mut res = see_other("/admin/login/");
    res.add_removal_cookie(&cookie(
        COOKIE,
        String::new(),
        over_tls(&req, &state),
        CookieDuration::ZERO,
    ))
    .map_err(|e| AdminError::Internal(anyhow::anyhow!("{e}")))?;
    Ok(res)
}
