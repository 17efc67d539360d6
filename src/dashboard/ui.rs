//! The dashboard page: the filter form, the headline figures, four charts and the map.

use crate::app::PageHead;
use leptos::prelude::*;

use super::{
    server::{get_dashboard, get_graphics},
    DashboardData, Graphics, LegendEntry, ProvinceRow, SeriesPoint, Summary,
};
use crate::{
    app::ErrorNotice,
    comuni::{ui::use_filter, ui::FilterForm, ComuniFilter, Milestone},
    format,
};

#[component]
pub fn DashboardPage() -> impl IntoView {
    let filter = use_filter();
    // Rendered on the server only (islands): the resources are not sent to the browser.
    let data = Resource::new(move || filter.get(), get_dashboard);
    let graphics = Resource::new(move || filter.get(), get_graphics);
    view! {
        <PageHead title="Cruscotto" description="Il cruscotto del Fondo Innovazione 2020-2021: adesioni, obiettivi raggiunti e contributi per provincia, con la mappa dei comuni." />
        <h1>"Fondo Innovazione in Puglia"</h1>
        <InPlaceFilters>
            <Suspense fallback=|| view! { <p>"Caricamento dei dati…"</p> }>
                {move || Suspend::new(async move {
                    match (data.await, graphics.await) {
                        (Ok(d), Ok(g)) => view! { <Dashboard data=d graphics=g filter /> }.into_any(),
                        (Err(error), _) | (_, Err(error)) => {
                            view! {
                                <FilterForm action="/" filter population=Vec::new() />
                                <ErrorNotice error />
                            }
                                .into_any()
                        }
                    }
                })}
            </Suspense>
        </InPlaceFilters>
    }
}

