//! `/importazioni` (upload, templates, recent imports) and `/importazioni/{id}` (one import's
//! dry-run report and the button that applies it). Plain forms: no JavaScript needed.

use crate::app::PageHead;
use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

use super::{server::get_import_page, Batch, BatchStatus, ImportPage, Outcome, Report, KINDS, MAX_BYTES};
use crate::auth::{
    server::get_form_feedback,
    ui::{ErrorSummary, SignInNeeded},
    FormFeedback,
};

#[component]
pub fn ImportsPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let asked = move || {
        (
            params.with(|p| p.get("id").and_then(|s| s.parse::<i64>().ok())),
            query.with(|q| q.get("pagina").unwrap_or_default()),
        )
    };
    let data = Resource::new(asked, |(id, pagina)| get_import_page(id, pagina));
    let feedback = Resource::new(|| (), |_| get_form_feedback());
    let applied = move || query.with(|q| q.get("applicata").is_some());
    view! {
        <Suspense fallback=|| view! { <p>"Caricamento…"</p> }>
            {move || Suspend::new(async move {
                let feedback = feedback.await.ok().flatten();
                match data.await {
                    Ok(page) => view! { <ImportsView page feedback applied=applied() /> }.into_any(),
                    Err(error) => {
                        view! {
                            <PageHead title="Importazioni" description="Importazioni di dati in Traguardi da file CSV o Excel, con la prova prima dell'applicazione." />
                            <h1>"Importazioni"</h1>
                            <SignInNeeded error />
                        }
                            .into_any()
                    }
                }
            })}
        </Suspense>
    }
}

#[component]
fn ImportsView(page: ImportPage, feedback: Option<FormFeedback>, applied: bool) -> impl IntoView {
    let title = match &page.current {
        Some((b, _)) => format!("Importazione n. {} — {}", b.id, b.file_name),
        None => "Importazioni".to_string(),
    };
    let on_upload_page = page.current.is_none();
    let here = page.current.as_ref().map(|(b, _)| b.id);
    view! {
        <PageHead
            title=title.clone()
            description="Importazioni di dati in Traguardi da file CSV o Excel, con la prova prima dell'applicazione."
        />
        <h1>{title}</h1>
        {feedback
            .clone()
            .map(|f| {
                let prefix = if on_upload_page { "importazione-" } else { "" };
                view! { <ErrorSummary feedback=f field_prefix=prefix /> }
            })}
        {applied
            .then(|| {
                view! {
                    <div class="alert alert-success" role="status">
                        "Importazione applicata: ogni modifica è nel registro delle modifiche, con il numero dell'importazione."
                    </div>
                }
            })}
        {page.current.map(|(batch, report)| view! { <ReportView batch report /> })}
        {on_upload_page
            .then(|| {
                view! {
                    <p>
                        "Importare un foglio di adesioni, di servizi (pagoPA per codice di tassonomia, App IO per Service ID, SPID/CIE per nome) o di conteggi dei servizi attivi, in CSV o XLSX, oppure la Tassonomia dei servizi di incasso pubblicata da PagoPA (il suo file CSV così com'è). Prima si vede una prova: cosa verrebbe aggiunto o modificato e ogni problema, riga per riga. Nulla cambia finché la prova non è confermata."
                    </p>
                    <UploadForm feedback />
                    <Templates />
                }
            })}
        <Recent batches=page.recent here />
    }
}

