//! Old `friendships` → one row per pair. The old server kept one row per direction, so a pair
//! may have two rows (a rejected request and a later one the other way; a blocked row beside
//! an accepted one). They collapse to one: a block wins over everything (the blocked row points
//! from the blocked user to the blocker, as the old `to_user` blocked it), then an accepted
//! friendship, then a pending request, then a rejection; among rows of the same state the
//! latest one. The admin auto-friendships the old server made are imported like the others.

use chrono::{DateTime, Utc};
use diesel::sql_types::{Array, Jsonb, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{
    phase::{Ctx, OldRow, Phase, Upserted, Written},
    report::Kind,
};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OldFriendship {
    pub id: Uuid,
    pub status: String,
    pub from_user_id: Uuid,
    pub to_user_id: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Every old row of one pair of users.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OldPair {
    pub key: String,
    pub rows: Vec<OldFriendship>,
}

impl OldRow for OldPair {
    fn key(&self) -> String {
        self.key.clone()
    }

    /// Every old row of the pair.
    fn old_id(&self) -> String {
        self.rows
            .iter()
            .map(|r| r.id.to_string())
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// How strongly a state decides the pair; None for a status this server does not know.
fn precedence(status: &str) -> Option<u8> {
    match status {
        "blocked" => Some(4),
        "accepted" => Some(3),
        "pending" => Some(2),
        "rejected" => Some(1),
        _ => None,
    }
}

/// The one row a pair becomes, or why it cannot be imported.
pub fn collapse(rows: &[OldFriendship]) -> Result<&OldFriendship, &'static str> {
    if rows.iter().any(|r| r.from_user_id == r.to_user_id) {
        return Err("a user befriending themself");
    }
    if rows.iter().any(|r| precedence(&r.status).is_none()) {
        return Err("unknown friendship status");
    }
    rows.iter()
        .max_by_key(|r| (precedence(&r.status), r.updated_at, r.id))
        .ok_or("no rows")
}

pub struct Friendships;

impl Phase for Friendships {
    const KIND: Kind = Kind::Friendships;
    type Old = OldPair;
    /// Pairs, as they are imported; the batch query is its own (rows grouped by pair).
    const FROM: &'static str = "friendships";
    const COLUMNS: &'static str = "";
    const START: &'static str =
        "00000000-0000-0000-0000-000000000000,00000000-0000-0000-0000-000000000000";

    fn count_sql() -> String {
        "SELECT count(DISTINCT (least(from_user_id, to_user_id), \
             greatest(from_user_id, to_user_id))) AS n FROM friendships"
            .to_owned()
    }

    fn batch_sql() -> String {
        "SELECT coalesce(jsonb_agg(p ORDER BY p.lo, p.hi), '[]')::text AS batch \
         FROM (SELECT lo, hi, lo::text || ',' || hi::text AS key, \
               jsonb_agg(jsonb_build_object('id', id, 'status', status, \
                   'from_user_id', from_user_id, 'to_user_id', to_user_id, \
                   'created_at', created_at, 'updated_at', updated_at) ORDER BY id) AS rows \
               FROM (SELECT f.*, least(from_user_id, to_user_id) AS lo, \
                     greatest(from_user_id, to_user_id) AS hi FROM friendships f) f \
               WHERE (lo, hi) > (split_part($1, ',', 1)::uuid, split_part($1, ',', 2)::uuid) \
               GROUP BY lo, hi ORDER BY lo, hi LIMIT $2) p"
            .to_owned()
    }

    async fn write(
        ctx: &Ctx<'_>,
        conn: &mut AsyncPgConnection,
        rows: &[OldPair],
    ) -> anyhow::Result<Written> {
        let mut out = Written::default();
        let users: Vec<Uuid> = rows
            .iter()
            .flat_map(|p| p.rows.iter().flat_map(|r| [r.from_user_id, r.to_user_id]))
            .collect();
        let present: Vec<Uuid> = diesel::sql_query("SELECT id FROM users WHERE id = ANY($1)")
            .bind::<Array<SqlUuid>, _>(&users)
            .load::<Id>(conn)
            .await?
            .into_iter()
            .map(|r| r.id)
            .collect();
        let mut keep = Vec::new();
        for pair in rows {
            let chosen = match collapse(&pair.rows) {
                Ok(c) => c,
                Err(why) => {
                    out.reject(conn, ctx, Self::KIND, &pair.old_id(), why, pair)
                        .await?;
                    continue;
                }
            };
            if !present.contains(&chosen.from_user_id) || !present.contains(&chosen.to_user_id) {
                let reason = "user not imported: one of the pair was kept aside";
                out.reject(conn, ctx, Self::KIND, &pair.old_id(), reason, pair)
                    .await?;
                continue;
            }
            keep.push(chosen.clone());
        }
        let ids: Vec<Uuid> = keep.iter().map(|r| r.id).collect();
        let json = serde_json::to_value(&keep)?;
        // The pair's state may now come from its other old row: that replaces the one here.
        let replaced: Vec<Id> = diesel::sql_query(
            "DELETE FROM friendships f USING jsonb_to_recordset($1) AS r(id uuid, \
                 from_user_id uuid, to_user_id uuid) \
             WHERE least(f.from_user_id, f.to_user_id) = least(r.from_user_id, r.to_user_id) \
               AND greatest(f.from_user_id, f.to_user_id) \
                   = greatest(r.from_user_id, r.to_user_id) \
               AND f.id <> r.id RETURNING r.id",
        )
        .bind::<Jsonb, _>(&json)
        .load(conn)
        .await?;
        let mut written: Vec<Upserted> = diesel::sql_query(UPSERT)
            .bind::<Jsonb, _>(&json)
            .load(conn)
            .await?;
        for r in replaced {
            if let Some(w) = written.iter_mut().find(|w| w.id == r.id) {
                w.inserted = false;
            }
        }
        out.upserted(ids, &written);
        Ok(out)
    }
}

#[derive(diesel::QueryableByName)]
struct Id {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
}

const UPSERT: &str = "INSERT INTO friendships AS f (id, from_user_id, to_user_id, status, \
        created_at, updated_at) \
    SELECT id, from_user_id, to_user_id, status, created_at, updated_at \
    FROM jsonb_to_recordset($1) AS r(id uuid, from_user_id uuid, to_user_id uuid, status text, \
        created_at timestamptz, updated_at timestamptz) \
    ON CONFLICT (id) DO UPDATE SET from_user_id = EXCLUDED.from_user_id, \
        to_user_id = EXCLUDED.to_user_id, status = EXCLUDED.status, \
        created_at = EXCLUDED.created_at, updated_at = EXCLUDED.updated_at \
    WHERE (f.from_user_id, f.to_user_id, f.status, f.created_at, f.updated_at) \
        IS DISTINCT FROM (EXCLUDED.from_user_id, EXCLUDED.to_user_id, EXCLUDED.status, \
                          EXCLUDED.created_at, EXCLUDED.updated_at) \
    RETURNING f.id, (f.xmax = 0) AS inserted";

#[cfg(test)]
mod tests {
    use super::*;

    fn row(status: &str, from: u128, to: u128, minute: u32) -> OldFriendship {
        OldFriendship {
            id: Uuid::from_u128(u128::from(minute) + 100),
            status: status.to_owned(),
            from_user_id: Uuid::from_u128(from),
            to_user_id: Uuid::from_u128(to),
            created_at: DateTime::from_timestamp(i64::from(minute) * 60, 0).unwrap_or_default(),
            updated_at: DateTime::from_timestamp(i64::from(minute) * 60, 0).unwrap_or_default(),
        }
    }

    #[test]
    fn a_block_wins_then_accepted_then_pending_then_rejected() {
        // heidi → dave blocked (dave blocked it) beside dave → heidi accepted, newer.
        let blocked = row("blocked", 1, 2, 1);
        let accepted = row("accepted", 2, 1, 5);
        assert_eq!(collapse(&[accepted.clone(), blocked.clone()]), Ok(&blocked));
        // carol → ivan pending beside ivan → carol rejected.
        let rejected = row("rejected", 3, 4, 1);
        let pending = row("pending", 4, 3, 2);
        assert_eq!(collapse(&[rejected.clone(), pending.clone()]), Ok(&pending));
        assert_eq!(collapse(std::slice::from_ref(&accepted)), Ok(&accepted));
        // Two rejections: the latest.
        let later = row("rejected", 4, 3, 9);
        assert_eq!(collapse(&[rejected, later.clone()]), Ok(&later));
    }

    #[test]
    fn self_friendships_and_unknown_states_are_refused() {
        assert!(collapse(&[row("accepted", 1, 1, 1)]).is_err());
        assert!(collapse(&[row("muted", 1, 2, 1)]).is_err());
    }
}
