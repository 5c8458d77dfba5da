//! Taxonomy response shapes (the old `TaxonomyMinimalSerializer`, `TaxonomySerializer` and
//! `DataSourceSerializer`), in the old key order.

use std::collections::HashMap;

use biologidex_db::models::{
    taxa::{CommonName, Distribution, Taxa, TaxonDetail, TaxonSummary, TaxonomyStats},
    taxonomy::TaxonomySource,
};
use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;
use serde::Serialize;
use uuid::Uuid;

use crate::{ApiResult, json::ser_datetime};

/// A vernacular name.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = TaxonCommonName)]
pub struct CommonNameResponse {
    pub name: String,
    pub language: String,
    pub country: String,
    pub is_preferred: bool,
}

impl From<CommonName> for CommonNameResponse {
    fn from(c: CommonName) -> Self {
        CommonNameResponse {
            name: c.name,
            language: c.language,
            country: c.country,
            is_preferred: c.is_preferred,
        }
    }
}

/// A taxon in lists and search results. `rank_name` is omitted when the taxon has no rank, as
/// DRF did; `specific_epithet` is an addition the client reads in search results
/// (docs/wire-compatibility.md#m7).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TaxonMinimalResponse {
    pub id: Uuid,
    pub scientific_name: String,
    /// Omitted when the taxon has no rank.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub rank_name: Option<String>,
    /// `accepted` or `provisional`.
    pub status: String,
    pub kingdom: String,
    pub phylum: String,
    pub class_name: String,
    pub order: String,
    pub family: String,
    pub genus: String,
    pub specific_epithet: String,
    /// The data source's short code.
    pub source_name: String,
    /// A decimal string such as `"1.00"`.
    pub completeness_score: String,
    pub common_names: Vec<CommonNameResponse>,
}

impl TaxonMinimalResponse {
    fn new(t: TaxonSummary, names: Vec<CommonNameResponse>) -> Self {
        TaxonMinimalResponse {
            id: t.id,
            scientific_name: t.scientific_name,
            rank_name: t.rank_name,
            status: t.status,
            kingdom: t.kingdom,
            phylum: t.phylum,
            class_name: t.class_name,
            order: t.order_name,
            family: t.family,
            genus: t.genus,
            specific_epithet: t.specific_epithet,
            source_name: t.source_name,
            completeness_score: t.completeness_score,
            common_names: names,
        }
    }
}

/// Minimal responses for many taxa, with one query for all their vernacular names.
pub async fn minimal(
    conn: &mut AsyncPgConnection,
    taxa: Vec<TaxonSummary>,
) -> ApiResult<Vec<TaxonMinimalResponse>> {
    let ids: Vec<Uuid> = taxa.iter().map(|t| t.id).collect();
    let mut by_taxon: HashMap<Uuid, Vec<CommonNameResponse>> = HashMap::new();
    for c in Taxa::common_names(conn, &ids).await? {
        by_taxon.entry(c.taxon_id).or_default().push(c.into());
    }
    Ok(taxa
        .into_iter()
        .map(|t| {
            let names = by_taxon.remove(&t.id).unwrap_or_default();
            TaxonMinimalResponse::new(t, names)
        })
        .collect())
}

/// A data source.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = TaxonomySource)]
pub struct SourceResponse {
    pub id: Uuid,
    pub name: String,
    pub short_code: String,
    pub full_name: String,
    pub url: String,
    pub update_frequency: String,
    pub license: String,
    pub is_active: bool,
    pub priority: i32,
}

impl From<TaxonomySource> for SourceResponse {
    fn from(s: TaxonomySource) -> Self {
        SourceResponse {
            id: s.id,
            name: s.name,
            short_code: s.short_code,
            full_name: s.full_name,
            url: s.url,
            update_frequency: s.update_frequency,
            license: s.license,
            is_active: s.is_active,
            priority: s.priority,
        }
    }
}

/// A rank.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = TaxonRank)]
pub struct RankResponse {
    pub name: String,
    pub level: i32,
    pub plural: String,
}

/// Where a taxon occurs.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = TaxonDistribution)]
pub struct DistributionResponse {
    pub area_code: String,
    pub gazetteer: String,
    pub area_name: String,
    pub establishment_means: String,
    pub occurrence_status: String,
    pub threat_status: String,
}

impl From<Distribution> for DistributionResponse {
    fn from(d: Distribution) -> Self {
        DistributionResponse {
            area_code: d.area_code,
            gazetteer: d.gazetteer,
            area_name: d.area_name,
            establishment_means: d.establishment_means,
            occurrence_status: d.occurrence_status,
            threat_status: d.threat_status,
        }
    }
}

