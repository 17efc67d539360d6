//! `POST /profilo/promemoria`: a person turns kinds of reminder on and off (a plain form, works
//! without JavaScript). A checked box is `KIND=si`; an unchecked one is absent, so the hidden
//! `modulo=promemoria` tells a saved form with every box unchecked from an empty request.

use axum::{
    extract::{Request, State},
    response::{IntoResponse, Response},
};
use serde::Deserialize;

use super::Kind;
use crate::{auth::redirect::see_other, error::AppError, state::AppState};

#[derive(Debug, Default, Deserialize)]
pub struct PreferencesForm {
    #[serde(default)]
    pub modulo: String,
    #[serde(default)]
    pub scadenza: Option<String>,
    #[serde(default)]
    pub ritardo: Option<String>,
    #[serde(default)]
    pub settimanale: Option<String>,
    #[serde(default)]
    pub mensile: Option<String>,
}

impl PreferencesForm {
    fn value(&self, kind: Kind) -> Option<&str> {
        match kind {
            Kind::Scadenza => self.scadenza.as_deref(),
            Kind::Ritardo => self.ritardo.as_deref(),
            Kind::Settimanale => self.settimanale.as_deref(),
            Kind::Mensile => self.mensile.as_deref(),
        }
    }
}

/// The kinds turned off, from the form: every kind of `role` whose box is not checked. A value
/// other than `si`, or a box of a kind the role does not receive, is refused (400).
pub fn kinds_off(form: &PreferencesForm, role: crate::auth::Role) -> Result<Vec<Kind>, AppError> {
    if form.modulo != "promemoria" {
        return Err(AppError::BadRequest(
            "Il modulo dei promemoria è incompleto: ricarica la pagina del profilo e riprova.".into(),
        ));
    }
    let mine = Kind::of_role(role);
    let mut off = Vec::new();
    for kind in Kind::ALL {
        match (form.value(kind), mine.contains(&kind)) {
            (Some("si"), true) => {}
            (None, true) => off.push(kind),
            (None, false) => {}
            (Some(_), false) => {
                return Err(AppError::BadRequest(format!(
                    "Il tuo profilo non riceve il tipo di promemoria «{}».",
                    kind.label()
                )))
            }
            (Some(_), true) => {
                return Err(AppError::BadRequest(format!(
                    "Valore non valido per «{}»: la casella è selezionata («si») o assente.",
                    kind.label()
                )))
            }
        }
    }
    Ok(off)
}

pub async fn save_preferences(State(state): State<AppState>, req: Request) -> Response {
    let user = match crate::auth::session::viewer_of(req.extensions()) {
        Some(u) => u,
        None => return AppError::sign_in_required().into_response(),
    };
    let (_, form) = match crate::auth::routes::split_form::<PreferencesForm>(&state, req).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let off = match kinds_off(&form, user.role) {
        Ok(off) => off,
        Err(e) => return e.into_response(),
    };
    let codes: Vec<&str> = off.iter().map(|k| k.code()).collect();
    match crate::data::reminders::set_optouts(&state.db, user.id, &codes).await {
        Ok(()) => {
            tracing::info!(user = user.id, off = ?codes, "reminder preferences saved");
            see_other("/profilo?esito=promemoria#promemoria", Vec::new())
        }
        Err(e) => AppError::from(e).into_response(),
    }
}
