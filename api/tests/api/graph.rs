//! The taxonomic tree: scope and privacy in every mode and route, unique ids and sound edges,
//! determinism, chunks (negative ones too), search, invalidation after every kind of change,
//! the legacy routes, and bad parameters.

use std::collections::{HashMap, HashSet};

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser, closed_port};

const TREE: &str = "/api/v1/graph/tree/";

/// An animal with a full classification (`""` leaves a rank empty); returns its id.
async fn species(app: &TestApp, who: &TestUser, name: &str, common: &str, r: [&str; 7]) -> String {
    let (s, body) = app
        .post_as(
            "/api/v1/animals/",
            Some(&who.access),
            json!({
                "scientific_name": name, "common_name": common,
                "kingdom": r[0], "phylum": r[1], "class_name": r[2], "order": r[3],
                "family": r[4], "genus": r[5], "species": r[6],
            }),
        )
        .await;
    assert_eq!(s, 201, "{body}");
    body["id"].as_str().unwrap().to_owned()
}

const WOLF: [&str; 7] = [
    "Animalia",
    "Chordata",
    "Mammalia",
    "Carnivora",
    "Canidae",
    "Canis",
    "lupus",
];
const LION: [&str; 7] = [
    "Animalia",
    "Chordata",
    "Mammalia",
    "Carnivora",
    "Felidae",
    "Panthera",
    "leo",
];
const TIGER: [&str; 7] = [
    "Animalia",
    "Chordata",
    "Mammalia",
    "Carnivora",
    "Felidae",
    "Panthera",
    "tigris",
];
const FOX: [&str; 7] = [
    "Animalia",
    "Chordata",
    "Mammalia",
    "Carnivora",
    "Canidae",
    "Vulpes",
    "vulpes",
];
const BEAR: [&str; 7] = [
    "Animalia",
    "Chordata",
    "Mammalia",
    "Carnivora",
    "Ursidae",
    "Ursus",
    "arctos",
];

/// Catches `animal` with the given visibility; returns the entry id.
async fn catch(app: &TestApp, who: &TestUser, animal: &str, visibility: &str) -> String {
    let job = app.job_with_image(who, 3).await;
    let (s, body) = app
        .post_as(
            "/api/v1/dex/entries/",
            Some(&who.access),
            json!({"animal": animal, "visibility": visibility, "source_vision_job": job}),
        )
        .await;
    assert_eq!(s, 201, "{body}");
    body["id"].as_str().unwrap().to_owned()
}

async fn tree(app: &TestApp, who: &TestUser, query: &str) -> Value {
    let (s, body) = app.get_as(&format!("{TREE}?{query}"), &who.access).await;
    assert_eq!(s, 200, "{body}");
    body
}