/// The main ranks of a taxon (note `class`, not `class_name`).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = TaxonHierarchy)]
pub struct HierarchyResponse {
    pub kingdom: String,
    pub phylum: String,
    pub class: String,
    pub order: String,
    pub family: String,
    pub genus: String,
    pub species: String,
    pub subspecies: String,
}

/// One taxon with everything known about it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TaxonDetailResponse {
    pub id: Uuid,
    pub source: Option<SourceResponse>,
    pub source_taxon_id: String,
    pub scientific_name: String,
    pub authorship: String,
    pub rank: Option<RankResponse>,
    pub status: String,
    pub kingdom: String,
    pub phylum: String,
    pub class_name: String,
    pub order: String,
    pub family: String,
    pub subfamily: String,
    pub genus: String,
    pub species: String,
    pub subspecies: String,
    pub generic_name: String,
    pub specific_epithet: String,
    pub extinct: Option<bool>,
    pub environment: Vec<String>,
    pub nomenclatural_code: String,
    pub source_url: String,
    /// A decimal string such as `"1.00"`.
    pub completeness_score: String,
    /// A decimal string such as `"1.00"`.
    pub confidence_score: String,
    pub common_names: Vec<CommonNameResponse>,
    pub distributions: Vec<DistributionResponse>,
    pub full_hierarchy: HierarchyResponse,
    #[serde(serialize_with = "ser_datetime")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "ser_datetime")]
    pub updated_at: DateTime<Utc>,
}

/// The detail response of a taxon (three small queries: names, distributions, source).
pub async fn detail(
    conn: &mut AsyncPgConnection,
    t: TaxonDetail,
) -> ApiResult<TaxonDetailResponse> {
    let names = Taxa::common_names(conn, &[t.id]).await?;
    let distributions = Taxa::distributions(conn, t.id).await?;
    let source = TaxonomySource::find_active(conn, t.source_id).await?;
    let rank = match (t.rank_name, t.rank_level) {
        (Some(name), Some(level)) => Some(RankResponse {
            name,
            level,
            plural: t.rank_plural.unwrap_or_default(),
        }),
        _ => None,
    };
    Ok(TaxonDetailResponse {
        id: t.id,
        source: source.map(Into::into),
        source_taxon_id: t.source_taxon_id,
        scientific_name: t.scientific_name,
        authorship: t.authorship,
        rank,
        status: t.status,
        full_hierarchy: HierarchyResponse {
            kingdom: t.kingdom.clone(),
            phylum: t.phylum.clone(),
            class: t.class_name.clone(),
            order: t.order_name.clone(),
            family: t.family.clone(),
            genus: t.genus.clone(),
            species: t.species.clone(),
            subspecies: t.subspecies.clone(),
        },
        kingdom: t.kingdom,
        phylum: t.phylum,
        class_name: t.class_name,
        order: t.order_name,
        family: t.family,
        subfamily: t.subfamily,
        genus: t.genus,
        species: t.species,
        subspecies: t.subspecies,
        generic_name: t.generic_name,
        specific_epithet: t.specific_epithet,
        extinct: t.extinct,
        environment: t.environment,
        nomenclatural_code: t.nomenclatural_code,
        source_url: t.source_url,
        completeness_score: t.completeness_score,
        confidence_score: t.confidence_score,
        common_names: names.into_iter().map(Into::into).collect(),
        distributions: distributions.into_iter().map(Into::into).collect(),
        created_at: t.created_at,
        updated_at: t.updated_at,
    })
}

/// The taxonomy's statistics (accepted and provisional taxa only).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = TaxonomyStatsResponse)]
pub struct StatsResponse {
    /// Accepted and provisional taxa.
    pub total_taxa: i64,
    /// Distinct kingdoms among them.
    pub kingdoms: i64,
    /// Taxa of rank species.
    pub species: i64,
    /// Taxa of rank genus.
    pub genera: i64,
    /// Taxa of rank family.
    pub families: i64,
    /// Active data sources.
    pub sources: i64,
}

impl From<TaxonomyStats> for StatsResponse {
    fn from(s: TaxonomyStats) -> Self {
        StatsResponse {
            total_taxa: s.total_taxa,
            kingdoms: s.kingdoms,
            species: s.species,
            genera: s.genera,
            families: s.families,
            sources: s.sources,
        }
    }
}

/// A name usage in match results.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = TaxonNameUsage)]
pub struct UsageResponse {
    pub id: Uuid,
    pub scientific_name: String,
    pub authorship: String,
    pub rank_name: Option<String>,
    pub status: String,
}

impl From<&TaxonSummary> for UsageResponse {
    fn from(t: &TaxonSummary) -> Self {
        UsageResponse {
            id: t.id,
            scientific_name: t.scientific_name.clone(),
            authorship: t.authorship.clone(),
            rank_name: t.rank_name.clone(),
            status: t.status.clone(),
        }
    }
}
