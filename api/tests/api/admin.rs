//! The operators' console (`/admin/`): every page and action as staff, as a normal user (403)
//! and anonymously (redirect to the login form), CSRF rejection, the cookie's flags, the login
//! limit, audit rows, and the command-line twins of the actions.

use std::process::Command;

use reqwest::header;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::helpers::{PASSWORD, TestApp, TestUser};

/// A browser-less console client: the session cookie and the page's CSRF token.
pub struct Console {
    pub cookie: String,
    pub csrf: String,
}

/// The value of `name` in a response's `Set-Cookie` headers.
fn set_cookie(res: &reqwest::Response, name: &str) -> Option<(String, String)> {
    res.headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(|v| {
            let value = v
                .split(';')
                .next()
                .unwrap_or_default()
                .trim_start_matches(&format!("{name}="))
                .to_owned();
            (value, v.to_owned())
        })
}

/// The first CSRF token of a page.
pub fn csrf_of(html: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let start = html.find(marker).expect("csrf field") + marker.len();
    html[start..start + 64].to_owned()
}

/// Makes `username` (registered) staff.
pub async fn make_staff(app: &TestApp, username: &str) {
    app.sql(&format!(
        "UPDATE users SET is_staff = true WHERE username = '{username}'"
    ))
    .await;
}

/// Posts the login form; returns the response.
async fn post_login(app: &TestApp, username: &str, password: &str) -> reqwest::Response {
    let form = app.get("/admin/login/").await;
    assert_eq!(form.status(), 200);
    let (login_cookie, _) = set_cookie(&form, "bdx_admin_login").expect("login cookie");
    let html = form.text().await.unwrap();
    app.client
        .post(app.url("/admin/login/"))
        .header(header::COOKIE, format!("bdx_admin_login={login_cookie}"))
        .form(&[
            ("csrf", csrf_of(&html).as_str()),
            ("username", username),
            ("password", password),
            ("next", "/admin/users/"),
        ])
        .send()
        .await
        .unwrap()
}

/// Registers `username`, makes them staff and signs in through the login form.
pub async fn staff_console(app: &TestApp, username: &str) -> (TestUser, Console) {
    let user = app.user(username).await;
    make_staff(app, username).await;
    let res = post_login(app, username, PASSWORD).await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()[header::LOCATION], "/admin/users/");
    let (cookie, _) = set_cookie(&res, "bdx_admin").expect("session cookie");
    let mut console = Console {
        cookie,
        csrf: String::new(),
    };
    let (status, html) = get_page(app, &console, "/admin/").await;
    assert_eq!(status, 200, "{html}");
    console.csrf = csrf_of(&html);
    (user, console)
}

/// A console session of a user who is not staff (as if staff had been removed meanwhile).
async fn non_staff_console(app: &TestApp, user: &TestUser) -> Console {
    let token = format!("{:064x}", rand_u128());
    let hash = hex::encode(Sha256::digest(token.as_bytes()));
    let csrf = format!("{:064x}", rand_u128());
    app.sql(&format!(
        "INSERT INTO admin_sessions (token_hash, user_id, csrf_token, expires_at) \
         VALUES ('{hash}', '{}', '{csrf}', now() + interval '1 hour')",
        user.id
    ))
    .await;
    Console {
        cookie: token,
        csrf,
    }
}

fn rand_u128() -> u128 {
    u128::from_le_bytes(*uuid::Uuid::new_v4().as_bytes())
}

pub async fn get_page(app: &TestApp, c: &Console, path: &str) -> (u16, String) {
    let res = app
        .client
        .get(app.url(path))
        .header(header::COOKIE, format!("bdx_admin={}", c.cookie))
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.text().await.unwrap())
}

pub async fn post_form(
    app: &TestApp,
    c: &Console,
    path: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let mut all = vec![("csrf", c.csrf.as_str())];
    all.extend_from_slice(fields);
    app.client
        .post(app.url(path))
        .header(header::COOKIE, format!("bdx_admin={}", c.cookie))
        .form(&all)
        .send()
        .await
        .unwrap()
}

/// Posts and follows the 303 to the page it names; returns that page.
async fn act(app: &TestApp, c: &Console, path: &str, fields: &[(&str, &str)]) -> String {
    let res = post_form(app, c, path, fields).await;
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
    let to = res.headers()[header::LOCATION].to_str().unwrap().to_owned();
    let (status, html) = get_page(app, c, &to).await;
    assert_eq!(status, 200, "{html}");
    html
}

/// Rows of `admin_audit_log` for an object: (actor, action).
async fn audit_rows(app: &TestApp, object_id: &str) -> Vec<(String, String)> {
    use biologidex_db::schema::admin_audit_log as a;
    use diesel::{ExpressionMethods, QueryDsl};
    use diesel_async::RunQueryDsl;
    let mut conn = app.state.db.get().await.unwrap();
    a::table
        .filter(a::object_id.eq(object_id))
        .order(a::id)
        .select((a::actor_name, a::action))
        .load(&mut conn)
        .await
        .unwrap()
}

