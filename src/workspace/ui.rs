//! The workspace page of one comune (`/comuni/{codice}/gestione`) and the trail pages
//! (`/comuni/{codice}/registro`, `/registro`). Every form is a plain POST form described as data
//! ([`FormSpec`]) and drawn by one component, so each field gets its label, its message
//! (`aria-describedby`) and an id unique on the page.

use crate::app::PageHead;
use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

use super::{
    server::{
        get_pending_proposals, get_trail, get_workspace, CountItem, ObjectiveItem, ServiceItem, TrailPage,
        WorkspaceView,
    },
    BlockerCategory, ServiceValues, TrailEntry,
};
use crate::{
    app::ErrorNotice,
    auth::{
        server::get_form_feedback,
        ui::{ErrorSummary, SignInNeeded},
        FormFeedback,
    },
    format,
    rules::{AdhesionStatus, Platform, Renunciation},
};

/// The kind of an input.
#[derive(Clone, Debug, PartialEq)]
pub enum Kind {
    Text,
    Date,
    Number,
    TextArea,
    Checkbox,
    Select(Vec<(String, String)>),
}

/// One input of a form.
#[derive(Clone, Debug, PartialEq)]
pub struct FieldSpec {
    pub name: &'static str,
    pub label: String,
    pub kind: Kind,
    /// The value shown (for a checkbox: "on" when checked).
    pub value: String,
    pub hint: Option<String>,
    pub required: bool,
}

impl FieldSpec {
    fn new(name: &'static str, label: &str, kind: Kind, value: impl Into<String>) -> Self {
        FieldSpec { name, label: label.to_string(), kind, value: value.into(), hint: None, required: false }
    }

    fn required(mut self) -> Self {
        self.required = true;
        self
    }

    fn hint(mut self, hint: &str) -> Self {
        self.hint = Some(hint.to_string());
        self
    }
}

