//! The evidence page of a comune (`/comuni/{codice}/evidenze`) and the Region's review queue
//! (`/evidenze`). Plain forms: the upload is `multipart/form-data` to its streaming route and
//! works without JavaScript; with JavaScript the progress island shows how far it got.

use crate::app::PageHead;
use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

use super::{
    progress::UploadProgress,
    server::{get_evidence_page, get_evidence_queue},
    sniff::{ACCEPTED, ACCEPT_ATTR},
    EvidenceItem, EvidencePage, ObjectiveEvidence, Queue,
};
use crate::{
    auth::{
        server::get_form_feedback,
        ui::{ErrorSummary, SignInNeeded},
        FormFeedback,
    },
    comuni::territory::use_territory,
    rules::{Platform, ReviewOutcome},
};

#[component]
pub fn EvidencePageView() -> impl IntoView {
    let params = use_params_map();
    let codice = move || params.with(|p| p.get("codice").unwrap_or_default());
    let data = Resource::new(codice, get_evidence_page);
    let feedback = Resource::new(|| (), |_| get_form_feedback());
    let query = use_query_map();
    let notice = move || {
        query.with(|q| {
            if q.get("caricato").is_some() {
                Some("File caricato: la Regione lo esaminerà. L'esito comparirà in questa pagina.")
            } else if q.get("esaminata").is_some() {
                Some("Esame salvato e registrato nel registro delle modifiche.")
            } else {
                None
            }
        })
    };
    view! {
        <Suspense fallback=|| view! { <p>"Caricamento delle evidenze…"</p> }>
            {move || Suspend::new(async move {
                let feedback = feedback.await.ok().flatten();
                match data.await {
                    Ok(page) => view! { <EvidenceView page feedback notice=notice() /> }.into_any(),
                    Err(error) => {
                        view! {
                            <PageHead title="Evidenze del comune" description="Le evidenze caricate dal comune per dimostrare gli obiettivi raggiunti, con l'esito dell'esame." />
                            <h1>"Evidenze del comune"</h1>
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
fn EvidenceView(
    page: EvidencePage,
    feedback: Option<FormFeedback>,
    notice: Option<&'static str>,
) -> impl IntoView {
    let title = format!("Evidenze di {}", page.denominazione);
    let codice = page.codice.clone();
    let verified = page.objectives.iter().filter(|o| o.verified).count();
    // A refusal whose form is no longer on the page (a review of a version superseded
    // meanwhile) is shown at the top, so that it is never lost.
    let forms_here: Vec<String> = page
        .objectives
        .iter()
        .flat_map(|o| {
            let upload = page.may_upload.then(|| format!("evidenza-{}", o.code));
            let reviews =
                o.versions.iter().filter(|v| page.may_review && v.latest).map(|v| format!("esame-{}", v.id));
            upload.into_iter().chain(reviews)
        })
        .collect();
    let orphan = feedback.clone().filter(|f| !forms_here.contains(&f.form));
    view! {
        <PageHead
            title=title.clone()
            description=format!(
                "Le evidenze caricate da {} per dimostrare gli obiettivi raggiunti, con l'esito dell'esame.",
                page.denominazione,
            )
        />
        <nav aria-label="Percorso" class="breadcrumb">
            <a href="/comuni">"Comuni"</a>
            " / "
            <a href=format!("/comuni/{codice}")>{page.denominazione.clone()}</a>
            " / "
            <span aria-current="page">"Evidenze"</span>
        </nav>
        <h1>{title}</h1>
        <p>
            {format!(
                "{}: {verified} obiettivi su {} verificati (obiettivo raggiunto nei dati ed evidenza esaminata con esito positivo).",
                page.programma,
                page.objectives.len(),
            )}
        </p>
        {notice.map(|m| view! { <div class="alert alert-success" role="status">{m}</div> })}
        {orphan.map(|f| view! { <ErrorSummary feedback=f /> })}
        {page
            .objectives
            .iter()
            .map(|o| {
                view! {
                    <ObjectiveSection
                        o=o.clone()
                        codice=codice.clone()
                        limite=page.limite.clone()
                        max_bytes=page.max_bytes
                        may_upload=page.may_upload
                        may_review=page.may_review
                        feedback=feedback.clone()
                    />
                }
            })
            .collect_view()}
    }
}

#[component]
fn ObjectiveSection(
    o: ObjectiveEvidence,
    codice: String,
    limite: String,
    max_bytes: u64,
    may_upload: bool,
    may_review: bool,
    feedback: Option<FormFeedback>,
) -> impl IntoView {
    let heading = format!("titolo-{}", o.code);
    let labelled_by = heading.clone();
    let has_versions = !o.versions.is_empty();
    view! {
        <section id=format!("obiettivo-{}", o.code) aria-labelledby=labelled_by class="evidenza-obiettivo">
            <h2 id=heading>{format!("{}: {}", o.platform, o.step)}</h2>
            <p>{o.description.clone()}</p>
            <dl class="stato-evidenza">
                <dt>"Dai dati dei servizi"</dt>
                <dd>{o.reached.clone()}</dd>
                <dt>"Evidenza"</dt>
                <dd>
                    <strong>{o.status.clone()}</strong>
                </dd>
            </dl>
            {has_versions
                .then(|| {
                    view! {
                        <div
                            class="table-wrap"
                            tabindex="0"
                            role="region"
                            aria-label=format!("Versioni caricate: {} {}", o.platform, o.step)
                        >
                            <table class="table">
                                <caption>{format!("Versioni caricate: {} {}", o.platform, o.step)}</caption>
                                <thead>
                                    <tr>
                                        <th scope="col">"Versione"</th>
                                        <th scope="col">"File"</th>
                                        <th scope="col">"Caricato"</th>
                                        <th scope="col">"Esame della Regione"</th>
                                    </tr>
                                </thead>
                                <tbody>
                                    {o
                                        .versions
                                        .iter()
                                        .map(|v| view! { <VersionRow v=v.clone() may_review feedback=feedback.clone() /> })
                                        .collect_view()}
                                </tbody>
                            </table>
                        </div>
                    }
                })}
            {may_upload
                .then(|| {
                    view! { <UploadForm o=o.clone() codice=codice.clone() limite=limite.clone() max_bytes feedback=feedback.clone() /> }
                })}
        </section>
    }
}

#[component]
fn VersionRow(v: EvidenceItem, may_review: bool, feedback: Option<FormFeedback>) -> impl IntoView {
    let review_form =
        (may_review && v.latest).then(|| view! { <ReviewForm v=v.clone() feedback=feedback.clone() /> });
    view! {
        <tr id=format!("evidenza-{}", v.id)>
            <th scope="row">{format!("{}{}", v.version, if v.latest { " (ultima)" } else { "" })}</th>
            <td>
                <a href=format!("/evidenze/{}/file", v.id) download="">
                    {v.file_name.clone()}
                </a>
                <br />
                <small>{format!("{}, {}", v.kind, v.size)}</small>
                <br />
                <small>
                    "SHA-256: "
                    <code class="impronta">{v.sha256.clone()}</code>
                </small>
            </td>
            <td>{format!("{} da {}", v.uploaded_at, v.uploaded_by)}</td>
            <td>
                {if v.reviews.is_empty() {
                    view! { <p>"In attesa di esame"</p> }.into_any()
                } else {
                    view! {
                        <ol class="esami">
                            {v
                                .reviews
                                .iter()
                                .map(|r| {
                                    view! {
                                        <li>
                                            <strong>{r.outcome.label()}</strong>
                                            {r.reason.clone().map(|m| view! { <span>{format!(": {m}")}</span> })}
                                            <br />
                                            <small>{format!("{} da {}", r.reviewed_at, r.reviewed_by)}</small>
                                        </li>
                                    }
                                })
                                .collect_view()}
                        </ol>
                    }
                        .into_any()
                }}
                {review_form}
            </td>
        </tr>
    }
}

#[component]
fn UploadForm(
    o: ObjectiveEvidence,
    codice: String,
    limite: String,
    max_bytes: u64,
    feedback: Option<FormFeedback>,
) -> impl IntoView {
    let id = format!("evidenza-{}", o.code);
    let feedback = feedback.filter(|f| f.form == id);
    let error = feedback.as_ref().and_then(|f| f.error("file"));
    let input = format!("{id}-file");
    let help = format!("{id}-aiuto");
    let error_id = format!("{id}-errore");
    let described = if error.is_some() { format!("{help} {error_id}") } else { help.clone() };
    let label = if o.versions.is_empty() { "Carica l'evidenza" } else { "Carica una nuova versione" };
    view! {
        <UploadProgress max_bytes>
        <form
            id=id.clone()
            class="modulo-evidenza"
            method="post"
            enctype="multipart/form-data"
            action=format!("/comuni/{codice}/evidenze/{}", o.code)
        >
            {feedback.clone().map(|f| view! { <ErrorSummary feedback=f field_prefix=format!("{id}-") /> })}
            <div class="form-group">
                <label for=input.clone()>{format!("{label}: {} {}", o.platform, o.step)}</label>
                <input
                    type="file"
                    class="form-control"
                    id=input
                    name="file"
                    accept=ACCEPT_ATTR
                    required
                    aria-describedby=described
                    aria-invalid=error.is_some().then_some("true")
                />
                <p id=help class="form-text">
                    {format!("Sono accettati: {ACCEPTED}. Dimensione massima: {limite}.")}
                </p>
                {error.map(|m| view! { <p id=error_id class="invalid-feedback d-block">{m}</p> })}
            </div>
            <button type="submit" class="btn btn-primary">
                {label}
            </button>
        </form>
        </UploadProgress>
    }
}

#[component]
fn ReviewForm(v: EvidenceItem, feedback: Option<FormFeedback>) -> impl IntoView {
    let id = format!("esame-{}", v.id);
    let feedback = feedback.filter(|f| f.form == id);
    let chosen = feedback.as_ref().map(|f| f.value("esito")).unwrap_or_default();
    let reason = feedback.as_ref().map(|f| f.value("motivo")).unwrap_or_default();
    let esito_error = feedback.as_ref().and_then(|f| f.error("esito"));
    let esito_invalid = esito_error.is_some().then_some("true");
    let motivo_error = feedback.as_ref().and_then(|f| f.error("motivo"));
    let motivo_id = format!("{id}-motivo");
    let motivo_help = format!("{id}-motivo-aiuto");
    let motivo_err_id = format!("{id}-motivo-errore");
    let motivo_described =
        if motivo_error.is_some() { format!("{motivo_help} {motivo_err_id}") } else { motivo_help.clone() };
    view! {
        <form id=id.clone() class="modulo-esame" method="post" action=format!("/evidenze/{}/esame", v.id)>
            {feedback.clone().map(|f| view! { <ErrorSummary feedback=f field_prefix=format!("{id}-") /> })}
            <input type="hidden" name="ultima" value=v.last_review.to_string() />
            <fieldset id=format!("{id}-esito") aria-invalid=esito_invalid>
                <legend>{format!("Esito dell'esame della versione {}", v.version)}</legend>
                {ReviewOutcome::ALL
                    .into_iter()
                    .map(|o| {
                        let radio = format!("{id}-esito-{}", o.code());
                        view! {
                            <div class="form-check">
                                <input
                                    class="form-check-input"
                                    type="radio"
                                    name="esito"
                                    id=radio.clone()
                                    value=o.code()
                                    checked=chosen == o.code()
                                />
                                <label class="form-check-label" for=radio>
                                    {o.label()}
                                </label>
                            </div>
                        }
                    })
                    .collect_view()}
                {esito_error.map(|m| view! { <p class="invalid-feedback d-block">{m}</p> })}
            </fieldset>
            <div class="form-group">
                <label for=motivo_id.clone()>"Motivazione"</label>
                <textarea
                    class="form-control"
                    id=motivo_id
                    name="motivo"
                    rows="3"
                    maxlength="4000"
                    aria-describedby=motivo_described
                    aria-invalid=motivo_error.is_some().then_some("true")
                >
                    {reason}
                </textarea>
                <p id=motivo_help class="form-text">
                    "Obbligatoria se l'esito non è positivo: che cosa correggere, o perché l'evidenza è respinta. Il comune la legge."
                </p>
                {motivo_error.map(|m| view! { <p id=motivo_err_id class="invalid-feedback d-block">{m}</p> })}
            </div>
            <button type="submit" class="btn btn-primary">
                "Salva l'esame"
            </button>
        </form>
    }
}

/// `/evidenze`: the uploads waiting for the Region, oldest first.
#[component]
pub fn EvidenceQueuePage() -> impl IntoView {
    let query = use_query_map();
    let filters = move || {
        query.with(|q| {
            (
                q.get("provincia").unwrap_or_default(),
                q.get("piattaforma").unwrap_or_default(),
                q.get("pagina").unwrap_or_default(),
            )
        })
    };
    let data = Resource::new(filters, |(provincia, piattaforma, pagina)| {
        get_evidence_queue(provincia, piattaforma, pagina)
    });
    let reviewed = move || query.with(|q| q.get("esaminata").is_some());
    view! {
        <PageHead title="Evidenze da esaminare" description="Le evidenze caricate dai comuni in attesa della verifica della Regione." />
        <h1>"Evidenze da esaminare"</h1>
        <p>"Le ultime versioni caricate dai comuni che non hanno ancora un esame, dalla più vecchia."</p>
        {move || {
            reviewed()
                .then(|| {
                    view! { <div class="alert alert-success" role="status">"Esame salvato e registrato nel registro delle modifiche."</div> }
                })
        }}
        <Suspense fallback=|| view! { <p>"Caricamento della coda…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(queue) => view! { <QueueView queue /> }.into_any(),
                    Err(error) => view! { <SignInNeeded error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn QueueView(queue: Queue) -> impl IntoView {
    let (count, page, pages) = (queue.total, queue.page, queue.pages);
    let range = crate::paging::range_words(page, queue.items.len(), count);
    let status = match count {
        0 => "Nessuna evidenza da esaminare con questi filtri.".to_string(),
        1 => "1 evidenza da esaminare.".to_string(),
        n => format!("{} evidenze da esaminare.", crate::format::int(n as i64)),
    };
    let status = if range.is_empty() { status } else { format!("{status} {range}") };
    let export_query = [("provincia", &queue.provincia), ("piattaforma", &queue.piattaforma)]
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    view! {
        <form method="get" action="/evidenze" class="filtri-coda" aria-label="Filtra la coda">
            <div class="form-group">
                <label for="coda-provincia">"Provincia"</label>
                <select id="coda-provincia" name="provincia" class="form-select">
                    <option value="" selected=queue.provincia.is_empty()>
                        "Tutte"
                    </option>
                    {use_territory()
                        .province
                        .iter()
                        .map(|p| {
                            view! {
                                <option value=p.sigla.clone() selected=queue.provincia == p.sigla>
                                    {p.nome.clone()}
                                </option>
                            }
                        })
                        .collect_view()}
                </select>
            </div>
            <div class="form-group">
                <label for="coda-piattaforma">"Piattaforma"</label>
                <select id="coda-piattaforma" name="piattaforma" class="form-select">
                    <option value="" selected=queue.piattaforma.is_empty()>
                        "Tutte"
                    </option>
                    {Platform::ALL
                        .iter()
                        .map(|p| {
                            view! {
                                <option value=p.code() selected=queue.piattaforma == p.code()>
                                    {p.label()}
                                </option>
                            }
                        })
                        .collect_view()}
                </select>
            </div>
            <button type="submit" class="btn btn-secondary">
                "Filtra"
            </button>
        </form>
        <p role="status">{status}</p>
        <crate::exports::ui::ExportLinks stem="evidenze" query=export_query.clone() what="questa coda" />
        <div class="table-wrap" tabindex="0" role="region" aria-label="Evidenze in attesa di esame">
            <table class="table">
                <caption>"Evidenze in attesa di esame, dalla più vecchia"</caption>
                <thead>
                    <tr>
                        <th scope="col">"Caricata"</th>
                        <th scope="col">"Comune"</th>
                        <th scope="col">"Obiettivo"</th>
                        <th scope="col">"File"</th>
                        <th scope="col">"Esame"</th>
                    </tr>
                </thead>
                <tbody>
                    {queue
                        .items
                        .into_iter()
                        .map(|i| {
                            view! {
                                <tr>
                                    <td>{format!("{} da {}", i.uploaded_at, i.uploaded_by)}</td>
                                    <th scope="row">
                                        <a href=format!("/comuni/{}", i.comune)>{i.denominazione.clone()}</a>
                                        {format!(" ({})", i.provincia)}
                                    </th>
                                    <td>{format!("{}: {}", i.platform, i.objective)}</td>
                                    <td>
                                        <a href=format!("/evidenze/{}/file", i.id) download="">
                                            {i.file_name.clone()}
                                        </a>
                                        {format!(" (versione {})", i.version)}
                                    </td>
                                    <td>
                                        <a href=format!("/comuni/{}/evidenze#evidenza-{}", i.comune, i.id)>
                                            {format!("Esamina la versione {} di {}", i.version, i.denominazione)}
                                        </a>
                                    </td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
        <crate::paging::Pager page pages href=move |p: usize| crate::paging::href("/evidenze", &export_query, p) />
    }
}
