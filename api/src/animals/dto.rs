//! Animal response shapes (DRF's `AnimalListSerializer` and `AnimalSerializer`).

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Value, json};
use shared::db::models::animals::{Animal, AnimalView};
use uuid::Uuid;

use crate::json::ser_datetime;

/// An animal in lists (and inside dex entries).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AnimalListResponse {
    pub id: Uuid,
    pub scientific_name: String,
    pub common_name: String,
    pub conservation_status: String,
    pub creation_index: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_by_username: Option<String>,
    pub verified: bool,
}

impl From<AnimalView> for AnimalListResponse {
    fn from(v: AnimalView) -> Self {
        let a = v.animal;
        AnimalListResponse {
            id: a.id,
            scientific_name: a.scientific_name,
            common_name: a.common_name,
            conservation_status: a.conservation_status,
            creation_index: a.creation_index,
            created_by_username: v.created_by_username,
            verified: a.verified,
        }
    }
}

/// The `taxonomic_tree` object (note `class`, not `class_name`).
pub fn taxonomic_tree(a: &Animal) -> Value {
    json!({
        "kingdom": a.kingdom,
        "phylum": a.phylum,
        "class": a.class_name,
        "order": a.order_name,
        "family": a.family,
        "genus": a.genus,
        "species": a.species,
    })
}

/// One animal in full.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AnimalResponse {
    pub id: Uuid,
    pub scientific_name: String,
    pub common_name: String,
    pub kingdom: String,
    pub phylum: String,
    pub class_name: String,
    pub order: String,
    pub family: String,
    pub genus: String,
    pub species: String,
    pub description: String,
    pub habitat: String,
    pub diet: String,
    pub conservation_status: String,
    pub interesting_facts: Value,
    pub creation_index: i32,
    pub created_by: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_by_username: Option<String>,
    pub verified: bool,
    #[serde(serialize_with = "ser_datetime")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "ser_datetime")]
    pub updated_at: DateTime<Utc>,
    pub taxonomic_tree: Value,
    pub discovery_count: i64,
}

impl AnimalResponse {
    /// Builds the response from a row and its discovery count.
    pub fn new(v: AnimalView, discovery_count: i64) -> Self {
        let tree = taxonomic_tree(&v.animal);
        let a = v.animal;
        AnimalResponse {
            id: a.id,
            scientific_name: a.scientific_name,
            common_name: a.common_name,
            kingdom: a.kingdom,
            phylum: a.phylum,
            class_name: a.class_name,
            order: a.order_name,
            family: a.family,
            genus: a.genus,
            species: a.species,
            description: a.description,
            habitat: a.habitat,
            diet: a.diet,
            conservation_status: a.conservation_status,
            interesting_facts: a.interesting_facts,
            creation_index: a.creation_index,
            created_by: a.created_by_id,
            created_by_username: v.created_by_username,
            verified: a.verified,
            created_at: a.created_at,
            updated_at: a.updated_at,
            taxonomic_tree: tree,
            discovery_count,
        }
    }
}
