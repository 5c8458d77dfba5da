//! Invalidating cached trees. The write handlers call [`dex_changed`], [`friendship_changed`]
//! and [`animals_changed`] after their change is committed; the routes `tree/invalidate/`
//! and the legacy `invalidate-cache/` do it on request. Failures are logged and counted, never
//! returned: the write itself succeeded.

use actix_web::{HttpResponse, web};
use diesel_async::AsyncPgConnection;
use serde_json::{Value, json};
use shared::{Error, db::models::friendships::Friendship, graph_cache};
use uuid::Uuid;

use crate::{ApiError, ApiResult, auth::AuthUser, input::Body, state::AppState};

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
pub async fn dex_changed(state: &AppState, conn: &mut AsyncPgConnection, owner: Uuid) {
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
pub async fn friendship_changed(state: &AppState, a: Uuid, b: Uuid) {
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

fn body_of(raw: &web::Bytes) -> ApiResult<Value> {
    if raw.iter().all(u8::is_ascii_whitespace) {
        return Ok(json!({}));
    }
    serde_json::from_slice(raw)
        .map_err(|e| ApiError::detail_error(format!("JSON parse error - {e}")))
}

/// `POST /graph/tree/invalidate/ {"scope": "user"|"global"}`: drops the caller's cached
/// trees, or (staff) every tree.
pub async fn invalidate_tree(
    state: web::Data<AppState>,
    me: AuthUser,
    raw: web::Bytes,
) -> ApiResult<HttpResponse> {
    let mut body = Body::new(body_of(&raw)?, &["scope"])?;
    let scope = if body.has("scope") {
        body.required_choice("scope", &["user", "global"])
    } else {
        None
    };
    body.finish()?;
    if scope.as_deref() == Some("global") {
        if !me.is_staff {
            return Err(ApiError(Error::ForbiddenBecause(
                "Admin privileges required".to_owned(),
            )));
        }
        animals_changed(&state).await;
        return Ok(HttpResponse::Ok().json(json!({ "message": "Global tree cache invalidated" })));
    }
    report(
        &state,
        graph_cache::bump_users(&state.redis, &state.settings, &[me.id]).await,
    );
    Ok(HttpResponse::Ok().json(json!({
        "message": format!("Tree caches invalidated for user {}", me.username)
    })))
}

/// `POST /graph/invalidate-cache/`: drops the caller's cached trees (legacy route).
pub async fn invalidate_graph_cache(
    state: web::Data<AppState>,
    me: AuthUser,
) -> ApiResult<HttpResponse> {
    report(
        &state,
        graph_cache::bump_users(&state.redis, &state.settings, &[me.id]).await,
    );
    Ok(HttpResponse::Ok().json(json!({ "message": "Graph cache invalidated successfully" })))
}