/// With JavaScript, the dashboard's filter form updates the page in place: the form is sent
/// as it would be without JavaScript (a GET of `/` with the filters), and the figures, charts
/// and map of the answer (`#cruscotto-risultati`) replace the current ones; the address bar
/// follows, so the link can still be shared, and the back button reloads the page it names.
/// Without JavaScript the same form simply loads the new page. The server renders everything
/// once either way; this island is the only dashboard code in the browser.
#[island]
fn InPlaceFilters(children: Children) -> impl IntoView {
    let message = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    // The back and forward buttons show the page of the address they go to.
    Effect::new(move |_| {
        #[cfg(feature = "hydrate")]
        browser::reload_on_history_navigation();
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        #[cfg(feature = "hydrate")]
        browser::submit_in_place(ev, busy, message);
        #[cfg(not(feature = "hydrate"))]
        let _ = ev;
    };
    view! {
        <div class="cruscotto" on:submit=on_submit aria-busy=move || busy.get().to_string()>
            <p class="visually-hidden" aria-live="polite">
                {move || message.get()}
            </p>
            <p class="aggiornamento" hidden=move || !busy.get()>
                "Aggiornamento dei dati in corso…"
            </p>
            {children()}
        </div>
    }
}

/// What [`InPlaceFilters`] does in the browser.
#[cfg(feature = "hydrate")]
mod browser {
    use leptos::prelude::*;
    use wasm_bindgen::{closure::Closure, JsCast};
    use wasm_bindgen_futures::JsFuture;

    /// The part of the page that a filter changes.
    const RESULTS: &str = "cruscotto-risultati";

    pub fn reload_on_history_navigation() {
        let Some(window) = web_sys::window() else { return };
        let reload = Closure::<dyn Fn()>::new(|| {
            if let Some(w) = web_sys::window() {
                let _ = w.location().reload();
            }
        });
        window.set_onpopstate(Some(reload.as_ref().unchecked_ref()));
        reload.forget();
    }

    pub fn submit_in_place(ev: leptos::ev::SubmitEvent, busy: RwSignal<bool>, message: RwSignal<String>) {
        let Some(form) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlFormElement>().ok()) else {
            return;
        };
        if !form.method().eq_ignore_ascii_case("get") {
            return;
        }
        let Some(url) = form_url(&form) else { return };
        // Another day changes the page's heading too: load the whole page, as without
        // JavaScript.
        if day_of(&url)
            != day_of(&web_sys::window().and_then(|w| w.location().href().ok()).unwrap_or_default())
        {
            return;
        }
        ev.prevent_default();
        busy.set(true);
        message.set("Aggiornamento dei dati in corso.".into());
        leptos::task::spawn_local(async move {
            let done = replace_results(&url).await;
            busy.set(false);
            match done {
                Some(status) => message.set(format!("Dati aggiornati. {status}")),
                // Anything unexpected (an error page, a lost connection): load the page itself.
                None => {
                    if let Some(w) = web_sys::window() {
                        let _ = w.location().assign(&url);
                    }
                }
            }
        });
    }

    /// The `al` of an address (empty: today).
    fn day_of(url: &str) -> String {
        let query = url.split_once('?').map(|(_, q)| q).unwrap_or_default();
        web_sys::UrlSearchParams::new_with_str(query)
            .ok()
            .and_then(|q| q.get("al"))
            .map(|d| d.trim().to_string())
            .unwrap_or_default()
    }

    /// The address the form would load: its action with its fields as the query.
    fn form_url(form: &web_sys::HtmlFormElement) -> Option<String> {
        let data = web_sys::FormData::new_with_form(form).ok()?;
        let query = web_sys::UrlSearchParams::new_with_str_sequence_sequence(&data).ok()?;
        let action = form.action();
        let base = action.split('?').next().unwrap_or(&action);
        Some(format!("{base}?{}", String::from(query.to_string())))
    }

    /// Fetches `url`, swaps its results into the page, updates the address and the title.
    /// Returns the new status line, or `None` when the answer is not a dashboard.
    async fn replace_results(url: &str) -> Option<String> {
        let window = web_sys::window()?;
        let response: web_sys::Response =
            JsFuture::from(window.fetch_with_str(url)).await.ok()?.dyn_into().ok()?;
        if !response.ok() {
            return None;
        }
        let html = JsFuture::from(response.text().ok()?).await.ok()?.as_string()?;
        let parsed = web_sys::DomParser::new()
            .ok()?
            .parse_from_string(&html, web_sys::SupportedType::TextHtml)
            .ok()?;
        let fresh = parsed.get_element_by_id(RESULTS)?;
        let document = window.document()?;
        let current = document.get_element_by_id(RESULTS)?;
        current.set_inner_html(&fresh.inner_html());
        document.set_title(&parsed.title());
        window.history().ok()?.push_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(url)).ok()?;
        let status = current.query_selector("[data-testid=filtri-applicati]").ok()??.text_content()?;
        Some(status)
    }
}

