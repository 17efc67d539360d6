//! The `/scadenze` page: three tables (overdue, due soon, at risk later) under a plain GET form
//! for the date, the province and the order. Server-rendered, no island: it works the same with JavaScript off.

use crate::app::PageHead;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::{server::get_scadenze, ScadenzaRow, ScadenzeData, ScadenzeQuery};
use crate::{
    app::ErrorNotice, auth::ui::SignInNeeded, comuni::territory::use_territory, error::AppError, format,
};

/// The query as the URL holds it.
fn use_scadenze_query() -> Memo<ScadenzeQuery> {
    let query = use_query_map();
    Memo::new(move |_| {
        query.with(|q| {
            let get = |k: &str| q.get(k).filter(|s| !s.trim().is_empty());
            ScadenzeQuery {
                al: get("al"),
                provincia: get("provincia"),
                ordina: get("ordina"),
                pagina_scaduti: get("pagina_scaduti"),
                pagina_in_scadenza: get("pagina_in_scadenza"),
                pagina_a_rischio: get("pagina_a_rischio"),
            }
        })
    })
}

#[component]
pub fn ScadenzePage() -> impl IntoView {
    let query = use_scadenze_query();
    let data = Resource::new(move || query.get(), get_scadenze);
    view! {
        <PageHead title="Scadenze" description="Le scadenze del Fondo Innovazione: obiettivi dei comuni in scadenza o scaduti, con le previsioni e i comuni a rischio." />
        <h1>"Scadenze: obiettivi scaduti e in scadenza"</h1>
        <Suspense fallback=|| view! { <p>"Caricamento delle scadenze…"</p> }>
            {move || Suspend::new(async move {
                let raw = query.get_untracked();
                match data.await {
                    Ok(d) => view! { <ScadenzeView d /> }.into_any(),
                    Err(error @ (AppError::Unauthorized(_) | AppError::Forbidden(_))) => {
                        view! { <SignInNeeded error /> }.into_any()
                    }
                    Err(error) => {
                        // A bad date or province: say what is wrong, keep what was typed.
                        view! {
                            <ErrorNotice error />
                            <ScadenzeForm
                                al=raw.al.unwrap_or_default()
                                provincia=raw.provincia.unwrap_or_default()
                                by_risk=raw.ordina.as_deref() == Some("rischio")
                            />
                        }
                            .into_any()
                    }
                }
            })}
        </Suspense>
    }
}

/// The date and province, as a plain GET form: it works without JavaScript and its URL can be
/// shared.
#[component]
fn ScadenzeForm(al: String, provincia: String, by_risk: bool) -> impl IntoView {
    let territory = use_territory();
    view! {
        <form method="get" action="/scadenze" class="filtri" aria-label="Data e provincia">
            <div class="campo">
                <label for="al">"Situazione al giorno"</label>
                <input id="al" name="al" type="date" value=al aria-describedby="al-aiuto" />
                <p class="aiuto" id="al-aiuto">"Formato AAAA-MM-GG oppure GG/MM/AAAA; vuoto per oggi."</p>
            </div>
            <div class="campo">
                <label for="provincia">"Provincia"</label>
                <select id="provincia" name="provincia" class="form-select">
                    <option value="" selected=provincia.is_empty()>
                        "Tutte"
                    </option>
                    {territory
                        .province
                        .iter()
                        .map(|p| {
                            let selected = provincia.eq_ignore_ascii_case(&p.sigla);
                            view! {
                                <option value=p.sigla.clone() selected=selected>
                                    {p.nome.clone()}
                                </option>
                            }
                        })
                        .collect_view()}
                </select>
            </div>
            <div class="campo">
                <label for="ordina">"Ordina gli obiettivi aperti"</label>
                <select id="ordina" name="ordina" class="form-select">
                    <option value="scadenza" selected=!by_risk>
                        "Per scadenza"
                    </option>
                    <option value="rischio" selected=by_risk>
                        "Per rischio (previsione)"
                    </option>
                </select>
            </div>
            <div class="campo campo-azioni">
                <button type="submit" class="btn btn-primary">
                    "Mostra"
                </button>
                <a href="/scadenze" class="btn btn-outline-primary">
                    "Azzera"
                </a>
            </div>
        </form>
    }
}

