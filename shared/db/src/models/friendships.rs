//! Friendships: one row per pair of users (whichever direction it was created in), with the
//! request state machine. A blocked row always points from the blocked user to the blocker.

use biologidex_core::error::Missing;
use biologidex_core::ids::{FriendshipId, UserId};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::schema::{friendships, user_profiles, users};
use crate::text_enum::text_enum;
use biologidex_core::{Error, error::unique_violation};

/// A friendship row.
#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = friendships)]
pub struct Friendship {
    pub id: FriendshipId,
    pub from_user_id: UserId,
    pub to_user_id: UserId,
    pub status: FriendshipStatus,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The public card of a user in friend lists.
#[derive(Debug, Clone, Queryable)]
pub struct FriendUser {
    pub id: UserId,
    pub username: String,
    pub avatar: Option<String>,
    pub friend_code: String,
    pub total_catches: i32,
    pub unique_species: i32,
}

text_enum! {
    /// Where a friendship stands.
    pub enum FriendshipStatus {
        Pending = "pending",
        Accepted = "accepted",
        Rejected = "rejected",
        Blocked = "blocked",
    }
}

/// How the recipient answers a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(rename_all = "lowercase"))]
pub enum Action {
    /// Become friends (pending requests only).
    Accept,
    /// Decline (pending requests only); the sender may ask again later.
    Reject,
    /// Block the sender, whatever the row's status: neither sees the other any more.
    #[default]
    Block,
}

impl Action {
    /// The answer named by `text`, as the client sends it.
    pub fn parse(text: &str) -> Option<Action> {
        match text {
            "accept" => Some(Action::Accept),
            "reject" => Some(Action::Reject),
            "block" => Some(Action::Block),
            _ => None,
        }
    }
}

/// What `send_request` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestOutcome {
    /// A new pending request.
    Created,
    /// The other user had already asked: now friends.
    AcceptedTheirs,
}

type FriendUserCols = (
    users::id,
    users::username,
    users::avatar,
    users::friend_code,
    user_profiles::total_catches,
    user_profiles::unique_species,
);
const FRIEND_USER_COLS: FriendUserCols = (
    users::id,
    users::username,
    users::avatar,
    users::friend_code,
    user_profiles::total_catches,
    user_profiles::unique_species,
);

impl Friendship {
    /// The row between two users, in either direction.
    pub async fn between(
        conn: &mut AsyncPgConnection,
        a: UserId,
        b: UserId,
    ) -> QueryResult<Option<Friendship>> {
        friendships::table
            .filter(
                (friendships::from_user_id
                    .eq(a)
                    .and(friendships::to_user_id.eq(b)))
                .or(friendships::from_user_id
                    .eq(b)
                    .and(friendships::to_user_id.eq(a))),
            )
            .select(Friendship::as_select())
            .first(conn)
            .await
            .optional()
    }

    /// A row by id, only if `user` is one of its parties; a block is invisible to the user it
    /// blocks.
    pub async fn find_for_party(
        conn: &mut AsyncPgConnection,
        id: FriendshipId,
        user: UserId,
    ) -> QueryResult<Option<Friendship>> {
        friendships::table
            .find(id)
            .filter(
                friendships::from_user_id
                    .eq(user)
                    .or(friendships::to_user_id.eq(user)),
            )
            .filter(diesel::dsl::not(
                friendships::status
                    .eq(FriendshipStatus::Blocked)
                    .and(friendships::from_user_id.eq(user)),
            ))
            .select(Friendship::as_select())
            .first(conn)
            .await
            .optional()
    }

    /// A row by id, locked until the end of the transaction.
    pub async fn lock(
        conn: &mut AsyncPgConnection,
        id: FriendshipId,
    ) -> QueryResult<Option<Friendship>> {
        friendships::table
            .find(id)
            .select(Friendship::as_select())
            .for_update()
            .first(conn)
            .await
            .optional()
    }

    /// How many rows `user` is a party to, blocks left out (see `list_for_user`).
    pub async fn count_for_user(conn: &mut AsyncPgConnection, user: UserId) -> QueryResult<i64> {
        friendships::table
            .filter(
                friendships::from_user_id
                    .eq(user)
                    .or(friendships::to_user_id.eq(user)),
            )
            .filter(friendships::status.ne(FriendshipStatus::Blocked))
            .count()
            .get_result(conn)
            .await
    }

    /// One page of every row `user` is a party to, newest first. Blocks are left out: a block
    /// hides both users from each other (the row would show the other's name and stats).
    pub async fn list_for_user(
        conn: &mut AsyncPgConnection,
        user: UserId,
        offset: i64,
        limit: i64,
    ) -> QueryResult<Vec<Friendship>> {
        friendships::table
            .filter(
                friendships::from_user_id
                    .eq(user)
                    .or(friendships::to_user_id.eq(user)),
            )
            .filter(friendships::status.ne(FriendshipStatus::Blocked))
            .order((friendships::created_at.desc(), friendships::id))
            .offset(offset)
            .limit(limit)
            .select(Friendship::as_select())
            .load(conn)
            .await
    }

