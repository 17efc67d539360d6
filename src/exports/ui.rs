//! The export links of a list page: the same four formats everywhere, each keeping the page's
//! query so the file holds exactly what the page shows.

use leptos::prelude::*;

/// "Scarica questo elenco: CSV · CSV per Excel · Excel (XLSX) · JSON" for `/export/{stem}…`.
/// `query` is the page's filter as a query string (may be empty).
#[component]
pub fn ExportLinks(stem: &'static str, #[prop(into)] query: String, what: &'static str) -> impl IntoView {
    let href = move |ending: &str| {
        if query.is_empty() {
            format!("/export/{stem}{ending}")
        } else {
            format!("/export/{stem}{ending}?{query}")
        }
    };
    view! {
        <p class="esportazioni" data-testid=format!("esporta-{stem}")>
            {format!("Scarica {what}: ")}
            {super::FORMATS
                .iter()
                .enumerate()
                .map(|(i, (ending, label))| {
                    view! {
                        {(i > 0).then_some(" · ")}
                        <a href=href(ending) download="">
                            {*label}
                        </a>
                    }
                })
                .collect_view()}
        </p>
    }
}
