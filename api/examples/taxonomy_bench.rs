//! Taxonomy benchmark helper (run by `ops/bench/taxonomy.sh` against an imported release):
//! matcher latency over mixed names (exact, noisy, synonyms, vernaculars, misspellings,
//! unknown species, trinomials, nonsense), and the plans and timings of search queries.
//!
//! `cargo run --release -p api --example taxonomy_bench -- --database-url URL [--names 1000]`
#![expect(clippy::print_stdout, reason = "a benchmark reports on stdout")]

use std::time::{Duration, Instant};

use anyhow::Context;
use biologidex_db::models::taxa::{SearchParams, Taxa};
use biologidex_taxonomy::matching::{MatchOptions, MatchType, match_name};
use clap::Parser;
use diesel::{QueryableByName, sql_types::Text};
use diesel_async::RunQueryDsl;
use rand::{Rng, SeedableRng, rngs::StdRng, seq::SliceRandom};

#[derive(Parser)]
struct Args {
    #[arg(long, env = "DATABASE_URL")]
    database_url: String,
    /// Names to match.
    #[arg(long, default_value_t = 1000)]
    names: usize,
    #[arg(long, default_value_t = 7)]
    seed: u64,
}

#[derive(QueryableByName)]
struct Name {
    #[diesel(sql_type = Text)]
    name: String,
}

async fn names(
    conn: &mut diesel_async::AsyncPgConnection,
    sql: &str,
) -> anyhow::Result<Vec<String>> {
    let rows: Vec<Name> = diesel::sql_query(sql)
        .load(conn)
        .await
        .context(sql.to_owned())?;
    Ok(rows.into_iter().map(|r| r.name).collect())
}

