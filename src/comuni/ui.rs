//! The `/comuni` list and the page of one comune.

use crate::app::PageHead;
use leptos::prelude::*;
use leptos_router::{
    components::{Form, A},
    hooks::{use_params_map, use_query_map},
};

use super::{
    server::{filter_choices, get_comune, list_comuni},
    ComuneDetail, ComuneListRow, ComuniFilter, FilterChoice, ListPage, ListParams, ListView, Milestone,
    SortKey, StepFilter, StepState,
};
use crate::{
    app::ErrorNotice,
    forecasts::ui::ForecastSection,
    format,
    rules::{AdhesionStatus, Platform},
};

/// The filter of a page as the URL holds it.
pub fn use_filter() -> Memo<ComuniFilter> {
    let query = use_query_map();
    Memo::new(move |_| {
        query.with(|q| {
            let get = |k: &str| q.get(k).filter(|s| !s.trim().is_empty());
            ComuniFilter {
                provincia: get("provincia"),
                adesione: get("adesione"),
                popolazione: get("popolazione"),
                piattaforma: get("piattaforma"),
                traguardo: get("traguardo"),
                q: get("q"),
                primo_step: get("primo_step"),
                finale: get("finale"),
                scaduto: get("scaduto"),
                bloccato: get("bloccato"),
                al: get("al"),
            }
        })
    })
}

/// The sort and page of `/comuni` as the URL holds them.
pub fn use_list_params() -> Memo<ListParams> {
    let query = use_query_map();
    Memo::new(move |_| {
        query.with(|q| {
            let get = |k: &str| q.get(k).filter(|s| !s.trim().is_empty());
            ListParams { ordina: get("ordina"), verso: get("verso"), pagina: get("pagina") }
        })
    })
}

/// `path` with the query parts that are not empty (`/comuni?provincia=LE&ordina=nome`).
fn href_with(path: &str, parts: &[&str]) -> String {
    let query = parts.iter().filter(|p| !p.is_empty()).copied().collect::<Vec<_>>().join("&");
    if query.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{query}")
    }
}

/// `al=2021-02-28` for a past day, empty for today: what a link adds to keep the day.
pub fn day_query(al: Option<chrono::NaiveDate>) -> String {
    al.map(|d| format!("al={}", d.format("%Y-%m-%d"))).unwrap_or_default()
}

/// A query string without its `al=` part: the same view, today.
pub fn query_today(query: &str) -> String {
    query.split('&').filter(|p| !p.is_empty() && !p.starts_with("al=")).collect::<Vec<_>>().join("&")
}

/// The notice of a page that shows a past day, in words, with the way back to today
/// (`today_href`: the same page without the day).
#[component]
pub fn DayNotice(day: chrono::NaiveDate, today_href: String) -> impl IntoView {
    view! {
        <div class="alert alert-info" role="note" data-testid="situazione-al">
            <p class="mb-0">
                <strong>{format!("Situazione al {}", format::date(day))}</strong>
                ": i dati sono quelli registrati fino a quel giorno. "
                <a href=today_href>"Torna alla situazione di oggi"</a>
            </p>
        </div>
    }
}

/// The list's address for the validated filter query `filter` and `view`.
fn list_href(filter: &str, view: &ListView) -> String {
    href_with("/comuni", &[filter, &view.query()])
}

/// One `<select>` of the filter form; "" means all.
#[component]
fn FilterSelect(
    id: &'static str,
    label: &'static str,
    all: &'static str,
    choices: Vec<FilterChoice>,
    selected: Signal<String>,
) -> impl IntoView {
    view! {
        <div class="campo">
            <label for=id>{label}</label>
            <select id=id name=id class="form-select">
                <option value="" selected=move || selected.get().is_empty()>
                    {all}
                </option>
                {choices
                    .into_iter()
                    .map(|c| {
                        let value = c.value.clone();
                        view! {
                            <option value=c.value selected=move || selected.get() == value>
                                {c.label}
                            </option>
                        }
                    })
                    .collect_view()}
            </select>
        </div>
    }
}

