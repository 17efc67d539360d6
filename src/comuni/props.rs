//! Properties of the filter and sort parameters (see `crate::fuzz`): any query string, read as
//! the routes read it (axum's `Query`), is refused in words or validates to a filter whose own
//! query string reads back to the same filter.

use axum::extract::Query;
use proptest::prelude::*;

use super::{page_links, query_with_milestone, ComuniFilter, ListParams, Milestone, PAGE_SIZE};
use crate::fuzz::{check, query_string, uri, FILTER_KEYS};

/// `query` read as a route reads it; `None` for a URI the HTTP layer refuses (never served).
fn parsed<T: serde::de::DeserializeOwned>(query: &str) -> Option<Result<T, String>> {
    let uri = uri(query)?;
    Some(Query::<T>::try_from_uri(&uri).map(|Query(v)| v).map_err(|e| e.to_string()))
}

#[test]
fn prop_a_valid_filter_reads_back_from_its_own_query_string() {
    check("comuni::ComuniFilter::validate", query_string(FILTER_KEYS), |query| {
        let Some(Ok(raw)) = parsed::<ComuniFilter>(&query) else { return Ok(()) };
        match raw.validate() {
            Ok(valid) => {
                let again = parsed::<ComuniFilter>(&valid.query());
                let again = again.expect("a filter's query is a valid URI").map_err(TestCaseError::fail)?;
                prop_assert_eq!(again.validate(), Ok(valid.clone()), "query {}", valid.query());
                prop_assert_eq!(valid.raw().validate(), Ok(valid.clone()));
                // A card's link, built from the query string or from the filter, is one link.
                for m in Milestone::ALL {
                    prop_assert_eq!(query_with_milestone(&valid.query(), m), valid.with_milestone(m).query());
                }
                let _ = valid.phrases(&[], &[]);
            }
            Err(e) => prop_assert!(!e.to_string().is_empty()),
        }
        Ok(())
    });
}

#[test]
fn prop_a_valid_sort_and_page_read_back_from_their_own_query_string() {
    check("comuni::ListParams::validate", query_string(FILTER_KEYS), |query| {
        let Some(Ok(raw)) = parsed::<ListParams>(&query) else { return Ok(()) };
        match raw.validate() {
            Ok(view) => {
                let again =
                    parsed::<ListParams>(&view.query()).expect("a valid URI").map_err(TestCaseError::fail)?;
                prop_assert_eq!(again.validate(), Ok(view));
                for total in [0, 1, PAGE_SIZE, view.pagina * PAGE_SIZE + 1] {
                    let (page, pages) = view.page_of(total);
                    prop_assert!(1 <= page && page <= pages);
                    let links = page_links(page, pages);
                    prop_assert!(links.contains(&Some(page)) && links.len() <= 7);
                }
            }
            Err(e) => prop_assert!(!e.to_string().is_empty()),
        }
        Ok(())
    });
}
