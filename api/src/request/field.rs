//! The fields of a request struct. A field never fails deserialization: a value of the wrong
//! shape is reported (with DRF's message) to the collector in [`super::reader`] under the
//! field's name, and the field keeps a placeholder the handler never sees, because the
//! extractor answers 400 once any field has reported.

use std::fmt;

use serde::{
    Deserialize, Deserializer,
    de::{self, Visitor},
};
use serde_json::Value;
use uuid::Uuid;

use super::reader::{self, Refusal, Slot};

/// DRF's message for a missing required field.
pub const REQUIRED: &str = "This field is required.";
/// DRF's message for `null` where a value is needed.
pub const NOT_NULL: &str = "This field may not be null.";
/// DRF's message for an empty string where text is needed.
pub const NOT_BLANK: &str = "This field may not be blank.";

/// One JSON value converted with DRF's rules (never `null`, which the wrappers handle, except
/// through [`OptionalAny`] and [`RequiredAny`]).
pub trait FieldValue: Sized + Default {
    /// The value, or the messages the client reads.
    fn from_json(value: Value) -> Result<Self, Refusal>;

    /// True for an empty text, which a required field refuses.
    fn is_blank(&self) -> bool {
        false
    }
}

/// Trimmed text of at most `MAX` characters (PostgreSQL counts characters in `varchar(MAX)`
/// too, so a longer value is a field error, never a refused write).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Chars<const MAX: usize>(pub String);

impl<const MAX: usize> FieldValue for Chars<MAX> {
    fn from_json(value: Value) -> Result<Self, Refusal> {
        let text = String::from_json(value)?;
        if text.chars().count() > MAX {
            return Err(vec![too_long(MAX)]);
        }
        Ok(Chars(text))
    }
    fn is_blank(&self) -> bool {
        self.0.is_empty()
    }
}

/// Text exactly as sent (passwords).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawText(pub String);

fn string(value: Value) -> Result<String, Refusal> {
    match value {
        Value::String(s) => Ok(s),
        _ => Err(vec!["Not a valid string.".to_owned()]),
    }
}

/// Text, surrounding whitespace trimmed (as DRF's `CharField`).
impl FieldValue for String {
    fn from_json(value: Value) -> Result<Self, Refusal> {
        string(value).map(|s| s.trim().to_owned())
    }
    fn is_blank(&self) -> bool {
        self.is_empty()
    }
}

impl FieldValue for RawText {
    fn from_json(value: Value) -> Result<Self, Refusal> {
        string(value).map(RawText)
    }
    fn is_blank(&self) -> bool {
        self.0.is_empty()
    }
}

impl FieldValue for Uuid {
    fn from_json(value: Value) -> Result<Self, Refusal> {
        value
            .as_str()
            .and_then(|s| Uuid::parse_str(s.trim()).ok())
            .ok_or_else(|| vec!["Must be a valid UUID.".to_owned()])
    }
}

impl FieldValue for i64 {
    /// Integral floats such as `90.0` (the Godot client's numbers) and numeric strings count.
    fn from_json(value: Value) -> Result<Self, Refusal> {
        match &value {
            Value::Number(n) => n.as_i64().or_else(|| {
                n.as_f64()
                    .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
                    .map(|f| f as i64)
            }),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        }
        .ok_or_else(|| vec!["A valid integer is required.".to_owned()])
    }
}

impl FieldValue for i32 {
    fn from_json(value: Value) -> Result<Self, Refusal> {
        i64::from_json(value)
            .ok()
            .and_then(|n| i32::try_from(n).ok())
            .ok_or_else(|| vec!["A valid integer is required.".to_owned()])
    }
}

impl FieldValue for f64 {
    fn from_json(value: Value) -> Result<Self, Refusal> {
        match &value {
            Value::Number(n) => n.as_f64(),
            Value::String(s) => s.trim().parse::<f64>().ok(),
            _ => None,
        }
        .filter(|f| f.is_finite())
        .ok_or_else(|| vec!["A valid number is required.".to_owned()])
    }
}

