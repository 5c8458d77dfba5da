//! `GET tree/` and `tree/chunk/{x}/{y}/`: the caller's tree in a mode, and one chunk of it.
//! Chunks (and searches, in `search`) read the same cached tree.

use std::{collections::HashMap, sync::Arc};

use actix_web::{HttpResponse, web};
use biologidex_db::models::{
    dex::Viewer,
    graph::{TreeData, load_tree_data},
};
use biologidex_tree::chunks::{CHUNK_SIZE, ChunkId, chunk_of, segment_chunks};
use serde::Serialize;
use serde_json::Value;

use super::{
    cache::{self, CachedTree},
    params::{Mode, TreeParams, tree_params},
    render::{Context, EdgeOut, NodeOut, TreeOut, render},
    schema::{TreeQuery, TreeQueryError},
};
use crate::{
    ApiResult, auth::AuthUser, docs::schemas::RuleError, request::ValidQuery, state::AppState,
};

/// Trees with more animals than this are rendered off the async executor.
const RENDER_INLINE_MAX: usize = 2000;

struct Job {
    data: TreeData,
    viewer: Viewer,
    username: String,
    mode: Mode,
    scoped: Option<usize>,
    key: String,
}

fn render_job(job: &Job) -> ApiResult<Vec<u8>> {
    let ctx = Context {
        viewer: &job.viewer,
        username: &job.username,
        mode: job.mode,
        scoped_users: job.scoped,
        cache_key: &job.key,
    };
    render(&job.data, &ctx).map_err(|e| anyhow::Error::from(e).into())
}

/// The tree's JSON body: from the cache, or loaded (four queries in all, whatever the
/// scope's size) and rendered.
pub async fn tree_body(
    state: &AppState,
    me: &AuthUser,
    p: &TreeParams,
) -> ApiResult<Arc<CachedTree>> {
    let key = p.cache_base(me.id);
    let global = p.mode == Mode::Global;
    cache::fetch_or_build(state, me.id, &key, global, p.use_cache, async || {
        let mut conn = state.read_db().await?;
        let viewer = Viewer::load(&mut conn, me.id).await?;
        let data = load_tree_data(&mut conn, &viewer, &p.scope).await?;
        drop(conn);
        let job = Job {
            scoped: p.scope.owners(&viewer).map(|o| o.len()),
            data,
            viewer,
            username: me.username.clone(),
            mode: p.mode,
            key: key.clone(),
        };
        if job.data.animals.len() <= RENDER_INLINE_MAX {
            render_job(&job)
        } else {
            web::block(move || render_job(&job))
                .await
                .map_err(anyhow::Error::from)?
        }
    })
    .await
}

/// The caller's taxonomic tree, laid out and cut into chunks.
///
/// The animals of the caller (`personal`), of the caller and their friends (`friends`, the
/// default), of the caller and some friends (`selected`) or of everyone (`global`, staff only),
/// under their taxa from a root down. The same data always gives the same bytes; trees are
/// cached until a change invalidates them.
#[utoipa::path(
    get, path = "/api/v1/graph/tree/", tag = "graph",
    security(("jwt" = [])),
    params(TreeQuery),
    responses(
        (status = 200, body = TreeOut),
        (status = 400, description = "Unknown `mode`, or malformed `friend_ids`.",
            body = TreeQueryError),
        (status = 403, description = "Global mode for a non-staff caller.", body = RuleError),
    )
)]
pub async fn get_tree(
    state: web::Data<AppState>,
    me: AuthUser,
    q: ValidQuery<TreeQuery>,
) -> ApiResult<HttpResponse> {
    let p = tree_params(&q.0)?;
    p.check_access(&me, "Admin privileges required for global view")?;
    let body = tree_body(&state, &me, &p).await?.body.clone();
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .body(body))
}

fn parse(body: &[u8]) -> ApiResult<Value> {
    serde_json::from_slice(body).map_err(|e| anyhow::Error::from(e).into())
}

fn point(v: &Value) -> Option<[f64; 2]> {
    Some([v.get(0)?.as_f64()?, v.get(1)?.as_f64()?])
}

