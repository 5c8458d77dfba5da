//! Users and their profile counters.

use biologidex_core::error::Missing;
use biologidex_core::ids::UserId;
use chrono::{DateTime, NaiveDate, Utc};
use diesel::{expression_methods::AggregateExpressionMethods, prelude::*};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde_json::Value;
use uuid::Uuid;

use crate::schema::{dex_entries, user_profiles, users};
use biologidex_core::{Error, domain::friend_code, error::unique_violation};

/// A user row.
#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = users)]
pub struct User {
    pub id: UserId,
    pub username: String,
    pub email: String,
    pub password_hash: String,
    pub is_active: bool,
    pub is_staff: bool,
    pub is_superuser: bool,
    pub friend_code: String,
    pub bio: String,
    pub avatar: Option<String>,
    pub badges: Value,
    pub last_login: Option<DateTime<Utc>>,
    pub tokens_valid_after: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A user's profile counters.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = user_profiles)]
pub struct Profile {
    pub total_catches: i32,
    pub unique_species: i32,
    pub preferred_card_style: Value,
    pub join_date: NaiveDate,
    pub last_catch_date: Option<DateTime<Utc>>,
}

/// A user with their profile (one join).
#[derive(Debug, Clone, Queryable, Selectable)]
pub struct UserView {
    #[diesel(embed)]
    pub user: User,
    #[diesel(embed)]
    pub profile: Profile,
}

/// What authentication needs to know about a token's user.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct AuthInfo {
    pub id: UserId,
    pub username: String,
    pub is_active: bool,
    pub is_staff: bool,
    pub is_superuser: bool,
    pub tokens_valid_after: DateTime<Utc>,
}

impl AuthInfo {
    /// The authentication facts of a loaded account.
    pub fn of(user: &User) -> Self {
        AuthInfo {
            id: user.id,
            username: user.username.clone(),
            is_active: user.is_active,
            is_staff: user.is_staff,
            is_superuser: user.is_superuser,
            tokens_valid_after: user.tokens_valid_after,
        }
    }
}

/// A new account.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: String,
    pub email: String,
    pub password_hash: String,
    pub is_staff: bool,
    pub is_superuser: bool,
}

#[derive(Insertable)]
#[diesel(table_name = users)]
struct UserRow<'a> {
    username: &'a str,
    email: &'a str,
    password_hash: &'a str,
    friend_code: &'a str,
    is_staff: bool,
    is_superuser: bool,
}

/// Profile fields a user may edit; `None` leaves a field alone.
#[derive(Debug, Clone, Default)]
pub struct ProfileChanges {
    pub bio: Option<String>,
    pub avatar: Option<Option<String>>,
    pub preferred_card_style: Option<Value>,
}

/// Maps a unique violation on registration to the field error the client shows.
fn registration_conflict(e: &diesel::result::Error) -> Option<Error> {
    match unique_violation(e)? {
        "users_username_key" => Some(Error::field(
            "username",
            "A user with that username already exists.",
        )),
        "users_email_lower_key" => Some(Error::field(
            "email",
            "User with this email address already exists.",
        )),
        _ => None,
    }
}

const FRIEND_CODE_ATTEMPTS: usize = 8;

impl User {
    /// Creates the user and their profile in one transaction, drawing a fresh friend code on
    /// the (rare) collision. Duplicate usernames and emails become field errors.
    pub async fn create(conn: &mut AsyncPgConnection, new: &NewUser) -> Result<UserView, Error> {
        for _ in 0..FRIEND_CODE_ATTEMPTS {
            let code = friend_code::generate();
            let result = conn
                .transaction::<_, diesel::result::Error, _>(async move |conn| {
                    let id: UserId = diesel::insert_into(users::table)
                        .values(UserRow {
                            username: &new.username,
                            email: &new.email,
                            password_hash: &new.password_hash,
                            friend_code: &code,
                            is_staff: new.is_staff,
                            is_superuser: new.is_superuser,
                        })
                        .returning(users::id)
                        .get_result(conn)
                        .await?;
                    diesel::insert_into(user_profiles::table)
                        .values(user_profiles::user_id.eq(id))
                        .execute(conn)
                        .await?;
                    Ok(id)
                })
                .await;
            match result {
                Ok(id) => {
                    return User::find(conn, id)
                        .await?
                        .ok_or(Error::NotFound(Missing::User));
                }
                Err(e) if unique_violation(&e) == Some("users_friend_code_key") => continue,
                Err(e) => return Err(registration_conflict(&e).unwrap_or_else(|| e.into())),
            }
        }
        Err(Error::Internal(anyhow::anyhow!(
            "could not draw a free friend code"
        )))
    }

