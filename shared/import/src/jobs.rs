//! Old `analysis_jobs` → `analysis_jobs`: finished jobs (completed or failed) with their
//! results, tokens and cost, so history, stats and the daily budget carry over. Unfinished
//! jobs are skipped (the user can send the photo again). The provider's own error text is not
//! carried: users see a fixed sentence, as for jobs of this server.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
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
pub struct OldJob {
    pub id: Uuid,
    pub image: String,
    pub dex_compatible_image: String,
    pub status: String,
    pub cv_method: String,
    pub model_name: String,
    pub detail_level: String,
    pub raw_response: Option<Value>,
    pub parsed_prediction: String,
    pub confidence_score: Option<f64>,
    pub cost_usd: Option<f64>,
    pub processing_time: Option<f64>,
    pub input_tokens: Option<i32>,
    pub output_tokens: Option<i32>,
    pub error_message: String,
    pub retry_count: i32,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
    pub identified_animal_id: Option<Uuid>,
    pub user_id: Uuid,
    pub image_conversion_status: String,
    pub source_conversion_id: Option<Uuid>,
    pub post_conversion_transformations: Value,
    pub detected_animals: Value,
    pub selected_animal_index: Option<i32>,
}

impl OldRow for OldJob {
    fn key(&self) -> String {
        self.id.to_string()
    }
}

/// What users are told of an old failure (its text may carry provider details).
const IMPORTED_FAILURE: &str =
    "The photo could not be identified on the previous server. Please try again.";

const CONVERSION_STATES: [&str; 5] = [
    "pending",
    "processing",
    "completed",
    "failed",
    "unnecessary",
];

pub struct Jobs;

impl Phase for Jobs {
    const KIND: Kind = Kind::VisionJobs;
    type Old = OldJob;
    const FROM: &'static str = "analysis_jobs";
    const COLUMNS: &'static str = "id, coalesce(image, '') AS image, \
        coalesce(dex_compatible_image, '') AS dex_compatible_image, status, cv_method, \
        model_name, detail_level, raw_response, parsed_prediction, confidence_score, \
        cost_usd::float8 AS cost_usd, processing_time, input_tokens, output_tokens, \
        error_message, retry_count, created_at, started_at, completed_at, identified_animal_id, \
        user_id, image_conversion_status, source_conversion_id, \
        post_conversion_transformations, detected_animals, selected_animal_index";

    async fn write(
        ctx: &Ctx<'_>,
        conn: &mut AsyncPgConnection,
        rows: &[OldJob],
    ) -> anyhow::Result<Written> {
        let mut out = Written::default();
        let finished: Vec<&OldJob> = rows
            .iter()
            .filter(|r| r.status == "completed" || r.status == "failed")
            .collect();
        for _ in finished.len()..rows.len() {
            out.counts
                .skip("unfinished (pending or processing): the user can send the photo again");
        }
        let ids_of = |f: &dyn Fn(&OldJob) -> Option<Uuid>| -> Vec<Uuid> {
            finished.iter().filter_map(|r| f(r)).collect()
        };
        let users = existing(conn, "users", &ids_of(&|r| Some(r.user_id))).await?;
        let animals = existing(conn, "animals", &ids_of(&|r| r.identified_animal_id)).await?;
        let conversions = existing(
            conn,
            "image_conversions",
            &ids_of(&|r| r.source_conversion_id),
        )
        .await?;
        let image_of = |r: &OldJob| {
            if r.dex_compatible_image.is_empty() {
                r.image.clone()
            } else {
                r.dex_compatible_image.clone()
            }
        };
        let files: BTreeSet<String> = finished
            .iter()
            .map(|r| image_of(r))
            .filter(|p| !p.is_empty())
            .collect();
        let stored = ctx
            .media
            .resolve(conn, &files, Purpose::Image, &mut out.media)
            .await?;
        let mut keep = Vec::new();
        for row in finished {
            if !users.contains(&row.user_id) {
                let reason = "user not imported: the owner was kept aside";
                out.reject(conn, ctx, Self::KIND, &row.old_id(), reason, row)
                    .await?;
                continue;
            }
            let image = stored.get(&image_of(row)).and_then(|s| s.image_id);
            let keep_id = |id: Option<Uuid>, known: &[Uuid]| id.filter(|i| known.contains(i));
            keep.push(serde_json::json!({
                "id": row.id, "user_id": row.user_id,
                "source_conversion_id": keep_id(row.source_conversion_id, &conversions),
                "image_id": image, "image_token": image.map(|_| new_image_token()),
                "image_conversion_status":
                    if CONVERSION_STATES.contains(&row.image_conversion_status.as_str()) {
                        row.image_conversion_status.as_str()
                    } else {
                        "completed"
                    },
                "post_conversion_transformations": row.post_conversion_transformations,
                "status": row.status,
                "cv_method": if row.cv_method == "fallback" { "fallback" } else { "openai" },
                "model_name": row.model_name, "detail_level": row.detail_level,
                "raw_response": row.raw_response, "parsed_prediction": row.parsed_prediction,
                "identified_animal_id": keep_id(row.identified_animal_id, &animals),
                "confidence_score": row.confidence_score,
                "detected_animals": if row.detected_animals.is_array() {
                    row.detected_animals.clone()
                } else {
                    Value::Array(Vec::new())
                },
                "selected_animal_index": row.selected_animal_index, "cost_usd": row.cost_usd,
                "processing_time": row.processing_time, "input_tokens": row.input_tokens,
                "output_tokens": row.output_tokens,
                "error_message": if row.error_message.is_empty() { "" } else { IMPORTED_FAILURE },
                "retry_count": row.retry_count.max(0),
                "created_at": row.created_at, "started_at": row.started_at,
                "completed_at": row.completed_at,
                "updated_at": row.completed_at.or(row.started_at).unwrap_or(row.created_at),
            }));
        }
        out.upsert_json(conn, UPSERT, keep).await?;
        // What the old server spent counts like a call made here (the daily budget sums it).
        diesel::sql_query(
            "INSERT INTO vision_spend (job_id, called_at, cost_usd) \
             SELECT j.id, j.completed_at, j.cost_usd FROM analysis_jobs j \
             WHERE j.id = ANY($1) AND j.cost_usd IS NOT NULL AND j.completed_at IS NOT NULL \
               AND NOT EXISTS (SELECT 1 FROM vision_spend s WHERE s.job_id = j.id)",
        )
        .bind::<diesel::sql_types::Array<diesel::sql_types::Uuid>, _>(&out.ids)
        .execute(conn)
        .await?;
        Ok(out)
    }
}

