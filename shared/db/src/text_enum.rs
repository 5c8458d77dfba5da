//! `text_enum!`: a closed set of values stored in a `varchar` column (the migrations' CHECK
//! constraints list the same values), typed in Rust and serialized as the same lowercase text.

/// Declares an enum whose variants map to fixed strings, in the database (`Text`/`Varchar`,
/// also nullable) and in JSON.
macro_rules! text_enum {
    ($(#[$meta:meta])* pub enum $name:ident {
        $($(#[$vmeta:meta])* $variant:ident = $text:literal,)+
    }) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash,
            diesel::AsExpression, diesel::FromSqlRow, serde::Serialize, serde::Deserialize,
        )]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[diesel(sql_type = diesel::sql_types::Text)]
        // Each text is its variant's name in lower case (a test checks it); serde and utoipa
        // read this attribute, while a per-variant rename from a macro fragment is lost on
        // utoipa.
        #[serde(rename_all = "lowercase")]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &[$name] = &[$($name::$variant),+];

            /// The stored and serialized text.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }

            /// The value named by `text`, if any.
            pub fn parse(text: &str) -> Option<Self> {
                match text {
                    $($text => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl diesel::serialize::ToSql<diesel::sql_types::Text, diesel::pg::Pg> for $name {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, diesel::pg::Pg>,
            ) -> diesel::serialize::Result {
                std::io::Write::write_all(out, self.as_str().as_bytes())?;
                Ok(diesel::serialize::IsNull::No)
            }
        }

        impl diesel::deserialize::FromSql<diesel::sql_types::Text, diesel::pg::Pg> for $name {
            fn from_sql(bytes: diesel::pg::PgValue<'_>) -> diesel::deserialize::Result<Self> {
                let text = std::str::from_utf8(bytes.as_bytes())?;
                Self::parse(text).ok_or_else(|| {
                    format!(concat!("unknown ", stringify!($name), " `{}`"), text).into()
                })
            }
        }
    };
}

pub(crate) use text_enum;

#[cfg(test)]
mod tests {
    use crate::models::{
        dex::Visibility, friendships::FriendshipStatus, taxonomy::ImportStatus, vision::JobStatus,
    };

    fn check<T: serde::Serialize + std::fmt::Display>(all: &[T]) {
        for v in all {
            let json = serde_json::to_value(v).unwrap_or_default();
            assert_eq!(json, serde_json::Value::String(v.to_string()));
        }
    }

    #[test]
    fn the_json_text_is_the_stored_text() {
        check(Visibility::ALL);
        check(FriendshipStatus::ALL);
        check(JobStatus::ALL);
        check(ImportStatus::ALL);
    }
}
