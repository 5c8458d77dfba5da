//! Query parameters, request bodies and error shapes as the OpenAPI document shows them; the
//! queries and the invalidation body are also what the handlers parse (through
//! `crate::request`; the tree queries' values are then checked in `params`).

use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::{
    docs::schemas::{Detail, FieldErrors, RuleError},
    request::{FieldValue, Optional, Param, RawText, Refusal, choice},
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

/// What every tree route takes. Read as sent: `params::tree_params` checks it (so a route's
/// own checks keep their place before these).
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TreeQuery {
    /// Whose animals (default `friends`; `global` is for staff).
    #[param(inline, value_type = Option<TreeMode>)]
    pub mode: Param<RawText>,
    /// `selected` mode only: comma-separated user ids. Ids of users who are not friends are
    /// ignored; a malformed id is a 400.
    #[param(value_type = Option<String>)]
    pub friend_ids: Param<RawText>,
    /// Read the cached tree (default `true`; anything but `true`, in any case, rebuilds it).
    #[param(value_type = Option<bool>)]
    pub use_cache: Optional<UseCache>,
}

/// The search's own parameters (beside a [`TreeQuery`]), read as sent and checked by the
/// handler.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TreeSearchQuery {
    /// Text to find (any case); required.
    #[param(value_type = String)]
    pub q: Param<RawText>,
    /// Most results to return (default 50).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 1000)]
    pub limit: Param<RawText>,
}

/// The legacy graph's query.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LegacyGraphQuery {
    #[doc = "Read the cached graph (default `true`; anything but `true`, in any \
        case, rebuilds it)."]
    #[param(value_type = Option<bool>)]
    pub use_cache: Optional<UseCache>,
}

/// `use_cache`: on only for `true` in any case (surrounding spaces ignored); an empty value
/// turns it off too.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UseCache(pub bool);

impl FieldValue for UseCache {
    fn from_json(value: serde_json::Value) -> Result<Self, Refusal> {
        Ok(UseCache(
            value
                .as_str()
                .is_some_and(|v| v.trim().eq_ignore_ascii_case("true")),
        ))
    }
}

impl UseCache {
    /// Absent means on.
    pub fn of(field: &Optional<UseCache>) -> bool {
        field.0.is_none_or(|u| u.0)
    }
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
