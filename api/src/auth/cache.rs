//! What authentication learned about a token's user, kept for a few seconds so most requests
//! authenticate without a database round trip. PostgreSQL announces every change that can
//! refuse a token (`biologidex_db::auth_watch`); each api process listens and drops that user
//! at once. While the listener is not hearing, nothing is cached or trusted, so a missed
//! announcement can never keep a refused token working (docs/decisions.md#d30).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use biologidex_core::ids::UserId;
use biologidex_db::auth_watch::AuthSink;
use biologidex_db::models::accounts::AuthInfo;
use uuid::Uuid;

/// Users remembered at once; past it the least used are dropped.
const CAPACITY: u64 = 100_000;

/// A user's account facts and the token families seen unrevoked.
#[derive(Debug)]
struct Known {
    info: AuthInfo,
    families: Vec<Uuid>,
}

/// Proof that a lookup started when the cache was trusted; stale once anything was dropped.
#[derive(Debug, Clone, Copy)]
pub struct Ticket(u64);

/// The per-process cache of authenticated users.
pub struct AuthCache {
    users: Option<moka::sync::Cache<UserId, Arc<Known>>>,
    /// Bumped by every drop: an answer read from the database before one is not stored.
    epoch: AtomicU64,
    live: AtomicBool,
    fences: AtomicU64,
}

impl std::fmt::Debug for AuthCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthCache")
            .field("users", &self.users.as_ref().map(|u| u.entry_count()))
            .field("live", &self.live.load(Ordering::Relaxed))
            .finish()
    }
}

impl AuthCache {
    /// A cache keeping users for `ttl` (zero: no cache).
    pub fn new(ttl: Duration) -> Self {
        let users = (!ttl.is_zero()).then(|| {
            moka::sync::Cache::builder()
                .max_capacity(CAPACITY)
                .time_to_live(ttl)
                .build()
        });
        AuthCache {
            users,
            epoch: AtomicU64::new(0),
            live: AtomicBool::new(false),
            fences: AtomicU64::new(0),
        }
    }

    fn trusted(&self) -> Option<&moka::sync::Cache<UserId, Arc<Known>>> {
        self.users
            .as_ref()
            .filter(|_| self.live.load(Ordering::Acquire))
    }

    /// The facts of `user` when a token of `family` was last accepted for them.
    pub fn get(&self, user: UserId, family: Uuid) -> Option<AuthInfo> {
        let known = self.trusted()?.get(&user)?;
        known.families.contains(&family).then(|| known.info.clone())
    }

    /// Taken before reading the database, handed to [`AuthCache::store`] after.
    pub fn ticket(&self) -> Option<Ticket> {
        self.trusted()?;
        Some(Ticket(self.epoch.load(Ordering::Acquire)))
    }

    /// Remembers an accepted token's user, unless something was dropped since `ticket`.
    pub fn store(&self, ticket: Ticket, family: Uuid, info: &AuthInfo) {
        let Some(users) = self.trusted() else {
            return;
        };
        let mut families = users
            .get(&info.id)
            .filter(|k| k.info.tokens_valid_after == info.tokens_valid_after)
            .map(|k| k.families.clone())
            .unwrap_or_default();
        if !families.contains(&family) {
            families.push(family);
        }
        let known = Arc::new(Known {
            info: info.clone(),
            families,
        });
        if self.epoch.load(Ordering::Acquire) == ticket.0 {
            users.insert(info.id, known);
            // A drop between the check and the insert must win.
            if self.epoch.load(Ordering::Acquire) != ticket.0 {
                users.invalidate(&info.id);
            }
        }
    }

    /// Drops `user` now, in this process, after a change this process committed (the
    /// announcement reaches the others; here the next request must already see it).
    pub fn forget(&self, user: UserId) {
        self.epoch.fetch_add(1, Ordering::AcqRel);
        if let Some(users) = &self.users {
            users.invalidate(&user);
        }
    }

    /// Whether the listener is hearing changes (nothing is cached otherwise).
    pub fn is_live(&self) -> bool {
        self.live.load(Ordering::Acquire)
    }

    /// How many fences the listener has heard (tests wait on it after changing the database
    /// behind the api's back).
    pub fn fences_heard(&self) -> u64 {
        self.fences.load(Ordering::Acquire)
    }

    fn forget_all(&self) {
        self.epoch.fetch_add(1, Ordering::AcqRel);
        if let Some(users) = &self.users {
            users.invalidate_all();
        }
    }
}

impl AuthSink for AuthCache {
    fn listening(&self, live: bool) {
        // Whatever was cached may have missed changes made while nobody listened.
        self.forget_all();
        self.live.store(live, Ordering::Release);
    }

    fn changed(&self, user: UserId) {
        self.forget(user);
    }

    fn fence(&self) {
        self.fences.fetch_add(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(id: UserId) -> AuthInfo {
        AuthInfo {
            id,
            username: "ash".to_owned(),
            is_active: true,
            is_staff: false,
            is_superuser: false,
            tokens_valid_after: chrono::Utc::now(),
        }
    }

    fn live_cache() -> AuthCache {
        let cache = AuthCache::new(Duration::from_secs(60));
        cache.listening(true);
        cache
    }

    #[test]
    fn remembers_a_user_per_token_family() {
        let cache = live_cache();
        let (user, family, other) = (UserId::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        let ticket = cache.ticket().expect("live");
        cache.store(ticket, family, &info(user));
        assert_eq!(cache.get(user, family).map(|i| i.id), Some(user));
        assert!(
            cache.get(user, other).is_none(),
            "another family is unchecked"
        );
    }

    #[test]
    fn a_change_drops_the_user_and_refuses_answers_read_before_it() {
        let cache = live_cache();
        let (user, family) = (UserId::new_v4(), Uuid::new_v4());
        cache.store(cache.ticket().unwrap(), family, &info(user));
        let before_change = cache.ticket().unwrap();
        cache.changed(user);
        assert!(cache.get(user, family).is_none());
        cache.store(before_change, family, &info(user));
        assert!(
            cache.get(user, family).is_none(),
            "a stale read is not stored"
        );
    }

    #[test]
    fn nothing_is_trusted_without_a_listener() {
        let cache = AuthCache::new(Duration::from_secs(60));
        assert!(cache.ticket().is_none());
        let live = live_cache();
        let (user, family) = (UserId::new_v4(), Uuid::new_v4());
        live.store(live.ticket().unwrap(), family, &info(user));
        live.listening(false);
        assert!(live.get(user, family).is_none());
        live.listening(true);
        assert!(live.get(user, family).is_none(), "dropped while deaf");
    }

    #[test]
    fn a_zero_lifetime_caches_nothing() {
        let cache = AuthCache::new(Duration::ZERO);
        cache.listening(true);
        assert!(cache.ticket().is_none());
    }
}
