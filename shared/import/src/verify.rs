//! `import-django --verify`: compares the old database with this one — every old row is here
//! or kept aside with a reason, a random sample of rows has the same values, and sampled images
//! are the old files' pixels (converted again, the checksum must match the stored object's).

use std::{collections::HashMap, path::Path};

use diesel::sql_types::{Array, Text, Uuid as SqlUuid};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde_json::Value;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::{Kind, finish::old_ids, source::OldDb};
use biologidex_core::domain::username;
use biologidex_media::{images, storage::SharedStorage};

/// Rows compared per kind.
const SAMPLE: i64 = 200;

#[derive(diesel::QueryableByName)]
struct Json {
    #[diesel(sql_type = Text)]
    batch: String,
}

async fn rows_here(
    conn: &mut AsyncPgConnection,
    sql: &str,
    ids: &[Uuid],
) -> anyhow::Result<HashMap<String, Value>> {
    let text = diesel::sql_query(sql)
        .bind::<Array<SqlUuid>, _>(ids)
        .get_result::<Json>(conn)
        .await?
        .batch;
    let rows: Vec<Value> = serde_json::from_str(&text)?;
    Ok(rows
        .into_iter()
        .filter_map(|r| Some((r["id"].as_str()?.to_owned(), r)))
        .collect())
}

async fn rejected(conn: &mut AsyncPgConnection, kind: Kind) -> anyhow::Result<Vec<String>> {
    #[derive(diesel::QueryableByName)]
    struct Old {
        #[diesel(sql_type = Text)]
        old_id: String,
    }
    Ok(
        diesel::sql_query("SELECT old_id FROM django_import_rejects WHERE kind = $1")
            .bind::<Text, _>(kind.name())
            .load::<Old>(conn)
            .await?
            .into_iter()
            .map(|o| o.old_id)
            .collect(),
    )
}

/// Old ids of `kind` that are neither here nor kept aside.
async fn missing(
    conn: &mut AsyncPgConnection,
    kind: Kind,
    table: &str,
    wanted: Vec<Uuid>,
) -> anyhow::Result<Vec<String>> {
    let aside = rejected(conn, kind).await?;
    let mut out = Vec::new();
    for chunk in wanted.chunks(10_000) {
        let here = rows_here(
            conn,
            &format!(
                "SELECT coalesce(jsonb_agg(jsonb_build_object('id', id)), '[]')::text AS batch \
                 FROM {table} WHERE id = ANY($1)"
            ),
            chunk,
        )
        .await?;
        for id in chunk {
            let id = id.to_string();
            if !here.contains_key(&id) && !aside.contains(&id) {
                out.push(format!(
                    "{} {id}: in the old database, not here",
                    kind.name()
                ));
            }
        }
    }
    Ok(out)
}

/// Compares the old database (and media folder) with this one; answers the differences.
pub async fn verify(
    source_url: &str,
    target_url: &str,
    media_root: &Path,
    storage: SharedStorage,
) -> anyhow::Result<Vec<String>> {
    let mut old = OldDb::connect(source_url).await?;
    let mut conn = AsyncPgConnection::establish(target_url).await?;
    let mut diffs = Vec::new();
    for (kind, table) in [
        (Kind::Users, "users"),
        (Kind::Animals, "animals"),
        (Kind::DexEntries, "dex_entries"),
    ] {
        let ids = old_ids(&mut old, table).await?;
        diffs.extend(missing(&mut conn, kind, table, ids).await?);
    }
    let finished: Vec<Uuid> = old
        .json(
            "SELECT coalesce(jsonb_agg(id), '[]')::text AS batch FROM analysis_jobs \
             WHERE status IN ('completed', 'failed')",
        )
        .await?;
    diffs.extend(missing(&mut conn, Kind::VisionJobs, "analysis_jobs", finished).await?);
    diffs.extend(compare_users(&mut old, &mut conn).await?);
    diffs.extend(compare_entries(&mut old, &mut conn, media_root, storage).await?);
    Ok(diffs)
}

fn sample_sql(select: &str, table: &str) -> String {
    format!(
        "SELECT coalesce(jsonb_agg(t), '[]')::text AS batch FROM \
         (SELECT {select} FROM {table} ORDER BY random() LIMIT {SAMPLE}) t"
    )
}

fn ids_of(rows: &[Value]) -> Vec<Uuid> {
    rows.iter()
        .filter_map(|r| r["id"].as_str()?.parse().ok())
        .collect()
}

