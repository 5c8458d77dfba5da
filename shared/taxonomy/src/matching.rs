//! Name matching, in the manner of GBIF's species-match service. A name is normalised
//! (`names::parse`), then looked up in order:
//!
//! 1. **exact** scientific name (any status); a synonym resolves to its accepted name
//!    (**synonym**);
//! 2. **vernacular** name in any language;
//! 3. **fuzzy**: trigram candidates (`pg_trgm`), kept when the edit distance is small for the
//!    name's length, scientific names first, then vernacular names;
//! 4. **higher rank**: a trinomial's species, else the genus;
//! 5. **none**.
//!
//! Several equally good answers (homonyms, a vernacular name shared by several species, an
//! ambiguous synonym) are not guessed between: they are listed as alternatives and the answer
//! is their closest common ancestor at family level or below (`higher_rank`), or `none`.

use std::collections::BTreeMap;

use diesel::{
    prelude::*,
    sql_types::{Array, Bool, Float4, Text},
};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::names::{self, Canonical, ParsedName};
use biologidex_db::models::taxa::{SUMMARY_COLUMNS, SUMMARY_JOINS, Taxa, TaxonSummary};

pub use super::animals::{Upserted, upsert_animal_from_taxon};

/// How a name was matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MatchType {
    Exact,
    Synonym,
    Vernacular,
    Fuzzy,
    HigherRank,
    None,
}

impl MatchType {
    /// The wire name (`exact`, `synonym`, `vernacular`, `fuzzy`, `higher_rank`, `none`).
    pub fn as_str(self) -> &'static str {
        match self {
            MatchType::Exact => "exact",
            MatchType::Synonym => "synonym",
            MatchType::Vernacular => "vernacular",
            MatchType::Fuzzy => "fuzzy",
            MatchType::HigherRank => "higher_rank",
            MatchType::None => "none",
        }
    }
}

/// Hints that narrow a match.
#[derive(Debug, Clone, Default)]
pub struct MatchOptions {
    /// Only taxa of this kingdom (case-insensitive).
    pub kingdom: Option<String>,
    /// A common name to try when the scientific name gives nothing exact (a vision model's
    /// "common_name").
    pub vernacular_hint: Option<String>,
}

/// One of several candidate answers.
#[derive(Debug, Clone)]
pub struct Alternative {
    /// The name usage that matched.
    pub usage: TaxonSummary,
    /// Its accepted taxon (the usage itself when it is accepted).
    pub accepted: Option<TaxonSummary>,
    pub match_type: MatchType,
    /// The vernacular name that matched, for vernacular matches.
    pub vernacular: Option<String>,
}

/// The matcher's verdict.
#[derive(Debug, Clone)]
pub struct NameMatch {
    pub input: String,
    /// The canonical name looked up (or the cleaned input when it is not a Latin name).
    pub normalized: String,
    pub match_type: MatchType,
    /// 0 to 1.
    pub confidence: f64,
    /// The name usage that matched (a synonym, say); `None` for common-ancestor answers.
    pub usage: Option<TaxonSummary>,
    /// The accepted taxon answered (or the higher-rank taxon).
    pub taxon: Option<TaxonSummary>,
    /// The vernacular name that matched.
    pub vernacular: Option<String>,
    /// Other candidates (homonyms, other species sharing a vernacular name, ...).
    pub alternatives: Vec<Alternative>,
    /// True when several candidates were equally good and none was picked.
    pub ambiguous: bool,
    /// A human-readable explanation.
    pub note: String,
}

/// Who gave a name: it decides how close a match must be for an animal to be created or
/// linked from its taxon.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameSource {
    /// Typed by a person (`POST /taxonomy/validate/`): the answer shows the match type and
    /// confidence, and only staff write, so any species-level match is taken.
    Person,
    /// Read by the vision model: the detection is linked with nobody looking, so a loose match
    /// (a distant fuzzy one, or a vernacular name other species share) gives an unverified
    /// animal under the model's name instead (docs/architecture.md#taxonomy-import).
    Model,
}

