//! `POST /comuni/{codice}/gestione/{azione}`: every form of the workspace. Plain HTML forms (no
//! JavaScript needed): a saved change redirects back to the page (303); a refused one renders
//! the page again with the messages next to the fields and the values typed (400); a conflict
//! renders it with the current values and what the person had typed in the summary (409).
//! Cross-site posts are refused by the `CsrfLayer` (`security.rs`), like every form.

use axum::{
    extract::{Path, Request, State},
    http::StatusCode,
    response::{IntoResponse, Response},
};

use super::{
    reason, validate_adhesion, validate_blocker, validate_count, validate_decision, validate_note,
    validate_resolution, validate_service, validate_verification, version, Context, Fields,
};
use crate::{
    auth::{
        may_act_for,
        redirect::{form_id, see_other},
        routes::{render_page_with, split_form},
        FieldError, FormFeedback, Role,
    },
    data::workspace::{write_tx, WriteError},
    error::AppError,
    state::AppState,
};

/// Why a form was not saved.
enum Refusal {
    Invalid(Vec<FieldError>),
    Write(WriteError),
    App(AppError),
}

impl From<Vec<FieldError>> for Refusal {
    fn from(e: Vec<FieldError>) -> Self {
        Refusal::Invalid(e)
    }
}

impl From<WriteError> for Refusal {
    fn from(e: WriteError) -> Self {
        Refusal::Write(e)
    }
}

impl From<AppError> for Refusal {
    fn from(e: AppError) -> Self {
        Refusal::App(e)
    }
}

fn missing_version() -> Refusal {
    Refusal::App(AppError::BadRequest("Il modulo è incompleto: ricarica la pagina e riprova.".into()))
}

fn id_field(f: &Fields, name: &str) -> Result<i64, Refusal> {
    f.get(name).and_then(|s| s.trim().parse().ok()).ok_or_else(missing_version)
}

/// The fields as typed, for the summary of a conflict (hidden fields left out).
fn typed(fields: &Fields) -> String {
    let mut pairs: Vec<_> = fields
        .iter()
        .filter(|(k, v)| {
            !matches!(k.as_str(), "modulo" | "versione" | "id" | "piattaforma" | "obiettivo")
                && !v.trim().is_empty()
        })
        .map(|(k, v)| format!("{k} «{}»", v.trim()))
        .collect();
    pairs.sort();
    pairs.join(", ")
}

/// `POST /comuni/{codice}/gestione/{azione}`.
pub async fn submit(
    State(state): State<AppState>,
    Path((codice, azione)): Path<(String, String)>,
    req: Request,
) -> Response {
    let (parts, fields) = match split_form::<Fields>(&state, req).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let viewer = crate::auth::session::viewer_of(&parts.extensions);
    let Some(user) = viewer else {
        return AppError::sign_in_required().into_response();
    };
    // Checked before anything is written: it comes back in the redirect's `Location`, and a
    // value that cannot (a vertical tab) used to fail the answer after the change was saved,
    // so a retry saved it twice. An unusable id falls back to the action's own.
    let form_id = match fields.get("modulo") {
        Some(raw) => form_id(raw).map(str::to_string).unwrap_or_else(|| {
            tracing::warn!(modulo = ?raw, "workspace form with an unusable form id");
            azione.clone()
        }),
        None => azione.clone(),
    };
    let page = format!("/comuni/{codice}/gestione");
    let result = save(&state, &user, &codice, &azione, &fields).await;
    match result {
        Ok(()) => {
            tracing::info!(comune = %codice, azione = %azione, "workspace change saved");
            // `codice` and `azione` were matched against the registry and the known actions.
            see_other(&format!("{page}?salvato={form_id}#{form_id}"), Vec::new())
        }
        Err(Refusal::Invalid(errors)) => {
            let feedback = FormFeedback {
                form: form_id,
                message: "Le modifiche non sono state salvate: correggi i campi indicati.".into(),
                errors,
                values: fields.into_iter().collect(),
            };
            render_page_with(&state, &parts, &page, feedback, StatusCode::BAD_REQUEST).await
        }
        Err(Refusal::Write(WriteError::Duplicate(field, message) | WriteError::Refused(field, message))) => {
            let feedback = FormFeedback {
                form: form_id,
                message: "Le modifiche non sono state salvate: correggi i campi indicati.".into(),
                errors: vec![FieldError { field: field.into(), message }],
                values: fields.into_iter().collect(),
            };
            render_page_with(&state, &parts, &page, feedback, StatusCode::BAD_REQUEST).await
        }
        Err(Refusal::Write(WriteError::Conflict)) => {
            let typed = typed(&fields);
            let feedback = FormFeedback {
                form: form_id,
                message: format!(
                    "Le modifiche non sono state salvate: un altro utente ha modificato questi dati dopo che hai aperto \
                     la pagina. Il modulo mostra ora i valori attuali; controllali e, se serve, salva di nuovo.{}",
                    if typed.is_empty() { String::new() } else { format!(" I valori che avevi inserito: {typed}.") }
                ),
                errors: Vec::new(),
                values: Vec::new(),
            };
            render_page_with(&state, &parts, &page, feedback, StatusCode::CONFLICT).await
        }
        Err(Refusal::Write(WriteError::NotFound)) => {
            AppError::not_found("Il dato da modificare non esiste più: ricarica la pagina.").into_response()
        }
        Err(Refusal::Write(WriteError::Db(e))) => AppError::from(e).into_response(),
        Err(Refusal::App(e)) => e.into_response(),
    }
}

