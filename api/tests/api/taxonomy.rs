//! Taxonomy: the ColDP importer on the sample release, name matching, the animal upsert and
//! every `/taxonomy/` and `/sources/` endpoint, against real PostgreSQL.

use std::{
    io::Write,
    path::{Path, PathBuf},
};

use biologidex_db::models::taxa::{SearchParams, Taxa};
use biologidex_taxonomy::{
    import::{self, ImportError, ImportOptions, ImportReport},
    matching,
};
use diesel_async::{AsyncConnection, RunQueryDsl};
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::TestApp;

fn sample() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/testdata/coldp-sample")
}

async fn import(app: &TestApp, path: &Path) -> Result<ImportReport, ImportError> {
    import::import_path(&app.state.db, app.db.url(), path, &ImportOptions::default()).await
}

async fn imported() -> TestApp {
    let app = TestApp::spawn().await;
    app.import_sample().await;
    app
}

#[derive(diesel::QueryableByName)]
struct N {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

#[derive(diesel::QueryableByName)]
struct S {
    #[diesel(sql_type = diesel::sql_types::Text)]
    s: String,
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    let mut conn = app.state.db.get().await.expect("conn");
    let rows: Vec<N> = diesel::sql_query(sql).load(&mut conn).await.expect(sql);
    rows[0].n
}

async fn text(app: &TestApp, sql: &str) -> String {
    let mut conn = app.state.db.get().await.expect("conn");
    let rows: Vec<S> = diesel::sql_query(sql).load(&mut conn).await.expect(sql);
    rows[0].s.clone()
}

async fn taxon_id(app: &TestApp, name: &str) -> String {
    text(
        app,
        &format!(
            "SELECT id::text AS s FROM taxa WHERE scientific_name = '{name}' \
             AND status IN ('accepted', 'provisional')"
        ),
    )
    .await
}

async fn get(app: &TestApp, path: &str) -> (u16, Value) {
    app.call(Method::GET, path, None, None).await
}

/// A copy of the sample release in a fresh folder, with `edit` applied to NameUsage.tsv.
fn sample_copy(edit: impl FnOnce(String) -> String) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("coldp-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).expect("dir");
    for entry in std::fs::read_dir(sample()).expect("sample") {
        let entry = entry.expect("entry");
        std::fs::copy(entry.path(), dir.join(entry.file_name())).expect("copy");
    }
    let usage = dir.join("NameUsage.tsv");
    let text = std::fs::read_to_string(&usage).expect("read");
    std::fs::write(&usage, edit(text)).expect("write");
    dir
}

// ---------------------------------------------------------------------------------------------
// Import

#[tokio::test]
async fn importing_the_sample_loads_taxa_synonyms_vernaculars_distributions_and_links() {
    let app = TestApp::spawn().await;
    let report = import(&app, &sample()).await.expect("import");
    let c = &report.counts;
    assert_eq!(
        (c.name_usages, c.accepted, c.synonyms),
        (1020, 962, 58),
        "{c:?}"
    );
    assert_eq!(
        (c.vernacular_names, c.distributions, c.name_relations),
        (617, 129, 15)
    );
    assert_eq!((c.inserted, c.updated, c.removed), (1020, 0, 0));
    assert_eq!(report.bad_rows, 0);
    assert_eq!(report.unresolved_references, 0, "{:?}", report.warnings);
    assert_eq!(report.version, "2026.11-sample");

    assert_eq!(count(&app, "SELECT count(*) AS n FROM taxa").await, 1020);
    assert_eq!(
        count(&app, "SELECT count(*) AS n FROM taxon_common_names").await,
        617
    );
    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS n FROM taxon_distributions WHERE threat_status <> ''"
        )
        .await,
        85
    );
    // Every accepted taxon but the root has a parent; every synonym an accepted name.
    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS n FROM taxa WHERE status IN ('accepted', 'provisional') \
             AND parent_id IS NULL"
        )
        .await,
        1
    );
    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS n FROM taxa WHERE status NOT IN ('accepted', 'provisional') \
             AND accepted_name_id IS NULL"
        )
        .await,
        0
    );
    assert_eq!(
        text(
            &app,
            "SELECT a.scientific_name AS s FROM taxa s JOIN taxa a ON a.id = s.accepted_name_id \
             WHERE s.scientific_name = 'Canis familiaris'"
        )
        .await,
        "Canis lupus familiaris"
    );
    // Ranks and the flattened classification, including ranks the file's columns lack.
    assert_eq!(
        text(
            &app,
            "SELECT concat_ws('|', r.name, t.kingdom, t.phylum, t.class_name, t.order_name, \
                    t.suborder, t.family, t.subfamily, t.genus, t.species, t.completeness_score) AS s \
             FROM taxa t JOIN taxonomic_ranks r ON r.id = t.rank_id \
             WHERE t.scientific_name = 'Panthera leo'"
        )
        .await,
        "species|Animalia|Chordata|Mammalia|Carnivora|Feliformia|Felidae|Pantherinae|Panthera|Panthera leo|1.00"
    );
    // A synonym carries its accepted name's classification.
    assert_eq!(
        text(
            &app,
            "SELECT genus || '|' || generic_name AS s FROM taxa WHERE scientific_name = 'Felis leo'"
        )
        .await,
        "Panthera|Felis"
    );
    // Name relations were imported on the first import (the old importer dropped them).
    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS n FROM taxon_name_relations WHERE relation_type = 'basionym'"
        )
        .await,
        12
    );
    let job = text(
        &app,
        &format!(
            "SELECT status || '|' || records_imported || '|' || records_failed || '|' || \
                    (metadata->'counts'->>'name_usages') AS s \
             FROM taxonomy_import_jobs WHERE id = '{}'",
            report.job_id
        ),
    )
    .await;
    assert_eq!(job, "completed|1781|0|1020");
}

