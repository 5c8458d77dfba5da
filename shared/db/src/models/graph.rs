//! The taxonomic tree's data: the animals and capture facts of a scope, in two queries
//! whatever the number of users or animals, with the dex visibility rules applied in SQL
//! (and checked again against [`Viewer::may_see`] before anything leaves this module).
//!
//! Scopes (the viewer's own entries are always all included):
//! - `Personal`: the viewer's entries;
//! - `Friends`: plus the friends-only and public entries of the viewer's accepted friends;
//! - `Selected`: the same, restricted to the given ids that are real friends (others dropped);
//! - `Global` (staff): every entry the viewer may see — own, friends' friends-only and
//!   public, and anyone's public entries — never a blocked user's.

use biologidex_core::ids::{AnimalId, UserId};
use chrono::{DateTime, Utc};
use diesel::{expression_methods::AggregateExpressionMethods, prelude::*};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::dex::{Viewer, visible};
use crate::schema::{animals, dex_entries, users};

/// Which users' entries a tree shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TreeScope {
    Personal,
    Friends,
    /// Friend ids asked for (non-friends are dropped).
    Selected(Vec<UserId>),
    Global,
}

impl TreeScope {
    /// The owners whose entries are in scope (the viewer first, then friends in id order);
    /// `None` for every user.
    pub fn owners(&self, viewer: &Viewer) -> Option<Vec<UserId>> {
        let mut friends: Vec<UserId> = match self {
            TreeScope::Global => return None,
            TreeScope::Personal => Vec::new(),
            TreeScope::Friends => viewer.friends.clone(),
            TreeScope::Selected(ids) => viewer
                .friends
                .iter()
                .copied()
                .filter(|f| ids.contains(f))
                .collect(),
        };
        friends.retain(|f| *f != viewer.id && !viewer.blocked.contains(f));
        friends.sort_unstable();
        friends.dedup();
        friends.insert(0, viewer.id);
        Some(friends)
    }
}

/// An animal of the tree, with its creator's name.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = animals)]
pub struct TreeAnimalRow {
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
    pub conservation_status: String,
    pub creation_index: i32,
    pub verified: bool,
    pub created_by_id: Option<UserId>,
    #[diesel(select_expression = users::username.nullable())]
    #[diesel(select_expression_type = diesel::dsl::Nullable<users::username>)]
    pub created_by_username: Option<String>,
}

impl TreeAnimalRow {
    /// kingdom … species, in rank order.
    pub fn ranks(&self) -> [&str; 7] {
        [
            &self.kingdom,
            &self.phylum,
            &self.class_name,
            &self.order_name,
            &self.family,
            &self.genus,
            &self.species,
        ]
    }
}

/// One visible dex entry in scope: who caught what, when.
#[derive(Debug, Clone, Queryable)]
pub struct Capture {
    pub animal_id: AnimalId,
    pub owner_id: UserId,
    pub owner_username: String,
    pub created_at: DateTime<Utc>,
    pub catch_date: DateTime<Utc>,
    pub visibility: crate::models::dex::Visibility,
}

/// Everything a tree is drawn from.
#[derive(Debug, Clone, Default)]
pub struct TreeData {
    /// By creation index.
    pub animals: Vec<TreeAnimalRow>,
    /// By animal id, then newest catch first.
    pub captures: Vec<Capture>,
}

/// Loads a scope's animals and captures: two queries.
pub async fn load_tree_data(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    scope: &TreeScope,
) -> QueryResult<TreeData> {
    let mut query = dex_entries::table
        .inner_join(users::table)
        .filter(visible(viewer))
        .select((
            dex_entries::animal_id,
            dex_entries::owner_id,
            users::username,
            dex_entries::created_at,
            dex_entries::catch_date,
            dex_entries::visibility,
        ))
        .order((
            dex_entries::animal_id,
            dex_entries::catch_date.desc(),
            dex_entries::id,
        ))
        .into_boxed();
    if let Some(owners) = scope.owners(viewer) {
        query = query.filter(dex_entries::owner_id.eq_any(owners));
    }
    let mut captures: Vec<Capture> = query.load(conn).await?;
    // Defence in depth: nothing the viewer may not see goes further.
    captures.retain(|c| viewer.may_see(c.owner_id, c.visibility));
    if captures.is_empty() {
        return Ok(TreeData::default());
    }
    let mut ids: Vec<AnimalId> = captures.iter().map(|c| c.animal_id).collect();
    ids.dedup();
    let animals: Vec<TreeAnimalRow> = animals::table
        .left_join(users::table.on(users::id.nullable().eq(animals::created_by_id)))
        .filter(animals::id.eq_any(ids))
        .order((animals::creation_index, animals::id))
        .select(TreeAnimalRow::as_select())
        .load(conn)
        .await?;
    Ok(TreeData { animals, captures })
}

/// Distinct animals among the entries of each of `owners` that `viewer` may see (one query).
pub async fn visible_species_counts(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    owners: &[UserId],
) -> QueryResult<Vec<(UserId, i64)>> {
    dex_entries::table
        .filter(visible(viewer))
        .filter(dex_entries::owner_id.eq_any(owners))
        .group_by(dex_entries::owner_id)
        .select((
            dex_entries::owner_id,
            diesel::dsl::count(dex_entries::animal_id).aggregate_distinct(),
        ))
        .load(conn)
        .await
}