/// Lowest confidence of a match a model's name is linked through (a one-edit fuzzy match, or
/// a vernacular name no other species has, still passes).
pub const MODEL_MIN_CONFIDENCE: f64 = 0.8;

impl NameMatch {
    /// The taxon an animal may be created or linked from for a name from `source`: a
    /// species-level match (exact, synonym, vernacular or fuzzy; never `higher_rank`, `none`
    /// or ambiguous), for the model's names only a close one.
    pub fn trusted_taxon(&self, source: NameSource) -> Option<&TaxonSummary> {
        let species_level = matches!(
            self.match_type,
            MatchType::Exact | MatchType::Synonym | MatchType::Vernacular | MatchType::Fuzzy
        ) && !self.ambiguous;
        let close_enough = match source {
            NameSource::Person => true,
            NameSource::Model => self.confidence >= MODEL_MIN_CONFIDENCE,
        };
        self.taxon
            .as_ref()
            .filter(|_| species_level && close_enough)
    }
}

#[derive(Debug, Clone)]
struct Hit {
    usage: TaxonSummary,
    accepted: Option<TaxonSummary>,
    vernacular: Option<(String, bool)>,
    distance: usize,
}

impl Hit {
    fn target(&self) -> &TaxonSummary {
        self.accepted.as_ref().unwrap_or(&self.usage)
    }
}

#[derive(QueryableByName)]
struct VernacularRow {
    #[diesel(embed)]
    taxon: TaxonSummary,
    #[diesel(sql_type = Text)]
    vname: String,
    #[diesel(sql_type = Bool)]
    vpreferred: bool,
}

#[derive(QueryableByName)]
struct FuzzyRow {
    #[diesel(embed)]
    taxon: TaxonSummary,
    #[diesel(sql_type = Text)]
    matched: String,
    #[diesel(sql_type = Float4)]
    sim: f32,
}

/// Trigram similarity below which fuzzy candidates are not even considered.
const FUZZY_THRESHOLD: f32 = 0.4;
/// Fuzzy candidates examined per lookup.
const FUZZY_CANDIDATES: i64 = 20;

async fn exact_usages(
    conn: &mut AsyncPgConnection,
    names: &[String],
) -> QueryResult<Vec<TaxonSummary>> {
    if names.is_empty() {
        return Ok(Vec::new());
    }
    diesel::sql_query(format!(
        "SELECT {SUMMARY_COLUMNS} FROM taxa t {SUMMARY_JOINS} \
         WHERE lower(t.scientific_name) COLLATE \"C\" = ANY($1) \
         ORDER BY s.priority, t.id LIMIT 50"
    ))
    .bind::<Array<Text>, _>(names)
    .load(conn)
    .await
}

async fn vernacular_usages(
    conn: &mut AsyncPgConnection,
    names: &[String],
) -> QueryResult<Vec<VernacularRow>> {
    if names.is_empty() {
        return Ok(Vec::new());
    }
    diesel::sql_query(format!(
        "SELECT {SUMMARY_COLUMNS}, c.name::text AS vname, c.is_preferred AS vpreferred \
         FROM taxon_common_names c JOIN taxa t ON t.id = c.taxon_id {SUMMARY_JOINS} \
         WHERE lower(c.name) COLLATE \"C\" = ANY($1) ORDER BY s.priority, t.id LIMIT 50"
    ))
    .bind::<Array<Text>, _>(names)
    .load(conn)
    .await
}