/// The fields that must be equal, old → here (same JSON after the importer's rules; a hash
/// upgraded to argon2id at a login here counts as the old hash it replaced).
async fn compare_users(
    old: &mut OldDb,
    conn: &mut AsyncPgConnection,
) -> anyhow::Result<Vec<String>> {
    let sample: Vec<Value> = old
        .json(&sample_sql(
            "id, username, password, is_staff, is_superuser, is_active, date_joined",
            "users",
        ))
        .await?;
    let here = rows_here(
        conn,
        "SELECT coalesce(jsonb_agg(jsonb_build_object('id', u.id, 'username', u.username, \
             'password', CASE WHEN u.password_hash LIKE '$argon2%' THEN p.old_hash \
                              ELSE u.password_hash END, \
             'is_staff', u.is_staff, 'is_superuser', u.is_superuser, \
             'is_active', u.is_active, 'date_joined', u.date_joined)), '[]')::text AS batch \
         FROM users u LEFT JOIN django_import_passwords p ON p.user_id = u.id \
         WHERE u.id = ANY($1)",
        &ids_of(&sample),
    )
    .await?;
    let mut diffs = Vec::new();
    for mut row in sample {
        let id = row["id"].as_str().unwrap_or_default().to_owned();
        let Some(new) = here.get(&id) else { continue };
        if let Ok(name) = username::parse(row["username"].as_str().unwrap_or_default()) {
            row["username"] = Value::String(name);
        }
        for field in [
            "username",
            "password",
            "is_staff",
            "is_superuser",
            "is_active",
        ] {
            if row[field] != new[field] {
                diffs.push(format!("users {id}: {field} differs"));
            }
        }
        if !same_instant(&row["date_joined"], &new["date_joined"]) {
            diffs.push(format!("users {id}: date_joined differs"));
        }
    }
    Ok(diffs)
}

fn same_instant(a: &Value, b: &Value) -> bool {
    let parse = |v: &Value| {
        v.as_str()
            .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
    };
    parse(a).is_some() && parse(a) == parse(b)
}

async fn compare_entries(
    old: &mut OldDb,
    conn: &mut AsyncPgConnection,
    media_root: &Path,
    storage: SharedStorage,
) -> anyhow::Result<Vec<String>> {
    let sample: Vec<Value> = old
        .json(&sample_sql(
            "id, owner_id, animal_id, visibility, catch_date, notes, is_favorite, \
             location_name, original_image",
            "dex_entries",
        ))
        .await?;
    let here = rows_here(
        conn,
        "SELECT coalesce(jsonb_agg(jsonb_build_object('id', d.id, 'owner_id', d.owner_id, \
             'animal_id', d.animal_id, 'visibility', d.visibility, 'catch_date', d.catch_date, \
             'notes', d.notes, 'is_favorite', d.is_favorite, 'location_name', d.location_name, \
             'image_checksum', d.image_checksum, 'storage_key', s.storage_key)), '[]')::text \
           AS batch \
         FROM dex_entries d LEFT JOIN stored_images s ON s.id = d.image_id \
         WHERE d.id = ANY($1)",
        &ids_of(&sample),
    )
    .await?;
    let mut diffs = Vec::new();
    for row in sample {
        let id = row["id"].as_str().unwrap_or_default().to_owned();
        let Some(new) = here.get(&id) else { continue };
        for field in [
            "owner_id",
            "animal_id",
            "visibility",
            "notes",
            "is_favorite",
            "location_name",
        ] {
            if row[field] != new[field] {
                diffs.push(format!("dex_entries {id}: {field} differs"));
            }
        }
        if !same_instant(&row["catch_date"], &new["catch_date"]) {
            diffs.push(format!("dex_entries {id}: catch_date differs"));
        }
        let file = row["original_image"].as_str().unwrap_or_default();
        if let Some(diff) = compare_image(&id, file, new, media_root, &storage).await? {
            diffs.push(diff);
        }
    }
    Ok(diffs)
}

/// The old file converted again must give the entry's checksum, and the stored object must
/// hash to it.
async fn compare_image(
    id: &str,
    file: &str,
    new: &Value,
    media_root: &Path,
    storage: &SharedStorage,
) -> anyhow::Result<Option<String>> {
    let Some(checksum) = new["image_checksum"].as_str() else {
        return Ok(None);
    };
    let key = new["storage_key"].as_str().unwrap_or_default();
    let stored = match storage.get(key).await {
        Ok(bytes) => hex::encode(Sha256::digest(&bytes)),
        Err(e) => {
            return Ok(Some(format!(
                "dex_entries {id}: image {key} unreadable: {e}"
            )));
        }
    };
    if stored != checksum {
        return Ok(Some(format!(
            "dex_entries {id}: stored image does not match its checksum"
        )));
    }
    if file.is_empty() {
        return Ok(None);
    }
    let Ok(bytes) = tokio::fs::read(media_root.join(file)).await else {
        return Ok(Some(format!(
            "dex_entries {id}: has an image here but the old file {file} is gone"
        )));
    };
    let again =
        biologidex_core::cpu::run(move || images::convert(&bytes, images::Edits::default())).await;
    match again {
        Ok(Ok(c)) if c.image.checksum == checksum => Ok(None),
        _ => Ok(Some(format!(
            "dex_entries {id}: image differs from the old file {file}"
        ))),
    }
}