/// Scientific names of the animal nodes.
fn animals(t: &Value) -> Vec<String> {
    let mut names: Vec<String> = t["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["type"] == "animal")
        .map(|n| n["scientific_name"].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    names
}

fn node<'a>(t: &'a Value, scientific_name: &str) -> &'a Value {
    t["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["type"] == "animal" && n["scientific_name"] == scientific_name)
        .unwrap_or_else(|| panic!("{scientific_name} not in the tree"))
}

struct World {
    app: TestApp,
    ash: TestUser,
    misty: TestUser,
    brock: TestUser,
    ids: HashMap<&'static str, String>,
}

/// ash (wolf, private) is friends with misty (lion: friends, tiger: private, fox: public);
/// brock, a stranger, has a public bear.
async fn world() -> World {
    let app = TestApp::spawn().await;
    let ash = app.user("ash").await;
    let misty = app.user("misty").await;
    let brock = app.user("brock").await;
    app.befriend(&ash, &misty).await;
    let mut ids = HashMap::new();
    for (name, common, ranks) in [
        ("Canis lupus", "Grey wolf", WOLF),
        ("Panthera leo", "Lion", LION),
        ("Panthera tigris", "Tiger", TIGER),
        ("Vulpes vulpes", "Red fox", FOX),
        ("Ursus arctos", "Brown bear", BEAR),
    ] {
        ids.insert(name, species(&app, &ash, name, common, ranks).await);
    }
    catch(&app, &ash, &ids["Canis lupus"], "private").await;
    catch(&app, &misty, &ids["Panthera leo"], "friends").await;
    catch(&app, &misty, &ids["Panthera tigris"], "private").await;
    catch(&app, &misty, &ids["Vulpes vulpes"], "public").await;
    catch(&app, &brock, &ids["Ursus arctos"], "public").await;
    World {
        app,
        ash,
        misty,
        brock,
        ids,
    }
}

#[tokio::test]
async fn each_mode_shows_exactly_the_entries_the_viewer_may_see() {
    let w = world().await;
    let (app, ash, misty, brock) = (&w.app, &w.ash, &w.misty, &w.brock);

    // Default mode is friends: own private wolf, misty's friends-only lion and public fox.
    let t = tree(app, ash, "").await;
    assert_eq!(
        animals(&t),
        ["Canis lupus", "Panthera leo", "Vulpes vulpes"]
    );
    assert_eq!(t["metadata"]["mode"], "friends");
    assert_eq!(t["metadata"]["scoped_users"], 2);
    assert_eq!(t["metadata"]["username"], "ash");
    let lion = node(&t, "Panthera leo");
    assert_eq!(lion["captured_by_user"], false);
    assert_eq!(lion["capture_count"], 1);
    let friend = &lion["captured_by_friends"][0];
    assert_eq!(friend["user_id"], misty.id.as_str());
    assert_eq!(friend["username"], "misty");
    assert!(friend["captured_at"].as_str().unwrap().ends_with("+00:00"));
    assert!(lion["discoverer"].is_object());
    assert_eq!(lion["discoverer"]["username"], "ash");
    assert_eq!(lion["discoverer"]["is_self"], true);
    let wolf = node(&t, "Canis lupus");
    assert_eq!(wolf["captured_by_user"], true);
    assert_eq!(wolf["captured_by_friends"], json!([]));
    let stats = &t["stats"];
    assert_eq!(stats["total_animals"], 3);
    assert_eq!(stats["user_captures"], 1);
    assert_eq!(
        stats["friend_captures"], 2,
        "the private tiger is not counted"
    );
    assert_eq!(stats["unique_to_user"], 1);
    assert_eq!(stats["shared_with_friends"], 0);
    assert_eq!(stats["unique_family"], 2);
    assert_eq!(stats["unique_genus"], 3);
    let text = t.to_string();
    assert!(!text.contains("tigris") && !text.contains(w.ids["Panthera tigris"].as_str()));

    // Personal: only the own entries.
    let t = tree(app, ash, "mode=personal").await;
    assert_eq!(animals(&t), ["Canis lupus"]);
    assert_eq!(t["metadata"]["scoped_users"], 1);

    // misty sees her own tiger but not ash's private wolf.
    let t = tree(app, misty, "mode=friends").await;
    assert_eq!(
        animals(&t),
        ["Panthera leo", "Panthera tigris", "Vulpes vulpes"]
    );

    // brock is no one's friend: his own bear only, and no global view without staff.
    let t = tree(app, brock, "").await;
    assert_eq!(animals(&t), ["Ursus arctos"]);
    let (s, body) = app
        .get_as(&format!("{TREE}?mode=global"), &brock.access)
        .await;
    assert_eq!(s, 403);
    assert_eq!(body["error"], "Admin privileges required for global view");
    assert!(body["detail"].is_string());

    // Staff brock's global view: everything he may see, still nothing private of others.
    app.sql("UPDATE users SET is_staff = true WHERE username = 'brock'")
        .await;
    let t = tree(app, brock, "mode=global").await;
    assert_eq!(animals(&t), ["Ursus arctos", "Vulpes vulpes"]);
    assert_eq!(t["metadata"]["scoped_users"], "all");
    assert_eq!(t["stats"]["scope"]["is_admin_view"], true);
    assert!(t["stats"].get("user_captures").is_none());
    let (s, _) = app
        .get_as(&format!("{TREE}chunk/0/0/?mode=global"), &ash.access)
        .await;
    assert_eq!(s, 403);

    // The friends summary counts only what ash may see of misty's (lion and fox).
    let (s, body) = app.get_as(&format!("{TREE}friends/"), &ash.access).await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["total_friends"], 1);
    assert_eq!(body["friends"][0]["username"], "misty");
    assert_eq!(body["friends"][0]["unique_species"], 2);
    assert!(body["friends"][0]["friend_code"].is_string());

    // Search never finds the private tiger.
    let (s, body) = app
        .get_as(&format!("{TREE}search/?q=tigris"), &ash.access)
        .await;
    assert_eq!(s, 200);
    assert_eq!(body["count"], 0);

    // The legacy graph has the same scope.
    let (s, body) = app
        .get_as("/api/v1/graph/taxonomic-tree/?use_cache=true", &ash.access)
        .await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["stats"]["total_animals"], 3);
    assert_eq!(body["stats"]["friend_count"], 1);
    assert_eq!(body["metadata"]["username"], "ash");
    assert!(!body.to_string().contains("tigris"));
    let (s, body) = app
        .post_as(
            "/api/v1/graph/invalidate-cache/",
            Some(&ash.access),
            json!({}),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(body["message"], "Graph cache invalidated successfully");
}

