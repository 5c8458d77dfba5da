//! DRF's `PageNumberPagination` envelope: `{count, next, previous, results}`, 50 per page,
//! absolute links whose query parameters are sorted, `page=last`, and 404 "Invalid page.".

use actix_web::HttpRequest;
use biologidex_core::config::Settings;
use biologidex_core::error::Missing;
use diesel::QueryResult;
use serde::Serialize;

use crate::{ApiError, ApiResult, urls::base_url};

/// Page size of every paginated list (the old server's `PAGE_SIZE`).
pub const PAGE_SIZE: i64 = 50;

/// One page of results.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Page<T> {
    pub count: i64,
    pub next: Option<String>,
    pub previous: Option<String>,
    pub results: Vec<T>,
}

/// The requested page, validated against the total before any rows are loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    pub number: i64,
    pub offset: i64,
    pub limit: i64,
}

fn invalid_page() -> ApiError {
    ApiError(biologidex_core::Error::NotFound(Missing::Page))
}

fn page_param(req: &HttpRequest) -> Option<String> {
    url::form_urlencoded::parse(req.query_string().as_bytes())
        .find(|(k, _)| k == "page")
        .map(|(_, v)| v.into_owned())
}

/// Resolves `?page=` for a list of `count` rows: 1-based, `last` allowed, anything else 404.
pub fn page_request(req: &HttpRequest, count: i64) -> ApiResult<PageRequest> {
    let pages = ((count + PAGE_SIZE - 1) / PAGE_SIZE).max(1);
    let number = wanted_number(req)?.unwrap_or(pages);
    if number > pages {
        return Err(invalid_page());
    }
    Ok(PageRequest::numbered(number))
}

/// The page number asked for, `None` for `last`; malformed or below 1 is a 404.
fn wanted_number(req: &HttpRequest) -> ApiResult<Option<i64>> {
    let number = match page_param(req).as_deref() {
        None | Some("") => 1,
        Some("last") => return Ok(None),
        Some(raw) => raw.parse::<i64>().map_err(|_| invalid_page())?,
    };
    if number < 1 {
        return Err(invalid_page());
    }
    Ok(Some(number))
}

impl PageRequest {
    fn numbered(number: i64) -> Self {
        PageRequest {
            number,
            offset: (number - 1) * PAGE_SIZE,
            limit: PAGE_SIZE,
        }
    }
}

/// Loads the requested page with its total in one statement (`load` answers the rows and
/// the total, `None` when the page is empty); `count` runs first only for `page=last`. A page
/// past the end is the usual 404.
pub async fn load_page<C, T>(
    req: &HttpRequest,
    conn: &mut C,
    mut load: impl AsyncFnMut(&mut C, PageRequest) -> QueryResult<(Vec<T>, Option<i64>)>,
    count: impl AsyncFnOnce(&mut C) -> QueryResult<i64>,
) -> ApiResult<(PageRequest, i64, Vec<T>)> {
    let at = match wanted_number(req)? {
        Some(number) => PageRequest::numbered(number),
        None => page_request(req, count(conn).await?)?,
    };
    let (rows, total) = load(conn, at).await?;
    match total {
        Some(total) => Ok((at, total, rows)),
        None if at.number == 1 => Ok((at, 0, rows)),
        None => Err(invalid_page()),
    }
}

fn link(req: &HttpRequest, settings: &Settings, page: Option<i64>) -> String {
    let mut params: Vec<(String, String)> =
        url::form_urlencoded::parse(req.query_string().as_bytes())
            .filter(|(k, _)| k != "page")
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
    if let Some(p) = page {
        params.push(("page".to_owned(), p.to_string()));
    }
    params.sort();
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish();
    let base = format!("{}{}", base_url(req, settings), req.path());
    if query.is_empty() {
        base
    } else {
        format!("{base}?{query}")
    }
}

impl<T> Page<T> {
    /// Wraps one page of `results` with its links.
    pub fn new(
        req: &HttpRequest,
        settings: &Settings,
        at: PageRequest,
        count: i64,
        results: Vec<T>,
    ) -> Self {
        let has_next = at.offset + at.limit < count;
        let next = has_next.then(|| link(req, settings, Some(at.number + 1)));
        // DRF drops `page` from the link back to page 1.
        let previous =
            (at.number > 1).then(|| link(req, settings, (at.number > 2).then_some(at.number - 1)));
        Page {
            count,
            next,
            previous,
            results,
        }
    }
}
