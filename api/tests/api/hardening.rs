//! Hostile and careless input: every value PostgreSQL would refuse is a 4xx in the client's
//! error shapes (docs/wire-compatibility.md#error-shapes), bodies have caps, and limits and
//! permissions cannot be dodged.

use std::time::Duration;

use reqwest::{Method, multipart};
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp, TestUser, test_png};

const NUL: &str = "Null characters are not allowed.";

async fn status_json(res: reqwest::Response) -> (u16, Value) {
    let status = res.status().as_u16();
    let text = res.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

async fn multipart_as(
    app: &TestApp,
    path: &str,
    who: &TestUser,
    form: multipart::Form,
) -> (u16, Value) {
    status_json(app.post_multipart(path, who, form).await).await
}

fn png_part(seed: u8) -> multipart::Part {
    multipart::Part::bytes(test_png(40, 30, seed))
        .file_name("a.png")
        .mime_str("image/png")
        .unwrap()
}

#[tokio::test]
async fn hardening_nul_bytes_are_refused_in_every_body_and_query() {
    let app = TestApp::spawn().await;
    let ash = app.user("ash").await;
    let fox = app.animal(&ash, "Vulpes vulpes").await;

    let (s, b) = app
        .post_as(
            "/api/v1/auth/login/",
            None,
            json!({"username": "a\u{0}b", "password": PASSWORD}),
        )
        .await;
    assert_eq!((s, b), (400, json!({"username": [NUL]})));

    for path in [
        "/api/v1/animals/?search=%00",
        "/api/v1/taxonomy/search/?q=%00",
        "/api/v1/dex/entries/?search=x%00y",
        "/api/v1/dex/entries/sync_entries/?last_sync=%00",
    ] {
        let (s, b) = app.get_as(path, &ash.access).await;
        assert_eq!((s, b), (400, json!({"detail": NUL})), "{path}");
    }

    let me = format!("/api/v1/users/{}/", ash.id);
    let (s, b) = app
        .call(
            Method::PATCH,
            &me,
            Some(&ash.access),
            Some(json!({"bio": "x\u{0}"})),
        )
        .await;
    assert_eq!((s, b), (400, json!({"bio": [NUL]})));
    let (s, b) = app
        .call(
            Method::PATCH,
            &me,
            Some(&ash.access),
            Some(json!({"preferred_card_style": {"theme": ["dark\u{0}"]}})),
        )
        .await;
    assert_eq!((s, b), (400, json!({"preferred_card_style": [NUL]})));
    // A NUL in a key counts too.
    let (s, b) = app
        .call(
            Method::PATCH,
            &me,
            Some(&ash.access),
            Some(json!({"preferred_card_style": {"k\u{0}": 1}})),
        )
        .await;
    assert_eq!((s, b), (400, json!({"preferred_card_style": [NUL]})));

    let (s, b) = app
        .post_as(
            "/api/v1/animals/",
            Some(&ash.access),
            json!({"scientific_name": "Bufo\u{0} bufo", "common_name": "toad\u{0}"}),
        )
        .await;
    assert_eq!(
        (s, b),
        (400, json!({"scientific_name": [NUL], "common_name": [NUL]}))
    );
    let (s, b) = app
        .post_as(
            "/api/v1/dex/entries/",
            Some(&ash.access),
            json!({"animal": fox, "notes": "seen\u{0}"}),
        )
        .await;
    assert_eq!((s, b), (400, json!({"notes": [NUL]})));

    // Multipart text parts: the client's upload form.
    let form = multipart::Form::new()
        .text("animal", fox.clone())
        .text("notes", "a\u{0}")
        .part("original_image", png_part(1));
    let (s, b) = multipart_as(&app, "/api/v1/dex/entries/", &ash, form).await;
    assert_eq!((s, b), (400, json!({"notes": [NUL]})));

    // Nothing was written.
    let (_, list) = app.get_as("/api/v1/dex/entries/", &ash.access).await;
    assert_eq!(list["count"], 0, "{list}");
}

#[tokio::test]
async fn hardening_dates_outside_postgresqls_range_are_400() {
    let app = TestApp::spawn().await;
    let ash = app.user("ash").await;
    let fox = app.animal(&ash, "Vulpes vulpes").await;
    for raw in ["-5000-01-01T00:00:00", "%2B20000-01-01T00:00:00Z"] {
        let (s, b) = app
            .get_as(
                &format!("/api/v1/dex/entries/sync_entries/?last_sync={raw}"),
                &ash.access,
            )
            .await;
        assert_eq!(s, 400, "{raw}: {b}");
        assert_eq!(
            b["detail"], "Invalid last_sync format. Use ISO 8601 datetime.",
            "{b}"
        );
        let (s, b) = app
            .get_as(
                &format!(
                    "/api/v1/dex/entries/user/{}/entries/?last_sync={raw}",
                    ash.id
                ),
                &ash.access,
            )
            .await;
        assert_eq!(s, 400, "{raw}: {b}");
    }
    let (s, b) = app
        .post_as(
            "/api/v1/dex/entries/",
            Some(&ash.access),
            json!({"animal": fox, "catch_date": "-5000-01-01T00:00:00"}),
        )
        .await;
    assert_eq!(s, 400, "{b}");
    assert!(b["catch_date"].is_array(), "{b}");
    // A batch item with such a date is a bad item: a full sync, as for any unreadable date.
    let (s, b) = app
        .post_as(
            "/api/v1/dex/entries/batch_sync/",
            Some(&ash.access),
            json!({"sync_requests": [{"user_id": ash.id, "last_sync": "-5000-01-01T00:00:00"}]}),
        )
        .await;
    assert_eq!(s, 200, "{b}");
}

#[tokio::test]
async fn hardening_bodies_have_caps_answered_with_413() {
    let app = TestApp::spawn().await;
    let ash = app.user("ash").await;
    // Anonymous credential routes: a few KB.
    let big = "x".repeat(9 * 1024);
    for path in [
        "/api/v1/auth/login/",
        "/api/v1/users/",
        "/api/v1/auth/refresh/",
    ] {
        let (s, b) = app
            .post_as(path, None, json!({"username": big, "password": "p"}))
            .await;
        assert_eq!(
            (s, b),
            (413, json!({"detail": "Request body is too large."})),
            "{path}"
        );
    }
    // Other JSON routes: 1 MiB.
    let huge = "y".repeat(1024 * 1024 + 1);
    let (s, b) = app
        .post_as(
            "/api/v1/animals/",
            Some(&ash.access),
            json!({"scientific_name": "Bufo bufo", "description": huge}),
        )
        .await;
    assert_eq!(
        (s, b),
        (413, json!({"detail": "Request body is too large."}))
    );
    // Under the cap, a long description is fine.
    let (s, b) = app
        .post_as(
            "/api/v1/animals/",
            Some(&ash.access),
            json!({"scientific_name": "Bufo bufo", "common_name": "toad", "description": "z".repeat(100_000)}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    // The JSON form of an upload route has the JSON cap too.
    let (s, _) = app
        .post_as(
            "/api/v1/vision/jobs/",
            Some(&ash.access),
            json!({"detail_level": huge}),
        )
        .await;
    assert_eq!(s, 413);

    // The card style is sent with every user of a list: a few KB.
    let me = format!("/api/v1/users/{}/", ash.id);
    let style = json!({"theme": "t".repeat(5000)});
    let (s, b) = app
        .call(
            Method::PATCH,
            &me,
            Some(&ash.access),
            Some(json!({"preferred_card_style": style})),
        )
        .await;
    assert_eq!(s, 400, "{b}");
    assert!(b["preferred_card_style"].is_array(), "{b}");
    let (s, b) = app
        .call(
            Method::PATCH,
            &me,
            Some(&ash.access),
            Some(json!({"preferred_card_style": {"theme": "dark"}})),
        )
        .await;
    assert_eq!(s, 200, "{b}");
}

#[tokio::test]
async fn hardening_search_terms_and_multipart_parts_are_bounded() {
    let app = TestApp::spawn().await;
    let ash = app.user("ash").await;
    let many = ["a"; 11].join("+");
    for path in ["/api/v1/animals/", "/api/v1/dex/entries/"] {
        let (s, b) = app
            .get_as(&format!("{path}?search={many}"), &ash.access)
            .await;
        assert_eq!(s, 400, "{path}: {b}");
        assert!(b["search"].is_array(), "{b}");
        let (s, b) = app
            .get_as(&format!("{path}?search={}", "b".repeat(201)), &ash.access)
            .await;
        assert_eq!(s, 400, "{path}: {b}");
        let ten = ["a"; 10].join("+");
        let (s, b) = app
            .get_as(&format!("{path}?search={ten}"), &ash.access)
            .await;
        assert_eq!(s, 200, "{path}: {b}");
    }

    let mut form = multipart::Form::new().part("image", png_part(2));
    for i in 0..20 {
        form = form.text(format!("f{i}"), "x");
    }
    let (s, b) = multipart_as(&app, "/api/v1/images/convert/", &ash, form).await;
    assert_eq!(s, 400, "{b}");
    assert!(b["detail"].as_str().unwrap().contains("Too many"), "{b}");
    // Two files where one is expected.
    let form = multipart::Form::new()
        .part("image", png_part(3))
        .part("image", png_part(4));
    let (s, b) = multipart_as(&app, "/api/v1/images/convert/", &ash, form).await;
    assert_eq!(s, 400, "{b}");
    // A text part far larger than any field.
    let form = multipart::Form::new()
        .part("image", png_part(5))
        .text("transformations", "9".repeat(100 * 1024));
    let (s, b) = multipart_as(&app, "/api/v1/images/convert/", &ash, form).await;
    assert_eq!(s, 400, "{b}");
    assert!(b["transformations"].is_array(), "{b}");
}

#[tokio::test]
async fn hardening_truncated_photos_are_400() {
    let app = TestApp::spawn().await;
    let ash = app.user("ash").await;
    let img = image::RgbImage::from_fn(200, 150, |x, y| image::Rgb([x as u8, y as u8, 40]));
    let mut jpeg = Vec::new();
    img.write_with_encoder(image::codecs::jpeg::JpegEncoder::new_with_quality(
        &mut jpeg, 90,
    ))
    .unwrap();
    let png = test_png(64, 64, 9);
    for (name, bytes) in [
        ("half.jpg", jpeg[..jpeg.len() / 2].to_vec()),
        ("half.png", png[..png.len() / 2].to_vec()),
    ] {
        let form = multipart::Form::new().part(
            "image",
            multipart::Part::bytes(bytes).file_name(name.to_owned()),
        );
        let (s, b) = multipart_as(&app, "/api/v1/images/convert/", &ash, form).await;
        assert_eq!(s, 400, "{name}: {b}");
        assert!(b["image"].is_array(), "{b}");
    }
    let form =
        multipart::Form::new().part("image", multipart::Part::bytes(jpeg).file_name("whole.jpg"));
    let (s, b) = multipart_as(&app, "/api/v1/images/convert/", &ash, form).await;
    assert_eq!(s, 201, "{b}");
}

/// What the API sends to reach a `varchar` column, or why it never writes client text there.
enum Writer {
    /// A JSON field of this route; `Value` is the body with `{}` where the value goes.
    Json(&'static str, Method, &'static str),
    /// Only ever written with values the server chooses (ids, checksums, choices, names from
    /// the catalogue clipped to the column).
    Server,
}

fn writer(table: &str, column: &str) -> Option<Writer> {
    use Writer::{Json, Server};
    Some(match (table, column) {
        ("users", "username") => Json("/api/v1/users/", Method::POST, "username"),
        ("users", "email") => Json("/api/v1/users/", Method::POST, "email"),
        ("users", "first_name" | "last_name" | "friend_code" | "avatar") => Server,
        ("animals", "scientific_name") => Json("/api/v1/animals/", Method::POST, "scientific_name"),
        ("animals", "common_name") => Json("/api/v1/animals/", Method::POST, "common_name"),
        ("animals", "order_name") => Json("/api/v1/animals/", Method::POST, "order"),
        ("animals", "kingdom") => Json("/api/v1/animals/", Method::POST, "kingdom"),
        ("animals", "phylum") => Json("/api/v1/animals/", Method::POST, "phylum"),
        ("animals", "class_name") => Json("/api/v1/animals/", Method::POST, "class_name"),
        ("animals", "family") => Json("/api/v1/animals/", Method::POST, "family"),
        ("animals", "genus") => Json("/api/v1/animals/", Method::POST, "genus"),
        ("animals", "species") => Json("/api/v1/animals/", Method::POST, "species"),
        ("animals", "conservation_status") => {
            Json("/api/v1/animals/", Method::POST, "conservation_status")
        }
        (
            "animals",
            "subfamily"
            | "subspecies"
            | "establishment_means"
            | "taxonomy_source"
            | "taxonomy_source_url"
            | "verification_method",
        ) => Server,
        ("analysis_jobs", "detail_level") => Json("JOB", Method::PATCH, "detail_level"),
        ("analysis_jobs", "model_name") => Json("/api/v1/vision/jobs/", Method::POST, "model_name"),
        ("analysis_jobs", "cv_method") => Json("/api/v1/vision/jobs/", Method::POST, "cv_method"),
        ("analysis_jobs", "image_token" | "image_conversion_status" | "status") => Server,
        ("dex_entries", "location_name") => {
            Json("/api/v1/dex/entries/", Method::POST, "location_name")
        }
        ("dex_entries", "visibility") => Json("/api/v1/dex/entries/", Method::POST, "visibility"),
        ("dex_entries", "image_token" | "image_checksum") => Server,
        ("friendships", "status") => Server,
        ("stored_images", "checksum" | "content_type") => Server,
        ("image_conversions", "original_format" | "checksum") => Server,
        ("dex_entry_removals", "reason" | "visibility") => Server,
        ("__diesel_schema_migrations", "version") => Server,
        // Bookkeeping of `import-django`, written only by that command.
        (
            "django_import_runs"
            | "django_import_media"
            | "django_import_rejects"
            | "django_import_ids",
            _,
        ) => Server,
        // The console writes these from server-side values (actions, object kinds, hashes).
        ("admin_audit_log" | "admin_sessions", _) => Server,
        // The catalogue is written only by `import-col`, never through the API.
        (
            "taxa"
            | "taxon_common_names"
            | "taxon_distributions"
            | "taxon_name_relations"
            | "taxonomic_ranks"
            | "taxonomy_import_jobs"
            | "taxonomy_sources",
            _,
        ) => Server,
        _ => return None,
    })
}

#[derive(diesel::QueryableByName)]
struct Col {
    #[diesel(sql_type = diesel::sql_types::Text)]
    table_name: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    column_name: String,
    #[diesel(sql_type = diesel::sql_types::Integer)]
    max: i32,
}

#[tokio::test]
async fn hardening_every_varchar_limit_is_enforced_by_the_api_with_its_own_field_error() {
    use diesel_async::RunQueryDsl;
    let app = TestApp::spawn().await;
    let ash = app.user("ash").await;
    let fox = app.animal(&ash, "Vulpes vulpes").await;
    let job = app.job_with_image(&ash, 1).await;
    let cols: Vec<Col> = {
        let mut conn = app.state.db.get().await.unwrap();
        diesel::sql_query(
            "SELECT table_name::text, column_name::text, character_maximum_length AS max \
             FROM information_schema.columns \
             WHERE table_schema = 'public' AND data_type = 'character varying' \
               AND character_maximum_length IS NOT NULL ORDER BY 1, 2",
        )
        .load(&mut conn)
        .await
        .unwrap()
    };
    assert!(cols.len() > 30, "{}", cols.len());
    let mut probed = 0;
    for c in &cols {
        let Some(w) = writer(&c.table_name, &c.column_name) else {
            panic!(
                "{}.{} (varchar({})): say in `writer` how the API writes it",
                c.table_name, c.column_name, c.max
            );
        };
        let Writer::Json(path, method, field) = w else {
            continue;
        };
        let max = usize::try_from(c.max).unwrap();
        // One character more than the column holds, and a valid shape for the field.
        let long = match field {
            "email" => format!("{}@example.com", "e".repeat(max)),
            "scientific_name" => format!("Bufo {}", "b".repeat(max)),
            _ => "a".repeat(max + 1),
        };
        let mut body = match path {
            "/api/v1/users/" => json!({"username": "misty", "email": "misty@example.com",
                "password": PASSWORD, "password_confirm": PASSWORD}),
            "/api/v1/animals/" => json!({"scientific_name": "Bufo bufo", "common_name": "toad"}),
            "/api/v1/dex/entries/" => json!({"animal": fox}),
            _ => json!({}),
        };
        body[field] = Value::String(long);
        let path = if path == "JOB" {
            format!("/api/v1/vision/jobs/{job}/")
        } else {
            path.to_owned()
        };
        let (s, b) = app.call(method, &path, Some(&ash.access), Some(body)).await;
        assert_eq!(s, 400, "{}.{}: {b}", c.table_name, c.column_name);
        assert!(
            b[field].is_array() && b.get("detail").is_none(),
            "{}.{}: the error names `{field}`: {b}",
            c.table_name,
            c.column_name
        );
        probed += 1;
    }
    assert!(probed >= 16, "{probed}");

    // Genus and species are derived from the scientific name into varchar(100) columns.
    let name = format!("{} bufo", "G".repeat(150));
    for path in ["/api/v1/animals/", "/api/v1/animals/lookup_or_create/"] {
        let (s, b) = app
            .post_as(path, Some(&ash.access), json!({"scientific_name": name}))
            .await;
        assert_eq!(s, 400, "{path}: {b}");
        assert!(b["genus"].is_array(), "{path}: {b}");
    }
}

#[tokio::test]
async fn hardening_taxonomy_validate_writes_nothing_for_normal_users() {
    let app = TestApp::spawn().await;
    app.import_sample().await;
    let staff = app.user("oak").await;
    app.sql("UPDATE users SET is_staff = true WHERE username = 'oak'")
        .await;
    let (s, v) = app
        .post_as(
            "/api/v1/taxonomy/validate/",
            Some(&staff.access),
            json!({"scientific_name": "Bufo bufo", "common_name": "Common toad"}),
        )
        .await;
    assert_eq!((s, v["created"].clone()), (200, json!(true)), "{v}");
    let animal = v["animal_id"].as_str().unwrap().to_owned();

    let ash = app.user("ash").await;
    let (s, v) = app
        .post_as(
            "/api/v1/taxonomy/validate/",
            Some(&ash.access),
            json!({"scientific_name": "Bufo bufo", "common_name": "Ash's toad"}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["created"], false);
    assert_eq!(v["animal_id"], animal.as_str());
    let (_, a) = app
        .get_as(&format!("/api/v1/animals/{animal}/"), &ash.access)
        .await;
    assert_eq!(a["common_name"], "Common toad", "{a}");
    // A name with no animal yet creates none either.
    let (s, v) = app
        .post_as(
            "/api/v1/taxonomy/validate/",
            Some(&ash.access),
            json!({"scientific_name": "Panthera leo"}),
        )
        .await;
    assert_eq!((s, v["valid"].clone()), (200, json!(true)), "{v}");
    assert_eq!(
        (v["created"].clone(), v["animal_id"].clone()),
        (json!(false), Value::Null)
    );
    let (_, list) = app.get_as("/api/v1/animals/", &ash.access).await;
    assert_eq!(list["count"], 1, "{list}");
}

#[tokio::test]
async fn hardening_rate_limits_apply_to_percent_encoded_paths() {
    let app = TestApp::spawn_with(&[
        ("THROTTLE_LOGIN_RATE", "2/hour"),
        ("THROTTLE_UPLOAD_RATE", "1/hour"),
    ])
    .await;
    let ash = app.user("ash").await; // registration and login: the two credential requests
    let body = json!({"username": "ash", "password": PASSWORD});
    let res = app
        .send(Method::POST, "/api/v1/auth/log%69n/", None, Some(&body))
        .await;
    assert_eq!(res.status(), 429);

    let form = multipart::Form::new().part("image", png_part(6));
    let (s, b) = multipart_as(&app, "/api/v1/vision/job%73/", &ash, form).await;
    assert_ne!(s, 429, "{b}");
    let form = multipart::Form::new().part("image", png_part(7));
    let (s, b) = multipart_as(&app, "/api/v1/vision/job%73/", &ash, form).await;
    assert_eq!(s, 429, "{b}");
    let form = multipart::Form::new().part("image", png_part(8));
    let (s, b) = multipart_as(&app, "/api/v1/images/conver%74/", &ash, form).await;
    assert_eq!(s, 429, "{b}");
    // A photo sent with a new dex entry is an upload too.
    let fox = app.animal(&ash, "Vulpes vulpes").await;
    let form = multipart::Form::new()
        .text("animal", fox)
        .part("original_image", png_part(9));
    let (s, b) = multipart_as(&app, "/api/v1/dex/entries/", &ash, form).await;
    assert_eq!(s, 429, "{b}");
}

#[tokio::test]
async fn hardening_logout_refuses_the_access_tokens_of_that_login_only() {
    let app = TestApp::spawn().await;
    let ash = app.user("ash").await;
    let (s, other) = app.login("ash", PASSWORD).await;
    assert_eq!(s, 200, "{other}");
    let other_access = other["access"].as_str().unwrap().to_owned();
    // A refreshed access token of the same login.
    let (s, refreshed) = app
        .post_as(
            "/api/v1/auth/refresh/",
            None,
            json!({"refresh": ash.refresh}),
        )
        .await;
    assert_eq!(s, 200, "{refreshed}");
    let (s, _) = app
        .post_as(
            "/api/v1/auth/logout/",
            None,
            json!({"refresh": ash.refresh}),
        )
        .await;
    assert_eq!(s, 200);
    for token in [ash.access.as_str(), refreshed["access"].as_str().unwrap()] {
        let (s, b) = app.get_as("/api/v1/users/me/", token).await;
        assert_eq!(s, 401, "{b}");
    }
    // The other login goes on.
    assert_eq!(app.get_as("/api/v1/users/me/", &other_access).await.0, 200);
}

#[tokio::test]
async fn hardening_a_refresh_racing_a_password_change_mints_nothing_that_survives_it() {
    let app = TestApp::spawn_with(&[
        ("DB_POOL_SIZE", "20"),
        ("THROTTLE_ANON_RATE", "100000/hour"),
    ])
    .await;
    let ash = app.user("ash").await;
    // Refreshes in a tight loop on several connections while the password changes.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let refreshes: Vec<_> = (0..6)
        .map(|_| {
            let client = app.client.clone();
            let url = app.url("/api/v1/auth/refresh/");
            let refresh = ash.refresh.clone();
            let stop = stop.clone();
            tokio::spawn(async move {
                let mut minted = Vec::new();
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let res = client
                        .post(&url)
                        .json(&json!({"refresh": refresh}))
                        .send()
                        .await
                        .unwrap();
                    if res.status() == 200 {
                        minted.push(res.json::<Value>().await.unwrap());
                    }
                }
                minted
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let (s, changed) = app
        .post_as(
            "/api/v1/users/me/password/",
            Some(&ash.access),
            json!({"old_password": PASSWORD, "new_password": "another-horse-77", "new_password_confirm": "another-horse-77"}),
        )
        .await;
    assert_eq!(s, 200, "{changed}");
    tokio::time::sleep(Duration::from_millis(50)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let refreshes: Vec<Value> = futures_util::future::join_all(refreshes)
        .await
        .into_iter()
        .flat_map(Result::unwrap)
        .collect();
    let mut minted = 0;
    for pair in refreshes {
        minted += 1;
        let (s, b) = app
            .get_as("/api/v1/users/me/", pair["access"].as_str().unwrap())
            .await;
        assert_eq!(
            s, 401,
            "an access token minted around the change survived: {b}"
        );
        let (s, b) = app
            .post_as(
                "/api/v1/auth/refresh/",
                None,
                json!({"refresh": pair["refresh"]}),
            )
            .await;
        assert_eq!(
            s, 401,
            "a refresh token minted around the change survived: {b}"
        );
    }
    assert!(minted > 0, "no refresh ran before the change");
    let new = changed["access"].as_str().unwrap();
    assert_eq!(app.get_as("/api/v1/users/me/", new).await.0, 200);
}

#[tokio::test]
async fn hardening_an_unfriend_racing_a_block_never_deletes_the_block() {
    let app = TestApp::spawn_with(&[("THROTTLE_LOGIN_RATE", "1000/minute")]).await;
    let mut answered_block = 0;
    for i in 0..8 {
        let a = app.user(&format!("a{i}")).await;
        let b = app.user(&format!("b{i}")).await;
        let (s, row) = app
            .post_as(
                "/api/v1/social/friendships/send_request/",
                Some(&a.access),
                json!({"user_id": b.id}),
            )
            .await;
        assert_eq!(s, 201, "{row}");
        let id = row["id"].as_str().unwrap().to_owned();
        let (s, _) = app
            .post_as(
                &format!("/api/v1/social/friendships/{id}/respond/"),
                Some(&b.access),
                json!({"action": "accept"}),
            )
            .await;
        assert_eq!(s, 200);
        // b blocks a while a unfriends b.
        let block = app
            .client
            .post(app.url(&format!("/api/v1/social/friendships/{id}/respond/")))
            .bearer_auth(&b.access)
            .json(&json!({"action": "block"}))
            .send();
        let unfriend = app
            .client
            .delete(app.url(&format!("/api/v1/social/friendships/{}/unfriend/", b.id)))
            .bearer_auth(&a.access)
            .send();
        let (block, unfriend) = tokio::join!(block, unfriend);
        let (block, unfriend) = (block.unwrap().status(), unfriend.unwrap().status());
        let (s, check) = app
            .get_as(
                &format!("/api/v1/social/friendships/check/?user_id={}", a.id),
                &b.access,
            )
            .await;
        if block == 200 {
            answered_block += 1;
            // The block holds: a is still blocked (a 404 to b's check).
            assert_eq!(
                s, 404,
                "block answered 200, unfriend {unfriend}, yet: {check}"
            );
        } else {
            assert_eq!(
                (block, unfriend.as_u16()),
                (reqwest::StatusCode::NOT_FOUND, 204)
            );
        }
    }
    assert!(answered_block > 0);
}

#[tokio::test]
async fn hardening_a_block_hides_both_users_in_the_friendships_list_and_rotates_tokens() {
    let app = TestApp::spawn().await;
    let a = app.user("ash").await;
    let b = app.user("gary").await;
    app.befriend(&a, &b).await;
    let fox = app.animal(&a, "Vulpes vulpes").await;
    let form = multipart::Form::new()
        .text("animal", fox)
        .text("visibility", "friends")
        .part("original_image", png_part(11));
    let (s, entry) = multipart_as(&app, "/api/v1/dex/entries/", &a, form).await;
    assert_eq!(s, 201, "{entry}");
    let (_, synced) = app
        .get_as(
            &format!("/api/v1/dex/entries/user/{}/entries/", a.id),
            &b.access,
        )
        .await;
    let url = synced["entries"][0]["dex_compatible_url"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(app.fetch(&url).await.0, 200);
    let (_, list) = app.get_as("/api/v1/social/friendships/", &a.access).await;
    let row = list["results"][0]["id"].as_str().unwrap().to_owned();
    // ash blocks gary: ash answered the request, so ash is its recipient.
    let (s, b_row) = app
        .post_as(
            &format!("/api/v1/social/friendships/{row}/respond/"),
            Some(&b.access),
            json!({"action": "block"}),
        )
        .await;
    assert_eq!(s, 200, "{b_row}");
    for who in [&a, &b] {
        let (s, list) = app.get_as("/api/v1/social/friendships/", &who.access).await;
        assert_eq!(s, 200);
        assert_eq!(list["count"], 0, "{list}");
        assert_eq!(list["results"], json!([]), "{list}");
    }
    // The blocked user cannot read the row by id either.
    let (s, _) = app
        .get_as(&format!("/api/v1/social/friendships/{row}/"), &a.access)
        .await;
    assert_eq!(s, 404);
    assert_eq!(app.fetch(&url).await.0, 404, "the old image URL is revoked");
}

#[tokio::test]
async fn hardening_removed_since_lists_only_what_the_viewer_could_see() {
    let app = TestApp::spawn().await;
    let owner = app.user("ash").await;
    let stranger = app.user("eve").await;
    let fox = app.animal(&owner, "Vulpes vulpes").await;
    let crow = app.animal(&owner, "Corvus corax").await;
    let before = "2000-01-01T00:00:00Z";
    let mut ids = Vec::new();
    for (seed, animal, vis) in [(1, &fox, "private"), (2, &crow, "friends")] {
        let job = app.job_with_image(&owner, seed).await;
        let (s, e) = app
            .post_as(
                "/api/v1/dex/entries/",
                Some(&owner.access),
                json!({"animal": animal, "visibility": vis, "source_vision_job": job}),
            )
            .await;
        assert_eq!(s, 201, "{e}");
        ids.push(e["id"].as_str().unwrap().to_owned());
    }
    let (s, e) = app
        .post_as(
            "/api/v1/dex/entries/",
            Some(&owner.access),
            json!({"animal": fox, "visibility": "public", "catch_date": "2026-01-01T00:00:00Z",
                "source_vision_job": app.job_with_image(&owner, 3).await}),
        )
        .await;
    assert_eq!(s, 201, "{e}");
    let public = e["id"].as_str().unwrap().to_owned();
    for id in ids.iter().chain([&public]) {
        let (s, _) = app
            .call(
                Method::DELETE,
                &format!("/api/v1/dex/entries/{id}/"),
                Some(&owner.access),
                None,
            )
            .await;
        assert_eq!(s, 204);
    }
    let (s, sync) = app
        .get_as(
            &format!(
                "/api/v1/dex/entries/user/{}/entries/?last_sync={before}",
                owner.id
            ),
            &stranger.access,
        )
        .await;
    assert_eq!(s, 200, "{sync}");
    assert_eq!(sync["deleted"], json!([public]), "{sync}");
    // The owner learns of all three.
    let (_, own) = app
        .get_as(
            &format!("/api/v1/dex/entries/sync_entries/?last_sync={before}"),
            &owner.access,
        )
        .await;
    assert_eq!(own["deleted"].as_array().unwrap().len(), 3, "{own}");
}

#[tokio::test]
async fn hardening_redirects_stay_on_this_host() {
    let app = TestApp::spawn().await;
    for (path, want) in [
        ("//evil.example", "/evil.example/"),
        ("///evil.example/x", "/evil.example/x/"),
        ("/\\evil.example", "/evil.example/"),
        ("/api/v1/users", "/api/v1/users/"),
    ] {
        let res = app
            .client
            .get(format!("{}{path}", app.address))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 301, "{path}");
        assert_eq!(res.headers()["location"], want, "{path}");
    }
}

#[tokio::test]
async fn hardening_a_graceful_stop_with_several_workers_answers_no_5xx() {
    let db = biologidex_db::testing::TestDb::new().await;
    let settings = crate::helpers::test_settings(
        db.url(),
        &[
            ("HTTP_WORKERS", "4"),
            ("DB_POOL_SIZE", "1"),
            ("THROTTLE_LOGIN_RATE", "100000/hour"),
            ("THROTTLE_ANON_RATE", "100000/hour"),
        ],
    );
    let server = api::startup::Application::build(settings).await.unwrap();
    let handle = server.handle();
    let app = TestApp {
        address: format!("http://127.0.0.1:{}", server.port()),
        client: reqwest::Client::new(),
        state: server.state().clone(),
        db: std::sync::Arc::new(db),
    };
    let running = tokio::spawn(server.run_until_stopped());
    // One pooled connection, opened by the worker that serves this client's keep-alive
    // connection.
    app.user("ash").await;
    // Logins on fresh connections (other workers) hold it across the password check...
    let burst: Vec<_> = (0..3)
        .map(|_| {
            let url = app.url("/api/v1/auth/login/");
            tokio::spawn(async move {
                let res = reqwest::Client::new()
                    .post(url)
                    .json(&json!({"username": "ash", "password": PASSWORD}))
                    .send()
                    .await;
                res.map(|r| r.status().as_u16()).map_err(|e| e.to_string())
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    // ...while the idle worker that opened it drains at once and stops.
    handle.stop(true).await;
    let statuses: Vec<Result<u16, String>> = futures_util::future::join_all(burst)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    running.await.unwrap().unwrap();
    let ok = statuses.iter().filter(|s| **s == Ok(200)).count();
    let errors: Vec<_> = statuses.iter().flatten().filter(|s| **s >= 500).collect();
    assert!(errors.is_empty(), "{errors:?} of {statuses:?}");
    assert!(ok > 0, "{statuses:?}");
}

#[tokio::test]
async fn hardening_pooled_connections_postgresql_closed_are_replaced_not_500() {
    let app = TestApp::spawn_with(&[("DB_POOL_SIZE", "3")]).await;
    let ash = app.user("ash").await;
    // Fill the pool with idle connections, each used once.
    {
        use diesel_async::RunQueryDsl;
        let mut held = Vec::new();
        for _ in 0..3 {
            let mut conn = app.state.db.get().await.unwrap();
            diesel::sql_query("SELECT 1")
                .execute(&mut conn)
                .await
                .unwrap();
            held.push(conn);
        }
    }
    // A restart, as far as these connections can tell: their backends are terminated from a
    // connection outside the pool.
    {
        use diesel_async::{AsyncConnection, RunQueryDsl};
        let mut outside = diesel_async::AsyncPgConnection::establish(app.db.url())
            .await
            .unwrap();
        diesel::sql_query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid()",
        )
        .execute(&mut outside)
        .await
        .unwrap();
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    for _ in 0..6 {
        let (s, b) = app.get_as("/api/v1/users/me/", &ash.access).await;
        assert_eq!(s, 200, "{b}");
    }
}

#[tokio::test]
async fn hardening_ctrl_c_on_serve_drains_in_flight_requests() {
    let db = biologidex_db::testing::TestDb::new().await;
    let port = crate::helpers::closed_port();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_biologidex-api"))
        .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
        .env_clear()
        .env("DATABASE_URL", db.url())
        .env(
            "SECRET_KEY",
            "a-long-enough-secret-key-for-tests-0123456789",
        )
        .env("REDIS_URL", biologidex_db::testing::redis_url())
        .env("REDIS_KEY_PREFIX", biologidex_db::testing::redis_prefix())
        .env("RUST_LOG", "warn")
        .env(
            "MEDIA_ROOT",
            std::env::temp_dir().join(format!("bdx-sigint-{port}")),
        )
        .current_dir(std::env::temp_dir())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let mut ready = false;
    for _ in 0..100 {
        if client.get(format!("{base}/ready/")).send().await.is_ok() {
            ready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(ready);
    // Registration hashes a password: in flight long enough to be interrupted.
    let register = tokio::spawn({
        let client = client.clone();
        let url = format!("{base}/api/v1/users/");
        async move {
            client
                .post(url)
                .json(&json!({"username": "ash", "email": "ash@example.com",
                    "password": PASSWORD, "password_confirm": PASSWORD}))
                .send()
                .await
                .map(|r| r.status().as_u16())
                .map_err(|e| e.to_string())
        }
    });
    tokio::time::sleep(Duration::from_millis(30)).await;
    let kill = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    assert_eq!(register.await.unwrap(), Ok(201), "the request was cut");
    let status = tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap();
    assert!(status.success(), "{status:?}");
}
