//! The animal routes' request bodies and list query: each struct is what its handler parses
//! (through `crate::request`; unknown body fields refused, unknown query parameters ignored)
//! and what the OpenAPI document shows; value sets and error shapes as the document shows them.

use biologidex_db::models::animals::AnimalQuery;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::{
    fields::{AnimalName, Facts, Status, StatusFilter, StrictBool},
    read::{ordering, search_terms},
};
use crate::{
    ApiResult,
    docs::schemas::{FieldErrors, RuleError},
    request::{Chars, FilterBool, Optional, OptionalAny, Param, RawText, Required},
};

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

/// Declares an animal request body: its two name fields, then the optional descriptive fields
/// every animal body shares. Absent descriptive fields keep their current value (or the
/// default on creation); text fields are trimmed.
macro_rules! animal_request {
    (
        $(#[$doc:meta])* $name:ident {
            $(#[$sdoc:meta])* scientific_name: $s:ty,
            $(#[$cdoc:meta])* common_name: $c:ty $(,)?
        }
    ) => {
        $(#[$doc])*
        #[derive(Deserialize, ToSchema)]
        pub struct $name {
            $(#[$sdoc])*
            pub scientific_name: $s,
            $(#[$cdoc])*
            pub common_name: $c,
            /// At most 100 characters; default `Animalia`.
            #[schema(value_type = String, required = false, max_length = 100)]
            pub kingdom: Optional<Chars<100>>,
            /// At most 100 characters.
            #[schema(value_type = String, required = false, max_length = 100)]
            pub phylum: Optional<Chars<100>>,
            /// The class (at most 100 characters).
            #[schema(value_type = String, required = false, max_length = 100)]
            pub class_name: Optional<Chars<100>>,
            /// At most 100 characters.
            #[schema(value_type = String, required = false, max_length = 100)]
            pub order: Optional<Chars<100>>,
            /// At most 100 characters.
            #[schema(value_type = String, required = false, max_length = 100)]
            pub family: Optional<Chars<100>>,
            #[doc = "At most 100 characters. When `genus` or `species` ends up empty and \
                `scientific_name`\nhas two words, they are taken from it."]
            #[schema(value_type = String, required = false, max_length = 100)]
            pub genus: Optional<Chars<100>>,
            /// At most 100 characters (see `genus`).
            #[schema(value_type = String, required = false, max_length = 100)]
            pub species: Optional<Chars<100>>,
            #[schema(value_type = String, required = false)]
            pub description: Optional<String>,
            #[schema(value_type = String, required = false)]
            pub habitat: Optional<String>,
            #[schema(value_type = String, required = false)]
            pub diet: Optional<String>,
            /// Default `NE`.
            #[schema(value_type = ConservationStatus, required = false)]
            pub conservation_status: Optional<Status>,
            /// A JSON list (of strings, usually); default `[]`.
            #[schema(value_type = Vec<serde_json::Value>, required = false)]
            pub interesting_facts: OptionalAny<Facts>,
            #[doc = "Honoured for staff only (others' values are ignored); new animals are \
                unverified."]
            #[schema(value_type = bool, required = false)]
            pub verified: OptionalAny<StrictBool>,
        }

        impl super::fields::AnimalRequest for $name {
            fn sent(&self) -> super::fields::Sent {
                use super::fields::NameField;
                super::fields::Sent {
                    scientific_name: self.scientific_name.name(),
                    common_name: self.common_name.name(),
                    kingdom: self.kingdom.0.as_ref().map(|v| v.0.clone()),
                    phylum: self.phylum.0.as_ref().map(|v| v.0.clone()),
                    class_name: self.class_name.0.as_ref().map(|v| v.0.clone()),
                    order: self.order.0.as_ref().map(|v| v.0.clone()),
                    family: self.family.0.as_ref().map(|v| v.0.clone()),
                    genus: self.genus.0.as_ref().map(|v| v.0.clone()),
                    species: self.species.0.as_ref().map(|v| v.0.clone()),
                    description: self.description.0.clone(),
                    habitat: self.habitat.0.clone(),
                    diet: self.diet.0.clone(),
                    conservation_status: self.conservation_status.0.as_ref().map(|v| v.0.clone()),
                    interesting_facts: self.interesting_facts.0.as_ref().map(|v| v.0.clone()),
                    verified: self.verified.0.as_ref().map(|v| v.0),
                }
            }
        }
    };
}

animal_request! {
    /// A new animal.
    AnimalCreateRequest {
        /// Unique in any case; at most 200 characters, inner whitespace collapsed.
        #[schema(value_type = String, max_length = 200)]
        scientific_name: Required<AnimalName>,
        /// At most 200 characters.
        #[schema(value_type = String, max_length = 200)]
        common_name: Required<AnimalName>,
    }
}

animal_request! {
    /// The animal to find by scientific name, or to create with these fields.
    AnimalLookupRequest {
        /// Matched case-insensitively against the catalogue; at most 200 characters.
        #[schema(value_type = String, max_length = 200)]
        scientific_name: Required<AnimalName>,
        /// Used only when the animal is created; defaults to the scientific name when absent or
        /// blank. At most 200 characters.
        #[schema(value_type = Option<String>, required = false, max_length = 200)]
        common_name: Optional<AnimalName>,
    }
}

animal_request! {
    /// Changes to an animal: PUT requires both names, PATCH requires nothing.
    AnimalUpdateRequest {
        /// Unique in any case; at most 200 characters, inner whitespace collapsed.
        #[schema(value_type = String, required = false, max_length = 200)]
        scientific_name: Optional<AnimalName>,
        /// At most 200 characters.
        #[schema(value_type = String, required = false, max_length = 200)]
        common_name: Optional<AnimalName>,
    }
}

fn text(p: Param<RawText>) -> Option<String> {
    p.into_inner().map(|t| t.0)
}

/// The animal list's filters, search and ordering (`page` is read by the pagination).
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AnimalListQuery {
    /// Only animals with this IUCN category.
    #[param(value_type = Option<ConservationStatus>)]
    pub conservation_status: Param<StatusFilter>,
    #[doc = "Only verified (`true`) or unverified (`false`) animals; \
        `1`/`0`, `yes`/`no`, `on`/`off` also work, other values are ignored."]
    #[param(value_type = Option<bool>)]
    pub verified: Param<FilterBool>,
    /// Exact kingdom.
    #[param(value_type = Option<String>)]
    pub kingdom: Param<RawText>,
    /// Exact phylum.
    #[param(value_type = Option<String>)]
    pub phylum: Param<RawText>,
    /// Exact family.
    #[param(value_type = Option<String>)]
    pub family: Param<RawText>,
    #[doc = "Terms separated by spaces or commas; each must appear (any case) in \
        the scientific name, common name, genus or species."]
    #[param(value_type = Option<String>)]
    pub search: Param<RawText>,
    #[doc = "Comma-separated keys among `creation_index`, `created_at` and \
        `scientific_name`, `-` in front for descending; unknown keys are ignored. \
        Default `creation_index`."]
    #[param(value_type = Option<String>)]
    pub ordering: Param<RawText>,
}

impl AnimalListQuery {
    /// The model's query. A bad `search` is refused after the filters were read, as DRF's
    /// search runs after django-filter.
    pub fn into_query(self) -> ApiResult<AnimalQuery> {
        Ok(AnimalQuery {
            conservation_status: self.conservation_status.into_inner().map(|s| s.0),
            verified: self.verified.into_inner().and_then(|b| b.0),
            kingdom: text(self.kingdom),
            phylum: text(self.phylum),
            family: text(self.family),
            search: search_terms(text(self.search).as_ref())?,
            ordering: ordering(
                text(self.ordering).as_ref(),
                &["creation_index", "created_at", "scientific_name"],
            ),
        })
    }
}
