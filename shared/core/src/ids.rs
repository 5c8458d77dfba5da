//! Typed ids of the main tables: a function that takes a [`UserId`] cannot be handed an
//! [`AnimalId`]. Each wraps the row's UUID and is that UUID everywhere else: in JSON (a plain
//! uuid string), in SQL (a `uuid` column) and as text (`Display`/`FromStr`).
//!
//! Catalogue of Life ids (taxa, sources) and refresh-token ids stay bare `Uuid`: they are
//! passed around in few places, each of one kind only.

use std::{fmt, str::FromStr};

use diesel_derive_newtype::DieselNewType;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! id_type {
    ($($(#[$meta:meta])* $name:ident;)+) => {$(
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
            DieselNewType,
        )]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A fresh random id (v4).
            pub fn new_v4() -> Self {
                Self(Uuid::new_v4())
            }

            /// The UUID inside.
            pub const fn uuid(self) -> Uuid {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::try_parse(s).map(Self)
            }
        }

        impl From<Uuid> for $name {
            fn from(id: Uuid) -> Self {
                Self(id)
            }
        }

        impl From<$name> for Uuid {
            fn from(id: $name) -> Self {
                id.0
            }
        }
    )+};
}

id_type! {
    /// A row of `users` (also the key of `user_profiles` and the owner in most tables).
    UserId;
    /// A row of `animals`.
    AnimalId;
    /// A row of `dex_entries`.
    DexEntryId;
    /// A row of `friendships`.
    FriendshipId;
    /// A row of `analysis_jobs` (a vision job).
    AnalysisJobId;
    /// A row of `image_conversions`.
    ImageConversionId;
    /// A row of `stored_images`.
    StoredImageId;
    /// A row of `taxonomy_import_jobs`.
    TaxonomyImportJobId;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_is_its_uuid_in_json_and_text() {
        let raw = Uuid::new_v4();
        let id = AnimalId::from(raw);
        assert_eq!(
            serde_json::to_string(&id).ok(),
            serde_json::to_string(&raw).ok()
        );
        assert_eq!(id.to_string(), raw.to_string());
        assert_eq!(raw.to_string().parse::<AnimalId>().ok(), Some(id));
        assert_eq!(
            serde_json::from_str::<AnimalId>(&format!("\"{raw}\"")).ok(),
            Some(id)
        );
        assert_eq!(Uuid::from(id), raw);
    }
}
