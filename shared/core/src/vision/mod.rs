//! Pure rules of the vision step: the prompt and answer schema, parsing the model's answer
//! (structured JSON, or the old `Genus species (common name) | ...` text), and pricing.

pub mod cost;
pub mod parse;
pub mod prompt;

pub use parse::{Detection, parse_answer};