async fn scalar(app: &TestApp, sql: &str) -> String {
    use diesel_async::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct V {
        #[diesel(sql_type = diesel::sql_types::Text)]
        v: String,
    }
    let mut conn = app.state.db.get().await.unwrap();
    let row: V = diesel::sql_query(format!("SELECT ({sql})::text AS v"))
        .get_result(&mut conn)
        .await
        .unwrap();
    row.v
}

/// Every GET page with a real id in it.
async fn pages(app: &TestApp, user: &TestUser, animal: &str) -> Vec<String> {
    let _ = app;
    vec![
        "/admin/".to_owned(),
        "/admin/audit/".to_owned(),
        "/admin/users/".to_owned(),
        "/admin/users/?q=ali".to_owned(),
        format!("/admin/users/{}/", user.id),
        "/admin/animals/".to_owned(),
        "/admin/animals/?q=vulpes&unverified=on".to_owned(),
        format!("/admin/animals/{animal}/"),
        "/admin/entries/".to_owned(),
        format!("/admin/entries/?user={}", user.id),
        "/admin/jobs/".to_owned(),
        "/admin/jobs/?status=failed".to_owned(),
        "/admin/taxonomy/".to_owned(),
        "/admin/system/".to_owned(),
    ]
}

/// Every action, with fields that would pass.
fn actions(
    user: &TestUser,
    animal: &str,
    other: &str,
) -> Vec<(String, Vec<(&'static str, String)>)> {
    let u = &user.id;
    let zero = "00000000-0000-0000-0000-000000000000";
    vec![
        (
            format!("/admin/users/{u}/active/"),
            vec![("active", "false".into())],
        ),
        (
            format!("/admin/users/{u}/staff/"),
            vec![("staff", "true".into())],
        ),
        (format!("/admin/users/{u}/password/"), vec![]),
        (
            format!("/admin/users/{u}/delete/"),
            vec![("confirm", "yes".into())],
        ),
        (
            format!("/admin/animals/{animal}/edit/"),
            vec![
                ("scientific_name", "Vulpes vulpes".into()),
                ("common_name", "Red fox".into()),
                ("kingdom", String::new()),
                ("phylum", String::new()),
                ("class_name", String::new()),
                ("order_name", String::new()),
                ("family", String::new()),
                ("genus", String::new()),
                ("species", String::new()),
                ("conservation_status", String::new()),
            ],
        ),
        (format!("/admin/animals/{animal}/verify/"), vec![]),
        (
            format!("/admin/animals/{animal}/merge/"),
            vec![("into", other.to_owned())],
        ),
        (format!("/admin/entries/{zero}/hide/"), vec![]),
        (
            format!("/admin/entries/{zero}/delete/"),
            vec![("confirm", "yes".into())],
        ),
        (
            "/admin/jobs/retry-failed/".to_owned(),
            vec![("since", "24h".into())],
        ),
        (format!("/admin/jobs/{zero}/retry/"), vec![]),
        (
            "/admin/taxonomy/import/".to_owned(),
            vec![("path", "/nonexistent".into())],
        ),
        ("/admin/logout/".to_owned(), vec![]),
    ]
}

#[tokio::test]
async fn anonymous_visitors_are_sent_to_the_login_form() {
    let app = TestApp::spawn().await;
    let u = app.user("alice").await;
    let animal = app.animal(&u, "Vulpes vulpes").await;
    let other = app.animal(&u, "Vulpes lagopus").await;
    for path in pages(&app, &u, &animal).await {
        let res = app.get(&path).await;
        assert_eq!(res.status(), 303, "{path}");
        let to = res.headers()[header::LOCATION].to_str().unwrap().to_owned();
        assert!(
            to.starts_with("/admin/login/?next=%2Fadmin%2F"),
            "{path} → {to}"
        );
        assert!(
            res.headers()[header::CONTENT_SECURITY_POLICY]
                .to_str()
                .unwrap()
                .contains("default-src 'none'")
        );
    }
    for (path, fields) in actions(&u, &animal, &other) {
        let mut form: Vec<(&str, &str)> = vec![("csrf", "x")];
        form.extend(fields.iter().map(|(k, v)| (*k, v.as_str())));
        let res = app
            .client
            .post(app.url(&path))
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303, "{path}");
    }
    // Nothing happened.
    assert_eq!(
        scalar(&app, "SELECT count(*) FROM admin_audit_log").await,
        "0"
    );
    let login = app.get("/admin/login/").await;
    assert_eq!(login.status(), 200);
    let html = login.text().await.unwrap();
    assert!(html.contains("name=\"password\""), "{html}");
    assert!(!html.contains("<script"), "no script on console pages");
}