    /// Pending requests `user` received (`received = true`) or sent, newest first.
    pub async fn pending(
        conn: &mut AsyncPgConnection,
        user: UserId,
        received: bool,
    ) -> QueryResult<Vec<Friendship>> {
        let q = friendships::table
            .filter(friendships::status.eq(FriendshipStatus::Pending))
            .order((friendships::created_at.desc(), friendships::id))
            .select(Friendship::as_select())
            .into_boxed();
        let q = if received {
            q.filter(friendships::to_user_id.eq(user))
        } else {
            q.filter(friendships::from_user_id.eq(user))
        };
        q.load(conn).await
    }

    /// Ids of `user`'s accepted friends.
    pub async fn friend_ids(
        conn: &mut AsyncPgConnection,
        user: UserId,
    ) -> QueryResult<Vec<UserId>> {
        Self::related_ids(conn, user, FriendshipStatus::Accepted).await
    }

    /// Ids of users `user` blocked or was blocked by: they cannot see each other.
    pub async fn blocked_ids(
        conn: &mut AsyncPgConnection,
        user: UserId,
    ) -> QueryResult<Vec<UserId>> {
        Self::related_ids(conn, user, FriendshipStatus::Blocked).await
    }

    async fn related_ids(
        conn: &mut AsyncPgConnection,
        user: UserId,
        state: FriendshipStatus,
    ) -> QueryResult<Vec<UserId>> {
        let rows: Vec<(UserId, UserId)> = friendships::table
            .filter(friendships::status.eq(state))
            .filter(
                friendships::from_user_id
                    .eq(user)
                    .or(friendships::to_user_id.eq(user)),
            )
            .select((friendships::from_user_id, friendships::to_user_id))
            .load(conn)
            .await?;
        Ok(rows
            .into_iter()
            .map(|(from, to)| if from == user { to } else { from })
            .collect())
    }

    /// Accepted friends and blocked users (either way) of `user`, in one query.
    pub async fn relations(
        conn: &mut AsyncPgConnection,
        user: UserId,
    ) -> QueryResult<(Vec<UserId>, Vec<UserId>)> {
        let rows: Vec<(UserId, UserId, FriendshipStatus)> = friendships::table
            .filter(
                friendships::status.eq_any([FriendshipStatus::Accepted, FriendshipStatus::Blocked]),
            )
            .filter(
                friendships::from_user_id
                    .eq(user)
                    .or(friendships::to_user_id.eq(user)),
            )
            .select((
                friendships::from_user_id,
                friendships::to_user_id,
                friendships::status,
            ))
            .load(conn)
            .await?;
        let (mut friends, mut blocked) = (Vec::new(), Vec::new());
        for (from, to, state) in rows {
            let other = if from == user { to } else { from };
            if state == FriendshipStatus::Accepted {
                friends.push(other)
            } else {
                blocked.push(other)
            }
        }
        Ok((friends, blocked))
    }

    /// `user`'s accepted friends with their profile counters, newest account first: one query.
    pub async fn friends_of(
        conn: &mut AsyncPgConnection,
        user: UserId,
    ) -> QueryResult<Vec<FriendUser>> {
        let sent = friendships::table
            .filter(friendships::status.eq(FriendshipStatus::Accepted))
            .filter(friendships::from_user_id.eq(user))
            .select(friendships::to_user_id);
        let received = friendships::table
            .filter(friendships::status.eq(FriendshipStatus::Accepted))
            .filter(friendships::to_user_id.eq(user))
            .select(friendships::from_user_id);
        users::table
            .inner_join(user_profiles::table)
            .filter(users::id.eq_any(sent).or(users::id.eq_any(received)))
            .order((users::created_at.desc(), users::id))
            .select(FRIEND_USER_COLS)
            .load(conn)
            .await
    }

    /// Friend cards for a set of users, in one query.
    pub async fn cards(
        conn: &mut AsyncPgConnection,
        ids: &[UserId],
    ) -> QueryResult<Vec<FriendUser>> {
        users::table
            .inner_join(user_profiles::table)
            .filter(users::id.eq_any(ids))
            .select(FRIEND_USER_COLS)
            .load(conn)
            .await
    }

