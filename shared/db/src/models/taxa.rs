//! Reading taxa: lists, one taxon with its names and distributions, search, lineage, children
//! and statistics. Listed taxa are the accepted and provisionally accepted ones; synonyms are
//! reached through matching. Every query here is index-driven (search uses the trigram indexes
//! on `taxa.scientific_name` and `taxon_common_names.name`), so it stays fast on the whole
//! Catalogue of Life.

use chrono::{DateTime, Utc};
use diesel::{
    pg::Pg,
    prelude::*,
    sql_types::{Array, BigInt, Bool, Integer, Nullable, Text, Timestamptz, Uuid as SqlUuid},
};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// SQL list of the statuses that are shown as taxa.
pub const LISTED: &str = "('accepted', 'provisional')";

/// Most descendants `children?direct=false` walks.
pub const MAX_DESCENDANTS: i64 = 10_000;

/// A taxon in lists (the old `TaxonomyMinimalSerializer`, plus links and name parts).
#[derive(Debug, Clone, QueryableByName, PartialEq)]
pub struct TaxonSummary {
    #[diesel(sql_type = SqlUuid)]
    pub id: Uuid,
    #[diesel(sql_type = Text)]
    pub scientific_name: String,
    #[diesel(sql_type = Text)]
    pub authorship: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub rank_name: Option<String>,
    #[diesel(sql_type = Nullable<Integer>)]
    pub rank_level: Option<i32>,
    #[diesel(sql_type = Text)]
    pub status: String,
    #[diesel(sql_type = Text)]
    pub kingdom: String,
    #[diesel(sql_type = Text)]
    pub phylum: String,
    #[diesel(sql_type = Text)]
    pub class_name: String,
    #[diesel(sql_type = Text)]
    pub order_name: String,
    #[diesel(sql_type = Text)]
    pub family: String,
    #[diesel(sql_type = Text)]
    pub genus: String,
    #[diesel(sql_type = Text)]
    pub specific_epithet: String,
    #[diesel(sql_type = Text)]
    pub source_name: String,
    #[diesel(sql_type = Integer)]
    pub source_priority: i32,
    #[diesel(sql_type = Text)]
    pub completeness_score: String,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub parent_id: Option<Uuid>,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub accepted_name_id: Option<Uuid>,
}

impl TaxonSummary {
    /// True for accepted and provisionally accepted taxa.
    pub fn is_listed(&self) -> bool {
        matches!(self.status.as_str(), "accepted" | "provisional")
    }
}

/// Columns of [`TaxonSummary`] from `taxa t`, `taxonomy_sources s` and `taxonomic_ranks r`.
pub const SUMMARY_COLUMNS: &str = "t.id, t.scientific_name::text AS scientific_name, \
    t.authorship, r.name::text AS rank_name, r.level AS rank_level, t.status::text AS status, \
    t.kingdom::text AS kingdom, t.phylum::text AS phylum, t.class_name::text AS class_name, \
    t.order_name::text AS order_name, t.family::text AS family, t.genus::text AS genus, \
    t.specific_epithet::text AS specific_epithet, s.short_code::text AS source_name, \
    s.priority AS source_priority, t.completeness_score::text AS completeness_score, \
    t.parent_id, t.accepted_name_id";

/// The joins [`SUMMARY_COLUMNS`] needs.
pub const SUMMARY_JOINS: &str = "JOIN taxonomy_sources s ON s.id = t.source_id \
    LEFT JOIN taxonomic_ranks r ON r.id = t.rank_id";

