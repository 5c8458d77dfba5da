//! Old `users` + `user_profiles` → `users` + `user_profiles`. Ids, password hashes (Django's
//! `pbkdf2_sha256$…` logs in and is upgraded on first login), flags, dates and friend codes
//! are kept; avatars are copied; the profile counters are recomputed at the end, not copied.

use std::collections::{BTreeSet, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
use diesel::sql_types::{Bool, Jsonb, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use super::{
    media::Purpose,
    phase::{Ctx, OldRow, Phase, Upserted, Written},
    report::Kind,
};
use biologidex_core::domain::{email, username};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OldUser {
    pub id: Uuid,
    pub password: String,
    pub last_login: Option<DateTime<Utc>>,
    pub is_superuser: bool,
    pub username: String,
    pub first_name: String,
    pub last_name: String,
    pub is_staff: bool,
    pub is_active: bool,
    pub date_joined: DateTime<Utc>,
    pub email: String,
    pub friend_code: String,
    pub bio: String,
    pub avatar: String,
    pub badges: Value,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub preferred_card_style: Value,
    pub join_date: Option<NaiveDate>,
}

impl OldRow for OldUser {
    fn key(&self) -> String {
        self.id.to_string()
    }
}

/// A user as written here.
#[derive(Debug, Serialize)]
struct NewRow<'a> {
    id: Uuid,
    username: String,
    email: String,
    password_hash: &'a str,
    is_active: bool,
    is_staff: bool,
    is_superuser: bool,
    first_name: &'a str,
    last_name: &'a str,
    friend_code: String,
    bio: &'a str,
    avatar: Option<String>,
    badges: Value,
    last_login: Option<DateTime<Utc>>,
    date_joined: DateTime<Utc>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    preferred_card_style: Value,
    join_date: NaiveDate,
}

#[derive(diesel::QueryableByName)]
struct Taken {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
    #[diesel(sql_type = Bool)]
    username: bool,
    #[diesel(sql_type = Bool)]
    email: bool,
    #[diesel(sql_type = Bool)]
    friend_code: bool,
}

/// Old friend codes are `A–Z0–9`; anything else gets a new code.
fn usable_code(code: &str) -> bool {
    code.len() == 8 && code.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// The code given to a user whose old code is malformed or taken here: derived from the id, so
/// every later run gives the same one.
fn code_from_id(id: Uuid) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    id.as_bytes()[8..]
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(b % 32)]))
        .collect()
}

pub struct Users;

impl Phase for Users {
    const KIND: Kind = Kind::Users;
    type Old = OldUser;
    const FROM: &'static str = "users u LEFT JOIN user_profiles p ON p.user_id = u.id";
    const KEY: &'static str = "u.id";
    const COLUMNS: &'static str = "u.id, u.password, u.last_login, u.is_superuser, \
        u.username, u.first_name, u.last_name, u.is_staff, u.is_active, u.date_joined, u.email, \
        u.friend_code, u.bio, coalesce(u.avatar, '') AS avatar, u.badges, u.created_at, \
        u.updated_at, coalesce(p.preferred_card_style, '{}'::jsonb) AS preferred_card_style, \
        p.join_date";