#[tokio::test]
async fn selected_mode_keeps_only_real_friends() {
    let w = world().await;
    let (app, ash, misty, brock) = (&w.app, &w.ash, &w.misty, &w.brock);
    let t = tree(
        app,
        ash,
        &format!("mode=selected&friend_ids={},%20{}", brock.id, misty.id),
    )
    .await;
    assert_eq!(
        animals(&t),
        ["Canis lupus", "Panthera leo", "Vulpes vulpes"]
    );
    assert_eq!(t["metadata"]["scoped_users"], 2, "brock is not a friend");
    let t = tree(app, ash, &format!("mode=selected&friend_ids={}", brock.id)).await;
    assert_eq!(animals(&t), ["Canis lupus"]);
    let t = tree(app, ash, "mode=selected").await;
    assert_eq!(animals(&t), ["Canis lupus"]);
    let (s, body) = app
        .get_as(
            &format!("{TREE}?mode=selected&friend_ids=nope"),
            &ash.access,
        )
        .await;
    assert_eq!(s, 400);
    assert_eq!(
        body["error"],
        "Invalid friend_ids format - expected comma-separated UUIDs"
    );
}

#[tokio::test]
async fn node_ids_are_unique_and_every_edge_joins_two_nodes_even_with_missing_ranks() {
    let app = TestApp::spawn().await;
    let ash = app.user("ash").await;
    let full = species(
        &app,
        &ash,
        "Felis catus",
        "Cat",
        [
            "Animalia",
            "Chordata",
            "Mammalia",
            "Carnivora",
            "Felidae",
            "Felis",
            "catus",
        ],
    )
    .await;
    // No phylum: Mammalia (and so Felidae) is reached through another path.
    let gap = species(
        &app,
        &ash,
        "Panthera onca",
        "Jaguar",
        [
            "Animalia",
            "",
            "Mammalia",
            "Carnivora",
            "Felidae",
            "Panthera",
            "onca",
        ],
    )
    .await;
    // No rank at all: hangs under the root.
    let bare = species(
        &app,
        &ash,
        "Mysteryus",
        "Mystery",
        ["", "", "", "", "", "", ""],
    )
    .await;
    for a in [&full, &gap, &bare] {
        catch(&app, &ash, a, "friends").await;
    }
    let t = tree(&app, &ash, "").await;
    let nodes = t["nodes"].as_array().unwrap();
    let ids: Vec<&str> = nodes.iter().map(|n| n["id"].as_str().unwrap()).collect();
    let unique: HashSet<&str> = ids.iter().copied().collect();
    assert_eq!(unique.len(), ids.len(), "{ids:?}");
    assert_eq!(ids.iter().filter(|i| i.starts_with("class_")).count(), 2);
    assert_eq!(ids.iter().filter(|i| i.starts_with("family_")).count(), 2);
    assert!(unique.contains("root"));
    for key in [
        "id",
        "type",
        "node_type",
        "rank",
        "name",
        "scientific_name",
        "common_name",
        "creation_index",
        "position",
        "captured_by_user",
        "captured_by_friends",
        "capture_count",
        "children_count",
        "animal_count",
        "conservation_status",
        "verified",
        "taxonomy",
        "discoverer",
    ] {
        assert!(
            nodes.iter().all(|n| n.get(key).is_some()),
            "every node has {key}"
        );
    }
    assert!(nodes.iter().all(|n| n["discoverer"].is_object()));
    let edges = t["edges"].as_array().unwrap();
    assert_eq!(edges.len(), nodes.len() - 1);
    for e in edges {
        assert!(unique.contains(e["source"].as_str().unwrap()), "{e}");
        assert!(unique.contains(e["target"].as_str().unwrap()), "{e}");
        assert_eq!(e["relationship"], "parent_child");
    }
    let bare_edge = edges.iter().find(|e| e["target"] == bare.as_str()).unwrap();
    assert_eq!(bare_edge["source"], "root");
    assert_eq!(bare_edge["rank_transition"], "root_to_species");
    let positions = t["layout"]["positions"].as_object().unwrap();
    assert_eq!(positions.len(), nodes.len());
    for n in nodes {
        assert_eq!(positions[n["id"].as_str().unwrap()], n["position"]);
    }
    assert_eq!(t["layout"]["world_bounds"].as_array().unwrap().len(), 4);
    assert_eq!(
        t["layout"]["chunk_size"],
        json!({"width": 2048, "height": 2048})
    );
    assert_eq!(t["metadata"]["total_nodes"], nodes.len());
    assert_eq!(t["metadata"]["total_edges"], edges.len());
    assert_eq!(
        t["metadata"]["cache_key"],
        format!("taxonomic_tree_friends_{}", ash.id)
    );
}