#[component]
fn Dashboard(data: DashboardData, graphics: Graphics, filter: Memo<ComuniFilter>) -> impl IntoView {
    let DashboardData { summary: s, filtro, fasce_popolazione, legenda, servizi, al } = data;
    // A past day: said in words, with the same filters today one click away.
    let notice = al.map(|day| {
        let today = crate::comuni::ui::query_today(&filtro);
        let today_href = if today.is_empty() { "/".to_string() } else { format!("/?{today}") };
        view! { <crate::comuni::ui::DayNotice day today_href /> }
    });
    let as_of = s.data_riferimento.map(format::date).unwrap_or_default();
    let download = |name: &str| {
        if filtro.is_empty() {
            format!("/grafici/{name}.svg")
        } else {
            format!("/grafici/{name}.svg?{filtro}")
        }
    };
    let [d_adesione, d_obiettivi, d_servizi, d_contributo, d_mappa] = super::GRAPHICS_NAMES.map(download);
    // The series' points as data (`/grafici/servizi.csv`), with the same filter.
    let csv_servizi = d_servizi.replacen(".svg", ".csv", 1);
    let figures = figures(&s, &filtro);
    let territory = crate::comuni::territory::use_territory();
    let applied = describe_filter(&filter.get_untracked(), &fasce_popolazione, &territory.province);
    let (rows_a, rows_o, rows_c) = (s.province.clone(), s.province.clone(), s.province.clone());
    let list_href = if filtro.is_empty() { "/comuni".to_string() } else { format!("/comuni?{filtro}") };
    let export = |path: &str| if filtro.is_empty() { path.to_string() } else { format!("{path}?{filtro}") };
    let (csv_href, excel_href, xlsx_href, json_href) = (
        export("/export/comuni.csv"),
        export("/export/comuni-excel.csv"),
        export("/export/comuni.xlsx"),
        export("/export/comuni.json"),
    );
    view! {
        <p class="lead">
            {format!(
                "{}: adesione e obiettivi dei comuni pugliesi su pagoPA, App IO e SPID/CIE. Dati al {as_of}.",
                s.programma,
            )}
        </p>
        <section aria-labelledby="filtri-titolo" class="sezione-filtri">
            <h2 id="filtri-titolo">"Filtri"</h2>
            <p class="note">
                "Cifre, grafici, mappa ed esportazione seguono gli stessi filtri; l'indirizzo della pagina li conserva e si può condividere."
            </p>
            <FilterForm action="/" filter population=fasce_popolazione />
        </section>
        // What a filter changes: with JavaScript, replaced in place by the `InPlaceFilters` island.
        <div id="cruscotto-risultati">
        {notice}
        <p role="status" class="filtri-applicati" data-testid="filtri-applicati">
            {format!("{applied} {} comuni considerati.", format::int(s.totale_comuni))}
        </p>
        <p>
            <a href=list_href class="me-3">
                "Elenco di questi comuni"
            </a>
            <a href=csv_href download="" class="me-3">
                "Scarica questi comuni in CSV"
            </a>
            <a href=excel_href download="" class="me-3">
                "in CSV per Excel"
            </a>
            <a href=xlsx_href download="" class="me-3">
                "in Excel (XLSX)"
            </a>
            <a href=json_href download="" class="me-3">
                "in JSON"
            </a>
            <a href=crate::report::href(&filtro) data-testid="rapporto-pdf">
                "Rapporto da stampare (PDF)"
            </a>
        </p>
        <section aria-labelledby="cifre-titolo">
            <h2 id="cifre-titolo">"Le cifre principali"</h2>
            <div class="figure-grid">
                {figures.into_iter().map(|f| view! { <FigureCard figure=f /> }).collect_view()}
            </div>
            <VerifiedTable rows=s.obiettivi.clone() />
            <p class="note">
                "Nota: il comunicato stampa della Regione parla di 256 comuni pugliesi; l'elenco ISTAT ne conta 257 (Presicce-Acquarica è nato nel 2019 dalla fusione di due comuni). Qui si contano 257 comuni."
            </p>
        </section>
        <section aria-labelledby="mappa-sezione">
            <h2 id="mappa-sezione">"La mappa dei comuni"</h2>
            <MapFigure svg=graphics.mappa legenda download=d_mappa />
        </section>
        <section aria-labelledby="grafici-titolo">
            <h2 id="grafici-titolo">"Province e tempi"</h2>
            <ChartFigure
                id="adesione"
                title="Adesione per provincia"
                caption="Comuni aderenti, aderenti in ritardo e non aderenti (comprese le rinunce), sul totale dei comuni di ciascuna provincia."
                svg=graphics.adesione
                download=d_adesione
            >
                <AdhesionTable rows=rows_a filtro=filtro />
            </ChartFigure>
            <ChartFigure
                id="obiettivi"
                title="Obiettivi raggiunti per provincia"
                caption="Comuni che hanno raggiunto gli obiettivi del primo step (anche in ritardo) e tutti gli obiettivi entro le scadenze, in percentuale dei comuni aderenti della provincia."
                svg=graphics.obiettivi
                download=d_obiettivi
            >
                <ObjectivesTable rows=rows_o />
            </ChartFigure>
            <ChartFigure
                id="servizi"
                title="Servizi attivi nel tempo"
                caption="Servizi di incasso pagoPA attivi e servizi pubblicati su App IO, sommati sui comuni considerati, dai conteggi di fine mese; le linee verticali segnano le scadenze del programma."
                svg=graphics.servizi
                download=d_servizi
            >
                <SeriesTable points=servizi csv=csv_servizi />
            </ChartFigure>
            <ChartFigure
                id="contributo"
                title="Contributo per provincia"
                caption="Contributo assegnato ai comuni aderenti, in euro: maturato, ancora possibile, perso o rinunciato."
                svg=graphics.contributo
                download=d_contributo
            >
                <GrantTable rows=rows_c />
            </ChartFigure>
        </section>
        </div>
    }
}