/// One taxon with every field of the old `TaxonomySerializer`.
#[derive(Debug, Clone, QueryableByName)]
pub struct TaxonDetail {
    #[diesel(sql_type = SqlUuid)]
    pub id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    pub source_id: Uuid,
    #[diesel(sql_type = Text)]
    pub source_taxon_id: String,
    #[diesel(sql_type = Text)]
    pub scientific_name: String,
    #[diesel(sql_type = Text)]
    pub authorship: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub rank_name: Option<String>,
    #[diesel(sql_type = Nullable<Integer>)]
    pub rank_level: Option<i32>,
    #[diesel(sql_type = Nullable<Text>)]
    pub rank_plural: Option<String>,
    #[diesel(sql_type = Text)]
    pub status: String,
    #[diesel(sql_type = Text)]
    pub kingdom: String,
    #[diesel(sql_type = Text)]
    pub phylum: String,
    #[diesel(sql_type = Text)]
    pub class_name: String,
    #[diesel(sql_type = Text)]
    pub order_name: String,
    #[diesel(sql_type = Text)]
    pub family: String,
    #[diesel(sql_type = Text)]
    pub subfamily: String,
    #[diesel(sql_type = Text)]
    pub genus: String,
    #[diesel(sql_type = Text)]
    pub species: String,
    #[diesel(sql_type = Text)]
    pub subspecies: String,
    #[diesel(sql_type = Text)]
    pub generic_name: String,
    #[diesel(sql_type = Text)]
    pub specific_epithet: String,
    #[diesel(sql_type = Text)]
    pub infraspecific_epithet: String,
    #[diesel(sql_type = Nullable<Bool>)]
    pub extinct: Option<bool>,
    #[diesel(sql_type = Array<Text>)]
    pub environment: Vec<String>,
    #[diesel(sql_type = Text)]
    pub nomenclatural_code: String,
    #[diesel(sql_type = Text)]
    pub source_url: String,
    #[diesel(sql_type = Text)]
    pub completeness_score: String,
    #[diesel(sql_type = Text)]
    pub confidence_score: String,
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
    #[diesel(sql_type = Timestamptz)]
    pub updated_at: DateTime<Utc>,
}

const DETAIL_COLUMNS: &str = "t.id, t.source_id, t.source_taxon_id::text AS source_taxon_id, \
    t.scientific_name::text AS scientific_name, t.authorship, r.name::text AS rank_name, \
    r.level AS rank_level, r.plural::text AS rank_plural, t.status::text AS status, \
    t.kingdom::text AS kingdom, t.phylum::text AS phylum, t.class_name::text AS class_name, \
    t.order_name::text AS order_name, t.family::text AS family, t.subfamily::text AS subfamily, \
    t.genus::text AS genus, t.species::text AS species, t.subspecies::text AS subspecies, \
    t.generic_name::text AS generic_name, t.specific_epithet::text AS specific_epithet, \
    t.infraspecific_epithet::text AS infraspecific_epithet, t.extinct, \
    t.environment::text[] AS environment, t.nomenclatural_code::text AS nomenclatural_code, \
    t.source_url, t.completeness_score::text AS completeness_score, \
    t.confidence_score::text AS confidence_score, t.created_at, t.updated_at";

/// A vernacular name.
#[derive(Debug, Clone, QueryableByName, PartialEq, Eq)]
pub struct CommonName {
    #[diesel(sql_type = SqlUuid)]
    pub taxon_id: Uuid,
    #[diesel(sql_type = Text)]
    pub name: String,
    #[diesel(sql_type = Text)]
    pub language: String,
    #[diesel(sql_type = Text)]
    pub country: String,
    #[diesel(sql_type = Bool)]
    pub is_preferred: bool,
}

/// Where a taxon lives, and its threat status there.
#[derive(Debug, Clone, QueryableByName, PartialEq, Eq)]
pub struct Distribution {
    #[diesel(sql_type = Text)]
    pub area_code: String,
    #[diesel(sql_type = Text)]
    pub gazetteer: String,
    #[diesel(sql_type = Text)]
    pub area_name: String,
    #[diesel(sql_type = Text)]
    pub establishment_means: String,
    #[diesel(sql_type = Text)]
    pub occurrence_status: String,
    #[diesel(sql_type = Text)]
    pub threat_status: String,
}

