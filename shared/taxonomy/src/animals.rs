//! Turning a matched taxon into the shared `animals` catalogue entry: full classification,
//! accepted name, conservation status from the distributions' IUCN categories, marked verified
//! by the taxonomy. `creation_index` always comes from its sequence (never set here), and an
//! update never consumes a number.

use diesel::{
    prelude::*,
    sql_types::{Array, Double, Text, Uuid as SqlUuid},
};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::rows::iucn_code;
use biologidex_db::models::taxa::{CommonName, Distribution, Taxa, TaxonDetail};

#[derive(QueryableByName)]
struct Source {
    #[diesel(sql_type = Text)]
    short_code: String,
}

#[derive(QueryableByName)]
struct AnimalId {
    #[diesel(sql_type = SqlUuid)]
    id: biologidex_core::ids::AnimalId,
}

#[derive(QueryableByName)]
struct UpdatedAnimal {
    #[diesel(sql_type = SqlUuid)]
    id: biologidex_core::ids::AnimalId,
    #[diesel(sql_type = diesel::sql_types::Bool)]
    changed: bool,
}

/// What [`upsert_animal_from_taxon`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Upserted {
    pub id: biologidex_core::ids::AnimalId,
    /// A new animal (it is in no one's dex yet).
    pub created: bool,
    /// An existing animal's names, classification, status or verification changed: every
    /// cached tree showing it is stale.
    pub changed: bool,
}

/// The animal fields a taxon gives.
struct Fields {
    scientific_name: String,
    common_name: String,
    kingdom: String,
    phylum: String,
    class_name: String,
    order_name: String,
    family: String,
    subfamily: String,
    genus: String,
    species: String,
    subspecies: String,
    native_regions: Vec<String>,
    taxonomy_id: Uuid,
    taxonomy_source: String,
    taxonomy_source_url: String,
    confidence: f64,
    conservation_status: String,
}

/// The accepted taxon for `taxon_id` (a synonym's accepted name), with every field.
async fn accepted_detail(conn: &mut AsyncPgConnection, taxon_id: Uuid) -> QueryResult<TaxonDetail> {
    if let Some(t) = Taxa::find_listed(conn, taxon_id).await? {
        return Ok(t);
    }
    let usage = Taxa::find_summary(conn, taxon_id)
        .await?
        .ok_or(diesel::result::Error::NotFound)?;
    let accepted = usage
        .accepted_name_id
        .ok_or(diesel::result::Error::NotFound)?;
    Taxa::find_listed(conn, accepted)
        .await?
        .ok_or(diesel::result::Error::NotFound)
}

/// The first IUCN category among the distributions, else EX for extinct taxa, else NE.
fn conservation_status(distributions: &[Distribution], extinct: Option<bool>) -> String {
    distributions
        .iter()
        .filter_map(|d| iucn_code(&d.threat_status))
        .find(|c| *c != "NE")
        .unwrap_or(if extinct == Some(true) { "EX" } else { "NE" })
        .to_owned()
}

fn native_regions(distributions: &[Distribution]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for d in distributions {
        let name = if d.area_name.is_empty() {
            &d.area_code
        } else {
            &d.area_name
        };
        if d.establishment_means == "native"
            && d.occurrence_status == "present"
            && !name.is_empty()
            && !out.contains(name)
        {
            out.push(name.clone());
        }
        if out.len() == 10 {
            break;
        }
    }
    out
}

/// The given name, else the first English (then preferred) vernacular name, else the
/// scientific name.
fn common_name(given: Option<&str>, names: &[CommonName], scientific: &str) -> String {
    if let Some(g) = given.map(str::trim).filter(|g| !g.is_empty()) {
        return g.to_owned();
    }
    names
        .iter()
        .find(|n| matches!(n.language.as_str(), "eng" | "en"))
        .or_else(|| names.iter().find(|n| n.is_preferred))
        .map_or_else(|| scientific.to_owned(), |n| n.name.clone())
}

async fn fields(
    conn: &mut AsyncPgConnection,
    taxon_id: Uuid,
    given_name: Option<&str>,
    confidence: f64,
) -> QueryResult<Fields> {
    let t = accepted_detail(conn, taxon_id).await?;
    let names = Taxa::common_names(conn, &[t.id]).await?;
    let distributions = Taxa::distributions(conn, t.id).await?;
    let source: Source = diesel::sql_query(
        "SELECT short_code::text AS short_code FROM taxonomy_sources WHERE id = $1",
    )
    .bind::<SqlUuid, _>(t.source_id)
    .get_result(conn)
    .await?;
    let own_confidence: f64 = t.confidence_score.parse().unwrap_or(0.0);
    Ok(Fields {
        common_name: common_name(given_name, &names, &t.scientific_name),
        kingdom: if t.kingdom.is_empty() {
            "Animalia".to_owned()
        } else {
            t.kingdom.clone()
        },
        phylum: t.phylum.clone(),
        class_name: t.class_name.clone(),
        order_name: t.order_name.clone(),
        family: t.family.clone(),
        subfamily: t.subfamily.clone(),
        genus: t.genus.clone(),
        species: if t.specific_epithet.is_empty() {
            t.species.clone()
        } else {
            t.specific_epithet.clone()
        },
        subspecies: t.infraspecific_epithet.clone(),
        native_regions: native_regions(&distributions),
        taxonomy_id: t.id,
        taxonomy_source: source.short_code,
        taxonomy_source_url: t.source_url.clone(),
        confidence: confidence.max(own_confidence).clamp(0.0, 9.99),
        conservation_status: conservation_status(&distributions, t.extinct),
        scientific_name: t.scientific_name,
    })
}