async fn fuzzy_rows(
    conn: &mut AsyncPgConnection,
    name: &str,
    vernacular: bool,
) -> QueryResult<Vec<FuzzyRow>> {
    let sql = if vernacular {
        format!(
            "SELECT {SUMMARY_COLUMNS}, c.name::text AS matched, similarity(c.name, $1) AS sim \
             FROM taxon_common_names c JOIN taxa t ON t.id = c.taxon_id {SUMMARY_JOINS} \
             WHERE c.name % $1 ORDER BY sim DESC, t.id LIMIT {FUZZY_CANDIDATES}"
        )
    } else {
        format!(
            "SELECT {SUMMARY_COLUMNS}, t.scientific_name::text AS matched, \
                    similarity(t.scientific_name, $1) AS sim \
             FROM taxa t {SUMMARY_JOINS} \
             WHERE t.scientific_name % $1 ORDER BY sim DESC, t.id LIMIT {FUZZY_CANDIDATES}"
        )
    };
    let name = name.to_owned();
    conn.transaction(async |conn| {
        diesel::sql_query(format!(
            "SET LOCAL pg_trgm.similarity_threshold = {FUZZY_THRESHOLD}"
        ))
        .execute(conn)
        .await?;
        diesel::sql_query(sql)
            .bind::<Text, _>(name)
            .load(conn)
            .await
    })
    .await
}

/// Attaches accepted taxa to synonym usages (one query for all).
async fn resolve(conn: &mut AsyncPgConnection, hits: &mut [Hit]) -> QueryResult<()> {
    let ids: Vec<Uuid> = hits
        .iter()
        .filter(|h| !h.usage.is_listed())
        .filter_map(|h| h.usage.accepted_name_id)
        .collect();
    let accepted = Taxa::summaries(conn, &ids).await?;
    for h in hits.iter_mut() {
        h.accepted = if h.usage.is_listed() {
            None
        } else {
            h.usage
                .accepted_name_id
                .and_then(|id| accepted.iter().find(|a| a.id == id).cloned())
        };
    }
    Ok(())
}

fn in_kingdom(hit: &Hit, kingdom: Option<&str>) -> bool {
    kingdom.is_none_or(|k| hit.target().kingdom.eq_ignore_ascii_case(k))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Exact,
    Vernacular,
    Fuzzy,
    HigherSpecies,
    HigherGenus,
}

impl Stage {
    fn match_type(self, hit: &Hit) -> MatchType {
        match self {
            Stage::Exact if hit.usage.is_listed() => MatchType::Exact,
            Stage::Exact => MatchType::Synonym,
            Stage::Vernacular => MatchType::Vernacular,
            Stage::Fuzzy => MatchType::Fuzzy,
            Stage::HigherSpecies | Stage::HigherGenus => MatchType::HigherRank,
        }
    }

    fn confidence(self, hit: &Hit) -> f64 {
        match self {
            Stage::Exact if hit.usage.is_listed() => 1.0,
            Stage::Exact => 0.95,
            Stage::Vernacular if hit.vernacular.as_ref().is_some_and(|v| v.1) => 0.85,
            Stage::Vernacular => 0.8,
            Stage::Fuzzy => (0.9 - 0.1 * hit.distance as f64).max(0.5),
            Stage::HigherSpecies => 0.75,
            Stage::HigherGenus => 0.5,
        }
    }
}

fn alternatives(hits: &[Hit], stage: Stage, except: Option<Uuid>) -> Vec<Alternative> {
    hits.iter()
        .filter(|h| Some(h.usage.id) != except)
        .map(|h| Alternative {
            usage: h.usage.clone(),
            accepted: h.accepted.clone(),
            match_type: stage.match_type(h),
            vernacular: h.vernacular.as_ref().map(|v| v.0.clone()),
        })
        .collect()
}

#[derive(QueryableByName)]
struct Ancestry {
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    start: Uuid,
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    id: Uuid,
}