fn misspell(rng: &mut StdRng, name: &str) -> String {
    let mut chars: Vec<char> = name.chars().collect();
    // Only inside the epithet, so the genus stays a real one.
    let start = chars.iter().position(|c| *c == ' ').map_or(1, |i| i + 2);
    if chars.len() < start + 3 {
        return name.to_owned();
    }
    let i = rng.random_range(start..chars.len() - 1);
    match rng.random_range(0..3) {
        0 => {
            chars.swap(i, i + 1);
        }
        1 => {
            chars.remove(i);
        }
        _ => {
            let vowels = ['a', 'e', 'i', 'o', 'u'];
            let c = vowels[rng.random_range(0..vowels.len())];
            chars[i] = if chars[i] == c { 'y' } else { c };
        }
    }
    chars.into_iter().collect()
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx].as_secs_f64() * 1000.0
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let pool = biologidex_db::build_pool(&args.database_url, 2, Duration::from_secs(10));
    let mut conn = pool.get().await?;
    let mut rng = StdRng::seed_from_u64(args.seed);
    let n = args.names;
    let share = |f: f64| ((n as f64) * f).round() as usize;

    // Inputs (sampled without a full sort: TABLESAMPLE reads about 1 % of the pages).
    let species = names(
        &mut conn,
        &format!(
            "SELECT scientific_name::text AS name FROM taxa TABLESAMPLE SYSTEM (2) REPEATABLE ({}) \
             WHERE status = 'accepted' AND rank_id = (SELECT id FROM taxonomic_ranks WHERE name = 'species') \
             LIMIT {}",
            args.seed,
            share(0.6)
        ),
    )
    .await?;
    let synonyms = names(
        &mut conn,
        &format!(
            "SELECT scientific_name::text AS name FROM taxa TABLESAMPLE SYSTEM (5) REPEATABLE ({}) \
             WHERE status = 'synonym' LIMIT {}",
            args.seed,
            share(0.15)
        ),
    )
    .await?;
    let vernaculars = names(
        &mut conn,
        &format!(
            "SELECT name::text AS name FROM taxon_common_names TABLESAMPLE SYSTEM (5) REPEATABLE ({}) \
             LIMIT {}",
            args.seed,
            share(0.15)
        ),
    )
    .await?;
    anyhow::ensure!(!species.is_empty(), "no taxa: import a release first");
    let mut inputs: Vec<(&'static str, String)> = Vec::new();
    for s in species.iter().take(share(0.25)) {
        inputs.push(("exact", s.clone()));
    }
    for s in species.iter().skip(share(0.25)).take(share(0.05)) {
        inputs.push((
            "noisy",
            format!("  *{}*  (Linnaeus, 1758) ", s.to_uppercase()),
        ));
    }
    for s in &synonyms {
        inputs.push(("synonym", s.clone()));
    }
    for v in vernaculars.iter().take(share(0.12)) {
        inputs.push(("vernacular", v.clone()));
    }
    for s in species.iter().skip(share(0.30)).take(share(0.15)) {
        inputs.push(("misspelt", misspell(&mut rng, s)));
    }
    for s in species.iter().skip(share(0.45)).take(share(0.1)) {
        let genus = s.split_whitespace().next().unwrap_or(s);
        inputs.push(("unknown_species", format!("{genus} zqxwvuta")));
    }
    for s in species.iter().skip(share(0.55)).take(share(0.05)) {
        inputs.push(("trinomial", format!("{s} qzxvariant")));
    }
    while inputs.len() < n {
        let len = rng.random_range(6..14);
        let word: String = (0..len)
            .map(|_| char::from(b'a' + rng.random_range(0..26u8)))
            .collect();
        inputs.push(("nonsense", format!("{word} {}", &word[..3])));
    }
    inputs.truncate(n);
    inputs.shuffle(&mut rng);

    // Warm up the connection and the caches, then time every match (and its lineage, as the
    // match endpoint answers with it).
    for (_, name) in inputs.iter().take(50) {
        match_name(&mut conn, name, &MatchOptions::default()).await?;
    }
    let mut all = Vec::with_capacity(inputs.len());
    let mut by_kind: std::collections::BTreeMap<
        &str,
        (Vec<Duration>, std::collections::BTreeMap<&str, usize>),
    > = Default::default();
    for (kind, name) in &inputs {
        let started = Instant::now();
        let m = match_name(&mut conn, name, &MatchOptions::default()).await?;
        if let Some(t) = &m.taxon {
            Taxa::lineage(&mut conn, t.id).await?;
        }
        let took = started.elapsed();
        all.push(took);
        let entry = by_kind.entry(kind).or_default();
        entry.0.push(took);
        *entry.1.entry(m.match_type.as_str()).or_default() += 1;
        if m.match_type == MatchType::None && *kind == "exact" {
            eprintln!("unexpected none for {name}");
        }
    }
    all.sort();
    println!(
        "matcher: {} names, p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        all.len(),
        percentile(&all, 0.5),
        percentile(&all, 0.9),
        percentile(&all, 0.99),
        percentile(&all, 1.0)
    );
    for (kind, (mut times, types)) in by_kind {
        times.sort();
        println!(
            "  {kind:<16} n={:<4} p50 {:>6.2} ms  p99 {:>6.2} ms  {:?}",
            times.len(),
            percentile(&times, 0.5),
            percentile(&times, 0.99),
            types
        );
    }

    // Search: the plans must use indexes; time each query shape a few times.
    let shapes = [
        (
            "genus+species",
            SearchParams {
                genus: species[0].split_whitespace().next().map(str::to_owned),
                species: species[0].split_whitespace().nth(1).map(str::to_owned),
                limit: 20,
                ..SearchParams::default()
            },
        ),
        (
            "q",
            SearchParams {
                q: species[1].split_whitespace().nth(1).map(str::to_owned),
                limit: 20,
                ..SearchParams::default()
            },
        ),
        (
            "common_name",
            SearchParams {
                common_name: vernaculars.as_slice().first().cloned(),
                limit: 20,
                ..SearchParams::default()
            },
        ),
        (
            "short genus",
            SearchParams {
                genus: Some(species[2].chars().take(2).collect()),
                limit: 20,
                ..SearchParams::default()
            },
        ),
    ];
    for (label, params) in shapes {
        let plan = Taxa::explain_search(&mut conn, &params).await?;
        let seq =
            plan.contains("Seq Scan on taxa ") || plan.contains("Seq Scan on taxon_common_names");
        let mut times = Vec::new();
        let mut found = 0;
        for _ in 0..5 {
            let started = Instant::now();
            found = Taxa::search(&mut conn, &params).await?.len();
            times.push(started.elapsed());
        }
        times.sort();
        println!(
            "search {label:<14} {:?}: {found} results, median {:.1} ms, sequential scan: {}",
            (
                &params.q,
                &params.genus,
                &params.species,
                &params.common_name
            ),
            percentile(&times, 0.5),
            if seq { "YES" } else { "no" }
        );
        if seq {
            println!("{plan}");
        }
    }
    Ok(())
}