/// The nodes whose position is in `chunk` and the edges whose segment meets it.
fn chunk_of_tree(tree: &mut Value, chunk: ChunkId) -> (Vec<Value>, Vec<Value>) {
    let positions: HashMap<String, [f64; 2]> = tree["layout"]["positions"]
        .as_object()
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), point(v)?)))
                .collect()
        })
        .unwrap_or_default();
    let nodes: Vec<Value> = match tree["nodes"].take() {
        Value::Array(all) => all
            .into_iter()
            .filter(|n| point(&n["position"]).is_some_and(|p| chunk_of(p, CHUNK_SIZE) == chunk))
            .collect(),
        _ => Vec::new(),
    };
    let at = |e: &Value, end: &str| e[end].as_str().and_then(|id| positions.get(id)).copied();
    let edges: Vec<Value> = match tree["edges"].take() {
        Value::Array(all) => all
            .into_iter()
            .filter(|e| match (at(e, "source"), at(e, "target")) {
                (Some(a), Some(b)) => segment_chunks(a, b, CHUNK_SIZE)
                    .binary_search(&chunk)
                    .is_ok(),
                _ => false,
            })
            .collect(),
        _ => Vec::new(),
    };
    (nodes, edges)
}

/// One chunk of the caller's tree.
///
/// The nodes whose position lies in the chunk and the edges that cross it. Chunk `(x, y)`
/// covers `[2048x, 2048(x+1)) × [2048y, 2048(y+1))`; coordinates may be negative. A chunk
/// outside the tree is an empty chunk (200), never a 404.
#[utoipa::path(
    get, path = "/api/v1/graph/tree/chunk/{x}/{y}/", tag = "graph",
    security(("jwt" = [])),
    params(
        ("x" = i64, Path, description = "Chunk column: `floor(x / 2048)`."),
        ("y" = i64, Path, description = "Chunk row: `floor(y / 2048)`."),
        TreeQuery,
    ),
    responses(
        (status = 200, body = ChunkResponse),
        (status = 400, description = "Unknown `mode`, or malformed `friend_ids`.",
            body = TreeQueryError),
        (status = 403, description = "Global mode for a non-staff caller.", body = RuleError),
        (status = 404, description = "`x` or `y` is not an integer.",
            body = crate::docs::schemas::Detail),
    )
)]
pub async fn get_tree_chunk(
    state: web::Data<AppState>,
    me: AuthUser,
    path: web::Path<(i64, i64)>,
    q: ValidQuery<TreeQuery>,
) -> ApiResult<HttpResponse> {
    let (x, y) = path.into_inner();
    let p = tree_params(&q.0)?;
    p.check_access(&me, "Admin privileges required")?;
    // Chunks are cached beside their tree, under the same versions.
    let name = format!("{}_chunk_{x}_{y}", p.cache_base(me.id));
    let global = p.mode == Mode::Global;
    let body = cache::fetch_or_build(&state, me.id, &name, global, p.use_cache, async || {
        let mut tree = parse(&tree_body(&state, &me, &p).await?.body)?;
        let (nodes, edges) = chunk_of_tree(&mut tree, (x, y));
        let chunk = ChunkResponse {
            chunk_x: x,
            chunk_y: y,
            node_count: nodes.len(),
            edge_count: edges.len(),
            nodes,
            edges,
        };
        Ok(serde_json::to_vec(&chunk).map_err(anyhow::Error::from)?)
    })
    .await?
    .body
    .clone();
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .body(body))
}

/// One chunk: the tree's nodes and edges cut out as they are.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = TreeChunk)]
pub struct ChunkResponse {
    chunk_x: i64,
    chunk_y: i64,
    node_count: usize,
    edge_count: usize,
    /// The nodes whose position is in the chunk.
    #[schema(value_type = Vec<NodeOut>)]
    nodes: Vec<Value>,
    /// The edges whose segment meets the chunk (edges from the root included).
    #[schema(value_type = Vec<EdgeOut>)]
    edges: Vec<Value>,
}
