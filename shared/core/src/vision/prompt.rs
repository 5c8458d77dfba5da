//! What the vision model is asked, and the JSON schema its answer should follow.

use serde_json::{Value, json};

/// The instruction sent with every photo.
pub const PROMPT: &str = "Identify every animal visible in this photo. Animals include mammals, birds, \
reptiles, amphibians, fish and invertebrates such as insects, spiders, snails, crabs and worms. \
For each distinct animal give its scientific name as precisely as you can (species, or subspecies \
when clear; otherwise the genus or family), its common English name, and your confidence from 0 to 1. \
List the most prominent animal first. People, toys, drawings and statues of animals are not animals. \
If there is no animal, return an empty list.";

/// JSON schema for structured output: `{"animals": [{scientific_name, common_name, confidence}]}`.
pub fn answer_schema() -> Value {
    json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["animals"],
        "properties": {
            "animals": {
                "type": "array",
                "items": {
                    "type": "object",
                    "additionalProperties": false,
                    "required": ["scientific_name", "common_name", "confidence"],
                    "properties": {
                        "scientific_name": {"type": "string"},
                        "common_name": {"type": "string"},
                        "confidence": {"type": "number"}
                    }
                }
            }
        }
    })
}