#[component]
fn ScadenzeView(d: ScadenzeData) -> impl IntoView {
    let day = format::date(d.as_of);
    let territory = use_territory();
    // The server checked the province against the territory; its name for the sentence.
    let provincia = d.provincia.clone();
    let valid = super::ValidScadenzeQuery {
        al: Some(d.as_of),
        provincia: provincia.clone(),
        by_risk: d.by_risk,
        pages: [1; 3],
    };
    // The page links: the past day only when one was asked (today's links stay today's).
    let here = super::ValidScadenzeQuery {
        al: d.al,
        provincia,
        by_risk: d.by_risk,
        pages: d.counts.map(|c| c.page.max(1)),
    };
    let province_name = d
        .provincia
        .as_deref()
        .and_then(|p| territory.provincia(p))
        .map(|p| format!(", provincia di {}", p.nome))
        .unwrap_or_default();
    let window = d.window_days;
    view! {
        <p>
            {format!(
                "Situazione al {day}{province_name}: gli obiettivi dei comuni aderenti non ancora raggiunti, scaduti o in scadenza entro {window} giorni, con gli ostacoli aperti segnalati per ciascun comune.",
            )}
        </p>
        {d
            .al
            .map(|day| {
                let today_href = match &d.provincia {
                    Some(p) => format!("/scadenze?provincia={p}"),
                    None => "/scadenze".to_string(),
                };
                view! { <crate::comuni::ui::DayNotice day today_href /> }
            })}
        {d
            .own_comuni_only
            .then(|| view! { <p class="note">"Sono mostrati solo i comuni per cui operi."</p> })}
        <ScadenzeForm
            al=d.as_of.format("%Y-%m-%d").to_string()
            provincia=d.provincia.clone().unwrap_or_default()
            by_risk=d.by_risk
        />
        <crate::exports::ui::ExportLinks stem="scadenze" query=valid.query() what="le scadenze" />
        <section aria-labelledby="scaduti">
            <h2 id="scaduti">"Obiettivi scaduti e non raggiunti"</h2>
            <ScadenzeTable
                rows=d.overdue
                count=d.counts[0]
                pages={
                    let here = here.clone();
                    move |p| here.page_href(0, p)
                }
                pager_label="Paginazione degli obiettivi scaduti"
                al=d.al
                caption=format!("Obiettivi scaduti e non raggiunti al {day}")
                count_text=|objectives, comuni| format!("{objectives} scaduti e non raggiunti, in {comuni}.")
                empty="Nessun obiettivo scaduto e non raggiunto."
            />
        </section>
        <section aria-labelledby="in-scadenza">
            <h2 id="in-scadenza">{format!("In scadenza entro {window} giorni")}</h2>
            <ScadenzeTable
                rows=d.due_soon
                count=d.counts[1]
                pages={
                    let here = here.clone();
                    move |p| here.page_href(1, p)
                }
                pager_label="Paginazione degli obiettivi in scadenza"
                al=d.al
                caption=format!("Obiettivi non ancora raggiunti in scadenza entro {window} giorni dal {day}")
                count_text=|objectives, comuni| format!("{objectives} in scadenza, in {comuni}.")
                empty="Nessun obiettivo in scadenza."
            />
        </section>
        <section aria-labelledby="a-rischio">
            <h2 id="a-rischio">{format!("A rischio, con scadenza oltre {window} giorni")}</h2>
            <p class="note">
                "Obiettivi ancora aperti che la previsione dà raggiunti dopo la scadenza, o senza progresso, al ritmo delle ultime settimane: la pagina di ciascun comune mostra il grafico e il metodo."
            </p>
            <ScadenzeTable
                rows=d.at_risk
                count=d.counts[2]
                pages=move |p| here.page_href(2, p)
                pager_label="Paginazione degli obiettivi a rischio"
                al=d.al
                caption=format!("Obiettivi a rischio con scadenza oltre {window} giorni dal {day}")
                count_text=|objectives, comuni| format!("{objectives} a rischio, in {comuni}.")
                empty="Nessun obiettivo a rischio oltre questo periodo."
            />
        </section>
    }
}

