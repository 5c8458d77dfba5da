//! The animal fields of request bodies (create, update, lookup-or-create) and how a parsed body
//! becomes the stored fields.

use biologidex_core::error::FieldErrors;
use biologidex_db::models::animals::{Animal, AnimalFields, CONSERVATION_STATUSES};
use serde_json::{Map, Value};

use crate::{
    ApiError, ApiResult,
    request::{
        FieldValue, NOT_BLANK, Optional, REQUIRED, Refusal, Required, filter_choice, not_a_choice,
        object, too_long,
    },
};

/// Most characters of either name.
const NAME_MAX: usize = 200;
/// Most characters of a rank (genus, species...).
const RANK_MAX: usize = 100;

/// A scientific or common name: trimmed text of at most 200 characters, never blank.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AnimalName(pub String);

impl FieldValue for AnimalName {
    fn from_json(value: Value) -> Result<Self, Refusal> {
        let text = String::from_json(value)?;
        if text.chars().count() > NAME_MAX {
            Err(vec![too_long(NAME_MAX)])
        } else if text.is_empty() {
            Err(vec![NOT_BLANK.to_owned()])
        } else {
            Ok(AnimalName(text))
        }
    }
}

/// A conservation status code (`EX` ... `NE`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Status(pub String);

impl FieldValue for Status {
    fn from_json(value: Value) -> Result<Self, Refusal> {
        match value {
            Value::String(s) if CONSERVATION_STATUSES.contains(&s.as_str()) => Ok(Status(s)),
            other => Err(vec![not_a_choice(&other)]),
        }
    }
}

/// A conservation status as a list filter (django-filter's message for another value).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatusFilter(pub String);

impl FieldValue for StatusFilter {
    fn from_json(value: Value) -> Result<Self, Refusal> {
        filter_choice(value, |s| {
            CONSERVATION_STATUSES
                .contains(&s)
                .then(|| StatusFilter(s.to_owned()))
        })
    }
}

/// The interesting facts: a JSON list (anything else, `null` too, is refused).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Facts(pub Value);

impl FieldValue for Facts {
    fn from_json(value: Value) -> Result<Self, Refusal> {
        match value {
            v @ Value::Array(_) => Ok(Facts(v)),
            _ => Err(vec!["Expected a list of items.".to_owned()]),
        }
    }
}

/// A JSON boolean, nothing else (`null` and strings refused).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StrictBool(pub bool);

impl FieldValue for StrictBool {
    fn from_json(value: Value) -> Result<Self, Refusal> {
        match value {
            Value::Bool(b) => Ok(StrictBool(b)),
            _ => Err(vec!["Must be a valid boolean.".to_owned()]),
        }
    }
}

/// A name field, required or not.
pub trait NameField {
    fn name(&self) -> Option<String>;
}

impl NameField for Required<AnimalName> {
    fn name(&self) -> Option<String> {
        Some(self.0.0.clone())
    }
}

impl NameField for Optional<AnimalName> {
    fn name(&self) -> Option<String> {
        self.0.as_ref().map(|n| n.0.clone())
    }
}

/// The values an animal body sent (`None`: absent, or refused).
#[derive(Debug, Default)]
pub struct Sent {
    pub scientific_name: Option<String>,
    pub common_name: Option<String>,
    pub kingdom: Option<String>,
    pub phylum: Option<String>,
    pub class_name: Option<String>,
    pub order: Option<String>,
    pub family: Option<String>,
    pub genus: Option<String>,
    pub species: Option<String>,
    pub description: Option<String>,
    pub habitat: Option<String>,
    pub diet: Option<String>,
    pub conservation_status: Option<String>,
    pub interesting_facts: Option<Value>,
    pub verified: Option<bool>,
}

/// An animal request body (see `schema::animal_request!`).
pub trait AnimalRequest {
    fn sent(&self) -> Sent;
}