#[tokio::test]
async fn the_lineage_of_a_species_lists_kingdom_to_species_root_first() {
    let app = imported().await;
    let id = taxon_id(&app, "Panthera leo").await;
    let (status, body) = get(&app, &format!("/api/v1/taxonomy/{id}/lineage/")).await;
    assert_eq!(status, 200, "{body}");
    let names: Vec<&str> = body
        .as_array()
        .expect("a bare array")
        .iter()
        .map(|t| t["scientific_name"].as_str().expect("name"))
        .collect();
    assert_eq!(
        names,
        [
            "Animalia",
            "Chordata",
            "Mammalia",
            "Carnivora",
            "Feliformia",
            "Felidae",
            "Pantherinae",
            "Panthera",
            "Panthera leo"
        ]
    );
    assert_eq!(body[0]["rank_name"], "kingdom");
    assert_eq!(body[8]["rank_name"], "species");
    assert_eq!(body[8]["common_names"][0]["name"], "lion");
}

#[tokio::test]
async fn reimporting_the_same_release_is_idempotent() {
    let app = imported().await;
    let before = text(
        &app,
        "SELECT md5(string_agg(id::text || scientific_name || coalesce(parent_id::text, '') || \
                coalesce(accepted_name_id::text, '') || created_at::text || updated_at::text, ',' \
                ORDER BY id)) AS s FROM taxa",
    )
    .await;
    let names_before = text(
        &app,
        "SELECT md5(string_agg(id::text || name || created_at::text, ',' ORDER BY id)) AS s \
         FROM taxon_common_names",
    )
    .await;
    // The api's connections have prepared statements on the tables the re-import replaces.
    let id = taxon_id(&app, "Panthera leo").await;
    let (status, _) = get(&app, &format!("/api/v1/taxonomy/{id}/")).await;
    assert_eq!(status, 200);
    let report = import(&app, &sample()).await.expect("re-import");
    let c = &report.counts;
    assert_eq!(
        (c.inserted, c.updated, c.unchanged, c.removed),
        (0, 0, 1020, 0)
    );
    for _ in 0..3 {
        let (status, body) = get(&app, &format!("/api/v1/taxonomy/{id}/")).await;
        assert_eq!(status, 200, "{body}");
        let (status, body) = get(&app, "/api/v1/taxonomy/search/?genus=Panthera").await;
        assert_eq!(status, 200, "{body}");
    }
    let after = text(
        &app,
        "SELECT md5(string_agg(id::text || scientific_name || coalesce(parent_id::text, '') || \
                coalesce(accepted_name_id::text, '') || created_at::text || updated_at::text, ',' \
                ORDER BY id)) AS s FROM taxa",
    )
    .await;
    assert_eq!(before, after);
    let names_after = text(
        &app,
        "SELECT md5(string_agg(id::text || name || created_at::text, ',' ORDER BY id)) AS s \
         FROM taxon_common_names",
    )
    .await;
    assert_eq!(names_before, names_after);
    assert_eq!(count(&app, "SELECT count(*) AS n FROM taxa").await, 1020);
}

#[tokio::test]
async fn a_newer_release_updates_changed_rows_and_removes_dropped_ones() {
    let app = imported().await;
    let old_id = taxon_id(&app, "Panthera leo").await;
    let newer = sample_copy(|t| {
        t.lines()
            // Drop the last usage (Hirudo medicinalis) and change one authorship.
            .filter(|l| !l.starts_with("S1020\t"))
            .map(|l| {
                if l.starts_with("S205\t") {
                    l.replace("(Linnaeus, 1758)", "(Linnaeus 1758)")
                } else {
                    l.to_owned()
                }
            })
            .collect::<Vec<_>>()
            .join("\n")
            + "\n"
    });
    let report = import(&app, &newer).await.expect("newer release");
    let c = &report.counts;
    assert_eq!((c.inserted, c.updated, c.removed), (0, 1, 1), "{c:?}");
    assert_eq!(
        taxon_id(&app, "Panthera leo").await,
        old_id,
        "ids are stable"
    );
    assert_eq!(
        text(
            &app,
            "SELECT authorship AS s FROM taxa WHERE scientific_name = 'Panthera leo'"
        )
        .await,
        "(Linnaeus 1758)"
    );
}

#[tokio::test]
async fn a_corrupt_release_is_rejected_and_the_previous_taxonomy_stays() {
    let app = imported().await;
    let before = count(&app, "SELECT count(*) AS n FROM taxa").await;

    // Half the rows torn apart.
    let torn = sample_copy(|t| {
        t.lines()
            .enumerate()
            .map(|(i, l)| {
                if i > 0 && i % 2 == 0 {
                    l.replace('\t', " ")
                } else {
                    l.to_owned()
                }
            })
            .collect::<Vec<_>>()
            .join("\n")
    });
    let err = import(&app, &torn).await.expect_err("torn file");
    assert!(matches!(err, ImportError::Malformed(_)), "{err}");
    assert!(err.to_string().contains("NameUsage.tsv"), "{err}");
    assert!(err.to_string().contains("rows are bad"), "{err}");

    // A required column missing.
    let headless = sample_copy(|t| t.replacen("col:scientificName", "col:name", 1));
    let err = import(&app, &headless).await.expect_err("no name column");
    assert!(
        err.to_string().contains("col:scientificName"),
        "clear message: {err}"
    );

    // Not a zip at all, and a zip truncated in the middle.
    let junk = std::env::temp_dir().join(format!("junk-{}.zip", uuid::Uuid::new_v4().simple()));
    std::fs::write(&junk, b"this is not a zip archive").expect("write");
    let err = import(&app, &junk).await.expect_err("junk");
    assert!(err.to_string().contains("not a ColDP zip"), "{err}");
    let zip = zip_sample();
    let bytes = std::fs::read(&zip).expect("zip");
    let cut = std::env::temp_dir().join(format!("cut-{}.zip", uuid::Uuid::new_v4().simple()));
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).expect("write");
    assert!(matches!(
        import(&app, &cut).await,
        Err(ImportError::Malformed(_))
    ));

    assert_eq!(count(&app, "SELECT count(*) AS n FROM taxa").await, before);
    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS n FROM pg_class WHERE relname LIKE '%\\_next'"
        )
        .await,
        0,
        "no half-built tables are left behind"
    );
    let failed = text(
        &app,
        "SELECT error_log->>'fatal_error' AS s FROM taxonomy_import_jobs \
         WHERE status = 'failed' ORDER BY created_at LIMIT 1",
    )
    .await;
    assert!(failed.contains("rows are bad"), "{failed}");
    // The API still serves the previous release.
    let (status, body) = get(&app, "/api/v1/taxonomy/search/?genus=Panthera").await;
    assert_eq!(status, 200);
    assert!(body["count"].as_u64().unwrap_or(0) > 0, "{body}");
}

