//! Request bodies and value sets as the OpenAPI document shows them. Handlers read bodies
//! strictly through `input::Body` (unknown fields are refused with a field error), so these
//! types only describe.

use serde_json::Value;
use utoipa::ToSchema;

use crate::docs::schemas::{FieldErrors, RuleError};

/// A 400 of either shape: a broken rule (`detail` and `error`) or field errors.
#[derive(ToSchema)]
#[serde(untagged)]
pub enum RuleOrFieldErrors {
    Rule(RuleError),
    Fields(FieldErrors),
}

/// IUCN Red List category of an animal: `EX` extinct, `EW` extinct in the wild, `CR`
/// critically endangered, `EN` endangered, `VU` vulnerable, `NT` near threatened, `LC` least
/// concern, `DD` data deficient, `NE` not evaluated.
#[derive(ToSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum ConservationStatus {
    /// Extinct.
    Ex,
    /// Extinct in the wild.
    Ew,
    /// Critically endangered.
    Cr,
    /// Endangered.
    En,
    /// Vulnerable.
    Vu,
    /// Near threatened.
    Nt,
    /// Least concern.
    Lc,
    /// Data deficient.
    Dd,
    /// Not evaluated (the default).
    Ne,
}

/// The optional descriptive fields of an animal. Absent fields keep their current value
/// (or the default on creation); text fields are trimmed.
#[derive(ToSchema)]
pub struct AnimalDescription {
    /// At most 100 characters; default `Animalia`.
    #[schema(max_length = 100, nullable = false)]
    pub kingdom: Option<String>,
    /// At most 100 characters.
    #[schema(max_length = 100, nullable = false)]
    pub phylum: Option<String>,
    /// The class (at most 100 characters).
    #[schema(max_length = 100, nullable = false)]
    pub class_name: Option<String>,
    /// At most 100 characters.
    #[schema(max_length = 100, nullable = false)]
    pub order: Option<String>,
    /// At most 100 characters.
    #[schema(max_length = 100, nullable = false)]
    pub family: Option<String>,
    /// At most 100 characters. When `genus` or `species` ends up empty and `scientific_name`
    /// has two words, they are taken from it.
    #[schema(max_length = 100, nullable = false)]
    pub genus: Option<String>,
    /// At most 100 characters (see `genus`).
    #[schema(max_length = 100, nullable = false)]
    pub species: Option<String>,
    #[schema(nullable = false)]
    pub description: Option<String>,
    #[schema(nullable = false)]
    pub habitat: Option<String>,
    #[schema(nullable = false)]
    pub diet: Option<String>,
    /// Default `NE`.
    #[schema(nullable = false)]
    pub conservation_status: Option<ConservationStatus>,
    /// A JSON list (of strings, usually); default `[]`.
    #[schema(nullable = false)]
    pub interesting_facts: Option<Vec<Value>>,
    /// Honoured for staff only (others' values are ignored); new animals are unverified.
    #[schema(nullable = false)]
    pub verified: Option<bool>,
}

/// A new animal.
#[derive(ToSchema)]
pub struct AnimalCreateRequest {
    /// Unique in any case; at most 200 characters, inner whitespace collapsed.
    #[schema(max_length = 200)]
    pub scientific_name: String,
    /// At most 200 characters.
    #[schema(max_length = 200)]
    pub common_name: String,
    #[serde(flatten)]
    pub description: AnimalDescription,
}

/// The animal to find by scientific name, or to create with these fields.
#[derive(ToSchema)]
pub struct AnimalLookupRequest {
    /// Matched case-insensitively against the catalogue; at most 200 characters.
    #[schema(max_length = 200)]
    pub scientific_name: String,
    /// Used only when the animal is created; defaults to the scientific name when absent or
    /// blank. At most 200 characters.
    #[schema(max_length = 200)]
    pub common_name: Option<String>,
    #[serde(flatten)]
    pub description: AnimalDescription,
}

/// Changes to an animal: PUT requires both names, PATCH requires nothing.
#[derive(ToSchema)]
pub struct AnimalUpdateRequest {
    /// Unique in any case; at most 200 characters, inner whitespace collapsed.
    #[schema(max_length = 200, nullable = false)]
    pub scientific_name: Option<String>,
    /// At most 200 characters.
    #[schema(max_length = 200, nullable = false)]
    pub common_name: Option<String>,
    #[serde(flatten)]
    pub description: AnimalDescription,
}
