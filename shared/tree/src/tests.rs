//! Property tests of the tree: structure (unique ids, edges between existing nodes, order
//! independence), layout (no overlap at any depth, parents centred, identical subtrees drawn
//! identically, determinism) and chunking (exact cells, negative coordinates).

use std::collections::{HashMap, HashSet};

use proptest::prelude::*;
use uuid::Uuid;

use super::{
    NodeKind, RANKS, Tree, TreeAnimal,
    chunks::{CHUNK_SIZE, chunk_members, chunk_metadata, chunk_of, segment_chunks, world_bounds},
    layout::{DISTANCE, V_SPACING, tidy},
};

const EPS: f64 = 1e-6;

fn animal(i: u32, ranks: [&str; 7]) -> TreeAnimal {
    TreeAnimal {
        id: Uuid::from_u128(u128::from(i) + 1),
        creation_index: i as i32,
        ranks: ranks.map(str::to_owned),
    }
}

/// Children lists of a tree given as `parents[i]` = parent of node `i + 1` (node 0 is the root).
fn children_of(parents: &[usize]) -> Vec<Vec<usize>> {
    let mut children = vec![Vec::new(); parents.len() + 1];
    for (i, &p) in parents.iter().enumerate() {
        children[p].push(i + 1);
    }
    children
}

fn depths(children: &[Vec<usize>]) -> Vec<usize> {
    let mut depth = vec![0; children.len()];
    let mut stack = vec![0];
    while let Some(v) = stack.pop() {
        for &c in &children[v] {
            depth[c] = depth[v] + 1;
            stack.push(c);
        }
    }
    depth
}

/// Left-to-right order of the nodes at each depth (pre-order visits them left to right).
fn rows(children: &[Vec<usize>]) -> Vec<Vec<usize>> {
    let depth = depths(children);
    let mut rows: Vec<Vec<usize>> = Vec::new();
    let mut stack = vec![0];
    while let Some(v) = stack.pop() {
        if rows.len() <= depth[v] {
            rows.resize(depth[v] + 1, Vec::new());
        }
        rows[depth[v]].push(v);
        for &c in children[v].iter().rev() {
            stack.push(c);
        }
    }
    rows
}

fn check_layout(children: &[Vec<usize>], pos: &[[f64; 2]]) -> Result<(), TestCaseError> {
    let depth = depths(children);
    prop_assert_eq!(pos[0], [0.0, 0.0]);
    for (v, p) in pos.iter().enumerate() {
        prop_assert!((p[1] - depth[v] as f64 * V_SPACING).abs() < EPS);
    }
    for row in rows(children) {
        for pair in row.windows(2) {
            let gap = pos[pair[1]][0] - pos[pair[0]][0];
            prop_assert!(
                gap >= DISTANCE - EPS,
                "nodes {} and {} overlap: gap {gap}",
                pair[0],
                pair[1]
            );
        }
    }
    for (v, kids) in children.iter().enumerate() {
        if let (Some(&first), Some(&last)) = (kids.first(), kids.last()) {
            let mid = (pos[first][0] + pos[last][0]) / 2.0;
            prop_assert!((pos[v][0] - mid).abs() < EPS, "node {v} not centred");
        }
    }
    Ok(())
}

/// Random trees: node `i + 1` hangs under one of the `span` nodes before it.
fn random_tree() -> impl Strategy<Value = Vec<usize>> {
    (1usize..6, prop::collection::vec(any::<u32>(), 0..150)).prop_map(|(span, seeds)| {
        seeds
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let back = (*s as usize) % span.min(i + 1);
                i - back
            })
            .collect()
    })
}

fn layout_of(children: &[Vec<usize>]) -> Vec<[f64; 2]> {
    tidy(children.len(), 0, |v| children[v].as_slice())
}

