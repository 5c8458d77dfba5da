//! Normalising a name as a person or a vision model writes it ("*Panthera leo* (Linnaeus,
//! 1758)", "African lion (Panthera leo)", "canis lupus familiaris", "Canis sp.") into the
//! candidates the matcher looks up: canonical scientific names and vernacular names.

use unicode_normalization::UnicodeNormalization;

/// A canonical scientific name: a genus and up to two epithets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Canonical {
    pub genus: String,
    pub epithet: Option<String>,
    pub infra: Option<String>,
}

impl Canonical {
    /// `Genus [epithet [infraspecific]]`.
    pub fn name(&self) -> String {
        let mut s = self.genus.clone();
        for part in [&self.epithet, &self.infra].into_iter().flatten() {
            s.push(' ');
            s.push_str(part);
        }
        s
    }

    /// The binomial of a trinomial (`None` for shorter names).
    pub fn species(&self) -> Option<Canonical> {
        self.infra.as_ref()?;
        Some(Canonical {
            genus: self.genus.clone(),
            epithet: self.epithet.clone(),
            infra: None,
        })
    }

    /// Number of name parts (1–3).
    pub fn parts(&self) -> usize {
        1 + usize::from(self.epithet.is_some()) + usize::from(self.infra.is_some())
    }
}

/// What a name was parsed into.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ParsedName {
    /// The input without markup, quotes and extra whitespace.
    pub cleaned: String,
    /// Scientific-name readings, best first (the text outside parentheses, then a Latin name
    /// found inside them).
    pub scientific: Vec<Canonical>,
    /// Vernacular readings, lower-cased: the whole cleaned text, and a common name given in
    /// parentheses.
    pub vernacular: Vec<String>,
    /// `Genus sp.` / `Genus spp.`: only the genus is meant.
    pub genus_only: bool,
}

impl ParsedName {
    /// The first scientific reading.
    pub fn primary(&self) -> Option<&Canonical> {
        self.scientific.first()
    }
}

const RANK_MARKERS: &[&str] = &[
    "subsp.",
    "subsp",
    "ssp.",
    "ssp",
    "var.",
    "var",
    "f.",
    "forma",
    "subvar.",
    "morph",
    "nothosubsp.",
];
const QUALIFIERS: &[&str] = &["cf.", "cf", "aff.", "aff", "?", "×", "x", "nr.", "near"];
const GENUS_ONLY: &[&str] = &["sp.", "sp", "spp.", "spp", "sp.nov.", "indet.", "sp.indet."];
const AUTHOR_PARTICLES: &[&str] = &[
    "in", "ex", "et", "&", "von", "van", "de", "der", "den", "du", "da", "dos", "del", "d'", "al.",
    "auct.", "non", "sensu",
];

fn clean(input: &str) -> String {
    let text: String = input.nfc().collect();
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '*' | '_' | '`' | '~' | '#' | '"' | '“' | '”' | '«' | '»' | '‘' | '’' => {
                out.push(' ')
            }
            c if c.is_whitespace() || c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    let mut words: Vec<&str> = out.split_whitespace().collect();
    // A leading list marker ("-", "•", "1.", "2)").
    if words.first().is_some_and(|w| {
        *w == "-"
            || *w == "•"
            || (w.len() <= 4
                && w.trim_end_matches(['.', ')'])
                    .chars()
                    .all(|c| c.is_ascii_digit())
                && w.ends_with(['.', ')']))
    }) {
        words.remove(0);
    }
    let joined = words.join(" ");
    joined
        .trim_matches(|c: char| matches!(c, '\'' | ',' | ';' | ':' | '!' | '?'))
        .trim()
        .to_owned()
}

/// Splits off parenthesised groups: (text outside, groups inside).
fn split_parentheses(text: &str) -> (String, Vec<String>) {
    let mut outside = String::new();
    let mut groups = Vec::new();
    let mut depth = 0usize;
    let mut current = String::new();
    for c in text.chars() {
        match c {
            '(' | '[' => {
                if depth == 0 {
                    current.clear();
                    outside.push(' ');
                } else {
                    current.push(c);
                }
                depth += 1;
            }
            ')' | ']' if depth > 0 => {
                depth -= 1;
                if depth == 0 {
                    groups.push(current.trim().to_owned());
                    outside.push(' ');
                } else {
                    current.push(c);
                }
            }
            c if depth > 0 => current.push(c),
            c => outside.push(c),
        }
    }
    if depth > 0 && !current.trim().is_empty() {
        groups.push(current.trim().to_owned());
    }
    let outside = outside.split_whitespace().collect::<Vec<_>>().join(" ");
    (outside, groups)
}