/// The deepest taxon every candidate descends from (or is): all lineages in one recursive
/// query.
async fn common_ancestor(
    conn: &mut AsyncPgConnection,
    targets: &[&TaxonSummary],
) -> QueryResult<Option<TaxonSummary>> {
    let ids: Vec<Uuid> = targets.iter().map(|t| t.id).collect();
    let rows: Vec<Ancestry> = diesel::sql_query(
        "WITH RECURSIVE up(start, id, depth) AS ( \
             SELECT id, id, 0 FROM taxa WHERE id = ANY($1) \
           UNION ALL \
             SELECT up.start, p.parent_id, up.depth + 1 FROM up JOIN taxa p ON p.id = up.id \
             WHERE p.parent_id IS NOT NULL AND up.depth < 100) \
         SELECT start, id FROM up ORDER BY start, depth DESC",
    )
    .bind::<Array<diesel::sql_types::Uuid>, _>(&ids)
    .load(conn)
    .await?;
    let mut lineages: BTreeMap<Uuid, Vec<Uuid>> = BTreeMap::new();
    for r in rows {
        lineages.entry(r.start).or_default().push(r.id);
    }
    let mut common: Option<Vec<Uuid>> = None;
    for lineage in lineages.into_values() {
        common = Some(match common {
            None => lineage,
            Some(prev) => prev
                .into_iter()
                .zip(lineage)
                .take_while(|(a, b)| a == b)
                .map(|(a, _)| a)
                .collect(),
        });
    }
    match common.and_then(|c| c.last().copied()) {
        Some(id) => Taxa::find_summary(conn, id).await,
        None => Ok(None),
    }
}

/// Lowest rank level (family) a common ancestor may have to be an answer.
const FAMILY_LEVEL: i32 = 50;

/// Picks the answer among a stage's hits, or lists them when none stands out.
async fn decide(
    conn: &mut AsyncPgConnection,
    base: &NameMatch,
    hits: Vec<Hit>,
    stage: Stage,
) -> QueryResult<Option<NameMatch>> {
    if hits.is_empty() {
        return Ok(None);
    }
    // Candidates grouped by the taxon they stand for.
    let mut groups: BTreeMap<Uuid, Vec<&Hit>> = BTreeMap::new();
    for h in &hits {
        groups.entry(h.target().id).or_default().push(h);
    }
    let chosen: Option<&Hit> = if groups.len() == 1 {
        hits.as_slice().first()
    } else {
        // A clear favourite: the one accepted name among homonyms, the one preferred
        // vernacular name, the one closest fuzzy candidate.
        let favourites: Vec<&Hit> = match stage {
            Stage::Exact | Stage::HigherSpecies | Stage::HigherGenus => {
                hits.iter().filter(|h| h.usage.is_listed()).collect()
            }
            Stage::Vernacular => hits
                .iter()
                .filter(|h| h.vernacular.as_ref().is_some_and(|v| v.1))
                .collect(),
            Stage::Fuzzy => {
                let best = hits.iter().map(|h| h.distance).min().unwrap_or(0);
                hits.iter().filter(|h| h.distance == best).collect()
            }
        };
        let mut ids: Vec<Uuid> = favourites.iter().map(|h| h.target().id).collect();
        ids.sort();
        ids.dedup();
        (ids.len() == 1).then(|| favourites[0])
    };
    let mut m = base.clone();
    if let Some(hit) = chosen {
        m.match_type = stage.match_type(hit);
        m.confidence = stage.confidence(hit) * if groups.len() > 1 { 0.9 } else { 1.0 };
        m.usage = Some(hit.usage.clone());
        m.taxon = Some(hit.target().clone());
        m.vernacular = hit.vernacular.as_ref().map(|v| v.0.clone());
        m.alternatives = alternatives(&hits, stage, Some(hit.usage.id));
        m.note = match m.match_type {
            MatchType::Synonym => format!(
                "{} is a synonym of {}",
                hit.usage.scientific_name,
                hit.target().scientific_name
            ),
            _ if groups.len() > 1 => format!(
                "{} other name(s) match too; {} is preferred",
                groups.len() - 1,
                hit.target().scientific_name
            ),
            _ => String::new(),
        };
        return Ok(Some(m));
    }
    // Ambiguous: answer with what the candidates have in common, if specific enough.
    let targets: Vec<&TaxonSummary> = groups.values().map(|g| g[0].target()).collect();
    m.ambiguous = true;
    m.alternatives = alternatives(&hits, stage, None);
    let names: Vec<&str> = targets.iter().map(|t| t.scientific_name.as_str()).collect();
    match common_ancestor(conn, &targets).await? {
        Some(anc) if anc.rank_level.unwrap_or(0) >= FAMILY_LEVEL => {
            m.match_type = MatchType::HigherRank;
            m.confidence = if anc.rank_level.unwrap_or(0) >= 60 {
                0.6
            } else {
                0.5
            };
            m.note = format!(
                "ambiguous: {} could be {}; answered with their common {} {}",
                base.normalized,
                names.join(" or "),
                anc.rank_name.as_deref().unwrap_or("ancestor"),
                anc.scientific_name
            );
            m.taxon = Some(anc);
        }
        _ => {
            m.match_type = MatchType::None;
            m.confidence = 0.0;
            m.note = format!(
                "ambiguous: {} could be {}",
                base.normalized,
                names.join(" or ")
            );
        }
    }
    Ok(Some(m))
}