/// The statistics endpoint's numbers (listed taxa only).
#[derive(Debug, Clone, Default, QueryableByName, Serialize, Deserialize, PartialEq, Eq)]
pub struct TaxonomyStats {
    #[diesel(sql_type = BigInt)]
    pub total_taxa: i64,
    #[diesel(sql_type = BigInt)]
    pub kingdoms: i64,
    #[diesel(sql_type = BigInt)]
    pub species: i64,
    #[diesel(sql_type = BigInt)]
    pub genera: i64,
    #[diesel(sql_type = BigInt)]
    pub families: i64,
    #[diesel(sql_type = BigInt)]
    pub sources: i64,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct PlanLine {
    #[diesel(sql_type = Text, column_name = "QUERY PLAN")]
    line: String,
}

/// Search filters; blank ones are `None`. At least one of `q`, `genus`, `species` and
/// `common_name` must be set (the handler checks).
#[derive(Debug, Clone, Default)]
pub struct SearchParams {
    pub q: Option<String>,
    pub genus: Option<String>,
    pub species: Option<String>,
    pub common_name: Option<String>,
    pub rank: Option<String>,
    pub kingdom: Option<String>,
    pub limit: i64,
}

fn like_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    for c in s.chars() {
        if matches!(c, '\\' | '%' | '_') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// `ILIKE` patterns for a term: substring match, or for terms under three characters (which
/// trigram indexes cannot search inside words) a match at the start of any word.
pub fn term_patterns(term: &str) -> Vec<String> {
    let t = like_escape(term);
    if term.chars().count() >= 3 {
        vec![format!("%{t}%")]
    } else {
        vec![format!("{t}%"), format!("% {t}%")]
    }
}

struct SearchSql {
    sql: String,
    binds: Vec<String>,
}

impl SearchSql {
    fn bind(&mut self, value: String) -> String {
        self.binds.push(value);
        format!("${}", self.binds.len())
    }

    fn any_like(&mut self, column: &str, term: &str) -> String {
        let parts: Vec<String> = term_patterns(term)
            .into_iter()
            .map(|p| {
                let b = self.bind(p);
                format!("{column} ILIKE {b}")
            })
            .collect();
        format!("({})", parts.join(" OR "))
    }
}

fn search_sql(p: &SearchParams) -> SearchSql {
    let mut s = SearchSql {
        sql: String::new(),
        binds: Vec::new(),
    };
    let mut conds = vec![format!("t.status IN {LISTED}")];
    if let Some(q) = &p.q {
        // Accepted names contain their genus and epithet, so one trigram search covers the
        // old `scientific_name OR genus OR specific_epithet` match.
        let on_name = s.any_like("x.scientific_name", q);
        let on_common = s.any_like("c.name", q);
        conds.push(format!(
            "t.id IN (SELECT x.id FROM taxa x WHERE {on_name} \
             UNION SELECT c.taxon_id FROM taxon_common_names c WHERE {on_common})"
        ));
    }
    if let Some(g) = &p.genus {
        let a = s.any_like("t.scientific_name", g);
        let b = s.any_like("t.genus", g);
        conds.push(format!("{a} AND {b}"));
    }
    if let Some(sp) = &p.species {
        let a = s.any_like("t.scientific_name", sp);
        let b = s.any_like("t.specific_epithet", sp);
        conds.push(format!("{a} AND {b}"));
    }
    if let Some(c) = &p.common_name {
        let on_common = s.any_like("c.name", c);
        conds.push(format!(
            "t.id IN (SELECT c.taxon_id FROM taxon_common_names c WHERE {on_common})"
        ));
    }
    if let Some(r) = &p.rank {
        let b = s.bind(r.clone());
        conds.push(format!("r.name = {b}"));
    }
    if let Some(k) = &p.kingdom {
        let b = s.bind(k.clone());
        conds.push(format!("lower(t.kingdom) = lower({b})"));
    }
    s.sql = format!(
        "SELECT {SUMMARY_COLUMNS} FROM taxa t {SUMMARY_JOINS} WHERE {} \
         ORDER BY t.completeness_score DESC, t.scientific_name, t.id LIMIT {}",
        conds.join(" AND "),
        p.limit.clamp(1, 100)
    );
    s
}

fn boxed(
    prefix: &str,
    s: &SearchSql,
) -> diesel::query_builder::BoxedSqlQuery<'static, Pg, diesel::query_builder::SqlQuery> {
    let mut q = diesel::sql_query(format!("{prefix}{}", s.sql)).into_boxed::<Pg>();
    for b in &s.binds {
        q = q.bind::<Text, _>(b.clone());
    }
    q
}

/// Taxa queries.
pub struct Taxa;

impl Taxa {
    /// How many taxa are listed.
    pub async fn count_listed(conn: &mut AsyncPgConnection) -> QueryResult<i64> {
        let c: Count = diesel::sql_query(format!(
            "SELECT count(*) AS n FROM taxa WHERE status IN {LISTED}"
        ))
        .get_result(conn)
        .await?;
        Ok(c.n)
    }

    /// One page of listed taxa by scientific name (byte order: the order of the name index).
    pub async fn list_page(
        conn: &mut AsyncPgConnection,
        offset: i64,
        limit: i64,
    ) -> QueryResult<Vec<TaxonSummary>> {
        diesel::sql_query(format!(
            "SELECT {SUMMARY_COLUMNS} FROM taxa t {SUMMARY_JOINS} WHERE t.status IN {LISTED} \
             ORDER BY t.scientific_name COLLATE \"C\", t.id OFFSET $1 LIMIT $2"
        ))
        .bind::<BigInt, _>(offset)
        .bind::<BigInt, _>(limit)
        .load(conn)
        .await
    }

