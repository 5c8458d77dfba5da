//! Registration, login, tokens, profiles and their permissions.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp};

#[tokio::test]
async fn the_clients_register_and_login_bodies_work() {
    let app = TestApp::spawn().await;
    // Exactly what create_account.gd sends.
    let (status, body) = app
        .post_as(
            "/api/v1/users/",
            None,
            json!({"username": "alice", "email": "Alice@Example.COM", "password": "s3cure-Passw0rd", "password_confirm": "s3cure-Passw0rd"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["username"], "alice");
    assert_eq!(body["email"], "Alice@example.com", "domain lower-cased");
    assert_eq!(body["friend_code"].as_str().unwrap().len(), 8);
    assert_eq!(body["badges"], json!([]));
    assert_eq!(body["avatar"], Value::Null);
    assert_eq!(body["profile"]["total_catches"], 0);
    assert_eq!(body["profile"]["preferred_card_style"], json!({}));
    assert!(body["created_at"].as_str().unwrap().ends_with('Z'));
    assert!(body.get("password").is_none() && body.get("access").is_none());

    // login.gd: surrounding whitespace is trimmed, as DRF did.
    let (status, body) = app.login(" alice ", "s3cure-Passw0rd").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["user"]["username"], "alice");
    let access = body["access"].as_str().unwrap();
    let (status, me) = app.get_as("/api/v1/users/me/", access).await;
    assert_eq!(status, 200);
    assert_eq!(me["email"], "Alice@example.com");
    // New users start with no friends (no admin auto-friendship).
    let (_, friends) = app.get_as("/api/v1/social/friendships/", access).await;
    assert_eq!(friends["count"], 0);
}

#[tokio::test]
async fn registration_reports_every_field_problem_with_drf_messages() {
    let app = TestApp::spawn().await;
    let (status, body) = app.post_as("/api/v1/users/", None, json!({})).await;
    assert_eq!(status, 400);
    for f in ["username", "email", "password", "password_confirm"] {
        assert_eq!(body[f], json!(["This field is required."]), "{f}");
    }
    assert!(
        body.get("detail").is_none(),
        "field errors carry no detail key"
    );

    let (status, body) = app
        .post_as(
            "/api/v1/users/",
            None,
            json!({"username": "bad name!", "email": "nope", "password": "1234", "password_confirm": "1234"}),
        )
        .await;
    assert_eq!(status, 400);
    assert!(
        body["username"][0]
            .as_str()
            .unwrap()
            .starts_with("Enter a valid username.")
    );
    assert_eq!(body["email"], json!(["Enter a valid email address."]));
    let pw: Vec<&str> = body["password"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(pw.contains(&"This password is too short. It must contain at least 8 characters."));
    assert!(pw.contains(&"This password is entirely numeric."));

    let (_, body) = app
        .post_as(
            "/api/v1/users/",
            None,
            json!({"username": "bob", "email": "bob@x.io", "password": "password", "password_confirm": "password"}),
        )
        .await;
    assert_eq!(body["password"], json!(["This password is too common."]));

    let (status, body) = app
        .post_as(
            "/api/v1/users/",
            None,
            json!({"username": "bob", "email": "bob@x.io", "password": PASSWORD, "password_confirm": "other-pass-1"}),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(body, json!({"password": ["Password fields didn't match."]}));

    // Wrong types and unknown fields are field errors, never 500 or silently dropped.
    let (status, body) = app
        .post_as(
            "/api/v1/users/",
            None,
            json!({"username": 5, "email": "c@x.io", "password": PASSWORD, "password_confirm": PASSWORD, "is_staff": true}),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["username"], json!(["Not a valid string."]));
    assert_eq!(body["is_staff"], json!(["Unknown field."]));
    let (status, body) = app.post_as("/api/v1/users/", None, json!(["a"])).await;
    assert_eq!(status, 400);
    assert!(
        body["non_field_errors"][0]
            .as_str()
            .unwrap()
            .contains("Expected a dictionary")
    );
    let res = app
        .client
        .post(app.url("/api/v1/users/"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert!(
        res.json::<Value>().await.unwrap()["detail"]
            .as_str()
            .unwrap()
            .starts_with("JSON parse error")
    );
}

#[tokio::test]
async fn usernames_are_unique_and_emails_unique_ignoring_case() {
    let app = TestApp::spawn().await;
    assert_eq!(app.register("carol").await.0, 201);
    let (status, body) = app
        .post_as(
            "/api/v1/users/",
            None,
            json!({"username": "carol", "email": "CAROL@example.com", "password": PASSWORD, "password_confirm": PASSWORD}),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(
        body["username"],
        json!(["A user with that username already exists."])
    );
    let (status, body) = app
        .post_as(
            "/api/v1/users/",
            None,
            json!({"username": "carol2", "email": "CAROL@example.com", "password": PASSWORD, "password_confirm": PASSWORD}),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(
        body,
        json!({"email": ["User with this email address already exists."]})
    );
    // Usernames are case-sensitive, as on the old server.
    assert_eq!(app.register("Carol").await.0, 400, "email collides");
}

#[tokio::test]
async fn bad_logins_are_401_with_the_contract_body() {
    let app = TestApp::spawn().await;
    app.register("dave").await;
    for (user, pw) in [
        ("dave", "wrong-password"),
        ("nobody", PASSWORD),
        ("Dave", PASSWORD),
    ] {
        let res = app
            .send(
                Method::POST,
                "/api/v1/auth/login/",
                None,
                Some(&json!({"username": user, "password": pw})),
            )
            .await;
        assert_eq!(res.status(), 401);
        assert_eq!(res.headers()["www-authenticate"], r#"Bearer realm="api""#);
        assert_eq!(
            res.json::<Value>().await.unwrap(),
            json!({"detail": "No active account found with the given credentials"})
        );
    }
    let (status, body) = app.post_as("/api/v1/auth/login/", None, json!({})).await;
    assert_eq!(status, 400);
    assert_eq!(
        body,
        json!({"username": ["This field is required."], "password": ["This field is required."]})
    );
    app.sql("UPDATE users SET is_active = false WHERE username = 'dave'")
        .await;
    assert_eq!(
        app.login("dave", PASSWORD).await.0,
        401,
        "inactive accounts cannot log in"
    );
}

#[tokio::test]
async fn refresh_keeps_the_presented_token_valid_until_logout() {
    let app = TestApp::spawn().await;
    let u = app.user("erin").await;
    // token_manager.gd re-sends its login refresh token at every start
    // (docs/wire-compatibility.md#m1).
    for _ in 0..3 {
        let (status, body) = app
            .post_as("/api/v1/auth/refresh/", None, json!({"refresh": u.refresh}))
            .await;
        assert_eq!(status, 200, "{body}");
        assert!(body["access"].is_string() && body["refresh"].is_string());
        let (status, _) = app
            .get_as("/api/v1/users/me/", body["access"].as_str().unwrap())
            .await;
        assert_eq!(status, 200);
    }
    let (_, rotated) = app
        .post_as("/api/v1/auth/refresh/", None, json!({"refresh": u.refresh}))
        .await;

    // Logout revokes the whole family: the login token and every rotated one.
    let (status, _) = app
        .post_as("/api/v1/auth/logout/", None, json!({"refresh": u.refresh}))
        .await;
    assert_eq!(status, 200);
    for token in [u.refresh.as_str(), rotated["refresh"].as_str().unwrap()] {
        let (status, body) = app
            .post_as("/api/v1/auth/refresh/", None, json!({"refresh": token}))
            .await;
        assert_eq!(status, 401);
        assert_eq!(
            body,
            json!({"detail": "Token is blacklisted", "code": "token_not_valid"})
        );
    }
    // Other logins of the same user are untouched.
    let (_, other) = app.login("erin", PASSWORD).await;
    let (status, _) = app
        .post_as(
            "/api/v1/auth/refresh/",
            None,
            json!({"refresh": other["refresh"]}),
        )
        .await;
    assert_eq!(status, 200);

    let (status, body) = app
        .post_as("/api/v1/auth/refresh/", None, json!({"refresh": "garbage"}))
        .await;
    assert_eq!(status, 401);
    assert_eq!(
        body,
        json!({"detail": "Token is invalid", "code": "token_not_valid"})
    );
    let (status, _) = app
        .post_as(
            "/api/v1/auth/refresh/",
            None,
            json!({"refresh": other["access"]}),
        )
        .await;
    assert_eq!(status, 401, "an access token is not a refresh token");
    let (status, body) = app.post_as("/api/v1/auth/refresh/", None, json!({})).await;
    assert_eq!(
        (status, body),
        (400, json!({"refresh": ["This field is required."]}))
    );
}

fn tamper(token: &str) -> String {
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    let sig = parts[2].clone();
    let last = if sig.ends_with('A') { 'B' } else { 'A' };
    parts[2] = format!("{}{last}", &sig[..sig.len() - 1]);
    parts.join(".")
}

#[tokio::test]
async fn invalid_access_tokens_are_401_even_on_public_endpoints() {
    let app = TestApp::spawn_with(&[("JWT_ACCESS_TOKEN_LIFETIME_MINUTES", "0")]).await;
    let u = app.user("frank").await;
    let payload = u.access.split('.').nth(1).unwrap().to_owned();
    let alg_none = format!("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{payload}.");
    let wrong_key = {
        let other = api::auth::jwt::Jwt::new(b"another-secret-another-secret-000");
        let claims: Value = serde_json::from_slice(&base64_decode(&payload)).unwrap();
        let id = uuid::Uuid::parse_str(claims["user_id"].as_str().unwrap()).unwrap();
        other
            .issue(
                api::auth::jwt::TokenType::Access,
                id.into(),
                uuid::Uuid::new_v4(),
                std::time::Duration::from_secs(600),
            )
            .unwrap()
            .0
    };
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let cases = [
        (u.access.clone(), "Token is expired"),
        (tamper(&u.access), "Token is invalid"),
        (alg_none, "Token is invalid"),
        (wrong_key, "Token is invalid"),
        (u.refresh.clone(), "Token is invalid"),
    ];
    for (token, message) in cases {
        let res = app
            .send(Method::GET, "/api/v1/users/me/", Some(&token), None)
            .await;
        assert_eq!(res.status(), 401);
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["code"], "token_not_valid");
        assert_eq!(body["messages"][0]["message"], message);
    }
    let (status, body) = app.call(Method::GET, "/api/v1/users/me/", None, None).await;
    assert_eq!(status, 401);
    assert_eq!(
        body,
        json!({"detail": "Authentication credentials were not provided."})
    );
}

fn base64_decode(s: &str) -> Vec<u8> {
    // JWT segments are unpadded base64url.
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut bits = 0u32;
    let mut n = 0;
    let mut out = Vec::new();
    for c in s.bytes() {
        let v = alphabet.iter().position(|&a| a == c).unwrap() as u32;
        bits = (bits << 6) | v;
        n += 6;
        if n >= 8 {
            n -= 8;
            out.push((bits >> n) as u8);
        }
    }
    out
}

#[tokio::test]
async fn other_users_are_visible_without_email_and_cannot_be_edited() {
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;

    let (status, list) = app.get_as("/api/v1/users/", &alice.access).await;
    assert_eq!(status, 200);
    assert_eq!(list["count"], 2);
    for u in list["results"].as_array().unwrap() {
        assert_eq!(u.get("email").is_some(), u["username"] == "alice", "{u}");
    }
    let bob_path = format!("/api/v1/users/{}/", bob.id);
    let (status, other) = app.get_as(&bob_path, &alice.access).await;
    assert_eq!(status, 200);
    assert!(other.get("email").is_none());
    assert_eq!(other["username"], "bob");

    // IDOR: alice may not edit, delete or recompute bob.
    for method in [Method::PUT, Method::PATCH] {
        let (status, body) = app
            .call(
                method,
                &bob_path,
                Some(&alice.access),
                Some(json!({"bio": "pwned"})),
            )
            .await;
        assert_eq!(status, 403, "{body}");
    }
    assert_eq!(
        app.call(Method::DELETE, &bob_path, Some(&alice.access), None)
            .await
            .0,
        403
    );
    let stats = format!("/api/v1/users/{}/update_stats/", bob.id);
    assert_eq!(
        app.post_as(&stats, Some(&alice.access), json!({})).await.0,
        403
    );
    let (_, fresh) = app.get_as(&bob_path, &bob.access).await;
    assert_eq!(fresh["bio"], "");

    // Staff may.
    app.sql("UPDATE users SET is_staff = true WHERE username = 'alice'")
        .await;
    let (status, _) = app
        .call(
            Method::PATCH,
            &bob_path,
            Some(&alice.access),
            Some(json!({"bio": "hi"})),
        )
        .await;
    assert_eq!(status, 200);

    // Malformed ids are 404, never 500.
    for bad in [
        "/api/v1/users/not-a-uuid/",
        "/api/v1/users/123/update_stats/",
    ] {
        let (status, body) = app.call(Method::GET, bad, Some(&alice.access), None).await;
        assert!(status == 404 || status == 405, "{bad}: {status} {body}");
    }
    let (status, body) = app.get_as("/api/v1/users/not-a-uuid/", &alice.access).await;
    assert_eq!((status, body), (404, json!({"detail": "Not found."})));
    let (status, _) = app
        .post_as(
            "/api/v1/users/zzz/update_stats/",
            Some(&alice.access),
            json!({}),
        )
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn users_edit_and_delete_themselves() {
    let app = TestApp::spawn().await;
    let u = app.user("gina").await;
    let path = format!("/api/v1/users/{}/", u.id);
    let (status, body) = app
        .call(
            Method::PATCH,
            &path,
            Some(&u.access),
            Some(json!({"bio": "  birder  ", "preferred_card_style": {"theme": "forest"}, "avatar": null})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!({"bio": "birder", "avatar": null, "preferred_card_style": {"theme": "forest"}})
    );
    let (_, body) = app
        .call(
            Method::PUT,
            &path,
            Some(&u.access),
            Some(json!({"bio": "x".repeat(501)})),
        )
        .await;
    assert_eq!(
        body,
        json!({"bio": ["Ensure this field has no more than 500 characters."]})
    );
    let (_, body) = app
        .call(
            Method::PUT,
            &path,
            Some(&u.access),
            Some(json!({"avatar": "http://evil/x.png"})),
        )
        .await;
    assert!(body["avatar"][0].as_str().unwrap().contains("not a file"));
    // `/users/me/` is read-only (the list route shadows the detail route).
    let (status, body) = app
        .call(
            Method::PATCH,
            "/api/v1/users/me/",
            Some(&u.access),
            Some(json!({})),
        )
        .await;
    assert_eq!(
        (status, body),
        (405, json!({"detail": "Method \"PATCH\" not allowed."}))
    );

    let (status, body) = app.call(Method::DELETE, &path, Some(&u.access), None).await;
    assert_eq!((status, body), (204, Value::Null));
    assert_eq!(
        app.get_as("/api/v1/users/me/", &u.access).await.0,
        401,
        "deleted users' tokens die"
    );
}

#[tokio::test]
async fn friend_codes_are_shown_and_looked_up_case_insensitively() {
    let app = TestApp::spawn().await;
    let a = app.user("hank").await;
    let b = app.user("iris").await;
    let (status, mine) = app.get_as("/api/v1/users/friend_code/", &b.access).await;
    assert_eq!(status, 200);
    assert_eq!(mine["username"], "iris");
    let code = mine["friend_code"].as_str().unwrap().to_owned();
    assert!(
        code.chars()
            .all(|c| "ABCDEFGHJKMNPQRSTUVWXYZ23456789".contains(c)),
        "{code}"
    );

    let (status, found) = app
        .post_as(
            "/api/v1/users/lookup_friend_code/",
            Some(&a.access),
            json!({"friend_code": code.to_lowercase()}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        found,
        json!({"id": b.id, "username": "iris", "avatar": null})
    );
    // Codes imported from the old server used A–Z0–9.
    app.sql("UPDATE users SET friend_code = 'TEST0001' WHERE username = 'iris'")
        .await;
    let (status, _) = app
        .post_as(
            "/api/v1/users/lookup_friend_code/",
            Some(&a.access),
            json!({"friend_code": "test0001"}),
        )
        .await;
    assert_eq!(status, 200);

    let (status, body) = app
        .post_as(
            "/api/v1/users/lookup_friend_code/",
            Some(&a.access),
            json!({"friend_code": "ZZZZZZZZ"}),
        )
        .await;
    assert_eq!(status, 404);
    assert_eq!(body["error"], "No user found with this friend code");
    assert_eq!(body["detail"], "No user found with this friend code");
    let (status, body) = app
        .post_as(
            "/api/v1/users/lookup_friend_code/",
            Some(&a.access),
            json!({"friend_code": "abc"}),
        )
        .await;
    assert_eq!(
        (status, body),
        (
            400,
            json!({"friend_code": ["Ensure this field has at least 8 characters."]})
        )
    );
    let (_, body) = app
        .post_as(
            "/api/v1/users/lookup_friend_code/",
            Some(&a.access),
            json!({"friend_code": "abcdefghi"}),
        )
        .await;
    assert_eq!(
        body,
        json!({"friend_code": ["Ensure this field has no more than 8 characters."]})
    );
}

#[tokio::test]
async fn update_stats_recounts_and_resets_the_last_catch_date() {
    let app = TestApp::spawn().await;
    let u = app.user("jade").await;
    app.sql(&format!(
        "WITH a AS (INSERT INTO animals (scientific_name, common_name) VALUES ('Vulpes vulpes', 'Red fox'), ('Felis catus', 'Cat') RETURNING id) \
         INSERT INTO dex_entries (owner_id, animal_id, catch_date) \
         SELECT '{}', a.id, t FROM a, (VALUES (timestamptz '2026-01-01T10:00:00Z'), (timestamptz '2026-02-01T10:00:00Z')) v(t)",
        u.id
    ))
    .await;
    let (status, body) = app
        .post_as("/api/v1/users/me/update_stats/", Some(&u.access), json!({}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["profile"]["total_catches"], 4);
    assert_eq!(body["profile"]["unique_species"], 2);
    assert_eq!(body["profile"]["last_catch_date"], "2026-02-01T10:00:00Z");
    app.sql("DELETE FROM dex_entries").await;
    let path = format!("/api/v1/users/{}/update_stats/", u.id);
    let (_, body) = app.post_as(&path, Some(&u.access), json!({})).await;
    assert_eq!(body["profile"]["total_catches"], 0);
    assert_eq!(body["profile"]["last_catch_date"], Value::Null);
}

#[tokio::test]
async fn a_django_pbkdf2_user_logs_in_and_is_upgraded_to_argon2id() {
    let app = TestApp::spawn().await;
    // Django's format; the digest was computed independently with Python's
    // hashlib.pbkdf2_hmac('sha256', b'testpass123', b'oldsalt123', 1000).
    let digest = "RG8qMS9Cc49a7++Zh1T6aTnhwUURXJb+ViymQFmlCsg=";
    app.sql(&format!(
        "WITH u AS (INSERT INTO users (username, email, password_hash, friend_code) \
                    VALUES ('olduser', 'old@example.com', 'pbkdf2_sha256$1000$oldsalt123${digest}', 'OLD00001') RETURNING id) \
         INSERT INTO user_profiles (user_id) SELECT id FROM u"
    ))
    .await;
    assert_eq!(app.login("olduser", "wrong-pass-1").await.0, 401);
    let (status, body) = app.login("olduser", "testpass123").await;
    assert_eq!(status, 200, "{body}");
    let mut conn = app.state.db.get().await.unwrap();
    let user = biologidex_db::models::accounts::User::find_by_username(&mut conn, "olduser")
        .await
        .unwrap()
        .unwrap();
    assert!(
        user.password_hash.starts_with("$argon2id$"),
        "{}",
        user.password_hash
    );
    assert_eq!(
        app.login("olduser", "testpass123").await.0,
        200,
        "still logs in after the upgrade"
    );
}

#[tokio::test]
async fn changing_the_password_revokes_every_old_token() {
    let app = TestApp::spawn().await;
    let u = app.user("kim").await;
    let (status, body) = app
        .post_as(
            "/api/v1/users/me/password/",
            Some(&u.access),
            json!({"old_password": "not-it-at-all", "new_password": "brand-new-pass-7"}),
        )
        .await;
    assert_eq!(status, 400);
    assert!(
        body["old_password"][0]
            .as_str()
            .unwrap()
            .contains("incorrectly")
    );
    let (status, body) = app
        .post_as(
            "/api/v1/users/me/password/",
            Some(&u.access),
            json!({"old_password": PASSWORD, "new_password": "brand-new-pass-7", "new_password_confirm": "brand-new-pass-7"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        app.get_as("/api/v1/users/me/", &u.access).await.0,
        401,
        "old access token refused"
    );
    let (status, _) = app
        .post_as("/api/v1/auth/refresh/", None, json!({"refresh": u.refresh}))
        .await;
    assert_eq!(status, 401, "old refresh token refused");
    assert_eq!(
        app.get_as("/api/v1/users/me/", body["access"].as_str().unwrap())
            .await
            .0,
        200
    );
    assert_eq!(app.login("kim", PASSWORD).await.0, 401);
    assert_eq!(app.login("kim", "brand-new-pass-7").await.0, 200);
}

#[tokio::test]
async fn create_superuser_makes_a_staff_account_that_can_log_in() {
    let app = TestApp::spawn().await;
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_biologidex-api"))
        .args([
            "create-superuser",
            "--username",
            "root",
            "--email",
            "root@example.com",
            "--password",
            "super-secret-99",
        ])
        .env_clear()
        .env("DATABASE_URL", app.db.url())
        .env(
            "SECRET_KEY",
            "a-long-enough-secret-key-for-tests-0123456789",
        )
        .current_dir(std::env::temp_dir())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (status, body) = app.login("root", "super-secret-99").await;
    assert_eq!(status, 200, "{body}");
    let mut conn = app.state.db.get().await.unwrap();
    let user = biologidex_db::models::accounts::User::find_by_username(&mut conn, "root")
        .await
        .unwrap()
        .unwrap();
    assert!(user.is_staff && user.is_superuser);
    // Running it again for the same name fails clearly instead of duplicating.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_biologidex-api"))
        .args([
            "create-superuser",
            "--username",
            "root",
            "--email",
            "r2@example.com",
            "--password",
            "super-secret-99",
        ])
        .env_clear()
        .env("DATABASE_URL", app.db.url())
        .env(
            "SECRET_KEY",
            "a-long-enough-secret-key-for-tests-0123456789",
        )
        .current_dir(std::env::temp_dir())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("already exists"));
}
