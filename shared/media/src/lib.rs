//! Media: decoding uploaded photos within a memory budget, the user's edits (rotation, crop),
//! resizing and encoding (`images`), the encoded result and its content-addressed key (`blob`),
//! and where the bytes live (`storage`). Knows nothing of the database: rows that reference
//! stored images are the db crate's business.

pub mod blob;
pub mod images;
pub mod storage;
