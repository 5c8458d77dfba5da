//! Name matching over HTTP: `GET /taxonomy/match/` (the matcher's verdict) and
//! `POST /taxonomy/validate/` (the old endpoint, working: it records the animal only for
//! signed-in callers, never for anonymous ones).

use actix_web::{HttpResponse, web};
use biologidex_core::error::Missing;
use biologidex_core::ids::AnimalId;
use biologidex_db::models::{
    animals::Animal,
    taxa::{Taxa, TaxonSummary},
};
use biologidex_taxonomy::matching::{self, MatchOptions, MatchType, NameMatch, NameSource};
use diesel_async::AsyncPgConnection;
use serde::Serialize;
use uuid::Uuid;

use super::{
    dto::{self, TaxonDetailResponse, TaxonMinimalResponse, UsageResponse},
    schema::{TaxonMatchQuery, ValidateRequest},
};
use crate::{
    ApiError, ApiResult,
    auth::MaybeAuthUser,
    docs::schemas::FieldErrors,
    request::{Chars, Optional, Required, Valid, ValidQuery},
    state::AppState,
};

/// One alternative answer: a name usage with how it matched.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = TaxonMatchAlternative)]
struct AlternativeResponse {
    #[serde(flatten)]
    usage: UsageResponse,
    /// `exact`, `synonym`, `vernacular`, `fuzzy`, `higher_rank` or `none`.
    match_type: &'static str,
    /// The accepted taxon this usage stands for.
    accepted_id: Option<Uuid>,
    accepted_name: Option<String>,
    vernacular_name: Option<String>,
}

/// The matcher's verdict.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = TaxonMatch)]
struct MatchResponse {
    /// The name as given.
    name: String,
    /// The canonical name looked up (or the cleaned input when it is not a Latin name).
    normalized_name: String,
    /// `exact`, `synonym`, `vernacular`, `fuzzy`, `higher_rank` (only a genus or higher
    /// matched) or `none`.
    match_type: &'static str,
    /// 0 to 1, two decimals.
    confidence: f64,
    /// True when several candidates were equally good and none was picked (see
    /// `alternatives`).
    ambiguous: bool,
    /// How the match was made, for people.
    note: String,
    /// The name usage that matched (a synonym, say); null for common-ancestor answers.
    usage: Option<UsageResponse>,
    /// The accepted species-level name; null for `higher_rank` and `none`.
    accepted_name: Option<String>,
    /// The vernacular name that matched.
    vernacular_name: Option<String>,
    /// The accepted taxon answered (or the higher-rank taxon).
    taxon: Option<TaxonMinimalResponse>,
    /// The taxon and its ancestors, root first.
    lineage: Vec<UsageResponse>,
    alternatives: Vec<AlternativeResponse>,
}

/// A known taxon (species level or below).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = TaxonValidated)]
struct Validated {
    /// Always true.
    #[schema(schema_with = crate::docs::schemas::always_true)]
    valid: bool,
    /// True when this call created the animal (only staff calls create).
    created: bool,
    message: String,
    taxonomy: TaxonDetailResponse,
    /// `exact`, `synonym`, `vernacular` or `fuzzy`.
    match_type: &'static str,
    /// The match's confidence, 0 to 1, two decimals.
    confidence: f64,
    /// The animal created or updated (staff), or the existing one (signed-in callers); null
    /// for anonymous callers.
    #[schema(value_type = Option<Uuid>)]
    animal_id: Option<AnimalId>,
}

/// A name the taxonomy does not know at species level.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = TaxonNotValidated)]
struct NotValidated {
    /// Always false.
    #[schema(schema_with = crate::docs::schemas::always_false)]
    valid: bool,
    /// Always false.
    created: bool,
    /// `Not found in taxonomy database: <name>`.
    message: String,
    /// `higher_rank` or `none`.
    match_type: &'static str,
}

/// The answer of `POST /taxonomy/validate/`: `valid` tells which.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(untagged)]
#[schema(as = TaxonValidateResponse)]
enum ValidateResponse {
    Valid(Box<Validated>),
    Invalid(NotValidated),
}

async fn match_response(
    conn: &mut diesel_async::AsyncPgConnection,
    m: NameMatch,
) -> ApiResult<MatchResponse> {
    let lineage = match &m.taxon {
        Some(t) => Taxa::lineage(conn, t.id).await?,
        None => Vec::new(),
    };
    let taxon = match &m.taxon {
        Some(t) => dto::minimal(conn, vec![t.clone()]).await?.pop(),
        None => None,
    };
    let accepted_name = (!matches!(m.match_type, MatchType::HigherRank | MatchType::None))
        .then(|| m.taxon.as_ref().map(|t| t.scientific_name.clone()))
        .flatten();
    Ok(MatchResponse {
        name: m.input,
        normalized_name: m.normalized,
        match_type: m.match_type.as_str(),
        confidence: (m.confidence * 100.0).round() / 100.0,
        ambiguous: m.ambiguous,
        note: m.note,
        usage: m.usage.as_ref().map(Into::into),
        accepted_name,
        vernacular_name: m.vernacular,
        taxon,
        lineage: lineage.iter().map(Into::into).collect(),
        alternatives: m
            .alternatives
            .iter()
            .map(|a| AlternativeResponse {
                usage: (&a.usage).into(),
                match_type: a.match_type.as_str(),
                accepted_id: a.accepted.as_ref().map(|t| t.id),
                accepted_name: a.accepted.as_ref().map(|t| t.scientific_name.clone()),
                vernacular_name: a.vernacular.clone(),
            })
            .collect(),
    })
}

