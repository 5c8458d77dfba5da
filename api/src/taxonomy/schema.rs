//! The taxonomy routes' request body and queries (what the handlers parse, through
//! `crate::request`) and error shapes as the OpenAPI document shows them. Query values are
//! read trimmed, a blank one is absent, and integral floats (`20.0`) count as integers.

use biologidex_db::models::taxa::SearchParams;
use biologidex_taxonomy::matching::MatchOptions;
use serde::Deserialize;
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use crate::{
    ApiError, ApiResult,
    docs::schemas::{FieldErrors, RuleError},
    request::{
        Chars, FieldValue, Optional, REQUIRED, Refusal, Required, RequiredAny, TrimmedParam,
    },
};

/// Most characters of a scientific name.
pub const MAX_NAME: usize = 300;
/// Longest search term accepted.
const MAX_TERM: usize = 100;
/// Results returned without `limit`, and at most.
const DEFAULT_LIMIT: i64 = 20;
const MAX_LIMIT: i64 = 100;

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

/// The search's filters: every given one must hold (`page` is not read: results are not
/// paginated).
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TaxonSearchQuery {
    /// Text in the scientific name or a common name (any case).
    #[param(value_type = Option<String>, max_length = 100)]
    pub q: TrimmedParam<Chars<MAX_TERM>>,
    /// Text in the genus.
    #[param(value_type = Option<String>, max_length = 100)]
    pub genus: TrimmedParam<Chars<MAX_TERM>>,
    /// Text in the specific epithet.
    #[param(value_type = Option<String>, max_length = 100)]
    pub species: TrimmedParam<Chars<MAX_TERM>>,
    /// Text in a common name.
    #[param(value_type = Option<String>, max_length = 100)]
    pub common_name: TrimmedParam<Chars<MAX_TERM>>,
    /// Only taxa of this rank (`species`, `genus`...; any case).
    #[param(value_type = Option<String>, max_length = 50)]
    pub rank: TrimmedParam<Chars<50>>,
    /// Only taxa of this kingdom (exact name, any case).
    #[param(value_type = Option<String>, max_length = 100)]
    pub kingdom: TrimmedParam<Chars<MAX_TERM>>,
    /// Results to return: default 20, values above 100 count as 100.
    #[param(value_type = Option<i64>, minimum = 1)]
    pub limit: TrimmedParam<SearchLimit>,
}

fn term<const MAX: usize>(p: TrimmedParam<Chars<MAX>>) -> Option<String> {
    p.into_inner().map(|t| t.0)
}

impl TaxonSearchQuery {
    /// The model's search; without any of `q`, `genus`, `species` and `common_name` it is a
    /// rule error.
    pub fn into_params(self) -> ApiResult<SearchParams> {
        let params = SearchParams {
            q: term(self.q),
            genus: term(self.genus),
            species: term(self.species),
            common_name: term(self.common_name),
            rank: term(self.rank).map(|r| r.to_lowercase()),
            kingdom: term(self.kingdom),
            limit: self.limit.into_inner().map_or(DEFAULT_LIMIT, |l| l.0),
        };
        if params.q.is_none()
            && params.genus.is_none()
            && params.species.is_none()
            && params.common_name.is_none()
        {
            return Err(ApiError::rule(
                "At least one search parameter is required (q, genus, species, or common_name)",
            ));
        }
        Ok(params)
    }
}

/// The search's `limit`: a positive integer, at most [`MAX_LIMIT`] (more counts as that).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SearchLimit(pub i64);

impl FieldValue for SearchLimit {
    fn from_json(value: Value) -> Result<Self, Refusal> {
        let raw = String::from_json(value)?;
        let n = raw
            .parse::<i64>()
            .ok()
            .or_else(|| {
                raw.parse::<f64>()
                    .ok()
                    .filter(|f| f.is_finite() && f.fract() == 0.0 && f.abs() < 9.0e15)
                    .map(|f| f as i64)
            })
            .ok_or_else(|| vec!["A valid integer is required.".to_owned()])?;
        if n < 1 {
            return Err(vec![
                "Ensure this value is greater than or equal to 1.".to_owned(),
            ]);
        }
        Ok(SearchLimit(n.min(MAX_LIMIT)))
    }
}

/// What `match` looks up.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TaxonMatchQuery {
    /// The name to match: scientific (`Canis lupus`) or vernacular.
    #[param(value_type = String, max_length = 300)]
    pub name: RequiredAny<MatchName>,
    /// Only taxa of this kingdom (any case).
    #[param(value_type = Option<String>, max_length = 100)]
    pub kingdom: TrimmedParam<Chars<MAX_TERM>>,
    /// A vernacular name that helps choose between homonyms.
    #[param(value_type = Option<String>, max_length = 200)]
    pub common_name: TrimmedParam<Chars<200>>,
}

impl TaxonMatchQuery {
    /// The name and the matcher's options.
    pub fn into_parts(self) -> (String, MatchOptions) {
        let opts = MatchOptions {
            kingdom: term(self.kingdom),
            vernacular_hint: term(self.common_name),
        };
        (self.name.into_inner().0, opts)
    }
}

/// The name to match: trimmed, at most [`MAX_NAME`] characters; blank is missing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MatchName(pub String);

impl FieldValue for MatchName {
    fn from_json(value: Value) -> Result<Self, Refusal> {
        let Chars(name) = Chars::<MAX_NAME>::from_json(value)?;
        if name.is_empty() {
            return Err(vec![REQUIRED.to_owned()]);
        }
        Ok(MatchName(name))
    }
}

/// Which of a taxon's descendants to list (`page` is read by the pagination).
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TaxonChildrenQuery {
    #[doc = "`true` (default): direct children only; `false`: all descendants. \
        Also accepts `1/0`, `yes/no`, `on/off`."]
    #[param(value_type = Option<bool>)]
    pub direct: TrimmedParam<bool>,
}

/// `?page=` of a paginated list.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Page number (1-based) or `last`; 50 results per page. A page past the end is a 404.
    pub page: Option<String>,
}