/// "Filtri applicati: provincia di Lecce, …." or "Nessun filtro: tutti i comuni della Puglia."
fn describe_filter(
    f: &ComuniFilter,
    bands: &[crate::comuni::FilterChoice],
    province: &[crate::comuni::Provincia],
) -> String {
    let Ok(v) = f.validate() else { return String::new() };
    let parts = v.phrases(bands, province);
    if parts.is_empty() {
        "Nessun filtro: tutti i comuni della Puglia.".to_string()
    } else {
        format!("Filtri applicati: {}.", parts.join(", "))
    }
}

/// A headline figure: what it counts, the number, the denominator in words, and the list of
/// the comuni behind it.
#[derive(Clone, Debug, PartialEq)]
pub struct Figure {
    pub key: &'static str,
    pub title: String,
    pub value: String,
    pub denominator: String,
    pub href: String,
}

/// The headline figures of `s`; links keep the filter `filtro` and add the figure's milestone.
pub fn figures(s: &Summary, filtro: &str) -> Vec<Figure> {
    let deadline1 = s.primo_step_scadenza.map(format::date).unwrap_or_default();
    let deadline2 = s.finale_scadenza.map(format::date).unwrap_or_default();
    let as_of = s.data_riferimento.map(format::date).unwrap_or_default();
    let end = s.fine_progetto.map(format::date).unwrap_or_default();
    // Today's MyPay figure beside the end-of-project one, its whole said again.
    let today = |n: i64, whole: i64| {
        format!("oggi ({as_of}) {} su {} ({})", format::int(n), format::int(whole), format::percent(n, whole))
    };
    let milestone = |m: Milestone| format!("/comuni?{}", crate::comuni::query_with_milestone(filtro, m));
    let of = |n: i64, whole: i64, what: &str| {
        format!("su {} {what} ({})", format::int(whole), format::percent(n, whole))
    };
    let share = |sh: crate::dashboard::Share| of(sh.count, sh.whole, sh.whole_words);
    let tranches = s
        .maturato_per_step
        .iter()
        .map(|t| format!("{} {}% {}", t.step.to_lowercase(), t.share_percent, format::eur(t.eur)))
        .collect::<Vec<_>>()
        .join(" + ");
    let mut figures = vec![
        Figure {
            key: "supportati",
            // The press release calls the 133 on time "aderenti": the 140 are named for what they
            // are, with both parts in words.
            title: "Comuni aderenti, nei termini o in ritardo".into(),
            value: format::int(s.supportati),
            denominator: format!(
                "{} aderenti nei termini e {} in ritardo; {}",
                format::int(s.aderenti),
                format::int(s.in_ritardo),
                share(s.supportati_share()),
            ),
            href: milestone(Milestone::Supportati),
        },
        Figure {
            key: "primo-step-in-tempo",
            title: format!("Primo step raggiunto entro il {deadline1}"),
            value: format::int(s.primo_step_in_tempo),
            denominator: share(s.primo_step_in_tempo_share()),
            href: milestone(Milestone::PrimoStepInTempo),
        },
        Figure {
            key: "primo-step",
            title: "Primo step raggiunto (anche in ritardo)".into(),
            value: format::int(s.primo_step),
            denominator: share(s.primo_step_share()),
            href: milestone(Milestone::PrimoStep),
        },
        Figure {
            key: "tutti-obiettivi",
            title: format!("Tutti gli obiettivi raggiunti entro il {deadline2}"),
            value: format::int(s.tutti_obiettivi),
            denominator: share(s.tutti_obiettivi_share()),
            href: milestone(Milestone::TuttiObiettivi),
        },
        Figure {
            key: "mypay-attivi",
            title: format!("Servizi di incasso pagoPA attivi su MyPay al {end}"),
            value: format::int(s.mypay_attivi_fine_progetto),
            denominator: format!(
                "{}; {}",
                of(
                    s.mypay_attivi_fine_progetto,
                    s.mypay_applicabili_fine_progetto,
                    "servizi applicabili registrati su MyPay"
                ),
                today(s.mypay_attivi, s.mypay_applicabili)
            ),
            href: milestone(Milestone::MyPay),
        },
        Figure {
            key: "mypay-nel-progetto",
            title: format!("Servizi attivati su MyPay durante il progetto, attivi al {end}"),
            value: format::int(s.mypay_nel_progetto_fine_progetto),
            denominator: format!(
                "{}; {}",
                of(
                    s.mypay_nel_progetto_fine_progetto,
                    s.mypay_attivi_fine_progetto,
                    "servizi attivi su MyPay"
                ),
                today(s.mypay_nel_progetto, s.mypay_attivi)
            ),
            href: milestone(Milestone::MyPayNelProgetto),
        },
        Figure {
            key: "io-regione",
            title: "Comuni su App IO tramite la Regione".into(),
            value: format::int(s.io_regione),
            denominator: share(s.io_regione_share()),
            href: milestone(Milestone::IoTramiteRegione),
        },
        Figure {
            key: "contributo-assegnato",
            title: "Contributo assegnato".into(),
            value: format::eur(s.contributo_assegnato),
            denominator: format!(
                "ai {} comuni aderenti, per fascia di popolazione",
                format::int(s.supportati)
            ),
            href: milestone(Milestone::Supportati),
        },
        Figure {
            key: "contributo-maturato",
            title: "Contributo maturato".into(),
            value: format::eur(s.contributo_maturato),
            denominator: format!(
                "da {}, su {} assegnati ({}): {tranches}",
                format::comuni(s.comuni_maturato),
                format::eur(s.contributo_assegnato),
                format::percent(s.contributo_maturato, s.contributo_assegnato)
            ),
            href: milestone(Milestone::ContributoMaturato),
        },
        Figure {
            key: "contributo-possibile",
            title: "Contributo a rischio".into(),
            value: format::eur(s.contributo_possibile),
            denominator: format!(
                "di {}: traguardo non ancora raggiunto, scadenza non ancora passata",
                format::comuni(s.comuni_possibile)
            ),
            href: milestone(Milestone::ContributoPossibile),
        },
        Figure {
            key: "contributo-perso",
            title: "Contributo perso".into(),
            value: format::eur(s.contributo_perso),
            denominator: format!(
                "di {}: traguardo non raggiunto entro la scadenza",
                format::comuni(s.comuni_perso)
            ),
            href: milestone(Milestone::ContributoPerso),
        },
        Figure {
            key: "contributo-rinunciato",
            title: "Contributo rinunciato".into(),
            value: format::eur(s.contributo_rinunciato),
            denominator: format!(
                "da {}: rinuncia al saldo o all'intero contributo",
                format::comuni(s.comuni_rinunciato)
            ),
            href: milestone(Milestone::ContributoRinunciato),
        },
    ];
    // Forecasts exist only on a day before a deadline: the card appears then, first.
    if s.con_previsione > 0 {
        figures.insert(
            0,
            Figure {
                key: "a-rischio",
                title: "Comuni a rischio secondo la previsione".into(),
                value: format::int(s.a_rischio),
                denominator: format!(
                    "{} con obiettivi ancora aperti ({}): almeno un obiettivo previsto dopo la scadenza o senza progresso",
                    format::int(s.con_previsione),
                    format::percent(s.a_rischio, s.con_previsione)
                ),
                href: milestone(Milestone::ARischio),
            },
        );
    }
    figures
}

