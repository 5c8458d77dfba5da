//! Reading the model's answer: the structured JSON we ask for, or — for servers that ignore
//! the schema — the old plain-text format `Genus species [subspecies] (common name) | ...`.

use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One animal the model saw.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Detection {
    pub scientific_name: String,
    pub common_name: String,
    pub confidence: f64,
}

/// The old server's pattern: a capitalised genus, a lowercase epithet, an optional
/// subspecies and an optional `(common name)`. Unanchored, as before.
static TEXT: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"([A-Z][a-z]+)[\s,]+([a-z]+)(?:\s+([a-z]+))?(?:\s*\(([^)]*)\))?").ok()
});

/// Longest word kept (genus, species and subspecies are `varchar(100)`) and longest name
/// (`varchar(200)`): a model's answer must fit the columns it is stored in.
const MAX_WORD: usize = 100;
const MAX_NAME: usize = 200;

/// Whitespace collapsed, control characters (NUL included, which PostgreSQL refuses) removed,
/// and clipped to the columns.
fn clean(s: &str) -> String {
    let words: Vec<String> = s
        .split_whitespace()
        .map(|w| {
            w.chars()
                .filter(|c| !c.is_control())
                .take(MAX_WORD)
                .collect::<String>()
        })
        .filter(|w| !w.is_empty())
        .collect();
    let name: String = words.join(" ").chars().take(MAX_NAME).collect();
    name.trim_end().to_owned()
}

fn from_json(value: &Value) -> Option<Vec<Detection>> {
    let list = match value {
        Value::Object(o) => o.get("animals")?.as_array()?,
        Value::Array(a) => a,
        _ => return None,
    };
    Some(
        list.iter()
            .filter_map(|item| {
                let name = clean(
                    item.get("scientific_name")?
                        .as_str()?
                        .replace(['*', '_'], "")
                        .as_str(),
                );
                if name.is_empty() {
                    return None;
                }
                let common = item
                    .get("common_name")
                    .and_then(Value::as_str)
                    .map(clean)
                    .unwrap_or_default();
                let confidence = item
                    .get("confidence")
                    .and_then(Value::as_f64)
                    .filter(|c| c.is_finite())
                    .map_or(0.5, |c| c.clamp(0.0, 1.0));
                Some(Detection {
                    scientific_name: name,
                    common_name: common,
                    confidence,
                })
            })
            .collect(),
    )
}

fn strip_fences(s: &str) -> &str {
    let t = s.trim();
    let t = t
        .strip_prefix("```json")
        .or_else(|| t.strip_prefix("```"))
        .unwrap_or(t);
    t.strip_suffix("```").unwrap_or(t).trim()
}

fn from_text(answer: &str) -> Vec<Detection> {
    let Some(re) = TEXT.as_ref() else {
        return Vec::new();
    };
    answer
        .split('|')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .enumerate()
        .filter_map(|(idx, piece)| {
            let piece = piece.replace(['*', '_'], "");
            let caps = re.captures(&piece)?;
            let mut name = format!("{} {}", &caps[1], &caps[2]);
            if let Some(sub) = caps.get(3) {
                name.push(' ');
                name.push_str(sub.as_str());
            }
            let name = clean(&name);
            let common = caps.get(4).map(|m| clean(m.as_str())).unwrap_or_default();
            // The position stands in for confidence, as before, but never below zero.
            let confidence = ((0.9 - idx as f64 * 0.1) * 100.0).round().max(0.0) / 100.0;
            Some(Detection {
                scientific_name: name,
                common_name: common,
                confidence,
            })
        })
        .collect()
}

/// Every detection in the answer, most prominent first. "No animal" is an empty list.
pub fn parse_answer(answer: &str) -> Vec<Detection> {
    let body = strip_fences(answer);
    if body.is_empty() || body.eq_ignore_ascii_case("NO ANIMALS FOUND") {
        return Vec::new();
    }
    if let Ok(value) = serde_json::from_str::<Value>(body)
        && let Some(found) = from_json(&value)
    {
        return found;
    }
    from_text(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_fit_their_columns_and_lose_control_characters() {
        let long = "a".repeat(300);
        let d = parse_answer(&format!(
            r#"{{"animals":[{{"scientific_name":"Bufo\u0000 {long}","common_name":"t\u0000oad {long}"}}]}}"#
        ));
        assert_eq!(d[0].scientific_name, format!("Bufo {}", "a".repeat(100)));
        assert!(d[0].common_name.starts_with("toad "));
        assert!(d[0].common_name.chars().count() <= 200);
        let d = parse_answer(&format!("B{} bufo", "u".repeat(300)));
        assert_eq!(d[0].scientific_name.split(' ').next().unwrap().len(), 100);
    }

    #[test]
    fn structured_answers_are_read_and_clamped() {
        let d = parse_answer(
            r#"{"animals":[{"scientific_name":"Vulpes  vulpes","common_name":"Red fox","confidence":0.97},
                           {"scientific_name":"Corvus corax","common_name":"","confidence":7}]}"#,
        );
        assert_eq!(d.len(), 2);
        assert_eq!(d[0].scientific_name, "Vulpes vulpes");
        assert_eq!(d[1].confidence, 1.0);
        assert!(parse_answer(r#"{"animals":[]}"#).is_empty());
        assert_eq!(
            parse_answer("```json\n[{\"scientific_name\":\"Felis catus\"}]\n```")[0].confidence,
            0.5
        );
    }

    #[test]
    fn the_old_text_format_still_parses() {
        let d = parse_answer(
            "**Canis lupus familiaris** (Domestic Dog) | Vulpes zerda (Fennec Fox) | no animal here | Felis catus",
        );
        let names: Vec<&str> = d.iter().map(|x| x.scientific_name.as_str()).collect();
        assert_eq!(
            names,
            ["Canis lupus familiaris", "Vulpes zerda", "Felis catus"]
        );
        assert_eq!(d[0].common_name, "Domestic Dog");
        assert_eq!(d[0].confidence, 0.9);
        assert_eq!(
            d[2].confidence, 0.6,
            "unparseable pieces still take a position"
        );
        assert!(parse_answer("NO ANIMALS FOUND").is_empty());
        assert!(parse_answer("  no animals found \n").is_empty());
        assert!(parse_answer("").is_empty());
    }
}
