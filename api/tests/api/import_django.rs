//! `import-django` against the real old-server fixture (`shared/testdata/old-server`: a dump
//! and media folder made by the old Django server itself), checked through the HTTP API.

use std::{
    collections::{BTreeMap, BTreeSet},
    path::PathBuf,
    time::Duration,
};

use biologidex_db::testing::TestDb;
use biologidex_import::{Kind, Options, Quiet, Report};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde_json::{Value, json};

use crate::helpers::{Bucket, TestApp};

fn fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/testdata/old-server")
}

/// The users of the fixture and their passwords (its README).
const USERS: &[(&str, &str)] = &[
    ("admin", "Admin-Fixture-Pass-2024"),
    ("early_bird", "EarlyBird-Fixture-Pass-00"),
    ("alice", "Alice-Fixture-Pass-01"),
    ("bob", "Bob-Fixture-Pass-02"),
    ("carol", "Carol-Fixture-Pass-03"),
    ("dave", "Dave-Fixture-Pass-04"),
    ("erin", "Erin-Fixture-Pass-05"),
    ("frank", "Frank-Fixture-Pass-06"),
    ("grace", "correct horse battery staple"),
    ("heidi", "Heidi-Fixture-Pass-08"),
    ("ivan", "Ivan-Fixture-Pass-09"),
    ("judy", "Judy-Fixture-Pass-10"),
    ("zoë", "Grüße-Frühling-2024"),
];