fn is_word(token: &str) -> bool {
    let t = token.trim_end_matches('.');
    !t.is_empty()
        && t.chars().all(|c| c.is_alphabetic() || c == '-')
        && t.chars().next().is_some_and(char::is_alphabetic)
}

fn looks_like_authorship(group: &str) -> bool {
    group.chars().any(|c| c.is_ascii_digit())
        || group.contains(',')
        || group.contains('&')
        || group
            .split_whitespace()
            .any(|w| AUTHOR_PARTICLES.contains(&w))
        || (group.ends_with('.') && group.chars().next().is_some_and(char::is_uppercase))
}

fn capitalise(word: &str) -> String {
    let lower = word.to_lowercase();
    let mut chars = lower.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Reads a Latin name from the start of `text`; `None` when it does not start like one.
/// Returns the name and whether it was written `Genus sp.`.
fn canonical(text: &str) -> Option<(Canonical, bool)> {
    let mut tokens = text
        .split_whitespace()
        .filter(|t| !QUALIFIERS.contains(&t.to_lowercase().as_str()))
        .peekable();
    let genus = tokens.next()?;
    if !is_word(genus) || genus.ends_with('.') || genus.chars().count() < 2 {
        return None;
    }
    let genus = capitalise(genus);
    let mut epithets: Vec<String> = Vec::new();
    let mut genus_only = false;
    let mut saw_lowercase = false;
    while let Some(tok) = tokens.next() {
        let lower = tok.to_lowercase();
        if GENUS_ONLY.contains(&lower.as_str()) {
            genus_only = epithets.is_empty();
            break;
        }
        if RANK_MARKERS.contains(&lower.as_str()) {
            continue;
        }
        if !is_word(tok) || tok.ends_with('.') || AUTHOR_PARTICLES.contains(&lower.as_str()) {
            break;
        }
        let capitalised = tok.chars().next().is_some_and(char::is_uppercase);
        // "Panthera leo Linnaeus": a capital after a lower-case epithet starts the authorship;
        // "Panthera Leo" (title case) is still an epithet.
        if capitalised && saw_lowercase {
            break;
        }
        // "Panthera Leo Linnaeus, 1758": an author name followed by a comma or a year.
        if capitalised
            && !epithets.is_empty()
            && tokens
                .peek()
                .is_some_and(|next| next.chars().any(|c| c.is_ascii_digit()))
        {
            break;
        }
        saw_lowercase |= !capitalised;
        epithets.push(lower.trim_end_matches(',').to_owned());
        if epithets.len() == 2 {
            break;
        }
    }
    let mut epithets = epithets.into_iter();
    Some((
        Canonical {
            genus,
            epithet: epithets.next(),
            infra: epithets.next(),
        },
        genus_only,
    ))
}

/// Parses a name into its scientific and vernacular readings.
pub fn parse(input: &str) -> ParsedName {
    let cleaned = clean(input);
    let (outside, groups) = split_parentheses(&cleaned);
    let mut parsed = ParsedName {
        cleaned: cleaned.clone(),
        ..ParsedName::default()
    };
    let mut vernacular_groups = Vec::new();
    let mut latin_groups = Vec::new();
    for g in groups {
        if g.is_empty() || looks_like_authorship(&g) {
            continue;
        }
        match canonical(&g) {
            // "African lion (Panthera leo)": a binomial inside parentheses. Two words may as well
            // be a common name ("Panthera leo (African lion)"): both readings are tried.
            Some((c, _)) if c.epithet.is_some() && g.split_whitespace().count() <= 3 => {
                latin_groups.push(c);
                vernacular_groups.push(g.to_lowercase());
            }
            // A single capitalised word right after the genus is a subgenus: ignored.
            Some((c, _))
                if c.epithet.is_none()
                    && g.split_whitespace().count() == 1
                    && g.chars().next().is_some_and(char::is_uppercase) => {}
            _ => vernacular_groups.push(g.to_lowercase()),
        }
    }
    if let Some((c, genus_only)) = canonical(&outside) {
        parsed.genus_only = genus_only;
        parsed.scientific.push(c);
    }
    for c in latin_groups {
        if !parsed.scientific.contains(&c) {
            parsed.scientific.push(c);
        }
    }
    let whole = outside.trim_end_matches('.').to_lowercase();
    if !whole.is_empty() {
        parsed.vernacular.push(whole);
    }
    for v in vernacular_groups {
        if !parsed.vernacular.contains(&v) {
            parsed.vernacular.push(v);
        }
    }
    parsed
}

/// Edit distance with adjacent transpositions (optimal string alignment), by characters.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let (n, m) = (a.len(), b.len());
    if n == 0 || m == 0 {
        return n.max(m);
    }
    let width = m + 1;
    let mut d = vec![0usize; (n + 1) * width];
    for i in 0..=n {
        d[i * width] = i;
    }
    for (j, cell) in d.iter_mut().enumerate().take(m + 1) {
        *cell = j;
    }
    for i in 1..=n {
        for j in 1..=m {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[(i - 1) * width + j] + 1)
                .min(d[i * width + j - 1] + 1)
                .min(d[(i - 1) * width + j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[(i - 2) * width + j - 2] + 1);
            }
            d[i * width + j] = v;
        }
    }
    d[n * width + m]
}

