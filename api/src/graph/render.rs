//! The response of `GET /graph/tree/`: `nodes`, `edges`, `layout`, `stats`, `metadata`.
//! Every node carries every key the client reads (taxa get neutral values for the animal-only
//! keys; `discoverer` is always an object), node ids are unique, every edge joins two nodes
//! (the root is a node), and the same data always renders to the same bytes.

use std::collections::{HashMap, HashSet};

use biologidex_core::ids::{AnimalId, UserId};
use biologidex_db::models::{
    dex::Viewer,
    graph::{Capture, TreeData},
};
use biologidex_tree::{
    NodeKind, Tree, TreeAnimal,
    chunks::{CHUNK_SIZE, chunk_metadata, world_bounds},
};
use serde::{Serialize, Serializer, ser::SerializeMap};

use super::params::Mode;

/// Python's `isoformat()` of a UTC time: `2026-11-25T16:39:38.061065+00:00`.
pub fn iso(t: &chrono::DateTime<chrono::Utc>) -> String {
    let z = crate::json::datetime(t);
    format!("{}+00:00", z.trim_end_matches('Z'))
}

/// Who asks, and how.
pub struct Context<'a> {
    pub viewer: &'a Viewer,
    pub username: &'a str,
    pub mode: Mode,
    /// Users in scope, `None` for global.
    pub scoped_users: Option<usize>,
    pub cache_key: &'a str,
}

/// Who first recorded an animal (empty strings and `false` when unknown, and for taxa).
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = TreeDiscoverer)]
pub(super) struct Discoverer {
    /// A user id, or `""`.
    pub(super) user_id: String,
    pub(super) username: String,
    pub(super) is_self: bool,
    pub(super) is_friend: bool,
}

impl Discoverer {
    pub(super) fn none() -> Self {
        Discoverer {
            user_id: String::new(),
            username: String::new(),
            is_self: false,
            is_friend: false,
        }
    }
}

/// A friend's dex entry of an animal.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = TreeFriendCapture)]
struct FriendCapture<'a> {
    #[schema(value_type = Uuid)]
    user_id: UserId,
    username: &'a str,
    /// When the entry was created: ISO 8601 with `+00:00`.
    captured_at: String,
}

/// The main ranks (empty strings for unknown ranks, and below a taxon's own rank).
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = TreeTaxonomy)]
pub(super) struct Taxonomy<'a> {
    kingdom: &'a str,
    phylum: &'a str,
    class: &'a str,
    order: &'a str,
    family: &'a str,
    genus: &'a str,
    species: &'a str,
}

impl<'a> Taxonomy<'a> {
    /// From kingdom … species, in rank order.
    pub(super) fn new(r: [&'a str; 7]) -> Self {
        Taxonomy {
            kingdom: r[0],
            phylum: r[1],
            class: r[2],
            order: r[3],
            family: r[4],
            genus: r[5],
            species: r[6],
        }
    }
}

/// A node: the root, a taxon or an animal. Every node has every key; taxa get neutral values
/// for the animal-only ones.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = TreeNode)]
pub(super) struct NodeOut<'a> {
    /// Unique: `root`, `<rank>_<path>` for taxa (e.g.
    /// `family_Animalia/Chordata/Mammalia/Carnivora/Canidae`), the animal's id for animals.
    id: &'a str,
    /// `taxonomic` or `animal`.
    #[serde(rename = "type")]
    kind: &'static str,
    /// Same as `type`.
    node_type: &'static str,
    /// `root`, `kingdom` … `species`, or `animal`.
    rank: &'static str,
    name: &'a str,
    scientific_name: &'a str,
    common_name: &'a str,
    /// The animal's Pokédex number; -1 for taxa.
    creation_index: i32,
    /// `[x, y]` in world coordinates.
    position: [f64; 2],
    /// True when the caller has a dex entry of this animal.
    captured_by_user: bool,
    /// Friends' dex entries of this animal (always empty in global mode).
    captured_by_friends: Vec<FriendCapture<'a>>,
    /// Dex entries of this animal in scope.
    capture_count: usize,
    /// Child taxa and animals (0 for an animal).
    children_count: usize,
    /// Animals below (1 for an animal).
    animal_count: usize,
    conservation_status: &'a str,
    verified: bool,
    taxonomy: Taxonomy<'a>,
    discoverer: Discoverer,
}

