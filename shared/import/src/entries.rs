//! Old `dex_entries` → `dex_entries`, ids kept (the client's local dex keys on them). Each
//! image is copied into the content-addressed storage with a new capability token and
//! checksum; an entry whose file is missing is imported without an image (and reported).

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use diesel::sql_types::{Jsonb, Text, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use super::{
    conversions::existing,
    media::Purpose,
    phase::{Ctx, OldRow, Phase, Written},
    report::Kind,
};
use biologidex_db::models::dex::new_image_token;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OldEntry {
    pub id: Uuid,
    pub original_image: String,
    pub processed_image: String,
    pub location_lat: Option<f64>,
    pub location_lon: Option<f64>,
    pub location_name: String,
    pub notes: String,
    pub customizations: Value,
    pub catch_date: DateTime<Utc>,
    pub visibility: String,
    pub is_favorite: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub animal_id: Uuid,
    pub owner_id: Uuid,
    pub source_vision_job_id: Option<Uuid>,
}

impl OldRow for OldEntry {
    fn key(&self) -> String {
        self.id.to_string()
    }
}

impl OldEntry {
    /// The file the entry shows: its upload, else the (never written) processed image.
    fn image(&self) -> &str {
        if self.original_image.is_empty() {
            &self.processed_image
        } else {
            &self.original_image
        }
    }
}

#[derive(diesel::QueryableByName)]
struct Clash {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
    #[diesel(sql_type = Text)]
    other: String,
}

pub struct Entries;

impl Phase for Entries {
    const KIND: Kind = Kind::DexEntries;
    type Old = OldEntry;
    const FROM: &'static str = "dex_entries";
    const COLUMNS: &'static str = "id, original_image, \
        coalesce(processed_image, '') AS processed_image, location_lat::float8 AS location_lat, \
        location_lon::float8 AS location_lon, location_name, notes, customizations, catch_date, \
        visibility, is_favorite, created_at, updated_at, animal_id, owner_id, \
        source_vision_job_id";

    async fn write(
        ctx: &Ctx<'_>,
        conn: &mut AsyncPgConnection,
        rows: &[OldEntry],
    ) -> anyhow::Result<Written> {
        let mut out = Written::default();
        let owners = existing(
            conn,
            "users",
            &rows.iter().map(|r| r.owner_id).collect::<Vec<_>>(),
        )
        .await?;
        let animals = existing(
            conn,
            "animals",
            &rows.iter().map(|r| r.animal_id).collect::<Vec<_>>(),
        )
        .await?;
        let jobs = existing(
            conn,
            "analysis_jobs",
            &rows
                .iter()
                .filter_map(|r| r.source_vision_job_id)
                .collect::<Vec<_>>(),
        )
        .await?;
        let mut valid = Vec::new();
        for row in rows {
            let reason = if !owners.contains(&row.owner_id) {
                Some("owner not imported: the user was kept aside")
            } else if !animals.contains(&row.animal_id) {
                Some("animal not imported: the animal was kept aside")
            } else if !["private", "friends", "public"].contains(&row.visibility.as_str()) {
                Some("unknown visibility")
            } else {
                None
            };
            match reason {
                Some(r) => {
                    out.reject(conn, ctx, Self::KIND, &row.old_id(), r, row)
                        .await?
                }
                None => valid.push(row),
            }
        }
        let files: BTreeSet<String> = valid
            .iter()
            .map(|r| r.image().to_owned())
            .filter(|p| !p.is_empty())
            .collect();
        let stored = ctx
            .media
            .resolve(conn, &files, Purpose::Image, &mut out.media)
            .await?;
        let mut keep = Vec::new();
        for row in valid {
            let image = stored.get(row.image());
            if image.is_none() && !row.image().is_empty() {
                tracing::warn!(entry.id = %row.id, file = row.image(),
                    "entry imported without its image");
            }
            keep.push(serde_json::json!({
                "id": row.id, "owner_id": row.owner_id, "animal_id": row.animal_id,
                "source_vision_job_id": row.source_vision_job_id.filter(|j| jobs.contains(j)),
                "image_id": image.and_then(|s| s.image_id),
                "image_token": image.map(|_| new_image_token()),
                "image_checksum": image.map(|s| s.checksum.clone()),
                "location_lat": row.location_lat, "location_lon": row.location_lon,
                "location_name": row.location_name, "notes": row.notes,
                "customizations": if row.customizations.is_object() {
                    row.customizations.clone()
                } else {
                    Value::Object(Default::default())
                },
                "catch_date": row.catch_date, "visibility": row.visibility,
                "is_favorite": row.is_favorite, "created_at": row.created_at,
                "updated_at": row.updated_at,
            }));
        }
        let json = Value::Array(keep);
        let clashes: Vec<Clash> = diesel::sql_query(
            "SELECT r.id, d.id::text AS other \
             FROM jsonb_to_recordset($1) AS r(id uuid, owner_id uuid, animal_id uuid, \
                  catch_date timestamptz) \
             JOIN dex_entries d ON d.owner_id = r.owner_id AND d.animal_id = r.animal_id \
                  AND d.catch_date = r.catch_date AND d.id <> r.id",
        )
        .bind::<Jsonb, _>(&json)
        .load(conn)
        .await?;
        let mut rows_out = Vec::new();
        for value in json.as_array().into_iter().flatten() {
            let id: Option<Uuid> = value["id"].as_str().and_then(|s| s.parse().ok());
            match clashes.iter().find(|c| Some(c.id) == id) {
                Some(c) => {
                    let reason = format!(
                        "same owner, animal and catch date: as entry {} of this server",
                        c.other
                    );
                    let old_id = id.map(|i| i.to_string()).unwrap_or_default();
                    out.reject(conn, ctx, Self::KIND, &old_id, &reason, value)
                        .await?;
                }
                None => rows_out.push(value.clone()),
            }
        }
        out.upsert_json(conn, UPSERT, rows_out).await?;
        Ok(out)
    }
}

/// The image token survives a re-run while the image and its audience stay (handed-out URLs
/// keep working), so it is left out of the comparison; a narrowed visibility rotates it, which
/// revokes the URLs handed out before, as an edit on this server does.
const UPSERT: &str = "INSERT INTO dex_entries AS d (id, owner_id, animal_id, \
        source_vision_job_id, image_id, image_token, image_checksum, location_lat, \
        location_lon, location_name, notes, customizations, catch_date, visibility, \
        is_favorite, created_at, updated_at) \
    SELECT id, owner_id, animal_id, source_vision_job_id, image_id, image_token, \
        image_checksum, location_lat, location_lon, location_name, notes, customizations, \
        catch_date, visibility, is_favorite, created_at, updated_at \
    FROM jsonb_to_recordset($1) AS r(id uuid, owner_id uuid, animal_id uuid, \
        source_vision_job_id uuid, image_id uuid, image_token text, image_checksum text, \
        location_lat float8, location_lon float8, location_name text, notes text, \
        customizations jsonb, catch_date timestamptz, visibility text, is_favorite bool, \
        created_at timestamptz, updated_at timestamptz) \
    ON CONFLICT (id) DO UPDATE SET owner_id = EXCLUDED.owner_id, \
        animal_id = EXCLUDED.animal_id, source_vision_job_id = EXCLUDED.source_vision_job_id, \
        image_token = CASE WHEN d.image_id IS NOT DISTINCT FROM EXCLUDED.image_id \
                AND array_position(ARRAY['private', 'friends', 'public'], EXCLUDED.visibility) \
                    >= array_position(ARRAY['private', 'friends', 'public'], d.visibility) \
            THEN d.image_token ELSE EXCLUDED.image_token END, \
        image_id = EXCLUDED.image_id, image_checksum = EXCLUDED.image_checksum, \
        location_lat = EXCLUDED.location_lat, location_lon = EXCLUDED.location_lon, \
        location_name = EXCLUDED.location_name, notes = EXCLUDED.notes, \
        customizations = EXCLUDED.customizations, catch_date = EXCLUDED.catch_date, \
        visibility = EXCLUDED.visibility, is_favorite = EXCLUDED.is_favorite, \
        created_at = EXCLUDED.created_at, \
        updated_at = greatest(d.updated_at, EXCLUDED.updated_at) \
    WHERE (d.owner_id, d.animal_id, d.source_vision_job_id, d.image_id, d.image_checksum, \
           d.location_lat, d.location_lon, d.location_name, d.notes, d.customizations, \
           d.catch_date, d.visibility, d.is_favorite, d.created_at, d.updated_at) \
        IS DISTINCT FROM (EXCLUDED.owner_id, EXCLUDED.animal_id, \
           EXCLUDED.source_vision_job_id, EXCLUDED.image_id, EXCLUDED.image_checksum, \
           EXCLUDED.location_lat, EXCLUDED.location_lon, EXCLUDED.location_name, \
           EXCLUDED.notes, EXCLUDED.customizations, EXCLUDED.catch_date, \
           EXCLUDED.visibility, EXCLUDED.is_favorite, EXCLUDED.created_at, \
           greatest(d.updated_at, EXCLUDED.updated_at)) \
    RETURNING d.id, (d.xmax = 0) AS inserted";
