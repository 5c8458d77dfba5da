//! The species catalogue.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::TestApp;

#[tokio::test]
async fn anyone_lists_and_signed_in_users_create_animals() {
    let app = TestApp::spawn().await;
    let u = app.user("ash").await;
    let (status, body) = app
        .post_as(
            "/api/v1/animals/",
            Some(&u.access),
            json!({"scientific_name": "Panthera  leo", "common_name": "Lion", "class_name": "Mammalia", "interesting_facts": ["big"]}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["scientific_name"], "Panthera leo");
    assert_eq!(body["genus"], "Panthera", "genus derived from the binomial");
    assert_eq!(body["species"], "leo");
    assert_eq!(body["kingdom"], "Animalia");
    assert_eq!(body["conservation_status"], "NE");
    assert_eq!(
        body["verified"], false,
        "only staff create verified animals"
    );
    assert!(body["creation_index"].as_i64().unwrap() >= 1);
    let (status, body) = app
        .post_as(
            "/api/v1/animals/",
            Some(&u.access),
            json!({"scientific_name": "panthera LEO", "common_name": "x"}),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(
        body,
        json!({"scientific_name": ["animal with this scientific name already exists."]})
    );
    app.animal(&u, "Vulpes vulpes").await;
    app.animal(&u, "Canis lupus").await;

    // Anonymous list, search, filters and ordering.
    let (status, page) = app
        .call(Method::GET, "/api/v1/animals/?search=vul,pes", None, None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(page["count"], 1);
    assert_eq!(page["results"][0]["scientific_name"], "Vulpes vulpes");
    assert_eq!(page["results"][0]["created_by_username"], "ash");
    let (_, page) = app
        .call(
            Method::GET,
            "/api/v1/animals/?ordering=-scientific_name",
            None,
            None,
        )
        .await;
    let names: Vec<&str> = page["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["scientific_name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Vulpes vulpes", "Panthera leo", "Canis lupus"]);
    let (_, page) = app.call(Method::GET, "/api/v1/animals/", None, None).await;
    let idx: Vec<i64> = page["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["creation_index"].as_i64().unwrap())
        .collect();
    assert!(
        idx.windows(2).all(|w| w[0] < w[1]),
        "default order is the Pokédex number: {idx:?}"
    );
    let (status, body) = app
        .call(
            Method::GET,
            "/api/v1/animals/?conservation_status=XX",
            None,
            None,
        )
        .await;
    assert_eq!(status, 400);
    assert!(
        body["conservation_status"][0]
            .as_str()
            .unwrap()
            .contains("XX is not one of")
    );
    let (_, page) = app
        .call(
            Method::GET,
            "/api/v1/animals/?verified=maybe&ordering=bogus",
            None,
            None,
        )
        .await;
    assert_eq!(
        page["count"], 3,
        "bad boolean and ordering values are ignored"
    );
    // A bad token is a 401 even here.
    let (status, _) = app
        .call(Method::GET, "/api/v1/animals/", Some("garbage"), None)
        .await;
    assert_eq!(status, 401);
    let (status, _) = app
        .call(Method::POST, "/api/v1/animals/", None, Some(json!({})))
        .await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn twenty_concurrent_creations_get_twenty_distinct_numbers() {
    let app = TestApp::spawn().await;
    let u = app.user("misty").await;
    let calls = (0..20).map(|i| {
        let body = json!({"scientific_name": format!("Species number{i}"), "common_name": format!("Critter {i}")});
        app.post_as("/api/v1/animals/", Some(&u.access), body)
    });
    let results = futures_util::future::join_all(calls).await;
    let mut numbers: Vec<i64> = results
        .iter()
        .map(|(s, b)| {
            assert_eq!(*s, 201, "{b}");
            b["creation_index"].as_i64().unwrap()
        })
        .collect();
    numbers.sort_unstable();
    numbers.dedup();
    assert_eq!(numbers.len(), 20);
}

#[tokio::test]
async fn detail_counts_discoverers_and_only_staff_edit_or_delete() {
    let app = TestApp::spawn().await;
    let u = app.user("brock").await;
    let id = app.animal(&u, "Ursus arctos").await;
    let path = format!("/api/v1/animals/{id}/");
    let (status, a) = app.call(Method::GET, &path, None, None).await;
    assert_eq!(status, 200);
    assert_eq!(a["discovery_count"], 0);
    assert_eq!(a["taxonomic_tree"]["genus"], "Ursus");
    assert!(a["taxonomic_tree"].get("class").is_some());
    let job = app.job_with_image(&u, 1).await;
    let (s, _) = app
        .post_as(
            "/api/v1/dex/entries/",
            Some(&u.access),
            json!({"animal": id, "source_vision_job": job}),
        )
        .await;
    assert_eq!(s, 201);
    let (_, a) = app.call(Method::GET, &path, None, None).await;
    assert_eq!(a["discovery_count"], 1);

    let (status, _) = app
        .call(
            Method::PATCH,
            &path,
            Some(&u.access),
            Some(json!({"common_name": "Bear"})),
        )
        .await;
    assert_eq!(status, 403);
    assert_eq!(
        app.call(Method::DELETE, &path, Some(&u.access), None)
            .await
            .0,
        403
    );
    app.sql("UPDATE users SET is_staff = true WHERE username = 'brock'")
        .await;
    let (status, a) = app
        .call(
            Method::PATCH,
            &path,
            Some(&u.access),
            Some(json!({"common_name": "Brown bear", "verified": true})),
        )
        .await;
    assert_eq!(status, 200, "{a}");
    assert_eq!(
        (a["common_name"].as_str(), a["verified"].as_bool()),
        (Some("Brown bear"), Some(true))
    );
    let number = a["creation_index"].as_i64().unwrap();
    assert_eq!(
        app.call(Method::DELETE, &path, Some(&u.access), None)
            .await
            .0,
        204
    );
    // The number of a deleted animal is never handed out again.
    let (_, again) = app
        .post_as(
            "/api/v1/animals/",
            Some(&u.access),
            json!({"scientific_name": "Ursus arctos", "common_name": "Bear"}),
        )
        .await;
    assert!(again["creation_index"].as_i64().unwrap() > number);

    for bad in ["/api/v1/animals/nope/", "/api/v1/animals/12/taxonomy/"] {
        let (status, body) = app.call(Method::GET, bad, Some(&u.access), None).await;
        assert_eq!(status, 404, "{bad}: {body}");
    }
}

#[tokio::test]
async fn lookup_or_create_works_for_everyone_with_the_clients_body() {
    let app = TestApp::spawn().await;
    let u = app.user("gary").await;
    // manual_entry_popup.gd omits common_name when it is empty (docs/wire-compatibility.md#m5).
    let body = json!({"scientific_name": "Vulpes vulpes", "kingdom": "Animalia", "phylum": "Chordata", "class_name": "Mammalia",
                      "order": "Carnivora", "family": "Canidae", "genus": "Vulpes", "species": "vulpes"});
    let (status, created) = app
        .post_as("/api/v1/animals/lookup_or_create/", Some(&u.access), body)
        .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["created"], true);
    assert_eq!(created["animal"]["common_name"], "Vulpes vulpes");
    assert_eq!(created["animal"]["order"], "Carnivora");
    let (status, found) = app
        .post_as(
            "/api/v1/animals/lookup_or_create/",
            Some(&u.access),
            json!({"scientific_name": "VULPES vulpes", "common_name": "Fox"}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(found["created"], false);
    assert_eq!(found["animal"]["id"], created["animal"]["id"]);
    let (status, body) = app
        .post_as(
            "/api/v1/animals/lookup_or_create/",
            Some(&u.access),
            json!({}),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "scientific_name is required");

    // Racing lookups of a new name agree on one animal.
    let calls = (0..8).map(|_| {
        app.post_as(
            "/api/v1/animals/lookup_or_create/",
            Some(&u.access),
            json!({"scientific_name": "Felis catus"}),
        )
    });
    let results = futures_util::future::join_all(calls).await;
    let ids: std::collections::HashSet<String> = results
        .iter()
        .map(|(s, b)| {
            assert!(*s == 200 || *s == 201, "{b}");
            b["animal"]["id"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(ids.len(), 1);
    assert_eq!(
        results.iter().filter(|(_, b)| b["created"] == true).count(),
        1
    );
}

#[tokio::test]
async fn recent_and_popular_work_for_every_signed_in_user() {
    let app = TestApp::spawn().await;
    let u = app.user("iris").await;
    let a = app.animal(&u, "Passer domesticus").await;
    app.animal(&u, "Turdus migratorius").await;
    for seed in 0..2 {
        let job = app.job_with_image(&u, seed).await;
        let (s, b) = app
            .post_as(
                "/api/v1/dex/entries/",
                Some(&u.access),
                json!({"animal": a, "source_vision_job": job, "catch_date": format!("2026-01-0{}T00:00:00Z", seed + 1)}),
            )
            .await;
        assert_eq!(s, 201, "{b}");
    }
    let (status, recent) = app.get_as("/api/v1/animals/recent/", &u.access).await;
    assert_eq!(status, 200);
    assert_eq!(recent.as_array().unwrap().len(), 2);
    let (status, popular) = app.get_as("/api/v1/animals/popular/", &u.access).await;
    assert_eq!(status, 200);
    assert_eq!(popular[0]["scientific_name"], "Passer domesticus");
    assert_eq!(popular[0]["capture_count"], 2);
    let (status, tax) = app
        .get_as(&format!("/api/v1/animals/{a}/taxonomy/"), &u.access)
        .await;
    assert_eq!(status, 200);
    assert_eq!(tax["genus"], "Passer");
    assert_eq!(
        app.call(Method::GET, "/api/v1/animals/recent/", None, None)
            .await
            .0,
        401
    );
    let _: Value = tax;
}

/// The page and its total come from one statement; the pages, `last`, and the 404s past the
/// end or below 1 are DRF's.
#[tokio::test]
async fn the_catalogue_pages_with_its_total_and_refuses_pages_past_the_end() {
    let app = TestApp::spawn().await;
    let u = app.user("oak").await;
    let page = async |q: &str| app.get_as(&format!("/api/v1/animals/{q}"), &u.access).await;
    let (s, empty) = page("").await;
    assert_eq!((s, empty["count"].clone()), (200, json!(0)));
    assert_eq!(page("?page=last").await.1["count"], 0);
    assert_eq!(
        page("?page=2").await,
        (404, json!({"detail": "Invalid page."}))
    );
    app.sql(
        "INSERT INTO animals (scientific_name, common_name, creation_index) \
         SELECT 'Genus s' || n, 'Animal ' || n, n FROM generate_series(1, 120) n",
    )
    .await;
    let (s, first) = page("").await;
    assert_eq!(s, 200);
    assert_eq!(first["count"], 120);
    assert_eq!(first["results"].as_array().unwrap().len(), 50);
    assert_eq!(first["results"][0]["scientific_name"], "Genus s1");
    assert!(
        first["next"]
            .as_str()
            .unwrap()
            .ends_with("/api/v1/animals/?page=2")
    );
    let (_, third) = page("?page=3").await;
    assert_eq!(
        (
            third["count"].clone(),
            third["results"].as_array().unwrap().len()
        ),
        (json!(120), 20)
    );
    assert_eq!(third["results"][19]["scientific_name"], "Genus s120");
    assert_eq!(third["next"], Value::Null);
    assert_eq!(page("?page=last").await.1, third);
    let (_, filtered) = page("?search=s11&page=1").await;
    assert_eq!(filtered["count"], 11, "s11 and s110..s119");
    for bad in [
        "?page=4",
        "?page=0",
        "?page=-1",
        "?page=two",
        "?search=s11&page=2",
    ] {
        assert_eq!(
            page(bad).await,
            (404, json!({"detail": "Invalid page."})),
            "{bad}"
        );
    }
}
