//! The sign-in page, the profile page, the users page and the header's account area. Every
//! form is a plain `<form method="post">` to a route of `auth::routes`, so it works without
//! JavaScript; a refused form comes back rendered with its messages (`form_feedback`).

use crate::app::PageHead;
use leptos::prelude::*;
use leptos_router::{components::A, hooks::use_query_map};

use super::{
    server::{get_form_feedback, get_profile, list_users, who_am_i, Profile, UserSummary},
    sign_in_error, CurrentUser, FormFeedback, Role, MIN_LENGTH,
};
use crate::app::ErrorNotice;

/// The summary at the top of a refused form: focusable target of the skip, announced. Each
/// message links to its field, whose id is `field_prefix` + the field's name (the workspace page
/// has many forms, so its ids carry the form's).
#[component]
pub fn ErrorSummary(feedback: FormFeedback, #[prop(optional, into)] field_prefix: String) -> impl IntoView {
    let errors = feedback.errors.clone();
    view! {
        <div class="alert alert-danger" role="alert" id="riepilogo-errori" tabindex="-1">
            <p>
                <strong>{feedback.message.clone()}</strong>
            </p>
            {(!errors.is_empty())
                .then(|| {
                    view! {
                        <ul>
                            {errors
                                .into_iter()
                                .map(|e| {
                                    let href = format!("#{field_prefix}{}", e.field);
                                    view! {
                                        <li>
                                            <a href=href>{e.message}</a>
                                        </li>
                                    }
                                })
                                .collect_view()}
                        </ul>
                    }
                })}
        </div>
    }
}

/// A labelled input with its message tied by `aria-describedby`.
#[component]
pub fn Field(
    name: &'static str,
    label: &'static str,
    #[prop(default = "text")] kind: &'static str,
    #[prop(optional)] hint: Option<String>,
    #[prop(optional)] autocomplete: Option<&'static str>,
    #[prop(default = false)] required: bool,
    feedback: Option<FormFeedback>,
) -> impl IntoView {
    let error = feedback.as_ref().and_then(|f| f.error(name));
    let value =
        if kind == "password" { String::new() } else { feedback.map(|f| f.value(name)).unwrap_or_default() };
    let hint_id = format!("{name}-aiuto");
    let error_id = format!("{name}-errore");
    let described = [hint.as_ref().map(|_| hint_id.clone()), error.as_ref().map(|_| error_id.clone())]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    let label_text = if required { format!("{label} (obbligatorio)") } else { label.to_string() };
    view! {
        <div class="campo" class:campo-errore=error.is_some()>
            <label for=name>{label_text}</label>
            {hint.map(|h| view! { <p class="aiuto" id=hint_id.clone()>{h}</p> })}
            {error.clone().map(|e| view! { <p class="errore-campo" id=error_id.clone()>{format!("Errore: {e}")}</p> })}
            <input
                id=name
                name=name
                type=kind
                value=value
                required=required
                autocomplete=autocomplete
                aria-invalid=error.is_some().then_some("true")
                aria-describedby=(!described.is_empty()).then_some(described)
            />
        </div>
    }
}