#[tokio::test]
async fn the_same_data_gives_byte_identical_trees() {
    let w = world().await;
    let get = async |q: &str| {
        let res = w
            .app
            .send(
                Method::GET,
                &format!("{TREE}?{q}"),
                Some(&w.ash.access),
                None,
            )
            .await;
        assert_eq!(res.status(), 200);
        res.bytes().await.unwrap()
    };
    let a = get("use_cache=false").await;
    let b = get("use_cache=false").await;
    let c = get("use_cache=true").await;
    let d = get("").await;
    assert_eq!(a, b);
    assert_eq!(a, c);
    assert_eq!(a, d);
    let (_, metrics) = w.app.fetch(&w.app.url("/metrics")).await;
    let metrics = String::from_utf8(metrics).unwrap();
    assert!(
        metrics.contains("graph_cache_lookups_total{result=\"hit\"} 2"),
        "{metrics}"
    );
}

#[tokio::test]
async fn chunks_accept_negative_coordinates_and_list_exactly_their_members() {
    let app = TestApp::spawn().await;
    let ash = app.user("ash").await;
    // Forty genera side by side: a tree several chunks wide on both sides of x = 0.
    for i in 0..40 {
        let name = format!("Genus{i} species{i}");
        let ranks = ["Animalia", "Chordata", "Aves", "", "", "", ""];
        let a = species(&app, &ash, &name, &name, ranks).await;
        catch(&app, &ash, &a, "friends").await;
    }
    let t = tree(&app, &ash, "").await;
    let meta = &t["layout"]["chunk_metadata"];
    let chunks = meta["chunks"].as_array().unwrap();
    assert_eq!(meta["total_chunks"], chunks.len());
    assert!(chunks.iter().any(|c| c["chunk_x"].as_i64().unwrap() < 0));
    let mut seen = HashSet::new();
    for c in chunks {
        let (x, y) = (
            c["chunk_x"].as_i64().unwrap(),
            c["chunk_y"].as_i64().unwrap(),
        );
        let (s, body) = app
            .get_as(&format!("{TREE}chunk/{x}/{y}/"), &ash.access)
            .await;
        assert_eq!(s, 200, "{body}");
        assert_eq!(body["node_count"], c["node_count"], "chunk {x},{y}");
        assert_eq!(body["edge_count"], c["edge_count"], "chunk {x},{y}");
        for n in body["nodes"].as_array().unwrap() {
            let p = &n["position"];
            assert_eq!((p[0].as_f64().unwrap() / 2048.0).floor() as i64, x);
            assert!(
                seen.insert(n["id"].as_str().unwrap().to_owned()),
                "a node in two chunks"
            );
        }
    }
    assert_eq!(seen.len(), t["nodes"].as_array().unwrap().len());
    let (s, body) = app
        .get_as(&format!("{TREE}chunk/-900/-900/"), &ash.access)
        .await;
    assert_eq!(s, 200);
    assert_eq!(body["node_count"], 0);
    assert_eq!(body["nodes"], json!([]));
    let (s, _) = app
        .get_as(&format!("{TREE}chunk/abc/0/"), &ash.access)
        .await;
    assert_eq!(s, 404);
}

