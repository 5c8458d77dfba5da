//! The species catalogue. `creation_index` (the Pokédex number) comes from a sequence: unique
//! under concurrent creation and never reused after a delete.

use biologidex_core::error::Missing;
use biologidex_core::ids::{AnimalId, UserId};
use chrono::{DateTime, Utc};
use diesel::{pg::Pg, prelude::*};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde_json::Value;

use crate::schema::{animals, dex_entries, users};
use biologidex_core::{Error, error::unique_violation};

/// An animal row (the columns the API uses).
#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = animals)]
pub struct Animal {
    pub id: AnimalId,
    pub scientific_name: String,
    pub common_name: String,
    pub kingdom: String,
    pub phylum: String,
    pub class_name: String,
    pub order_name: String,
    pub family: String,
    pub genus: String,
    pub species: String,
    pub subspecies: String,
    pub description: String,
    pub habitat: String,
    pub diet: String,
    pub conservation_status: String,
    pub interesting_facts: Value,
    pub creation_index: i32,
    pub created_by_id: Option<UserId>,
    pub verified: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// An animal with its creator's username (one left join).
#[derive(Debug, Clone, Queryable, Selectable)]
pub struct AnimalView {
    #[diesel(embed)]
    pub animal: Animal,
    #[diesel(select_expression = users::username.nullable())]
    #[diesel(select_expression_type = diesel::dsl::Nullable<users::username>)]
    pub created_by_username: Option<String>,
}

/// IUCN codes accepted for `conservation_status`.
pub const CONSERVATION_STATUSES: &[&str] = &["EX", "EW", "CR", "EN", "VU", "NT", "LC", "DD", "NE"];

/// Fields of a new animal (defaults filled by the caller).
#[derive(Debug, Clone, Default, Insertable, AsChangeset)]
#[diesel(table_name = animals)]
pub struct AnimalFields {
    pub scientific_name: String,
    pub common_name: String,
    pub kingdom: String,
    pub phylum: String,
    pub class_name: String,
    pub order_name: String,
    pub family: String,
    pub genus: String,
    pub species: String,
    pub description: String,
    pub habitat: String,
    pub diet: String,
    pub conservation_status: String,
    pub interesting_facts: Value,
    pub verified: bool,
}

impl AnimalFields {
    /// The old model's save rule: a binomial fills an empty genus or species.
    pub fn derive_genus_species(&mut self) {
        if self.genus.is_empty() || self.species.is_empty() {
            let mut words = self.scientific_name.split_whitespace();
            if let (Some(g), Some(s)) = (words.next(), words.next()) {
                self.genus = g.to_owned();
                self.species = s.to_owned();
            }
        }
    }
}

/// Filters, search and ordering of the animal list.
#[derive(Debug, Clone, Default)]
pub struct AnimalQuery {
    pub conservation_status: Option<String>,
    pub verified: Option<bool>,
    pub kingdom: Option<String>,
    pub phylum: Option<String>,
    pub family: Option<String>,
    /// Every term must match one of the searched columns (case-insensitive substring).
    pub search: Vec<String>,
    /// (column, descending); columns: creation_index, created_at, scientific_name.
    pub ordering: Vec<(String, bool)>,
}

/// `%term%` for ILIKE, with the pattern characters escaped.
pub fn like_pattern(term: &str) -> String {
    let escaped = term
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

type Boxed<'a> = animals::BoxedQuery<'a, Pg>;

fn filtered(q: &AnimalQuery) -> Boxed<'_> {
    let mut query = animals::table.into_boxed();
    if let Some(v) = &q.conservation_status {
        query = query.filter(animals::conservation_status.eq(v));
    }
    if let Some(v) = q.verified {
        query = query.filter(animals::verified.eq(v));
    }
    if let Some(v) = &q.kingdom {
        query = query.filter(animals::kingdom.eq(v));
    }
    if let Some(v) = &q.phylum {
        query = query.filter(animals::phylum.eq(v));
    }
    if let Some(v) = &q.family {
        query = query.filter(animals::family.eq(v));
    }
    for term in &q.search {
        let p = like_pattern(term);
        query = query.filter(
            animals::scientific_name
                .ilike(p.clone())
                .or(animals::common_name.ilike(p.clone()))
                .or(animals::genus.ilike(p.clone()))
                .or(animals::species.ilike(p)),
        );
    }
    query
}

fn map_conflict(e: diesel::result::Error) -> Error {
    match unique_violation(&e) {
        Some("animals_scientific_name_key" | "animals_scientific_name_lower_key") => Error::field(
            "scientific_name",
            "animal with this scientific name already exists.",
        ),
        _ => e.into(),
    }
}

impl Animal {
    /// How many animals match.
    pub async fn count(conn: &mut AsyncPgConnection, q: &AnimalQuery) -> QueryResult<i64> {
        filtered(q).count().get_result(conn).await
    }