#[tokio::test]
async fn an_import_cleans_up_after_a_crashed_one_and_refuses_to_run_twice_at_once() {
    let app = TestApp::spawn().await;
    // What a crash during the build leaves: half-made copies, never visible to readers.
    app.sql("CREATE TABLE taxa_next (id uuid)").await;
    app.sql("CREATE TABLE taxon_common_names_next (x int)")
        .await;
    let report = import(&app, &sample()).await.expect("import after a crash");
    assert_eq!(report.counts.name_usages, 1020);

    // Another import holds the lock: this one is refused without touching anything.
    let mut holder = diesel_async::AsyncPgConnection::establish(app.db.url())
        .await
        .expect("conn");
    diesel::sql_query(format!(
        "SELECT pg_advisory_lock({})",
        import::IMPORT_LOCK_KEY
    ))
    .execute(&mut holder)
    .await
    .expect("lock");
    let err = import(&app, &sample()).await.expect_err("busy");
    assert!(matches!(err, ImportError::Busy), "{err}");
    assert!(!err.is_permanent());
    assert_eq!(count(&app, "SELECT count(*) AS n FROM taxa").await, 1020);
}

#[tokio::test]
async fn bad_rows_are_skipped_counted_and_reported_with_line_numbers() {
    let app = TestApp::spawn().await;
    let dir = sample_copy(|t| {
        let mut lines: Vec<String> = t.lines().map(str::to_owned).collect();
        lines.insert(3, "S9001\tS1\taccepted".to_owned()); // too few fields: line 4
        let width = lines[0].split('\t').count();
        let mut empty_name = vec![String::new(); width];
        empty_name[0] = "S9002".to_owned();
        lines.insert(5, empty_name.join("\t")); // empty scientificName: line 6
        let dup = lines[10].clone(); // a duplicate ID: line 12
        lines.insert(11, dup);
        lines.join("\n") + "\n"
    });
    let report = import(&app, &dir)
        .await
        .expect("import with a few bad rows");
    assert_eq!(report.bad_rows, 3, "{:?}", report.errors);
    let lines: Vec<u64> = report.errors.iter().map(|e| e.line).collect();
    assert_eq!(lines, [4, 6, 12], "{:?}", report.errors);
    assert!(report.errors[0].message.contains("expected 20"));
    assert!(report.errors[2].message.contains("duplicate"));
    assert_eq!(report.counts.name_usages, 1020);
    let failed = count(
        &app,
        &format!(
            "SELECT records_failed AS n FROM taxonomy_import_jobs WHERE id = '{}'",
            report.job_id
        ),
    )
    .await;
    assert_eq!(failed, 3);
}

fn zip_sample() -> PathBuf {
    let path = std::env::temp_dir().join(format!("coldp-{}.zip", uuid::Uuid::new_v4().simple()));
    let file = std::fs::File::create(&path).expect("create");
    let mut zip = zip::ZipWriter::new(file);
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for entry in std::fs::read_dir(sample()).expect("sample") {
        let entry = entry.expect("entry");
        zip.start_file(entry.file_name().to_string_lossy(), opts)
            .expect("start");
        zip.write_all(&std::fs::read(entry.path()).expect("read"))
            .expect("write");
    }
    zip.finish().expect("finish");
    path
}

#[tokio::test]
async fn a_zipped_release_imports_like_the_folder() {
    let app = TestApp::spawn().await;
    let report = import(&app, &zip_sample()).await.expect("zip import");
    assert_eq!(report.counts.name_usages, 1020);
    assert_eq!(report.counts.vernacular_names, 617);
    assert_eq!(report.version, "2026.11-sample");
}

// ---------------------------------------------------------------------------------------------
// Matching

async fn matched(app: &TestApp, name: &str) -> Value {
    let path = format!(
        "/api/v1/taxonomy/match/?name={}",
        url::form_urlencoded::byte_serialize(name.as_bytes()).collect::<String>()
    );
    let (status, body) = get(app, &path).await;
    assert_eq!(status, 200, "{name}: {body}");
    body
}

#[tokio::test]
async fn matching_finds_exact_names_through_noise() {
    let app = imported().await;
    for name in [
        "Panthera leo",
        "  *panthera   LEO*  ",
        "_Panthera leo_ (Linnaeus, 1758)",
        "Panthera Leo",
        "1. **Panthera leo**",
    ] {
        let m = matched(&app, name).await;
        assert_eq!(m["match_type"], "exact", "{name}: {m}");
        assert_eq!(m["confidence"], 1.0);
        assert_eq!(m["accepted_name"], "Panthera leo");
        assert_eq!(m["normalized_name"], "Panthera leo");
    }
    let m = matched(&app, "Panthera leo").await;
    assert_eq!(m["lineage"][0]["scientific_name"], "Animalia");
    assert_eq!(m["lineage"][8]["scientific_name"], "Panthera leo");
    assert_eq!(m["taxon"]["specific_epithet"], "leo");
    let m = matched(&app, "Canis lupus familiaris").await;
    assert_eq!(m["match_type"], "exact");
    assert_eq!(m["taxon"]["rank_name"], "subspecies");
}