    /// `from` asks `to` to be friends. Re-asking after a rejection or an unfriend works; asking
    /// someone who already asked you accepts their request.
    pub async fn send_request(
        conn: &mut AsyncPgConnection,
        from: UserId,
        to: UserId,
    ) -> Result<(Friendship, RequestOutcome), Error> {
        if from == to {
            return Err(Error::Rule(
                "Cannot send friend request to yourself".to_owned(),
            ));
        }
        let result = conn
            .transaction::<_, Error, _>(async move |conn| {
                let existing: Option<Friendship> = friendships::table
                    .filter(
                        (friendships::from_user_id
                            .eq(from)
                            .and(friendships::to_user_id.eq(to)))
                        .or(friendships::from_user_id
                            .eq(to)
                            .and(friendships::to_user_id.eq(from))),
                    )
                    .select(Friendship::as_select())
                    .for_update()
                    .first(conn)
                    .await
                    .optional()?;
                let Some(row) = existing else {
                    let row = diesel::insert_into(friendships::table)
                        .values((
                            friendships::from_user_id.eq(from),
                            friendships::to_user_id.eq(to),
                        ))
                        .returning(Friendship::as_returning())
                        .get_result(conn)
                        .await?;
                    return Ok((row, RequestOutcome::Created));
                };
                match row.status {
                    FriendshipStatus::Accepted => {
                        Err(Error::Rule("Users are already friends".to_owned()))
                    }
                    FriendshipStatus::Pending if row.from_user_id == from => {
                        Err(Error::Rule("Friend request already pending".to_owned()))
                    }
                    FriendshipStatus::Pending => {
                        let row =
                            Self::set_status(conn, row.id, FriendshipStatus::Accepted).await?;
                        Ok((row, RequestOutcome::AcceptedTheirs))
                    }
                    FriendshipStatus::Blocked if row.to_user_id != from => {
                        Err(Error::Rule("Cannot send friend request".to_owned()))
                    }
                    // A rejection, or a block by the requester: start over as a new request.
                    _ => {
                        let row = diesel::update(friendships::table.find(row.id))
                            .set((
                                friendships::from_user_id.eq(from),
                                friendships::to_user_id.eq(to),
                                friendships::status.eq(FriendshipStatus::Pending),
                                friendships::created_at.eq(diesel::dsl::now),
                            ))
                            .returning(Friendship::as_returning())
                            .get_result(conn)
                            .await?;
                        Ok((row, RequestOutcome::Created))
                    }
                }
            })
            .await;
        match result {
            // Two requests between the same pair raced: the other one won.
            Err(Error::Internal(e))
                if e.downcast_ref::<diesel::result::Error>()
                    .and_then(unique_violation)
                    == Some("friendships_pair_key") =>
            {
                Err(Error::Rule("Friend request already pending".to_owned()))
            }
            other => other,
        }
    }

    async fn set_status(
        conn: &mut AsyncPgConnection,
        id: FriendshipId,
        new: FriendshipStatus,
    ) -> QueryResult<Friendship> {
        diesel::update(friendships::table.find(id))
            .set(friendships::status.eq(new))
            .returning(Friendship::as_returning())
            .get_result(conn)
            .await
    }

    /// The recipient answers a request. Only pending requests can be accepted or rejected;
    /// any row can be blocked (the row then points from the blocked user to the blocker).
    pub async fn respond(
        conn: &mut AsyncPgConnection,
        row: &Friendship,
        by: UserId,
        action: Action,
    ) -> Result<Friendship, Error> {
        let pending = row.status == FriendshipStatus::Pending;
        match action {
            Action::Accept if pending => {
                Ok(Self::set_status(conn, row.id, FriendshipStatus::Accepted).await?)
            }
            Action::Reject if pending => {
                Ok(Self::set_status(conn, row.id, FriendshipStatus::Rejected).await?)
            }
            Action::Accept => Err(Error::Rule(
                "Only pending requests can be accepted".to_owned(),
            )),
            Action::Reject => Err(Error::Rule(
                "Only pending requests can be rejected".to_owned(),
            )),
            Action::Block => {
                let other = if row.from_user_id == by {
                    row.to_user_id
                } else {
                    row.from_user_id
                };
                Ok(diesel::update(friendships::table.find(row.id))
                    .set((
                        friendships::from_user_id.eq(other),
                        friendships::to_user_id.eq(by),
                        friendships::status.eq(FriendshipStatus::Blocked),
                    ))
                    .returning(Friendship::as_returning())
                    .get_result(conn)
                    .await?)
            }
        }
    }

    /// Deletes the row `user` names by its id or by the other party's user id (the shipped
    /// client sends the friend's user id). A blocked user cannot lift the block this way.
    pub async fn remove(
        conn: &mut AsyncPgConnection,
        user: UserId,
        key: Uuid,
    ) -> Result<Friendship, Error> {
        let row = match Self::find_for_party(conn, key.into(), user).await? {
            Some(row) => Some(row),
            None => Self::between(conn, user, key.into()).await?,
        };
        let row = row
            .filter(|r| !(r.status == FriendshipStatus::Blocked && r.from_user_id == user))
            .ok_or(Error::NotFound(Missing::Friendship))?;
        // The rule is checked again by the delete itself: a block committed since the read
        // must not be deleted by the user it blocks. The deleted row tells the real status.
        diesel::delete(
            friendships::table.find(row.id).filter(diesel::dsl::not(
                friendships::status
                    .eq(FriendshipStatus::Blocked)
                    .and(friendships::from_user_id.eq(user)),
            )),
        )
        .returning(Friendship::as_returning())
        .get_result(conn)
        .await
        .optional()?
        .ok_or(Error::NotFound(Missing::Friendship))
    }
}
