//! Prices per 1,000 tokens (USD), matched by the LONGEST model-name prefix (the old server
//! matched the first prefix in table order and billed `gpt-4o-mini` as `gpt-4o`).

/// (prefix, input, output) per 1K tokens.
const PRICES: &[(&str, f64, f64)] = &[
    ("gpt-5", 0.00125, 0.01),
    ("gpt-5-mini", 0.00025, 0.002),
    ("gpt-5-nano", 0.00005, 0.0004),
    ("gpt-5-pro", 0.015, 0.12),
    ("gpt-4.1", 0.002, 0.008),
    ("gpt-4.1-mini", 0.0004, 0.0016),
    ("gpt-4.1-nano", 0.0001, 0.0004),
    ("o4-mini", 0.0011, 0.0044),
    ("gpt-4o", 0.0025, 0.01),
    ("gpt-4o-mini", 0.00015, 0.0006),
    ("gpt-4-turbo", 0.01, 0.03),
    ("gpt-4", 0.03, 0.06),
];

/// Price entry used for a model: the longest matching prefix, else `gpt-4o`.
pub fn price_of(model: &str) -> (f64, f64) {
    PRICES
        .iter()
        .filter(|(prefix, _, _)| model.starts_with(prefix))
        .max_by_key(|(prefix, _, _)| prefix.len())
        .or_else(|| PRICES.iter().find(|(p, _, _)| *p == "gpt-4o"))
        .map_or((0.0, 0.0), |(_, i, o)| (*i, *o))
}

/// Cost of one call in USD, rounded to 6 decimals (the stored precision).
pub fn cost_usd(model: &str, input_tokens: u32, output_tokens: u32) -> f64 {
    let (i, o) = price_of(model);
    let raw = f64::from(input_tokens) / 1000.0 * i + f64::from(output_tokens) / 1000.0 * o;
    (raw * 1e6).round() / 1e6
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_longest_prefix_wins() {
        assert_eq!(price_of("gpt-4o-mini-2024-07-18"), (0.00015, 0.0006));
        assert_eq!(price_of("gpt-4o-2024-08-06"), (0.0025, 0.01));
        assert_eq!(price_of("gpt-5-mini"), (0.00025, 0.002));
        assert_eq!(price_of("gpt-4.1-nano"), (0.0001, 0.0004));
        assert_eq!(price_of("llava-local"), (0.0025, 0.01));
        assert_eq!(cost_usd("gpt-4o-mini", 1000, 100), 0.00021);
        assert_eq!(cost_usd("gpt-4o", 1234, 567), 0.008755);
    }
}