#[component]
pub fn LoginPage() -> impl IntoView {
    let query = use_query_map();
    let feedback = Resource::new(|| (), |_| get_form_feedback());
    let info = Resource::new(|| (), |_| oidc_button());
    let notice = move || {
        query.with(|q| {
            if q.get("uscita").is_some() {
                Some(("alert alert-success", "Sei uscito da Traguardi.".to_string()))
            } else {
                q.get("errore").and_then(|c| sign_in_error(&c)).map(|m| ("alert alert-danger", m.to_string()))
            }
        })
    };
    let next = move || query.with(|q| q.get("next").unwrap_or_default());
    view! {
        <PageHead title="Accedi" description="Accesso riservato a Traguardi per la Regione, i comuni e gli assessori." />
        <h1>"Accedi a Traguardi"</h1>
        <p>
            "L'accesso è riservato ai referenti della Regione, dei comuni e agli assessori registrati. Il cruscotto e l'elenco dei comuni sono pubblici e non richiedono l'accesso."
        </p>
        {move || notice().map(|(class, text)| view! { <div class=class role="status"><p>{text}</p></div> })}
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let feedback = feedback.await.ok().flatten().filter(|f| f.form == "accesso");
                let oidc = info.await.ok().flatten();
                let next_value = feedback.as_ref().map(|f| f.value("next")).filter(|v| !v.is_empty()).unwrap_or_else(next);
                view! {
                    {oidc.map(|label| {
                        let next_value = next_value.clone();
                        view! {
                            <section aria-labelledby="accesso-spid" class="riquadro">
                                <h2 id="accesso-spid">"Con l'identità digitale"</h2>
                                <p>"Tramite il servizio di identità della Regione Puglia (SPID, CIE, CNS, eIDAS)."</p>
                                <form method="post" action="/accedi/oidc">
                                    <input type="hidden" name="next" value=next_value />
                                    <button type="submit" class="btn btn-primary" id="accedi-oidc">{label}</button>
                                </form>
                            </section>
                        }
                    })}
                    <section aria-labelledby="accesso-password" class="riquadro">
                        <h2 id="accesso-password">"Con e-mail e password"</h2>
                        {feedback.clone().map(|f| view! { <ErrorSummary feedback=f /> })}
                        <form method="post" action="/accedi" class="modulo" novalidate>
                            <input type="hidden" name="next" value=next_value />
                            <Field name="email" label="Indirizzo e-mail" kind="email" autocomplete="username" required=true feedback=feedback.clone() />
                            <Field name="password" label="Password" kind="password" autocomplete="current-password" required=true feedback=feedback.clone() />
                            <button type="submit" class="btn btn-primary">"Accedi"</button>
                        </form>
                        <p class="aiuto">
                            "Password dimenticata? Chiedi a un referente della Regione di impostarne una nuova."
                        </p>
                    </section>
                }
            })}
        </Suspense>
    }
}

/// The OIDC button's label when the identity service is configured.
#[server(endpoint = "accesso-oidc")]
pub async fn oidc_button() -> Result<Option<String>, AppError> {
    let state = crate::state::app_state()?;
    Ok(state.auth.oidc.as_ref().map(|o| o.config.label.clone()))
}

use crate::error::AppError;

/// What each role may do, in words (the profile page and the README say the same).
pub fn role_permissions(role: Role) -> &'static str {
    match role {
        Role::Regione => {
            "Consulta e modifica tutti i dati, verifica le evidenze dei comuni, gestisce gli utenti."
        }
        Role::Comune => {
            "Consulta per intero i dati dei propri comuni, carica le evidenze e propone aggiornamenti dei servizi; degli altri comuni vede i dati pubblici."
        }
        Role::Assessore => "Consulta tutti i cruscotti, gli elenchi e i resoconti; non modifica nulla.",
    }
}