proptest! {
    #[test]
    fn layouts_never_overlap_and_centre_parents(parents in random_tree()) {
        let children = children_of(&parents);
        let pos = layout_of(&children);
        check_layout(&children, &pos)?;
        prop_assert_eq!(pos, layout_of(&children), "deterministic");
    }

    #[test]
    fn identical_subtrees_are_drawn_identically(a in random_tree(), b in random_tree()) {
        // root → [copy of A, B, copy of A]
        let (sa, sb) = (children_of(&a), children_of(&b));
        let mut children: Vec<Vec<usize>> = vec![Vec::new()];
        let graft = |sub: &Vec<Vec<usize>>, children: &mut Vec<Vec<usize>>| {
            let base = children.len();
            for kids in sub {
                children.push(kids.iter().map(|k| k + base).collect());
            }
            children[0].push(base);
            base
        };
        let first = graft(&sa, &mut children);
        graft(&sb, &mut children);
        let second = graft(&sa, &mut children);
        let pos = layout_of(&children);
        check_layout(&children, &pos)?;
        let dx = pos[second][0] - pos[first][0];
        for i in 0..sa.len() {
            let (p, q) = (pos[first + i], pos[second + i]);
            prop_assert!((q[0] - p[0] - dx).abs() < EPS, "node {i} of the copy moved");
            prop_assert!((q[1] - p[1]).abs() < EPS);
        }
    }

    #[test]
    fn built_trees_have_unique_ids_and_sound_edges(
        rows in prop::collection::vec(prop::collection::vec(0usize..4, 7), 0..60),
        seed in any::<u64>(),
    ) {
        // Small alphabets make shared prefixes, skipped ranks and repeated names likely.
        let names = ["", "A", "B", "A B"];
        let animals: Vec<TreeAnimal> = rows
            .iter()
            .enumerate()
            .map(|(i, r)| animal(i as u32, std::array::from_fn(|k| names[r[k]])))
            .collect();
        let tree = Tree::build(&animals);
        let ids: HashSet<&str> = tree.nodes.iter().map(|n| n.id.as_str()).collect();
        prop_assert_eq!(ids.len(), tree.nodes.len(), "ids are unique");
        prop_assert_eq!(tree.nodes[0].animal_count, animals.len());
        prop_assert_eq!(tree.edges().count(), tree.edge_count());
        for e in tree.edges() {
            prop_assert!(e.source < e.target, "pre-order: parents first");
            prop_assert_eq!(tree.nodes[e.target].parent, Some(e.source));
        }
        let leaves = tree.nodes.iter().filter(|n| matches!(n.kind, NodeKind::Animal { .. })).count();
        prop_assert_eq!(leaves, animals.len());

        // The input order does not matter.
        let mut shuffled = animals.clone();
        let mut state = seed;
        for i in (1..shuffled.len()).rev() {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            shuffled.swap(i, (state >> 33) as usize % (i + 1));
        }
        let again = Tree::build(&shuffled);
        let a: Vec<&str> = tree.nodes.iter().map(|n| n.id.as_str()).collect();
        let b: Vec<&str> = again.nodes.iter().map(|n| n.id.as_str()).collect();
        prop_assert_eq!(a, b);
        prop_assert_eq!(tree.layout(), again.layout());
    }

    #[test]
    fn segment_chunks_are_exact(
        ax in -9000.0f64..9000.0, ay in -9000.0f64..9000.0,
        bx in -9000.0f64..9000.0, by in -9000.0f64..9000.0,
    ) {
        let size = 1000.0;
        let cells = segment_chunks([ax, ay], [bx, by], size);
        let set: HashSet<_> = cells.iter().copied().collect();
        prop_assert!(set.contains(&chunk_of([ax, ay], size)));
        prop_assert!(set.contains(&chunk_of([bx, by], size)));
        let steps = 4000;
        let mut seen = HashSet::new();
        for i in 0..=steps {
            let t = f64::from(i) / f64::from(steps);
            let c = chunk_of([ax + t * (bx - ax), ay + t * (by - ay)], size);
            prop_assert!(set.contains(&c), "sampled cell {c:?} missing from {cells:?}");
            seen.insert(c);
        }
        let (ca, cb) = (chunk_of([ax, ay], size), chunk_of([bx, by], size));
        let bound = (ca.0 - cb.0).unsigned_abs() + (ca.1 - cb.1).unsigned_abs() + 1;
        prop_assert!(cells.len() as u64 <= bound, "{cells:?} exceeds {bound}");
        // Every cell found is a real crossing: sampling that fine misses only corner grazes.
        prop_assert!(cells.len() <= seen.len() + 2);
    }
}

#[test]
fn a_rank_value_under_two_parents_gets_two_ids() {
    let animals = vec![
        animal(
            1,
            [
                "Animalia",
                "Chordata",
                "Mammalia",
                "Carnivora",
                "Felidae",
                "Felis",
                "catus",
            ],
        ),
        // No phylum: Mammalia hangs directly under Animalia, a different node.
        animal(
            2,
            [
                "Animalia",
                "",
                "Mammalia",
                "Carnivora",
                "Felidae",
                "Panthera",
                "leo",
            ],
        ),
        // Everything unknown: the animal hangs under the root.
        animal(3, ["", "", "", "", "", "", ""]),
    ];
    let tree = Tree::build(&animals);
    let ids: Vec<&str> = tree.nodes.iter().map(|n| n.id.as_str()).collect();
    let mammalia: Vec<&&str> = ids.iter().filter(|i| i.starts_with("class_")).collect();
    assert_eq!(
        mammalia,
        [
            &"class_Animalia/Chordata/Mammalia",
            &"class_Animalia//Mammalia"
        ]
    );
    let felidae = ids.iter().filter(|i| i.starts_with("family_")).count();
    assert_eq!(felidae, 2);
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), ids.len());
    let root_animal = tree
        .nodes
        .iter()
        .position(|n| n.id == Uuid::from_u128(4).to_string())
        .unwrap();
    assert_eq!(tree.nodes[root_animal].parent, Some(0));
    let e = tree.edges().find(|e| e.target == root_animal).unwrap();
    assert_eq!(tree.rank_transition(e), "root_to_species");
    assert_eq!(RANKS.len(), 7);
}