/// Edits a fuzzy match may need at most, by name length.
pub fn max_edits(len: usize) -> usize {
    match len {
        0..=4 => 0,
        5..=8 => 1,
        9..=15 => 2,
        _ => 3,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sci(input: &str) -> Vec<String> {
        parse(input)
            .scientific
            .iter()
            .map(Canonical::name)
            .collect()
    }

    #[test]
    fn noise_and_case_are_normalised() {
        assert_eq!(sci("  *Panthera   LEO*  "), ["Panthera leo"]);
        assert_eq!(sci("__panthera leo__"), ["Panthera leo"]);
        assert_eq!(sci("\"Panthera\u{a0}leo\"."), ["Panthera leo"]);
        assert_eq!(sci("1. Panthera Leo"), ["Panthera leo"]);
        assert_eq!(sci("- `Canis lupus`"), ["Canis lupus"]);
    }

    #[test]
    fn authorship_and_rank_markers_are_dropped() {
        assert_eq!(sci("Panthera leo (Linnaeus, 1758)"), ["Panthera leo"]);
        assert_eq!(sci("Panthera leo Linnaeus, 1758"), ["Panthera leo"]);
        assert_eq!(sci("Panthera leo L."), ["Panthera leo"]);
        assert_eq!(
            sci("Canis lupus subsp. familiaris"),
            ["Canis lupus familiaris"]
        );
        assert_eq!(
            sci("Canis lupus familiaris Linnaeus"),
            ["Canis lupus familiaris"]
        );
        assert_eq!(sci("Aedes (Stegomyia) aegypti"), ["Aedes aegypti"]);
        assert_eq!(sci("cf. Vulpes vulpes"), ["Vulpes vulpes"]);
    }

    #[test]
    fn sp_means_the_genus() {
        let p = parse("Canis sp.");
        assert!(p.genus_only);
        assert_eq!(sci("Canis spp."), ["Canis"]);
    }

    #[test]
    fn common_names_in_parentheses_go_both_ways() {
        let p = parse("Panthera leo (African lion)");
        assert_eq!(
            sci("Panthera leo (African lion)"),
            ["Panthera leo", "African lion"]
        );
        assert_eq!(p.vernacular, ["panthera leo", "african lion"]);
        assert_eq!(
            parse("Panthera leo (lion)").vernacular,
            ["panthera leo", "lion"]
        );
        assert_eq!(
            sci("African lion (Panthera leo)"),
            ["African lion", "Panthera leo"]
        );
        assert_eq!(parse("Lion").vernacular, ["lion"]);
    }

    #[test]
    fn nonsense_has_no_scientific_reading() {
        assert!(parse("1234 !!").scientific.is_empty());
        assert!(parse("").scientific.is_empty());
        assert!(parse("").vernacular.is_empty());
    }

    #[test]
    fn edit_distance_counts_transpositions_once() {
        assert_eq!(edit_distance("panthera leo", "pantera leo"), 1);
        assert_eq!(edit_distance("felis catus", "felis cattus"), 1);
        assert_eq!(edit_distance("canis lupus", "canis lupsu"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(max_edits(4), 0);
        assert_eq!(max_edits(11), 2);
    }
}