#[tokio::test]
async fn matching_resolves_synonyms_to_accepted_names() {
    let app = imported().await;
    let m = matched(&app, "Canis familiaris").await;
    assert_eq!(m["match_type"], "synonym", "{m}");
    assert_eq!(m["usage"]["scientific_name"], "Canis familiaris");
    assert_eq!(m["usage"]["status"], "synonym");
    assert_eq!(m["accepted_name"], "Canis lupus familiaris");
    let m = matched(&app, "felis leo").await;
    assert_eq!(m["accepted_name"], "Panthera leo");
    let m = matched(&app, "Felis silvestris catus Linnaeus, 1758").await;
    assert_eq!(m["match_type"], "synonym");
    assert_eq!(m["accepted_name"], "Felis catus");
}

#[tokio::test]
async fn matching_falls_back_from_a_trinomial_to_its_species_and_from_a_species_to_its_genus() {
    let app = imported().await;
    let m = matched(&app, "Panthera leo persica").await;
    assert_eq!(m["match_type"], "higher_rank", "{m}");
    assert_eq!(m["taxon"]["scientific_name"], "Panthera leo");
    let m = matched(&app, "Panthera nonexistens").await;
    assert_eq!(m["match_type"], "higher_rank", "{m}");
    assert_eq!(m["taxon"]["scientific_name"], "Panthera");
    assert_eq!(m["taxon"]["rank_name"], "genus");
    assert_eq!(m["accepted_name"], Value::Null);
    let m = matched(&app, "Canis sp.").await;
    assert_eq!(m["taxon"]["scientific_name"], "Canis");
}

#[tokio::test]
async fn matching_finds_vernacular_names_in_any_language() {
    let app = imported().await;
    let m = matched(&app, "Giant Panda").await;
    assert_eq!(m["match_type"], "vernacular", "{m}");
    assert_eq!(m["accepted_name"], "Ailuropoda melanoleuca");
    let m = matched(&app, "Braunbär").await;
    assert_eq!(m["match_type"], "vernacular", "{m}");
    assert_eq!(m["accepted_name"], "Ursus arctos");
    let m = matched(&app, "大熊猫").await;
    assert_eq!(m["accepted_name"], "Ailuropoda melanoleuca", "{m}");
    let m = matched(&app, "Panthera tigris (tigre)").await;
    assert_eq!(m["match_type"], "exact");
    let m = matched(&app, "African lion (Panthera leo)").await;
    assert_eq!(m["accepted_name"], "Panthera leo", "{m}");
}

#[tokio::test]
async fn matching_forgives_misspellings() {
    let app = imported().await;
    for (typo, right) in [
        ("Pantera leo", "Panthera leo"),
        ("Ailuropoda melanoleuka", "Ailuropoda melanoleuca"),
        ("Ursus arcots", "Ursus arctos"),
        ("giant pamda", "Ailuropoda melanoleuca"),
    ] {
        let m = matched(&app, typo).await;
        assert_eq!(m["match_type"], "fuzzy", "{typo}: {m}");
        assert_eq!(m["accepted_name"], right, "{typo}");
        assert!(m["confidence"].as_f64().unwrap_or(1.0) < 0.9);
    }
}

#[tokio::test]
async fn matching_answers_none_for_nonsense() {
    let app = imported().await;
    for name in ["xqzv blorptang", "1234", "!!!", "Zzzzyzx qwrtpl"] {
        let m = matched(&app, name).await;
        assert_eq!(m["match_type"], "none", "{name}: {m}");
        assert_eq!(m["confidence"], 0.0);
        assert_eq!(m["taxon"], Value::Null);
        assert_eq!(m["lineage"], json!([]));
    }
}

#[tokio::test]
async fn ambiguous_names_are_reported_as_alternatives_not_guessed() {
    let app = imported().await;
    // An ambiguous synonym: two accepted names, answered with what they share.
    let m = matched(&app, "Canis dingo").await;
    assert_eq!(m["ambiguous"], true, "{m}");
    let alternatives: Vec<&str> = m["alternatives"]
        .as_array()
        .expect("alternatives")
        .iter()
        .map(|a| a["accepted_name"].as_str().expect("accepted"))
        .collect();
    assert_eq!(alternatives.len(), 2);
    assert!(alternatives.contains(&"Canis lupus"));
    assert!(alternatives.contains(&"Canis lupus familiaris"));
    assert_eq!(m["match_type"], "higher_rank");
    assert_eq!(m["taxon"]["scientific_name"], "Canis lupus");

    // A homonym: the accepted genus wins, the junior homonym is listed.
    let m = matched(&app, "Echidna").await;
    assert_eq!(m["match_type"], "exact", "{m}");
    assert_eq!(m["taxon"]["family"], "Muraenidae");
    assert_eq!(m["alternatives"][0]["accepted_name"], "Tachyglossus");
    assert!(m["confidence"].as_f64().unwrap_or(1.0) < 1.0);

    // A vernacular name of species in different families: no guess.
    let m = matched(&app, "robin").await;
    assert_eq!(m["ambiguous"], true, "{m}");
    assert_eq!(m["match_type"], "none");
    assert_eq!(m["alternatives"].as_array().map(Vec::len), Some(2));
    // ... of three bovids: their family.
    let m = matched(&app, "buffalo").await;
    assert_eq!(m["match_type"], "higher_rank", "{m}");
    assert_eq!(m["taxon"]["scientific_name"], "Bovidae");
    // A kingdom hint does not help a homonym within Animalia, but filters others out.
    let (status, body) = get(
        &app,
        "/api/v1/taxonomy/match/?name=Panthera%20leo&kingdom=Plantae",
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["match_type"], "none");
}