const SET_FIELDS: &str = "common_name = left($2, 200), kingdom = left($3, 100), \
    phylum = left($4, 100), class_name = left($5, 100), order_name = left($6, 100), \
    family = left($7, 100), subfamily = left($8, 100), genus = left($9, 100), \
    species = left($10, 100), subspecies = left($11, 100), native_regions = $12, \
    taxonomy_id = $13, taxonomy_source = left($14, 20), taxonomy_source_url = left($15, 200), \
    taxonomy_confidence = round($16::numeric, 2), conservation_status = $17, \
    verified = true, verification_method = 'taxonomy', last_verified_at = now()";

macro_rules! bind_fields {
    ($query:expr, $f:expr) => {
        $query
            .bind::<Text, _>(&$f.scientific_name)
            .bind::<Text, _>(&$f.common_name)
            .bind::<Text, _>(&$f.kingdom)
            .bind::<Text, _>(&$f.phylum)
            .bind::<Text, _>(&$f.class_name)
            .bind::<Text, _>(&$f.order_name)
            .bind::<Text, _>(&$f.family)
            .bind::<Text, _>(&$f.subfamily)
            .bind::<Text, _>(&$f.genus)
            .bind::<Text, _>(&$f.species)
            .bind::<Text, _>(&$f.subspecies)
            .bind::<Array<Text>, _>(&$f.native_regions)
            .bind::<SqlUuid, _>($f.taxonomy_id)
            .bind::<Text, _>(&$f.taxonomy_source)
            .bind::<Text, _>(&$f.taxonomy_source_url)
            .bind::<Double, _>($f.confidence)
            .bind::<Text, _>(&$f.conservation_status)
    };
}

/// The columns a taxonomic tree shows of an animal.
const TREE_COLUMNS: &str = "scientific_name, common_name, kingdom, phylum, class_name, \
    order_name, family, genus, species, conservation_status, verified";

/// Updates the animal of that name, saying whether anything a tree shows changed (the `old`
/// row is read before the update, in the same statement).
async fn update(conn: &mut AsyncPgConnection, f: &Fields) -> QueryResult<Option<UpdatedAnimal>> {
    let old_columns = TREE_COLUMNS
        .split(", ")
        .map(|c| format!("old.{c}"))
        .collect::<Vec<_>>()
        .join(", ");
    let new_columns = old_columns.replace("old.", "a.");
    let q = diesel::sql_query(format!(
        "WITH old AS (SELECT id, {TREE_COLUMNS} FROM animals \
             WHERE lower(scientific_name) = lower($1) FOR UPDATE) \
         UPDATE animals a SET scientific_name = $1, {SET_FIELDS} FROM old WHERE a.id = old.id \
         RETURNING a.id, ({new_columns}) IS DISTINCT FROM ({old_columns}) AS changed"
    ));
    bind_fields!(q, f).get_result(conn).await.optional()
}

/// Creates or updates the animal for a taxon (a synonym counts as its accepted name), keyed by
/// the accepted scientific name (case-insensitively). `common_name` wins over the taxonomy's
/// names; `confidence` (0–1) is kept when higher than the taxon's own.
pub async fn upsert_animal_from_taxon(
    conn: &mut AsyncPgConnection,
    taxon_id: Uuid,
    common_name: Option<&str>,
    confidence: f64,
) -> QueryResult<Upserted> {
    let f = fields(conn, taxon_id, common_name, confidence).await?;
    let updated = |u: UpdatedAnimal| Upserted {
        id: u.id,
        created: false,
        changed: u.changed,
    };
    conn.transaction(async |conn| {
        // Update first: an INSERT ... ON CONFLICT would burn a creation_index on every update.
        if let Some(u) = update(conn, &f).await? {
            return Ok(updated(u));
        }
        let q = diesel::sql_query(
            "INSERT INTO animals (scientific_name, common_name, kingdom, phylum, class_name, \
                 order_name, family, subfamily, genus, species, subspecies, native_regions, \
                 taxonomy_id, taxonomy_source, taxonomy_source_url, taxonomy_confidence, \
                 conservation_status, verified, verification_method, last_verified_at) \
             VALUES ($1, left($2, 200), left($3, 100), left($4, 100), left($5, 100), \
                 left($6, 100), left($7, 100), left($8, 100), left($9, 100), left($10, 100), \
                 left($11, 100), $12, $13, left($14, 20), left($15, 200), round($16::numeric, 2), \
                 $17, true, 'taxonomy', now()) \
             ON CONFLICT DO NOTHING RETURNING id",
        );
        let inserted: Option<AnimalId> = bind_fields!(q, f).get_result(conn).await.optional()?;
        match inserted {
            Some(r) => Ok(Upserted {
                id: r.id,
                created: true,
                changed: false,
            }),
            // Created concurrently: update that row instead.
            None => update(conn, &f)
                .await?
                .map(updated)
                .ok_or(diesel::result::Error::NotFound),
        }
    })
    .await
}