/// The filter form shared by the dashboard and `/comuni`: a plain GET form (it works without
/// JavaScript, and the URL it makes can be shared); with JavaScript the router follows it in
/// place. `population` are the programme's bands. `with_milestone` is the list mode: the
/// search box, the milestone, step, overdue and blocked selects, and the current sort as
/// hidden fields (applying filters keeps the order and goes back to the first page).
/// `with_blockers` adds the blocked select: only for those the server lets use it (the Region
/// and assessors; see `auth::may_filter_by_blockers`).
#[component]
pub fn FilterForm(
    action: &'static str,
    filter: Memo<ComuniFilter>,
    population: Vec<FilterChoice>,
    #[prop(optional)] with_milestone: bool,
    #[prop(optional)] with_blockers: bool,
) -> impl IntoView {
    let choice =
        |value: &str, label: &str| FilterChoice { value: value.to_string(), label: label.to_string() };
    let province = super::territory::use_territory()
        .province
        .iter()
        .map(|p| choice(&p.sigla, &p.nome))
        .collect::<Vec<_>>();
    let adhesion = AdhesionStatus::ALL.iter().map(|a| choice(a.code(), a.label())).collect::<Vec<_>>();
    let platforms = Platform::ALL.iter().map(|p| choice(p.code(), p.label())).collect::<Vec<_>>();
    let milestones = Milestone::ALL.iter().map(|m| choice(m.code(), m.label())).collect::<Vec<_>>();
    let steps = StepFilter::ALL.iter().map(|s| choice(s.code(), s.label())).collect::<Vec<_>>();
    let sel = move |f: fn(&ComuniFilter) -> Option<String>| {
        Signal::derive(move || f(&filter.get()).unwrap_or_default())
    };
    let search = sel(|f| f.q.clone());
    // A date input shows only `AAAA-MM-GG`: a day typed as `28/02/2021` is shown converted.
    let day = Signal::derive(move || {
        let f = filter.get();
        match f.validate().ok().and_then(|v| v.al) {
            Some(d) => d.format("%Y-%m-%d").to_string(),
            None => f.al.unwrap_or_default(),
        }
    });
    let list_params = use_list_params();
    // The sort of the list, kept when the filters change (only values that validate).
    let hidden_sort = move || {
        let view = list_params.get().validate().unwrap_or_default();
        let defaults = ListView::default();
        [
            ("ordina", view.ordina.code(), view.ordina != defaults.ordina),
            ("verso", view.verso.code(), view.verso != defaults.verso),
        ]
        .into_iter()
        .filter(|(_, _, keep)| *keep)
        .map(|(name, value, _)| view! { <input type="hidden" name=name value=value /> })
        .collect_view()
    };
    view! {
        <Form method="GET" action=action attr:class="filtri" attr:aria-label="Filtri">
            {with_milestone
                .then(|| {
                    view! {
                        <div class="campo campo-ricerca">
                            <label for="q">"Cerca per nome o codice"</label>
                            <input
                                type="search"
                                id="q"
                                name="q"
                                class="form-control"
                                maxlength="100"
                                autocomplete="off"
                                aria-describedby="q-aiuto"
                                value=move || search.get()
                            />
                            <small id="q-aiuto" class="aiuto">
                                "Nome del comune (accenti e maiuscole non contano), codice ISTAT o codice catastale."
                            </small>
                        </div>
                    }
                })}
            <FilterSelect id="provincia" label="Provincia" all="Tutte" choices=province selected=sel(|f| f.provincia.clone()) />
            <FilterSelect id="adesione" label="Adesione" all="Tutte" choices=adhesion selected=sel(|f| f.adesione.clone()) />
            <FilterSelect
                id="popolazione"
                label="Popolazione"
                all="Tutte le fasce"
                choices=population
                selected=sel(|f| f.popolazione.clone())
            />
            <FilterSelect
                id="piattaforma"
                label="Piattaforma (servizi attivi)"
                all="Tutte"
                choices=platforms
                selected=sel(|f| f.piattaforma.clone())
            />
            {with_milestone
                .then(|| {
                    view! {
                        <FilterSelect
                            id="traguardo"
                            label="Traguardo"
                            all="Tutti"
                            choices=milestones
                            selected=sel(|f| f.traguardo.clone())
                        />
                        <FilterSelect
                            id="primo_step"
                            label="Primo step"
                            all="Tutti"
                            choices=steps.clone()
                            selected=sel(|f| f.primo_step.clone())
                        />
                        <FilterSelect
                            id="finale"
                            label="Obiettivi finali"
                            all="Tutti"
                            choices=steps
                            selected=sel(|f| f.finale.clone())
                        />
                        <FilterSelect
                            id="scaduto"
                            label="Scadenze"
                            all="Tutti i comuni"
                            choices=vec![choice("si", "Con obiettivi scaduti e non raggiunti")]
                            selected=sel(|f| f.scaduto.clone())
                        />
                        {with_blockers
                            .then(|| {
                                view! {
                                    <FilterSelect
                                        id="bloccato"
                                        label="Blocchi"
                                        all="Tutti i comuni"
                                        choices=vec![choice("si", "Con almeno un blocco aperto")]
                                        selected=sel(|f| f.bloccato.clone())
                                    />
                                }
                            })}
                        {hidden_sort}
                    }
                })}
            <div class="campo">
                <label for="al">"Situazione al giorno"</label>
                <input
                    type="date"
                    id="al"
                    name="al"
                    class="form-control"
                    aria-describedby="al-aiuto"
                    value=move || day.get()
                />
                <small id="al-aiuto" class="aiuto">
                    "Formato AAAA-MM-GG oppure GG/MM/AAAA; vuoto per oggi."
                </small>
            </div>
            <div class="campo campo-azioni">
                <button type="submit" class="btn btn-primary">
                    "Applica i filtri"
                </button>
                <a href=action class="btn btn-outline-primary">
                    "Azzera"
                </a>
            </div>
        </Form>
    }
}

