//! Query parameters, request bodies and error shapes as the OpenAPI document shows them. The
//! handlers parse queries in `params` and bodies strictly through `input::Body` (unknown fields
//! are refused with a field error), so these types only describe.

use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::{
    docs::schemas::{Detail, FieldErrors, RuleError},
    request::{FieldValue, Optional, Refusal, choice},
};

/// Whose animals a tree shows.
#[derive(ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum TreeMode {
    /// The caller's own.
    Personal,
    /// The caller's and their friends' (the default).
    Friends,
    /// The caller's and those of the friends listed in `friend_ids`.
    Selected,
    /// Everyone's (staff only).
    Global,
}

/// What every tree route takes.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TreeQuery {
    /// Whose animals (default `friends`; `global` is for staff).
    #[param(inline)]
    pub mode: Option<TreeMode>,
    /// `selected` mode only: comma-separated user ids. Ids of users who are not friends are
    /// ignored; a malformed id is a 400.
    pub friend_ids: Option<String>,
    /// Read the cached tree (default `true`; anything but `true`, in any case, rebuilds it).
    pub use_cache: Option<bool>,
}

/// A bad tree query: an unknown `mode` or a bad `limit` (field errors), or malformed
/// `friend_ids` or a missing `q` (a rule error).
#[derive(ToSchema)]
#[serde(untagged)]
pub enum TreeQueryError {
    Fields(FieldErrors),
    Rule(RuleError),
}

/// Which cached trees to drop.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[schema(as = TreeInvalidateScope)]
pub enum InvalidateScope {
    /// The caller's trees (the default).
    #[default]
    User,
    /// Every tree (staff only).
    Global,
}

impl FieldValue for InvalidateScope {
    fn from_json(value: serde_json::Value) -> Result<Self, Refusal> {
        choice(value)
    }
}

/// The body is optional: an empty body means `{"scope": "user"}`.
#[derive(Deserialize, ToSchema)]
#[schema(as = TreeInvalidateRequest)]
pub struct InvalidateRequest {
    /// Default `user`.
    #[schema(value_type = InvalidateScope, required = false)]
    pub scope: Optional<InvalidateScope>,
}

/// A bad invalidation body: not JSON (`{"detail": "JSON parse error - ..."}`), or an unknown
/// `scope` or field (field errors).
#[derive(ToSchema)]
#[serde(untagged)]
#[schema(as = TreeInvalidateError)]
pub enum InvalidateError {
    Detail(Detail),
    Fields(FieldErrors),
}