/// A parent → child link.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = TreeEdge)]
pub(super) struct EdgeOut<'a> {
    /// The parent's node id.
    source: &'a str,
    /// The child's node id.
    target: &'a str,
    /// Always `parent_child`.
    relationship: &'static str,
    /// `<parent rank>_to_<child rank>`, an animal counting as `species` (e.g.
    /// `genus_to_species`, `root_to_kingdom`).
    rank_transition: String,
}

struct Positions<'a>(&'a Tree, &'a [[f64; 2]]);

impl Serialize for Positions<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.nodes.len()))?;
        for (n, p) in self.0.nodes.iter().zip(self.1) {
            map.serialize_entry(&n.id, p)?;
        }
        map.end()
    }
}

/// A chunk's square in world coordinates.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = TreeChunkBounds)]
struct ChunkBounds {
    min_x: i64,
    min_y: i64,
    max_x: i64,
    max_y: i64,
}

/// A non-empty chunk: `(floor(x / 2048), floor(y / 2048))`.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = TreeChunkSummary)]
struct ChunkOut {
    chunk_x: i64,
    chunk_y: i64,
    node_count: usize,
    edge_count: usize,
    world_bounds: ChunkBounds,
}

/// The chunks that hold nodes or edges, sorted by `(chunk_x, chunk_y)`.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = TreeChunkMetadata)]
struct ChunkMetadata {
    chunks: Vec<ChunkOut>,
    /// Same as `layout.world_bounds`.
    world_bounds: [f64; 4],
    /// 2048.
    chunk_size: i64,
    total_chunks: usize,
}

/// A chunk's size (2048 × 2048).
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = TreeChunkSize)]
struct ChunkSize {
    width: i64,
    height: i64,
}

/// Where the nodes are.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = TreeLayout)]
struct Layout<'a> {
    /// Node id → `[x, y]`, for every node (the root included).
    #[schema(value_type = std::collections::HashMap<String, [f64; 2]>)]
    positions: Positions<'a>,
    /// `[min_x, min_y, max_x, max_y]` of the positions, with a margin; zeros when empty.
    world_bounds: [f64; 4],
    chunk_metadata: ChunkMetadata,
    chunk_size: ChunkSize,
}

/// A number of users, or `"all"` in global mode.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(untagged)]
#[schema(as = TreeUsersIncluded)]
enum UsersIncluded {
    Count(usize),
    All(&'static str),
}

/// Whose animals are in the tree.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = TreeScope)]
struct Scope {
    users_included: UsersIncluded,
    is_admin_view: bool,
}

/// Counts over the tree. The capture counts are omitted in global mode.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = TreeStats)]
struct Stats {
    total_animals: usize,
    total_nodes: usize,
    total_edges: usize,
    /// The tree's mode.
    mode: &'static str,
    scope: Scope,
    /// The caller's dex entries of the animals.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    user_captures: Option<usize>,
    /// Other users' dex entries of the animals.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    friend_captures: Option<usize>,
    /// Animals only the caller has.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    unique_to_user: Option<usize>,
    /// Animals the caller and someone else both have.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    shared_with_friends: Option<usize>,
    unique_kingdom: usize,
    unique_phylum: usize,
    unique_class: usize,
    unique_order: usize,
    unique_family: usize,
    unique_genus: usize,
}

/// Who asked, and how.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = TreeMetadata)]
struct Metadata<'a> {
    mode: &'static str,
    /// The caller.
    #[schema(value_type = Uuid)]
    user_id: UserId,
    username: &'a str,
    scoped_users: UsersIncluded,
    total_nodes: usize,
    total_edges: usize,
    /// The tree's cache key, e.g. `taxonomic_tree_friends_<user id>`.
    cache_key: &'a str,
}