    /// A listed taxon with every field.
    pub async fn find_listed(
        conn: &mut AsyncPgConnection,
        id: Uuid,
    ) -> QueryResult<Option<TaxonDetail>> {
        diesel::sql_query(format!(
            "SELECT {DETAIL_COLUMNS} FROM taxa t LEFT JOIN taxonomic_ranks r ON r.id = t.rank_id \
             WHERE t.id = $1 AND t.status IN {LISTED}"
        ))
        .bind::<SqlUuid, _>(id)
        .get_result(conn)
        .await
        .optional()
    }

    /// Any taxon (synonyms too) by id.
    pub async fn find_summary(
        conn: &mut AsyncPgConnection,
        id: Uuid,
    ) -> QueryResult<Option<TaxonSummary>> {
        Ok(Self::summaries(conn, &[id]).await?.into_iter().next())
    }

    /// Taxa (any status) by id, in no particular order.
    pub async fn summaries(
        conn: &mut AsyncPgConnection,
        ids: &[Uuid],
    ) -> QueryResult<Vec<TaxonSummary>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        diesel::sql_query(format!(
            "SELECT {SUMMARY_COLUMNS} FROM taxa t {SUMMARY_JOINS} WHERE t.id = ANY($1)"
        ))
        .bind::<Array<SqlUuid>, _>(ids)
        .load(conn)
        .await
    }