#[component]
pub fn ProfilePage() -> impl IntoView {
    let profile = Resource::new(|| (), |_| get_profile());
    view! {
        <PageHead title="Il mio profilo" description="Il profilo personale in Traguardi: dati dell'utente e scelta dei promemoria via e-mail." />
        <h1>"Il mio profilo"</h1>
        <Suspense fallback=|| view! { <p>"Caricamento…"</p> }>
            {move || Suspend::new(async move {
                match profile.await {
                    Ok(p) => view! { <ProfileView p /> }.into_any(),
                    Err(error) => view! { <SignInNeeded error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn ProfileView(p: Profile) -> impl IntoView {
    let Profile { user, comuni, reminders } = p;
    let saved = use_query_map().with_untracked(|q| q.get("esito").as_deref() == Some("promemoria"));
    view! {
        <dl class="scheda">
            <dt>"Nome"</dt>
            <dd>{user.name.clone()}</dd>
            <dt>"E-mail"</dt>
            <dd>{user.email.clone()}</dd>
            <dt>"Ruolo"</dt>
            <dd>{user.role.label()}</dd>
            <dt>"Cosa puoi fare"</dt>
            <dd>{role_permissions(user.role)}</dd>
        </dl>
        {(!comuni.is_empty())
            .then(|| {
                view! {
                    <h2>"I tuoi comuni"</h2>
                    <ul class="elenco-comuni">
                        {comuni
                            .into_iter()
                            .map(|c| {
                                let href = format!("/comuni/{}", c.codice_istat);
                                view! {
                                    <li>
                                        <A href=href>{format!("{} ({})", c.denominazione, c.codice_istat)}</A>
                                    </li>
                                }
                            })
                            .collect_view()}
                    </ul>
                }
            })}
        <crate::reminders::PreferencesForm preferences=reminders saved />
    }
}

/// The answer of a page that needs someone signed in (or a role they lack).
#[component]
pub fn SignInNeeded(error: AppError) -> impl IntoView {
    let anonymous = matches!(error, AppError::Unauthorized(_));
    view! {
        <ErrorNotice error />
        {anonymous.then(|| view! { <p><a href="/accedi" class="btn btn-primary">"Accedi"</a></p> })}
    }
}

#[component]
pub fn UsersPage() -> impl IntoView {
    let query = use_query_map();
    let users = Resource::new(move || query.with(|q| q.get("pagina").unwrap_or_default()), list_users);
    let feedback = Resource::new(|| (), |_| get_form_feedback());
    let outcome = move || {
        query.with(|q| match q.get("esito").as_deref() {
            Some("creato") => Some("Utente creato."),
            Some("disattivato") => Some("Utente disattivato: tutte le sue sessioni sono state chiuse."),
            _ => None,
        })
    };
    view! {
        <PageHead title="Utenti" description="Gli utenti di Traguardi, i loro ruoli e i comuni che seguono." />
        <h1>"Utenti"</h1>
        {move || outcome().map(|m| view! { <div class="alert alert-success" role="status"><p>{m}</p></div> })}
        <Suspense fallback=|| view! { <p>"Caricamento degli utenti…"</p> }>
            {move || Suspend::new(async move {
                let feedback = feedback.await.ok().flatten().filter(|f| f.form == "nuovo-utente");
                match users.await {
                    Ok(list) => view! { <UsersView list feedback /> }.into_any(),
                    Err(error) => view! { <SignInNeeded error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn UsersView(list: crate::paging::Paged<UserSummary>, feedback: Option<FormFeedback>) -> impl IntoView {
    let crate::paging::Paged { items: list, page, pages, total } = list;
    let selected_role = feedback.as_ref().map(|f| f.value("role")).unwrap_or_default();
    let count = match total {
        1 => "1 utente registrato.".to_string(),
        n => format!("{} utenti registrati, per ruolo e nome.", crate::format::int(n as i64)),
    };
    let range = crate::paging::range_words(page, list.len(), total);
    let count = if range.is_empty() { count } else { format!("{count} {range}") };
    view! {
        <p role="status">{count}</p>
        <div class="table-wrap">
        <table class="table">
            <caption>{format!("Utenti registrati ({})", crate::format::int(total as i64))}</caption>
            <thead>
                <tr>
                    <th scope="col">"Nome"</th>
                    <th scope="col">"E-mail"</th>
                    <th scope="col">"Ruolo"</th>
                    <th scope="col">"Comuni"</th>
                    <th scope="col">"Accesso"</th>
                    <th scope="col">"Stato"</th>
                </tr>
            </thead>
            <tbody>
                {list
                    .into_iter()
                    .map(|u| {
                        let access = match (u.has_password, u.fiscal_code.is_some()) {
                            (true, true) => "Password e identità digitale",
                            (true, false) => "Password (o identità digitale con la stessa e-mail)",
                            (false, true) => "Identità digitale (codice fiscale)",
                            (false, false) => "Identità digitale (e-mail)",
                        };
                        let email = u.email.clone();
                        view! {
                            <tr>
                                <td>{u.name.clone()} {u.demo.then_some(" (dimostrativo)")}</td>
                                <td>{u.email.clone()}</td>
                                <td>{u.role.code()}</td>
                                <td>{u.comuni.join(", ")}</td>
                                <td>{access}</td>
                                <td>
                                    {if u.enabled {
                                        view! {
                                            "Attivo"
                                            <form method="post" action="/utenti/disattiva" class="in-linea">
                                                <input type="hidden" name="email" value=email />
                                                <button type="submit" class="btn btn-secondary btn-sm">
                                                    "Disattiva"
                                                    <span class="visually-hidden">{format!(" {}", u.email)}</span>
                                                </button>
                                            </form>
                                        }
                                            .into_any()
                                    } else {
                                        "Disattivato".into_any()
                                    }}
                                </td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
        </div>
        <crate::paging::Pager page pages href=|p: usize| crate::paging::href("/utenti", "", p) />
        <section aria-labelledby="nuovo-utente" class="riquadro">
            <h2 id="nuovo-utente">"Nuovo utente"</h2>
            <p>
                "Chi accede con l'identità digitale viene riconosciuto dal codice fiscale o, in mancanza, dall'indirizzo e-mail. I ruoli sono assegnati solo qui, mai dal servizio di identità."
            </p>
            {feedback.clone().map(|f| view! { <ErrorSummary feedback=f /> })}
            <form method="post" action="/utenti" class="modulo" novalidate>
                <Field name="email" label="Indirizzo e-mail" kind="email" required=true feedback=feedback.clone() />
                <Field name="name" label="Nome e cognome" required=true feedback=feedback.clone() />
                <div class="campo" class:campo-errore=feedback.as_ref().and_then(|f| f.error("role")).is_some()>
                    <label for="role">"Ruolo (obbligatorio)"</label>
                    {feedback.as_ref().and_then(|f| f.error("role")).map(|e| view! { <p class="errore-campo" id="role-errore">{format!("Errore: {e}")}</p> })}
                    <select id="role" name="role" required>
                        <option value="" selected=selected_role.is_empty()>"Scegli…"</option>
                        {Role::ALL
                            .into_iter()
                            .map(|r| view! { <option value=r.code() selected=selected_role == r.code()>{r.label()}</option> })
                            .collect_view()}
                    </select>
                </div>
                <Field name="fiscal_code" label="Codice fiscale" hint="Per l'accesso con SPID, CIE o CNS.".to_string() feedback=feedback.clone() />
                <Field name="comuni" label="Comuni (codici ISTAT)" hint="Solo per il ruolo comune: uno o più codici ISTAT separati da virgola, ad esempio 072006.".to_string() feedback=feedback.clone() />
                <Field name="password" label="Password iniziale" kind="password" autocomplete="new-password" hint=format!("Facoltativa (chi entra solo con l'identità digitale non ne ha bisogno): almeno {MIN_LENGTH} caratteri.") feedback=feedback.clone() />
                <button type="submit" class="btn btn-primary">"Crea utente"</button>
            </form>
        </section>
    }
}

/// The account area of the header: "Accedi", or the person, their pages and "Esci".
#[component]
pub fn AccountNav() -> impl IntoView {
    let user = Resource::new(|| (), |_| who_am_i());
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match user.await.ok().flatten() {
                    Some(u) => view! { <SignedIn u /> }.into_any(),
                    None => view! {
                        <a href="/accedi" class="accedi">"Accedi"</a>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn SignedIn(u: CurrentUser) -> impl IntoView {
    let manager = super::may_manage_users(Some(&u));
    let feedback_reader = super::may_read_feedback(Some(&u));
    view! {
        <div class="account">
            <span class="account-nome">{format!("{} — {}", u.name, u.role.code())}</span>
            <a href="/profilo">"Profilo"</a>
            {manager.then(|| view! { <a href="/utenti">"Utenti"</a> })}
            {manager.then(|| view! { <a href="/proposte">"Proposte"</a> })}
            {manager.then(|| view! { <a href="/evidenze">"Evidenze da esaminare"</a> })}
            {manager.then(|| view! { <a href="/registro">"Registro modifiche"</a> })}
            {manager.then(|| view! { <a href="/promemoria">"Promemoria"</a> })}
            {feedback_reader.then(|| view! { <a href="/feedback/ricevuti">"Commenti ricevuti"</a> })}
            <form method="post" action="/esci" class="in-linea">
                <button type="submit" class="btn-link">"Esci"</button>
            </form>
        </div>
    }
}
