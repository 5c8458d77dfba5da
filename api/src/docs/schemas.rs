//! Schemas many routes share: the error bodies (DRF's shapes) and the pagination envelope.

use std::collections::BTreeMap;

use utoipa::{
    ToSchema,
    openapi::{Ref, RefOr, Schema, schema::AnyOfBuilder},
};

/// `{"detail": "..."}`: every error that is not about a particular field.
#[derive(ToSchema)]
#[schema(example = json!({"detail": "Not found."}))]
pub struct Detail {
    pub detail: String,
}

/// A broken rule (self friend request, duplicate request...): both keys carry the message.
#[derive(ToSchema)]
#[schema(example = json!({"detail": "You cannot send a friend request to yourself.",
    "error": "You cannot send a friend request to yourself."}))]
pub struct RuleError {
    pub detail: String,
    pub error: String,
}

/// Field validation errors: each bad field with its messages; `non_field_errors` for the
/// body as a whole.
#[derive(ToSchema)]
#[schema(example = json!({"username": ["A user with that username already exists."]}))]
pub struct FieldErrors(pub BTreeMap<String, Vec<String>>);

/// `{"detail": "Successfully logged out."}` and other plain confirmations.
#[derive(serde::Serialize, ToSchema)]
pub struct Message {
    pub detail: String,
}

impl Message {
    pub fn new(detail: impl Into<String>) -> Self {
        Message {
            detail: detail.into(),
        }
    }
}

/// A 400 answer: field errors, a broken rule, or a malformed body (`{"detail": ...}`).
pub struct BadRequest;

impl utoipa::PartialSchema for BadRequest {
    fn schema() -> RefOr<Schema> {
        AnyOfBuilder::new()
            .item(Ref::from_schema_name("FieldErrors"))
            .item(Ref::from_schema_name("RuleError"))
            .item(Ref::from_schema_name("Detail"))
            .description(Some(
                "Field errors, a broken rule (detail and error), or a malformed body (detail).",
            ))
            .into()
    }
}

impl ToSchema for BadRequest {
    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        use utoipa::PartialSchema;
        schemas.extend([
            (FieldErrors::name().into_owned(), FieldErrors::schema()),
            (RuleError::name().into_owned(), RuleError::schema()),
            (Detail::name().into_owned(), Detail::schema()),
        ]);
    }
}

fn constant(value: bool) -> utoipa::openapi::schema::Object {
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::Boolean)
        .enum_values(Some([value]))
        .build()
}

/// A boolean that is always `true` (tells the shapes of a one-of apart).
pub fn always_true() -> utoipa::openapi::schema::Object {
    constant(true)
}

/// A boolean that is always `false` (tells the shapes of a one-of apart).
pub fn always_false() -> utoipa::openapi::schema::Object {
    constant(false)
}
