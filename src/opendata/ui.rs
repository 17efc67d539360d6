//! `/opendata`: the datasets, their licence, dates and formats, for citizens, journalists and
//! the national catalogue.

use crate::app::PageHead;
use leptos::prelude::*;

use super::{server::get_open_data, Dataset, OpenDataPage, LICENCE_NAME, LICENCE_URL, PUBLISHER_NAME};
use crate::app::ErrorNotice;

#[component]
pub fn OpenDataPageView() -> impl IntoView {
    let page = Resource::new(|| (), |_| get_open_data());
    view! {
        <PageHead title="Dati aperti" description="Dati aperti di Traguardi (CC BY 4.0): comuni e province del Fondo Innovazione in CSV, Excel e JSON, API e catalogo DCAT-AP_IT." />
        <h1>"Dati aperti"</h1>
        <Suspense fallback=|| view! { <p>"Caricamento del catalogo…"</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(p) => view! { <Catalogue page=p /> }.into_any(),
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Catalogue(page: OpenDataPage) -> impl IntoView {
    let OpenDataPage { datasets, modified, as_of, demo } = page;
    view! {
        <p class="lead">
            "I dati pubblici di Traguardi sul Fondo Innovazione 2020-2021 sono liberamente riutilizzabili, anche per fini commerciali, citando la fonte («" {PUBLISHER_NAME} " — Traguardi»), con licenza "
            <a href=LICENCE_URL>{LICENCE_NAME}</a> "."
        </p>
        <dl class="dati-catalogo">
            <dt>"Ultimo aggiornamento dei dati"</dt>
            <dd>
                {match modified {
                    Some(d) => crate::format::date(d),
                    None => "nessun dato registrato".to_string(),
                }}
            </dd>
            <dt>"Data di riferimento delle cifre"</dt>
            <dd>
                {crate::format::date(as_of)}
                " (obiettivi e servizi attivi sono calcolati dalle regole del programma a questa data)"
            </dd>
            <dt>"Editore e titolare"</dt>
            <dd>{PUBLISHER_NAME}</dd>
        </dl>
        {demo
            .then(|| {
                view! {
                    <div class="alert alert-warning" role="note">
                        <p>
                            <strong>"Dati dimostrativi"</strong>
                            ": questo archivio contiene i dati dimostrativi di Traguardi. Le risposte lo dicono nel campo «dati_dimostrativi» e il nome del file CSV lo riporta."
                        </p>
                    </div>
                }
            })}
        {datasets.into_iter().map(|d| view! { <DatasetSection dataset=d /> }).collect_view()}
        <h2>"Per chi sviluppa"</h2>
        <ul>
            <li>
                "Documentazione dell'API in formato OpenAPI 3: "
                <a href="/api/v1/openapi.json">"/api/v1/openapi.json"</a>
                ". L'API è in sola lettura e non richiede autenticazione; le risposte sono in JSON."
            </li>
            <li>
                "I filtri sono gli stessi dell'elenco dei comuni e del cruscotto, per esempio "
                <a href="/api/v1/comuni?provincia=TA&adesione=aderente">
                    <code>"/api/v1/comuni?provincia=TA&adesione=aderente"</code>
                </a> "; l'elenco si sfoglia con " <code>"pagina"</code> " e " <code>"per_pagina"</code>
                " (fino a 500 comuni per pagina) e riporta il totale."
            </li>
            <li>
                "Un comune per codice ISTAT: " <a href="/api/v1/comuni/073027">
                    <code>"/api/v1/comuni/073027"</code>
                </a> "; un codice sconosciuto risponde 404 con un messaggio in JSON."
            </li>
            <li>
                "Metadati del catalogo secondo il profilo DCAT-AP_IT (RDF/XML), per dati.gov.it: "
                <a href="/opendata/catalogo.rdf">"/opendata/catalogo.rdf"</a> "."
            </li>
        </ul>
        <h2>"Fonti"</h2>
        <p>
            "Elenco dei comuni, codici e popolazione: ISTAT (licenza CC BY). Confini dei comuni e delle province, per la mappa: Openpolis su dati ISTAT, licenza CC BY 4.0 (credito «ISTAT, Openpolis»). Adesioni, obiettivi e servizi: dati registrati in Traguardi dalla Regione Puglia e dai comuni."
        </p>
    }
}

#[component]
fn DatasetSection(dataset: Dataset) -> impl IntoView {
    let Dataset { id, title, description, keywords, distributions } = dataset;
    let heading = format!("dataset-{id}");
    let labelled_by = heading.clone();
    view! {
        <section class="dataset" aria-labelledby=labelled_by>
            <h2 id=heading>{title.clone()}</h2>
            <p>{description}</p>
            <p>
                <span class="etichetta">"Parole chiave: "</span>
                {keywords.join(", ")}
            </p>
            <div class="table-wrap">
                <table class="table">
                    <caption>{format!("Formati disponibili: {title}")}</caption>
                    <thead>
                        <tr>
                            <th scope="col">"Formato"</th>
                            <th scope="col">"Contenuto"</th>
                            <th scope="col">"Indirizzo"</th>
                            <th scope="col">"Licenza"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {distributions
                            .into_iter()
                            .map(|x| {
                                view! {
                                    <tr>
                                        <th scope="row">{x.format.label()}</th>
                                        <td>
                                            <span class="d-block">{x.title}</span>
                                            <small>{x.description}</small>
                                        </td>
                                        <td>
                                            <a href=x.path.clone()>
                                                <code>{x.path.clone()}</code>
                                            </a>
                                        </td>
                                        <td>"CC BY 4.0"</td>
                                    </tr>
                                }
                            })
                            .collect_view()}
                    </tbody>
                </table>
            </div>
        </section>
    }
}