/// The image token survives a re-run while the image stays the same (handed-out URLs keep
/// working); it is left out of the comparison for that reason.
const UPSERT: &str = "INSERT INTO analysis_jobs AS j (id, user_id, source_conversion_id, \
        image_id, image_token, image_conversion_status, post_conversion_transformations, \
        status, cv_method, model_name, detail_level, raw_response, parsed_prediction, \
        identified_animal_id, confidence_score, detected_animals, selected_animal_index, \
        cost_usd, processing_time, input_tokens, output_tokens, error_message, retry_count, \
        created_at, updated_at, started_at, completed_at) \
    SELECT id, user_id, source_conversion_id, image_id, image_token, image_conversion_status, \
        post_conversion_transformations, status, cv_method, model_name, detail_level, \
        raw_response, parsed_prediction, identified_animal_id, confidence_score, \
        detected_animals, selected_animal_index, cost_usd, processing_time, input_tokens, \
        output_tokens, error_message, retry_count, created_at, updated_at, started_at, \
        completed_at \
    FROM jsonb_to_recordset($1) AS r(id uuid, user_id uuid, source_conversion_id uuid, \
        image_id uuid, image_token text, image_conversion_status text, \
        post_conversion_transformations jsonb, status text, cv_method text, model_name text, \
        detail_level text, raw_response jsonb, parsed_prediction text, \
        identified_animal_id uuid, confidence_score float8, detected_animals jsonb, \
        selected_animal_index int, cost_usd float8, processing_time float8, input_tokens int, \
        output_tokens int, error_message text, retry_count int, created_at timestamptz, \
        updated_at timestamptz, started_at timestamptz, completed_at timestamptz) \
    ON CONFLICT (id) DO UPDATE SET source_conversion_id = EXCLUDED.source_conversion_id, \
        image_token = CASE WHEN j.image_id IS NOT DISTINCT FROM EXCLUDED.image_id \
                           THEN j.image_token ELSE EXCLUDED.image_token END, \
        image_id = EXCLUDED.image_id, status = EXCLUDED.status, \
        identified_animal_id = EXCLUDED.identified_animal_id, \
        detected_animals = EXCLUDED.detected_animals, \
        selected_animal_index = EXCLUDED.selected_animal_index, \
        error_message = EXCLUDED.error_message, retry_count = EXCLUDED.retry_count, \
        cost_usd = EXCLUDED.cost_usd, updated_at = EXCLUDED.updated_at, \
        completed_at = EXCLUDED.completed_at \
    WHERE (j.source_conversion_id, j.image_id, j.status, j.identified_animal_id, \
           j.detected_animals, j.selected_animal_index, j.error_message, j.retry_count, \
           j.cost_usd, j.updated_at, j.completed_at) \
        IS DISTINCT FROM (EXCLUDED.source_conversion_id, EXCLUDED.image_id, EXCLUDED.status, \
           EXCLUDED.identified_animal_id, EXCLUDED.detected_animals, \
           EXCLUDED.selected_animal_index, EXCLUDED.error_message, EXCLUDED.retry_count, \
           EXCLUDED.cost_usd, EXCLUDED.updated_at, EXCLUDED.completed_at) \
    RETURNING j.id, (j.xmax = 0) AS inserted";