#[component]
fn UploadForm(feedback: Option<FormFeedback>) -> impl IntoView {
    let error = feedback.and_then(|f| f.error("file"));
    let described = if error.is_some() {
        "importazione-file-aiuto importazione-file-errore"
    } else {
        "importazione-file-aiuto"
    };
    view! {
        <section aria-labelledby="carica-titolo">
            <h2 id="carica-titolo">"Carica un file"</h2>
            <form method="post" action="/importazioni" enctype="multipart/form-data" class="modulo-importazione">
                <div class="campo" class:campo-errore=error.is_some()>
                    <label for="importazione-file">"File CSV o XLSX (obbligatorio)"</label>
                    <p class="aiuto" id="importazione-file-aiuto">
                        {format!(
                            "Al massimo {} MB. CSV con «;» o «,», anche salvato da Excel; XLSX con un foglio per tipo di dati.",
                            MAX_BYTES / (1024 * 1024),
                        )}
                    </p>
                    {error.clone().map(|e| view! { <p class="errore-campo" id="importazione-file-errore">{format!("Errore: {e}")}</p> })}
                    <input
                        id="importazione-file"
                        name="file"
                        type="file"
                        required=true
                        accept=".csv,.xlsx,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
                        aria-invalid=error.is_some().then_some("true")
                        aria-describedby=described
                    />
                </div>
                <button type="submit" class="btn btn-primary">
                    "Prova l'importazione"
                </button>
            </form>
        </section>
    }
}

#[component]
fn Templates() -> impl IntoView {
    view! {
        <section aria-labelledby="modelli-titolo">
            <h2 id="modelli-titolo">"Modelli"</h2>
            <p>
                "Un modello per tipo di dati, in CSV per Excel (separatore «;»), oppure un unico file XLSX con un foglio per tipo e le istruzioni. I codici ISTAT che Excel ha privato dello zero iniziale (72006) sono accettati; «Sì», «si» e «SI» valgono lo stesso. Le righe assenti dal file non vengono cancellate."
            </p>
            <ul class="modelli">
                {KINDS
                    .iter()
                    .rev()
                    .map(|k| {
                        view! {
                            <li>
                                <a href=format!("/importazioni/modelli/{}.csv", k.file) download="">
                                    {format!("Modello {} (CSV)", k.label.to_lowercase())}
                                </a>
                            </li>
                        }
                    })
                    .collect_view()}
                <li>
                    <a href="/importazioni/modelli/modello.xlsx" download="">
                        "Modello completo (XLSX)"
                    </a>
                </li>
            </ul>
            {KINDS
                .iter()
                .rev()
                .map(|k| {
                    let caption = format!("Colonne del modello {}", k.label.to_lowercase());
                    view! {
                        <div class="table-wrap" tabindex="0" role="region" aria-label=caption.clone()>
                            <table class="table table-sm">
                                <caption>{caption.clone()}</caption>
                                <thead>
                                    <tr>
                                        <th scope="col">"Colonna"</th>
                                        <th scope="col">"Obbligatoria"</th>
                                        <th scope="col">"Contenuto"</th>
                                        <th scope="col">"Esempio"</th>
                                    </tr>
                                </thead>
                                <tbody>
                                    {k
                                        .columns
                                        .iter()
                                        .map(|c| {
                                            view! {
                                                <tr>
                                                    <th scope="row">
                                                        <code>{c.name}</code>
                                                    </th>
                                                    <td>{if c.required { "sì" } else { "no" }}</td>
                                                    <td>{c.help}</td>
                                                    <td>{c.example}</td>
                                                </tr>
                                            }
                                        })
                                        .collect_view()}
                                </tbody>
                            </table>
                        </div>
                    }
                })
                .collect_view()}
        </section>
    }
}