    /// A user and profile by id.
    pub async fn find(conn: &mut AsyncPgConnection, id: UserId) -> QueryResult<Option<UserView>> {
        users::table
            .inner_join(user_profiles::table)
            .filter(users::id.eq(id))
            .select(UserView::as_select())
            .first(conn)
            .await
            .optional()
    }

    /// Whether an active user shows the avatar stored under `key` (avatars are public, like
    /// the profile that links them).
    pub async fn avatar_in_use(conn: &mut AsyncPgConnection, key: &str) -> QueryResult<bool> {
        diesel::select(diesel::dsl::exists(
            users::table
                .filter(users::avatar.eq(key))
                .filter(users::is_active.eq(true)),
        ))
        .get_result(conn)
        .await
    }

    /// The user of an access token and whether its login was logged out, in one query (every
    /// authenticated request makes it). `family` is the token's refresh-token family.
    pub async fn find_for_access(
        conn: &mut AsyncPgConnection,
        id: UserId,
        family: Option<Uuid>,
    ) -> QueryResult<Option<(UserView, bool)>> {
        use crate::schema::refresh_tokens;
        // A token without a family (issued before families were in access tokens) matches none.
        let family = family.unwrap_or_else(Uuid::nil);
        users::table
            .inner_join(user_profiles::table)
            .filter(users::id.eq(id))
            .select((
                UserView::as_select(),
                diesel::dsl::exists(
                    refresh_tokens::table
                        .filter(refresh_tokens::family_id.eq(family))
                        .filter(refresh_tokens::revoked_at.is_not_null()),
                ),
            ))
            .first(conn)
            .await
            .optional()
    }

    /// `auth_info`, locking the user row until the end of the transaction: shared by token
    /// refreshes, exclusive for a password change, so a refresh that read its token before a
    /// password change cannot record a pair after it.
    pub async fn lock_auth_info(
        conn: &mut AsyncPgConnection,
        id: UserId,
        exclusive: bool,
    ) -> QueryResult<Option<AuthInfo>> {
        let q = users::table.find(id).select(AuthInfo::as_select());
        if exclusive {
            q.for_update().first(conn).await.optional()
        } else {
            q.for_share().first(conn).await.optional()
        }
    }

    /// Authentication facts for a token's user.
    pub async fn auth_info(
        conn: &mut AsyncPgConnection,
        id: UserId,
    ) -> QueryResult<Option<AuthInfo>> {
        users::table
            .find(id)
            .select(AuthInfo::as_select())
            .first(conn)
            .await
            .optional()
    }

    /// Exact (case-sensitive) username lookup, as Django's `authenticate`.
    pub async fn find_by_username(
        conn: &mut AsyncPgConnection,
        username: &str,
    ) -> QueryResult<Option<User>> {
        users::table
            .filter(users::username.eq(username))
            .select(User::as_select())
            .first(conn)
            .await
            .optional()
    }

    /// Case-insensitive friend-code lookup (`code` already upper-cased).
    pub async fn find_by_friend_code(
        conn: &mut AsyncPgConnection,
        code: &str,
    ) -> QueryResult<Option<UserView>> {
        users::table
            .inner_join(user_profiles::table)
            .filter(
                diesel::dsl::sql::<diesel::sql_types::Bool>("upper(users.friend_code) = ")
                    .bind::<diesel::sql_types::Text, _>(code),
            )
            .filter(users::is_active.eq(true))
            .select(UserView::as_select())
            .first(conn)
            .await
            .optional()
    }