/// "1 obiettivo" / "3 obiettivi", "1 comune" / "2 comuni".
fn counted(n: usize, one: &str, many: &str) -> String {
    format!("{} {}", format::int(n as i64), if n == 1 { one } else { many })
}

/// One table of `/scadenze`: one page of its rows, its size in words and its page links.
#[component]
fn ScadenzeTable(
    rows: Vec<ScadenzaRow>,
    /// The whole table's size and the page shown.
    count: super::TableCount,
    /// The address of each page of this table.
    pages: impl Fn(usize) -> String + 'static,
    /// The name of this table's page links (each of the page's three is named apart).
    pager_label: &'static str,
    /// The past day shown: the comuni's links open their page of that day.
    al: Option<chrono::NaiveDate>,
    caption: String,
    count_text: fn(String, String) -> String,
    empty: &'static str,
) -> impl IntoView {
    let count_words = if count.total == 0 {
        empty.to_string()
    } else {
        count_text(counted(count.total, "obiettivo", "obiettivi"), counted(count.comuni, "comune", "comuni"))
    };
    // Where this page stands, on a line of its own: the count above stays one sentence.
    let range = crate::paging::range_words(count.page, rows.len(), count.total);
    let (page, page_count) = (count.page, count.pages);
    view! {
        <p class="conteggio">{count_words}</p>
        {(!range.is_empty()).then(|| view! { <p class="conteggio">{range}</p> })}
        <div class="table-wrap">
            <table class="table">
                <caption>{caption}</caption>
                <thead>
                    <tr>
                        <th scope="col">"Comune"</th>
                        <th scope="col">"Provincia"</th>
                        <th scope="col">"Obiettivo"</th>
                        <th scope="col">"Scadenza"</th>
                        <th scope="col">"Stato"</th>
                        <th scope="col">"Previsione"</th>
                        <th scope="col">"Ostacoli aperti"</th>
                    </tr>
                </thead>
                <tbody>
                    {if rows.is_empty() {
                        view! {
                            <tr>
                                <td colspan="7">{empty}</td>
                            </tr>
                        }
                            .into_any()
                    } else {
                        rows.into_iter().map(|r| view! { <ScadenzaTr r al /> }).collect_view().into_any()
                    }}
                </tbody>
            </table>
        </div>
        <crate::paging::Pager page pages=page_count href=pages label=pager_label />
    }
}

#[component]
fn ScadenzaTr(r: ScadenzaRow, al: Option<chrono::NaiveDate>) -> impl IntoView {
    let href = match al {
        Some(d) => format!("/comuni/{}?al={}", r.codice_istat, d.format("%Y-%m-%d")),
        None => format!("/comuni/{}", r.codice_istat),
    };
    view! {
        <tr>
            <th scope="row">
                <a href=href>{r.denominazione}</a>
            </th>
            <td>{r.sigla_provincia}</td>
            <td>
                <strong>{r.platform}</strong>
                ": "
                {r.description}
            </td>
            <td class="text-nowrap">{format::date(r.deadline)}</td>
            <td>
                <span class=r.urgency.css()>{r.urgency.label()}</span>
            </td>
            <td>{r.previsione.map_or_else(|| "–".to_string(), |f| f.label())}</td>
            <td>
                {if r.blockers.is_empty() {
                    view! { "Nessuno" }.into_any()
                } else {
                    view! {
                        <ul class="ostacoli">
                            {r
                                .blockers
                                .into_iter()
                                .map(|b| {
                                    view! {
                                        <li>
                                            <strong>{b.category.label()}</strong>
                                            ": "
                                            {b.description}
                                            {format!(" (dal {})", format::date(b.opened_on))}
                                        </li>
                                    }
                                })
                                .collect_view()}
                        </ul>
                    }
                        .into_any()
                }}
            </td>
        </tr>
    }
}