#[component]
fn ReportView(batch: Batch, report: Report) -> impl IntoView {
    let id = batch.id;
    let tried = batch.status == BatchStatus::InProva;
    let state = match (&batch.status, &batch.applied_at) {
        (BatchStatus::Applicata, Some(at)) => format!("Applicata il {at}."),
        (BatchStatus::Applicata, None) => "Applicata.".to_string(),
        (BatchStatus::InProva, _) => {
            "Prova dell'importazione, confrontata con i dati di adesso: nessun dato è stato ancora modificato."
                .to_string()
        }
    };
    let writes = report.added + report.changed + report.removed;
    let problems = report.problems.len();
    view! {
        <p role="status">
            <strong>{state}</strong>
            " "
            {format!("Caricata il {} da {}.", batch.uploaded_at, batch.uploaded_by)}
        </p>
        <p>
            <a href=format!("/importazioni/{id}/file")>"Scarica il file caricato"</a>
            {format!(" ({} byte, SHA-256 {})", crate::format::int(batch.size_bytes), batch.sha256)}
        </p>
        <h2>"Riepilogo"</h2>
        <p>{format!("Esito: {}.", report.totals())}</p>
        <div class="table-wrap" tabindex="0" role="region" aria-label="Tabelle del file">
            <table class="table table-sm">
                <caption>"Tabelle riconosciute nel file"</caption>
                <thead>
                    <tr>
                        <th scope="col">"Tabella"</th>
                        <th scope="col">"Tipo"</th>
                        <th scope="col" class="numero">"Righe"</th>
                        <th scope="col" class="numero">"Aggiunti"</th>
                        <th scope="col" class="numero">"Modificati"</th>
                        <th scope="col" class="numero">"Invariati"</th>
                        <th scope="col" class="numero">"Rimossi"</th>
                    </tr>
                </thead>
                <tbody>
                    {report
                        .tables
                        .iter()
                        .map(|t| {
                            view! {
                                <tr>
                                    <th scope="row">{t.name.clone()}</th>
                                    <td>{t.kind.spec().label}</td>
                                    <td class="numero">{crate::format::int(t.rows as i64)}</td>
                                    <td class="numero">{crate::format::int(t.added as i64)}</td>
                                    <td class="numero">{crate::format::int(t.changed as i64)}</td>
                                    <td class="numero">{crate::format::int(t.unchanged as i64)}</td>
                                    <td class="numero">{crate::format::int(t.removed as i64)}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
        {(!report.notices.is_empty())
            .then(|| {
                view! {
                    <ul class="avvisi-importazione">
                        {report.notices.iter().map(|n| view! { <li>{n.clone()}</li> }).collect_view()}
                    </ul>
                }
            })}
        {(problems > 0)
            .then(|| {
                let caption = format!(
                    "{} nel file",
                    if problems == 1 { "1 problema".to_string() } else { format!("{problems} problemi") },
                );
                view! {
                    <h2 id="problemi">"Problemi"</h2>
                    <div class="alert alert-danger" role="alert">
                        {format!(
                            "Il file non può essere importato: {}. Correggere il file e caricarlo di nuovo; nessun dato è stato modificato.",
                            caption,
                        )}
                    </div>
                    <div class="table-wrap" tabindex="0" role="region" aria-label="Problemi del file">
                        <table class="table table-sm">
                            <caption>{caption}</caption>
                            <thead>
                                <tr>
                                    <th scope="col">"Tabella"</th>
                                    <th scope="col" class="numero">"Riga"</th>
                                    <th scope="col">"Colonna"</th>
                                    <th scope="col">"Problema"</th>
                                </tr>
                            </thead>
                            <tbody>
                                {report
                                    .problems
                                    .iter()
                                    .map(|p| {
                                        view! {
                                            <tr>
                                                <td>{p.table.clone()}</td>
                                                <td class="numero">
                                                    {if p.row == 0 { "—".to_string() } else { p.row.to_string() }}
                                                </td>
                                                <td>
                                                    {if p.column.is_empty() { "—".to_string() } else { p.column.clone() }}
                                                </td>
                                                <td>{p.message.clone()}</td>
                                            </tr>
                                        }
                                    })
                                    .collect_view()}
                            </tbody>
                        </table>
                    </div>
                }
            })}
        {(!report.changes.is_empty())
            .then(|| {
                let shown = report.changes.len() as u32;
                let more = writes.saturating_sub(shown);
                view! {
                    <h2>{if tried { "Cosa cambierebbe" } else { "Cosa è cambiato" }}</h2>
                    {(more > 0).then(|| view! { <p>{format!("Sono elencate le prime {shown} modifiche su {writes}.")}</p> })}
                    <div class="table-wrap" tabindex="0" role="region" aria-label="Modifiche">
                        <table class="table table-sm">
                            <caption>"Record aggiunti, modificati o rimossi"</caption>
                            <thead>
                                <tr>
                                    <th scope="col">"Tabella"</th>
                                    <th scope="col" class="numero">"Riga"</th>
                                    <th scope="col">"Record"</th>
                                    <th scope="col">"Esito"</th>
                                    <th scope="col">"Dettagli"</th>
                                </tr>
                            </thead>
                            <tbody>
                                {report
                                    .changes
                                    .iter()
                                    .map(|c| {
                                        view! {
                                            <tr>
                                                <td>{c.table.clone()}</td>
                                                <td class="numero">{c.row}</td>
                                                <td>{c.record.clone()}</td>
                                                <td>
                                                    <span class=match c.outcome {
                                                        Outcome::Added => "badge bg-success",
                                                        Outcome::Changed => "badge bg-warning text-dark",
                                                        Outcome::Unchanged => "badge bg-secondary",
                                                        Outcome::Removed => "badge bg-danger",
                                                    }>{c.outcome.label()}</span>
                                                </td>
                                                <td>{c.details.clone()}</td>
                                            </tr>
                                        }
                                    })
                                    .collect_view()}
                            </tbody>
                        </table>
                    </div>
                }
            })}
        {(tried && report.can_apply())
            .then(|| {
                if writes == 0 {
                    view! { <p role="status">"Il file non cambia nulla: non c'è niente da applicare."</p> }.into_any()
                } else {
                    view! {
                        <form method="post" action=format!("/importazioni/{id}/conferma")>
                            <p>
                                "Applicando l'importazione, tutte le modifiche elencate sono salvate insieme (o nessuna, se qualcosa non va) e registrate nel registro delle modifiche."
                            </p>
                            <button type="submit" class="btn btn-primary">
                                {format!(
                                    "Applica l'importazione ({} {})",
                                    writes,
                                    if writes == 1 { "modifica" } else { "modifiche" },
                                )}
                            </button>
                        </form>
                    }
                        .into_any()
                }
            })}
        <p>
            <a href="/importazioni">"Carica un altro file"</a>
        </p>
    }
}

/// The uploads, newest first, a page at a time. `here` is the import shown above the list (its
/// page links keep it on screen).
#[component]
fn Recent(batches: crate::paging::Paged<Batch>, here: Option<i64>) -> impl IntoView {
    let crate::paging::Paged { items: batches, page, pages, total } = batches;
    let count = match total {
        0 => String::new(),
        1 => "1 file caricato.".to_string(),
        n => format!("{} file caricati, dal più recente.", crate::format::int(n as i64)),
    };
    let range = crate::paging::range_words(page, batches.len(), total);
    let count = if range.is_empty() { count } else { format!("{count} {range}") };
    let path = match here {
        Some(id) => format!("/importazioni/{id}"),
        None => "/importazioni".to_string(),
    };
    view! {
        <section aria-labelledby="recenti-titolo">
            <h2 id="recenti-titolo">"Importazioni recenti"</h2>
            {if batches.is_empty() {
                view! { <p>"Nessun file caricato finora."</p> }.into_any()
            } else {
                view! {
                    <p role="status">{count}</p>
                    <div class="table-wrap" tabindex="0" role="region" aria-label="Importazioni recenti">
                        <table class="table table-sm">
                            <caption>"File caricati, dal più recente"</caption>
                            <thead>
                                <tr>
                                    <th scope="col" class="numero">"N."</th>
                                    <th scope="col">"File"</th>
                                    <th scope="col">"Caricato"</th>
                                    <th scope="col">"Da"</th>
                                    <th scope="col">"Stato"</th>
                                </tr>
                            </thead>
                            <tbody>
                                {batches
                                    .into_iter()
                                    .map(|b| {
                                        view! {
                                            <tr>
                                                <td class="numero">{b.id}</td>
                                                <td>
                                                    <a href=format!("/importazioni/{}", b.id)>{b.file_name}</a>
                                                </td>
                                                <td>{b.uploaded_at}</td>
                                                <td>{b.uploaded_by}</td>
                                                <td>{b.status.label()}</td>
                                            </tr>
                                        }
                                    })
                                    .collect_view()}
                            </tbody>
                        </table>
                    </div>
                    <crate::paging::Pager page pages href=move |p: usize| crate::paging::href(&path, "", p) />
                }
                    .into_any()
            }}
        </section>
    }
}
