//! Pages of a long list (`?pagina=`): the page arithmetic, one rule for every list, and
//! [`Pager`], Bootstrap Italia's pagination as plain links.
//!
//! Why every list page is paginated: a list that grows with the data (the evidence waiting for
//! review, the imports) made a page, its hydration data and the memory to render it grow
//! without bound — at national scale, megabytes per request. A page holds at most
//! [`PAGE_SIZE`] rows and says the total in words; the database reads only those rows.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// Rows per page of every paginated list.
pub const PAGE_SIZE: usize = 50;

/// The highest page number accepted from an address (a bound, so `pagina` cannot overflow an
/// offset).
pub const MAX_PAGE: usize = 1_000_000;

/// The page number in an address's `pagina`: empty means the first page; anything else must be
/// a whole number from 1 to [`MAX_PAGE`]. `Err` carries the sentence for the person.
pub fn parse_page(raw: &str) -> Result<usize, String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(1);
    }
    raw.parse::<usize>()
        .ok()
        .filter(|n| (1..=MAX_PAGE).contains(n))
        .ok_or_else(|| format!("Numero di pagina non valido: «{raw}». Usare un numero intero da 1 in su."))
}

/// The page shown and the number of pages for `total` rows when `asked` was asked: at least one
/// page, and a page past the last shows the last (a shared link outlives the data it was made
/// on).
pub fn page_of(asked: usize, total: usize) -> (usize, usize) {
    let pages = total.div_ceil(PAGE_SIZE).max(1);
    (asked.clamp(1, pages), pages)
}

/// `LIMIT` and `OFFSET` as the databases take them (`BIGINT`): a count past `i64::MAX` (a
/// whole list asked with `usize::MAX`) is `i64::MAX`.
pub fn sql_bounds(limit: usize, offset: usize) -> (i64, i64) {
    (i64::try_from(limit).unwrap_or(i64::MAX), i64::try_from(offset).unwrap_or(i64::MAX))
}

/// The rows to skip before `page` (1-based).
pub fn offset(page: usize) -> usize {
    page.saturating_sub(1).saturating_mul(PAGE_SIZE)
}

/// One page of a list: its items, the page shown (1-based; a page past the last shows the last),
/// how many pages there are and how many items on all of them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Paged<T> {
    pub items: Vec<T>,
    pub page: usize,
    pub pages: usize,
    pub total: usize,
}

/// Page `asked` of a list read by `fetch(offset)` (the page's rows and the list's total): the
/// rows, the page shown and the number of pages. A page past the last (the list shrank since the
/// link was made) reads the last page instead.
pub async fn fetch_page<T, E, F, Fut>(asked: usize, fetch: F) -> Result<(Vec<T>, usize, usize, usize), E>
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = Result<(Vec<T>, usize), E>>,
{
    let (mut rows, total) = fetch(offset(asked)).await?;
    let (page, pages) = page_of(asked, total);
    if page != asked {
        rows = fetch(offset(page)).await?.0;
    }
    Ok((rows, page, pages, total))
}

/// Which page numbers the pagination shows: all of them up to seven pages; otherwise the first,
/// the last and the current one with its neighbours, `None` marking each gap ("…").
pub fn page_links(page: usize, pages: usize) -> Vec<Option<usize>> {
    if pages <= 7 {
        return (1..=pages).map(Some).collect();
    }
    let mut out = Vec::new();
    let mut last = 0;
    for p in 1..=pages {
        if p == 1 || p == pages || p.abs_diff(page) <= 1 {
            if p > last + 1 {
                out.push(None);
            }
            out.push(Some(p));
            last = p;
        }
    }
    out
}

/// `path` with `query` (already encoded, may be empty) and, past the first page, `pagina`.
pub fn href(path: &str, query: &str, page: usize) -> String {
    let mut parts: Vec<String> = Vec::new();
    if !query.is_empty() {
        parts.push(query.to_string());
    }
    if page > 1 {
        parts.push(format!("pagina={page}"));
    }
    if parts.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{}", parts.join("&"))
    }
}