    /// Vernacular names of these taxa: per taxon, English first, then preferred, then by name.
    pub async fn common_names(
        conn: &mut AsyncPgConnection,
        ids: &[Uuid],
    ) -> QueryResult<Vec<CommonName>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        diesel::sql_query(
            "SELECT taxon_id, name::text AS name, language::text AS language, \
                    country::text AS country, is_preferred \
             FROM taxon_common_names WHERE taxon_id = ANY($1) \
             ORDER BY taxon_id, (language IN ('eng', 'en')) DESC, is_preferred DESC, name, \
                      language, country",
        )
        .bind::<Array<SqlUuid>, _>(ids)
        .load(conn)
        .await
    }

    /// A taxon's distributions.
    pub async fn distributions(
        conn: &mut AsyncPgConnection,
        id: Uuid,
    ) -> QueryResult<Vec<Distribution>> {
        diesel::sql_query(
            "SELECT area_code::text AS area_code, gazetteer::text AS gazetteer, area_name, \
                    establishment_means::text AS establishment_means, \
                    occurrence_status::text AS occurrence_status, \
                    threat_status::text AS threat_status \
             FROM taxon_distributions WHERE taxon_id = $1 \
             ORDER BY gazetteer, area_code, area_name, establishment_means",
        )
        .bind::<SqlUuid, _>(id)
        .load(conn)
        .await
    }

    /// A taxon and its ancestors, root first (one recursive query up the parent links).
    pub async fn lineage(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Vec<TaxonSummary>> {
        diesel::sql_query(format!(
            "WITH RECURSIVE up(id, depth) AS ( \
                 SELECT id, 0 FROM taxa WHERE id = $1 \
               UNION ALL \
                 SELECT p.parent_id, up.depth + 1 FROM up JOIN taxa p ON p.id = up.id \
                 WHERE p.parent_id IS NOT NULL AND up.depth < 100) \
             SELECT {SUMMARY_COLUMNS} FROM up JOIN taxa t ON t.id = up.id {SUMMARY_JOINS} \
             ORDER BY up.depth DESC"
        ))
        .bind::<SqlUuid, _>(id)
        .load(conn)
        .await
    }

    /// How many listed direct children a taxon has.
    pub async fn count_children(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<i64> {
        let c: Count = diesel::sql_query(format!(
            "SELECT count(*) AS n FROM taxa WHERE parent_id = $1 AND status IN {LISTED}"
        ))
        .bind::<SqlUuid, _>(id)
        .get_result(conn)
        .await?;
        Ok(c.n)
    }

    /// One page of a taxon's listed direct children, by scientific name.
    pub async fn children(
        conn: &mut AsyncPgConnection,
        id: Uuid,
        offset: i64,
        limit: i64,
    ) -> QueryResult<Vec<TaxonSummary>> {
        diesel::sql_query(format!(
            "SELECT {SUMMARY_COLUMNS} FROM taxa t {SUMMARY_JOINS} \
             WHERE t.parent_id = $1 AND t.status IN {LISTED} \
             ORDER BY t.scientific_name, t.id OFFSET $2 LIMIT $3"
        ))
        .bind::<SqlUuid, _>(id)
        .bind::<BigInt, _>(offset)
        .bind::<BigInt, _>(limit)
        .load(conn)
        .await
    }

    fn descendants_cte() -> String {
        format!(
            "WITH RECURSIVE d(id, depth) AS ( \
                 SELECT id, 1 FROM taxa WHERE parent_id = $1 AND status IN {LISTED} \
               UNION ALL \
                 SELECT c.id, d.depth + 1 FROM d JOIN taxa c ON c.parent_id = d.id \
                 WHERE c.status IN {LISTED} AND d.depth < 100), \
             bounded AS (SELECT id, depth FROM d LIMIT $2)"
        )
    }

    /// How many descendants a taxon has, counting at most `bound`.
    pub async fn count_descendants(
        conn: &mut AsyncPgConnection,
        id: Uuid,
        bound: i64,
    ) -> QueryResult<i64> {
        let c: Count = diesel::sql_query(format!(
            "{} SELECT count(*) AS n FROM bounded",
            Self::descendants_cte()
        ))
        .bind::<SqlUuid, _>(id)
        .bind::<BigInt, _>(bound)
        .get_result(conn)
        .await?;
        Ok(c.n)
    }

    /// One page of a taxon's descendants, breadth first (by depth, then name), among the first
    /// `bound` found.
    pub async fn descendants(
        conn: &mut AsyncPgConnection,
        id: Uuid,
        bound: i64,
        offset: i64,
        limit: i64,
    ) -> QueryResult<Vec<TaxonSummary>> {
        diesel::sql_query(format!(
            "{} SELECT {SUMMARY_COLUMNS} FROM bounded b JOIN taxa t ON t.id = b.id {SUMMARY_JOINS} \
             ORDER BY b.depth, t.scientific_name, t.id OFFSET $3 LIMIT $4",
            Self::descendants_cte()
        ))
        .bind::<SqlUuid, _>(id)
        .bind::<BigInt, _>(bound)
        .bind::<BigInt, _>(offset)
        .bind::<BigInt, _>(limit)
        .load(conn)
        .await
    }

    /// Search (the old `search` action), best-classified first.
    pub async fn search(
        conn: &mut AsyncPgConnection,
        params: &SearchParams,
    ) -> QueryResult<Vec<TaxonSummary>> {
        boxed("", &search_sql(params)).load(conn).await
    }

    /// The plan of a search (benchmarks and tests check that it uses indexes).
    pub async fn explain_search(
        conn: &mut AsyncPgConnection,
        params: &SearchParams,
    ) -> QueryResult<String> {
        let lines: Vec<PlanLine> = boxed("EXPLAIN ", &search_sql(params)).load(conn).await?;
        Ok(lines
            .into_iter()
            .map(|l| l.line)
            .collect::<Vec<_>>()
            .join("\n"))
    }

    /// The statistics (one pass over the listed taxa; cache the result).
    pub async fn stats(conn: &mut AsyncPgConnection) -> QueryResult<TaxonomyStats> {
        diesel::sql_query(format!(
            "WITH k AS ( \
                 SELECT t.kingdom, count(*) AS n, \
                        count(*) FILTER (WHERE r.name = 'species') AS species, \
                        count(*) FILTER (WHERE r.name = 'genus') AS genera, \
                        count(*) FILTER (WHERE r.name = 'family') AS families \
                 FROM taxa t LEFT JOIN taxonomic_ranks r ON r.id = t.rank_id \
                 WHERE t.status IN {LISTED} GROUP BY t.kingdom) \
             SELECT COALESCE(sum(n), 0)::bigint AS total_taxa, \
                    count(*) FILTER (WHERE kingdom <> '') AS kingdoms, \
                    COALESCE(sum(species), 0)::bigint AS species, \
                    COALESCE(sum(genera), 0)::bigint AS genera, \
                    COALESCE(sum(families), 0)::bigint AS families, \
                    (SELECT count(*) FROM taxonomy_sources WHERE is_active) AS sources \
             FROM k"
        ))
        .get_result(conn)
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_terms_match_word_starts_and_specials_are_escaped() {
        assert_eq!(term_patterns("leo"), ["%leo%"]);
        assert_eq!(term_patterns("le"), ["le%", "% le%"]);
        assert_eq!(term_patterns("5%_"), ["%5\\%\\_%"]);
    }

    #[test]
    fn search_sql_binds_every_value() {
        let s = search_sql(&SearchParams {
            q: Some("lion".into()),
            genus: Some("Pa".into()),
            rank: Some("species".into()),
            limit: 500,
            ..SearchParams::default()
        });
        assert_eq!(s.binds.len(), 2 + 4 + 1);
        assert!(s.sql.ends_with("LIMIT 100"));
        assert!(!s.sql.contains("lion"));
    }
}