impl FieldValue for bool {
    /// `true`/`false`, and the strings and 0/1 DRF accepts.
    fn from_json(value: Value) -> Result<Self, Refusal> {
        match &value {
            Value::Bool(b) => Some(*b),
            Value::Number(n) if n.as_f64() == Some(1.0) => Some(true),
            Value::Number(n) if n.as_f64() == Some(0.0) => Some(false),
            Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" | "on" => Some(true),
                "false" | "0" | "no" | "off" => Some(false),
                _ => None,
            },
            _ => None,
        }
        .ok_or_else(|| vec!["Must be a valid boolean.".to_owned()])
    }
}

/// Any JSON value, kept as sent (checked by the handler's own rules).
impl FieldValue for Value {
    fn from_json(value: Value) -> Result<Self, Refusal> {
        Ok(value)
    }
}

/// Django's message for text over `max` characters.
pub fn too_long(max: usize) -> String {
    format!("Ensure this field has no more than {max} characters.")
}

/// DRF's message for a value outside a choice field's set.
pub fn not_a_choice(value: &Value) -> String {
    match value {
        Value::String(s) => format!("\"{s}\" is not a valid choice."),
        other => format!("\"{other}\" is not a valid choice."),
    }
}

/// A value of a closed set, for an enum whose serde form is its variant's name.
pub fn choice<T: serde::de::DeserializeOwned>(value: Value) -> Result<T, Refusal> {
    serde_json::from_value(value.clone()).map_err(|_| vec![not_a_choice(&value)])
}

/// A field the client must send, not null (and, for text, not blank).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Required<T>(pub T);

/// A field the client may leave out; `null` is refused.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Optional<T>(pub Option<T>);

/// A field the client may leave out or set to `null` (an edit that clears it).
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Nullable<T> {
    #[default]
    Absent,
    Null,
    Value(T),
}

/// A query parameter: absent and empty (`?x=`) are the same, as in django-filter.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Param<T>(pub Option<T>);

impl<T> Param<T> {
    pub fn into_inner(self) -> Option<T> {
        self.0
    }
}

/// A query parameter read trimmed: absent and blank (`?x=`, `?x=%20`) are the same, and `T`
/// sees the value without its surrounding whitespace.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TrimmedParam<T>(pub Option<T>);

impl<T> TrimmedParam<T> {
    pub fn into_inner(self) -> Option<T> {
        self.0
    }
}

/// django-filter's message for a value outside a filter's choices.
pub fn not_a_filter_choice(raw: &str) -> String {
    format!("Select a valid choice. {raw} is not one of the available choices.")
}

/// A query value of a closed set, read by `parse`; anything else gets django-filter's message.
pub fn filter_choice<T>(value: Value, parse: impl Fn(&str) -> Option<T>) -> Result<T, Refusal> {
    let raw = string(value)?;
    parse(&raw).ok_or_else(|| vec![not_a_filter_choice(&raw)])
}

/// DRF's boolean filter: `true`/`1`/`yes`/`on` and `false`/`0`/`no`/`off` in any case;
/// anything else is no filter (never an error).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FilterBool(pub Option<bool>);

impl FieldValue for FilterBool {
    fn from_json(value: Value) -> Result<Self, Refusal> {
        let raw = value.as_str().map(str::to_ascii_lowercase);
        Ok(FilterBool(match raw.as_deref() {
            Some("true" | "1" | "yes" | "on") => Some(true),
            Some("false" | "0" | "no" | "off") => Some(false),
            _ => None,
        }))
    }
}

/// A field the client may leave out; whatever it sends, `null` included, is `T`'s to judge.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OptionalAny<T>(pub Option<T>);

/// A field the client must send; whatever it sends, `null` included, is `T`'s to judge.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RequiredAny<T>(pub T);

impl<T> OptionalAny<T> {
    pub fn into_inner(self) -> Option<T> {
        self.0
    }
}

impl<T> RequiredAny<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> Required<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> Optional<T> {
    pub fn into_inner(self) -> Option<T> {
        self.0
    }
}

impl Nullable<Value> {
    /// `None` when absent; `null` stays a JSON null.
    pub fn into_json(self) -> Option<Value> {
        self.into_option().map(|v| v.unwrap_or(Value::Null))
    }
}