/// A taxonomic tree: taxa from a root down to the animals, laid out in world coordinates and
/// cut into 2048-unit chunks for incremental loading.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = TaxonomicTree)]
pub(super) struct TreeOut<'a> {
    nodes: Vec<NodeOut<'a>>,
    edges: Vec<EdgeOut<'a>>,
    layout: Layout<'a>,
    stats: Stats,
    metadata: Metadata<'a>,
}

/// The scope's tree (structure and layout), its animals indexed like `data.animals`.
pub fn tree_of(data: &TreeData) -> Tree {
    let animals: Vec<TreeAnimal> = data
        .animals
        .iter()
        .map(|a| TreeAnimal {
            id: a.id.uuid(),
            creation_index: a.creation_index,
            ranks: a.ranks().map(str::to_owned),
        })
        .collect();
    Tree::build(&animals)
}

/// Captures of each animal (the slice of `captures`, which is grouped by animal).
fn captures_by_animal(captures: &[Capture]) -> HashMap<AnimalId, &[Capture]> {
    let mut out = HashMap::new();
    let mut start = 0;
    for i in 1..=captures.len() {
        if i == captures.len() || captures[i].animal_id != captures[start].animal_id {
            out.insert(captures[start].animal_id, &captures[start..i]);
            start = i;
        }
    }
    out
}

fn users_included(n: Option<usize>) -> UsersIncluded {
    n.map_or(UsersIncluded::All("all"), UsersIncluded::Count)
}