    /// One page of matching animals with their creators, and how many match in all (one
    /// statement; the total is `None` when the page is empty).
    pub async fn list(
        conn: &mut AsyncPgConnection,
        q: &AnimalQuery,
        offset: i64,
        limit: i64,
    ) -> QueryResult<(Vec<AnimalView>, Option<i64>)> {
        let total = filtered(q).count().single_value();
        let mut query = filtered(q)
            .left_join(users::table.on(users::id.nullable().eq(animals::created_by_id)))
            .select((AnimalView::as_select(), total));
        if q.ordering.is_empty() {
            query = query.order(animals::creation_index.asc());
        }
        for (col, desc) in &q.ordering {
            query = match (col.as_str(), desc) {
                ("created_at", false) => query.then_order_by(animals::created_at.asc()),
                ("created_at", true) => query.then_order_by(animals::created_at.desc()),
                ("scientific_name", false) => query.then_order_by(animals::scientific_name.asc()),
                ("scientific_name", true) => query.then_order_by(animals::scientific_name.desc()),
                ("creation_index", true) => query.then_order_by(animals::creation_index.desc()),
                _ => query.then_order_by(animals::creation_index.asc()),
            };
        }
        let rows: Vec<(AnimalView, Option<i64>)> = query
            .then_order_by(animals::id)
            .offset(offset)
            .limit(limit)
            .load(conn)
            .await?;
        Ok(crate::models::with_total(rows))
    }

    /// One animal with its creator.
    pub async fn find(
        conn: &mut AsyncPgConnection,
        id: AnimalId,
    ) -> QueryResult<Option<AnimalView>> {
        animals::table
            .left_join(users::table.on(users::id.nullable().eq(animals::created_by_id)))
            .filter(animals::id.eq(id))
            .select(AnimalView::as_select())
            .first(conn)
            .await
            .optional()
    }

    /// Case-insensitive lookup by scientific name.
    pub async fn find_by_name(
        conn: &mut AsyncPgConnection,
        name: &str,
    ) -> QueryResult<Option<AnimalView>> {
        animals::table
            .left_join(users::table.on(users::id.nullable().eq(animals::created_by_id)))
            .filter(
                diesel::dsl::sql::<diesel::sql_types::Bool>(
                    "lower(animals.scientific_name) = lower(",
                )
                .bind::<diesel::sql_types::Text, _>(name)
                .sql(")"),
            )
            .select(AnimalView::as_select())
            .first(conn)
            .await
            .optional()
    }

    /// Distinct users owning at least one entry of this animal.
    pub async fn discovery_count(conn: &mut AsyncPgConnection, id: AnimalId) -> QueryResult<i64> {
        use diesel::expression_methods::AggregateExpressionMethods;
        dex_entries::table
            .filter(dex_entries::animal_id.eq(id))
            .select(diesel::dsl::count(dex_entries::owner_id).aggregate_distinct())
            .first(conn)
            .await
    }

    /// Creates an animal; a taken scientific name (any case) is a field error.
    pub async fn create(
        conn: &mut AsyncPgConnection,
        fields: AnimalFields,
        creator: Option<UserId>,
    ) -> Result<Animal, Error> {
        diesel::insert_into(animals::table)
            .values((fields, animals::created_by_id.eq(creator)))
            .returning(Animal::as_returning())
            .get_result(conn)
            .await
            .map_err(map_conflict)
    }