fn lower_names(names: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for n in names {
        let n = n.to_lowercase();
        if !n.is_empty() && !out.contains(&n) {
            out.push(n);
        }
    }
    out
}

async fn exact_stage(
    conn: &mut AsyncPgConnection,
    names: &[String],
    kingdom: Option<&str>,
    rank_filter: Option<&str>,
) -> QueryResult<Vec<Hit>> {
    let usages = exact_usages(conn, names).await?;
    let mut hits: Vec<Hit> = usages
        .into_iter()
        .filter(|u| rank_filter.is_none_or(|r| u.rank_name.as_deref() == Some(r)))
        .map(|usage| Hit {
            usage,
            accepted: None,
            vernacular: None,
            distance: 0,
        })
        .collect();
    resolve(conn, &mut hits).await?;
    hits.retain(|h| in_kingdom(h, kingdom));
    Ok(hits)
}

/// Every name usage of a genus (`Genus ...`), through the byte-order name index.
async fn names_in_genus(
    conn: &mut AsyncPgConnection,
    genus: &str,
) -> QueryResult<Vec<TaxonSummary>> {
    let low = format!("{} ", genus.to_lowercase());
    // ' ' + 1 = '!': the range holds exactly the names that start with "genus ".
    let high = format!("{}!", genus.to_lowercase());
    diesel::sql_query(format!(
        "SELECT {SUMMARY_COLUMNS} FROM taxa t {SUMMARY_JOINS} \
         WHERE lower(t.scientific_name) COLLATE \"C\" >= $1 \
           AND lower(t.scientific_name) COLLATE \"C\" < $2 LIMIT {GENUS_CANDIDATES}"
    ))
    .bind::<Text, _>(low)
    .bind::<Text, _>(high)
    .load(conn)
    .await
}

/// Names of a known genus examined for a misspelt epithet, at most.
const GENUS_CANDIDATES: i64 = 20_000;

/// Candidates within the edit-distance budget of `name`.
fn within_budget(
    name: &str,
    candidates: impl IntoIterator<Item = (TaxonSummary, String)>,
    parts: Option<usize>,
    vernacular: bool,
) -> Vec<Hit> {
    let wanted = name.to_lowercase();
    let allowed = names::max_edits(wanted.chars().count());
    if allowed == 0 {
        return Vec::new();
    }
    candidates
        .into_iter()
        .filter(|(_, m)| parts.is_none_or(|p| m.split_whitespace().count() == p))
        .filter_map(|(taxon, matched)| {
            let distance = names::edit_distance(&wanted, &matched.to_lowercase());
            (distance <= allowed).then(|| Hit {
                vernacular: vernacular.then(|| (matched.clone(), false)),
                usage: taxon,
                accepted: None,
                distance,
            })
        })
        .collect()
}