/// Renders the whole response.
pub fn render(data: &TreeData, ctx: &Context<'_>) -> serde_json::Result<Vec<u8>> {
    let tree = tree_of(data);
    let positions = tree.layout();
    let me = ctx.viewer.id;
    let global = ctx.mode == Mode::Global;
    let caps = captures_by_animal(&data.captures);
    let no_caps: &[Capture] = &[];
    let (mut user_captures, mut friend_captures) = (0, 0);
    let (mut unique_to_user, mut shared_with_friends) = (0, 0);
    let mut distinct: [HashSet<&str>; 6] = Default::default();

    let mut nodes = Vec::with_capacity(tree.nodes.len());
    // Path values of the taxa, for their `taxonomy` objects.
    let mut paths: Vec<[&str; 7]> = Vec::with_capacity(tree.nodes.len());
    for (i, n) in tree.nodes.iter().enumerate() {
        let mut path = n.parent.map_or([""; 7], |p| paths[p]);
        let node = match n.kind {
            NodeKind::Root | NodeKind::Taxon { .. } => {
                if let NodeKind::Taxon { rank } = n.kind {
                    path[rank] = &n.name;
                }
                NodeOut {
                    id: &n.id,
                    kind: "taxonomic",
                    node_type: "taxonomic",
                    rank: n.rank(),
                    name: &n.name,
                    scientific_name: &n.name,
                    common_name: "",
                    creation_index: -1,
                    position: positions[i],
                    captured_by_user: false,
                    captured_by_friends: Vec::new(),
                    capture_count: 0,
                    children_count: n.children.len(),
                    animal_count: n.animal_count,
                    conservation_status: "",
                    verified: false,
                    taxonomy: Taxonomy::new(path),
                    discoverer: Discoverer::none(),
                }
            }
            NodeKind::Animal { index } => {
                let a = &data.animals[index];
                let ranks = a.ranks();
                for (k, set) in distinct.iter_mut().enumerate() {
                    let v = ranks[k].trim();
                    if !v.is_empty() {
                        set.insert(v);
                    }
                }
                let mine = caps.get(&a.id).copied().unwrap_or(no_caps);
                let by_user = mine.iter().filter(|c| c.owner_id == me).count();
                let by_others = mine.len() - by_user;
                user_captures += by_user;
                friend_captures += by_others;
                match (by_user > 0, by_others > 0) {
                    (true, false) => unique_to_user += 1,
                    (true, true) => shared_with_friends += 1,
                    _ => {}
                }
                let friends: Vec<FriendCapture<'_>> = if global {
                    Vec::new()
                } else {
                    mine.iter()
                        .filter(|c| c.owner_id != me && ctx.viewer.friends.contains(&c.owner_id))
                        .map(|c| FriendCapture {
                            user_id: c.owner_id,
                            username: &c.owner_username,
                            captured_at: iso(&c.created_at),
                        })
                        .collect()
                };
                let discoverer = match (a.created_by_id, &a.created_by_username) {
                    (Some(id), Some(name)) => Discoverer {
                        user_id: id.to_string(),
                        username: name.clone(),
                        is_self: id == me,
                        is_friend: ctx.viewer.friends.contains(&id),
                    },
                    _ => Discoverer::none(),
                };
                NodeOut {
                    id: &n.id,
                    kind: "animal",
                    node_type: "animal",
                    rank: "animal",
                    name: &a.scientific_name,
                    scientific_name: &a.scientific_name,
                    common_name: &a.common_name,
                    creation_index: a.creation_index,
                    position: positions[i],
                    captured_by_user: by_user > 0,
                    captured_by_friends: friends,
                    capture_count: mine.len(),
                    children_count: 0,
                    animal_count: 1,
                    conservation_status: &a.conservation_status,
                    verified: a.verified,
                    taxonomy: Taxonomy::new(ranks),
                    discoverer,
                }
            }
        };
        paths.push(path);
        nodes.push(node);
    }
    let edges: Vec<EdgeOut<'_>> = tree
        .edges()
        .map(|e| EdgeOut {
            source: &tree.nodes[e.source].id,
            target: &tree.nodes[e.target].id,
            relationship: "parent_child",
            rank_transition: tree.rank_transition(e),
        })
        .collect();

    let bounds = world_bounds(&positions);
    let size = CHUNK_SIZE as i64;
    let chunks: Vec<ChunkOut> = chunk_metadata(&tree, &positions, CHUNK_SIZE)
        .into_iter()
        .map(|c| ChunkOut {
            chunk_x: c.x,
            chunk_y: c.y,
            node_count: c.node_count,
            edge_count: c.edge_count,
            world_bounds: ChunkBounds {
                min_x: c.x * size,
                min_y: c.y * size,
                max_x: (c.x + 1) * size,
                max_y: (c.y + 1) * size,
            },
        })
        .collect();
    let (total_nodes, total_edges) = (nodes.len(), edges.len());
    let personal = |n: usize| (!global).then_some(n);
    let out = TreeOut {
        nodes,
        edges,
        layout: Layout {
            positions: Positions(&tree, &positions),
            world_bounds: bounds,
            chunk_metadata: ChunkMetadata {
                total_chunks: chunks.len(),
                chunks,
                world_bounds: bounds,
                chunk_size: size,
            },
            chunk_size: ChunkSize {
                width: size,
                height: size,
            },
        },
        stats: Stats {
            total_animals: data.animals.len(),
            total_nodes,
            total_edges,
            mode: ctx.mode.as_str(),
            scope: Scope {
                users_included: users_included(ctx.scoped_users),
                is_admin_view: global,
            },
            user_captures: personal(user_captures),
            friend_captures: personal(friend_captures),
            unique_to_user: personal(unique_to_user),
            shared_with_friends: personal(shared_with_friends),
            unique_kingdom: distinct[0].len(),
            unique_phylum: distinct[1].len(),
            unique_class: distinct[2].len(),
            unique_order: distinct[3].len(),
            unique_family: distinct[4].len(),
            unique_genus: distinct[5].len(),
        },
        metadata: Metadata {
            mode: ctx.mode.as_str(),
            user_id: me,
            username: ctx.username,
            scoped_users: users_included(ctx.scoped_users),
            total_nodes,
            total_edges,
            cache_key: ctx.cache_key,
        },
    };
    serde_json::to_vec(&out)
}
