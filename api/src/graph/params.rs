//! Query parameters of the tree routes: `mode`, `friend_ids`, `use_cache` and `limit`, with
//! 400s in the client's error shapes (never a 500; docs/wire-compatibility.md#error-shapes).

use biologidex_core::Error;
use biologidex_core::ids::UserId;
use biologidex_db::models::graph::TreeScope;
use uuid::Uuid;

use super::schema::{TreeQuery, UseCache};
use crate::{
    ApiError, ApiResult,
    auth::AuthUser,
    request::{Param, RawText},
};

/// Tree modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Personal,
    Friends,
    Selected,
    Global,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Personal => "personal",
            Mode::Friends => "friends",
            Mode::Selected => "selected",
            Mode::Global => "global",
        }
    }
}

/// What every tree route takes.
#[derive(Debug, Clone)]
pub struct TreeParams {
    pub mode: Mode,
    pub scope: TreeScope,
    /// The `friend_ids` asked for (selected mode), sorted and deduplicated.
    pub selected: Vec<UserId>,
    pub use_cache: bool,
}

impl TreeParams {
    /// The readable part of the cache key (also `metadata.cache_key`).
    pub fn cache_base(&self, viewer: UserId) -> String {
        match self.mode {
            Mode::Selected => {
                let ids: Vec<String> = self.selected.iter().map(ToString::to_string).collect();
                format!("taxonomic_tree_selected_{viewer}_{}", ids.join("_"))
            }
            mode => format!("taxonomic_tree_{}_{viewer}", mode.as_str()),
        }
    }

    /// Global trees are for staff; `message` is the route's 403 text.
    pub fn check_access(&self, me: &AuthUser, message: &str) -> ApiResult<()> {
        if self.mode == Mode::Global && !me.is_staff {
            return Err(ApiError(Error::ForbiddenBecause(message.to_owned())));
        }
        Ok(())
    }
}

/// A parameter's value, trimmed; blank counts as absent.
fn param(p: &Param<RawText>) -> Option<&str> {
    p.0.as_ref().map(|s| s.0.trim()).filter(|s| !s.is_empty())
}

/// Parses `mode` (default friends), `friend_ids` (selected mode) and `use_cache` (default
/// true; anything but `true` in any case turns it off).
pub fn tree_params(q: &TreeQuery) -> ApiResult<TreeParams> {
    let mode = match param(&q.mode).unwrap_or("friends") {
        "personal" => Mode::Personal,
        "friends" => Mode::Friends,
        "selected" => Mode::Selected,
        "global" => Mode::Global,
        other => {
            return Err(ApiError::field(
                "mode",
                format!("\"{other}\" is not a valid choice."),
            ));
        }
    };
    let mut selected = Vec::new();
    if mode == Mode::Selected
        && let Some(raw) = param(&q.friend_ids)
    {
        for part in raw.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            selected.push(Uuid::try_parse(part).map(UserId).map_err(|_| {
                ApiError::rule("Invalid friend_ids format - expected comma-separated UUIDs")
            })?);
        }
        selected.sort_unstable();
        selected.dedup();
    }
    let scope = match mode {
        Mode::Personal => TreeScope::Personal,
        Mode::Friends => TreeScope::Friends,
        Mode::Selected => TreeScope::Selected(selected.clone()),
        Mode::Global => TreeScope::Global,
    };
    let use_cache = UseCache::of(&q.use_cache);
    Ok(TreeParams {
        mode,
        scope,
        selected,
        use_cache,
    })
}

/// Largest `limit` a search accepts.
pub const MAX_LIMIT: i64 = 1000;

/// `limit` (default `default`): an integer, or an integral float such as `50.0`, in
/// `1..=MAX_LIMIT`; anything else is a field error.
pub fn limit(raw: &Param<RawText>, default: i64) -> ApiResult<i64> {
    let Some(raw) = param(raw) else {
        return Ok(default);
    };
    let n = raw.parse::<i64>().ok().or_else(|| {
        raw.parse::<f64>()
            .ok()
            .filter(|f| f.is_finite() && f.fract() == 0.0 && f.abs() < 9.0e15)
            .map(|f| f as i64)
    });
    match n {
        None => Err(ApiError::field("limit", "A valid integer is required.")),
        Some(n) if n < 1 => Err(ApiError::field(
            "limit",
            "Ensure this value is greater than or equal to 1.",
        )),
        Some(n) if n > MAX_LIMIT => Err(ApiError::field(
            "limit",
            format!("Ensure this value is less than or equal to {MAX_LIMIT}."),
        )),
        Some(n) => Ok(n),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::Optional;

    fn text(v: Option<&str>) -> Param<RawText> {
        Param(v.map(|v| RawText(v.to_owned())))
    }

    fn q(pairs: &[(&str, &str)]) -> TreeQuery {
        let get = |key: &str| pairs.iter().find(|(k, _)| *k == key).map(|(_, v)| *v);
        TreeQuery {
            mode: text(get("mode")),
            friend_ids: text(get("friend_ids")),
            use_cache: Optional(
                get("use_cache").map(|v| UseCache(v.trim().eq_ignore_ascii_case("true"))),
            ),
        }
    }

    #[test]
    fn limits_accept_integral_floats_and_refuse_the_rest() {
        assert_eq!(limit(&text(None), 50).ok(), Some(50));
        assert_eq!(limit(&text(Some("7")), 50).ok(), Some(7));
        assert_eq!(limit(&text(Some("7.0")), 50).ok(), Some(7));
        for bad in ["abc", "7.5", "0", "-3", "1e30", "NaN", "100000"] {
            assert!(limit(&text(Some(bad)), 50).is_err(), "{bad}");
        }
    }

    #[test]
    fn use_cache_is_on_only_for_true() {
        let on = |v: &str| {
            let field = crate::request::from_fields::<TreeQuery>(
                serde_json::json!({"use_cache": v})
                    .as_object()
                    .cloned()
                    .unwrap_or_default(),
            );
            field.map(|q| UseCache::of(&q.use_cache)).ok()
        };
        assert_eq!(on("TRUE"), Some(true));
        assert_eq!(on(" true "), Some(true));
        assert_eq!(on("false"), Some(false));
        assert_eq!(on("1"), Some(false));
        assert_eq!(on(""), Some(false));
        assert_eq!(tree_params(&q(&[])).map(|p| p.use_cache).ok(), Some(true));
    }

    #[test]
    fn friend_ids_are_checked_in_selected_mode_only() {
        let id = UserId::new_v4();
        let p = tree_params(&q(&[
            ("mode", "selected"),
            ("friend_ids", &format!(" {id} ,")),
        ]));
        assert_eq!(p.map(|p| p.selected).ok(), Some(vec![id]));
        assert!(tree_params(&q(&[("mode", "selected"), ("friend_ids", "x")])).is_err());
        assert!(tree_params(&q(&[("mode", "friends"), ("friend_ids", "x")])).is_ok());
        assert!(tree_params(&q(&[("mode", "nope")])).is_err());
        assert!(tree_params(&q(&[("mode", " ")])).is_ok());
    }
}