    /// How many active users exist outside `hidden`.
    pub async fn count_visible(
        conn: &mut AsyncPgConnection,
        hidden: &[UserId],
    ) -> QueryResult<i64> {
        users::table
            .filter(users::is_active.eq(true))
            .filter(users::id.ne_all(hidden))
            .count()
            .get_result(conn)
            .await
    }

    /// One page of active users, newest first, leaving out `hidden` (users who blocked the
    /// viewer or were blocked by them).
    pub async fn list_page(
        conn: &mut AsyncPgConnection,
        hidden: &[UserId],
        offset: i64,
        limit: i64,
    ) -> QueryResult<Vec<UserView>> {
        users::table
            .inner_join(user_profiles::table)
            .filter(users::is_active.eq(true))
            .filter(users::id.ne_all(hidden))
            .order((users::created_at.desc(), users::id))
            .offset(offset)
            .limit(limit)
            .select(UserView::as_select())
            .load(conn)
            .await
    }

    /// Applies profile edits and returns the fresh row.
    pub async fn update_profile(
        conn: &mut AsyncPgConnection,
        id: UserId,
        changes: ProfileChanges,
    ) -> QueryResult<Option<UserView>> {
        conn.transaction(async move |conn| {
            if changes.bio.is_some() || changes.avatar.is_some() {
                let bio = changes.bio.clone();
                let avatar = changes.avatar.clone();
                diesel::update(users::table.find(id))
                    .set((
                        bio.map(|b| users::bio.eq(b)),
                        avatar.map(|a| users::avatar.eq(a)),
                    ))
                    .execute(conn)
                    .await?;
            }
            if let Some(style) = changes.preferred_card_style.clone() {
                diesel::update(user_profiles::table.find(id))
                    .set(user_profiles::preferred_card_style.eq(style))
                    .execute(conn)
                    .await?;
            }
            User::find(conn, id).await
        })
        .await
    }

    /// Deletes the account (profile, entries, friendships, jobs cascade).
    pub async fn delete(conn: &mut AsyncPgConnection, id: UserId) -> QueryResult<usize> {
        diesel::delete(users::table.find(id)).execute(conn).await
    }

    /// Records a successful login.
    pub async fn touch_last_login(conn: &mut AsyncPgConnection, id: UserId) -> QueryResult<usize> {
        diesel::update(users::table.find(id))
            .set(users::last_login.eq(diesel::dsl::now))
            .execute(conn)
            .await
    }

    /// Stores a new hash. With `revoke_before`, access tokens issued before that instant (on
    /// the token issuer's clock) stop working.
    pub async fn set_password_hash(
        conn: &mut AsyncPgConnection,
        id: UserId,
        hash: &str,
        revoke_before: Option<DateTime<Utc>>,
    ) -> QueryResult<usize> {
        diesel::update(users::table.find(id))
            .set((
                users::password_hash.eq(hash),
                revoke_before.map(|at| users::tokens_valid_after.eq(at)),
            ))
            .execute(conn)
            .await
    }

    /// Recomputes the profile counters from the user's dex entries. `last_catch_date` goes
    /// back to null when no entry is left (the old server never reset it).
    pub async fn recompute_stats(
        conn: &mut AsyncPgConnection,
        id: UserId,
    ) -> QueryResult<Option<UserView>> {
        User::recount(conn, id).await?;
        User::find(conn, id).await
    }

    /// [`User::recompute_stats`] without reading the profile back.
    pub async fn recount(conn: &mut AsyncPgConnection, id: UserId) -> QueryResult<()> {
        let (total, unique, last): (i64, i64, Option<DateTime<Utc>>) = dex_entries::table
            .filter(dex_entries::owner_id.eq(id))
            .select((
                diesel::dsl::count_star(),
                diesel::dsl::count(dex_entries::animal_id).aggregate_distinct(),
                diesel::dsl::max(dex_entries::catch_date),
            ))
            .first(conn)
            .await?;
        diesel::update(user_profiles::table.find(id))
            .set((
                user_profiles::total_catches.eq(i32::try_from(total).unwrap_or(i32::MAX)),
                user_profiles::unique_species.eq(i32::try_from(unique).unwrap_or(i32::MAX)),
                user_profiles::last_catch_date.eq(last),
            ))
            .execute(conn)
            .await?;
        Ok(())
    }
}