/// "Righe 51–100 di 120" — where the page stands in the list, for the status line.
pub fn range_words(page: usize, shown: usize, total: usize) -> String {
    if shown == 0 || total <= PAGE_SIZE {
        return String::new();
    }
    let first = offset(page) + 1;
    format!(
        "Pagina {page}: righe {}–{} di {}.",
        crate::format::int(first as i64),
        crate::format::int((first + shown - 1) as i64),
        crate::format::int(total as i64)
    )
}

/// Bootstrap Italia's pagination: plain links (they work without JavaScript) made by `href`
/// for each page number; the current page is marked with `aria-current`. Nothing when there is
/// one page. `label` names the navigation landmark ("Paginazione" by default): a page with
/// several paginated tables gives each its own, as landmarks of one kind must differ.
#[component]
pub fn Pager(
    page: usize,
    pages: usize,
    href: impl Fn(usize) -> String + 'static,
    #[prop(optional, into)] label: Option<String>,
) -> impl IntoView {
    if pages <= 1 {
        return ().into_any();
    }
    let previous = (page > 1).then(|| {
        view! {
            <li class="page-item">
                <a class="page-link" href=href(page - 1) rel="prev">
                    "Pagina precedente"
                </a>
            </li>
        }
    });
    let next = (page < pages).then(|| {
        view! {
            <li class="page-item">
                <a class="page-link" href=href(page + 1) rel="next">
                    "Pagina successiva"
                </a>
            </li>
        }
    });
    let numbers = page_links(page, pages)
        .into_iter()
        .map(|p| match p {
            Some(p) if p == page => view! {
                <li class="page-item active">
                    <a class="page-link" href=href(p) aria-current="page" aria-label=format!("Pagina {p}")>
                        {p}
                    </a>
                </li>
            }
            .into_any(),
            Some(p) => view! {
                <li class="page-item">
                    <a class="page-link" href=href(p) aria-label=format!("Pagina {p}")>
                        {p}
                    </a>
                </li>
            }
            .into_any(),
            None => view! {
                <li class="page-item">
                    <span class="page-link" aria-hidden="true">
                        "…"
                    </span>
                </li>
            }
            .into_any(),
        })
        .collect_view();
    view! {
        <nav class="pagination-wrapper" aria-label=label.unwrap_or_else(|| "Paginazione".to_string())>
            <ul class="pagination">{previous}{numbers}{next}</ul>
        </nav>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_number_is_a_whole_number_from_one() {
        assert_eq!(parse_page(""), Ok(1));
        assert_eq!(parse_page(" 3 "), Ok(3));
        assert_eq!(parse_page("1000000"), Ok(MAX_PAGE));
        for bad in ["0", "-1", "1.5", "due", "1000001", "99999999999999999999999"] {
            let e = parse_page(bad).unwrap_err();
            assert!(e.contains("Numero di pagina non valido") && e.contains(bad), "{bad}: {e}");
        }
    }

    #[test]
    fn pages_cover_the_rows_and_a_page_past_the_last_shows_the_last() {
        assert_eq!(page_of(1, 0), (1, 1));
        assert_eq!(page_of(1, PAGE_SIZE), (1, 1));
        assert_eq!(page_of(2, PAGE_SIZE + 1), (2, 2));
        assert_eq!(page_of(9, PAGE_SIZE + 1), (2, 2));
        assert_eq!(offset(1), 0);
        assert_eq!(offset(3), 2 * PAGE_SIZE);
        assert_eq!(offset(MAX_PAGE), (MAX_PAGE - 1) * PAGE_SIZE);
    }

    #[test]
    fn links_keep_the_query_and_leave_out_the_first_page() {
        assert_eq!(href("/evidenze", "", 1), "/evidenze");
        assert_eq!(href("/evidenze", "provincia=BA", 1), "/evidenze?provincia=BA");
        assert_eq!(href("/evidenze", "provincia=BA", 2), "/evidenze?provincia=BA&pagina=2");
        assert_eq!(href("/evidenze", "", 4), "/evidenze?pagina=4");
    }

    #[test]
    fn the_range_is_said_only_when_there_is_more_than_one_page() {
        assert_eq!(range_words(1, 3, 3), "");
        assert_eq!(range_words(2, 50, 120), "Pagina 2: righe 51–100 di 120.");
        assert_eq!(range_words(3, 20, 1_220), "Pagina 3: righe 101–120 di 1.220.");
    }
}