/// Fuzzy candidates for a scientific name: within its genus when the genus is known (a
/// misspelt epithet; cheap), else by trigrams over all names (a misspelt genus).
async fn fuzzy_scientific(
    conn: &mut AsyncPgConnection,
    c: &Canonical,
    in_genus: &[TaxonSummary],
    kingdom: Option<&str>,
) -> QueryResult<Vec<Hit>> {
    let name = c.name();
    let mut hits = if in_genus.is_empty() {
        if names::max_edits(name.chars().count()) == 0 {
            return Ok(Vec::new());
        }
        let rows = fuzzy_rows(conn, &name, false).await?;
        within_budget(
            &name,
            rows.into_iter()
                .filter(|r| r.sim >= FUZZY_THRESHOLD)
                .map(|r| (r.taxon, r.matched)),
            Some(c.parts()),
            false,
        )
    } else {
        within_budget(
            &name,
            in_genus
                .iter()
                .map(|t| (t.clone(), t.scientific_name.clone())),
            Some(c.parts()),
            false,
        )
    };
    resolve(conn, &mut hits).await?;
    hits.retain(|h| in_kingdom(h, kingdom));
    Ok(hits)
}

/// Fuzzy candidates for a vernacular name, by trigrams.
async fn fuzzy_vernacular(
    conn: &mut AsyncPgConnection,
    name: &str,
    kingdom: Option<&str>,
) -> QueryResult<Vec<Hit>> {
    if names::max_edits(name.chars().count()) == 0 {
        return Ok(Vec::new());
    }
    let rows = fuzzy_rows(conn, name, true).await?;
    let mut hits = within_budget(
        name,
        rows.into_iter()
            .filter(|r| r.sim >= FUZZY_THRESHOLD)
            .map(|r| (r.taxon, r.matched)),
        None,
        true,
    );
    resolve(conn, &mut hits).await?;
    hits.retain(|h| in_kingdom(h, kingdom));
    Ok(hits)
}