/// How a name matches the taxonomy.
///
/// The match type, confidence, accepted name, lineage and alternatives. Nothing is written.
/// Anyone may call it.
#[utoipa::path(
    get, path = "/api/v1/taxonomy/match/", tag = "taxonomy",
    security((), ("jwt" = [])),
    params(TaxonMatchQuery),
    responses(
        (status = 200, body = MatchResponse),
        (status = 400, description = "`name` missing, or a parameter too long.",
            body = FieldErrors),
    )
)]
pub async fn match_name(
    state: web::Data<AppState>,
    _caller: MaybeAuthUser,
    query: ValidQuery<TaxonMatchQuery>,
) -> ApiResult<HttpResponse> {
    let (name, opts) = query.into_inner().into_parts();
    let mut conn = state.db.get().await?;
    let m = matching::match_name(&mut conn, &name, &opts).await?;
    Ok(HttpResponse::Ok().json(match_response(&mut conn, m).await?))
}

/// Is this a known taxon? Creates or updates the animal for staff callers.
///
/// The message of a trusted match.
fn found(match_type: MatchType, name: &str) -> String {
    match match_type {
        MatchType::Synonym => format!("Found synonym, using accepted name: {name}"),
        t => format!("Found in taxonomy: {name} (via {})", t.as_str()),
    }
}

/// The animal of a trusted match: staff create or update it from the taxon, other callers
/// learn the existing one's id, anonymous callers nothing. Returns `(id, created)`.
async fn animal_for(
    state: &AppState,
    conn: &mut AsyncPgConnection,
    caller: &MaybeAuthUser,
    taxon: &TaxonSummary,
    common: Option<&str>,
    confidence: f64,
) -> ApiResult<(Option<AnimalId>, bool)> {
    Ok(match &caller.0 {
        // Only staff write shared catalogue data; others learn the existing animal, if any.
        Some(u) if !u.is_staff => (
            Animal::find_by_name(conn, &taxon.scientific_name)
                .await?
                .map(|a| a.animal.id),
            false,
        ),
        Some(_) => {
            let up = matching::upsert_animal_from_taxon(conn, taxon.id, common, confidence).await?;
            if up.changed {
                crate::graph::invalidate::animals_changed(state).await;
            }
            (Some(up.id), up.created)
        }
        None => (None, false),
    })
}

/// For a staff caller a species-level match also creates or updates the animal (verified by
/// the taxonomy); other callers never write anything and get the existing animal's id, if
/// any. An unknown name is still a 200, with `valid: false`.
#[utoipa::path(
    post, path = "/api/v1/taxonomy/validate/", tag = "taxonomy",
    security((), ("jwt" = [])),
    request_body = ValidateRequest,
    responses((status = 200, body = ValidateResponse))
)]
pub async fn validate_name(
    state: web::Data<AppState>,
    caller: MaybeAuthUser,
    body: Valid<ValidateRequest>,
) -> ApiResult<HttpResponse> {
    let ValidateRequest {
        scientific_name: Required(Chars(name)),
        common_name: Optional(common),
        confidence: Optional(confidence),
    } = body.into_inner();
    let common = common.filter(|c| !c.is_empty());
    let confidence = confidence.unwrap_or(0.0);
    let mut conn = state.db.get().await?;
    let opts = MatchOptions {
        kingdom: None,
        vernacular_hint: common.clone(),
    };
    let m = matching::match_name(&mut conn, &name, &opts).await?;
    let Some(taxon) = m.trusted_taxon(NameSource::Person) else {
        return Ok(
            HttpResponse::Ok().json(ValidateResponse::Invalid(NotValidated {
                valid: false,
                created: false,
                message: format!("Not found in taxonomy database: {name}"),
                match_type: m.match_type.as_str(),
            })),
        );
    };
    let (animal_id, created) = animal_for(
        &state,
        &mut conn,
        &caller,
        taxon,
        common.as_deref(),
        confidence,
    )
    .await?;
    let detail = Taxa::find_listed(&mut conn, taxon.id)
        .await?
        .ok_or(ApiError::not_found(Missing::Taxonomy))?;
    let message = found(m.match_type, &taxon.scientific_name);
    Ok(
        HttpResponse::Ok().json(ValidateResponse::Valid(Box::new(Validated {
            valid: true,
            created,
            message,
            taxonomy: dto::detail(&mut conn, detail).await?,
            match_type: m.match_type.as_str(),
            confidence: (m.confidence * 100.0).round() / 100.0,
            animal_id,
        }))),
    )
}
