//! Validated value types and pure rules: no database, no HTTP.

pub mod email;
pub mod friend_code;
pub mod password;
pub mod username;