#[tokio::test]
async fn search_finds_animals_by_name_with_their_positions() {
    let w = world().await;
    let (app, ash) = (&w.app, &w.ash);
    let t = tree(app, ash, "").await;
    let (s, body) = app
        .get_as(&format!("{TREE}search/?q=LUPUS&limit=50"), &ash.access)
        .await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["count"], 1);
    let hit = &body["results"][0];
    assert_eq!(hit["scientific_name"], "Canis lupus");
    assert_eq!(hit["position"], node(&t, "Canis lupus")["position"]);
    assert_eq!(
        hit["taxonomy_path"],
        "Animalia/Chordata/Mammalia/Carnivora/Canidae/Canis/lupus"
    );
    // By common name, with an integral float limit.
    let (s, body) = app
        .get_as(&format!("{TREE}search/?q=fox&limit=5.0"), &ash.access)
        .await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["results"][0]["scientific_name"], "Vulpes vulpes");
    let (_, body) = app
        .get_as(&format!("{TREE}search/?q=a&limit=1"), &ash.access)
        .await;
    assert_eq!(body["count"], 1);
    for bad in ["abc", "0", "2.5"] {
        let (s, body) = app
            .get_as(&format!("{TREE}search/?q=a&limit={bad}"), &ash.access)
            .await;
        assert_eq!(s, 400, "{bad}");
        assert!(body["limit"][0].is_string(), "{body}");
    }
    let (s, body) = app.get_as(&format!("{TREE}search/"), &ash.access).await;
    assert_eq!(s, 400);
    assert_eq!(body["error"], "Query parameter required");
}