    /// Returns the animal with this scientific name (any case), creating it if needed; safe
    /// when two callers race (the loser gets the winner's row).
    pub async fn lookup_or_create(
        conn: &mut AsyncPgConnection,
        fields: AnimalFields,
        creator: Option<UserId>,
    ) -> Result<(AnimalView, bool), Error> {
        if let Some(found) = Self::find_by_name(conn, &fields.scientific_name).await? {
            return Ok((found, false));
        }
        let name = fields.scientific_name.clone();
        let inserted: Option<AnimalId> = diesel::insert_into(animals::table)
            .values((fields, animals::created_by_id.eq(creator)))
            .on_conflict_do_nothing()
            .returning(animals::id)
            .get_result(conn)
            .await
            .optional()?;
        let view = match inserted {
            Some(id) => Self::find(conn, id).await?,
            None => Self::find_by_name(conn, &name).await?,
        };
        Ok((
            view.ok_or(Error::NotFound(Missing::Animal))?,
            inserted.is_some(),
        ))
    }

    /// The animal for a vision detection: an existing one by scientific name (any case), or a
    /// new unverified one credited to `user` (common name defaulting to the scientific name).
    pub async fn for_detection(
        conn: &mut AsyncPgConnection,
        scientific_name: &str,
        common_name: &str,
        user: UserId,
    ) -> Result<(AnimalView, bool), Error> {
        let name: String = scientific_name
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        let mut fields = AnimalFields {
            common_name: if common_name.trim().is_empty() {
                name.clone()
            } else {
                common_name.trim().to_owned()
            },
            scientific_name: name,
            kingdom: "Animalia".to_owned(),
            conservation_status: "NE".to_owned(),
            interesting_facts: Value::Array(vec![]),
            ..AnimalFields::default()
        };
        fields.derive_genus_species();
        let mut words = fields.scientific_name.split_whitespace().skip(2);
        let subspecies = words.next().map(str::to_owned);
        let (view, created) = Self::lookup_or_create(conn, fields, Some(user)).await?;
        if created && let Some(sub) = subspecies {
            diesel::update(animals::table.find(view.animal.id))
                .set(animals::subspecies.eq(sub))
                .execute(conn)
                .await?;
        }
        Ok((view, created))
    }

    /// Overwrites the editable fields; returns the fresh row.
    pub async fn update(
        conn: &mut AsyncPgConnection,
        id: AnimalId,
        fields: AnimalFields,
    ) -> Result<Option<AnimalView>, Error> {
        let n = diesel::update(animals::table.find(id))
            .set(fields)
            .execute(conn)
            .await
            .map_err(map_conflict)?;
        if n == 0 {
            return Ok(None);
        }
        Ok(Self::find(conn, id).await?)
    }

    /// Deletes an animal (its entries cascade). Its number is never reused.
    pub async fn delete(conn: &mut AsyncPgConnection, id: AnimalId) -> QueryResult<usize> {
        diesel::delete(animals::table.find(id)).execute(conn).await
    }

    /// The newest animals.
    pub async fn recent(conn: &mut AsyncPgConnection, limit: i64) -> QueryResult<Vec<AnimalView>> {
        animals::table
            .left_join(users::table.on(users::id.nullable().eq(animals::created_by_id)))
            .order((animals::created_at.desc(), animals::id))
            .limit(limit)
            .select(AnimalView::as_select())
            .load(conn)
            .await
    }

    /// The most caught animals with their catch counts.
    pub async fn popular(
        conn: &mut AsyncPgConnection,
        limit: i64,
    ) -> QueryResult<Vec<(AnimalView, i64)>> {
        let top: Vec<(AnimalId, i64)> = dex_entries::table
            .group_by(dex_entries::animal_id)
            .select((dex_entries::animal_id, diesel::dsl::count_star()))
            .order((diesel::dsl::count_star().desc(), dex_entries::animal_id))
            .limit(limit)
            .load(conn)
            .await?;
        let ids: Vec<AnimalId> = top.iter().map(|(id, _)| *id).collect();
        let mut views: Vec<AnimalView> = animals::table
            .left_join(users::table.on(users::id.nullable().eq(animals::created_by_id)))
            .filter(animals::id.eq_any(&ids))
            .select(AnimalView::as_select())
            .load(conn)
            .await?;
        Ok(top
            .into_iter()
            .filter_map(|(id, n)| {
                let at = views.iter().position(|v| v.animal.id == id)?;
                Some((views.swap_remove(at), n))
            })
            .collect())
    }
}
