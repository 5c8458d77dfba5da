//! Typed requests: one struct per request body or query both parses it and documents it (its
//! `ToSchema` or `IntoParams`). Handlers take [`Valid<T>`] or [`ValidQuery<T>`] (or call
//! [`from_fields`] after their own checks); the struct's fields are
//! [`Required`], [`Optional`] or [`Nullable`] values of a [`FieldValue`] type, so a request
//! with several problems gets all of them back as field errors with DRF's messages, unknown
//! body keys are refused, and integral floats count as integers (docs/wire-compatibility.md).

mod extract;
mod field;
mod reader;

pub use extract::{Valid, ValidQuery, checked_from_fields, from_fields, object};
pub use field::{
    Chars, FieldValue, FilterBool, NOT_BLANK, NOT_NULL, Nullable, Optional, OptionalAny, Param,
    REQUIRED, RawText, Required, RequiredAny, TrimmedParam, choice, filter_choice, not_a_choice,
    not_a_filter_choice, too_long,
};
pub use reader::Refusal;