#[component]
pub fn ComuniPage() -> impl IntoView {
    let filter = use_filter();
    let params = use_list_params();
    let page = Resource::new(move || (filter.get(), params.get()), |(f, p)| list_comuni(f, p));
    let choices = Resource::new(|| (), |_| filter_choices());
    let user = Resource::new(|| (), |_| crate::auth::server::who_am_i());
    // The export link carries the validated filter, search and sort (all the pages), so it
    // exports exactly this view.
    let export_href = move |path: &str| {
        let filter = filter.get().validate().map(|v| v.query()).unwrap_or_default();
        let sort = params.get().validate().map(|v| v.sort_query()).unwrap_or_default();
        href_with(path, &[&filter, &sort])
    };
    view! {
        <PageHead title="Comuni" description="I comuni nel Fondo Innovazione 2020-2021: adesione, obiettivi e servizi su pagoPA, App IO e SPID/CIE, con filtri ed esportazioni." />
        <h1>"Comuni"</h1>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let population = choices.await.unwrap_or_default();
                let viewer = user.await.ok().flatten();
                let with_blockers = crate::auth::may_filter_by_blockers(viewer.as_ref());
                view! { <FilterForm action="/comuni" filter population with_milestone=true with_blockers /> }
            })}
        </Suspense>
        <p class="esportazioni">
            <a href=move || export_href("/export/comuni.csv") download="" class="btn btn-outline-primary">
                "Esporta questa vista in CSV"
            </a>
            " "
            <a
                href=move || export_href("/export/comuni-excel.csv")
                download=""
                class="btn btn-outline-primary"
            >
                "In CSV per Excel"
            </a>
            " "
            <a href=move || export_href("/export/comuni.xlsx") download="" class="btn btn-outline-primary">
                "In Excel (XLSX)"
            </a>
            " "
            <a href=move || export_href("/export/comuni.json") download="" class="btn btn-outline-primary">
                "In JSON"
            </a>
        </p>
        <Suspense fallback=|| view! { <p>"Caricamento dei comuni…"</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(list) => {
                        // The server accepted both, so they validate.
                        let filter_query =
                            filter.get_untracked().validate().map(|v| v.query()).unwrap_or_default();
                        let view = params.get_untracked().validate().unwrap_or_default();
                        let view = view.at_page(list.page);
                        // The list behind a dashboard figure says which figure it is.
                        let milestones: Vec<&str> = filter
                            .get_untracked()
                            .traguardo
                            .iter()
                            .flat_map(|t| t.split(','))
                            .filter_map(Milestone::from_code)
                            .map(Milestone::label)
                            .collect();
                        let milestone = match milestones.as_slice() {
                            [] => String::new(),
                            [one] => format!(" Traguardo: {one}."),
                            many => format!(" Traguardi: {}.", many.join(" e ")),
                        };
                        let notice = list.al.map(|day| {
                            let today_href = list_href(&query_today(&filter_query), &view.at_page(1));
                            view! { <DayNotice day today_href /> }
                        });
                        view! {
                            {notice}
                            <p role="status">{format!("{}{milestone}", count_sentence(&list))}</p>
                            <ComuniTable list filter_query view />
                        }
                            .into_any()
                    }
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// "57 comuni trovati (pagina 2 di 6)."
fn count_sentence(list: &ListPage) -> String {
    let found = if list.total == 1 {
        "1 comune trovato".to_string()
    } else {
        format!("{} comuni trovati", format::int(list.total as i64))
    };
    format!("{found} (pagina {} di {}).", list.page, list.pages)
}

/// The list's columns: the sort key, the header and whether it holds numbers.
const COLUMNS: [(SortKey, &str, bool); 7] = [
    (SortKey::Nome, "Comune", false),
    (SortKey::Istat, "Codice ISTAT", false),
    (SortKey::Provincia, "Provincia", false),
    (SortKey::Popolazione, "Popolazione", true),
    (SortKey::Adesione, "Adesione", false),
    (SortKey::PrimoStep, "Primo step", false),
    (SortKey::Finale, "Obiettivi finali", false),
];

/// One page of the list: headers that sort (links, so they work without JavaScript), the rows
/// and the pagination. Every link keeps the filters, the search and the sort.
#[component]
fn ComuniTable(list: ListPage, filter_query: String, view: ListView) -> impl IntoView {
    if list.rows.is_empty() {
        return view! { <p>"Nessun comune corrisponde alla ricerca e ai filtri scelti."</p> }.into_any();
    }
    let sorted_label = COLUMNS
        .iter()
        .find(|(k, _, _)| *k == view.ordina)
        .map(|(_, label, _)| label.to_lowercase())
        .unwrap_or_default();
    let caption = format!(
        "Comuni e stato degli obiettivi, ordinati per {sorted_label} ({})",
        if view.verso == super::Direction::Asc { "crescente" } else { "decrescente" }
    );
    let headers = COLUMNS
        .iter()
        .map(|&(key, label, num)| {
            let sorted = view.ordina == key;
            let next = view.sorted_by(key);
            let href = list_href(&filter_query, &next);
            let hint = if next.verso == super::Direction::Asc {
                ", ordina in modo crescente"
            } else {
                ", ordina in modo decrescente"
            };
            // The direction drawn for the eye; aria-sort says it to assistive technologies.
            let arrow = sorted.then_some(match view.verso {
                super::Direction::Asc => " ▲",
                super::Direction::Desc => " ▼",
            });
            view! {
                <th scope="col" class=num.then_some("num") aria-sort=sorted.then(|| view.verso.aria())>
                    <a href=href class="ordina">
                        {label}
                        <span class="visually-hidden">{hint}</span>
                        {arrow.map(|a| view! { <span aria-hidden="true">{a}</span> })}
                    </a>
                </th>
            }
        })
        .collect_view();
    let pagination =
        (list.pages > 1).then(|| view! { <Pagination page=list.page pages=list.pages filter_query view /> });
    view! {
        <div class="table-wrap">
            <table class="table">
                <caption>{caption}</caption>
                <thead>
                    <tr>{headers}</tr>
                </thead>
                <tbody>
                    {list
                        .rows
                        .into_iter()
                        .map(|r| view! { <ComuneRow r al=list.al /> })
                        .collect_view()}
                </tbody>
            </table>
        </div>
        {pagination}
    }
    .into_any()
}

#[component]
fn ComuneRow(r: ComuneListRow, al: Option<chrono::NaiveDate>) -> impl IntoView {
    // The comune's page of the same day.
    let href = href_with(&format!("/comuni/{}", r.codice_istat), &[&day_query(al)]);
    view! {
        <tr>
            <th scope="row">
                <A href=href>{r.denominazione}</A>
            </th>
            <td>{r.codice_istat}</td>
            <td>{r.sigla_provincia}</td>
            <td class="num">{format::int(r.popolazione)}</td>
            <td>{r.adesione.label()}</td>
            <td>
                <StepBadge state=r.primo_step />
            </td>
            <td>
                <StepBadge state=r.finale />
            </td>
        </tr>
    }
}

/// The list's pagination ([`crate::paging::Pager`]): its links keep the filters, the search and
/// the sort.
#[component]
fn Pagination(page: usize, pages: usize, filter_query: String, view: ListView) -> impl IntoView {
    view! { <crate::paging::Pager page pages href=move |p: usize| list_href(&filter_query, &view.at_page(p)) /> }
}

/// A status in words; the colour only repeats it.
#[component]
fn StepBadge(state: StepState) -> impl IntoView {
    view! { <span class=state.css()>{state.label()}</span> }
}

#[component]
pub fn ComunePage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let codice = move || params.with(|p| p.get("codice").unwrap_or_default());
    let al = move || query.with(|q| q.get("al").filter(|s| !s.trim().is_empty()));
    let detail = Resource::new(move || (codice(), al()), |(codice, al)| get_comune(codice, al));
    view! {
        <Suspense fallback=|| view! { <p>"Caricamento del comune…"</p> }>
            {move || Suspend::new(async move {
                match detail.await {
                    Ok(d) => view! { <ComuneView d /> }.into_any(),
                    Err(error @ crate::error::AppError::NotFound(_)) => {
                        view! {
                            <PageHead title="Comune non trovato" description="Il comune richiesto non è nell'anagrafe di Traguardi." />
                            <h1>"Comune non trovato"</h1>
                            <ErrorNotice error />
                            <p>
                                <A href="/comuni">"Torna all'elenco dei comuni"</A>
                            </p>
                        }
                            .into_any()
                    }
                    Err(error) => {
                        view! {
                            <PageHead title="Errore" description="Traguardi non ha potuto mostrare la pagina richiesta." />
                            <h1>"Impossibile mostrare il comune"</h1>
                            <ErrorNotice error />
                        }
                            .into_any()
                    }
                }
            })}
        </Suspense>
    }
}

