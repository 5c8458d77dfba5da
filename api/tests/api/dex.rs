//! Dex entries: the client's bodies, visibility across owner/friend/stranger/anonymous,
//! capability image URLs, sync with `deleted`, and bad input.

use reqwest::Method;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::helpers::{TestApp, TestUser, test_png};

const ENTRIES: &str = "/api/v1/dex/entries";

async fn catch(app: &TestApp, who: &TestUser, animal: &str, visibility: &str, seed: u8) -> Value {
    let job = app.job_with_image(who, seed).await;
    // Exactly camera.gd's body.
    let (status, body) = app
        .post_as(
            &format!("{ENTRIES}/"),
            Some(&who.access),
            json!({"animal": animal, "visibility": visibility, "source_vision_job": job}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    body
}

async fn sync(app: &TestApp, who: &TestUser, last: Option<&str>) -> Value {
    let path = match last {
        Some(t) => format!("{ENTRIES}/sync_entries/?last_sync={}", urlencode(t)),
        None => format!("{ENTRIES}/sync_entries/"),
    };
    let (status, body) = app.get_as(&path, &who.access).await;
    assert_eq!(status, 200, "{body}");
    body
}

fn urlencode(s: &str) -> String {
    s.replace('+', "%2B").replace(':', "%3A")
}

#[tokio::test]
async fn the_camera_flow_creates_an_entry_whose_image_syncs_and_downloads() {
    let app = TestApp::spawn().await;
    let ash = app.user("ash").await;
    let fox = app.animal(&ash, "Vulpes vulpes").await;
    let created = catch(&app, &ash, &fox, "friends", 7).await;
    assert_eq!(created["animal"], fox.as_str());
    assert_eq!(created["visibility"], "friends");
    assert!(
        created["source_vision_job"].as_str().unwrap().len() == 36,
        "an id, not a description"
    );
    assert!(created["catch_date"].as_str().unwrap().ends_with('Z'));

    let s = sync(&app, &ash, None).await;
    assert_eq!(s["count"], 1);
    assert!(s["server_time"].as_str().unwrap().ends_with("+00:00"));
    let e = &s["entries"][0];
    for key in [
        "id",
        "animal_id",
        "scientific_name",
        "common_name",
        "owner_username",
        "updated_at",
        "catch_date",
    ] {
        assert!(e[key].is_string(), "{key}: {e}");
    }
    assert!(e["creation_index"].is_i64());
    let url = e["dex_compatible_url"].as_str().unwrap();
    assert!(
        url.starts_with("http://127.0.0.1:") && url.contains("/media/e/"),
        "{url}"
    );
    let checksum = e["image_checksum"].as_str().unwrap();
    // The client downloads with no token.
    let (status, bytes) = app.fetch(url).await;
    assert_eq!(status, 200);
    assert_eq!(hex::encode(Sha256::digest(&bytes)), checksum);
    assert_eq!(&bytes[1..4], b"PNG");

    // The profile counters follow.
    let (_, me) = app.get_as("/api/v1/users/me/", &ash.access).await;
    assert_eq!(me["profile"]["total_catches"], 1);
    assert_eq!(me["profile"]["unique_species"], 1);
}

#[tokio::test]
async fn entries_need_an_own_job_or_an_uploaded_image() {
    let app = TestApp::spawn().await;
    let ash = app.user("ash").await;
    let eve = app.user("eve").await;
    let fox = app.animal(&ash, "Vulpes vulpes").await;
    let eves_job = app.job_with_image(&eve, 3).await;
    let (status, body) = app
        .post_as(
            &format!("{ENTRIES}/"),
            Some(&ash.access),
            json!({"animal": fox, "source_vision_job": eves_job}),
        )
        .await;
    assert_eq!(status, 400, "another user's job: {body}");
    assert!(
        body["source_vision_job"][0]
            .as_str()
            .unwrap()
            .starts_with("Invalid pk")
    );
    let (status, body) = app
        .post_as(
            &format!("{ENTRIES}/"),
            Some(&ash.access),
            json!({"animal": fox}),
        )
        .await;
    assert_eq!(
        (status, body),
        (
            400,
            json!({"non_field_errors": ["Either source_vision_job or original_image must be provided."]})
        )
    );
    let (_, body) = app
        .post_as(
            &format!("{ENTRIES}/"),
            Some(&ash.access),
            json!({"animal": "abc", "source_vision_job": "x"}),
        )
        .await;
    assert_eq!(body["animal"], json!(["“abc” is not a valid UUID."]));
    assert_eq!(body["source_vision_job"], json!(["Must be a valid UUID."]));
    let job = app.job_with_image(&ash, 4).await;
    let missing = uuid::Uuid::new_v4();
    let (_, body) = app
        .post_as(
            &format!("{ENTRIES}/"),
            Some(&ash.access),
            json!({"animal": missing, "source_vision_job": job}),
        )
        .await;
    assert_eq!(
        body,
        json!({"animal": [format!("Invalid pk \"{missing}\" - object does not exist.")]})
    );
    let (_, body) = app
        .post_as(
            &format!("{ENTRIES}/"),
            Some(&ash.access),
            json!({"animal": fox, "source_vision_job": job, "visibility": "everyone", "location_lat": "12.3456789", "location_lon": 1234.5, "catch_date": "soon", "owner": "x"}),
        )
        .await;
    assert_eq!(
        body["visibility"],
        json!(["\"everyone\" is not a valid choice."])
    );
    assert_eq!(
        body["location_lat"],
        json!(["Ensure that there are no more than 6 decimal places."])
    );
    assert_eq!(
        body["location_lon"],
        json!(["Ensure that there are no more than 3 digits before the decimal point."])
    );
    assert!(
        body["catch_date"][0]
            .as_str()
            .unwrap()
            .starts_with("Datetime has wrong format")
    );
    assert_eq!(body["owner"], json!(["Unknown field."]));

    // Same animal at the same catch date: a field error, never a 500.
    let at = json!({"animal": fox, "source_vision_job": job, "catch_date": "2026-03-01T10:00:00Z", "location_lat": 12.3456});
    let (status, first) = app
        .post_as(&format!("{ENTRIES}/"), Some(&ash.access), at.clone())
        .await;
    assert_eq!(status, 201, "{first}");
    assert_eq!(first["location_lat"], "12.345600");
    let (status, body) = app
        .post_as(&format!("{ENTRIES}/"), Some(&ash.access), at)
        .await;
    assert_eq!(status, 400);
    assert!(
        body["animal"][0]
            .as_str()
            .unwrap()
            .contains("already have an entry")
    );
}

#[tokio::test]
async fn create_fields_are_refused_together_with_the_old_messages() {
    let app = TestApp::spawn().await;
    let ash = app.user("ash").await;
    let fox = app.animal(&ash, "Vulpes vulpes").await;
    let url = format!("{ENTRIES}/");
    let post = |body: Value| app.post_as(&url, Some(&ash.access), body);
    let long = "x".repeat(201);
    let (status, body) = post(json!({"animal": null, "original_image": null,
        "source_vision_job": "", "location_name": long, "notes": null, "visibility": null,
        "location_lat": true, "location_lon": "1.2.3"}))
    .await;
    assert_eq!(
        (status, body),
        (
            400,
            json!({
                "animal": ["This field may not be null."],
                "original_image": ["The submitted data was not a file. Check the encoding type on the form."],
                "location_name": ["Ensure this field has no more than 200 characters."],
                "notes": ["This field may not be null."],
                "visibility": ["This field may not be null."],
                "location_lat": ["A valid number is required."],
                "location_lon": ["A valid number is required."],
            })
        )
    );
    let (_, body) = post(json!({"location_lat": "1234567.891", "catch_date": 5})).await;
    assert_eq!(
        body,
        json!({
            "animal": ["This field is required."],
            "location_lat": ["Ensure that there are no more than 9 digits in total."],
            "catch_date": ["Not a valid string."],
        })
    );
    // An empty or non-string job is no job; the rule then asks for one.
    let rule = json!({"non_field_errors": ["Either source_vision_job or original_image must be provided."]});
    for job in [json!(""), json!(5), json!(null)] {
        let (status, body) = post(json!({"animal": fox, "source_vision_job": job,
            "location_lat": " ", "location_lon": null}))
        .await;
        assert_eq!((status, &body), (400, &rule), "{job}");
    }
    let (_, body) = post(json!([1])).await;
    assert_eq!(
        body,
        json!({"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]})
    );
    // A form's text parts are read the same way.
    let form = reqwest::multipart::Form::new()
        .text("animal", fox.clone())
        .text("source_vision_job", "")
        .text("location_lat", "12.5");
    let res = app.post_multipart(&url, &ash, form).await;
    assert_eq!(res.status(), 400);
    assert_eq!(res.json::<Value>().await.unwrap(), rule);
    let form = reqwest::multipart::Form::new()
        .text("animal", fox)
        .text("visibility", "everyone")
        .text("extra", "1");
    let res = app.post_multipart(&url, &ash, form).await;
    assert_eq!(
        res.json::<Value>().await.unwrap(),
        json!({"visibility": ["\"everyone\" is not a valid choice."], "extra": ["Unknown field."]})
    );
}

#[tokio::test]
async fn a_multipart_upload_becomes_the_entrys_own_image() {
    let app = TestApp::spawn().await;
    let ash = app.user("ash").await;
    let fox = app.animal(&ash, "Vulpes vulpes").await;
    let form = reqwest::multipart::Form::new()
        .text("animal", fox.clone())
        .text("visibility", "private")
        .text("notes", "in the garden")
        .part(
            "original_image",
            reqwest::multipart::Part::bytes(test_png(40, 30, 9))
                .file_name("fox.png")
                .mime_str("image/png")
                .unwrap(),
        );
    let res = app.post_multipart(&format!("{ENTRIES}/"), &ash, form).await;
    assert_eq!(res.status(), 201);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["notes"], "in the garden");
    let (status, bytes) = app.fetch(body["original_image"].as_str().unwrap()).await;
    assert_eq!(status, 200);
    assert_eq!(
        hex::encode(Sha256::digest(&bytes)),
        body["image_checksum"].as_str().unwrap()
    );

    let form = reqwest::multipart::Form::new().text("animal", fox).part(
        "original_image",
        reqwest::multipart::Part::bytes(b"not an image at all".to_vec()).file_name("x.jpg"),
    );
    let res = app.post_multipart(&format!("{ENTRIES}/"), &ash, form).await;
    assert_eq!(res.status(), 400);
    let body: Value = res.json().await.unwrap();
    assert!(
        body["original_image"][0]
            .as_str()
            .unwrap()
            .starts_with("Upload a valid image")
    );
}

struct World {
    app: TestApp,
    owner: TestUser,
    friend: TestUser,
    stranger: TestUser,
    private: Value,
    friends: Value,
    public: Value,
}

async fn world() -> World {
    let app = TestApp::spawn().await;
    let owner = app.user("owner").await;
    let friend = app.user("friend").await;
    let stranger = app.user("stranger").await;
    app.befriend(&owner, &friend).await;
    let a = app.animal(&owner, "Vulpes vulpes").await;
    let b = app.animal(&owner, "Canis lupus").await;
    let c = app.animal(&owner, "Felis catus").await;
    let private = catch(&app, &owner, &a, "private", 1).await;
    let friends = catch(&app, &owner, &b, "friends", 2).await;
    let public = catch(&app, &owner, &c, "public", 3).await;
    World {
        app,
        owner,
        friend,
        stranger,
        private,
        friends,
        public,
    }
}

fn ids(v: &Value) -> Vec<String> {
    let list = v.get("results").or(v.get("entries")).unwrap_or(v);
    let mut out: Vec<String> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_owned())
        .collect();
    out.sort();
    out
}

fn sorted(v: &[&Value]) -> Vec<String> {
    let mut out: Vec<String> = v
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_owned())
        .collect();
    out.sort();
    out
}

#[tokio::test]
async fn visibility_is_the_same_in_every_list_detail_and_sync() {
    let w = world().await;
    let app = &w.app;
    let owner_id = &w.owner.id;
    let all = sorted(&[&w.private, &w.friends, &w.public]);
    let friend_view = sorted(&[&w.friends, &w.public]);
    let stranger_view = sorted(&[&w.public]);
    for (who, expected) in [
        (&w.owner, &all),
        (&w.friend, &friend_view),
        (&w.stranger, &stranger_view),
    ] {
        let (_, list) = app.get_as(&format!("{ENTRIES}/"), &who.access).await;
        assert_eq!(&ids(&list), expected, "list for {}", who.id);
        let (_, user) = app
            .get_as(&format!("{ENTRIES}/user/{owner_id}/entries/"), &who.access)
            .await;
        assert_eq!(&ids(&user), expected, "user entries");
        for e in [&w.private, &w.friends, &w.public] {
            let id = e["id"].as_str().unwrap();
            let (status, _) = app.get_as(&format!("{ENTRIES}/{id}/"), &who.access).await;
            let visible = expected.contains(&id.to_owned());
            assert_eq!(status, if visible { 200 } else { 404 }, "detail {id}");
            let animal = e["animal"].as_str().unwrap();
            let (_, by) = app
                .get_as(
                    &format!("{ENTRIES}/by_animal/?animal_id={animal}"),
                    &who.access,
                )
                .await;
            assert_eq!(
                by.as_array().unwrap().len(),
                usize::from(visible),
                "by_animal"
            );
        }
    }
    // batch_sync: strangers are refused, friends see friends+public.
    let (_, batch) = app
        .post_as(
            &format!("{ENTRIES}/batch_sync/"),
            Some(&w.friend.access),
            json!({"sync_requests": [{"user_id": owner_id, "last_sync": ""}, {"user_id": "self"}]}),
        )
        .await;
    assert_eq!(ids(&batch["results"][owner_id.as_str()]), friend_view);
    assert_eq!(batch["results"]["self"]["count"], 0);
    let (_, batch) = app
        .post_as(
            &format!("{ENTRIES}/batch_sync/"),
            Some(&w.stranger.access),
            json!({"sync_requests": [{"user_id": owner_id}]}),
        )
        .await;
    assert_eq!(
        batch["results"][owner_id.as_str()]["error"],
        "Not friends with this user"
    );
    // recent: own and friends' entries only.
    let (_, recent) = app
        .get_as(&format!("{ENTRIES}/recent/"), &w.friend.access)
        .await;
    assert_eq!(ids(&recent), friend_view);
    let (_, recent) = app
        .get_as(&format!("{ENTRIES}/recent/"), &w.stranger.access)
        .await;
    assert!(ids(&recent).is_empty());
    // Anonymous callers get nothing.
    assert_eq!(
        app.call(Method::GET, &format!("{ENTRIES}/"), None, None)
            .await
            .0,
        401
    );
    // Friends overview counts only what the friend may see.
    let (_, overview) = app
        .get_as(&format!("{ENTRIES}/friends_overview/"), &w.friend.access)
        .await;
    assert_eq!(overview["friends"][0]["username"], "owner");
    assert_eq!(overview["friends"][0]["total_entries"], 2);
}

#[tokio::test]
async fn private_images_are_unreachable_without_their_url() {
    let w = world().await;
    let app = &w.app;
    // Only the owner was handed the private entry's URL.
    let (_, mine) = app
        .get_as(&format!("{ENTRIES}/sync_entries/"), &w.owner.access)
        .await;
    let private_id = w.private["id"].as_str().unwrap();
    let url = mine["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["id"] == private_id)
        .unwrap()["dex_compatible_url"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        app.fetch(&url).await.0,
        200,
        "the owner's own private photo works without a token"
    );
    // Nothing the friend or the stranger can fetch names it.
    for who in [&w.friend, &w.stranger] {
        let (_, list) = app.get_as(&format!("{ENTRIES}/"), &who.access).await;
        assert!(!list.to_string().contains(&url));
    }
    // Tampered or unknown tokens and plain storage paths are refused.
    let tampered = format!(
        "{}{}.png",
        &url[..url.len() - 5],
        if url.ends_with("0.png") { "1" } else { "0" }
    );
    assert_eq!(app.fetch(&tampered).await.0, 404);
    assert_eq!(app.fetch(&app.url("/media/e/not-a-token.png")).await.0, 404);
    let checksum = mine["entries"][0]["image_checksum"].as_str().unwrap();
    let plain = app.url(&format!("/media/images/{}/{checksum}.png", &checksum[..2]));
    assert_eq!(app.fetch(&plain).await.0, 404);
}

#[tokio::test]
async fn edits_are_owner_only_fresh_and_collisions_are_field_errors() {
    let w = world().await;
    let app = &w.app;
    let id = w.friends["id"].as_str().unwrap();
    let path = format!("{ENTRIES}/{id}/");
    let (status, _) = app
        .call(
            Method::PATCH,
            &path,
            Some(&w.friend.access),
            Some(json!({"notes": "mine now"})),
        )
        .await;
    assert_eq!(status, 403, "a friend sees it but may not edit it");
    let (status, _) = app
        .call(
            Method::PATCH,
            &path,
            Some(&w.stranger.access),
            Some(json!({"notes": "x"})),
        )
        .await;
    assert_eq!(status, 404);
    assert_eq!(
        app.post_as(
            &format!("{path}toggle_favorite/"),
            Some(&w.friend.access),
            json!({})
        )
        .await
        .0,
        403
    );
    // manual_entry_popup.gd: PUT {"animal"} returns the fresh row.
    let wolf2 = app.animal(&w.owner, "Canis latrans").await;
    let (status, body) = app
        .call(
            Method::PUT,
            &path,
            Some(&w.owner.access),
            Some(json!({"animal": wolf2})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["animal"], wolf2.as_str());
    assert_eq!(body["animal_details"]["scientific_name"], "Canis latrans");
    let (status, body) = app
        .call(
            Method::PUT,
            &path,
            Some(&w.owner.access),
            Some(json!({"notes": "x"})),
        )
        .await;
    assert_eq!(
        (status, body),
        (400, json!({"animal": ["This field is required."]}))
    );
    // Give two entries the same catch date, then collide them.
    app.sql("UPDATE dex_entries SET catch_date = '2026-05-05T05:05:05Z'")
        .await;
    let other_animal = w.public["animal"].as_str().unwrap();
    let (status, body) = app
        .call(
            Method::PATCH,
            &path,
            Some(&w.owner.access),
            Some(json!({"animal": other_animal})),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["animal"][0]
            .as_str()
            .unwrap()
            .contains("already have an entry")
    );
    let (status, _) = app.get_as(&path, &w.owner.access).await;
    assert_eq!(status, 200, "the edited entry still exists");
    let (status, body) = app
        .call(
            Method::PATCH,
            &path,
            Some(&w.owner.access),
            Some(json!({"visibility": 3, "is_favorite": "maybe"})),
        )
        .await;
    assert_eq!(status, 400);
    assert!(body.get("visibility").is_some() && body.get("is_favorite").is_some());
    for bad in [
        format!("{ENTRIES}/nope/"),
        format!("{ENTRIES}/nope/toggle_favorite/"),
    ] {
        let method = if bad.ends_with("favorite/") {
            Method::POST
        } else {
            Method::GET
        };
        assert_eq!(
            app.call(method, &bad, Some(&w.owner.access), Some(json!({})))
                .await
                .0,
            404,
            "{bad}"
        );
    }
    let (status, body) = app
        .get_as(
            &format!("{ENTRIES}/by_animal/?animal_id=zzz"),
            &w.owner.access,
        )
        .await;
    assert_eq!(
        (status, body),
        (400, json!({"animal_id": ["Must be a valid UUID."]}))
    );
    // Absent or empty: the rule error; a NUL byte: the query refused whole.
    for query in ["", "?animal_id=", "?other=1"] {
        let (status, body) = app
            .get_as(&format!("{ENTRIES}/by_animal/{query}"), &w.owner.access)
            .await;
        assert_eq!(status, 400, "{query}");
        assert_eq!(body["error"], "animal_id parameter required", "{query}");
    }
    let (status, body) = app
        .get_as(
            &format!("{ENTRIES}/by_animal/?animal_id=%00"),
            &w.owner.access,
        )
        .await;
    assert_eq!(
        (status, body),
        (400, json!({"detail": "Null characters are not allowed."}))
    );
    let (status, _) = app
        .get_as(&format!("{ENTRIES}/user/zzz/entries/"), &w.owner.access)
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn incremental_sync_carries_favourites_and_reports_deletions() {
    let w = world().await;
    let app = &w.app;
    let first = sync(app, &w.owner, None).await;
    let t0 = first["server_time"].as_str().unwrap().to_owned();
    let quiet = sync(app, &w.owner, Some(&t0)).await;
    assert!(quiet["entries"].as_array().unwrap().len() <= 3);

    let fav = w.public["id"].as_str().unwrap();
    let (status, toggled) = app
        .post_as(
            &format!("{ENTRIES}/{fav}/toggle_favorite/"),
            Some(&w.owner.access),
            json!({}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(toggled["is_favorite"], true);
    let next = sync(app, &w.owner, Some(&t0)).await;
    let changed = next["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["id"] == fav)
        .expect("toggled entry synced");
    assert_eq!(changed["is_favorite"], true);
    let (_, favs) = app
        .get_as(&format!("{ENTRIES}/favorites/"), &w.owner.access)
        .await;
    assert_eq!(ids(&favs), vec![fav.to_owned()]);

    // The friend's view: a deletion and a narrowing both show up in `deleted`.
    let friend_path = format!("{ENTRIES}/user/{}/entries/", w.owner.id);
    let (_, before) = app.get_as(&friend_path, &w.friend.access).await;
    let t1 = before["server_time"].as_str().unwrap().to_owned();
    let friends_url = before["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["id"] == w.friends["id"])
        .unwrap()["dex_compatible_url"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(app.fetch(&friends_url).await.0, 200);
    let gone = w.public["id"].as_str().unwrap();
    assert_eq!(
        app.call(
            Method::DELETE,
            &format!("{ENTRIES}/{gone}/"),
            Some(&w.owner.access),
            None
        )
        .await
        .0,
        204
    );
    let narrowed = w.friends["id"].as_str().unwrap();
    let (status, _) = app
        .call(
            Method::PATCH,
            &format!("{ENTRIES}/{narrowed}/"),
            Some(&w.owner.access),
            Some(json!({"visibility": "private"})),
        )
        .await;
    assert_eq!(status, 200);
    let (_, after) = app
        .get_as(
            &format!("{friend_path}?last_sync={}", urlencode(&t1)),
            &w.friend.access,
        )
        .await;
    let mut deleted: Vec<String> = after["deleted"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    deleted.sort();
    let mut expected = vec![gone.to_owned(), narrowed.to_owned()];
    expected.sort();
    assert_eq!(deleted, expected);
    assert!(after["entries"].as_array().unwrap().is_empty());
    assert_eq!(
        app.fetch(&friends_url).await.0,
        404,
        "narrowing revoked the URL the friend held"
    );
    // The owner's own sync reports the deletion too (and still has the narrowed entry).
    let mine = sync(app, &w.owner, Some(&t1)).await;
    assert_eq!(mine["deleted"], json!([gone]));
    // A batch answers each item with its own owner's removals (found for all in one query).
    let (status, batch) = app
        .post_as(
            &format!("{ENTRIES}/batch_sync/"),
            Some(&w.friend.access),
            json!({"sync_requests": [
                {"user_id": "self"},
                {"user_id": w.owner.id, "last_sync": t1},
            ]}),
        )
        .await;
    assert_eq!(status, 200, "{batch}");
    assert_eq!(batch["results"]["self"]["deleted"], json!([]));
    assert_eq!(
        batch["results"][w.owner.id.as_str()]["deleted"],
        json!(expected)
    );
    let (_, batch) = app
        .post_as(
            &format!("{ENTRIES}/batch_sync/"),
            Some(&w.owner.access),
            json!({"sync_requests": [
                {"user_id": w.friend.id, "last_sync": t1},
                {"user_id": "self", "last_sync": t1},
            ]}),
        )
        .await;
    assert_eq!(batch["results"]["self"]["deleted"], json!([gone]));
    assert_eq!(batch["results"][w.friend.id.as_str()]["deleted"], json!([]));
    let (_, me) = app.get_as("/api/v1/users/me/", &w.owner.access).await;
    assert_eq!(me["profile"]["total_catches"], 2);
}

#[tokio::test]
async fn unfriending_hides_friends_entries_and_revokes_their_urls() {
    let w = world().await;
    let app = &w.app;
    let path = format!("{ENTRIES}/user/{}/entries/", w.owner.id);
    let (_, before) = app.get_as(&path, &w.friend.access).await;
    let t = before["server_time"].as_str().unwrap().to_owned();
    let url = before["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["id"] == w.friends["id"])
        .unwrap()["dex_compatible_url"]
        .as_str()
        .unwrap()
        .to_owned();
    let unfriend = format!("/api/v1/social/friendships/{}/unfriend/", w.owner.id);
    assert_eq!(
        app.call(Method::DELETE, &unfriend, Some(&w.friend.access), None)
            .await
            .0,
        204
    );
    let (_, after) = app
        .get_as(
            &format!("{path}?last_sync={}", urlencode(&t)),
            &w.friend.access,
        )
        .await;
    assert_eq!(after["deleted"], json!([w.friends["id"]]));
    assert_eq!(app.fetch(&url).await.0, 404);
    let (_, list) = app.get_as(&format!("{ENTRIES}/"), &w.friend.access).await;
    assert_eq!(ids(&list), sorted(&[&w.public]));
}

#[tokio::test]
async fn batch_sync_is_bounded_and_reports_bad_items() {
    let w = world().await;
    let app = &w.app;
    let too_many: Vec<Value> = (0..51).map(|_| json!({"user_id": "self"})).collect();
    let (status, body) = app
        .post_as(
            &format!("{ENTRIES}/batch_sync/"),
            Some(&w.owner.access),
            json!({"sync_requests": too_many}),
        )
        .await;
    assert_eq!(status, 400);
    assert!(
        body["sync_requests"][0]
            .as_str()
            .unwrap()
            .contains("no more than 50")
    );
    let (status, body) = app
        .post_as(
            &format!("{ENTRIES}/batch_sync/"),
            Some(&w.owner.access),
            json!({"sync_requests": [{"user_id": "nope", "last_sync": null}, {"user_id": uuid::Uuid::new_v4()}, {"last_sync": "garbage"}]}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["results"]["nope"]["error"], "Invalid user_id");
    assert_eq!(
        body["results"]["self"]["count"], 3,
        "unreadable last_sync means a full sync"
    );
    let (status, body) = app
        .get_as(
            &format!("{ENTRIES}/sync_entries/?last_sync=yesterday"),
            &w.owner.access,
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(
        body["error"],
        "Invalid last_sync format. Use ISO 8601 datetime."
    );
    // my_entries is paginated.
    let (_, page) = app
        .get_as(&format!("{ENTRIES}/my_entries/"), &w.owner.access)
        .await;
    assert_eq!(page["count"], 3);
    assert!(page["results"][0]["animal"].is_string());
    for (q, want) in [("?page=last", 200), ("?page=2", 404), ("?page=0", 404)] {
        let (status, body) = app
            .get_as(&format!("{ENTRIES}/my_entries/{q}"), &w.owner.access)
            .await;
        assert_eq!(status, want, "{q}: {body}");
        if want == 200 {
            assert_eq!(body, page, "{q}");
        }
    }
    let stranger = app.user("nobody").await;
    let (_, none) = app
        .get_as(&format!("{ENTRIES}/my_entries/"), &stranger.access)
        .await;
    assert_eq!(
        (none["count"].clone(), none["results"].clone()),
        (json!(0), json!([]))
    );
}