#[component]
fn FigureCard(figure: Figure) -> impl IntoView {
    let Figure { key, title, value, denominator, href } = figure;
    view! {
        <div class="figura" data-figura=key>
            <a href=href>
                <span class="figura-titolo">{title}</span>
                <span class="figura-valore">{value}</span>
                <span class="figura-denominatore">{denominator}</span>
                <span class="visually-hidden">" — vedi l'elenco dei comuni"</span>
            </a>
        </div>
    }
}

/// A chart: the SVG drawn on the server, its caption, the same numbers as a table (collapsed,
/// readable without JavaScript: `<details>`), and the SVG as a file.
#[component]
fn ChartFigure(
    id: &'static str,
    title: &'static str,
    caption: &'static str,
    svg: std::sync::Arc<str>,
    download: String,
    children: Children,
) -> impl IntoView {
    view! {
        <figure class="chart" id=format!("grafico-{id}") data-grafico=id>
            <h3>{title}</h3>
            <div class="chart-svg" inner_html=svg></div>
            <figcaption>{caption}</figcaption>
            <details>
                <summary>"Dati del grafico in tabella"</summary>
                {children()}
            </details>
            <p class="scarica">
                <a href=download.clone() download="">
                    {format!("Scarica il grafico «{title}» (SVG)")}
                </a>
                " "
                <a href=download.replacen(".svg", ".png", 1) download="">
                    {format!("Scarica il grafico «{title}» (PNG)")}
                </a>
            </p>
        </figure>
    }
}