#[tokio::test]
async fn upserting_an_animal_from_a_taxon_fills_classification_and_status() {
    let app = imported().await;
    let mut conn = app.state.db.get().await.expect("conn");
    let synonym: uuid::Uuid = text(
        &app,
        "SELECT id::text AS s FROM taxa WHERE scientific_name = 'Felis leo'",
    )
    .await
    .parse()
    .expect("uuid");
    let first = matching::upsert_animal_from_taxon(&mut conn, synonym, None, 0.42)
        .await
        .expect("upsert");
    assert!(first.created && !first.changed);
    let id = first.id;
    // A new common name is a change every tree shows; the same data again is none.
    let again = matching::upsert_animal_from_taxon(&mut conn, synonym, Some("Lion"), 0.9)
        .await
        .expect("upsert again");
    assert_eq!((again.id, again.created, again.changed), (id, false, true));
    let same = matching::upsert_animal_from_taxon(&mut conn, synonym, Some("Lion"), 0.9)
        .await
        .expect("upsert the same");
    assert_eq!((same.id, same.created, same.changed), (id, false, false));
    let row = text(
        &app,
        &format!(
            "SELECT concat_ws('|', scientific_name, common_name, kingdom, phylum, class_name, \
                    order_name, family, subfamily, genus, species, conservation_status, verified, \
                    verification_method, taxonomy_source, taxonomy_confidence, creation_index, \
                    array_to_string(native_regions, ',')) AS s FROM animals WHERE id = '{id}'"
        ),
    )
    .await;
    assert_eq!(
        row,
        "Panthera leo|Lion|Animalia|Chordata|Mammalia|Carnivora|Felidae|Pantherinae|Panthera|leo|VU|t|taxonomy|col|1.00|1|IN,TZ"
    );
    // Updating did not consume a creation index.
    let dodo = matching::upsert_animal_from_taxon(
        &mut conn,
        taxon_id(&app, "Raphus cucullatus")
            .await
            .parse()
            .expect("uuid"),
        None,
        0.5,
    )
    .await
    .expect("dodo");
    assert!(dodo.created);
    assert_eq!(
        text(
            &app,
            "SELECT creation_index || conservation_status || common_name AS s FROM animals \
             WHERE scientific_name = 'Raphus cucullatus'"
        )
        .await,
        "2EXdodo"
    );
}

// ---------------------------------------------------------------------------------------------
// Endpoints

#[tokio::test]
async fn the_list_is_paginated_and_open_to_anonymous_callers_but_not_to_bad_tokens() {
    let app = imported().await;
    let (status, body) = get(&app, "/api/v1/taxonomy/").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["count"], 962);
    assert_eq!(body["results"].as_array().map(Vec::len), Some(50));
    assert!(
        body["next"]
            .as_str()
            .unwrap_or("")
            .ends_with("/api/v1/taxonomy/?page=2")
    );
    let first = &body["results"][0];
    let keys: Vec<&str> = first
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    for k in [
        "id",
        "scientific_name",
        "rank_name",
        "status",
        "kingdom",
        "phylum",
        "class_name",
        "order",
        "family",
        "genus",
        "source_name",
        "completeness_score",
        "common_names",
    ] {
        assert!(keys.contains(&k), "{k} missing: {first}");
    }
    assert_eq!(first["source_name"], "col");
    let (status, body) = get(&app, "/api/v1/taxonomy/?page=999").await;
    assert_eq!((status, body), (404, json!({"detail": "Invalid page."})));
    let (status, _) = app
        .call(Method::GET, "/api/v1/taxonomy/", Some("not-a-token"), None)
        .await;
    assert_eq!(status, 401);
    let (status, body) = app
        .call(Method::POST, "/api/v1/taxonomy/", None, None)
        .await;
    assert_eq!(status, 405, "{body}");
}

#[tokio::test]
async fn the_detail_has_source_rank_names_distributions_and_hierarchy() {
    let app = imported().await;
    let id = taxon_id(&app, "Panthera tigris").await;
    let (status, t) = get(&app, &format!("/api/v1/taxonomy/{id}/")).await;
    assert_eq!(status, 200, "{t}");
    assert_eq!(t["source"]["short_code"], "col");
    assert_eq!(t["source"]["name"], "Catalogue of Life");
    assert_eq!(
        t["rank"],
        json!({"name": "species", "level": 70, "plural": "species"})
    );
    assert_eq!(t["authorship"], "(Linnaeus, 1758)");
    assert_eq!(t["full_hierarchy"]["class"], "Mammalia");
    assert_eq!(t["full_hierarchy"]["species"], "Panthera tigris");
    assert_eq!(t["specific_epithet"], "tigris");
    assert_eq!(t["nomenclatural_code"], "iczn");
    assert_eq!(t["completeness_score"], "1.00");
    assert_eq!(t["confidence_score"], "1.00");
    assert_eq!(t["extinct"], false);
    assert!(
        t["source_url"]
            .as_str()
            .unwrap_or("")
            .starts_with("https://www.catalogueoflife.org/data/taxon/")
    );
    let threat: Vec<&str> = t["distributions"]
        .as_array()
        .expect("distributions")
        .iter()
        .filter_map(|d| d["threat_status"].as_str().filter(|s| !s.is_empty()))
        .collect();
    assert_eq!(threat, ["EN"]);
    assert!(
        t["common_names"]
            .as_array()
            .expect("names")
            .iter()
            .any(|n| n["language"] == "spa" && n["name"] == "tigre")
    );
    let synonym = text(
        &app,
        "SELECT id::text AS s FROM taxa WHERE scientific_name = 'Felis tigris'",
    )
    .await;
    let (status, body) = get(&app, &format!("/api/v1/taxonomy/{synonym}/")).await;
    assert_eq!(
        (status, body),
        (
            404,
            json!({"detail": "No Taxonomy matches the given query."})
        )
    );
    let (status, body) = get(&app, "/api/v1/taxonomy/not-a-uuid/").await;
    assert_eq!((status, body), (404, json!({"detail": "Not found."})));
}

