//! Validation of animal input (create, update, lookup-or-create).

use biologidex_db::models::animals::{Animal, AnimalFields, CONSERVATION_STATUSES};
use serde_json::Value;

use crate::input::Body;

/// Every writable key, as the client sends them (`class_name`, `order`).
pub const KEYS: &[&str] = &[
    "scientific_name",
    "common_name",
    "kingdom",
    "phylum",
    "class_name",
    "order",
    "family",
    "genus",
    "species",
    "description",
    "habitat",
    "diet",
    "conservation_status",
    "interesting_facts",
    "verified",
];

fn bounded(body: &mut Body, key: &str, max: usize, current: &str) -> String {
    match body.optional_str(key) {
        Some(v) if v.chars().count() > max => {
            body.error(key, crate::request::too_long(max));
            v
        }
        Some(v) => v,
        None => current.to_owned(),
    }
}

/// Reads animal fields over `current` (defaults for a new animal). `require_names` makes
/// `scientific_name` and `common_name` required (create, PUT).
pub fn read(
    body: &mut Body,
    current: Option<&Animal>,
    require_names: bool,
    allow_verified: bool,
) -> AnimalFields {
    let blank = AnimalFields {
        kingdom: "Animalia".to_owned(),
        conservation_status: "NE".to_owned(),
        interesting_facts: Value::Array(vec![]),
        ..AnimalFields::default()
    };
    let base = match current {
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
        None => blank,
    };
    let mut f = base.clone();
    for key in ["scientific_name", "common_name"] {
        let value = if require_names {
            body.required_str(key)
        } else {
            body.optional_str(key)
        };
        let value = match value {
            Some(v) if v.chars().count() > 200 => {
                body.error(key, "Ensure this field has no more than 200 characters.");
                continue;
            }
            Some(v) if v.is_empty() => {
                body.error(key, "This field may not be blank.");
                continue;
            }
            Some(v) => v,
            None => continue,
        };
        if key == "scientific_name" {
            f.scientific_name = value.split_whitespace().collect::<Vec<_>>().join(" ");
        } else {
            f.common_name = value;
        }
    }
    f.kingdom = bounded(body, "kingdom", 100, &base.kingdom);
    f.phylum = bounded(body, "phylum", 100, &base.phylum);
    f.class_name = bounded(body, "class_name", 100, &base.class_name);
    f.order_name = bounded(body, "order", 100, &base.order_name);
    f.family = bounded(body, "family", 100, &base.family);
    f.genus = bounded(body, "genus", 100, &base.genus);
    f.species = bounded(body, "species", 100, &base.species);
    f.description = body
        .optional_str("description")
        .unwrap_or(base.description.clone());
    f.habitat = body.optional_str("habitat").unwrap_or(base.habitat.clone());
    f.diet = body.optional_str("diet").unwrap_or(base.diet.clone());
    if body.has("conservation_status")
        && let Some(v) = body.required_choice("conservation_status", CONSERVATION_STATUSES)
    {
        f.conservation_status = v;
    }
    match body.optional_json("interesting_facts") {
        None => {}
        Some(v @ Value::Array(_)) => f.interesting_facts = v,
        Some(_) => body.error("interesting_facts", "Expected a list of items."),
    }
    if body.has("verified") {
        match body.optional_json("verified") {
            Some(Value::Bool(b)) if allow_verified => f.verified = b,
            Some(Value::Bool(_)) => {}
            _ => body.error("verified", "Must be a valid boolean."),
        }
    }
    f.derive_genus_species();
    // Derived from the scientific name, so not bounded by the checks above.
    if !body.has_error("genus") {
        body.max_chars("genus", Some(&f.genus), 100);
    }
    if !body.has_error("species") {
        body.max_chars("species", Some(&f.species), 100);
    }
    f
}