#[component]
fn ComuneView(d: ComuneDetail) -> impl IntoView {
    let supported = d.adesione.is_supported();
    let pagopa_active =
        d.pagopa.iter().filter(|s| s.active_since.is_some() && s.deactivated_on.is_none()).count();
    let any_demo_code = d.pagopa.iter().any(|s| s.demo_code);
    view! {
        <PageHead
            title=d.denominazione.clone()
            description=format!(
                "{} nel Fondo Innovazione 2020-2021: adesione, obiettivi raggiunti e servizi attivi su pagoPA, App IO e SPID/CIE.",
                d.denominazione,
            )
        />
        <nav aria-label="Percorso" class="breadcrumb">
            <A href=href_with("/comuni", &[&day_query(d.al)])>"Comuni"</A>
            " / "
            <span aria-current="page">{d.denominazione.clone()}</span>
        </nav>
        <h1>{d.denominazione.clone()}</h1>
        {d.al.map(|day| view! { <DayNotice day today_href=format!("/comuni/{}", d.codice_istat) /> })}
        <section aria-labelledby="anagrafica">
            <h2 id="anagrafica">"Anagrafica"</h2>
            <dl class="scheda">
                <dt>"Codice ISTAT"</dt>
                <dd>{d.codice_istat.clone()}</dd>
                <dt>"Codice catastale"</dt>
                <dd>{d.codice_catastale.clone()}</dd>
                <dt>"Codice IPA"</dt>
                <dd>{d.codice_ipa.clone()}</dd>
                <dt>"Provincia"</dt>
                <dd>{format!("{} ({})", d.provincia, d.sigla_provincia)}</dd>
                <dt>"Popolazione residente"</dt>
                <dd>{format::int(d.popolazione)}</dd>
            </dl>
        </section>
        <section aria-labelledby="adesione">
            <h2 id="adesione">{format!("Adesione al {}", d.programma)}</h2>
            <dl class="scheda">
                <dt>"Stato"</dt>
                <dd>{d.adesione.label()}</dd>
                <dt>"Data di adesione"</dt>
                <dd>{format::opt_date(d.data_adesione)}</dd>
                {d
                    .rinuncia
                    .clone()
                    .map(|(what, on)| {
                        view! {
                            <dt>"Rinuncia"</dt>
                            <dd>{format!("{what}, dal {}", format::date(on))}</dd>
                        }
                    })}
                <dt>"Contributo assegnato"</dt>
                <dd>
                    {if d.contributo_eur > 0 { format::eur(d.contributo_eur) } else { "Nessuno".to_string() }}
                </dd>
                <dt>"Maturato"</dt>
                <dd>{format::eur(d.maturato_eur)}</dd>
                <dt>"Perso"</dt>
                <dd>{format::eur(d.perso_eur)}</dd>
                <dt>"Ancora possibile"</dt>
                <dd>{format::eur(d.possibile_eur)}</dd>
                <dt>"Rinunciato"</dt>
                <dd>{format::eur(d.rinunciato_eur)}</dd>
            </dl>
            <table class="table">
                <caption>"Fasi e quote del contributo"</caption>
                <thead>
                    <tr>
                        <th scope="col">"Fase"</th>
                        <th scope="col">"Scadenza"</th>
                        <th scope="col">"Quota"</th>
                        <th scope="col">"Stato"</th>
                        <th scope="col" class="num">
                            "Importo"
                        </th>
                        <th scope="col">"Esito della quota"</th>
                    </tr>
                </thead>
                <tbody>
                    {d
                        .steps
                        .iter()
                        .map(|s| {
                            view! {
                                <tr>
                                    <th scope="row">{s.name.clone()}</th>
                                    <td>{format::date(s.deadline)}</td>
                                    <td>{format!("{}%", s.share_percent)}</td>
                                    <td>
                                        <StepBadge state=s.state.clone() />
                                    </td>
                                    <td class="num">{format::eur(s.tranche_eur)}</td>
                                    <td>{s.tranche.label()}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </section>
        <section aria-labelledby="obiettivi">
            <h2 id="obiettivi">"Obiettivi"</h2>
            {(!supported)
                .then(|| {
                    view! {
                        <p class="note">
                            "Il comune non è supportato dal programma: gli obiettivi sono misurati ma non danno diritto a quote del contributo."
                        </p>
                    }
                })}
            <table class="table">
                <caption>"Obiettivi del programma e loro stato"</caption>
                <thead>
                    <tr>
                        <th scope="col">"Piattaforma"</th>
                        <th scope="col">"Fase"</th>
                        <th scope="col">"Regola"</th>
                        <th scope="col">"Scadenza"</th>
                        <th scope="col">"Stato"</th>
                        <th scope="col">"Misura attuale"</th>
                        <th scope="col">"Verificato"</th>
                    </tr>
                </thead>
                <tbody>
                    {d
                        .objectives
                        .iter()
                        .map(|o| {
                            view! {
                                <tr>
                                    <th scope="row">{o.platform.clone()}</th>
                                    <td>{o.step.clone()}</td>
                                    <td>
                                        {o.description.clone()}
                                        {(!o.confirmed_by_source)
                                            .then(|| view! { <em>" (regola da confermare)"</em> })}
                                    </td>
                                    <td>{format::date(o.deadline)}</td>
                                    <td>
                                        <StepBadge state=o.state.clone() />
                                    </td>
                                    <td>{o.progress.clone()}</td>
                                    <td>{if o.verificato { "Sì" } else { "Non ancora" }}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </section>
        <ForecastSection forecasts=d.previsioni.clone() />
        <section aria-labelledby="servizi">
            <h2 id="servizi">"Servizi"</h2>
            {match d.grafico.clone() {
                Some(svg) => {
                    view! {
                        <figure class="figura grafico-comune">
                            <div class="chart-svg" inner_html=svg></div>
                            <figcaption>
                                "Servizi attivi su pagoPA e App IO nei conteggi registrati, con le scadenze del programma."
                            </figcaption>
                        </figure>
                    }
                        .into_any()
                }
                None => view! { <p>"Nessun conteggio dei servizi registrato per questo comune."</p> }.into_any(),
            }}
            <h3>{format!("pagoPA: {} servizi di incasso attivi", pagopa_active)}</h3>
            {any_demo_code
                .then(|| {
                    view! {
                        <p class="note">
                            "I codici segnati «codice dimostrativo» non sono della tassonomia ufficiale pagoPA: servono solo ai dati dimostrativi."
                        </p>
                    }
                })}
            <div class="table-wrap">
                <table class="table">
                    <caption>"Servizi di incasso pagoPA"</caption>
                    <thead>
                        <tr>
                            <th scope="col">"Codice tassonomia"</th>
                            <th scope="col">"Servizio"</th>
                            <th scope="col">"Applicabile"</th>
                            <th scope="col">"Attivo dal"</th>
                            <th scope="col">"Su MyPay"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {d
                            .pagopa
                            .iter()
                            .map(|s| {
                                view! {
                                    <tr>
                                        <th scope="row">
                                            <code>{s.code.clone()}</code>
                                        </th>
                                        <td>
                                            {s.description.clone()}
                                            {s.demo_code.then_some(" (codice dimostrativo)")}
                                        </td>
                                        <td>{format::yes_no(s.applicable)}</td>
                                        <td>
                                            {match (s.active_since, s.deactivated_on) {
                                                (_, Some(off)) => format!("disattivato il {}", format::date(off)),
                                                (Some(d), None) => format::date(d),
                                                (None, None) => "non attivo".to_string(),
                                            }}
                                        </td>
                                        <td>{format::yes_no(s.on_mypay)}</td>
                                    </tr>
                                }
                            })
                            .collect_view()}
                    </tbody>
                </table>
            </div>
            <h3>
                {format!(
                    "App IO: {} servizi{}",
                    d.io.len(),
                    if d.io_tramite_regione { ", tramite la Regione" } else { "" },
                )}
            </h3>
            <div class="table-wrap">
                <table class="table">
                    <caption>"Servizi su App IO"</caption>
                    <thead>
                        <tr>
                            <th scope="col">"Service ID"</th>
                            <th scope="col">"Servizio"</th>
                            <th scope="col">"Pubblicato dal"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {d
                            .io
                            .iter()
                            .map(|s| {
                                view! {
                                    <tr>
                                        <th scope="row">
                                            <code>{s.service_id.clone()}</code>
                                        </th>
                                        <td>{s.name.clone()}</td>
                                        <td>{format::opt_date(s.published_since)}</td>
                                    </tr>
                                }
                            })
                            .collect_view()}
                    </tbody>
                </table>
            </div>
            <h3>{format!("Servizi online con SPID/CIE: {}", d.online.len())}</h3>
            <div class="table-wrap">
                <table class="table">
                    <caption>"Servizi online e accesso con identità digitale"</caption>
                    <thead>
                        <tr>
                            <th scope="col">"Servizio"</th>
                            <th scope="col">"SPID dal"</th>
                            <th scope="col">"CIE dal"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {d
                            .online
                            .iter()
                            .map(|s| {
                                view! {
                                    <tr>
                                        <th scope="row">{s.name.clone()}</th>
                                        <td>{format::opt_date(s.spid_since)}</td>
                                        <td>{format::opt_date(s.cie_since)}</td>
                                    </tr>
                                }
                            })
                            .collect_view()}
                    </tbody>
                </table>
            </div>
        </section>
        <PnrrSection projects=d.pnrr.clone() />
        <PrivateSection codice=d.codice_istat.clone() al=d.al />
    }
}

/// The comune's PA digitale 2026 projects (public: the candidature files are open data).
#[component]
fn PnrrSection(projects: Vec<super::PnrrView>) -> impl IntoView {
    let euro = |cents: i64| {
        let whole = crate::format::eur(cents / 100);
        if cents % 100 == 0 {
            whole
        } else {
            format!("{whole},{:02}", cents % 100)
        }
    };
    view! {
        <section aria-labelledby="pnrr">
            <h2 id="pnrr">"PA digitale 2026 (PNRR)"</h2>
            {if projects.is_empty() {
                view! { <p>"Nessun progetto PA digitale 2026 registrato per questo comune."</p> }.into_any()
            } else {
                view! {
                    <div class="table-wrap" tabindex="0" role="region" aria-label="Progetti PA digitale 2026">
                        <table class="table table-sm">
                            <caption>"Progetti finanziati dal PNRR (misure 1.4.3 e 1.4.4)"</caption>
                            <thead>
                                <tr>
                                    <th scope="col">"Misura"</th>
                                    <th scope="col">"Avviso"</th>
                                    <th scope="col">"CUP"</th>
                                    <th scope="col" class="numero">"Importo"</th>
                                    <th scope="col">"Stato"</th>
                                    <th scope="col">"Finanziato il"</th>
                                    <th scope="col">"Stato dal"</th>
                                </tr>
                            </thead>
                            <tbody>
                                {projects
                                    .into_iter()
                                    .map(|p| {
                                        view! {
                                            <tr>
                                                <th scope="row">{p.misura}</th>
                                                <td>{p.avviso}</td>
                                                <td>
                                                    <code>{p.cup}</code>
                                                </td>
                                                <td class="numero">{euro(p.importo_centesimi)}</td>
                                                <td>{p.stato}</td>
                                                <td>{crate::format::opt_date(p.data_finanziamento)}</td>
                                                <td>{crate::format::opt_date(p.data_stato)}</td>
                                            </tr>
                                        }
                                    })
                                    .collect_view()}
                            </tbody>
                        </table>
                    </div>
                }
                    .into_any()
            }}
            <p class="note">
                "Fonte: PA digitale 2026, candidature finanziate (Dipartimento per la trasformazione digitale, licenza CC BY 4.0), importate dalla Regione."
            </p>
        </section>
    }
}

/// The comune's non-public section, fetched only for someone allowed to read it (the server
/// checks again: the public never receives it).
#[component]
fn PrivateSection(codice: String, al: Option<chrono::NaiveDate>) -> impl IntoView {
    let user = Resource::new(|| (), |_| crate::auth::server::who_am_i());
    view! {
        <Suspense fallback=|| ()>
            {move || {
                let codice = codice.clone();
                Suspend::new(async move {
                    let viewer = user.await.ok().flatten();
                    if !crate::auth::may_read_private(viewer.as_ref(), &codice) {
                        return ().into_any();
                    }
                    match super::server::get_comune_private(codice).await {
                        Ok(p) => view! { <PrivateView p al /> }.into_any(),
                        Err(error) => view! { <ErrorNotice error /> }.into_any(),
                    }
                })
            }}
        </Suspense>
    }
}

#[component]
fn PrivateView(p: super::server::ComunePrivate, al: Option<chrono::NaiveDate>) -> impl IntoView {
    // Referents, blockers, verifications and evidence are today's, also on a past day's page:
    // said in words, so nobody reads them as that day's.
    let today_only = al.map(|day| {
        let href = format!("/comuni/{}#riservato", p.codice);
        view! {
            <p class="aiuto" data-testid="riservato-oggi">
                <strong>{format!("Quest'area mostra la situazione di oggi, non quella del {}.", format::date(day))}</strong>
                " " <a href=href>"Apri la pagina di oggi"</a> "."
            </p>
        }
    });
    view! {
        <section aria-labelledby="riservato" class="riservato">
            <h2 id="riservato">"Area riservata"</h2>
            <p class="aiuto">"Visibile solo alla Regione, agli assessori e ai referenti di questo comune."</p>
            {today_only}
            <h3>"Referenti registrati in Traguardi"</h3>
            {if p.referenti.is_empty() {
                view! { <p>"Nessun referente registrato."</p> }.into_any()
            } else {
                view! {
                    <ul>
                        {p.referenti
                            .into_iter()
                            .map(|(name, email)| view! { <li>{format!("{name} <{email}>")}</li> })
                            .collect_view()}
                    </ul>
                }
                    .into_any()
            }}
            <h3>"Blocchi e ritardi"</h3>
            {if p.blocchi.is_empty() {
                view! { <p>"Nessun blocco registrato."</p> }.into_any()
            } else {
                view! {
                    <ul class="lista-blocchi">
                        {p.blocchi
                            .into_iter()
                            .map(|b| {
                                let state = match b.resolved_on {
                                    Some(d) => format!("risolto il {}", format::date(d)),
                                    None => "aperto".to_string(),
                                };
                                view! {
                                    <li>
                                        {format!(
                                            "{}: {} (dal {}, {state})",
                                            b.category,
                                            b.description,
                                            format::date(b.opened_on),
                                        )}
                                    </li>
                                }
                            })
                            .collect_view()}
                    </ul>
                }
                    .into_any()
            }}
            <h3>"Evidenze degli obiettivi"</h3>
            <div class="table-wrap" tabindex="0" role="region" aria-label="Verifiche ed evidenze degli obiettivi">
                <table class="table">
                    <caption>"Verifica della Regione ed evidenze di ogni obiettivo"</caption>
                    <thead>
                        <tr>
                            <th scope="col">"Obiettivo"</th>
                            <th scope="col">"Verifica della Regione"</th>
                            <th scope="col">"Evidenza"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {p
                            .obiettivi
                            .into_iter()
                            .map(|o| {
                                let versions = (o.evidenze > 0)
                                    .then(|| {
                                        format!(
                                            " ({} {})",
                                            o.evidenze,
                                            if o.evidenze == 1 { "versione" } else { "versioni" },
                                        )
                                    });
                                view! {
                                    <tr>
                                        <th scope="row">{format!("{}, {}: {}", o.platform, o.step, o.description)}</th>
                                        <td>{o.verifica}</td>
                                        <td>{o.evidenza}{versions}</td>
                                    </tr>
                                }
                            })
                            .collect_view()}
                    </tbody>
                </table>
            </div>
            <p>
                <a href=format!("/comuni/{}/evidenze", p.codice)>
                    {if p.may_act {
                        "Carica le evidenze e leggi l'esito degli esami"
                    } else {
                        "Evidenze caricate e loro esame"
                    }}
                </a>
            </p>
            <h3>"Ultime modifiche"</h3>
            <crate::workspace::ui::TrailEntries entries=p.modifiche />
            <p>
                <a href=format!("/comuni/{}/registro", p.codice)>"Registro completo delle modifiche del comune"</a>
            </p>
            {p
                .may_act
                .then(|| {
                    view! {
                        <p>
                            <a class="btn btn-primary" href=format!("/comuni/{}/gestione", p.codice)>
                                "Gestisci i dati del comune"
                            </a>
                        </p>
                    }
                })}
        </section>
    }
}