fn base(current: Option<&Animal>) -> AnimalFields {
    match current {
        Some(a) => AnimalFields {
            scientific_name: a.scientific_name.clone(),
            common_name: a.common_name.clone(),
            kingdom: a.kingdom.clone(),
            phylum: a.phylum.clone(),
            class_name: a.class_name.clone(),
            order_name: a.order_name.clone(),
            family: a.family.clone(),
            genus: a.genus.clone(),
            species: a.species.clone(),
            description: a.description.clone(),
            habitat: a.habitat.clone(),
            diet: a.diet.clone(),
            conservation_status: a.conservation_status.clone(),
            interesting_facts: a.interesting_facts.clone(),
            verified: a.verified,
        },
        None => AnimalFields {
            kingdom: "Animalia".to_owned(),
            conservation_status: "NE".to_owned(),
            interesting_facts: Value::Array(vec![]),
            ..AnimalFields::default()
        },
    }
}

/// The body's values over `current` (defaults for a new animal); `verified` only when
/// `allow_verified`. Genus and species are derived from a two-word scientific name when empty.
pub fn apply(sent: Sent, current: Option<&Animal>, allow_verified: bool) -> AnimalFields {
    let mut f = base(current);
    let keep = |v: Option<String>, into: &mut String| {
        if let Some(v) = v {
            *into = v;
        }
    };
    if let Some(name) = sent.scientific_name {
        f.scientific_name = name.split_whitespace().collect::<Vec<_>>().join(" ");
    }
    keep(sent.common_name, &mut f.common_name);
    keep(sent.kingdom, &mut f.kingdom);
    keep(sent.phylum, &mut f.phylum);
    keep(sent.class_name, &mut f.class_name);
    keep(sent.order, &mut f.order_name);
    keep(sent.family, &mut f.family);
    keep(sent.genus, &mut f.genus);
    keep(sent.species, &mut f.species);
    keep(sent.description, &mut f.description);
    keep(sent.habitat, &mut f.habitat);
    keep(sent.diet, &mut f.diet);
    keep(sent.conservation_status, &mut f.conservation_status);
    if let Some(facts) = sent.interesting_facts {
        f.interesting_facts = facts;
    }
    if let Some(v) = sent.verified.filter(|_| allow_verified) {
        f.verified = v;
    }
    f.derive_genus_species();
    f
}

/// The rules spanning fields: the names a full write (create, PUT) needs, and the bounds of a
/// genus and species derived from the scientific name.
pub fn check(
    body: &impl AnimalRequest,
    errors: &mut FieldErrors,
    current: Option<&Animal>,
    require_names: bool,
) {
    let sent = body.sent();
    for (key, value) in [
        ("scientific_name", &sent.scientific_name),
        ("common_name", &sent.common_name),
    ] {
        if require_names && value.is_none() && !errors.contains_key(key) {
            errors.insert(key.to_owned(), vec![REQUIRED.to_owned()]);
        }
    }
    let f = apply(sent, current, false);
    for (key, value) in [("genus", &f.genus), ("species", &f.species)] {
        if !errors.contains_key(key) && value.chars().count() > RANK_MAX {
            errors.insert(key.to_owned(), vec![too_long(RANK_MAX)]);
        }
    }
}

/// Lookup-or-create's body before it is read: `scientific_name` must be a non-blank string (a
/// rule error otherwise, whatever the body is), and a `common_name` that is not a non-blank
/// string becomes it.
pub fn lookup_defaults(body: Value) -> ApiResult<Map<String, Value>> {
    let name = body
        .get("scientific_name")
        .and_then(Value::as_str)
        .map(str::trim)
        .unwrap_or_default()
        .to_owned();
    if name.is_empty() {
        return Err(ApiError::rule("scientific_name is required"));
    }
    let mut map = object(body)?;
    if map
        .get("common_name")
        .and_then(Value::as_str)
        .is_none_or(|c| c.trim().is_empty())
    {
        map.insert("common_name".to_owned(), Value::String(name));
    }
    Ok(map)
}