    async fn write(
        ctx: &Ctx<'_>,
        conn: &mut AsyncPgConnection,
        rows: &[OldUser],
    ) -> anyhow::Result<Written> {
        let mut out = Written::default();
        let mut valid = Vec::new();
        let mut emails = HashSet::new();
        for row in rows {
            let name = match username::parse(&row.username) {
                Ok(n) => n,
                Err(why) => {
                    let reason = format!("username refused by this server: {}", why.join(" "));
                    out.reject(conn, ctx, Self::KIND, &row.old_id(), &reason, row)
                        .await?;
                    continue;
                }
            };
            let mail = match email::parse(&row.email) {
                Ok(m) => m,
                Err(why) => {
                    let reason = format!("email refused by this server: {}", why.join(" "));
                    out.reject(conn, ctx, Self::KIND, &row.old_id(), &reason, row)
                        .await?;
                    continue;
                }
            };
            // Old emails were unique with case; here they are unique without.
            if !emails.insert(mail.to_lowercase()) {
                let reason = "email already used: by another old user (differing only in case)";
                out.reject(conn, ctx, Self::KIND, &row.old_id(), reason, row)
                    .await?;
                continue;
            }
            valid.push((row, name, mail));
        }
        let probe: Vec<Value> = valid
            .iter()
            .map(|(r, name, mail)| {
                serde_json::json!({"id": r.id, "username": name, "email": mail,
                    "friend_code": r.friend_code})
            })
            .collect();
        let taken: Vec<Taken> = diesel::sql_query(
            "SELECT r.id, \
               EXISTS (SELECT 1 FROM users u WHERE u.username = r.username AND u.id <> r.id) \
                 AS username, \
               EXISTS (SELECT 1 FROM users u WHERE lower(u.email) = lower(r.email) \
                 AND u.id <> r.id) AS email, \
               EXISTS (SELECT 1 FROM users u WHERE upper(u.friend_code) = upper(r.friend_code) \
                 AND u.id <> r.id) AS friend_code \
             FROM jsonb_to_recordset($1) AS r(id uuid, username text, email text, \
                  friend_code text)",
        )
        .bind::<Jsonb, _>(Value::Array(probe))
        .load(conn)
        .await?;
        let avatars: BTreeSet<String> = valid
            .iter()
            .filter(|(r, ..)| !r.avatar.is_empty())
            .map(|(r, ..)| r.avatar.clone())
            .collect();
        let stored = ctx
            .media
            .resolve(conn, &avatars, Purpose::Avatar, &mut out.media)
            .await?;
        let mut new_rows = Vec::new();
        for (row, name, mail) in valid {
            let clash = taken.iter().find(|t| t.id == row.id);
            if let Some(t) = clash.filter(|t| t.username || t.email) {
                let what = if t.username { "username" } else { "email" };
                let reason = format!("{what} already used: by another user of this server");
                out.reject(conn, ctx, Self::KIND, &row.old_id(), &reason, row)
                    .await?;
                continue;
            }
            let code = if usable_code(&row.friend_code) && !clash.is_some_and(|t| t.friend_code) {
                row.friend_code.clone()
            } else {
                code_from_id(row.id)
            };
            new_rows.push(NewRow {
                id: row.id,
                username: name,
                email: mail,
                password_hash: &row.password,
                is_active: row.is_active,
                is_staff: row.is_staff,
                is_superuser: row.is_superuser,
                first_name: &row.first_name,
                last_name: &row.last_name,
                friend_code: code,
                bio: &row.bio,
                avatar: stored.get(&row.avatar).map(|s| s.key.clone()),
                badges: if row.badges.is_array() {
                    row.badges.clone()
                } else {
                    Value::Array(Vec::new())
                },
                last_login: row.last_login,
                date_joined: row.date_joined,
                created_at: row.created_at,
                updated_at: row.updated_at,
                preferred_card_style: if row.preferred_card_style.is_object() {
                    row.preferred_card_style.clone()
                } else {
                    Value::Object(Default::default())
                },
                join_date: row.join_date.unwrap_or(row.date_joined.date_naive()),
            });
        }
        let ids: Vec<Uuid> = new_rows.iter().map(|r| r.id).collect();
        let json = serde_json::to_value(&new_rows)?;
        let mut written: Vec<Upserted> = diesel::sql_query(UPSERT_USERS)
            .bind::<Jsonb, _>(&json)
            .load(conn)
            .await?;
        let profiles: Vec<Upserted> = diesel::sql_query(UPSERT_PROFILES)
            .bind::<Jsonb, _>(&json)
            .load(conn)
            .await?;
        // A user whose only change is in the profile counts as updated once.
        for p in profiles {
            if !written.iter().any(|w| w.id == p.id) {
                written.push(Upserted {
                    id: p.id,
                    inserted: false,
                });
            }
        }
        diesel::sql_query(
            "INSERT INTO django_import_passwords (user_id, old_hash) \
             SELECT id, password_hash FROM jsonb_to_recordset($1) AS r(id uuid, \
                 password_hash text) \
             ON CONFLICT (user_id) DO UPDATE SET old_hash = EXCLUDED.old_hash",
        )
        .bind::<Jsonb, _>(&json)
        .execute(conn)
        .await?;
        out.upserted(ids, &written);
        Ok(out)
    }
}

