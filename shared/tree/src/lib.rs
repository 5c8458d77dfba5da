//! The taxonomic tree, pure (no I/O): built from a flat list of animals, laid out with a tidy
//! tree algorithm ([`layout`]) and cut into square chunks ([`chunks`]).
//!
//! Structure: a root `Life`, then one node per non-empty rank value along each animal's
//! kingdom → species path (an empty rank is skipped, so a child attaches to the nearest
//! non-empty rank above it), then the animal itself as a leaf of the deepest node reached.
//! A rank node is keyed by its whole path, so `Felidae` reached through two different orders is
//! two nodes with two ids. Children are ordered by name then id, animals by `creation_index`
//! then id: the same animals always give the same tree, node for node.

pub mod chunks;
pub mod layout;

use std::collections::HashMap;

use uuid::Uuid;

/// The ranks of a path, top down.
pub const RANKS: [&str; 7] = [
    "kingdom", "phylum", "class", "order", "family", "genus", "species",
];

/// One animal to place in the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeAnimal {
    pub id: Uuid,
    pub creation_index: i32,
    /// kingdom, phylum, class, order, family, genus, species (empty = unknown).
    pub ranks: [String; 7],
}

/// What a node stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeKind {
    /// The virtual root.
    Root,
    /// A rank value; `rank` indexes [`RANKS`].
    Taxon { rank: usize },
    /// An animal; indexes the slice given to [`Tree::build`].
    Animal { index: usize },
}

/// One node of the tree.
#[derive(Debug, Clone)]
pub struct Node {
    /// Unique across the tree: `root`, `<rank>_<path>` or the animal's uuid.
    pub id: String,
    pub kind: NodeKind,
    /// The rank value (empty for the root and animals).
    pub name: String,
    pub parent: Option<usize>,
    /// Rank children (by name, then id) followed by animals (by creation index, then id).
    pub children: Vec<usize>,
    pub depth: usize,
    /// Animals at or below this node.
    pub animal_count: usize,
}

impl Node {
    /// `root`, a rank name or `animal`.
    pub fn rank(&self) -> &'static str {
        match self.kind {
            NodeKind::Root => "root",
            NodeKind::Taxon { rank } => RANKS[rank],
            NodeKind::Animal { .. } => "animal",
        }
    }
}

/// The tree: nodes in pre-order (root first), so a parent always precedes its children.
#[derive(Debug, Clone)]
pub struct Tree {
    pub nodes: Vec<Node>,
}

/// An edge, as indexes into [`Tree::nodes`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Edge {
    pub source: usize,
    pub target: usize,
}

/// Escapes a rank value for an id: injective, and spaces read as `_` like the old ids.
fn push_escaped(out: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '%' => out.push_str("%25"),
            '/' => out.push_str("%2F"),
            '_' => out.push_str("%5F"),
            ' ' => out.push('_'),
            c => out.push(c),
        }
    }
}

/// The id of the rank node at `rank` whose path is `ranks[..=rank]` (skipped ranks stay as
/// empty slots, so the id says which rank each value was).
fn taxon_id(ranks: &[String; 7], rank: usize) -> String {
    let mut id = String::with_capacity(16 + ranks[..=rank].iter().map(String::len).sum::<usize>());
    id.push_str(RANKS[rank]);
    id.push('_');
    for (i, value) in ranks[..=rank].iter().enumerate() {
        if i > 0 {
            id.push('/');
        }
        push_escaped(&mut id, value.trim());
    }
    id
}

struct Draft {
    id: String,
    kind: NodeKind,
    name: String,
    children: Vec<usize>,
    animals: Vec<usize>,
    animal_count: usize,
}

impl Tree {
    /// Builds the tree of `animals` (any order; duplicates are the caller's concern).
    pub fn build(animals: &[TreeAnimal]) -> Tree {
        let mut drafts = vec![Draft {
            id: "root".to_owned(),
            kind: NodeKind::Root,
            name: "Life".to_owned(),
            children: Vec::new(),
            animals: Vec::new(),
            animal_count: 0,
        }];
        // (parent, rank, value) → draft index.
        let mut index: HashMap<(usize, usize, &str), usize> = HashMap::new();
        for (a, animal) in animals.iter().enumerate() {
            let mut at = 0;
            drafts[0].animal_count += 1;
            for (rank, value) in animal.ranks.iter().enumerate() {
                let value = value.trim();
                if value.is_empty() {
                    continue;
                }
                at = *index.entry((at, rank, value)).or_insert_with(|| {
                    let child = drafts.len();
                    drafts.push(Draft {
                        id: taxon_id(&animal.ranks, rank),
                        kind: NodeKind::Taxon { rank },
                        name: value.to_owned(),
                        children: Vec::new(),
                        animals: Vec::new(),
                        animal_count: 0,
                    });
                    drafts[at].children.push(child);
                    child
                });
                drafts[at].animal_count += 1;
            }
            drafts[at].animals.push(a);
        }
        for d in 0..drafts.len() {
            let mut children = std::mem::take(&mut drafts[d].children);
            children.sort_by(|&x, &y| {
                (&drafts[x].name, &drafts[x].id).cmp(&(&drafts[y].name, &drafts[y].id))
            });
            drafts[d].children = children;
            drafts[d]
                .animals
                .sort_by_key(|&a| (animals[a].creation_index, animals[a].id));
        }

        // Lay the drafts out in pre-order: rank children first, then the animals.
        enum Visit {
            Draft(usize),
            Animal(usize),
        }
        let mut nodes: Vec<Node> = Vec::with_capacity(drafts.len() + animals.len());
        let mut stack: Vec<(Visit, Option<usize>, usize)> = vec![(Visit::Draft(0), None, 0)];
        while let Some((visit, parent, depth)) = stack.pop() {
            let me = nodes.len();
            if let Some(p) = parent {
                nodes[p].children.push(me);
            }
            match visit {
                Visit::Animal(a) => nodes.push(Node {
                    id: animals[a].id.to_string(),
                    kind: NodeKind::Animal { index: a },
                    name: String::new(),
                    parent,
                    children: Vec::new(),
                    depth,
                    animal_count: 1,
                }),
                Visit::Draft(d) => {
                    let draft = &mut drafts[d];
                    nodes.push(Node {
                        id: std::mem::take(&mut draft.id),
                        kind: draft.kind,
                        name: std::mem::take(&mut draft.name),
                        parent,
                        children: Vec::new(),
                        depth,
                        animal_count: draft.animal_count,
                    });
                    for &a in draft.animals.iter().rev() {
                        stack.push((Visit::Animal(a), Some(me), depth + 1));
                    }
                    for &c in draft.children.iter().rev() {
                        stack.push((Visit::Draft(c), Some(me), depth + 1));
                    }
                }
            }
        }
        Tree { nodes }
    }

    /// Every parent → child edge, in pre-order of the child.
    pub fn edges(&self) -> impl Iterator<Item = Edge> + '_ {
        self.nodes.iter().enumerate().filter_map(|(i, n)| {
            n.parent.map(|p| Edge {
                source: p,
                target: i,
            })
        })
    }

    /// The number of edges (every node but the root has one).
    pub fn edge_count(&self) -> usize {
        self.nodes.len().saturating_sub(1)
    }

    /// `<source rank>_to_<target rank>`, the animal end counting as `species`.
    pub fn rank_transition(&self, e: Edge) -> String {
        let target = match self.nodes[e.target].kind {
            NodeKind::Animal { .. } => "species",
            _ => self.nodes[e.target].rank(),
        };
        format!("{}_to_{}", self.nodes[e.source].rank(), target)
    }
}

#[cfg(test)]
mod tests;
