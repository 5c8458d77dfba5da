//! Reads a JSON object (a body, or multipart text parts) into a request struct,
//! collecting every field's problem instead of stopping at the first, as DRF does. The struct's
//! own field list (from its `Deserialize`) is the list of known keys, so nothing else repeats it.
//!
//! Every declared field is visited, present or not; while a field is read its name is the
//! collector's current field, and the field types of [`super::field`] report refusals there.

use std::cell::RefCell;

use biologidex_core::error::FieldErrors;
use serde::{
    Deserializer,
    de::{
        self, DeserializeOwned, DeserializeSeed, MapAccess, Visitor, value::BorrowedStrDeserializer,
    },
    forward_to_deserialize_any,
};
use serde_json::{Map, Value};

/// The messages refusing one value.
pub type Refusal = Vec<String>;

/// The newtype name through which a field type asks for its raw slot.
pub(super) const SLOT: &str = "$biologidex::request::Slot";

/// One declared field as the client sent it.
pub(super) enum Slot {
    Absent,
    Present(Value),
}

struct Collector {
    field: &'static str,
    errors: FieldErrors,
}

thread_local! {
    static COLLECTOR: RefCell<Option<Collector>> = const { RefCell::new(None) };
}

/// Records `messages` on the field being read; outside [`read`] they are the error itself.
pub(super) fn refuse<E: de::Error>(messages: Refusal) -> Result<(), E> {
    COLLECTOR.with_borrow_mut(|c| match c {
        Some(c) => {
            c.errors
                .entry(c.field.to_owned())
                .or_default()
                .extend(messages);
            Ok(())
        }
        None => Err(E::custom(messages.join(" "))),
    })
}

/// What a key the struct does not declare is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unknown {
    /// A field error each (bodies: nothing is silently dropped).
    Refuse,
    /// Skipped (query strings, as Django's filters skip them).
    Ignore,
}

/// Reads `map` into `T`, or every field's problems.
/// Keys the struct does not declare are a field error each: nothing is silently dropped.
pub fn read<T: DeserializeOwned>(map: Map<String, Value>) -> Result<T, FieldErrors> {
    read_checked(map, Unknown::Refuse, |_: &T, _| {})
}

/// Reads `map` into `T`, then lets `check` add the rules that span fields (it sees the value
/// with placeholders where a field was refused, and the errors so far), or every problem.
pub fn read_checked<T: DeserializeOwned>(
    map: Map<String, Value>,
    unknown: Unknown,
    check: impl FnOnce(&T, &mut FieldErrors),
) -> Result<T, FieldErrors> {
    COLLECTOR.set(Some(Collector {
        field: "non_field_errors",
        errors: FieldErrors::new(),
    }));
    let result = T::deserialize(Object { map, unknown });
    let Collector { field, mut errors } = COLLECTOR.take().unwrap_or(Collector {
        field: "non_field_errors",
        errors: FieldErrors::new(),
    });
    match result {
        // A plain (non-wrapper) field refused its value: serde's own message, on that field.
        Err(e) => {
            errors
                .entry(field.to_owned())
                .or_default()
                .push(e.to_string());
            Err(errors)
        }
        Ok(value) => {
            check(&value, &mut errors);
            if errors.is_empty() {
                Ok(value)
            } else {
                Err(errors)
            }
        }
    }
}

fn record(field: &str, message: &str) {
    COLLECTOR.with_borrow_mut(|c| {
        if let Some(c) = c {
            c.errors
                .entry(field.to_owned())
                .or_default()
                .push(message.to_owned());
        }
    });
}

struct Object {
    map: Map<String, Value>,
    unknown: Unknown,
}

impl<'de> Deserializer<'de> for Object {
    type Error = serde_json::Error;

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        if self.unknown == Unknown::Refuse {
            for key in self.map.keys().filter(|k| !fields.contains(&k.as_str())) {
                record(key, "Unknown field.");
            }
        }
        visitor.visit_map(Fields {
            fields: fields.iter(),
            map: self.map,
            current: None,
        })
    }

    fn deserialize_any<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, Self::Error> {
        Err(de::Error::custom("a request is read into a struct"))
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
        ignored_any
    }
}

struct Fields {
    fields: std::slice::Iter<'static, &'static str>,
    map: Map<String, Value>,
    current: Option<&'static str>,
}