const UPSERT_USERS: &str = "INSERT INTO users AS u (id, username, email, password_hash, \
        is_active, is_staff, is_superuser, first_name, last_name, friend_code, bio, avatar, \
        badges, last_login, date_joined, created_at, updated_at) \
    SELECT r.id, r.username, r.email, \
        CASE WHEN p.old_hash = r.password_hash THEN x.password_hash ELSE r.password_hash END, \
        r.is_active, r.is_staff, r.is_superuser, r.first_name, r.last_name, r.friend_code, \
        r.bio, r.avatar, r.badges, r.last_login, r.date_joined, r.created_at, r.updated_at \
    FROM jsonb_to_recordset($1) AS r(id uuid, username text, email text, password_hash text, \
        is_active bool, is_staff bool, is_superuser bool, first_name text, last_name text, \
        friend_code text, bio text, avatar text, badges jsonb, last_login timestamptz, \
        date_joined timestamptz, created_at timestamptz, updated_at timestamptz) \
    LEFT JOIN django_import_passwords p ON p.user_id = r.id \
    LEFT JOIN users x ON x.id = r.id \
    ON CONFLICT (id) DO UPDATE SET username = EXCLUDED.username, email = EXCLUDED.email, \
        password_hash = EXCLUDED.password_hash, is_active = EXCLUDED.is_active, \
        is_staff = EXCLUDED.is_staff, is_superuser = EXCLUDED.is_superuser, \
        first_name = EXCLUDED.first_name, last_name = EXCLUDED.last_name, \
        friend_code = EXCLUDED.friend_code, bio = EXCLUDED.bio, avatar = EXCLUDED.avatar, \
        badges = EXCLUDED.badges, last_login = greatest(u.last_login, EXCLUDED.last_login), \
        date_joined = EXCLUDED.date_joined, created_at = EXCLUDED.created_at, \
        updated_at = greatest(u.updated_at, EXCLUDED.updated_at), \
        tokens_valid_after = CASE WHEN u.is_active AND NOT EXCLUDED.is_active THEN now() \
                                  ELSE u.tokens_valid_after END \
    WHERE (u.username, u.email, u.password_hash, u.is_active, u.is_staff, u.is_superuser, \
           u.friend_code, u.first_name, u.last_name, u.bio, u.avatar, u.badges, u.last_login, u.date_joined, \
           u.created_at, u.updated_at) \
        IS DISTINCT FROM (EXCLUDED.username, EXCLUDED.email, EXCLUDED.password_hash, \
           EXCLUDED.is_active, EXCLUDED.is_staff, EXCLUDED.is_superuser, EXCLUDED.friend_code, \
           EXCLUDED.first_name, \
           EXCLUDED.last_name, EXCLUDED.bio, EXCLUDED.avatar, EXCLUDED.badges, \
           greatest(u.last_login, EXCLUDED.last_login), EXCLUDED.date_joined, \
           EXCLUDED.created_at, greatest(u.updated_at, EXCLUDED.updated_at)) \
    RETURNING u.id, (u.xmax = 0) AS inserted";

const UPSERT_PROFILES: &str = "INSERT INTO user_profiles AS p (user_id, preferred_card_style, \
        join_date) \
    SELECT id, preferred_card_style, join_date \
    FROM jsonb_to_recordset($1) AS r(id uuid, preferred_card_style jsonb, join_date date) \
    ON CONFLICT (user_id) DO UPDATE SET preferred_card_style = EXCLUDED.preferred_card_style, \
        join_date = EXCLUDED.join_date \
    WHERE (p.preferred_card_style, p.join_date) \
        IS DISTINCT FROM (EXCLUDED.preferred_card_style, EXCLUDED.join_date) \
    RETURNING p.user_id AS id, (p.xmax = 0) AS inserted";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn friend_codes_are_kept_when_usable_and_derived_otherwise() {
        assert!(usable_code("I6NCML1J"));
        assert!(!usable_code("short"));
        assert!(!usable_code("ÄÖÜ12345"));
        let id = Uuid::new_v4();
        let code = code_from_id(id);
        assert_eq!(code, code_from_id(id));
        assert!(usable_code(&code));
    }
}
