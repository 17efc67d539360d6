//! The dashboard page.

use leptos::prelude::*;
use leptos_meta::Title;

use super::{
    server::{get_adhesion_chart, get_summary},
    Summary,
};
use crate::{app::ErrorNotice, format};

#[component]
pub fn DashboardPage() -> impl IntoView {
    let summary = Resource::new(|| (), |_| get_summary());
    let chart = Resource::new(|| (), |_| get_adhesion_chart());
    view! {
        <Title text="Cruscotto" />
        <h1>"Fondo Innovazione in Puglia"</h1>
        <Suspense fallback=|| view! { <p>"Caricamento dei dati…"</p> }>
            {move || Suspend::new(async move {
                match (summary.await, chart.await) {
                    (Ok(s), Ok(svg)) => view! { <Dashboard summary=s svg /> }.into_any(),
                    (Err(error), _) | (_, Err(error)) => view! { <ErrorNotice error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Dashboard(summary: Summary, svg: String) -> impl IntoView {
    let s = summary;
    let tot = s.totale_comuni;
    let deadline1 = s.primo_step_scadenza.map(format::date).unwrap_or_default();
    let deadline2 = s.finale_scadenza.map(format::date).unwrap_or_default();
    let as_of = s.data_riferimento.map(format::date).unwrap_or_default();
    let on_comuni = |n: i64| format!("su {} comuni ({})", format::int(tot), format::percent(n, tot));
    let figures = vec![
        Figure {
            key: "aderenti",
            title: "Comuni aderenti".into(),
            value: s.aderenti,
            denominator: on_comuni(s.aderenti),
            href: Some("/comuni?adesione=aderente".into()),
            euro: false,
        },
        Figure {
            key: "supportati",
            title: "Comuni supportati".into(),
            value: s.supportati,
            denominator: format!(
                "su {} comuni: {} aderenti e {} aderenti in ritardo",
                format::int(tot),
                format::int(s.aderenti),
                format::int(s.in_ritardo)
            ),
            href: Some("/comuni?adesione=aderente_in_ritardo".into()),
            euro: false,
        },
        Figure {
            key: "primo-step-in-tempo",
            title: format!("Primo step raggiunto entro il {deadline1}"),
            value: s.primo_step_in_tempo,
            denominator: on_comuni(s.primo_step_in_tempo),
            href: None,
            euro: false,
        },
        Figure {
            key: "primo-step",
            title: "Primo step raggiunto (anche in ritardo)".into(),
            value: s.primo_step,
            denominator: on_comuni(s.primo_step),
            href: None,
            euro: false,
        },
        Figure {
            key: "tutti-obiettivi",
            title: format!("Tutti gli obiettivi raggiunti entro il {deadline2}"),
            value: s.tutti_obiettivi,
            denominator: format!(
                "su {} comuni supportati ({})",
                format::int(s.supportati),
                format::percent(s.tutti_obiettivi, s.supportati)
            ),
            href: None,
            euro: false,
        },
        Figure {
            key: "mypay-attivi",
            title: "Servizi di incasso pagoPA attivi su MyPay".into(),
            value: s.mypay_attivi,
            denominator: format!(
                "su {} servizi applicabili registrati su MyPay ({}), attivi al {as_of}",
                format::int(s.mypay_applicabili),
                format::percent(s.mypay_attivi, s.mypay_applicabili)
            ),
            href: None,
            euro: false,
        },
        Figure {
            key: "mypay-nel-progetto",
            title: "Servizi attivati su MyPay durante il progetto".into(),
            value: s.mypay_nel_progetto,
            denominator: format!(
                "su {} servizi attivi su MyPay ({}), attivati dal 15/12/2020 al {deadline2}",
                format::int(s.mypay_attivi),
                format::percent(s.mypay_nel_progetto, s.mypay_attivi)
            ),
            href: None,
            euro: false,
        },
        Figure {
            key: "io-regione",
            title: "Comuni su App IO tramite la Regione".into(),
            value: s.io_regione,
            denominator: on_comuni(s.io_regione),
            href: None,
            euro: false,
        },
        Figure {
            key: "contributo-maturato",
            title: "Contributo maturato".into(),
            value: s.contributo_maturato,
            denominator: format!(
                "su {} assegnati ai comuni supportati; persi {}, rinunciati {}, ancora possibili {}",
                format::eur(s.contributo_assegnato),
                format::eur(s.contributo_perso),
                format::eur(s.contributo_rinunciato),
                format::eur(s.contributo_possibile)
            ),
            href: None,
            euro: true,
        },
    ];
    let rows = s.province.clone();
    view! {
        <p class="lead">
            {format!(
                "{}: adesione e obiettivi dei comuni pugliesi su pagoPA, App IO e SPID/CIE. Dati al {as_of}.",
                s.programma,
            )}
        </p>
        <section aria-labelledby="cifre-titolo">
            <h2 id="cifre-titolo">"Le cifre principali"</h2>
            <div class="figure-grid">
                {figures.into_iter().map(|f| view! { <FigureCard figure=f /> }).collect_view()}
            </div>
            <p class="note">
                "Nota: il comunicato stampa della Regione parla di 256 comuni pugliesi; l'elenco ISTAT ne conta 257 (Presicce-Acquarica è nato nel 2019 dalla fusione di due comuni). Qui si contano 257 comuni."
            </p>
        </section>
        <section aria-labelledby="province-titolo">
            <h2 id="province-titolo">"Adesione per provincia"</h2>
            <figure class="chart">
                <div class="chart-svg" inner_html=svg></div>
                <figcaption>
                    "Adesione al Fondo Innovazione per provincia: comuni aderenti, aderenti in ritardo e non aderenti, sul totale dei comuni di ciascuna provincia."
                </figcaption>
                <details>
                    <summary>"Dati del grafico in tabella"</summary>
                    <table class="table">
                        <caption>"Adesione per provincia"</caption>
                        <thead>
                            <tr>
                                <th scope="col">"Provincia"</th>
                                <th scope="col">"Aderenti"</th>
                                <th scope="col">"In ritardo"</th>
                                <th scope="col">"Non aderenti"</th>
                                <th scope="col">"Totale comuni"</th>
                            </tr>
                        </thead>
                        <tbody>
                            {rows
                                .into_iter()
                                .map(|r| {
                                    view! {
                                        <tr>
                                            <th scope="row">
                                                <a href=format!(
                                                    "/comuni?provincia={}",
                                                    r.sigla,
                                                )>{r.nome}</a>
                                            </th>
                                            <td>{format::int(r.aderenti)}</td>
                                            <td>{format::int(r.in_ritardo)}</td>
                                            <td>{format::int(r.non_aderenti)}</td>
                                            <td>{format::int(r.totale)}</td>
                                        </tr>
                                    }
                                })
                                .collect_view()}
                        </tbody>
                    </table>
                </details>
            </figure>
        </section>
    }
}

/// A headline figure: what it counts, the number, and the denominator in words.
struct Figure {
    key: &'static str,
    title: String,
    value: i64,
    denominator: String,
    href: Option<String>,
    /// The value is an amount in euros.
    euro: bool,
}

#[component]
fn FigureCard(figure: Figure) -> impl IntoView {
    let Figure { key, title, value, denominator, href, euro } = figure;
    let body = view! {
        <span class="figura-titolo">{title}</span>
        <span class="figura-valore">{if euro { format::eur(value) } else { format::int(value) }}</span>
        <span class="figura-denominatore">{denominator}</span>
    };
    view! {
        <div class="figura" data-figura=key>
            {match href {
                Some(href) => view! { <a href=href>{body}</a> }.into_any(),
                None => view! { <div>{body}</div> }.into_any(),
            }}
        </div>
    }
}