async fn save(
    state: &AppState,
    user: &crate::auth::CurrentUser,
    codice: &str,
    azione: &str,
    f: &Fields,
) -> Result<(), Refusal> {
    // Proposals are the comune's own users' way in; everything else is the Region's.
    let allowed = match azione {
        "proposta" => may_act_for(Some(user), codice),
        _ => user.role == Role::Regione,
    };
    if !allowed {
        return Err(AppError::Forbidden(if user.role == Role::Comune {
            "Il tuo profilo può proporre servizi per i propri comuni; le altre modifiche sono della Regione."
                .into()
        } else {
            "Il tuo profilo non può modificare i dati di questo comune.".into()
        })
        .into());
    }
    let snapshot = state.snapshot().await?;
    if snapshot.find(codice).is_none() {
        return Err(AppError::not_found(format!(
            "Comune non trovato: nessun comune ha il codice ISTAT «{codice}»."
        ))
        .into());
    }
    let programme = snapshot.programme.code.clone();
    let ctx = Context {
        programme_start: snapshot.programme.start,
        history_from: None,
        today: crate::evaluation::today(),
        taxonomy: crate::data::workspace::taxonomy_codes(&state.db).await.map_err(AppError::from)?,
        objectives: snapshot.programme.objectives.iter().map(|o| o.code.clone()).collect(),
        saldo_renunciation_limit: snapshot.programme.saldo_renunciation_limit(),
    };
    let actor = user.email.clone();
    let db = &state.db;
    match azione {
        "adesione" => {
            let v = validate_adhesion(f, &ctx)?;
            let expected = version(f).ok_or_else(missing_version)?;
            write_tx!(db, tx => tx.set_adhesion_in(&actor, &programme, codice, &v, expected, reason(f)).await?)?;
        }
        "servizio" => {
            let v = validate_service(f, &ctx)?;
            match f.get("id").filter(|s| !s.trim().is_empty()) {
                Some(_) => {
                    let id = id_field(f, "id")?;
                    let expected = version(f).ok_or_else(missing_version)?;
                    write_tx!(db, tx => tx.update_service_in(&actor, codice, id, expected, &v, reason(f)).await?)?;
                }
                None => {
                    write_tx!(db, tx => tx.add_service_in(&actor, codice, &v, reason(f)).await?)?;
                }
            }
        }
        "conteggio" => {
            let v = validate_count(f, &ctx)?;
            let expected = version(f).ok_or_else(missing_version)?;
            write_tx!(db, tx => tx.set_count_in(&actor, codice, &v, expected, None).await?)?;
        }
        "verifica" => {
            let v = validate_verification(f, &ctx)?;
            let expected = version(f).ok_or_else(missing_version)?;
            let today = ctx.today;
            write_tx!(db, tx => tx.set_verification_in(&actor, &programme, codice, &v, expected, today).await?)?;
        }
        "blocco" => {
            let v = validate_blocker(f, &ctx)?;
            write_tx!(db, tx => tx.add_blocker_in(&actor, &programme, codice, &v).await?)?;
        }
        "blocco-risolto" => {
            let id = id_field(f, "id")?;
            let expected = version(f).ok_or_else(missing_version)?;
            let records = crate::data::workspace::comune_records(db, &programme, codice)
                .await
                .map_err(AppError::from)?;
            let blocker = records.blockers.iter().find(|b| b.id == id).ok_or(WriteError::NotFound)?;
            let day = validate_resolution(f, &ctx, blocker.opened_on)?;
            write_tx!(db, tx => tx.resolve_blocker_in(&actor, codice, id, expected, day).await?)?;
        }
        "nota" => {
            let body = validate_note(f)?;
            write_tx!(db, tx => tx.add_note_in(&actor, codice, &body).await?)?;
        }
        "proposta" => {
            let v = validate_service(f, &ctx)?;
            // With `id`, a change of that existing service; without, a new service.
            let target = match f.get("id").map(|s| s.trim()).filter(|s| !s.is_empty()) {
                None => None,
                Some(_) => Some(id_field(f, "id")?),
            };
            write_tx!(db, tx => tx.propose_in(&actor, codice, &v, target).await?)?;
        }
        "proposta-decisione" => {
            let (accept, why) = validate_decision(f)?;
            let id = id_field(f, "id")?;
            let expected = version(f).ok_or_else(missing_version)?;
            write_tx!(db, tx => tx.decide_in(&actor, codice, id, expected, accept, why).await?)?;
        }
        _ => return Err(AppError::not_found("Azione sconosciuta.").into()),
    }
    Ok(())
}