impl<'de> MapAccess<'de> for Fields {
    type Error = serde_json::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Self::Error> {
        let Some(&name) = self.fields.next() else {
            return Ok(None);
        };
        self.current = Some(name);
        COLLECTOR.with_borrow_mut(|c| {
            if let Some(c) = c {
                c.field = name;
            }
        });
        seed.deserialize(BorrowedStrDeserializer::<Self::Error>::new(name))
            .map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, Self::Error> {
        let value = self.current.take().and_then(|name| self.map.remove(name));
        seed.deserialize(SlotDeserializer(value))
    }
}

/// One field's slot: the wrappers read it whole; any other field type reads the value.
struct SlotDeserializer(Option<Value>);

impl<'de> Deserializer<'de> for SlotDeserializer {
    type Error = serde_json::Error;

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        match (name == SLOT, self.0) {
            (true, None) => visitor.visit_unit(),
            (true, Some(v)) => visitor.visit_newtype_struct(v),
            (false, None) => Err(de::Error::custom(super::field::REQUIRED)),
            (false, Some(v)) => v.deserialize_newtype_struct(name, visitor),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.0 {
            None | Some(Value::Null) => visitor.visit_none(),
            Some(v) => visitor.visit_some(v),
        }
    }

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.0 {
            None => Err(de::Error::custom(super::field::REQUIRED)),
            Some(v) => v.deserialize_any(visitor),
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        match self.0 {
            None => Err(de::Error::custom(super::field::REQUIRED)),
            Some(v) => v.deserialize_enum(name, variants, visitor),
        }
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        unit unit_struct seq tuple tuple_struct map struct identifier ignored_any
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;
    use serde_json::json;

    use super::*;
    use crate::request::{Nullable, Optional, Required};

    #[derive(Debug, Deserialize)]
    struct Sample {
        name: Required<String>,
        count: Optional<i64>,
        note: Nullable<String>,
    }

    fn object(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let errors = read::<Sample>(object(json!({"count": "x", "extra": 1})))
            .err()
            .unwrap_or_default();
        assert_eq!(
            serde_json::to_value(&errors).unwrap_or_default(),
            json!({
                "name": ["This field is required."],
                "count": ["A valid integer is required."],
                "extra": ["Unknown field."],
            })
        );
    }

    #[test]
    fn integral_floats_count_and_null_clears_only_where_allowed() {
        let ok = read::<Sample>(object(json!({"name": " a ", "count": 3.0, "note": null})));
        let Ok(s) = ok else {
            panic!("refused: {ok:?}");
        };
        assert_eq!((s.name.0.as_str(), s.count.0), ("a", Some(3)));
        assert_eq!(s.note, Nullable::Null);
        let errors = read::<Sample>(object(json!({"name": null, "count": null})))
            .err()
            .unwrap_or_default();
        assert_eq!(errors.len(), 2);
    }

    #[derive(Debug, Deserialize)]
    struct Lenient {
        list: crate::request::RequiredAny<Value>,
        extra: crate::request::OptionalAny<Value>,
    }

    #[test]
    fn the_any_wrappers_pass_null_on_and_checks_see_the_errors_so_far() {
        let ok = read::<Lenient>(object(json!({"list": null, "extra": null})));
        let Ok(l) = ok else {
            panic!("refused: {ok:?}");
        };
        assert_eq!((l.list.0, l.extra.0), (Value::Null, Some(Value::Null)));
        let errors = read_checked::<Lenient>(object(json!({"bad": 1})), Unknown::Refuse, |l, e| {
            assert!(l.extra.0.is_none() && e.contains_key("list") && e.contains_key("bad"));
            e.insert("extra".to_owned(), vec!["Checked.".to_owned()]);
        })
        .err()
        .unwrap_or_default();
        assert_eq!(errors.len(), 3);
        let ignored = read_checked::<Lenient>(
            object(json!({"list": 1, "x": 2})),
            Unknown::Ignore,
            |_, _| {},
        );
        assert!(ignored.is_ok());
    }

    #[test]
    fn outside_a_request_a_refusal_is_the_error() {
        let parsed = serde_json::from_value::<Required<i64>>(json!("x"));
        assert!(parsed.is_err());
    }
}