/// Matches a name against the taxonomy.
pub async fn match_name(
    conn: &mut AsyncPgConnection,
    input: &str,
    opts: &MatchOptions,
) -> QueryResult<NameMatch> {
    let parsed: ParsedName = names::parse(input);
    let primary: Option<Canonical> = parsed.primary().cloned();
    let base = NameMatch {
        input: input.to_owned(),
        normalized: primary
            .as_ref()
            .map_or_else(|| parsed.cleaned.clone(), Canonical::name),
        match_type: MatchType::None,
        confidence: 0.0,
        usage: None,
        taxon: None,
        vernacular: None,
        alternatives: Vec::new(),
        ambiguous: false,
        note: String::new(),
    };
    let kingdom = opts.kingdom.as_deref().filter(|k| !k.trim().is_empty());
    if parsed.cleaned.is_empty() && opts.vernacular_hint.is_none() {
        return Ok(NameMatch {
            note: "empty name".to_owned(),
            ..base
        });
    }

    // 1. Exact (and synonym).
    let scientific = lower_names(parsed.scientific.iter().map(|c| {
        if parsed.genus_only {
            c.genus.clone()
        } else {
            c.name()
        }
    }));
    let hits = exact_stage(conn, &scientific, kingdom, None).await?;
    if let Some(m) = decide(conn, &base, hits, Stage::Exact).await? {
        return Ok(m);
    }

    // 2. Vernacular.
    let vernacular = lower_names(
        parsed
            .vernacular
            .iter()
            .cloned()
            .chain(opts.vernacular_hint.iter().map(|h| names::parse(h).cleaned)),
    );
    let rows = vernacular_usages(conn, &vernacular).await?;
    let mut hits: Vec<Hit> = rows
        .into_iter()
        .map(|r| Hit {
            usage: r.taxon,
            accepted: None,
            vernacular: Some((r.vname, r.vpreferred)),
            distance: 0,
        })
        .collect();
    resolve(conn, &mut hits).await?;
    hits.retain(|h| in_kingdom(h, kingdom));
    if let Some(m) = decide(conn, &base, hits, Stage::Vernacular).await? {
        return Ok(m);
    }

    // 3. Fuzzy: the scientific name (within its genus when the genus is known), then, unless
    // the input names a known genus, the vernacular readings.
    let in_genus = match primary.as_ref() {
        Some(c) => names_in_genus(conn, &c.genus).await?,
        None => Vec::new(),
    };
    if let Some(c) = primary.as_ref().filter(|_| !parsed.genus_only) {
        let hits = fuzzy_scientific(conn, c, &in_genus, kingdom).await?;
        if let Some(m) = decide(conn, &base, hits, Stage::Fuzzy).await? {
            return Ok(m);
        }
    }
    if in_genus.is_empty() {
        for v in &vernacular {
            let hits = fuzzy_vernacular(conn, v, kingdom).await?;
            if let Some(m) = decide(conn, &base, hits, Stage::Fuzzy).await? {
                return Ok(m);
            }
        }
    }

    // 4. Higher rank: the species of a trinomial, else the genus.
    if let Some(c) = primary.as_ref() {
        if let Some(species) = c.species() {
            let hits = exact_stage(conn, &lower_names([species.name()]), kingdom, None).await?;
            if let Some(m) = decide(conn, &base, hits, Stage::HigherSpecies).await? {
                return Ok(m);
            }
        }
        if c.epithet.is_some() {
            let hits = exact_stage(
                conn,
                &lower_names([c.genus.clone()]),
                kingdom,
                Some("genus"),
            )
            .await?;
            if let Some(mut m) = decide(conn, &base, hits, Stage::HigherGenus).await? {
                if m.note.is_empty() {
                    m.note = format!("{} is not known; matched its genus", base.normalized);
                }
                return Ok(m);
            }
        }
    }
    Ok(NameMatch {
        note: format!("no taxon matches {}", base.normalized),
        ..base
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verdict(match_type: MatchType, confidence: f64, ambiguous: bool) -> NameMatch {
        NameMatch {
            input: "Canis lupus".to_owned(),
            normalized: "Canis lupus".to_owned(),
            match_type,
            confidence,
            usage: None,
            taxon: Some(TaxonSummary {
                id: Uuid::nil(),
                scientific_name: "Canis lupus".to_owned(),
                authorship: String::new(),
                rank_name: Some("species".to_owned()),
                rank_level: Some(70),
                status: "accepted".to_owned(),
                kingdom: "Animalia".to_owned(),
                phylum: String::new(),
                class_name: String::new(),
                order_name: String::new(),
                family: String::new(),
                genus: "Canis".to_owned(),
                specific_epithet: "lupus".to_owned(),
                source_name: String::new(),
                source_priority: 0,
                completeness_score: String::new(),
                parent_id: None,
                accepted_name_id: None,
            }),
            vernacular: None,
            alternatives: Vec::new(),
            ambiguous,
            note: String::new(),
        }
    }

    fn trusted(m: &NameMatch) -> [bool; 2] {
        [NameSource::Person, NameSource::Model].map(|s| m.trusted_taxon(s).is_some())
    }

    #[test]
    fn species_level_matches_are_trusted_and_the_models_only_when_close() {
        for t in [
            MatchType::Exact,
            MatchType::Synonym,
            MatchType::Vernacular,
            MatchType::Fuzzy,
        ] {
            assert_eq!(trusted(&verdict(t, 0.8, false)), [true, true], "{t:?}");
            assert_eq!(trusted(&verdict(t, 0.7, false)), [true, false], "{t:?}");
        }
        // What the matcher gives a one-edit fuzzy match, and a vernacular name with rivals.
        assert_eq!(
            trusted(&verdict(MatchType::Fuzzy, 0.9 - 0.1, false)),
            [true, true]
        );
        assert_eq!(
            trusted(&verdict(MatchType::Vernacular, 0.85 * 0.9, false)),
            [true, false]
        );
    }

    #[test]
    fn higher_rank_none_ambiguous_and_taxonless_matches_are_never_trusted() {
        for t in [MatchType::HigherRank, MatchType::None] {
            assert_eq!(trusted(&verdict(t, 1.0, false)), [false, false], "{t:?}");
        }
        assert_eq!(
            trusted(&verdict(MatchType::Exact, 1.0, true)),
            [false, false]
        );
        let mut m = verdict(MatchType::Exact, 1.0, false);
        m.taxon = None;
        assert_eq!(trusted(&m), [false, false]);
    }
}
