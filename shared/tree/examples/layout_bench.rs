//! Times the tree of a synthetic catalogue: build, tidy layout and chunk metadata.
//!   cargo run --release -p biologidex-tree --example layout_bench [animals] [runs]
//! Default: 100,000 animals in 10,000 genera, 1,000 families, 200 orders, 40 classes,
//! 10 phyla and 3 kingdoms (every rank filled), best and median of 7 runs.
#![expect(clippy::print_stdout, reason = "a benchmark prints its results")]

use std::time::{Duration, Instant};

use biologidex_tree::{
    Tree, TreeAnimal,
    chunks::{CHUNK_SIZE, chunk_metadata},
};
use uuid::Uuid;

fn catalogue(n: usize) -> Vec<TreeAnimal> {
    (0..n)
        .map(|i| {
            let genus = i / 10;
            let family = genus / 10;
            let order = family / 5;
            let class = order / 5;
            let phylum = class / 4;
            let kingdom = phylum / 4;
            TreeAnimal {
                id: Uuid::from_u128(i as u128 + 1),
                creation_index: i as i32,
                ranks: [
                    format!("Kingdom{kingdom}"),
                    format!("Phylum{phylum}"),
                    format!("Class{class}"),
                    format!("Order{order}"),
                    format!("Family{family}"),
                    format!("Genus{genus}"),
                    format!("species{i}"),
                ],
            }
        })
        .collect()
}

fn stats(mut times: Vec<Duration>) -> String {
    times.sort();
    format!(
        "best {:>8.2} ms  median {:>8.2} ms",
        times[0].as_secs_f64() * 1e3,
        times[times.len() / 2].as_secs_f64() * 1e3
    )
}

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let runs: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(7).max(1);
    let animals = catalogue(n);
    let (mut build, mut layout, mut chunks) = (Vec::new(), Vec::new(), Vec::new());
    let mut summary = String::new();
    for _ in 0..runs {
        let t = Instant::now();
        let tree = Tree::build(&animals);
        build.push(t.elapsed());
        let t = Instant::now();
        let pos = tree.layout();
        layout.push(t.elapsed());
        let t = Instant::now();
        let meta = chunk_metadata(&tree, &pos, CHUNK_SIZE);
        chunks.push(t.elapsed());
        let width = pos.iter().map(|p| p[0]).fold(f64::MIN, f64::max)
            - pos.iter().map(|p| p[0]).fold(f64::MAX, f64::min);
        summary = format!(
            "{n} animals -> {} nodes, {} edges, width {width:.0}, {} chunks",
            tree.nodes.len(),
            tree.edge_count(),
            meta.len()
        );
    }
    println!("{summary}");
    println!("build   {}", stats(build));
    println!("layout  {}", stats(layout));
    println!("chunks  {}", stats(chunks));
}
