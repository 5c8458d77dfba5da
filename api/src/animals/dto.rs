//! Animal response shapes (DRF's `AnimalListSerializer` and `AnimalSerializer`).

use biologidex_core::ids::{AnimalId, UserId};
use biologidex_db::models::animals::{Animal, AnimalView};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use crate::json::ser_datetime;

/// An animal in lists (and inside dex entries).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AnimalListResponse {
    #[schema(value_type = Uuid)]
    pub id: AnimalId,
    pub scientific_name: String,
    pub common_name: String,
    #[schema(value_type = super::schema::ConservationStatus)]
    pub conservation_status: String,
    /// The Pokédex number: given in creation order, never reused.
    pub creation_index: i32,
    /// The creator's username; absent when the animal has no creator.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub created_by_username: Option<String>,
    /// Checked against a taxonomy source or by staff.
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

/// An animal's classification (note `class`, not `class_name`).
// Fields in alphabetical order: the body has always been sent with sorted keys.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = AnimalTaxonomy)]
pub struct TaxonomicTree {
    pub class: String,
    pub family: String,
    pub genus: String,
    pub kingdom: String,
    pub order: String,
    pub phylum: String,
    pub species: String,
}

/// The `taxonomic_tree` object of an animal.
pub fn taxonomic_tree(a: &Animal) -> TaxonomicTree {
    TaxonomicTree {
        class: a.class_name.clone(),
        family: a.family.clone(),
        genus: a.genus.clone(),
        kingdom: a.kingdom.clone(),
        order: a.order_name.clone(),
        phylum: a.phylum.clone(),
        species: a.species.clone(),
    }
}

/// A popular animal: the list fields plus its number of catches.
// Fields in alphabetical order: the body has always been sent with sorted keys.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PopularAnimal {
    /// Dex entries of this animal (all owners, all visibilities).
    pub capture_count: i64,
    pub common_name: String,
    #[schema(value_type = super::schema::ConservationStatus)]
    pub conservation_status: String,
    /// The creator's username; absent when the animal has no creator.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub created_by_username: Option<String>,
    /// The Pokédex number.
    pub creation_index: i32,
    #[schema(value_type = Uuid)]
    pub id: AnimalId,
    pub scientific_name: String,
    pub verified: bool,
}

impl PopularAnimal {
    pub fn new(view: AnimalView, capture_count: i64) -> Self {
        let a = AnimalListResponse::from(view);
        PopularAnimal {
            capture_count,
            common_name: a.common_name,
            conservation_status: a.conservation_status,
            created_by_username: a.created_by_username,
            creation_index: a.creation_index,
            id: a.id,
            scientific_name: a.scientific_name,
            verified: a.verified,
        }
    }
}

/// The answer of lookup-or-create.
// Fields in alphabetical order: the body has always been sent with sorted keys.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LookupOrCreateResponse {
    pub animal: AnimalResponse,
    /// True when the animal was created by this request (status 201), false when it existed.
    pub created: bool,
}

/// One animal in full.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AnimalResponse {
    #[schema(value_type = Uuid)]
    pub id: AnimalId,
    /// Unique in any case.
    pub scientific_name: String,
    pub common_name: String,
    pub kingdom: String,
    pub phylum: String,
    /// The class (`class` in `taxonomic_tree`).
    pub class_name: String,
    pub order: String,
    pub family: String,
    pub genus: String,
    pub species: String,
    pub description: String,
    pub habitat: String,
    pub diet: String,
    #[schema(value_type = super::schema::ConservationStatus)]
    pub conservation_status: String,
    /// A JSON list (of strings, usually).
    #[schema(value_type = Vec<Value>)]
    pub interesting_facts: Value,
    /// The Pokédex number: given in creation order, never reused.
    pub creation_index: i32,
    /// The user who added the animal, if any.
    #[schema(value_type = Option<Uuid>)]
    pub created_by: Option<UserId>,
    /// The creator's username; absent when `created_by` is null.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub created_by_username: Option<String>,
    /// Checked against a taxonomy source or by staff.
    pub verified: bool,
    #[serde(serialize_with = "ser_datetime")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "ser_datetime")]
    pub updated_at: DateTime<Utc>,
    pub taxonomic_tree: TaxonomicTree,
    /// How many distinct users have at least one dex entry of this animal.
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
