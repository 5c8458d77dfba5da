//! Turning ColDP rows into staging rows: per-field normalisation (status, rank, code, extinct,
//! environment, IUCN categories, name parts) and validation. Relational work (links,
//! classification, deduplication) is left to set-based SQL in `import`.

use std::collections::HashMap;

use uuid::Uuid;

use super::{
    copy::{CopyWriter, record_id},
    tsv::{Header, Row},
};

/// The flattened-classification ranks, in `taxonomic_ranks` order: rank name, `taxa` column and
/// ColDP column. A usage's own name fills the slot of its rank.
pub const CLASSIFICATION: [(&str, &str); 20] = [
    ("kingdom", "kingdom"),
    ("subkingdom", "subkingdom"),
    ("phylum", "phylum"),
    ("subphylum", "subphylum"),
    ("class", "class_name"),
    ("subclass", "subclass"),
    ("order", "order_name"),
    ("suborder", "suborder"),
    ("superfamily", "superfamily"),
    ("family", "family"),
    ("subfamily", "subfamily"),
    ("tribe", "tribe"),
    ("subtribe", "subtribe"),
    ("genus", "genus"),
    ("subgenus", "subgenus"),
    ("section", "section"),
    ("species", "species"),
    ("subspecies", "subspecies"),
    ("variety", "variety"),
    ("form", "form"),
];

/// 1-based classification slot of a rank name (after aliases).
pub fn slot_of(rank: &str) -> Option<usize> {
    let rank = canonical_rank(rank);
    CLASSIFICATION
        .iter()
        .position(|(r, _)| *r == rank)
        .map(|i| i + 1)
}

/// Slot of the species rank (names at or below it are binomials or longer).
pub const SPECIES_SLOT: usize = 17;

fn canonical_rank(rank: &str) -> String {
    let r = rank.trim().to_ascii_lowercase();
    match r.as_str() {
        "forma" | "f." => "form".to_owned(),
        "subsp." | "ssp." | "subsp" | "ssp" => "subspecies".to_owned(),
        "var." | "var" => "variety".to_owned(),
        _ => r,
    }
}

/// Maps a ColDP taxonomic status to ours.
pub fn map_status(raw: &str) -> &'static str {
    match raw.trim().to_ascii_lowercase().replace('_', " ").as_str() {
        "accepted" => "accepted",
        "provisionally accepted" | "provisional" => "provisional",
        "synonym" => "synonym",
        "ambiguous synonym" | "ambiguous" => "ambiguous",
        "misapplied" => "misapplied",
        _ => "doubtful",
    }
}

/// Maps a ColDP nomenclatural code to ours ('' when unknown).
pub fn map_code(raw: &str) -> &'static str {
    match raw.trim().to_ascii_lowercase().as_str() {
        "zoological" | "iczn" => "iczn",
        "botanical" | "icn" | "icbn" => "icn",
        "bacterial" | "icnp" | "icsp" => "icnp",
        "virus" | "ictv" => "ictv",
        "icnafp" => "icnafp",
        _ => "",
    }
}

/// `true`/`false` (and their usual spellings); anything else is unknown.
pub fn map_bool(raw: &str) -> Option<bool> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "true" | "t" | "1" | "yes" | "y" => Some(true),
        "false" | "f" | "0" | "no" | "n" => Some(false),
        _ => None,
    }
}

/// Comma-separated environments, kept to marine, terrestrial and freshwater (brackish counts as
/// marine), without duplicates.
pub fn map_environment(raw: &str) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::new();
    for part in raw.split([',', ';', '|']) {
        let env = match part.trim().to_ascii_lowercase().as_str() {
            "marine" | "brackish" => "marine",
            "terrestrial" => "terrestrial",
            "freshwater" => "freshwater",
            _ => continue,
        };
        if !out.contains(&env) {
            out.push(env);
        }
    }
    out
}

/// The IUCN Red List categories, most severe first.
pub const IUCN_CODES: [&str; 9] = ["EX", "EW", "CR", "EN", "VU", "NT", "LC", "DD", "NE"];