/// A fresh database holding the old server's dump, loaded by psql as the old server made it.
async fn old_database() -> TestDb {
    let db = TestDb::empty().await;
    let out = std::process::Command::new("psql")
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", db.url(), "-f"])
        .arg(fixture().join("old-server.sql"))
        .output()
        .expect("psql (PostgreSQL's client) must be installed");
    assert!(
        out.status.success(),
        "loading the dump: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    db
}

/// Writes to the old database as the old server would (several statements at once).
async fn old_sql(old: &TestDb, sql: &str) {
    let out = std::process::Command::new("psql")
        .args([
            "-X",
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "-d",
            old.url(),
            "-c",
            sql,
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn options(old: &TestDb) -> Options {
    Options {
        source_url: old.url().to_owned(),
        media_root: fixture().join("media"),
        dry_run: false,
        strict: false,
        batch_size: 7,
        pause: Duration::ZERO,
    }
}

async fn import(app: &TestApp, opts: &Options) -> Report {
    biologidex_import::import(app.db.url(), app.state.storage.clone(), opts, &Quiet)
        .await
        .expect("import")
}

async fn app() -> TestApp {
    TestApp::spawn_with(&[("THROTTLE_LOGIN_RATE", "1000/minute")]).await
}

/// An app whose media live in a bucket of the S3-compatible test server.
async fn app_in_bucket() -> TestApp {
    TestApp::spawn_s3(
        &Bucket::new().await,
        &[("THROTTLE_LOGIN_RATE", "1000/minute")],
    )
    .await
}

fn items(v: &Value, key: &str) -> Vec<Value> {
    v.get(key)
        .or(v.get("results"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

fn names(list: &[Value], field: &str) -> BTreeSet<String> {
    list.iter()
        .filter_map(|f| f[field].as_str().map(str::to_owned))
        .collect()
}

/// Every table the import writes, as comparable JSON (image tokens are random, so only
/// whether there is one).
async fn snapshot(url: &str) -> Value {
    #[derive(diesel::QueryableByName)]
    struct Json {
        #[diesel(sql_type = diesel::sql_types::Text)]
        j: String,
    }
    let mut conn = AsyncPgConnection::establish(url).await.unwrap();
    let mut out = serde_json::Map::new();
    for (name, sql) in [
        (
            "users",
            "SELECT id, username, email, password_hash, is_active, is_staff, is_superuser, \
             friend_code, bio, avatar, badges, last_login, date_joined, updated_at FROM users",
        ),
        (
            "profiles",
            "SELECT user_id, total_catches, unique_species, preferred_card_style, join_date, \
             last_catch_date FROM user_profiles",
        ),
        ("friendships", "SELECT * FROM friendships"),
        (
            "animals",
            "SELECT id, scientific_name, common_name, creation_index, created_by_id, verified, \
             genus, species, updated_at FROM animals",
        ),
        (
            "entries",
            "SELECT id, owner_id, animal_id, source_vision_job_id, image_checksum, \
             image_token IS NOT NULL AS has_token, location_lat, location_lon, notes, \
             catch_date, visibility, is_favorite, customizations, created_at, updated_at \
             FROM dex_entries",
        ),
        (
            "jobs",
            "SELECT id, user_id, status, cost_usd, detected_animals, identified_animal_id, \
             error_message, retry_count, image_id IS NOT NULL AS has_image FROM analysis_jobs",
        ),
        (
            "images",
            "SELECT storage_key, checksum, width, height FROM stored_images",
        ),
    ] {
        let j = diesel::sql_query(format!(
            "SELECT coalesce(jsonb_agg(t ORDER BY t::text), '[]')::text AS j FROM ({sql}) t"
        ))
        .get_result::<Json>(&mut conn)
        .await
        .unwrap()
        .j;
        out.insert(name.to_owned(), serde_json::from_str(&j).unwrap());
    }
    Value::Object(out)
}

#[tokio::test]
async fn the_old_world_arrives_and_every_user_signs_in_with_their_old_password() {
    let old = old_database().await;
    // Into object storage: the importer writes through the same store as the api.
    let app = app_in_bucket().await;
    app.import_sample().await;
    let report = import(&app, &options(&old)).await;
    // Linked to the Catalogue of Life by name (the sample release has the fox and the lion).
    let linked = count(
        app.db.url(),
        "SELECT count(*) AS n FROM animals a JOIN taxa t ON t.id = a.taxonomy_id \
         WHERE a.scientific_name IN ('Vulpes vulpes', 'Panthera leo') \
           AND t.scientific_name = a.scientific_name",
    )
    .await;
    assert_eq!(linked, 2, "{report}");
    let expect = |kind, found, imported| {
        let c = report.of(kind);
        assert_eq!(
            (c.found, c.imported),
            (found, imported),
            "{kind:?}: {report}"
        );
    };
    expect(Kind::Users, 13, 13);
    expect(Kind::Animals, 42, 42);
    // 34 rows, two pairs with two rows each.
    expect(Kind::Friendships, 32, 32);
    expect(Kind::VisionJobs, 11, 11);
    // Their cost counts toward the daily budget as calls made here do.
    let spend = count(
        app.db.url(),
        "SELECT count(*) AS n FROM vision_spend s JOIN analysis_jobs j ON j.id = s.job_id \
         WHERE s.cost_usd = j.cost_usd",
    )
    .await;
    assert_eq!(spend, 10, "one spend row per completed, billed job");
    expect(Kind::DexEntries, 68, 68);
    // Every conversion is long expired.
    assert_eq!(report.of(Kind::Conversions).imported, 0, "{report}");
    assert_eq!(report.of(Kind::Conversions).skipped_total(), 10, "{report}");
    assert_eq!(
        report.media.missing + report.media.unreadable,
        0,
        "{report}"
    );

    let expected: Value =
        serde_json::from_slice(&std::fs::read(fixture().join("expected-api.json")).unwrap())
            .unwrap();
    let mut tokens = BTreeMap::new();
    for (name, password) in USERS {
        let (status, body) = app.login(name, password).await;
        assert_eq!(status, 200, "{name}: {body}");
        let token = body["access"].as_str().unwrap().to_owned();
        let (status, me) = app.get_as("/api/v1/users/me/", &token).await;
        assert_eq!(status, 200);
        assert_eq!(me["username"], *name);
        tokens.insert(*name, token);
    }
    // Avatars are copied and served (as PNGs, whatever the old format).
    for name in ["alice", "bob"] {
        let (_, me) = app.get_as("/api/v1/users/me/", &tokens[name]).await;
        let url = me["avatar"]
            .as_str()
            .unwrap_or_else(|| panic!("{name}: {me}"));
        let (status, png) = app.fetch(url).await;
        assert_eq!(status, 200, "{url}");
        assert!(png.starts_with(b"\x89PNG"), "{url}");
    }
    let (_, carol) = app.get_as("/api/v1/users/me/", &tokens["carol"]).await;
    assert_eq!(carol["avatar"], Value::Null);
    let (status, _) = app
        .fetch(&app.url(&format!("/media/avatars/{}.png", "0".repeat(64))))
        .await;
    assert_eq!(status, 404, "an avatar nobody shows");
    let (_, admin) = app.get_as("/api/v1/users/me/", &tokens["admin"]).await;
    assert_eq!(admin["id"], "5d4b290a-feba-4f90-83ad-fb4a0f987d10");
    for (name, want) in expected.as_object().unwrap() {
        let token = &tokens[name.as_str()];
        let (_, me) = app.get_as("/api/v1/users/me/", token).await;
        assert_eq!(me["id"], want["id"], "{name}");
        assert_eq!(me["friend_code"], want["friend_code"], "{name}");
        for field in ["total_catches", "unique_species", "preferred_card_style"] {
            assert_eq!(
                me["profile"][field], want["profile"][field],
                "{name} {field}: {me}"
            );
        }
        check_my_entries(&app, &old, name, token, &want["my_entries"]).await;
        check_friends(&app, name, token, want).await;
    }
    // The blocked row beside an accepted one: the block wins (the old server said "friends"),
    // so heidi and dave no longer see each other.
    let heidi = &tokens["heidi"];
    let (status, check) = app
        .get_as(
            "/api/v1/social/friendships/check/?user_id=d483dd3b-eb97-4e87-9b34-ecb349e76de3",
            heidi,
        )
        .await;
    assert_eq!(status, 404, "{check}");
    let (status, _) = app
        .post_as(
            "/api/v1/social/friendships/send_request/",
            Some(heidi),
            json!({"user_id": "d483dd3b-eb97-4e87-9b34-ecb349e76de3"}),
        )
        .await;
    assert!(status >= 400, "heidi could befriend dave again");

    // Pokédex numbers are kept and the next one follows the largest.
    let (_, bear) = app
        .get_as(
            "/api/v1/animals/ab8daa26-2c72-4852-908f-2566841dc1d3/",
            &tokens["alice"],
        )
        .await;
    assert_eq!(bear["creation_index"], 43, "{bear}");
    let (status, created) = app
        .post_as(
            "/api/v1/animals/",
            Some(&tokens["alice"]),
            json!({"scientific_name": "Meles meles", "common_name": "Badger"}),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["creation_index"], 44, "{created}");

    check_images(&app, &tokens).await;

    // A second run changes nothing.
    let before = snapshot(app.db.url()).await;
    let again = import(&app, &options(&old)).await;
    assert_eq!(again.changes(), 0, "{again}");
    assert_eq!(again.of(Kind::DexEntries).unchanged, 68, "{again}");
    assert_eq!(snapshot(app.db.url()).await, before);
}

/// Same ids in the same order, entries with the same catch date compared as sets (the old
/// order between them is undefined).
async fn check_my_entries(app: &TestApp, old: &TestDb, name: &str, token: &str, want: &Value) {
    let (status, page) = app
        .get_as("/api/v1/dex/entries/my_entries/?page_size=100", token)
        .await;
    assert_eq!(status, 200);
    let ours = items(&page, "results");
    assert_eq!(ours.len() as u64, want["count"].as_u64().unwrap(), "{name}");
    let wanted: Vec<&str> = want["ids_in_order"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let mut i = 0;
    while i < ours.len() {
        let date = &ours[i]["catch_date"];
        let mut j = i;
        while j < ours.len() && &ours[j]["catch_date"] == date {
            j += 1;
        }
        let got: BTreeSet<&str> = ours[i..j]
            .iter()
            .map(|e| e["id"].as_str().unwrap())
            .collect();
        let exp: BTreeSet<&str> = wanted[i..j].iter().copied().collect();
        assert_eq!(got, exp, "{name}: my_entries positions {i}..{j}");
        i = j;
    }
    // Every catch date and visibility is the old one (timestamps compared as instants).
    for e in &ours {
        let id = e["id"].as_str().unwrap();
        let same = count(
            old.url(),
            &format!(
                "SELECT count(*) AS n FROM dex_entries WHERE id = '{id}' \
                 AND catch_date = '{}'::timestamptz AND visibility = '{}'",
                e["catch_date"].as_str().unwrap(),
                e["visibility"].as_str().unwrap()
            ),
        )
        .await;
        assert_eq!(
            same, 1,
            "{name}: entry {id} catch date or visibility changed"
        );
    }
    let first = &ours[0];
    let want_first = &want["first"];
    if first["id"] == want_first["id"] {
        for field in ["catch_date", "visibility", "is_favorite", "animal"] {
            assert_eq!(first[field], want_first[field], "{name} {field}");
        }
    }
    let mut visibility: BTreeMap<String, u64> = BTreeMap::new();
    for e in &ours {
        *visibility
            .entry(e["visibility"].as_str().unwrap().to_owned())
            .or_default() += 1;
    }
    for (level, n) in want["visibility_counts"].as_object().unwrap() {
        assert_eq!(
            visibility.get(level).copied().unwrap_or(0),
            n.as_u64().unwrap(),
            "{name} {level}"
        );
    }
}

/// The old friends, plus the admin (the old server hid its auto-friendships; they are imported
/// like any other), minus heidi↔dave (blocked here).
async fn check_friends(app: &TestApp, name: &str, token: &str, want: &Value) {
    let (_, friends) = app
        .get_as("/api/v1/social/friendships/friends/", token)
        .await;
    let got = names(&items(&friends, "friends"), "username");
    let mut exp: BTreeSet<String> = want["friends"]["usernames_in_order"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    if name != "admin" {
        exp.insert("admin".to_owned());
    }
    exp.remove(name);
    match name {
        "heidi" => assert!(exp.remove("dave")),
        "dave" => assert!(exp.remove("heidi")),
        _ => {}
    }
    assert_eq!(got, exp, "{name}: friends");
    let (_, pending) = app
        .get_as("/api/v1/social/friendships/pending/", token)
        .await;
    let (_, sent) = app.get_as("/api/v1/social/friendships/sent/", token).await;
    let count = |v: &Value| {
        v.get("count")
            .and_then(Value::as_u64)
            .unwrap_or(items(v, "results").len() as u64)
    };
    assert_eq!(count(&pending), want["pending_received_count"], "{name}");
    assert_eq!(count(&sent), want["sent_pending_count"], "{name}");
}

/// Every entry's image downloads as a PNG with the old file's pixels.
async fn check_images(app: &TestApp, tokens: &BTreeMap<&str, String>) {
    let mut checked = 0;
    for (name, _) in USERS {
        let (_, page) = app
            .get_as(
                "/api/v1/dex/entries/my_entries/?page_size=100",
                &tokens[*name],
            )
            .await;
        for entry in items(&page, "results") {
            let Some(url) = entry["original_image"].as_str() else {
                continue;
            };
            let (status, png) = app.fetch(url).await;
            assert_eq!(status, 200, "{url}");
            assert!(png.starts_with(b"\x89PNG"), "{url} is not a PNG");
            let served = image::load_from_memory(&png).unwrap().to_rgb8();
            let id = entry["id"].as_str().unwrap();
            let file = old_file_of(id);
            let original = image::load_from_memory(&std::fs::read(&file).unwrap())
                .unwrap()
                .to_rgb8();
            assert_eq!(served.dimensions(), original.dimensions(), "{id}");
            let worst = served
                .as_raw()
                .iter()
                .zip(original.as_raw())
                .map(|(a, b)| a.abs_diff(*b))
                .max()
                .unwrap_or(0);
            assert!(worst <= 2, "{id}: pixels differ by {worst}");
            checked += 1;
        }
    }
    // 68 entries; judy's polar bear has no image.
    assert_eq!(checked, 67, "images checked");
}

/// The old media file of an entry, read from the dump's COPY block.
fn old_file_of(entry: &str) -> PathBuf {
    let dump = std::fs::read_to_string(fixture().join("old-server.sql")).unwrap();
    let line = dump
        .lines()
        .find(|l| l.starts_with(entry))
        .unwrap_or_else(|| panic!("{entry} not in the dump"));
    let path = line.split('\t').nth(1).unwrap();
    fixture().join("media").join(path)
}

#[tokio::test]
async fn a_delta_run_brings_what_is_new_and_removes_what_is_gone() {
    let old = old_database().await;
    let app = app().await;
    // The old media folder, with half a photo in it.
    let media = tempdir();
    let copied = std::process::Command::new("cp")
        .arg("-r")
        .arg(fixture().join("media/."))
        .arg(&media)
        .status()
        .unwrap();
    assert!(copied.success());
    let photo = std::fs::read(media.join("dex/original/2026/12/lynx.png")).unwrap();
    std::fs::write(
        media.join("dex/original/2026/12/half.png"),
        &photo[..photo.len() / 2],
    )
    .unwrap();
    let opts = Options {
        media_root: media.clone(),
        ..options(&old)
    };
    import(&app, &opts).await;
    // After the first import, the old server lives on: a new player with a catch, an edited
    // entry, a deleted one.
    old_sql(
        &old,
        "INSERT INTO users (password, is_superuser, username, first_name, last_name, is_staff, \
             is_active, date_joined, id, email, friend_code, bio, avatar, badges, created_at, \
             updated_at) \
         SELECT password, false, 'mallory', '', '', false, true, now(), \
             '11111111-2222-3333-4444-555555555555', 'mallory@example.com', 'MALL0RY1', '', '', \
             '[]', now(), now() FROM users WHERE username = 'alice'; \
         INSERT INTO user_profiles VALUES \
             ('11111111-2222-3333-4444-555555555555', 0, 0, '{}', CURRENT_DATE, NULL); \
         INSERT INTO dex_entries (id, original_image, processed_image, location_name, notes, \
             customizations, catch_date, visibility, is_favorite, created_at, updated_at, \
             animal_id, owner_id) \
         SELECT '66666666-7777-8888-9999-000000000000', 'dex/original/2026/12/lynx.png', '', '', \
             'delta', '{}', now(), 'public', false, now(), now(), animal_id, \
             '11111111-2222-3333-4444-555555555555' FROM dex_entries LIMIT 1; \
         INSERT INTO dex_entries (id, original_image, processed_image, location_name, notes, \
             customizations, catch_date, visibility, is_favorite, created_at, updated_at, \
             animal_id, owner_id) \
         SELECT '66666666-7777-8888-9999-000000000001', 'dex/original/2026/12/gone.png', '', \
             '', 'lost photo', '{}', now() - interval '1 day', 'friends', false, now(), now(), \
             animal_id, '11111111-2222-3333-4444-555555555555' FROM dex_entries LIMIT 1; \
         INSERT INTO dex_entries (id, original_image, processed_image, location_name, notes, \
             customizations, catch_date, visibility, is_favorite, created_at, updated_at, \
             animal_id, owner_id) \
         SELECT '66666666-7777-8888-9999-000000000002', 'dex/original/2026/12/half.png', '', \
             '', 'half a photo', '{}', now() - interval '2 days', 'friends', false, now(), \
             now(), animal_id, '11111111-2222-3333-4444-555555555555' FROM dex_entries LIMIT 1; \
         UPDATE dex_entries SET notes = 'edited later', updated_at = now() \
             WHERE id = 'efcc5fee-5418-444e-b6ef-2075cf448196'; \
         DELETE FROM dex_entries WHERE id = 'c986b1f3-43e7-4910-a014-45d501eb07e8';",
    )
    .await;
    let delta = import(&app, &opts).await;
    assert_eq!(delta.of(Kind::Users).imported, 1, "{delta}");
    assert_eq!(delta.of(Kind::DexEntries).imported, 3, "{delta}");
    // The entries whose file is gone or broken come without their image, and the report
    // says so.
    assert_eq!(delta.media.missing, 1, "{delta}");
    assert_eq!(delta.media.unreadable, 1, "{delta}");
    assert!(
        delta.media.problems.iter().any(|p| p.contains("gone.png")),
        "{delta}"
    );
    assert_eq!(delta.of(Kind::DexEntries).updated, 1, "{delta}");
    assert_eq!(delta.of(Kind::DexEntries).deleted, 1, "{delta}");
    let (status, body) = app.login("mallory", "Alice-Fixture-Pass-01").await;
    assert_eq!(status, 200, "{body}");
    let token = body["access"].as_str().unwrap();
    let (_, page) = app.get_as("/api/v1/dex/entries/my_entries/", token).await;
    let mine = items(&page, "results");
    assert_eq!(mine.len(), 3);
    assert_eq!(mine[2]["original_image"], Value::Null, "{page}");
    assert_eq!(mine[0]["id"], "66666666-7777-8888-9999-000000000000");
    assert!(mine[0]["original_image"].is_string(), "{page}");
    assert_eq!(mine[1]["id"], "66666666-7777-8888-9999-000000000001");
    assert_eq!(mine[1]["original_image"], Value::Null, "{page}");
    let (_, me) = app.get_as("/api/v1/users/me/", token).await;
    assert_eq!(me["profile"]["total_catches"], 3, "{me}");
    let (status, _) = app
        .get_as(
            "/api/v1/dex/entries/c986b1f3-43e7-4910-a014-45d501eb07e8/",
            token,
        )
        .await;
    assert_eq!(status, 404);
    // alice's deleted entry is in her next sync's `deleted` list.
    let (_, alice) = app.login("alice", "Alice-Fixture-Pass-01").await;
    let (_, sync) = app
        .get_as(
            "/api/v1/dex/entries/sync_entries/?last_sync=2026-12-01T00:00:00Z",
            alice["access"].as_str().unwrap(),
        )
        .await;
    assert!(
        sync.to_string()
            .contains("c986b1f3-43e7-4910-a014-45d501eb07e8"),
        "{sync}"
    );
    let diffs = verify(&app, &old, &media).await;
    assert_eq!(diffs, Vec::<String>::new());
    // A difference is found.
    app.sql("UPDATE users SET is_staff = true WHERE username = 'bob'")
        .await;
    app.sql("UPDATE dex_entries SET visibility = 'private' WHERE visibility = 'public'")
        .await;
    let diffs = verify(&app, &old, &media).await;
    assert!(
        diffs.iter().any(|d| d.contains("visibility differs")),
        "{diffs:?}"
    );
}

#[tokio::test]
async fn rows_the_new_rules_refuse_are_kept_aside_and_a_dry_run_writes_nothing() {
    let old = old_database().await;
    // A username this server refuses, with a catch of their own.
    old_sql(
        &old,
        "UPDATE users SET username = 'frank the tank' WHERE username = 'frank'",
    )
    .await;
    let app = app().await;
    let before = snapshot(app.db.url()).await;
    let dry = import(
        &app,
        &Options {
            dry_run: true,
            ..options(&old)
        },
    )
    .await;
    assert!(dry.dry_run);
    assert_eq!(dry.of(Kind::Users).imported, 12, "{dry}");
    assert_eq!(snapshot(app.db.url()).await, before, "a dry run wrote");
    let strict = biologidex_import::import(
        app.db.url(),
        app.state.storage.clone(),
        &Options {
            strict: true,
            ..options(&old)
        },
        &Quiet,
    )
    .await;
    let err = strict.expect_err("--strict stops at the refused username");
    assert!(err.to_string().contains("username"), "{err}");

    // The batches --strict committed before it stopped stay; this run does the rest.
    let report = import(&app, &options(&old)).await;
    let users = report.of(Kind::Users);
    assert_eq!(users.imported + users.unchanged, 12, "{report}");
    assert_eq!(users.skipped_total(), 1, "{report}");
    // frank's 5 entries and his friendships follow him aside; nothing else is lost.
    assert_eq!(report.of(Kind::DexEntries).imported, 63, "{report}");
    assert_eq!(report.of(Kind::DexEntries).skipped_total(), 5, "{report}");
    let rejects = biologidex_import::state::rejects(
        &mut AsyncPgConnection::establish(app.db.url()).await.unwrap(),
    )
    .await
    .unwrap();
    let frank = rejects
        .iter()
        .find(|r| r.old_id == "9c629d86-dbd6-4701-9db3-2949c3a5ed69")
        .expect("frank kept aside");
    assert!(frank.reason.contains("username"), "{}", frank.reason);
    assert!(
        rejects
            .iter()
            .filter(|r| r.kind == "dex_entries")
            .all(|r| r.reason.starts_with("owner not imported")),
        "{rejects:?}"
    );
    // Fixed in the old database, the next run brings him and his entries.
    old_sql(
        &old,
        "UPDATE users SET username = 'frank' WHERE username = 'frank the tank'",
    )
    .await;
    let fixed = import(&app, &options(&old)).await;
    assert_eq!(fixed.of(Kind::Users).imported, 1, "{fixed}");
    assert_eq!(fixed.of(Kind::DexEntries).imported, 5, "{fixed}");
    let (status, _) = app.login("frank", "Frank-Fixture-Pass-06").await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn a_killed_import_resumes_to_the_same_result_as_an_uninterrupted_one() {
    let old = old_database().await;
    let whole = TestDb::new().await;
    let media_whole = tempdir();
    let status = run_binary(&old, whole.url(), &media_whole, &[])
        .wait()
        .unwrap();
    assert!(status.success(), "the uninterrupted import failed");

    let killed = TestDb::new().await;
    let media_killed = tempdir();
    let mut child = run_binary(&old, killed.url(), &media_killed, &["--pause-ms", "100"]);
    // Kill it once some dex entries are committed, well before the end.
    let mut conn = AsyncPgConnection::establish(killed.url()).await.unwrap();
    #[derive(diesel::QueryableByName)]
    struct Cursor {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        started: bool,
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    loop {
        let c = diesel::sql_query(
            "SELECT coalesce(bool_or(cursors ? 'dex_entries'), false) AS started FROM django_import_runs",
        )
        .get_result::<Cursor>(&mut conn)
        .await
        .unwrap();
        if c.started {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "import never reached the entries"
        );
        assert!(
            child.try_wait().unwrap().is_none(),
            "import ended before the kill"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    child.kill().unwrap();
    child.wait().unwrap();
    #[derive(diesel::QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let partial = diesel::sql_query("SELECT count(*) AS n FROM dex_entries")
        .get_result::<N>(&mut conn)
        .await
        .unwrap()
        .n;
    assert!(partial < 68, "the kill came too late ({partial} entries)");
    let status = run_binary(&old, killed.url(), &media_killed, &[])
        .wait()
        .unwrap();
    assert!(status.success());
    let resumed =
        diesel::sql_query("SELECT count(*) AS n FROM django_import_runs WHERE status = 'finished'")
            .get_result::<N>(&mut conn)
            .await
            .unwrap()
            .n;
    assert_eq!(resumed, 1, "the second run resumed the first");
    assert_eq!(snapshot(killed.url()).await, snapshot(whole.url()).await);
}

async fn verify(app: &TestApp, old: &TestDb, media: &std::path::Path) -> Vec<String> {
    biologidex_import::verify::verify(old.url(), app.db.url(), media, app.state.storage.clone())
        .await
        .unwrap()
}

async fn count(url: &str, sql: &str) -> i64 {
    #[derive(diesel::QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let mut conn = AsyncPgConnection::establish(url).await.unwrap();
    diesel::sql_query(sql)
        .get_result::<N>(&mut conn)
        .await
        .unwrap()
        .n
}

fn tempdir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("bdx-import-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn run_binary(
    old: &TestDb,
    target: &str,
    media: &std::path::Path,
    extra: &[&str],
) -> std::process::Child {
    std::process::Command::new(env!("CARGO_BIN_EXE_biologidex-api"))
        .args(["import-django", "--batch-size", "3", "--media-root"])
        .arg(fixture().join("media"))
        .args(["--from", old.url()])
        .args(extra)
        .env("DATABASE_URL", target)
        .env("MEDIA_ROOT", media)
        .env("DEBUG", "true")
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap()
}