/// A form as data: where it posts, what it asks.
#[derive(Clone, Debug, PartialEq)]
pub struct FormSpec {
    /// Unique on the page; sent back as `modulo` so a refused form finds its messages.
    pub id: String,
    pub action: String,
    pub title: String,
    pub fields: Vec<FieldSpec>,
    pub hidden: Vec<(&'static str, String)>,
    pub submit: String,
}

fn iso(d: Option<chrono::NaiveDate>) -> String {
    d.map(|d| d.to_string()).unwrap_or_default()
}

fn on(b: bool) -> String {
    if b { "on" } else { "" }.to_string()
}

/// The form of a new or existing service of one platform.
pub fn service_form(
    id: String,
    action: String,
    platform: Platform,
    item: Option<&ServiceItem>,
    submit: &str,
) -> FormSpec {
    let mut hidden = vec![("piattaforma", platform.code().to_string())];
    if let Some(item) = item {
        hidden.push(("id", item.id.to_string()));
        hidden.push(("versione", item.version.to_string()));
    }
    let values = item.map(|i| &i.values);
    let fields = match platform {
        Platform::PagoPa => {
            let v = match values {
                Some(ServiceValues::PagoPa(v)) => Some(v),
                _ => None,
            };
            vec![
                FieldSpec::new(
                    "codice",
                    "Codice di tassonomia pagoPA",
                    Kind::Text,
                    v.map(|v| v.taxonomy_code.clone()).unwrap_or_default(),
                )
                .required()
                .hint("Come 9/0101100IM/ (Tassonomia dei servizi di incasso)."),
                FieldSpec::new(
                    "applicabile",
                    "Servizio applicabile al comune",
                    Kind::Checkbox,
                    on(v.is_none_or(|v| v.applicable)),
                ),
                FieldSpec::new(
                    "attivo_dal",
                    "Attivo su pagoPA dal",
                    Kind::Date,
                    iso(v.and_then(|v| v.active_since)),
                ),
                FieldSpec::new(
                    "disattivato_il",
                    "Disattivato il",
                    Kind::Date,
                    iso(v.and_then(|v| v.deactivated_on)),
                )
                .hint("Solo se il servizio non è più attivo."),
                FieldSpec::new(
                    "mypay",
                    "Attivo tramite MyPay (piattaforma regionale)",
                    Kind::Checkbox,
                    on(v.is_none_or(|v| v.on_mypay)),
                ),
            ]
        }
        Platform::AppIo => {
            let v = match values {
                Some(ServiceValues::Io(v)) => Some(v),
                _ => None,
            };
            vec![
                FieldSpec::new(
                    "service_id",
                    "Service ID di App IO",
                    Kind::Text,
                    v.map(|v| v.service_id.clone()).unwrap_or_default(),
                )
                .required()
                .hint("Lettere e cifre, come 01EXAMPLE0SERVICE0ID0000001."),
                FieldSpec::new(
                    "nome",
                    "Nome del servizio",
                    Kind::Text,
                    v.map(|v| v.name.clone()).unwrap_or_default(),
                )
                .required(),
                FieldSpec::new(
                    "pubblicato_dal",
                    "Pubblicato su App IO dal",
                    Kind::Date,
                    iso(v.and_then(|v| v.published_since)),
                ),
                FieldSpec::new("ritirato_il", "Ritirato il", Kind::Date, iso(v.and_then(|v| v.withdrawn_on)))
                    .hint("Solo se il servizio non è più pubblicato."),
            ]
        }
        Platform::SpidCie => {
            let v = match values {
                Some(ServiceValues::Online(v)) => Some(v),
                _ => None,
            };
            vec![
                FieldSpec::new(
                    "nome",
                    "Nome del servizio online",
                    Kind::Text,
                    v.map(|v| v.name.clone()).unwrap_or_default(),
                )
                .required(),
                FieldSpec::new(
                    "spid_dal",
                    "Accesso con SPID dal",
                    Kind::Date,
                    iso(v.and_then(|v| v.spid_since)),
                ),
                FieldSpec::new(
                    "cie_dal",
                    "Accesso con CIE dal",
                    Kind::Date,
                    iso(v.and_then(|v| v.cie_since)),
                ),
            ]
        }
    };
    let mut fields = fields;
    fields.push(FieldSpec::new("motivo", "Motivo della modifica (facoltativo)", Kind::Text, ""));
    FormSpec {
        id,
        action,
        title: format!("Servizio {}", platform.label()),
        fields,
        hidden,
        submit: submit.to_string(),
    }
}

/// Draws a [`FormSpec`]; `feedback` is shown when it belongs to this form.
#[component]
pub fn SpecForm(spec: FormSpec, feedback: Option<FormFeedback>) -> impl IntoView {
    let mine = feedback.filter(|f| f.form == spec.id);
    // Typed values come back only with field messages; after a conflict the current ones show.
    let typed = mine.as_ref().filter(|f| !f.errors.is_empty()).cloned();
    let prefix = format!("{}-", spec.id);
    let summary = mine.clone().map(|feedback| view! { <ErrorSummary feedback field_prefix=prefix /> });
    let fields = spec
        .fields
        .into_iter()
        .map(|field| {
            let input_id = format!("{}-{}", spec.id, field.name);
            let error = mine.as_ref().and_then(|f| f.error(field.name));
            let value = match &typed {
                Some(t) => t.value(field.name),
                None => field.value.clone(),
            };
            let hint_id = format!("{input_id}-aiuto");
            let error_id = format!("{input_id}-errore");
            let described =
                [field.hint.as_ref().map(|_| hint_id.clone()), error.as_ref().map(|_| error_id.clone())]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(" ");
            let described = (!described.is_empty()).then_some(described);
            let label =
                if field.required { format!("{} (obbligatorio)", field.label) } else { field.label.clone() };
            let invalid = error.is_some().then_some("true");
            let hint = field.hint.clone().map(|h| view! { <p class="aiuto" id=hint_id.clone()>{h}</p> });
            let message = error
                .clone()
                .map(|e| view! { <p class="errore-campo" id=error_id.clone()>{format!("Errore: {e}")}</p> });
            let input = match field.kind {
                Kind::Checkbox => view! {
                    <div class="form-check">
                        <input
                            class="form-check-input"
                            type="checkbox"
                            id=input_id.clone()
                            name=field.name
                            checked=!value.is_empty()
                            aria-describedby=described.clone()
                        />
                        <label class="form-check-label" for=input_id.clone()>{label.clone()}</label>
                    </div>
                }
                .into_any(),
                Kind::TextArea => view! {
                    <label for=input_id.clone()>{label.clone()}</label>
                    {hint}
                    {message}
                    <textarea
                        id=input_id.clone()
                        name=field.name
                        rows="3"
                        required=field.required
                        aria-invalid=invalid
                        aria-describedby=described.clone()
                    >
                        {value.clone()}
                    </textarea>
                }
                .into_any(),
                Kind::Select(choices) => view! {
                    <label for=input_id.clone()>{label.clone()}</label>
                    {hint}
                    {message}
                    <select
                        id=input_id.clone()
                        name=field.name
                        class="form-select"
                        required=field.required
                        aria-invalid=invalid
                        aria-describedby=described.clone()
                    >
                        {choices
                            .into_iter()
                            .map(|(v, l)| {
                                let selected = v == value;
                                view! {
                                    <option value=v selected=selected>
                                        {l}
                                    </option>
                                }
                            })
                            .collect_view()}
                    </select>
                }
                .into_any(),
                kind => {
                    let kind = match kind {
                        Kind::Date => "date",
                        Kind::Number => "number",
                        _ => "text",
                    };
                    view! {
                        <label for=input_id.clone()>{label.clone()}</label>
                        {hint}
                        {message}
                        <input
                            id=input_id.clone()
                            name=field.name
                            type=kind
                            value=value.clone()
                            required=field.required
                            aria-invalid=invalid
                            aria-describedby=described.clone()
                        />
                    }
                    .into_any()
                }
            };
            view! {
                <div class="campo" class:campo-errore=error.is_some()>
                    {input}
                </div>
            }
        })
        .collect_view();
    view! {
        <form method="post" action=spec.action class="modulo-gestione" id=spec.id.clone()>
            <fieldset>
                <legend>{spec.title}</legend>
                {summary}
                <input type="hidden" name="modulo" value=spec.id.clone() />
                {spec
                    .hidden
                    .into_iter()
                    .map(|(name, value)| view! { <input type="hidden" name=name value=value /> })
                    .collect_view()}
                {fields}
                <button type="submit" class="btn btn-primary">
                    {spec.submit}
                </button>
            </fieldset>
        </form>
    }
}

#[component]
pub fn WorkspacePage() -> impl IntoView {
    let params = use_params_map();
    let codice = move || params.with(|p| p.get("codice").unwrap_or_default());
    let data = Resource::new(codice, get_workspace);
    let feedback = Resource::new(|| (), |_| get_form_feedback());
    let query = use_query_map();
    let saved = move || query.with(|q| q.get("salvato").is_some());
    view! {
        <Suspense fallback=|| view! { <p>"Caricamento…"</p> }>
            {move || Suspend::new(async move {
                let feedback = feedback.await.ok().flatten();
                match data.await {
                    Ok(w) => view! { <WorkspaceView w feedback saved=saved() /> }.into_any(),
                    Err(error) => {
                        view! {
                            <PageHead title="Gestione del comune" description="Gestione del comune in Traguardi: adesione, servizi, conteggi, ostacoli e note." />
                            <h1>"Gestione del comune"</h1>
                            <SignInNeeded error />
                        }
                            .into_any()
                    }
                }
            })}
        </Suspense>
    }
}

fn choices(items: impl IntoIterator<Item = (&'static str, &'static str)>) -> Vec<(String, String)> {
    items.into_iter().map(|(v, l)| (v.to_string(), l.to_string())).collect()
}

#[component]
fn WorkspaceView(w: WorkspaceView, feedback: Option<FormFeedback>, saved: bool) -> impl IntoView {
    let action = |a: &str| format!("/comuni/{}/gestione/{a}", w.codice_istat);
    let title = format!("Gestione di {}", w.denominazione);
    let fb = move || feedback.clone();
    let adhesion = FormSpec {
        id: "adesione".into(),
        action: action("adesione"),
        title: format!("Adesione al {}", w.programma),
        fields: vec![
            FieldSpec::new(
                "stato",
                "Stato di adesione",
                Kind::Select(
                    AdhesionStatus::ALL
                        .iter()
                        .map(|a| (a.code().to_string(), a.label().to_string()))
                        .collect(),
                ),
                w.adhesion_status.clone(),
            )
            .required(),
            FieldSpec::new("data", "Data di adesione", Kind::Date, iso(w.adhesion_date))
                .hint("Obbligatoria per i comuni aderenti."),
            FieldSpec::new(
                "rinuncia",
                "Rinuncia",
                Kind::Select(
                    std::iter::once(("nessuna".to_string(), "Nessuna rinuncia".to_string()))
                        .chain(Renunciation::ALL.iter().map(|r| (r.code().to_string(), r.label().to_string())))
                        .collect(),
                ),
                if w.renunciation.is_empty() { "nessuna".to_string() } else { w.renunciation.clone() },
            )
            .hint(&match w.saldo_renunciation_limit {
                Some(limit) => format!(
                    "Solo per i comuni aderenti. La rinuncia al saldo è ammessa entro il {}; quella all'intero \
                     contributo in ogni momento.",
                    crate::format::date(limit)
                ),
                None => "Solo per i comuni aderenti.".to_string(),
            }),
            FieldSpec::new("data_rinuncia", "Data della rinuncia", Kind::Date, iso(w.renunciation_date))
                .hint("Obbligatoria se il comune ha rinunciato."),
            FieldSpec::new("motivo", "Motivo della modifica (facoltativo)", Kind::Text, ""),
        ],
        hidden: vec![("versione", w.adhesion_version.to_string())],
        submit: "Salva l'adesione".into(),
    };
    let new_services = [Platform::PagoPa, Platform::AppIo, Platform::SpidCie]
        .into_iter()
        .map(|p| {
            service_form(format!("nuovo-{}", p.code()), action("servizio"), p, None, "Aggiungi il servizio")
        })
        .collect::<Vec<_>>();
    let proposals = [Platform::PagoPa, Platform::AppIo, Platform::SpidCie]
        .into_iter()
        .map(|p| {
            let mut spec = service_form(
                format!("proposta-{}", p.code()),
                action("proposta"),
                p,
                None,
                "Invia la proposta",
            );
            spec.title = format!("Proponi un servizio {}", p.label());
            spec.fields.retain(|f| f.name != "motivo");
            spec
        })
        .collect::<Vec<_>>();
    let count = FormSpec {
        id: "conteggio".into(),
        action: action("conteggio"),
        title: "Registra un conteggio dei servizi attivi".into(),
        fields: vec![
            FieldSpec::new(
                "piattaforma",
                "Piattaforma",
                Kind::Select(
                    Platform::ALL.iter().map(|p| (p.code().to_string(), p.label().to_string())).collect(),
                ),
                "pagopa",
            )
            .required(),
            FieldSpec::new("giorno", "Giorno del conteggio", Kind::Date, "").required(),
            FieldSpec::new("attivi", "Servizi attivi", Kind::Number, "").required(),
        ],
        // A new count: if that day already has one, someone else's (or an earlier) count is not
        // overwritten — the page says so and the row's correction form shows it.
        hidden: vec![("versione", "0".to_string())],
        submit: "Registra il conteggio".into(),
    };
    let blocker = FormSpec {
        id: "blocco-nuovo".into(),
        action: action("blocco"),
        title: "Segnala un blocco".into(),
        fields: vec![
            FieldSpec::new(
                "categoria",
                "Categoria",
                Kind::Select(
                    BlockerCategory::ALL
                        .iter()
                        .map(|c| (c.code().to_string(), c.label().to_string()))
                        .collect(),
                ),
                "fornitore",
            )
            .required(),
            FieldSpec::new("descrizione", "Descrizione", Kind::TextArea, "").required(),
            FieldSpec::new("dal", "Dal giorno", Kind::Date, "").required(),
        ],
        hidden: vec![],
        submit: "Registra il blocco".into(),
    };
    let note = FormSpec {
        id: "nota".into(),
        action: action("nota"),
        title: "Aggiungi una nota".into(),
        fields: vec![FieldSpec::new("testo", "Testo della nota", Kind::TextArea, "").required()],
        hidden: vec![],
        submit: "Aggiungi la nota".into(),
    };
    let full = w.full;
    let codice = w.codice_istat.clone();
    let description = format!(
        "Gestione di {} in Traguardi: adesione, servizi, conteggi, ostacoli e note.",
        w.denominazione
    );
    view! {
        <PageHead title=title.clone() description />
        <h1>{title}</h1>
        <p>
            <a href=format!("/comuni/{codice}")>"Torna alla scheda del comune"</a>
            " · "
            <a href=format!("/comuni/{codice}/registro")>"Registro delle modifiche del comune"</a>
        </p>
        {saved
            .then(|| {
                view! {
                    <div class="alert alert-success" role="status">
                        "Modifica salvata e registrata nel registro delle modifiche."
                    </div>
                }
            })}
        {full
            .then(|| {
                let w = w.clone();
                view! {
                    <section id="sezione-adesione" aria-labelledby="titolo-adesione">
                        <h2 id="titolo-adesione">"Adesione"</h2>
                        <SpecForm spec=adhesion feedback=fb() />
                    </section>
                    <section id="sezione-servizi" aria-labelledby="titolo-servizi">
                        <h2 id="titolo-servizi">"Servizi"</h2>
                        <ServiceEditors items=w.pagopa.clone() platform=Platform::PagoPa action=action("servizio") feedback=fb() propose=false />
                        <ServiceEditors items=w.io.clone() platform=Platform::AppIo action=action("servizio") feedback=fb() propose=false />
                        <ServiceEditors items=w.online.clone() platform=Platform::SpidCie action=action("servizio") feedback=fb() propose=false />
                        <h3>"Aggiungi un servizio"</h3>
                        {new_services.into_iter().map(|spec| view! { <SpecForm spec feedback=fb() /> }).collect_view()}
                    </section>
                    <section id="sezione-conteggi" aria-labelledby="titolo-conteggi">
                        <h2 id="titolo-conteggi">"Conteggi dei servizi attivi"</h2>
                        <CountsTable counts=w.counts.clone() action=action("conteggio") feedback=fb() />
                        <SpecForm spec=count feedback=fb() />
                    </section>
                    <section id="sezione-verifiche" aria-labelledby="titolo-verifiche">
                        <h2 id="titolo-verifiche">"Verifica degli obiettivi"</h2>
                        {w
                            .objectives
                            .clone()
                            .into_iter()
                            .map(|o| view! { <VerificationForm o action=action("verifica") feedback=fb() /> })
                            .collect_view()}
                    </section>
                    <section id="sezione-blocchi" aria-labelledby="titolo-blocchi">
                        <h2 id="titolo-blocchi">"Blocchi e ritardi"</h2>
                        <BlockerList w=w.clone() action=action("blocco-risolto") feedback=fb() />
                        <SpecForm spec=blocker feedback=fb() />
                    </section>
                    <section id="sezione-note" aria-labelledby="titolo-note">
                        <h2 id="titolo-note">"Note"</h2>
                        <NoteList notes=w.notes.clone() />
                        <SpecForm spec=note feedback=fb() />
                    </section>
                }
            })}
        <section id="sezione-proposte" aria-labelledby="titolo-proposte">
            <h2 id="titolo-proposte">"Proposte di servizi del comune"</h2>
            <ProposalList w=w.clone() action=action("proposta-decisione") feedback=fb() />
            {(!full)
                .then(|| {
                    view! {
                        <p>
                            "Proponi un servizio attivato dal comune: la Regione lo verifica e lo accetta o lo respinge con un motivo."
                        </p>
                        {proposals.into_iter().map(|spec| view! { <SpecForm spec feedback=fb() /> }).collect_view()}
                        <h3>"Proponi una modifica a un servizio registrato"</h3>
                        <p>
                            "Ad esempio la data di disattivazione o di pubblicazione: il codice del servizio non cambia. La Regione la verifica come ogni proposta."
                        </p>
                        <ServiceEditors items=w.pagopa.clone() platform=Platform::PagoPa action=action("proposta") feedback=fb() propose=true />
                        <ServiceEditors items=w.io.clone() platform=Platform::AppIo action=action("proposta") feedback=fb() propose=true />
                        <ServiceEditors items=w.online.clone() platform=Platform::SpidCie action=action("proposta") feedback=fb() propose=true />
                    }
                })}
        </section>
    }
}

/// The services of one platform, each with its edit form in a disclosure: the Region's edit, or
/// (`propose`) a comune's proposal of a change, posted to the proposal action with the service's
/// id.
#[component]
fn ServiceEditors(
    items: Vec<ServiceItem>,
    platform: Platform,
    action: String,
    feedback: Option<FormFeedback>,
    propose: bool,
) -> impl IntoView {
    let heading = format!("{} ({})", platform.label(), items.len());
    let (prefix, submit) =
        if propose { ("modifica", "Proponi la modifica") } else { ("servizio", "Salva le modifiche") };
    view! {
        <h3>{heading}</h3>
        {if items.is_empty() {
            view! { <p>"Nessun servizio registrato."</p> }.into_any()
        } else {
            view! {
                <ul class="lista-servizi">
                    {items
                        .into_iter()
                        .map(|item| {
                            let id = format!("{prefix}-{}-{}", platform.code(), item.id);
                            let open = feedback.as_ref().is_some_and(|f| f.form == id);
                            let summary = format!("{} — {}", item.values.describe(), item.label);
                            let mut spec = service_form(id, action.clone(), platform, Some(&item), submit);
                            if propose {
                                // A proposal carries no reason of its own (the comune explains in
                                // the proposal's fields), like a proposal of a new service.
                                spec.fields.retain(|f| f.name != "motivo");
                            }
                            view! {
                                <li>
                                    <details open=open>
                                        <summary>{summary}</summary>
                                        <SpecForm spec feedback=feedback.clone() />
                                    </details>
                                </li>
                            }
                        })
                        .collect_view()}
                </ul>
            }
                .into_any()
        }}
    }
}

/// The count snapshots, each with a correction form (closed, so the list stays short; a plain
/// form, so it works without JavaScript) that sends back the version it was shown: two people
/// correcting the same count do not overwrite each other.
#[component]
fn CountsTable(counts: Vec<CountItem>, action: String, feedback: Option<FormFeedback>) -> impl IntoView {
    if counts.is_empty() {
        return view! { <p>"Nessun conteggio registrato."</p> }.into_any();
    }
    view! {
        <div class="table-wrap">
            <table class="table">
                <caption>"Conteggi registrati"</caption>
                <thead>
                    <tr>
                        <th scope="col">"Giorno"</th>
                        <th scope="col">"Piattaforma"</th>
                        <th scope="col" class="num">"Servizi attivi"</th>
                        <th scope="col">"Correzione"</th>
                    </tr>
                </thead>
                <tbody>
                    {counts
                        .into_iter()
                        .map(|c| {
                            let id = format!("conteggio-{}-{}", c.platform, c.day);
                            let open = feedback.as_ref().is_some_and(|f| f.form == id);
                            let spec = FormSpec {
                                id,
                                action: action.clone(),
                                title: format!("Correggi il conteggio {} del {}", c.label, format::date(c.day)),
                                fields: vec![
                                    FieldSpec::new("attivi", "Servizi attivi", Kind::Number, c.active.to_string())
                                        .required(),
                                ],
                                hidden: vec![
                                    ("piattaforma", c.platform.clone()),
                                    ("giorno", c.day.to_string()),
                                    ("versione", c.version.to_string()),
                                ],
                                submit: "Correggi il conteggio".into(),
                            };
                            view! {
                                <tr>
                                    <td>{format::date(c.day)}</td>
                                    <td>{c.label.clone()}</td>
                                    <td class="num">{format::int(c.active)}</td>
                                    <td>
                                        <details open=open>
                                            <summary>"Correggi"</summary>
                                            <SpecForm spec feedback=feedback.clone() />
                                        </details>
                                    </td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}

#[component]
fn VerificationForm(o: ObjectiveItem, action: String, feedback: Option<FormFeedback>) -> impl IntoView {
    let current = match &o.verification {
        Some((outcome, reason, on, by)) => format!(
            "{outcome} il {} da {by}{}",
            format::date(*on),
            reason.as_ref().map(|r| format!(": {r}")).unwrap_or_default()
        ),
        None => "Non ancora verificato dalla Regione".to_string(),
    };
    let spec = FormSpec {
        id: format!("verifica-{}", o.code),
        action,
        title: o.label.clone(),
        fields: vec![
            FieldSpec::new(
                "esito",
                "Esito della verifica",
                Kind::Select(choices([("confermato", "Confermato"), ("respinto", "Respinto")])),
                o.verification
                    .as_ref()
                    .map(|v| if v.0.starts_with("Respinto") { "respinto" } else { "confermato" })
                    .unwrap_or("confermato"),
            )
            .required(),
            FieldSpec::new(
                "motivo",
                "Motivo",
                Kind::Text,
                o.verification.as_ref().and_then(|v| v.1.clone()).unwrap_or_default(),
            )
            .hint("Obbligatorio se l'obiettivo è respinto: il comune lo leggerà."),
        ],
        hidden: vec![("obiettivo", o.code.clone()), ("versione", o.version.to_string())],
        submit: "Registra la verifica".into(),
    };
    view! {
        <div class="verifica">
            <p>
                {format!("Stato calcolato dai servizi: {}. Verifica: {current}.", o.state)}
            </p>
            <SpecForm spec feedback />
        </div>
    }
}

#[component]
fn BlockerList(w: WorkspaceView, action: String, feedback: Option<FormFeedback>) -> impl IntoView {
    if w.blockers.is_empty() {
        return view! { <p>"Nessun blocco registrato."</p> }.into_any();
    }
    view! {
        <ul class="lista-blocchi">
            {w
                .blockers
                .into_iter()
                .map(|b| {
                    let state = match b.resolved_on {
                        Some(d) => format!("Risolto il {}", format::date(d)),
                        None => "Aperto".to_string(),
                    };
                    let text = format!(
                        "{}: {} (dal {}). Stato: {state}.",
                        b.category,
                        b.description,
                        format::date(b.opened_on),
                    );
                    let form = b.resolved_on.is_none().then(|| {
                        let spec = FormSpec {
                            id: format!("blocco-{}", b.id),
                            action: action.clone(),
                            title: "Segna come risolto".into(),
                            fields: vec![FieldSpec::new("risolto_il", "Risolto il", Kind::Date, "").required()],
                            hidden: vec![("id", b.id.to_string()), ("versione", b.version.to_string())],
                            submit: "Segna come risolto".into(),
                        };
                        view! { <SpecForm spec feedback=feedback.clone() /> }
                    });
                    view! {
                        <li>
                            <p>{text}</p>
                            {form}
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
    .into_any()
}

#[component]
fn NoteList(notes: Vec<(String, String, String)>) -> impl IntoView {
    if notes.is_empty() {
        return view! { <p>"Nessuna nota."</p> }.into_any();
    }
    view! {
        <ul class="lista-note">
            {notes
                .into_iter()
                .map(|(body, author, when)| {
                    view! {
                        <li>
                            <p>{body}</p>
                            <p class="aiuto">{format!("{author}, {when}")}</p>
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
    .into_any()
}

#[component]
fn ProposalList(w: WorkspaceView, action: String, feedback: Option<FormFeedback>) -> impl IntoView {
    if w.proposals.is_empty() {
        return view! { <p>"Nessuna proposta."</p> }.into_any();
    }
    let full = w.full;
    view! {
        <ul class="lista-proposte">
            {w
                .proposals
                .into_iter()
                .map(|p| {
                    let text = format!(
                        "{}. Stato: {}{}. Proposta da {}.",
                        p.description,
                        p.status,
                        p.reason.as_ref().map(|r| format!(" (motivo: {r})")).unwrap_or_default(),
                        p.proposed_by,
                    );
                    let form = (full && p.pending).then(|| {
                        let spec = FormSpec {
                            id: format!("proposta-{}", p.id),
                            action: action.clone(),
                            title: "Decisione della Regione".into(),
                            fields: vec![
                                FieldSpec::new(
                                    "esito",
                                    "Esito",
                                    Kind::Select(choices([("accetta", "Accetta"), ("respingi", "Respingi")])),
                                    "accetta",
                                )
                                .required(),
                                FieldSpec::new("motivo", "Motivo", Kind::Text, "").hint("Obbligatorio se la proposta è respinta."),
                            ],
                            hidden: vec![("id", p.id.to_string()), ("versione", p.version.to_string())],
                            submit: "Registra la decisione".into(),
                        };
                        view! { <SpecForm spec feedback=feedback.clone() /> }
                    });
                    view! {
                        <li>
                            <p>{text}</p>
                            {form}
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
    .into_any()
}

/// `/comuni/{codice}/registro`.
#[component]
pub fn ComuneTrailPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let args = move || {
        (
            params.with(|p| p.get("codice").unwrap_or_default()),
            query.with(|q| q.get("prima").and_then(|s| s.parse::<i64>().ok())),
        )
    };
    let page = Resource::new(args, |(codice, before)| get_trail(Some(codice), before));
    view! { <TrailView page /> }
}

/// `/registro`: the whole trail, for the Region.
#[component]
pub fn TrailPageView() -> impl IntoView {
    let query = use_query_map();
    let before = move || query.with(|q| q.get("prima").and_then(|s| s.parse::<i64>().ok()));
    let page = Resource::new(before, |before| get_trail(None, before));
    view! { <TrailView page /> }
}

#[component]
fn TrailView(page: Resource<Result<TrailPage, crate::error::AppError>>) -> impl IntoView {
    view! {
        <Suspense fallback=|| view! { <p>"Caricamento del registro…"</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(p) => view! { <TrailTable p /> }.into_any(),
                    Err(error @ crate::error::AppError::NotFound(_)) => {
                        view! {
                            <PageHead title="Registro delle modifiche" description="Il registro delle modifiche di Traguardi: chi ha cambiato che cosa e quando." />
                            <h1>"Registro delle modifiche"</h1>
                            <ErrorNotice error />
                        }
                            .into_any()
                    }
                    Err(error) => {
                        view! {
                            <PageHead title="Registro delle modifiche" description="Il registro delle modifiche di Traguardi: chi ha cambiato che cosa e quando." />
                            <h1>"Registro delle modifiche"</h1>
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
fn TrailTable(p: TrailPage) -> impl IntoView {
    let (title, base) = match &p.comune {
        Some((codice, nome)) => {
            (format!("Registro delle modifiche di {nome}"), format!("/comuni/{codice}/registro"))
        }
        None => ("Registro delle modifiche".to_string(), "/registro".to_string()),
    };
    let next = p.next.map(|n| format!("{base}?prima={n}"));
    let global = p.comune.is_none();
    let (export_query, export_what) = match &p.comune {
        Some((codice, _)) => (format!("comune={codice}"), "il registro di questo comune"),
        None => (String::new(), "il registro completo"),
    };
    let description = format!("{title}: chi ha cambiato che cosa e quando.");
    view! {
        <PageHead title=title.clone() description />
        <h1>{title}</h1>
        <p>
            "Ogni modifica ai dati, dalla più recente. Le voci sono concatenate da un'impronta (SHA-256): una voce alterata o cancellata viene rilevata dalla verifica del registro ("
            <code>"traguardi audit verify"</code>
            ")."
        </p>
        <crate::exports::ui::ExportLinks stem="registro" query=export_query what=export_what />
        <TrailEntries entries=p.entries global />
        {next.map(|href| view! { <p><a href=href>"Voci precedenti"</a></p> })}
        {(!global)
            .then(|| {
                view! {
                    <h2>"Promemoria ricevuti"</h2>
                    <p>"I promemoria via e-mail inviati ai referenti del comune, dal più recente."</p>
                    <crate::reminders::ReminderLog items=p.reminders with_comune=false />
                }
            })}
    }
}

/// The entries as a table; `global` adds the comune column.
#[component]
pub fn TrailEntries(entries: Vec<TrailEntry>, #[prop(optional)] global: bool) -> impl IntoView {
    if entries.is_empty() {
        return view! { <p>"Nessuna modifica registrata."</p> }.into_any();
    }
    view! {
        // Focusable and named: a trail wider than the screen scrolls from the keyboard too.
        <div class="table-wrap" tabindex="0" role="region" aria-label="Modifiche registrate">
            <table class="table">
                <caption>"Modifiche registrate, dalla più recente"</caption>
                <thead>
                    <tr>
                        <th scope="col">"N."</th>
                        <th scope="col">"Quando"</th>
                        <th scope="col">"Chi"</th>
                        {global.then(|| view! { <th scope="col">"Comune"</th> })}
                        <th scope="col">"Cosa"</th>
                        <th scope="col">"Modifica (prima → dopo)"</th>
                        <th scope="col">"Motivo"</th>
                    </tr>
                </thead>
                <tbody>
                    {entries
                        .into_iter()
                        .map(|e| {
                            let comune = e.comune.clone().unwrap_or_else(|| "—".into());
                            view! {
                                <tr>
                                    <td>{e.seq}</td>
                                    <td>{e.when}</td>
                                    <td>{e.actor}</td>
                                    {global.then(|| view! { <td>{comune}</td> })}
                                    <td>{format!("{}: {}", e.action, e.what)}</td>
                                    <td>
                                        <ul class="lista-modifiche">
                                            {e
                                                .changes
                                                .into_iter()
                                                .map(|(f, b, a)| view! { <li>{format!("{f}: {b} → {a}")}</li> })
                                                .collect_view()}
                                        </ul>
                                    </td>
                                    <td>{e.reason.unwrap_or_else(|| "—".into())}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}

/// `/proposte`: what the comuni proposed and the Region has not decided yet, oldest first; each
/// links to the comune's workspace, where the decision form is.
#[component]
pub fn ProposalsPage() -> impl IntoView {
    let query = leptos_router::hooks::use_query_map();
    let list =
        Resource::new(move || query.with(|q| q.get("pagina").unwrap_or_default()), get_pending_proposals);
    view! {
        <PageHead title="Proposte dei comuni" description="Le proposte di modifica inviate dai comuni, in attesa dell'esame della Regione." />
        <h1>"Proposte dei comuni"</h1>
        <Suspense fallback=|| view! { <p>"Caricamento…"</p> }>
            {move || Suspend::new(async move {
                match list.await {
                    Ok(list) if list.total == 0 => {
                        view! { <p role="status">"Nessuna proposta in attesa di decisione."</p> }.into_any()
                    }
                    Ok(list) => {
                        let crate::paging::Paged { items: rows, page, pages, total } = list;
                        let count = match total {
                            1 => "1 proposta in attesa di decisione.".to_string(),
                            n => {
                                format!(
                                    "{} proposte in attesa di decisione, dalla più vecchia.",
                                    crate::format::int(n as i64),
                                )
                            }
                        };
                        let range = crate::paging::range_words(page, rows.len(), total);
                        let count = if range.is_empty() { count } else { format!("{count} {range}") };
                        view! {
                            <p role="status">{count}</p>
                            <crate::exports::ui::ExportLinks stem="proposte" query="" what="le proposte in attesa" />
                            <div class="table-wrap">
                                <table class="table">
                                    <caption>"Proposte in attesa"</caption>
                                    <thead>
                                        <tr>
                                            <th scope="col">"Comune"</th>
                                            <th scope="col">"Servizio proposto"</th>
                                            <th scope="col">"Da"</th>
                                            <th scope="col">"Quando"</th>
                                        </tr>
                                    </thead>
                                    <tbody>
                                        {rows
                                            .into_iter()
                                            .map(|p| {
                                                let href = format!("/comuni/{}/gestione#sezione-proposte", p.codice_istat);
                                                view! {
                                                    <tr>
                                                        <th scope="row">
                                                            <a href=href>{p.denominazione}</a>
                                                        </th>
                                                        <td>{p.description}</td>
                                                        <td>{p.proposed_by}</td>
                                                        <td>{p.proposed_at}</td>
                                                    </tr>
                                                }
                                            })
                                            .collect_view()}
                                    </tbody>
                                </table>
                            </div>
                            <crate::paging::Pager page pages href=|p: usize| crate::paging::href("/proposte", "", p) />
                        }
                            .into_any()
                    }
                    Err(error) => view! { <SignInNeeded error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}
