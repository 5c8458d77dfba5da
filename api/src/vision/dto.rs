//! Job response shapes (DRF's `AnalysisJobSerializer` and list serializer). `cost_usd` is a
//! six-decimal string; `conversion_id` is omitted when there is no conversion.

use serde_json::{Map, Value, json};
use shared::db::models::{animals::Animal, vision::AnalysisJob};

use crate::{
    json::datetime,
    media::{MediaUrls, kind},
};

fn cost(v: Option<f64>) -> Value {
    v.map_or(Value::Null, |c| json!(format!("{c:.6}")))
}

fn opt_time(t: Option<&chrono::DateTime<chrono::Utc>>) -> Value {
    t.map_or(Value::Null, |t| json!(datetime(t)))
}

/// The fields of an animal a job shows (what the camera reads: id, creation_index, names).
pub fn animal_details(a: &Animal) -> Value {
    json!({
        "id": a.id,
        "creation_index": a.creation_index,
        "scientific_name": a.scientific_name,
        "common_name": a.common_name,
        "kingdom": a.kingdom,
        "phylum": a.phylum,
        "class": a.class_name,
        "order": a.order_name,
        "family": a.family,
        "genus": a.genus,
        "species": a.species,
        "subspecies": a.subspecies,
        "conservation_status": a.conservation_status,
        "verified": a.verified,
        "description": a.description,
        "habitat": a.habitat,
    })
}

/// A job in full, for its owner.
pub fn job(j: &AnalysisJob, animal: Option<&Animal>, urls: &MediaUrls) -> Value {
    let url = urls.capability(kind::JOB, j.image_token.as_deref());
    let mut o = Map::new();
    o.insert("id".into(), json!(j.id));
    o.insert("source_conversion".into(), json!(j.source_conversion_id));
    if let Some(c) = j.source_conversion_id {
        o.insert("conversion_id".into(), json!(c));
    }
    let direct = j.source_conversion_id.is_none() && j.image_conversion_status != "completed";
    o.insert(
        "image".into(),
        if direct { json!(url) } else { Value::Null },
    );
    o.insert("dex_compatible_url".into(), json!(url));
    o.insert(
        "image_conversion_status".into(),
        json!(j.image_conversion_status),
    );
    o.insert(
        "post_conversion_transformations".into(),
        j.post_conversion_transformations.clone(),
    );
    o.insert("user".into(), json!(j.user_id));
    o.insert("status".into(), json!(j.status));
    o.insert("cv_method".into(), json!(j.cv_method));
    o.insert("model_name".into(), json!(j.model_name));
    o.insert("detail_level".into(), json!(j.detail_level));
    o.insert("parsed_prediction".into(), json!(j.parsed_prediction));
    o.insert("identified_animal".into(), json!(j.identified_animal_id));
    o.insert(
        "animal_details".into(),
        animal.map_or(Value::Null, animal_details),
    );
    o.insert("confidence_score".into(), json!(j.confidence_score));
    o.insert("detected_animals".into(), j.detected_animals.clone());
    o.insert(
        "selected_animal_index".into(),
        json!(j.selected_animal_index),
    );
    o.insert("cost_usd".into(), cost(j.cost_usd));
    o.insert("processing_time".into(), json!(j.processing_time));
    o.insert("input_tokens".into(), json!(j.input_tokens));
    o.insert("output_tokens".into(), json!(j.output_tokens));
    o.insert("error_message".into(), json!(j.error_message));
    o.insert("retry_count".into(), json!(j.retry_count));
    o.insert("next_retry_at".into(), opt_time(j.next_retry_at.as_ref()));
    o.insert("created_at".into(), json!(datetime(&j.created_at)));
    o.insert("started_at".into(), opt_time(j.started_at.as_ref()));
    o.insert("completed_at".into(), opt_time(j.completed_at.as_ref()));
    let duration = j
        .completed_at
        .map(|c| (c - j.created_at).num_microseconds().unwrap_or(0) as f64 / 1e6);
    o.insert("duration".into(), json!(duration));
    Value::Object(o)
}

/// A job in lists.
pub fn job_item(j: &AnalysisJob) -> Value {
    json!({
        "id": j.id,
        "status": j.status,
        "parsed_prediction": j.parsed_prediction,
        "identified_animal": j.identified_animal_id,
        "cost_usd": cost(j.cost_usd),
        "created_at": datetime(&j.created_at),
        "completed_at": opt_time(j.completed_at.as_ref()),
    })
}
