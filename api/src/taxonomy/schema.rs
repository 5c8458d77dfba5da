//! The taxonomy routes' request body (what `validate` parses, through `crate::request`) and
//! error shapes as the OpenAPI document shows them.

use serde::Deserialize;
use utoipa::ToSchema;

use crate::{
    docs::schemas::{FieldErrors, RuleError},
    request::{Chars, Optional, Required},
};

/// Most characters of a scientific name.
pub const MAX_NAME: usize = 300;

/// A name to check against the taxonomy.
#[derive(Deserialize, ToSchema)]
#[schema(as = TaxonValidateRequest)]
pub struct ValidateRequest {
    /// The scientific name, e.g. `Canis lupus` (at most 300 characters).
    #[schema(value_type = String, min_length = 1, max_length = 300)]
    pub scientific_name: Required<Chars<MAX_NAME>>,
    /// A vernacular name that helps choose between homonyms; blank is the same as absent.
    /// Stored on the animal when a signed-in caller's name creates one.
    #[schema(value_type = String, required = false)]
    pub common_name: Optional<String>,
    /// The identification's confidence (0 to 1; default 0), recorded on the animal.
    #[schema(value_type = f64, required = false)]
    pub confidence: Optional<f64>,
}

/// A bad taxonomy query: no search term at all (a rule error), or a parameter with a bad value
/// (field errors).
#[derive(ToSchema)]
#[serde(untagged)]
pub enum TaxonomyQueryError {
    Rule(RuleError),
    Fields(FieldErrors),
}

/// `?page=` of a paginated list.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Page number (1-based) or `last`; 50 results per page. A page past the end is a 404.
    pub page: Option<String>,
}