/// An IUCN category code from a code or its English name; `None` otherwise.
pub fn iucn_code(raw: &str) -> Option<&'static str> {
    let r = raw.trim().to_ascii_lowercase().replace(['_', '-'], " ");
    let code = match r.as_str() {
        "ex" | "extinct" => "EX",
        "ew" | "extinct in the wild" => "EW",
        "cr" | "critically endangered" => "CR",
        "en" | "endangered" => "EN",
        "vu" | "vulnerable" => "VU",
        "nt" | "near threatened" | "lr/nt" => "NT",
        "lc" | "least concern" | "lr/lc" => "LC",
        "dd" | "data deficient" => "DD",
        "ne" | "not evaluated" => "NE",
        _ => return None,
    };
    Some(code)
}

/// At most `max` characters of `s`.
pub fn truncate_chars(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

fn too_long(field: &str, max: usize) -> String {
    format!("{field} is longer than {max} characters")
}

/// What every mapper needs: the source (id namespace), rank ids and the link template.
#[derive(Debug, Clone)]
pub struct MapContext {
    pub source_id: Uuid,
    /// Rank name → `taxonomic_ranks.id`.
    pub ranks: HashMap<String, i16>,
    /// `{id}` is replaced by the usage id (Catalogue of Life's taxon pages).
    pub url_template: Option<String>,
}

impl MapContext {
    fn id(&self, parts: &[&str]) -> Uuid {
        record_id(&self.source_id, parts)
    }

    /// The id a usage key gets.
    pub fn taxon_id(&self, key: &str) -> Uuid {
        self.id(&["usage", key])
    }
}

/// Maps one file's rows into staging rows.
pub trait RowMapper: Sized + Send {
    /// Staging table columns, in COPY order.
    const COLUMNS: &'static str;
    /// Resolves column positions; `Err` names the missing required columns.
    fn new(header: &Header, ctx: MapContext) -> Result<Self, String>;
    /// Writes one staging row, or explains why the row is bad.
    fn map(&self, line: u64, row: &Row<'_>, out: &mut CopyWriter) -> Result<(), String>;
}

fn require(header: &Header, names: &[&str]) -> Result<Vec<usize>, String> {
    let mut found = Vec::new();
    let mut missing = Vec::new();
    for n in names {
        match header.index(n) {
            Some(i) => found.push(i),
            None => missing.push(format!("col:{n}")),
        }
    }
    if missing.is_empty() {
        Ok(found)
    } else {
        Err(format!(
            "missing required column(s): {}",
            missing.join(", ")
        ))
    }
}

/// NameUsage.tsv → `stage_usage`.
pub struct UsageMapper {
    ctx: MapContext,
    id: usize,
    parent: Option<usize>,
    status: Option<usize>,
    rank: Option<usize>,
    name: usize,
    authorship: Option<usize>,
    classification: Vec<Option<usize>>,
    generic: Option<usize>,
    specific: Option<usize>,
    infraspecific: Option<usize>,
    code: Option<usize>,
    extinct: Option<usize>,
    environment: Option<usize>,
    link: Option<usize>,
    reference: Option<usize>,
}

impl RowMapper for UsageMapper {
    const COLUMNS: &'static str = "line, id, key, parent_ref, parent_key, status, is_accepted, \
        rank_id, slot, scientific_name, authorship, path_name, k1, k2, k3, k4, k5, k6, k7, k8, k9, \
        k10, k11, k12, k13, k14, k15, k16, k17, k18, k19, k20, generic_name, \
        specific_epithet, infraspecific_epithet, extinct, environment, nomenclatural_code, \
        source_url, source_reference";

    fn new(header: &Header, ctx: MapContext) -> Result<Self, String> {
        let req = require(header, &["ID", "scientificName"])?;
        Ok(UsageMapper {
            id: req[0],
            name: req[1],
            parent: header.index("parentID"),
            status: header.index("status"),
            rank: header.index("rank"),
            authorship: header.index("authorship"),
            classification: CLASSIFICATION
                .iter()
                .map(|(rank, _)| header.index(rank))
                .collect(),
            generic: header.index("genericName"),
            specific: header.index("specificEpithet"),
            infraspecific: header.index("infraspecificEpithet"),
            code: header.index("code"),
            extinct: header.index("extinct"),
            environment: header.index("environment"),
            link: header.index("link"),
            reference: header
                .index("nameReferenceID")
                .or_else(|| header.index("referenceID")),
            ctx,
        })
    }

    fn map(&self, line: u64, row: &Row<'_>, out: &mut CopyWriter) -> Result<(), String> {
        let key = row.get(Some(self.id));
        if key.is_empty() {
            return Err("col:ID is empty".to_owned());
        }
        if key.chars().count() > 100 {
            return Err(too_long("col:ID", 100));
        }
        let name = row.get(Some(self.name));
        if name.is_empty() {
            return Err("col:scientificName is empty".to_owned());
        }
        if name.chars().count() > 300 {
            return Err(too_long("col:scientificName", 300));
        }
        let parent_key = row.get(self.parent);
        let status = map_status(&row.get(self.status));
        let rank = canonical_rank(&row.get(self.rank));
        let rank_id = self.ctx.ranks.get(&rank).copied();
        let slot = slot_of(&rank);

        // Name parts: the file's, else parsed from the name for species and below.
        let mut generic = row.get(self.generic).into_owned();
        let mut specific = row.get(self.specific).into_owned();
        let mut infra = row.get(self.infraspecific).into_owned();
        if slot.is_some_and(|s| s >= SPECIES_SLOT) && (generic.is_empty() || specific.is_empty()) {
            let words: Vec<&str> = name
                .split_whitespace()
                .filter(|w| !w.starts_with('(') && !w.ends_with('.'))
                .collect();
            if generic.is_empty() {
                generic = words.first().copied().unwrap_or("").to_owned();
            }
            if specific.is_empty() {
                specific = words.get(1).copied().unwrap_or("").to_owned();
            }
            if infra.is_empty() && words.len() > 2 {
                infra = words.last().copied().unwrap_or("").to_owned();
            }
        }

        out.int(line as i64);
        out.uuid(&self.ctx.taxon_id(&key));
        out.text(&key);
        if parent_key.is_empty() || parent_key == key {
            out.null();
        } else {
            out.uuid(&self.ctx.taxon_id(&parent_key));
        }
        out.text(truncate_chars(&parent_key, 100));
        out.text(status);
        out.bool(matches!(status, "accepted" | "provisional"));
        out.opt_int(rank_id.map(i64::from));
        out.opt_int(slot.map(|s| s as i64));
        out.text(&name);
        out.text(&row.get(self.authorship));
        out.text(truncate_chars(&name, 100));
        // The file's flattened classification, one column per rank in CLASSIFICATION order;
        // absent ranks are NULL (cheapest to parse and to store).
        for i in &self.classification {
            let v = row.get(*i);
            if v.is_empty() {
                out.null();
            } else {
                out.text(truncate_chars(&v, 100));
            }
        }
        out.text(truncate_chars(&generic, 100));
        out.text(truncate_chars(&specific, 100));
        out.text(truncate_chars(&infra, 100));
        out.opt_bool(map_bool(&row.get(self.extinct)));
        out.word_array(&map_environment(&row.get(self.environment)));
        out.text(map_code(&row.get(self.code)));
        let link = row.get(self.link);
        match (&self.ctx.url_template, link.is_empty()) {
            (_, false) => out.text(&link),
            (Some(t), true) => out.text(&t.replace("{id}", &url_escape(&key))),
            (None, true) => out.text(""),
        }
        out.text(&row.get(self.reference));
        out.end_row();
        Ok(())
    }
}

/// Percent-encodes what may not appear in a URL path segment.
fn url_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// VernacularName.tsv → `stage_vernacular`.
pub struct VernacularMapper {
    ctx: MapContext,
    taxon: usize,
    name: usize,
    language: Option<usize>,
    country: Option<usize>,
    preferred: Option<usize>,
}

impl RowMapper for VernacularMapper {
    const COLUMNS: &'static str =
        "line, id, taxon_ref, taxon_key, name, language, country, is_preferred";

    fn new(header: &Header, ctx: MapContext) -> Result<Self, String> {
        let req = require(header, &["taxonID", "name"])?;
        Ok(VernacularMapper {
            ctx,
            taxon: req[0],
            name: req[1],
            language: header.index("language"),
            country: header.index("country"),
            preferred: header.index("preferred"),
        })
    }

    fn map(&self, line: u64, row: &Row<'_>, out: &mut CopyWriter) -> Result<(), String> {
        let taxon = row.get(Some(self.taxon));
        let name = row.get(Some(self.name));
        if taxon.is_empty() {
            return Err("col:taxonID is empty".to_owned());
        }
        if name.is_empty() {
            return Err("col:name is empty".to_owned());
        }
        if name.chars().count() > 200 {
            return Err(too_long("col:name", 200));
        }
        // The old importer's default when a release has no language column.
        let language = match self.language {
            None => "en".to_owned(),
            Some(_) => truncate_chars(&row.get(self.language), 10).to_ascii_lowercase(),
        };
        let country = row.get(self.country);
        let country = if country.chars().count() == 2 {
            country.to_ascii_uppercase()
        } else {
            String::new()
        };
        out.int(line as i64);
        out.uuid(
            &self
                .ctx
                .id(&["vernacular", &taxon, &name, &language, &country]),
        );
        out.uuid(&self.ctx.taxon_id(&taxon));
        out.text(truncate_chars(&taxon, 100));
        out.text(&name);
        out.text(&language);
        out.text(&country);
        out.bool(map_bool(&row.get(self.preferred)).unwrap_or(false));
        out.end_row();
        Ok(())
    }
}

/// Distribution.tsv → `stage_distribution`.
pub struct DistributionMapper {
    ctx: MapContext,
    taxon: usize,
    area_id: Option<usize>,
    area: Option<usize>,
    gazetteer: Option<usize>,
    status: Option<usize>,
    establishment: Option<usize>,
    threat: Option<usize>,
}

fn establishment_means(raw: &str) -> &'static str {
    match raw.trim().to_ascii_lowercase().as_str() {
        "native" => "native",
        "alien" | "introduced" => "introduced",
        "naturalised" | "naturalized" => "naturalised",
        "invasive" => "invasive",
        "domesticated" | "managed" | "cultivated" => "managed",
        "uncertain" | "vagrant" => "uncertain",
        _ => "",
    }
}

impl RowMapper for DistributionMapper {
    const COLUMNS: &'static str = "line, id, taxon_ref, taxon_key, area_code, gazetteer, \
        area_name, establishment_means, occurrence_status, threat_status";

    fn new(header: &Header, ctx: MapContext) -> Result<Self, String> {
        let req = require(header, &["taxonID"])?;
        let (area_id, area) = (header.index("areaID"), header.index("area"));
        if area_id.is_none() && area.is_none() {
            return Err("missing required column(s): col:area or col:areaID".to_owned());
        }
        Ok(DistributionMapper {
            ctx,
            taxon: req[0],
            area_id,
            area,
            gazetteer: header.index("gazetteer"),
            status: header.index("status"),
            establishment: header.index("establishmentMeans"),
            threat: header.index("threatStatus"),
        })
    }

    fn map(&self, line: u64, row: &Row<'_>, out: &mut CopyWriter) -> Result<(), String> {
        let taxon = row.get(Some(self.taxon));
        if taxon.is_empty() {
            return Err("col:taxonID is empty".to_owned());
        }
        let gazetteer = truncate_chars(&row.get(self.gazetteer), 20).to_ascii_lowercase();
        let area = row.get(self.area);
        let area_id = row.get(self.area_id);
        if area.is_empty() && area_id.is_empty() {
            return Err("col:area is empty".to_owned());
        }
        let code = if !area_id.is_empty() {
            area_id.clone()
        } else if gazetteer != "text" {
            area.clone()
        } else {
            "".into()
        };
        let code = truncate_chars(&code, 20);
        let name = if area.is_empty() { &area_id } else { &area };
        let status = row.get(self.status).to_ascii_lowercase();
        let explicit = establishment_means(&row.get(self.establishment));
        let means = if explicit.is_empty() {
            establishment_means(&status)
        } else {
            explicit
        };
        let occurrence = match status.trim() {
            "absent" => "absent",
            "extinct" => "extinct",
            "doubtful" => "doubtful",
            _ => "present",
        };
        let threat_raw = row.get(self.threat);
        let threat = iucn_code(&threat_raw).unwrap_or_else(|| truncate_chars(&threat_raw, 20));
        out.int(line as i64);
        out.uuid(&self.ctx.id(&[
            "distribution",
            &taxon,
            code,
            &gazetteer,
            name,
            means,
            occurrence,
            threat,
        ]));
        out.uuid(&self.ctx.taxon_id(&taxon));
        out.text(truncate_chars(&taxon, 100));
        out.text(code);
        out.text(&gazetteer);
        out.text(name);
        out.text(means);
        out.text(occurrence);
        out.text(threat);
        out.end_row();
        Ok(())
    }
}

/// NameRelation.tsv → `stage_relation`.
pub struct RelationMapper {
    ctx: MapContext,
    name: usize,
    related: usize,
    kind: usize,
    source: Option<usize>,
    reference: Option<usize>,
    page: Option<usize>,
    remarks: Option<usize>,
}

impl RowMapper for RelationMapper {
    const COLUMNS: &'static str = "line, id, name_ref, related_ref, relation_type, col_name_id, \
        col_related_name_id, col_source_id, reference_id, page, remarks";

    fn new(header: &Header, ctx: MapContext) -> Result<Self, String> {
        let req = require(header, &["nameID", "relatedNameID", "type"])?;
        Ok(RelationMapper {
            ctx,
            name: req[0],
            related: req[1],
            kind: req[2],
            source: header.index("sourceID"),
            reference: header.index("referenceID"),
            page: header.index("page"),
            remarks: header.index("remarks"),
        })
    }

    fn map(&self, line: u64, row: &Row<'_>, out: &mut CopyWriter) -> Result<(), String> {
        let name = row.get(Some(self.name));
        let related = row.get(Some(self.related));
        let kind = row
            .get(Some(self.kind))
            .to_ascii_lowercase()
            .replace('_', " ");
        if name.is_empty() || related.is_empty() {
            return Err("col:nameID and col:relatedNameID must not be empty".to_owned());
        }
        if kind.is_empty() {
            return Err("col:type is empty".to_owned());
        }
        if kind.chars().count() > 50 {
            return Err(too_long("col:type", 50));
        }
        out.int(line as i64);
        out.uuid(&self.ctx.id(&["relation", &name, &related, &kind]));
        out.uuid(&self.ctx.taxon_id(&name));
        out.uuid(&self.ctx.taxon_id(&related));
        out.text(&kind);
        out.text(truncate_chars(&name, 100));
        out.text(truncate_chars(&related, 100));
        out.text(truncate_chars(&row.get(self.source), 100));
        out.text(truncate_chars(&row.get(self.reference), 100));
        out.text(&row.get(self.page));
        out.text(&row.get(self.remarks));
        out.end_row();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_codes_and_flags_map_like_the_old_importer() {
        assert_eq!(map_status("provisionally accepted"), "provisional");
        assert_eq!(map_status("ambiguous synonym"), "ambiguous");
        assert_eq!(map_status("bare name"), "doubtful");
        assert_eq!(map_code("zoological"), "iczn");
        assert_eq!(map_code("botanical"), "icn");
        assert_eq!(map_code("whatever"), "");
        assert_eq!(map_bool("TRUE"), Some(true));
        assert_eq!(map_bool(""), None);
        assert_eq!(
            map_environment("brackish, marine,terrestrial"),
            ["marine", "terrestrial"]
        );
    }

    #[test]
    fn iucn_codes_and_names_are_recognised() {
        assert_eq!(iucn_code("vu"), Some("VU"));
        assert_eq!(iucn_code("Critically Endangered"), Some("CR"));
        assert_eq!(iucn_code("extinct_in_the_wild"), Some("EW"));
        assert_eq!(iucn_code("secure"), None);
    }

    #[test]
    fn ranks_have_slots_and_aliases() {
        assert_eq!(slot_of("kingdom"), Some(1));
        assert_eq!(slot_of("Species"), Some(SPECIES_SLOT));
        assert_eq!(slot_of("forma"), Some(20));
        assert_eq!(slot_of("infraorder"), None);
    }

    #[test]
    fn arrays_and_urls_are_escaped() {
        assert_eq!(url_escape("S1 x/y"), "S1%20x%2Fy");
        assert_eq!(truncate_chars("Grévy", 3), "Gré");
    }
}
