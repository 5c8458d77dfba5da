//! Request bodies and error shapes as the OpenAPI document shows them. Handlers read bodies
//! strictly through `input::Body` (unknown fields are refused with a field error), so these
//! types only describe.

use utoipa::ToSchema;

use crate::docs::schemas::{FieldErrors, RuleError};

/// A name to check against the taxonomy.
#[derive(ToSchema)]
#[schema(as = TaxonValidateRequest)]
pub struct ValidateRequest {
    /// The scientific name, e.g. `Canis lupus` (at most 300 characters).
    #[schema(min_length = 1, max_length = 300)]
    pub scientific_name: String,
    /// A vernacular name that helps choose between homonyms; blank is the same as absent.
    /// Stored on the animal when a signed-in caller's name creates one.
    #[schema(nullable = false)]
    pub common_name: Option<String>,
    /// The identification's confidence (0 to 1; default 0), recorded on the animal.
    #[schema(nullable = false)]
    pub confidence: Option<f64>,
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