#[tokio::test]
async fn normal_users_get_403_everywhere_and_cannot_sign_in() {
    let app = TestApp::spawn().await;
    let u = app.user("bob").await;
    let animal = app.animal(&u, "Vulpes vulpes").await;
    let other = app.animal(&u, "Vulpes lagopus").await;

    let res = post_login(&app, "bob", PASSWORD).await;
    assert_eq!(res.status(), 403);
    assert!(
        set_cookie(&res, "bdx_admin").is_none(),
        "no session for non-staff"
    );

    for path in pages(&app, &u, &animal).await {
        let c = non_staff_console(&app, &u).await;
        let (status, html) = get_page(&app, &c, &path).await;
        assert_eq!(status, 403, "{path}: {html}");
        // The session ended with the 403: the next request is anonymous.
        let (status, _) = get_page(&app, &c, &path).await;
        assert_eq!(status, 303, "{path}");
    }
    for (path, fields) in actions(&u, &animal, &other) {
        let c = non_staff_console(&app, &u).await;
        let f: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let res = post_form(&app, &c, &path, &f).await;
        assert_eq!(res.status(), 403, "{path}");
    }
    assert_eq!(
        scalar(&app, "SELECT count(*) FROM admin_audit_log").await,
        "0"
    );
    // Still active: nothing was done to bob.
    let (status, _) = app.login("bob", PASSWORD).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn staff_see_every_page_with_a_strict_policy() {
    let app = TestApp::spawn().await;
    let (_, c) = staff_console(&app, "root").await;
    let u = app.user("alice").await;
    let animal = app.animal(&u, "Vulpes vulpes").await;
    let job = app.job_with_image(&u, 3).await;
    app.sql(&format!(
        "UPDATE analysis_jobs SET status = 'failed', error_message = 'The provider rejected the key.', \
         cost_usd = 0.002, model_name = 'gpt-4o-mini' WHERE id = '{job}'"
    ))
    .await;
    for path in pages(&app, &u, &animal).await {
        let res = app
            .client
            .get(app.url(&path))
            .header(header::COOKIE, format!("bdx_admin={}", c.cookie))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{path}");
        let csp = res.headers()[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            csp.contains("default-src 'none'") && csp.contains("form-action 'self'"),
            "{csp}"
        );
        assert_eq!(res.headers()[header::CACHE_CONTROL], "no-store");
        let html = res.text().await.unwrap();
        assert!(html.contains("href=\"/admin/static/admin.css\""), "{path}");
        assert!(
            !html.contains("<script") && !html.contains("style=\""),
            "{path}"
        );
        // Every form carries this session's CSRF token.
        assert_eq!(
            html.matches("method=\"post\"").count(),
            html.matches(&format!("name=\"csrf\" value=\"{}\"", c.csrf))
                .count(),
            "{path}"
        );
    }
    let (_, html) = get_page(&app, &c, "/admin/users/?q=alice@example").await;
    assert!(
        html.contains(">alice</a>") && !html.contains(">root</a>"),
        "{html}"
    );
    let (_, html) = get_page(&app, &c, "/admin/jobs/?status=failed").await;
    assert!(html.contains("The provider rejected the key."), "{html}");
    assert!(
        html.contains("<svg") && html.contains("gpt-4o-mini"),
        "{html}"
    );
    let (_, html) = get_page(&app, &c, "/admin/system/").await;
    assert!(
        html.contains("vision.process-analysis") && html.contains("reap_vision_jobs"),
        "{html}"
    );
    assert!(
        html.contains("PostgreSQL") && html.contains(">up<"),
        "{html}"
    );
    let css = app.get("/admin/static/admin.css").await;
    assert_eq!(css.status(), 200);
    assert!(
        css.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/css")
    );
    let missing = get_page(&app, &c, "/admin/nope/").await;
    assert_eq!(missing.0, 404);
}

#[tokio::test]
async fn the_session_cookie_is_strict_and_secure_behind_tls_and_logout_ends_it() {
    let app = TestApp::spawn_with(&[("TRUSTED_PROXIES", "127.0.0.1")]).await;
    app.user("root").await;
    make_staff(&app, "root").await;
    // Over plain HTTP: no Secure flag (the cookie would never come back).
    let res = post_login(&app, "root", PASSWORD).await;
    let (_, raw) = set_cookie(&res, "bdx_admin").unwrap();
    let lower = raw.to_lowercase();
    assert!(
        lower.contains("httponly") && lower.contains("samesite=strict"),
        "{raw}"
    );
    assert!(
        lower.contains("path=/admin/") && !lower.contains("secure"),
        "{raw}"
    );
    // Through a TLS-terminating proxy: Secure.
    let form = app
        .client
        .get(app.url("/admin/login/"))
        .header("X-Forwarded-Proto", "https")
        .send()
        .await
        .unwrap();
    let (login_cookie, raw) = set_cookie(&form, "bdx_admin_login").unwrap();
    assert!(raw.to_lowercase().contains("secure"), "{raw}");
    let html = form.text().await.unwrap();
    let res = app
        .client
        .post(app.url("/admin/login/"))
        .header("X-Forwarded-Proto", "https")
        .header(header::COOKIE, format!("bdx_admin_login={login_cookie}"))
        .form(&[
            ("csrf", csrf_of(&html).as_str()),
            ("username", "root"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()[header::LOCATION], "/admin/");
    let (cookie, raw) = set_cookie(&res, "bdx_admin").unwrap();
    assert!(raw.to_lowercase().contains("; secure"), "{raw}");
    assert_eq!(
        scalar(
            &app,
            "SELECT count(*) FROM admin_sessions WHERE token_hash = token_hash"
        )
        .await,
        "2"
    );
    // The database holds a digest, not the cookie.
    assert_eq!(
        scalar(
            &app,
            &format!("SELECT count(*) FROM admin_sessions WHERE token_hash = '{cookie}'")
        )
        .await,
        "0"
    );
    let mut c = Console {
        cookie,
        csrf: String::new(),
    };
    let (_, html) = get_page(&app, &c, "/admin/").await;
    c.csrf = csrf_of(&html);
    let res = post_form(&app, &c, "/admin/logout/", &[]).await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()[header::LOCATION], "/admin/login/");
    let (status, _) = get_page(&app, &c, "/admin/").await;
    assert_eq!(status, 303, "logged out");
}

#[tokio::test]
async fn forms_without_the_sessions_csrf_token_are_refused() {
    let app = TestApp::spawn().await;
    let (_, c) = staff_console(&app, "root").await;
    let u = app.user("alice").await;
    let forged = Console {
        cookie: c.cookie.clone(),
        csrf: "0".repeat(64),
    };
    let res = post_form(
        &app,
        &forged,
        &format!("/admin/users/{}/active/", u.id),
        &[("active", "false")],
    )
    .await;
    assert_eq!(res.status(), 403);
    let missing = app
        .client
        .post(app.url(&format!("/admin/users/{}/active/", u.id)))
        .header(header::COOKIE, format!("bdx_admin={}", c.cookie))
        .form(&[("active", "false")])
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 400, "the token is a required field");
    let unknown = post_form(
        &app,
        &c,
        &format!("/admin/users/{}/active/", u.id),
        &[("active", "false"), ("extra", "1")],
    )
    .await;
    assert_eq!(unknown.status(), 400, "unknown fields are refused");
    assert_eq!(
        scalar(&app, "SELECT count(*) FROM admin_audit_log").await,
        "0"
    );
    let (status, _) = app.login("alice", PASSWORD).await;
    assert_eq!(status, 200, "alice is still active");
    // The login form needs its own token (cookie and field).
    let res = app
        .client
        .post(app.url("/admin/login/"))
        .form(&[
            ("csrf", "abc"),
            ("username", "root"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
}

#[tokio::test]
async fn console_logins_are_rate_limited() {
    let app = TestApp::spawn_with(&[("THROTTLE_LOGIN_RATE", "3/minute")]).await;
    app.user("root").await;
    make_staff(&app, "root").await;
    for _ in 0..3 {
        let res = post_login(&app, "root", "wrong-password-1").await;
        assert_eq!(res.status(), 401);
    }
    let res = post_login(&app, "root", PASSWORD).await;
    assert_eq!(res.status(), 429);
    assert!(res.headers().contains_key(header::RETRY_AFTER));
}

#[tokio::test]
async fn deactivation_revokes_every_token_and_is_audited() {
    let app = TestApp::spawn().await;
    let (_, c) = staff_console(&app, "root").await;
    let u = app.user("alice").await;
    let html = act(
        &app,
        &c,
        &format!("/admin/users/{}/active/", u.id),
        &[("active", "false")],
    )
    .await;
    assert!(html.contains("is_active true -&gt; false"), "{html}");
    assert!(
        html.contains("user.deactivate") && html.contains("root"),
        "audit shown: {html}"
    );
    let (status, _) = app.login("alice", PASSWORD).await;
    assert_eq!(status, 401, "cannot log in");
    let (status, _) = app.get_as("/api/v1/users/me/", &u.access).await;
    assert_eq!(status, 401, "the access token is refused");
    let (status, _) = app
        .post_as("/api/v1/auth/refresh/", None, json!({"refresh": u.refresh}))
        .await;
    assert_eq!(status, 401, "the refresh token is refused");
    // Reactivated: a fresh login works, the old tokens stay dead.
    act(
        &app,
        &c,
        &format!("/admin/users/{}/active/", u.id),
        &[("active", "true")],
    )
    .await;
    let (status, _) = app.login("alice", PASSWORD).await;
    assert_eq!(status, 200);
    let (status, _) = app.get_as("/api/v1/users/me/", &u.access).await;
    assert_eq!(status, 401);
    assert_eq!(
        audit_rows(&app, &u.id).await,
        vec![
            ("root".to_owned(), "user.deactivate".to_owned()),
            ("root".to_owned(), "user.activate".to_owned())
        ]
    );
    let before = scalar(
        &app,
        &format!(
            "SELECT before->>'is_active' || '/' || (after->>'is_active') FROM admin_audit_log \
         WHERE object_id = '{}' ORDER BY id LIMIT 1",
            u.id
        ),
    )
    .await;
    assert_eq!(before, "true/false");
}

#[tokio::test]
async fn staff_sessions_end_when_staff_is_removed_or_the_account_deactivated() {
    let app = TestApp::spawn().await;
    let (_, root) = staff_console(&app, "root").await;
    let (other_user, other) = staff_console(&app, "carol").await;
    act(
        &app,
        &root,
        &format!("/admin/users/{}/staff/", other_user.id),
        &[("staff", "false")],
    )
    .await;
    let (status, _) = get_page(&app, &other, "/admin/").await;
    assert_eq!(status, 303, "the session row is gone");
    act(
        &app,
        &root,
        &format!("/admin/users/{}/staff/", other_user.id),
        &[("staff", "true")],
    )
    .await;
    let (_, again) = {
        let res = post_login(&app, "carol", PASSWORD).await;
        let (cookie, _) = set_cookie(&res, "bdx_admin").unwrap();
        (
            (),
            Console {
                cookie,
                csrf: String::new(),
            },
        )
    };
    let (status, _) = get_page(&app, &again, "/admin/").await;
    assert_eq!(status, 200);
    // A demotion made in SQL (or by the CLI of another deployment) is seen on the next request.
    app.sql("UPDATE users SET is_staff = false WHERE username = 'carol'")
        .await;
    let (status, _) = get_page(&app, &again, "/admin/").await;
    assert_eq!(status, 403);
    app.sql("UPDATE users SET is_staff = true WHERE username = 'carol'")
        .await;
    let (status, _) = get_page(&app, &again, "/admin/").await;
    assert_eq!(status, 303, "that session ended for good");
}

#[tokio::test]
async fn a_new_password_is_shown_once_and_replaces_the_old_one() {
    let app = TestApp::spawn().await;
    let (_, c) = staff_console(&app, "root").await;
    let u = app.user("alice").await;
    let res = post_form(&app, &c, &format!("/admin/users/{}/password/", u.id), &[]).await;
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    let marker = "id=\"new-password\">";
    let start = html.find(marker).unwrap() + marker.len();
    let pw = &html[start..start + html[start..].find('<').unwrap()];
    assert_eq!(pw.len(), 20);
    let (status, _) = app.login("alice", PASSWORD).await;
    assert_eq!(status, 401);
    let (status, _) = app.login("alice", pw).await;
    assert_eq!(status, 200);
    let (status, _) = app.get_as("/api/v1/users/me/", &u.access).await;
    assert_eq!(status, 401, "old tokens revoked");
    let (_, page) = get_page(&app, &c, &format!("/admin/users/{}/", u.id)).await;
    assert!(
        page.contains("user.set_password") && !page.contains(pw),
        "never shown again"
    );
}

#[tokio::test]
async fn deleting_a_user_needs_the_confirmation_and_is_audited() {
    let app = TestApp::spawn().await;
    let (me, c) = staff_console(&app, "root").await;
    let u = app.user("alice").await;
    let path = format!("/admin/users/{}/delete/", u.id);
    let res = post_form(&app, &c, &path, &[]).await;
    assert_eq!(res.status(), 400, "unconfirmed");
    let res = post_form(
        &app,
        &c,
        &format!("/admin/users/{}/delete/", me.id),
        &[("confirm", "yes")],
    )
    .await;
    assert_eq!(res.status(), 400, "not oneself");
    let html = act(&app, &c, &path, &[("confirm", "yes")]).await;
    assert!(html.contains("user `alice` deleted"), "{html}");
    assert_eq!(
        scalar(&app, "SELECT count(*) FROM users WHERE username = 'alice'").await,
        "0"
    );
    assert_eq!(
        audit_rows(&app, &u.id).await,
        vec![("root".to_owned(), "user.delete".to_owned())]
    );
    let (status, _) = get_page(&app, &c, &format!("/admin/users/{}/", u.id)).await;
    assert_eq!(status, 404);
}

/// Creates an entry of `animal` for `who`; returns its id.
async fn entry(app: &TestApp, who: &TestUser, animal: &str, seed: u8) -> String {
    let job = app.job_with_image(who, seed).await;
    let (s, body) = app
        .post_as(
            "/api/v1/dex/entries/",
            Some(&who.access),
            json!({"animal": animal, "source_vision_job": job, "visibility": "public"}),
        )
        .await;
    assert_eq!(s, 201, "{body}");
    body["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn animals_are_edited_verified_and_merged_with_counters_kept_right() {
    let app = TestApp::spawn().await;
    let (_, c) = staff_console(&app, "root").await;
    let u = app.user("alice").await;
    let dup = app.animal(&u, "Vulpes vulgaris").await;
    let real = app.animal(&u, "Vulpes vulpes").await;
    entry(&app, &u, &dup, 1).await;
    entry(&app, &u, &real, 2).await;
    let job = app.job_with_image(&u, 3).await;
    app.sql(&format!(
        "UPDATE analysis_jobs SET identified_animal_id = '{dup}', detected_animals = \
         '[{{\"animal_id\": \"{dup}\", \"scientific_name\": \"Vulpes vulgaris\"}}]' WHERE id = '{job}'"
    ))
    .await;
    let (_, me) = app.get_as("/api/v1/users/me/", &u.access).await;
    assert_eq!(me["profile"]["total_catches"], 2, "{me}");
    assert_eq!(me["profile"]["unique_species"], 2);

    let (_, list) = get_page(&app, &c, "/admin/animals/").await;
    assert!(list.find("Vulpes vulgaris").is_some());
    let html = act(&app, &c, &format!("/admin/animals/{real}/verify/"), &[]).await;
    assert!(html.contains("animal.verify"), "{html}");
    let (_, list) = get_page(&app, &c, "/admin/animals/").await;
    assert!(
        list.find("Vulpes vulgaris").unwrap() < list.find("Vulpes vulpes").unwrap(),
        "unverified first"
    );
    let html = act(
        &app,
        &c,
        &format!("/admin/animals/{real}/edit/"),
        &[
            ("scientific_name", "Vulpes  vulpes"),
            ("common_name", "Red fox"),
            ("kingdom", "Animalia"),
            ("phylum", "Chordata"),
            ("class_name", "Mammalia"),
            ("order_name", "Carnivora"),
            ("family", "Canidae"),
            ("genus", "Vulpes"),
            ("species", "vulpes"),
            ("conservation_status", "LC"),
        ],
    )
    .await;
    assert!(
        html.contains("animal.edit") && html.contains("Canidae"),
        "{html}"
    );
    assert_eq!(
        scalar(
            &app,
            &format!("SELECT family FROM animals WHERE id = '{real}'")
        )
        .await,
        "Canidae"
    );

    // Values the columns cannot hold are a 400, not a database error.
    let long = "x".repeat(201);
    for (field, value) in [("common_name", long.as_str()), ("family", "Cani\0dae")] {
        let mut fields = vec![
            ("scientific_name", "Vulpes vulpes"),
            ("common_name", "Red fox"),
            ("kingdom", "Animalia"),
            ("phylum", "Chordata"),
            ("class_name", "Mammalia"),
            ("order_name", "Carnivora"),
            ("family", "Canidae"),
            ("genus", "Vulpes"),
            ("species", "vulpes"),
            ("conservation_status", "LC"),
        ];
        for f in fields.iter_mut().filter(|f| f.0 == field) {
            f.1 = value;
        }
        let res = post_form(&app, &c, &format!("/admin/animals/{real}/edit/"), &fields).await;
        assert_eq!(res.status(), 400, "{field}");
    }
    let res = post_form(
        &app,
        &c,
        &format!("/admin/animals/{real}/merge/"),
        &[("into", &real)],
    )
    .await;
    assert_eq!(res.status(), 400, "not into itself");
    let res = post_form(
        &app,
        &c,
        &format!("/admin/animals/{dup}/merge/"),
        &[("into", "00000000-0000-0000-0000-000000000000")],
    )
    .await;
    assert_eq!(res.status(), 404);
    let html = act(
        &app,
        &c,
        &format!("/admin/animals/{dup}/merge/"),
        &[("into", &real)],
    )
    .await;
    assert!(html.contains("1 entries and 1 jobs moved"), "{html}");
    assert!(html.contains("animal.merge_into"), "{html}");
    assert_eq!(
        scalar(
            &app,
            &format!("SELECT count(*) FROM animals WHERE id = '{dup}'")
        )
        .await,
        "0"
    );
    assert_eq!(
        scalar(
            &app,
            &format!("SELECT count(*) FROM dex_entries WHERE animal_id = '{real}'")
        )
        .await,
        "2"
    );
    assert_eq!(
        scalar(
            &app,
            &format!(
                "SELECT detected_animals->0->>'animal_id' FROM analysis_jobs WHERE id = '{job}'"
            )
        )
        .await,
        real
    );
    let (_, me) = app.get_as("/api/v1/users/me/", &u.access).await;
    assert_eq!(me["profile"]["total_catches"], 2);
    assert_eq!(me["profile"]["unique_species"], 1, "{me}");
    assert_eq!(
        audit_rows(&app, &dup).await,
        vec![("root".to_owned(), "animal.merge".to_owned())]
    );
}

#[tokio::test]
async fn entries_are_hidden_or_deleted_with_the_owners_counters_updated() {
    let app = TestApp::spawn().await;
    let (_, c) = staff_console(&app, "root").await;
    let u = app.user("alice").await;
    let b = app.user("bob").await;
    let fox = app.animal(&u, "Vulpes vulpes").await;
    let owl = app.animal(&u, "Bubo bubo").await;
    let e1 = entry(&app, &u, &fox, 1).await;
    let e2 = entry(&app, &u, &owl, 2).await;
    let (_, page) = get_page(&app, &c, "/admin/entries/?user=alice").await;
    assert!(
        page.contains("Vulpes vulpes") && page.contains("Bubo bubo"),
        "{page}"
    );
    let (_, page) = get_page(&app, &c, &format!("/admin/entries/?animal={owl}")).await;
    assert!(
        !page.contains("Vulpes vulpes") && page.contains("Bubo bubo"),
        "{page}"
    );

    let (status, _) = app
        .get_as(&format!("/api/v1/dex/entries/{e1}/"), &b.access)
        .await;
    assert_eq!(status, 200, "public at first");
    act(&app, &c, &format!("/admin/entries/{e1}/hide/"), &[]).await;
    let (status, _) = app
        .get_as(&format!("/api/v1/dex/entries/{e1}/"), &b.access)
        .await;
    assert_eq!(status, 404, "hidden from others");
    let (status, _) = app
        .get_as(&format!("/api/v1/dex/entries/{e1}/"), &u.access)
        .await;
    assert_eq!(status, 200, "the owner still sees it");

    let res = post_form(&app, &c, &format!("/admin/entries/{e2}/delete/"), &[]).await;
    assert_eq!(res.status(), 400, "unconfirmed");
    let html = act(
        &app,
        &c,
        &format!("/admin/entries/{e2}/delete/"),
        &[("confirm", "yes")],
    )
    .await;
    assert!(
        html.contains("entry.delete") && html.contains("entry.hide"),
        "{html}"
    );
    let (_, me) = app.get_as("/api/v1/users/me/", &u.access).await;
    assert_eq!(me["profile"]["total_catches"], 1, "{me}");
    assert_eq!(me["profile"]["unique_species"], 1);
    assert_eq!(
        audit_rows(&app, &e2).await,
        vec![("root".to_owned(), "entry.delete".to_owned())]
    );
    let res = post_form(
        &app,
        &c,
        &format!("/admin/entries/{e2}/delete/"),
        &[("confirm", "yes")],
    )
    .await;
    assert_eq!(res.status(), 404);
}

#[tokio::test]
async fn failed_jobs_are_retried_one_or_all_of_a_period() {
    let app = TestApp::spawn().await;
    let (_, c) = staff_console(&app, "root").await;
    let u = app.user("alice").await;
    let old = app.job_with_image(&u, 1).await;
    let recent = app.job_with_image(&u, 2).await;
    let single = app.job_with_image(&u, 3).await;
    let done = app.job_with_image(&u, 4).await;
    app.sql(&format!(
        "UPDATE analysis_jobs SET status = 'failed', error_message = 'x' WHERE id IN ('{old}', '{recent}', '{single}')"
    ))
    .await;
    app.sql(&format!(
        "UPDATE analysis_jobs SET created_at = now() - interval '3 days' WHERE id = '{old}'"
    ))
    .await;
    let res = post_form(&app, &c, &format!("/admin/jobs/{done}/retry/"), &[]).await;
    assert_eq!(res.status(), 400, "only failed jobs");
    act(&app, &c, &format!("/admin/jobs/{single}/retry/"), &[]).await;
    assert_eq!(
        scalar(
            &app,
            &format!("SELECT status FROM analysis_jobs WHERE id = '{single}'")
        )
        .await,
        "pending"
    );
    let res = post_form(&app, &c, "/admin/jobs/retry-failed/", &[("since", "soon")]).await;
    assert_eq!(res.status(), 400);
    let html = act(&app, &c, "/admin/jobs/retry-failed/", &[("since", "24h")]).await;
    assert!(html.contains("1 failed vision jobs since"), "{html}");
    assert_eq!(
        scalar(
            &app,
            &format!("SELECT status FROM analysis_jobs WHERE id = '{recent}'")
        )
        .await,
        "pending"
    );
    assert_eq!(
        scalar(
            &app,
            &format!("SELECT status FROM analysis_jobs WHERE id = '{old}'")
        )
        .await,
        "failed"
    );
    assert_eq!(
        audit_rows(&app, &recent).await,
        vec![("root".to_owned(), "job.retry".to_owned())]
    );
    assert_eq!(
        scalar(
            &app,
            "SELECT count(*) FROM admin_audit_log WHERE action = 'job.retry_failed'"
        )
        .await,
        "1"
    );
    // The retried job was pushed to the vision queue.
    let depth = biologidex_core::jobs::queue_counts(
        &app.state.redis,
        &app.state.settings.redis_key_prefix,
        biologidex_core::jobs::Queue::Vision,
    )
    .await
    .unwrap();
    assert_eq!(depth.waiting, 2);
}

#[tokio::test]
async fn imports_are_started_from_a_server_path_and_listed() {
    let app = TestApp::spawn().await;
    let (_, c) = staff_console(&app, "root").await;
    let res = post_form(
        &app,
        &c,
        "/admin/taxonomy/import/",
        &[("path", "relative/path")],
    )
    .await;
    assert_eq!(res.status(), 400);
    let sample = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/testdata/coldp-sample")
        .canonicalize()
        .unwrap();
    let res = post_form(
        &app,
        &c,
        "/admin/taxonomy/import/",
        &[("path", sample.to_str().unwrap())],
    )
    .await;
    assert_eq!(res.status(), 303);
    let to = res.headers()[header::LOCATION].to_str().unwrap().to_owned();
    assert!(to.contains("queued"), "{to}");
    let page = app
        .client
        .get(app.url("/admin/taxonomy/"))
        .header(header::COOKIE, format!("bdx_admin={}", c.cookie))
        .send()
        .await
        .unwrap();
    assert_eq!(
        page.headers()["refresh"],
        "5",
        "reloads while the import waits"
    );
    let html = page.text().await.unwrap();
    assert!(
        html.contains("coldp-sample")
            && html.contains("pending")
            && html.contains("taxonomy.import"),
        "{html}"
    );
    // Once a worker ran it, the history shows the counts.
    app.import_sample().await;
    app.sql("DELETE FROM taxonomy_import_jobs WHERE status = 'pending'")
        .await;
    let (_, html) = get_page(&app, &c, "/admin/taxonomy/").await;
    assert!(html.contains("completed"), "{html}");
}

// ---- the command line ----

fn cli(app: &TestApp, args: &[&str], password: Option<&str>) -> std::process::Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_biologidex-api"));
    cmd.args(args)
        .env_clear()
        .env("DATABASE_URL", app.db.url())
        .env("REDIS_URL", &app.state.settings.redis_url)
        .env("REDIS_KEY_PREFIX", &app.state.settings.redis_key_prefix)
        .env(
            "SECRET_KEY",
            "a-long-enough-secret-key-for-tests-0123456789",
        )
        .env("USER", "ops")
        .current_dir(std::env::temp_dir());
    if let Some(p) = password {
        cmd.env("BIOLOGIDEX_USER_PASSWORD", p);
    }
    cmd.output().unwrap()
}

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[tokio::test]
async fn the_cli_sets_active_staff_and_password_and_fails_on_unknown_users() {
    let app = TestApp::spawn().await;
    let u = app.user("alice").await;
    let out = cli(&app, &["user", "set-active", "alice", "false"], None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        stdout(&out).trim(),
        "user `alice`: is_active true -> false (every token revoked)"
    );
    let (status, _) = app.get_as("/api/v1/users/me/", &u.access).await;
    assert_eq!(status, 401);
    let (status, _) = app.login("alice", PASSWORD).await;
    assert_eq!(status, 401);
    let out = cli(&app, &["user", "set-active", "alice", "true"], None);
    assert!(out.status.success());
    let (status, _) = app.login("alice", PASSWORD).await;
    assert_eq!(status, 200);

    let out = cli(&app, &["user", "set-staff", "alice", "true"], None);
    assert_eq!(stdout(&out).trim(), "user `alice`: is_staff false -> true");
    assert_eq!(
        scalar(&app, "SELECT is_staff FROM users WHERE username = 'alice'").await,
        "true"
    );

    let out = cli(&app, &["user", "set-password", "alice"], Some("short"));
    assert!(!out.status.success(), "weak passwords are refused");
    let out = cli(&app, &["user", "set-password", "alice"], None);
    assert!(
        !out.status.success(),
        "no terminal, no variable: an error, not a hang"
    );
    let out = cli(
        &app,
        &["user", "set-password", "alice"],
        Some("a-brand-new-passphrase-7"),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout(&out).contains("password set"));
    let (status, _) = app.login("alice", "a-brand-new-passphrase-7").await;
    assert_eq!(status, 200);

    let out = cli(&app, &["user", "set-active", "nobody", "false"], None);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no user `nobody`"));
    let out = cli(&app, &["user", "set-staff", "alice", "maybe"], None);
    assert!(!out.status.success());

    let rows = audit_rows(&app, &u.id).await;
    let actions: Vec<&str> = rows.iter().map(|(_, a)| a.as_str()).collect();
    assert_eq!(
        actions,
        [
            "user.deactivate",
            "user.activate",
            "user.grant_staff",
            "user.set_password"
        ]
    );
    assert!(rows.iter().all(|(who, _)| who == "cli:ops"), "{rows:?}");
}

#[tokio::test]
async fn the_cli_retries_failed_jobs_and_merges_animals() {
    let app = TestApp::spawn().await;
    let u = app.user("alice").await;
    let job = app.job_with_image(&u, 1).await;
    app.sql(&format!(
        "UPDATE analysis_jobs SET status = 'failed' WHERE id = '{job}'"
    ))
    .await;
    let out = cli(&app, &["jobs", "retry-failed", "--since", "1h"], None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout(&out).starts_with("1 failed vision jobs since"),
        "{}",
        stdout(&out)
    );
    assert_eq!(
        scalar(
            &app,
            &format!("SELECT status FROM analysis_jobs WHERE id = '{job}'")
        )
        .await,
        "pending"
    );
    let out = cli(&app, &["jobs", "retry-failed", "--since", "whenever"], None);
    assert!(!out.status.success());

    let dup = app.animal(&u, "Vulpes vulgaris").await;
    let real = app.animal(&u, "Vulpes vulpes").await;
    entry(&app, &u, &dup, 2).await;
    let out = cli(&app, &["animals", "merge", &dup, &real], None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout(&out).contains("merged into `Vulpes vulpes`: 1 entries"),
        "{}",
        stdout(&out)
    );
    let out = cli(&app, &["animals", "merge", &dup, &real], None);
    assert!(!out.status.success(), "the duplicate is gone");
    assert!(String::from_utf8_lossy(&out.stderr).contains("no animal"));
    let out = cli(&app, &["animals", "merge", "not-an-id", &real], None);
    assert!(!out.status.success());
    assert_eq!(
        audit_rows(&app, &real).await,
        vec![("cli:ops".to_owned(), "animal.merge_into".to_owned())]
    );
}

#[tokio::test]
async fn the_root_page_names_the_server_and_links_onward() {
    let app = TestApp::spawn().await;
    let res = app.get("/").await;
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(res.headers().contains_key(header::CONTENT_SECURITY_POLICY));
    let html = res.text().await.unwrap();
    for link in [
        "/api/docs/",
        "/api/redoc/",
        "/admin/",
        "/health/",
        "/ready/",
        "/api/v1/health/",
    ] {
        assert!(html.contains(&format!("href=\"{link}\"")), "{link}: {html}");
    }
    assert!(html.contains(&app.state.settings.version), "{html}");
}
