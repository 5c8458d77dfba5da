//! Invalidating cached trees. The write handlers call [`dex_changed`], [`friendship_changed`]
//! and [`animals_changed`] after their change is committed; the routes `tree/invalidate/`
//! and the legacy `invalidate-cache/` do it on request. Failures are logged and counted, never
//! returned: the write itself succeeded.

use actix_web::{HttpResponse, web};
use biologidex_core::Error;
use biologidex_core::graph_cache;
use biologidex_core::ids::UserId;
use biologidex_db::models::friendships::Friendship;
use diesel_async::AsyncPgConnection;
use serde::Serialize;
use serde_json::json;

use super::schema::{InvalidateError, InvalidateRequest, InvalidateScope};
use crate::{
    ApiError, ApiResult,
    auth::AuthUser,
    docs::schemas::RuleError,
    request::{from_fields, object},
    state::AppState,
};

/// What was invalidated.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = TreeCacheInvalidated)]
pub struct Invalidated {
    /// E.g. `Tree caches invalidated for user ash`.
    message: String,
}

impl Invalidated {
    fn new(message: impl Into<String>) -> Self {
        Invalidated {
            message: message.into(),
        }
    }
}

fn report(state: &AppState, result: Result<(), String>) {
    if let Err(e) = result {
        state
            .metrics
            .redis_failures
            .with_label_values(&["graph_invalidate"])
            .inc();
        tracing::warn!(error = %e, "tree cache invalidation failed: redis unavailable");
    }
}

/// `owner`'s entries changed: their tree and their friends' trees are stale.
pub async fn dex_changed(state: &AppState, conn: &mut AsyncPgConnection, owner: UserId) {
    match Friendship::friend_ids(conn, owner).await {
        Ok(mut users) => {
            users.push(owner);
            report(
                state,
                graph_cache::bump_users(&state.redis, &state.settings, &users).await,
            );
        }
        Err(e) => {
            // Without the friend list, make every tree stale rather than miss one.
            tracing::warn!(error = %e, user.id = %owner, "friends unknown: invalidating every tree");
            report(
                state,
                graph_cache::bump_all(&state.redis, &state.settings).await,
            );
        }
    }
}

/// A friendship between `a` and `b` changed (request answered, block, unfriend).
pub async fn friendship_changed(state: &AppState, a: UserId, b: UserId) {
    report(
        state,
        graph_cache::bump_users(&state.redis, &state.settings, &[a, b]).await,
    );
}

/// An animal was edited or deleted: every tree may show it.
pub async fn animals_changed(state: &AppState) {
    report(
        state,
        graph_cache::bump_all(&state.redis, &state.settings).await,
    );
}

/// An account was deleted (its entries and friendships went with it): every tree is stale,
/// since the friend list is gone. Rare enough not to matter.
pub async fn user_deleted(state: &AppState) {
    animals_changed(state).await;
}

/// The body, which may be empty (meaning `{}`).
fn body_of(raw: &web::Bytes) -> ApiResult<InvalidateRequest> {
    let value = if raw.iter().all(u8::is_ascii_whitespace) {
        json!({})
    } else {
        serde_json::from_slice(raw)
            .map_err(|e| ApiError::detail_error(format!("JSON parse error - {e}")))?
    };
    crate::input::refuse_nul(&value)?;
    from_fields(object(value)?)
}

/// Drops the caller's cached trees, or (staff, `scope: global`) every tree.
///
/// The next tree request rebuilds them. The body is optional (empty means `user`).
#[utoipa::path(
    post, path = "/api/v1/graph/tree/invalidate/", tag = "graph",
    security(("jwt" = [])),
    // Optional (an empty body means `user`): a reference, since `Option<T>` would allow null.
    request_body(
        content = ref("#/components/schemas/TreeInvalidateRequest"),
        content_type = "application/json"
    ),
    responses(
        (status = 200, body = Invalidated),
        (status = 400, description = "Not JSON, or an unknown `scope` or field.",
            body = InvalidateError),
        (status = 403, description = "`scope: global` for a non-staff caller.", body = RuleError),
    )
)]
pub async fn invalidate_tree(
    state: web::Data<AppState>,
    me: AuthUser,
    raw: web::Bytes,
) -> ApiResult<HttpResponse> {
    let scope = body_of(&raw)?.scope.into_inner().unwrap_or_default();
    if scope == InvalidateScope::Global {
        if !me.is_staff {
            return Err(ApiError(Error::ForbiddenBecause(
                "Admin privileges required".to_owned(),
            )));
        }
        animals_changed(&state).await;
        return Ok(HttpResponse::Ok().json(Invalidated::new("Global tree cache invalidated")));
    }
    report(
        &state,
        graph_cache::bump_users(&state.redis, &state.settings, &[me.id]).await,
    );
    Ok(HttpResponse::Ok().json(Invalidated::new(format!(
        "Tree caches invalidated for user {}",
        me.username
    ))))
}

/// Drops the caller's cached trees (legacy route).
#[utoipa::path(
    post, path = "/api/v1/graph/invalidate-cache/", tag = "graph",
    security(("jwt" = [])),
    responses((status = 200, body = Invalidated))
)]
pub async fn invalidate_graph_cache(
    state: web::Data<AppState>,
    me: AuthUser,
) -> ApiResult<HttpResponse> {
    report(
        &state,
        graph_cache::bump_users(&state.redis, &state.settings, &[me.id]).await,
    );
    Ok(HttpResponse::Ok().json(Invalidated::new("Graph cache invalidated successfully")))
}