#[test]
fn ids_are_escaped_so_distinct_paths_never_collide() {
    let animals = vec![
        animal(1, ["A B", "", "", "", "", "", ""]),
        animal(2, ["A_B", "", "", "", "", "", ""]),
        animal(3, ["A/B", "", "", "", "", "", ""]),
        animal(4, ["A", "B", "", "", "", "", ""]),
    ];
    let tree = Tree::build(&animals);
    let ids: HashSet<&str> = tree.nodes.iter().map(|n| n.id.as_str()).collect();
    assert_eq!(ids.len(), tree.nodes.len());
    assert!(ids.contains("kingdom_A_B"));
    assert!(ids.contains("kingdom_A%5FB"));
    assert!(ids.contains("kingdom_A%2FB"));
    assert!(ids.contains("phylum_A/B"));
}

#[test]
fn the_contract_example_lays_out_like_the_old_server() {
    // alice's wolf and lion: root → Animalia → Chordata → Mammalia → Carnivora → {Canidae, Felidae}
    let animals = vec![
        animal(
            1,
            [
                "Animalia",
                "Chordata",
                "Mammalia",
                "Carnivora",
                "Canidae",
                "Canis",
                "lupus",
            ],
        ),
        animal(
            2,
            [
                "Animalia",
                "Chordata",
                "Mammalia",
                "Carnivora",
                "Felidae",
                "Panthera",
                "leo",
            ],
        ),
    ];
    let tree = Tree::build(&animals);
    let pos = tree.layout();
    let at: HashMap<&str, [f64; 2]> = tree
        .nodes
        .iter()
        .zip(&pos)
        .map(|(n, p)| (n.id.as_str(), *p))
        .collect();
    assert_eq!(at["root"], [0.0, 0.0]);
    assert_eq!(at["kingdom_Animalia"], [0.0, 150.0]);
    assert_eq!(
        at["family_Animalia/Chordata/Mammalia/Carnivora/Canidae"],
        [-50.0, 750.0]
    );
    assert_eq!(
        at["family_Animalia/Chordata/Mammalia/Carnivora/Felidae"],
        [50.0, 750.0]
    );
    assert_eq!(at[Uuid::from_u128(2).to_string().as_str()], [-50.0, 1200.0]);
    let b = world_bounds(&pos);
    for (got, want) in b.iter().zip([-254.8, -204.8, 254.8, 1404.8]) {
        assert!((got - want).abs() < EPS, "{b:?}");
    }
}

#[test]
fn chunks_cover_negative_coordinates_and_agree_with_their_metadata() {
    let animals: Vec<TreeAnimal> = (0..80)
        .map(|i| {
            let genus = format!("G{}", i % 9);
            let species = format!("s{i}");
            let ranks = [
                "Animalia",
                "Chordata",
                "",
                "",
                "",
                genus.as_str(),
                species.as_str(),
            ];
            animal(i, ranks)
        })
        .collect();
    let tree = Tree::build(&animals);
    let pos = tree.layout();
    let meta = chunk_metadata(&tree, &pos, CHUNK_SIZE);
    assert!(
        meta.iter().any(|c| c.x < 0),
        "the left half is in negative chunks"
    );
    assert!(meta.windows(2).all(|w| (w[0].x, w[0].y) < (w[1].x, w[1].y)));
    let mut nodes = 0;
    for c in &meta {
        let (n, e) = chunk_members(&tree, &pos, CHUNK_SIZE, (c.x, c.y));
        assert_eq!((n.len(), e.len()), (c.node_count, c.edge_count), "{c:?}");
        nodes += n.len();
    }
    assert_eq!(nodes, tree.nodes.len());
    let (n, e) = chunk_members(&tree, &pos, CHUNK_SIZE, (1000, 1000));
    assert!(n.is_empty() && e.is_empty());
}
