//! Old `image_conversions` (step one of the two-step upload) → `image_conversions`. They live
//! 30 minutes, so only the ones not yet expired are carried over (a user mid-upload during the
//! switch); expired ones are counted and skipped.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use diesel::sql_types::{Array, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use super::{
    media::Purpose,
    phase::{Ctx, OldRow, Phase, Written},
    report::Kind,
};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OldConversion {
    pub id: Uuid,
    pub original_image: String,
    pub converted_image: String,
    pub original_format: String,
    pub original_size: Value,
    pub converted_size: Value,
    pub transformations: Value,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub used_in_job: bool,
    pub user_id: Uuid,
}

impl OldRow for OldConversion {
    fn key(&self) -> String {
        self.id.to_string()
    }
}

#[derive(diesel::QueryableByName)]
pub(super) struct Id {
    #[diesel(sql_type = SqlUuid)]
    pub id: Uuid,
}

/// Which of `ids` exist in `table` here (a fixed table name of this module's callers).
pub(super) async fn existing(
    conn: &mut AsyncPgConnection,
    table: &str,
    ids: &[Uuid],
) -> anyhow::Result<Vec<Uuid>> {
    Ok(
        diesel::sql_query(format!("SELECT id FROM {table} WHERE id = ANY($1)"))
            .bind::<Array<SqlUuid>, _>(ids)
            .load::<Id>(conn)
            .await?
            .into_iter()
            .map(|r| r.id)
            .collect(),
    )
}

pub struct Conversions;

impl Phase for Conversions {
    const KIND: Kind = Kind::Conversions;
    type Old = OldConversion;
    const FROM: &'static str = "image_conversions";
    const COLUMNS: &'static str = "id, original_image, converted_image, original_format, \
        original_size, converted_size, transformations, created_at, expires_at, used_in_job, \
        user_id";

    async fn write(
        ctx: &Ctx<'_>,
        conn: &mut AsyncPgConnection,
        rows: &[OldConversion],
    ) -> anyhow::Result<Written> {
        let mut out = Written::default();
        let now = Utc::now();
        let live: Vec<&OldConversion> = rows.iter().filter(|r| r.expires_at > now).collect();
        for _ in live.len()..rows.len() {
            out.counts.skip("expired (a conversion lives 30 minutes)");
        }
        let users = existing(
            conn,
            "users",
            &live.iter().map(|r| r.user_id).collect::<Vec<_>>(),
        )
        .await?;
        let files: BTreeSet<String> = live
            .iter()
            .flat_map(|r| [r.original_image.clone(), r.converted_image.clone()])
            .filter(|p| !p.is_empty())
            .collect();
        let stored = ctx
            .media
            .resolve(conn, &files, Purpose::Image, &mut out.media)
            .await?;
        let mut keep = Vec::new();
        for row in live {
            if !users.contains(&row.user_id) {
                let reason = "user not imported: the owner was kept aside";
                out.reject(conn, ctx, Self::KIND, &row.old_id(), reason, row)
                    .await?;
                continue;
            }
            let Some(converted) = stored.get(&row.converted_image) else {
                out.counts.skip("converted file missing or unreadable");
                continue;
            };
            keep.push(serde_json::json!({
                "id": row.id, "user_id": row.user_id,
                "original_image_id": stored.get(&row.original_image).and_then(|s| s.image_id),
                "converted_image_id": converted.image_id,
                "original_format": row.original_format.chars().take(10).collect::<String>(),
                "original_size": row.original_size, "converted_size": row.converted_size,
                "transformations": row.transformations, "checksum": converted.checksum,
                "created_at": row.created_at, "expires_at": row.expires_at,
                "used_in_job": row.used_in_job,
            }));
        }
        out.upsert_json(conn, UPSERT, keep).await?;
        Ok(out)
    }
}

const UPSERT: &str = "INSERT INTO image_conversions AS c (id, user_id, original_image_id, \
        converted_image_id, original_format, original_size, converted_size, transformations, \
        checksum, created_at, expires_at, used_in_job) \
    SELECT id, user_id, original_image_id, converted_image_id, original_format, original_size, \
        converted_size, transformations, checksum, created_at, expires_at, used_in_job \
    FROM jsonb_to_recordset($1) AS r(id uuid, user_id uuid, original_image_id uuid, \
        converted_image_id uuid, original_format text, original_size jsonb, \
        converted_size jsonb, transformations jsonb, checksum text, created_at timestamptz, \
        expires_at timestamptz, used_in_job bool) \
    ON CONFLICT (id) DO UPDATE SET original_image_id = EXCLUDED.original_image_id, \
        converted_image_id = EXCLUDED.converted_image_id, checksum = EXCLUDED.checksum, \
        transformations = EXCLUDED.transformations, expires_at = EXCLUDED.expires_at, \
        used_in_job = EXCLUDED.used_in_job \
    WHERE (c.original_image_id, c.converted_image_id, c.checksum, c.transformations, \
           c.expires_at, c.used_in_job) \
        IS DISTINCT FROM (EXCLUDED.original_image_id, EXCLUDED.converted_image_id, \
           EXCLUDED.checksum, EXCLUDED.transformations, EXCLUDED.expires_at, \
           EXCLUDED.used_in_job) \
    RETURNING c.id, (c.xmax = 0) AS inserted";
