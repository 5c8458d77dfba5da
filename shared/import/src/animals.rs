//! Old `animals` → `animals`: ids, `creation_index` (the public Pokédex number), names,
//! classification, verification and creator kept. The old soft link to its own (empty)
//! taxonomy table is dropped; `finish` links animals to the imported Catalogue of Life (which
//! bumps `updated_at`: later runs keep the newer of the two times).

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use diesel::sql_types::{Jsonb, Text, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use super::{
    phase::{Ctx, OldRow, Phase, Upserted, Written},
    report::Kind,
};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OldAnimal {
    pub id: Uuid,
    pub scientific_name: String,
    pub common_name: String,
    pub kingdom: String,
    pub phylum: String,
    pub class_name: String,
    pub order_name: String,
    pub family: String,
    pub subfamily: String,
    pub genus: String,
    pub species: String,
    pub native_regions: Vec<String>,
    pub establishment_means: String,
    pub taxonomy_source: String,
    pub taxonomy_source_url: String,
    pub taxonomy_confidence: Option<f64>,
    pub last_verified_at: Option<DateTime<Utc>>,
    pub verification_method: String,
    pub description: String,
    pub habitat: String,
    pub diet: String,
    pub conservation_status: String,
    pub interesting_facts: Value,
    pub creation_index: Option<i32>,
    pub created_by_id: Option<Uuid>,
    pub verified: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl OldRow for OldAnimal {
    fn key(&self) -> String {
        self.id.to_string()
    }
}

const STATUSES: [&str; 9] = ["EX", "EW", "CR", "EN", "VU", "NT", "LC", "DD", "NE"];
const METHODS: [&str; 4] = ["manual", "taxonomy", "cv", "user"];

#[derive(diesel::QueryableByName)]
struct Clash {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
    #[diesel(sql_type = Text)]
    reason: String,
}

pub struct Animals;

impl Phase for Animals {
    const KIND: Kind = Kind::Animals;
    type Old = OldAnimal;
    const FROM: &'static str = "animals";
    const COLUMNS: &'static str = "id, scientific_name, common_name, kingdom, phylum, \
        class AS class_name, \"order\" AS order_name, family, subfamily, genus, species, \
        native_regions, establishment_means, taxonomy_source, taxonomy_source_url, \
        taxonomy_confidence::float8 AS taxonomy_confidence, last_verified_at, \
        verification_method, description, habitat, diet, conservation_status, \
        interesting_facts, creation_index, created_by_id, verified, created_at, updated_at";

    async fn write(
        ctx: &Ctx<'_>,
        conn: &mut AsyncPgConnection,
        rows: &[OldAnimal],
    ) -> anyhow::Result<Written> {
        let mut out = Written::default();
        let mut names = HashSet::new();
        let mut valid = Vec::new();
        for row in rows {
            let name = row.scientific_name.trim();
            if name.is_empty() {
                out.reject(
                    conn,
                    ctx,
                    Self::KIND,
                    &row.old_id(),
                    "no scientific name",
                    row,
                )
                .await?;
                continue;
            }
            // Old names were unique with case; here they are unique without.
            if !names.insert(name.to_lowercase()) {
                let reason = "scientific name already used: by another old animal \
                              (differing only in case)";
                out.reject(conn, ctx, Self::KIND, &row.old_id(), reason, row)
                    .await?;
                continue;
            }
            let mut new = row.clone();
            new.scientific_name = name.to_owned();
            if !STATUSES.contains(&new.conservation_status.as_str()) {
                new.conservation_status = "NE".to_owned();
            }
            if !METHODS.contains(&new.verification_method.as_str()) {
                new.verification_method = "cv".to_owned();
            }
            if !new.interesting_facts.is_array() {
                new.interesting_facts = Value::Array(Vec::new());
            }
            valid.push(new);
        }
        let json = serde_json::to_value(&valid)?;
        let clashes: Vec<Clash> = diesel::sql_query(
            "SELECT r.id, CASE WHEN EXISTS (SELECT 1 FROM animals a \
                 WHERE lower(a.scientific_name) = lower(r.scientific_name) AND a.id <> r.id) \
               THEN 'scientific name already used: by another animal of this server' \
               ELSE 'creation_index already used: by another animal of this server' END \
               AS reason \
             FROM jsonb_to_recordset($1) AS r(id uuid, scientific_name text, creation_index int) \
             WHERE EXISTS (SELECT 1 FROM animals a WHERE a.id <> r.id AND \
                 (lower(a.scientific_name) = lower(r.scientific_name) \
                  OR a.creation_index = r.creation_index))",
        )
        .bind::<Jsonb, _>(&json)
        .load(conn)
        .await?;
        let mut keep = Vec::new();
        for row in valid {
            match clashes.iter().find(|c| c.id == row.id) {
                Some(c) => {
                    out.reject(conn, ctx, Self::KIND, &row.old_id(), &c.reason, &row)
                        .await?
                }
                None => keep.push(row),
            }
        }
        let ids: Vec<Uuid> = keep.iter().map(|r| r.id).collect();
        // A creator who was not imported becomes NULL, as the old ON DELETE SET NULL does.
        let written: Vec<Upserted> = diesel::sql_query(UPSERT)
            .bind::<Jsonb, _>(serde_json::to_value(&keep)?)
            .load(conn)
            .await?;
        out.upserted(ids, &written);
        Ok(out)
    }
}

const UPSERT: &str = "INSERT INTO animals AS a (id, scientific_name, common_name, kingdom, \
        phylum, class_name, order_name, family, subfamily, genus, species, native_regions, \
        establishment_means, taxonomy_source, taxonomy_source_url, taxonomy_confidence, \
        last_verified_at, verification_method, description, habitat, diet, \
        conservation_status, interesting_facts, creation_index, created_by_id, verified, \
        created_at, updated_at) \
    SELECT r.id, r.scientific_name, r.common_name, r.kingdom, r.phylum, r.class_name, \
        r.order_name, r.family, r.subfamily, r.genus, r.species, r.native_regions, \
        r.establishment_means, r.taxonomy_source, r.taxonomy_source_url, \
        round(r.taxonomy_confidence::numeric, 2), r.last_verified_at, r.verification_method, \
        r.description, r.habitat, r.diet, r.conservation_status, r.interesting_facts, \
        coalesce(r.creation_index, (SELECT x.creation_index FROM animals x WHERE x.id = r.id), \
                 nextval('animals_creation_index_seq')), \
        (SELECT u.id FROM users u WHERE u.id = r.created_by_id), r.verified, r.created_at, \
        r.updated_at \
    FROM jsonb_to_recordset($1) AS r(id uuid, scientific_name text, common_name text, \
        kingdom text, phylum text, class_name text, order_name text, family text, \
        subfamily text, genus text, species text, native_regions text[], \
        establishment_means text, taxonomy_source text, taxonomy_source_url text, \
        taxonomy_confidence float8, last_verified_at timestamptz, verification_method text, \
        description text, habitat text, diet text, conservation_status text, \
        interesting_facts jsonb, creation_index int, created_by_id uuid, verified bool, \
        created_at timestamptz, updated_at timestamptz) \
    ON CONFLICT (id) DO UPDATE SET scientific_name = EXCLUDED.scientific_name, \
        common_name = EXCLUDED.common_name, kingdom = EXCLUDED.kingdom, \
        phylum = EXCLUDED.phylum, class_name = EXCLUDED.class_name, \
        order_name = EXCLUDED.order_name, family = EXCLUDED.family, \
        subfamily = EXCLUDED.subfamily, genus = EXCLUDED.genus, species = EXCLUDED.species, \
        native_regions = EXCLUDED.native_regions, \
        establishment_means = EXCLUDED.establishment_means, \
        taxonomy_source = EXCLUDED.taxonomy_source, \
        taxonomy_source_url = EXCLUDED.taxonomy_source_url, \
        taxonomy_confidence = EXCLUDED.taxonomy_confidence, \
        last_verified_at = EXCLUDED.last_verified_at, \
        verification_method = EXCLUDED.verification_method, \
        description = EXCLUDED.description, habitat = EXCLUDED.habitat, diet = EXCLUDED.diet, \
        conservation_status = EXCLUDED.conservation_status, \
        interesting_facts = EXCLUDED.interesting_facts, \
        creation_index = EXCLUDED.creation_index, created_by_id = EXCLUDED.created_by_id, \
        verified = EXCLUDED.verified, created_at = EXCLUDED.created_at, \
        updated_at = greatest(a.updated_at, EXCLUDED.updated_at) \
    WHERE (a.scientific_name, a.common_name, a.kingdom, a.phylum, a.class_name, a.order_name, \
           a.family, a.subfamily, a.genus, a.species, a.native_regions, a.establishment_means, \
           a.verification_method, a.description, a.habitat, a.diet, a.conservation_status, \
           a.interesting_facts, a.creation_index, a.created_by_id, a.verified, a.created_at, \
           a.updated_at) \
        IS DISTINCT FROM (EXCLUDED.scientific_name, EXCLUDED.common_name, EXCLUDED.kingdom, \
           EXCLUDED.phylum, EXCLUDED.class_name, EXCLUDED.order_name, EXCLUDED.family, \
           EXCLUDED.subfamily, EXCLUDED.genus, EXCLUDED.species, EXCLUDED.native_regions, \
           EXCLUDED.establishment_means, EXCLUDED.verification_method, EXCLUDED.description, \
           EXCLUDED.habitat, EXCLUDED.diet, EXCLUDED.conservation_status, \
           EXCLUDED.interesting_facts, EXCLUDED.creation_index, EXCLUDED.created_by_id, \
           EXCLUDED.verified, EXCLUDED.created_at, \
           greatest(a.updated_at, EXCLUDED.updated_at)) \
    RETURNING a.id, (a.xmax = 0) AS inserted";