#[component]
fn MapFigure(svg: std::sync::Arc<str>, legenda: Vec<LegendEntry>, download: String) -> impl IntoView {
    view! {
        <figure class="mappa-figura" data-grafico="mappa">
            <a href="#mappa-legenda" class="salta-mappa">
                "Salta la mappa e vai alla legenda"
            </a>
            <div class="mappa-svg" inner_html=svg></div>
            <figcaption>
                "Comuni della Puglia per avanzamento nel programma: ogni comune porta nome e stato e apre la propria pagina. Trama e colore indicano lo stato; i comuni esclusi dai filtri sono in bianco."
            </figcaption>
            <h3 id="mappa-legenda" tabindex="-1">
                "Legenda"
            </h3>
            <ul class="legenda">
                {legenda
                    .into_iter()
                    .map(|l| {
                        view! {
                            <li data-stato=l.css.clone()>
                                <svg class="legenda-campione" viewBox="0 0 24 16" aria-hidden="true">
                                    <rect
                                        width="24"
                                        height="16"
                                        fill=format!("url(#{})", l.pattern)
                                        stroke="#1a1a1a"
                                    ></rect>
                                </svg>
                                <span class="legenda-testo">
                                    {format!("{}: {}", l.label, format::comuni(l.comuni))}
                                </span>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
            <p class="note">
                "Confini dei comuni e delle province: ISTAT, Openpolis (licenza CC BY 4.0). "
                <a href=download.clone() download="">
                    "Scarica la mappa (SVG)"
                </a>
                " "
                <a href=download.replacen(".svg", ".png", 1) download="">
                    "Scarica la mappa (PNG)"
                </a>
            </p>
        </figure>
    }
}

/// One row of a chart's table: the row header (a link when it leads somewhere) and the cells.
struct TableRow {
    head: String,
    href: Option<String>,
    cells: Vec<String>,
}

/// A chart's numbers as a table: caption, column headers (the first one names the row headers),
/// one row per province or day; numbers right-aligned.
#[component]
fn DataTable(caption: &'static str, columns: &'static [&'static str], rows: Vec<TableRow>) -> impl IntoView {
    view! {
        <table class="table">
            <caption>{caption}</caption>
            <thead>
                <tr>
                    {columns
                        .iter()
                        .enumerate()
                        .map(|(i, c)| {
                            view! {
                                <th scope="col" class=(i > 0).then_some("num")>
                                    {*c}
                                </th>
                            }
                        })
                        .collect_view()}
                </tr>
            </thead>
            <tbody>
                {rows
                    .into_iter()
                    .map(|r| {
                        view! {
                            <tr>
                                <th scope="row">
                                    {match r.href {
                                        Some(href) => view! { <a href=href>{r.head}</a> }.into_any(),
                                        None => r.head.into_any(),
                                    }}
                                </th>
                                {r.cells.into_iter().map(|c| view! { <td class="num">{c}</td> }).collect_view()}
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
}

#[component]
fn AdhesionTable(rows: Vec<ProvinceRow>, filtro: String) -> impl IntoView {
    let rows = rows
        .into_iter()
        .map(|r| TableRow {
            href: Some(province_list(&filtro, &r.sigla)),
            cells: [r.aderenti, r.in_ritardo, r.non_aderenti, r.totale].map(format::int).to_vec(),
            head: r.nome,
        })
        .collect();
    let columns = &["Provincia", "Aderenti", "In ritardo", "Non aderenti", "Totale comuni"];
    view! { <DataTable caption="Adesione per provincia" columns rows /> }
}

/// `/comuni` with the filter narrowed to one province.
fn province_list(filtro: &str, sigla: &str) -> String {
    let rest =
        filtro.split('&').filter(|p| !p.is_empty() && !p.starts_with("provincia=")).collect::<Vec<_>>();
    let mut q = vec![format!("provincia={sigla}")];
    q.extend(rest.into_iter().map(str::to_string));
    format!("/comuni?{}", q.join("&"))
}

#[component]
fn ObjectivesTable(rows: Vec<ProvinceRow>) -> impl IntoView {
    let rows = rows
        .into_iter()
        .map(|r| TableRow {
            href: None,
            cells: vec![
                format::int(r.supportati),
                format::int(r.primo_step),
                format::percent(r.primo_step, r.supportati),
                format::int(r.tutti_obiettivi),
                format::percent(r.tutti_obiettivi, r.supportati),
            ],
            head: r.nome,
        })
        .collect();
    let columns = &[
        "Provincia",
        "Comuni aderenti",
        "Primo step raggiunto",
        "Quota primo step",
        "Tutti gli obiettivi",
        "Quota tutti gli obiettivi",
    ];
    view! { <DataTable caption="Obiettivi raggiunti per provincia" columns rows /> }
}

#[component]
fn SeriesTable(points: Vec<SeriesPoint>, csv: String) -> impl IntoView {
    let rows = points
        .into_iter()
        .map(|p| TableRow {
            head: format::date(p.day),
            href: None,
            cells: vec![format::int(p.pagopa), format::int(p.io)],
        })
        .collect();
    let columns = &["Data del conteggio", "Servizi pagoPA attivi", "Servizi su App IO"];
    view! {
        <DataTable caption="Servizi attivi a ogni conteggio" columns rows />
        <p>
            <a href=csv download="">
                "Scarica i dati del grafico «Servizi attivi nel tempo» (CSV)"
            </a>
        </p>
    }
}

#[component]
fn GrantTable(rows: Vec<ProvinceRow>) -> impl IntoView {
    let rows = rows
        .into_iter()
        .map(|r| TableRow {
            href: None,
            cells: [
                r.contributo_assegnato,
                r.contributo_maturato,
                r.contributo_possibile,
                r.contributo_perso + r.contributo_rinunciato,
            ]
            .map(format::eur)
            .to_vec(),
            head: r.nome,
        })
        .collect();
    let columns = &["Provincia", "Assegnato", "Maturato", "Ancora possibile", "Perso o rinunciato"];
    view! { <DataTable caption="Contributo per provincia, in euro" columns rows /> }
}

/// Each objective, reached by the data and verified with evidence, side by side.
#[component]
fn VerifiedTable(rows: Vec<crate::dashboard::ObjectiveRow>) -> impl IntoView {
    view! {
        <div class="table-wrap">
            <table class="table" id="obiettivi-verificati">
                <caption>
                    "Obiettivi raggiunti secondo i dati dei servizi e verificati dalla Regione con un'evidenza esaminata con esito positivo, sui comuni aderenti"
                </caption>
                <thead>
                    <tr>
                        <th scope="col">"Obiettivo"</th>
                        <th scope="col">"Raggiunto"</th>
                        <th scope="col">"Verificato"</th>
                        <th scope="col">"Comuni aderenti"</th>
                    </tr>
                </thead>
                <tbody>
                    {rows
                        .into_iter()
                        .map(|r| {
                            view! {
                                <tr data-obiettivo=r.codice.clone()>
                                    <th scope="row">{r.obiettivo.clone()}</th>
                                    <td class="raggiunti">
                                        {format!("{} ({})", format::int(r.raggiunti), format::percent(r.raggiunti, r.supportati))}
                                    </td>
                                    <td class="verificati">
                                        {format!("{} ({})", format::int(r.verificati), format::percent(r.verificati, r.supportati))}
                                    </td>
                                    <td>{format::int(r.supportati)}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
}