#[tokio::test]
async fn search_filters_by_genus_species_common_name_and_q_with_specific_epithets() {
    let app = imported().await;
    let (status, body) = get(&app, "/api/v1/taxonomy/search/?limit=20&genus=Panthera").await;
    assert_eq!(status, 200, "{body}");
    let names: Vec<&str> = body["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| r["scientific_name"].as_str().expect("name"))
        .collect();
    assert!(names.contains(&"Panthera leo"), "{names:?}");
    assert!(names.iter().all(|n| n.starts_with("Panthera")));
    assert_eq!(body["count"].as_u64(), Some(names.len() as u64));
    let leo = body["results"]
        .as_array()
        .expect("results")
        .iter()
        .find(|r| r["scientific_name"] == "Panthera leo")
        .expect("leo");
    assert_eq!(leo["specific_epithet"], "leo");
    assert_eq!(leo["common_names"][0]["name"], "lion");
    assert_eq!(leo["class_name"], "Mammalia");

    let (_, body) = get(
        &app,
        "/api/v1/taxonomy/search/?genus=panthera&species=leo&limit=20",
    )
    .await;
    assert_eq!(body["count"], 1, "{body}");
    let (_, body) = get(&app, "/api/v1/taxonomy/search/?common_name=giant%20panda").await;
    assert_eq!(
        body["results"][0]["scientific_name"],
        "Ailuropoda melanoleuca"
    );
    let (_, body) = get(&app, "/api/v1/taxonomy/search/?q=panda").await;
    assert!(
        body["results"]
            .as_array()
            .expect("results")
            .iter()
            .any(|r| r["scientific_name"] == "Ailuropoda melanoleuca"),
        "{body}"
    );
    let (_, body) = get(&app, "/api/v1/taxonomy/search/?genus=Canis&rank=species").await;
    assert!(
        body["results"]
            .as_array()
            .expect("results")
            .iter()
            .all(|r| r["rank_name"] == "species"),
        "{body}"
    );
    let (_, body) = get(
        &app,
        "/api/v1/taxonomy/search/?genus=Canis&kingdom=ANIMALIA&limit=2.0",
    )
    .await;
    assert_eq!(body["count"], 2, "{body}");
    // Short terms match at the start of words (trigram indexes need three characters).
    let (_, body) = get(&app, "/api/v1/taxonomy/search/?genus=Pa&species=le").await;
    assert!(
        body["results"]
            .as_array()
            .expect("results")
            .iter()
            .any(|r| r["scientific_name"] == "Panthera leo"),
        "{body}"
    );
    // Synonyms are not search results.
    let (_, body) = get(&app, "/api/v1/taxonomy/search/?q=Felis%20leo").await;
    assert_eq!(body["count"], 0, "{body}");
}

#[tokio::test]
async fn search_rejects_bad_parameters_with_400s() {
    let app = imported().await;
    let (status, body) = get(&app, "/api/v1/taxonomy/search/?genus=Canis&limit=abc").await;
    assert_eq!(
        (status, body),
        (400, json!({"limit": ["A valid integer is required."]}))
    );
    let (status, _) = get(&app, "/api/v1/taxonomy/search/?genus=Canis&limit=0").await;
    assert_eq!(status, 400);
    let (status, _) = get(&app, "/api/v1/taxonomy/search/?genus=Canis&limit=1e400").await;
    assert_eq!(status, 400);
    let msg = "At least one search parameter is required (q, genus, species, or common_name)";
    let (status, body) = get(&app, "/api/v1/taxonomy/search/?q=%20%20&rank=species").await;
    assert_eq!((status, body), (400, json!({"detail": msg, "error": msg})));
    let long = "a".repeat(101);
    let (status, _) = get(&app, &format!("/api/v1/taxonomy/search/?q={long}")).await;
    assert_eq!(status, 400);
    let (status, _) = get(&app, "/api/v1/taxonomy/search/?q=%25%5C_").await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn search_queries_use_indexes_not_a_scan_of_the_taxa_table() {
    let app = imported().await;
    let mut conn = app.state.db.get().await.expect("conn");
    // With sequential scans priced out, any remaining one would mean no index can serve.
    diesel::sql_query("SET enable_seqscan = off")
        .execute(&mut conn)
        .await
        .expect("set");
    for params in [
        SearchParams {
            genus: Some("Panthera".into()),
            species: Some("leo".into()),
            limit: 20,
            ..SearchParams::default()
        },
        SearchParams {
            q: Some("lion".into()),
            limit: 20,
            ..SearchParams::default()
        },
        SearchParams {
            common_name: Some("panda".into()),
            kingdom: Some("Animalia".into()),
            rank: Some("species".into()),
            limit: 20,
            ..SearchParams::default()
        },
        SearchParams {
            genus: Some("Pa".into()),
            limit: 20,
            ..SearchParams::default()
        },
    ] {
        let plan = Taxa::explain_search(&mut conn, &params)
            .await
            .expect("explain");
        assert!(!plan.contains("Seq Scan on taxa "), "{params:?}\n{plan}");
        assert!(!plan.contains("Seq Scan on taxon_common_names"), "{plan}");
    }
}

#[tokio::test]
async fn validate_works_and_only_records_animals_for_staff_callers() {
    let app = imported().await;
    let body =
        json!({"scientific_name": "Canis familiaris", "common_name": "dog", "confidence": 0.8});
    let (status, v) = app
        .post_as("/api/v1/taxonomy/validate/", None, body.clone())
        .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["valid"], true);
    assert_eq!(v["created"], false);
    assert_eq!(v["taxonomy"]["scientific_name"], "Canis lupus familiaris");
    assert_eq!(v["match_type"], "synonym");
    assert_eq!(count(&app, "SELECT count(*) AS n FROM animals").await, 0);

    // A normal user validates but writes nothing.
    let misty = app.user("misty").await;
    let (status, v) = app
        .post_as(
            "/api/v1/taxonomy/validate/",
            Some(&misty.access),
            body.clone(),
        )
        .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(
        (v["valid"].clone(), v["created"].clone()),
        (json!(true), json!(false))
    );
    assert_eq!(v["animal_id"], Value::Null);
    assert_eq!(count(&app, "SELECT count(*) AS n FROM animals").await, 0);

    let ash = app.user("ash").await;
    app.sql("UPDATE users SET is_staff = true WHERE username = 'ash'")
        .await;
    let (status, v) = app
        .post_as(
            "/api/v1/taxonomy/validate/",
            Some(&ash.access),
            body.clone(),
        )
        .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(
        (v["valid"].clone(), v["created"].clone()),
        (json!(true), json!(true))
    );
    let (_, v) = app
        .post_as("/api/v1/taxonomy/validate/", Some(&ash.access), body)
        .await;
    assert_eq!(v["created"], false);
    assert_eq!(
        text(
            &app,
            "SELECT scientific_name || '|' || common_name || '|' || verified AS s FROM animals"
        )
        .await,
        "Canis lupus familiaris|dog|true"
    );

    let (status, v) = app
        .post_as(
            "/api/v1/taxonomy/validate/",
            Some(&ash.access),
            json!({"scientific_name": "Nothing here whatsoever"}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(v["valid"], false);
    assert_eq!(v["created"], false);
    let (status, v) = app
        .post_as(
            "/api/v1/taxonomy/validate/",
            None,
            json!({"common_name": "dog"}),
        )
        .await;
    assert_eq!(
        (status, v),
        (400, json!({"scientific_name": ["This field is required."]}))
    );
    let (status, v) = app
        .post_as(
            "/api/v1/taxonomy/validate/",
            None,
            json!({"scientific_name": "Canis lupus", "confidence": "high"}),
        )
        .await;
    assert_eq!(
        (status, v),
        (400, json!({"confidence": ["A valid number is required."]}))
    );
    let (status, _) = app
        .call(
            Method::POST,
            "/api/v1/taxonomy/validate/",
            Some("bad-token"),
            Some(json!({"scientific_name": "Canis lupus"})),
        )
        .await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn stats_count_listed_taxa_by_rank() {
    let app = imported().await;
    let (status, body) = get(&app, "/api/v1/taxonomy/stats/").await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        json!({"total_taxa": 962, "kingdoms": 1, "species": 325, "genera": 287, "families": 200, "sources": 1})
    );
}

#[tokio::test]
async fn children_are_direct_or_all_descendants_bounded_and_paginated() {
    let app = imported().await;
    let felidae = taxon_id(&app, "Felidae").await;
    let (status, body) = get(&app, &format!("/api/v1/taxonomy/{felidae}/children/")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["direct_only"], true);
    let names: Vec<&str> = body["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| r["scientific_name"].as_str().expect("name"))
        .collect();
    assert_eq!(names, ["Felinae", "Pantherinae"]);
    let (_, body) = get(
        &app,
        &format!("/api/v1/taxonomy/{felidae}/children/?direct=false"),
    )
    .await;
    assert_eq!(body["direct_only"], false);
    assert_eq!(body["truncated"], false);
    let all: Vec<&str> = body["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| r["scientific_name"].as_str().expect("name"))
        .collect();
    assert_eq!(&all[..2], ["Felinae", "Pantherinae"], "breadth first");
    assert!(all.contains(&"Panthera tigris tigris"));
    assert_eq!(body["count"].as_u64(), Some(all.len() as u64));

    let root = taxon_id(&app, "Animalia").await;
    let (_, body) = get(
        &app,
        &format!("/api/v1/taxonomy/{root}/children/?direct=false&page=2"),
    )
    .await;
    assert_eq!(body["count"], 961);
    assert_eq!(body["results"].as_array().map(Vec::len), Some(50));
    assert!(body["previous"].is_string());

    let (status, body) = get(
        &app,
        &format!("/api/v1/taxonomy/{felidae}/children/?direct=maybe"),
    )
    .await;
    assert_eq!(
        (status, body),
        (400, json!({"direct": ["Must be a valid boolean."]}))
    );
    let synonym = text(
        &app,
        "SELECT id::text AS s FROM taxa WHERE scientific_name = 'Felis leo'",
    )
    .await;
    let (status, _) = get(&app, &format!("/api/v1/taxonomy/{synonym}/children/")).await;
    assert_eq!(status, 404);
    let (status, _) = get(&app, &format!("/api/v1/taxonomy/{synonym}/lineage/")).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn sources_are_listed_and_shown() {
    let app = imported().await;
    let (status, body) = get(&app, "/api/v1/sources/").await;
    assert_eq!(status, 200);
    assert_eq!(body["count"], 1);
    let source = &body["results"][0];
    assert_eq!(source["short_code"], "col");
    assert_eq!(source["priority"], 10);
    assert_eq!(source["update_frequency"], "monthly");
    let id = source["id"].as_str().expect("id");
    let (status, one) = get(&app, &format!("/api/v1/sources/{id}/")).await;
    assert_eq!(status, 200);
    assert_eq!(&one, source);
    let (status, body) = get(&app, &format!("/api/v1/sources/{}/", uuid::Uuid::new_v4())).await;
    assert_eq!(
        (status, body),
        (
            404,
            json!({"detail": "No DataSource matches the given query."})
        )
    );
}

#[tokio::test]
async fn match_requires_a_name_and_works_on_an_empty_taxonomy() {
    let app = TestApp::spawn().await;
    let (status, body) = get(&app, "/api/v1/taxonomy/match/").await;
    assert_eq!(
        (status, body),
        (400, json!({"name": ["This field is required."]}))
    );
    let m = matched(&app, "Panthera leo").await;
    assert_eq!(m["match_type"], "none");
    let (status, body) = get(&app, "/api/v1/taxonomy/stats/").await;
    assert_eq!(status, 200);
    assert_eq!(body["total_taxa"], 0);
    let (status, body) = get(&app, "/api/v1/taxonomy/").await;
    assert_eq!(status, 200);
    assert_eq!(body["count"], 0);
}

#[tokio::test]
async fn taxonomy_queries_are_trimmed_and_bounded() {
    let app = TestApp::spawn().await;
    let search = "/api/v1/taxonomy/search/";
    for ok in [
        "?genus=x&limit=20.0",
        "?genus=%20x%20&limit=%203%20",
        "?q=x&limit=&rank=%20",
    ] {
        let (status, body) = get(&app, &format!("{search}{ok}")).await;
        assert_eq!(status, 200, "{ok}: {body}");
    }
    let (_, body) = get(&app, &format!("{search}?genus=x&limit=-1")).await;
    assert_eq!(
        body,
        json!({"limit": ["Ensure this value is greater than or equal to 1."]})
    );
    let (_, body) = get(&app, &format!("{search}?q=%20&limit=0.5")).await;
    assert_eq!(body, json!({"limit": ["A valid integer is required."]}));
    let rank = "r".repeat(51);
    let (_, body) = get(&app, &format!("{search}?genus=x&rank={rank}")).await;
    assert_eq!(
        body,
        json!({"rank": ["Ensure this field has no more than 50 characters."]})
    );
    let (status, body) = get(&app, "/api/v1/taxonomy/match/?name=%20%20").await;
    assert_eq!(
        (status, body),
        (400, json!({"name": ["This field is required."]}))
    );
    let name = "n".repeat(301);
    let (_, body) = get(&app, &format!("/api/v1/taxonomy/match/?name={name}")).await;
    assert_eq!(
        body,
        json!({"name": ["Ensure this field has no more than 300 characters."]})
    );
    let kingdom = "k".repeat(101);
    let (_, body) = get(
        &app,
        &format!("/api/v1/taxonomy/match/?name=Canis&kingdom={kingdom}&common_name=%20"),
    )
    .await;
    assert_eq!(
        body,
        json!({"kingdom": ["Ensure this field has no more than 100 characters."]})
    );
    let (status, _) = get(&app, "/api/v1/taxonomy/match/?name=%20Canis%20").await;
    assert_eq!(status, 200);
    // A blank `direct` is the default: past the query, the unknown taxon is a 404.
    let missing = uuid::Uuid::new_v4();
    let (status, _) = get(
        &app,
        &format!("/api/v1/taxonomy/{missing}/children/?direct=%20"),
    )
    .await;
    assert_eq!(status, 404);
    let (status, _) = get(
        &app,
        &format!("/api/v1/taxonomy/{missing}/children/?direct=%20No%20"),
    )
    .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn several_bad_taxonomy_parameters_are_reported_together() {
    let app = TestApp::spawn().await;
    let long = "a".repeat(101);
    let (status, body) = get(
        &app,
        &format!("/api/v1/taxonomy/search/?q={long}&limit=abc"),
    )
    .await;
    assert_eq!(
        (status, body),
        (
            400,
            json!({
                "q": ["Ensure this field has no more than 100 characters."],
                "limit": ["A valid integer is required."],
            })
        )
    );
    let (_, body) = get(&app, &format!("/api/v1/taxonomy/match/?kingdom={long}")).await;
    assert_eq!(
        body,
        json!({
            "name": ["This field is required."],
            "kingdom": ["Ensure this field has no more than 100 characters."],
        })
    );
}

#[tokio::test]
async fn an_animal_reclassified_by_the_taxonomy_shows_in_the_next_cached_tree() {
    let app = imported().await;
    let ash = app.user("ash").await;
    app.sql("UPDATE users SET is_staff = true WHERE username = 'ash'")
        .await;
    let lion = json!({"scientific_name": "Panthera leo"});
    let (s, v) = app
        .post_as(
            "/api/v1/taxonomy/validate/",
            Some(&ash.access),
            lion.clone(),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let animal = v["animal_id"].as_str().unwrap().to_owned();
    let job = app.job_with_image(&ash, 3).await;
    let (s, e) = app
        .post_as(
            "/api/v1/dex/entries/",
            Some(&ash.access),
            json!({"animal": animal, "source_vision_job": job}),
        )
        .await;
    assert_eq!(s, 201, "{e}");
    // An outdated classification, as an older catalogue release left it; the tree is cached
    // with it.
    app.sql(&format!(
        "UPDATE animals SET family = 'Oldidae' WHERE id = '{animal}'"
    ))
    .await;
    let before = app.tree_families(&ash.access).await;
    assert!(before.iter().any(|f| f.ends_with("/Oldidae")), "{before:?}");

    // Matching the name again brings the catalogue's classification back...
    let (s, v) = app
        .post_as("/api/v1/taxonomy/validate/", Some(&ash.access), lion)
        .await;
    assert_eq!((s, v["created"].clone()), (200, json!(false)), "{v}");
    // ...and the cached tree follows at once, not after GRAPH_CACHE_TTL.
    let after = app.tree_families(&ash.access).await;
    assert!(after.iter().any(|f| f.ends_with("/Felidae")), "{after:?}");
    assert!(!after.iter().any(|f| f.ends_with("/Oldidae")), "{after:?}");
}