/// Searches read an index made from the cached tree: a catch that changes the tree is in the
/// next search, and hits come in Pokédex order (fox before bear), not by name.
#[tokio::test]
async fn search_follows_the_tree_and_keeps_pokedex_order() {
    let w = world().await;
    let (app, ash) = (&w.app, &w.ash);
    let search = async |q: &str| {
        let (s, body) = app.get_as(&format!("{TREE}search/?{q}"), &ash.access).await;
        assert_eq!(s, 200, "{body}");
        let names: Vec<String> = body["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["scientific_name"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(body["count"], names.len());
        names
    };
    assert_eq!(search("q=u").await, ["Canis lupus", "Vulpes vulpes"]);
    // The same search again reads the index of the tree now cached.
    assert_eq!(search("q=U").await, ["Canis lupus", "Vulpes vulpes"]);
    catch(app, ash, &w.ids["Ursus arctos"], "private").await;
    assert_eq!(
        search("q=u").await,
        ["Canis lupus", "Vulpes vulpes", "Ursus arctos"]
    );
    assert_eq!(
        search("q=u&limit=2").await,
        ["Canis lupus", "Vulpes vulpes"]
    );
    assert_eq!(search("q=brown%20BEAR").await, ["Ursus arctos"]);
}

#[tokio::test]
async fn bad_parameters_are_400s_and_the_tree_needs_a_login() {
    let app = TestApp::spawn().await;
    let ash = app.user("ash").await;
    let (s, body) = app
        .get_as(&format!("{TREE}?mode=everything"), &ash.access)
        .await;
    assert_eq!(s, 400);
    assert!(body["mode"][0].is_string(), "{body}");
    let (s, _) = app.call(Method::GET, TREE, None, None).await;
    assert_eq!(s, 401);
    let path = format!("{TREE}invalidate/");
    let (s, body) = app
        .post_as(&path, Some(&ash.access), json!({"scope": "global"}))
        .await;
    assert_eq!(s, 403);
    assert_eq!(body["error"], "Admin privileges required");
    let (s, body) = app
        .post_as(&path, Some(&ash.access), json!({"scope": "moon"}))
        .await;
    assert_eq!(s, 400);
    assert!(body["scope"][0].is_string());
    let (s, body) = app.post_as(&path, Some(&ash.access), json!({})).await;
    assert_eq!(s, 200);
    assert_eq!(body["message"], "Tree caches invalidated for user ash");
    // An empty tree is just the root.
    let t = tree(&app, &ash, "").await;
    assert_eq!(t["nodes"].as_array().unwrap().len(), 1);
    assert_eq!(t["edges"], json!([]));
}

#[tokio::test]
async fn every_kind_of_change_shows_in_the_next_cached_tree() {
    let w = world().await;
    let (app, ash, misty) = (&w.app, &w.ash, &w.misty);
    let names = async || animals(&tree(app, ash, "").await);
    assert_eq!(
        names().await,
        ["Canis lupus", "Panthera leo", "Vulpes vulpes"]
    );
    assert_eq!(
        names().await,
        ["Canis lupus", "Panthera leo", "Vulpes vulpes"],
        "cached"
    );

    // A friend's new entry.
    let bear = catch(app, misty, &w.ids["Ursus arctos"], "friends").await;
    assert!(names().await.contains(&"Ursus arctos".to_owned()));

    // A friend narrows an entry to private.
    let path = format!("/api/v1/dex/entries/{bear}/");
    let (s, body) = app
        .call(
            Method::PATCH,
            &path,
            Some(&misty.access),
            Some(json!({"visibility": "private"})),
        )
        .await;
    assert_eq!(s, 200, "{body}");
    assert!(!names().await.contains(&"Ursus arctos".to_owned()));

    // Widening it again, then deleting it.
    let (s, _) = app
        .call(
            Method::PATCH,
            &path,
            Some(&misty.access),
            Some(json!({"visibility": "public"})),
        )
        .await;
    assert_eq!(s, 200);
    assert!(names().await.contains(&"Ursus arctos".to_owned()));
    let (s, _) = app
        .call(Method::DELETE, &path, Some(&misty.access), None)
        .await;
    assert_eq!(s, 204);
    assert!(!names().await.contains(&"Ursus arctos".to_owned()));

    // The viewer's own new entry, and a favourite toggle (the tree stays sound).
    let own = catch(app, ash, &w.ids["Panthera tigris"], "private").await;
    assert!(names().await.contains(&"Panthera tigris".to_owned()));
    let (s, _) = app
        .post_as(
            &format!("/api/v1/dex/entries/{own}/toggle_favorite/"),
            Some(&ash.access),
            json!({}),
        )
        .await;
    assert_eq!(s, 200);
    assert!(names().await.contains(&"Panthera tigris".to_owned()));

    // An animal edit (staff) shows in everyone's tree.
    app.sql("UPDATE users SET is_staff = true WHERE username = 'brock'")
        .await;
    let lion = &w.ids["Panthera leo"];
    let (s, body) = app
        .call(
            Method::PATCH,
            &format!("/api/v1/animals/{lion}/"),
            Some(&w.brock.access),
            Some(json!({"common_name": "King of beasts"})),
        )
        .await;
    assert_eq!(s, 200, "{body}");
    let t = tree(app, ash, "").await;
    assert_eq!(node(&t, "Panthera leo")["common_name"], "King of beasts");

    // Unfriending hides misty's entries; befriending again brings them back.
    let (s, _) = app
        .call(
            Method::DELETE,
            &format!("/api/v1/social/friendships/{}/unfriend/", misty.id),
            Some(&ash.access),
            None,
        )
        .await;
    assert_eq!(s, 204);
    assert_eq!(names().await, ["Canis lupus", "Panthera tigris"]);
    app.befriend(misty, ash).await;
    assert_eq!(
        names().await,
        [
            "Canis lupus",
            "Panthera leo",
            "Panthera tigris",
            "Vulpes vulpes"
        ]
    );

    // A deleted animal leaves the tree.
    let (s, _) = app
        .call(
            Method::DELETE,
            &format!("/api/v1/animals/{lion}/"),
            Some(&w.brock.access),
            None,
        )
        .await;
    assert_eq!(s, 204);
    assert_eq!(
        names().await,
        ["Canis lupus", "Panthera tigris", "Vulpes vulpes"]
    );

    // A block hides the blocker's public entries from the other, in every mode.
    let global = async || animals(&tree(app, &w.brock, "mode=global").await);
    assert!(global().await.contains(&"Vulpes vulpes".to_owned()));
    let (s, body) = app
        .post_as(
            "/api/v1/social/friendships/send_request/",
            Some(&w.brock.access),
            json!({"user_id": misty.id}),
        )
        .await;
    assert_eq!(s, 201, "{body}");
    let row = body["id"].as_str().unwrap();
    let (s, _) = app
        .post_as(
            &format!("/api/v1/social/friendships/{row}/respond/"),
            Some(&misty.access),
            json!({"action": "block"}),
        )
        .await;
    assert_eq!(s, 200);
    assert!(!global().await.contains(&"Vulpes vulpes".to_owned()));
}

#[tokio::test]
async fn the_tree_is_served_without_redis() {
    let redis = format!("redis://127.0.0.1:{}/0", closed_port());
    let app = TestApp::spawn_with(&[("REDIS_URL", redis.as_str())]).await;
    let ash = app.user("ash").await;
    let a = species(&app, &ash, "Canis lupus", "Grey wolf", WOLF).await;
    catch(&app, &ash, &a, "friends").await;
    let t = tree(&app, &ash, "").await;
    assert_eq!(animals(&t), ["Canis lupus"]);
    let (_, metrics) = app.fetch(&app.url("/metrics")).await;
    let metrics = String::from_utf8(metrics).unwrap();
    assert!(
        metrics.contains("graph_cache_lookups_total{result=\"error\"}"),
        "{metrics}"
    );
}

#[tokio::test]
async fn a_change_made_through_one_replica_shows_in_the_next_tree_of_another() {
    let w = world().await;
    let other = w.app.sibling(&[]).await;
    let names = async || animals(&tree(&other, &w.ash, "").await);
    assert!(!names().await.contains(&"Ursus arctos".to_owned()));
    assert!(
        !names().await.contains(&"Ursus arctos".to_owned()),
        "from memory"
    );
    catch(&w.app, &w.misty, &w.ids["Ursus arctos"], "friends").await;
    assert!(names().await.contains(&"Ursus arctos".to_owned()));
}