impl<T> Nullable<T> {
    /// `None` when absent, `Some(None)` for null.
    pub fn into_option(self) -> Option<Option<T>> {
        match self {
            Nullable::Absent => None,
            Nullable::Null => Some(None),
            Nullable::Value(v) => Some(Some(v)),
        }
    }
}

/// Converts a present value; a refusal is reported (or, outside a request, is the error).
fn convert<T: FieldValue, E: de::Error>(value: Value) -> Result<Option<T>, E> {
    match T::from_json(value) {
        Ok(v) => Ok(Some(v)),
        Err(messages) => reader::refuse(messages).map(|()| None),
    }
}

fn refuse<E: de::Error>(message: &str) -> Result<(), E> {
    reader::refuse(vec![message.to_owned()])
}

impl<'de, T: FieldValue> Deserialize<'de> for Required<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = match Slot::deserialize(d)? {
            Slot::Absent => refuse::<D::Error>(REQUIRED).map(|()| None)?,
            Slot::Present(Value::Null) => refuse::<D::Error>(NOT_NULL).map(|()| None)?,
            Slot::Present(v) => match convert::<T, D::Error>(v)? {
                Some(v) if v.is_blank() => refuse::<D::Error>(NOT_BLANK).map(|()| None)?,
                other => other,
            },
        };
        Ok(Required(value.unwrap_or_default()))
    }
}

impl<'de, T: FieldValue> Deserialize<'de> for Optional<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Optional(match Slot::deserialize(d)? {
            Slot::Absent => None,
            Slot::Present(Value::Null) => refuse::<D::Error>(NOT_NULL).map(|()| None)?,
            Slot::Present(v) => convert::<T, D::Error>(v)?,
        }))
    }
}

impl<'de, T: FieldValue> Deserialize<'de> for Param<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Param(match Slot::deserialize(d)? {
            Slot::Absent => None,
            Slot::Present(Value::String(s)) if s.is_empty() => None,
            Slot::Present(v) => convert::<T, D::Error>(v)?,
        }))
    }
}

impl<'de, T: FieldValue> Deserialize<'de> for TrimmedParam<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(TrimmedParam(match Slot::deserialize(d)? {
            Slot::Absent => None,
            Slot::Present(Value::String(s)) if s.trim().is_empty() => None,
            Slot::Present(Value::String(s)) => {
                convert::<T, D::Error>(Value::String(s.trim().to_owned()))?
            }
            Slot::Present(v) => convert::<T, D::Error>(v)?,
        }))
    }
}

impl<'de, T: FieldValue> Deserialize<'de> for OptionalAny<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(OptionalAny(match Slot::deserialize(d)? {
            Slot::Absent => None,
            Slot::Present(v) => convert::<T, D::Error>(v)?,
        }))
    }
}

impl<'de, T: FieldValue> Deserialize<'de> for RequiredAny<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = match Slot::deserialize(d)? {
            Slot::Absent => refuse::<D::Error>(REQUIRED).map(|()| None)?,
            Slot::Present(v) => convert::<T, D::Error>(v)?,
        };
        Ok(RequiredAny(value.unwrap_or_default()))
    }
}

impl<'de, T: FieldValue> Deserialize<'de> for Nullable<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(match Slot::deserialize(d)? {
            Slot::Absent => Nullable::Absent,
            Slot::Present(Value::Null) => Nullable::Null,
            Slot::Present(v) => {
                convert::<T, D::Error>(v)?.map_or(Nullable::Absent, Nullable::Value)
            }
        })
    }
}

impl<'de> Deserialize<'de> for Slot {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct SlotVisitor;
        impl<'de> Visitor<'de> for SlotVisitor {
            type Value = Slot;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a request field")
            }
            fn visit_unit<E: de::Error>(self) -> Result<Slot, E> {
                Ok(Slot::Absent)
            }
            fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<Slot, D::Error> {
                Value::deserialize(d).map(Slot::Present)
            }
        }
        d.deserialize_newtype_struct(reader::SLOT, SlotVisitor)
    }
}
