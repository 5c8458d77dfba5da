//! The account fields of request bodies, each checked by its domain rule while the body is
//! read (so a request with several problems gets all of them back).

use biologidex_core::domain::{email, friend_code, password, username};
use serde_json::Value;

use crate::request::{FieldValue, NOT_BLANK, Refusal};

fn text(value: Value) -> Result<String, Refusal> {
    String::from_json(value)
}

/// A username: trimmed, NFKC-normalised, within the allowed characters and length.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Username(pub String);

impl FieldValue for Username {
    fn from_json(value: Value) -> Result<Self, Refusal> {
        let raw = text(value)?;
        if raw.is_empty() {
            return Ok(Username(raw));
        }
        username::parse(&raw).map(Username)
    }
    fn is_blank(&self) -> bool {
        self.0.is_empty()
    }
}

/// An email address; its domain part lower-cased.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Email(pub String);

impl FieldValue for Email {
    fn from_json(value: Value) -> Result<Self, Refusal> {
        let raw = text(value)?;
        if raw.is_empty() {
            return Ok(Email(raw));
        }
        email::parse(&raw).map(Email)
    }
    fn is_blank(&self) -> bool {
        self.0.is_empty()
    }
}

/// A new password that passes the strength rules (trimmed, as DRF's `CharField`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewPassword(pub String);

impl FieldValue for NewPassword {
    fn from_json(value: Value) -> Result<Self, Refusal> {
        let pw = text(value)?;
        let errors = if pw.is_empty() {
            Vec::new()
        } else {
            password::strength_errors(&pw)
        };
        if errors.is_empty() {
            Ok(NewPassword(pw))
        } else {
            Err(errors)
        }
    }
    fn is_blank(&self) -> bool {
        self.0.is_empty()
    }
}

/// A friend code field: exactly 8 characters, never blank. Eight characters that cannot be a
/// code are accepted and simply match nobody.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum FriendCode {
    /// Eight characters outside the code alphabet.
    #[default]
    NoCode,
    /// The normalised code.
    Code(String),
}

impl FriendCode {
    /// The code to look up, if it can be one.
    pub fn code(&self) -> Option<&str> {
        match self {
            FriendCode::Code(c) => Some(c),
            FriendCode::NoCode => None,
        }
    }
}

impl FieldValue for FriendCode {
    fn from_json(value: Value) -> Result<Self, Refusal> {
        let raw = text(value)?;
        let len = raw.chars().count();
        let refusal = if len == 0 {
            NOT_BLANK
        } else if len < friend_code::LEN {
            "Ensure this field has at least 8 characters."
        } else if len > friend_code::LEN {
            "Ensure this field has no more than 8 characters."
        } else {
            return Ok(friend_code::normalize(&raw).map_or(FriendCode::NoCode, FriendCode::Code));
        };
        Err(vec![refusal.to_owned()])
    }
}
