//! Server functions of sign-in: who is signed in, a refused form's feedback, the profile and
//! the users list. All reads (POST, as every server function here); writes are plain routes.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::{CurrentUser, FormFeedback, Role};
#[cfg(feature = "ssr")]
use crate::error::set_status_on_error;
use crate::error::AppError;

/// The signed-in person, if any (their own data only).
#[server(endpoint = "utente-corrente")]
pub async fn who_am_i() -> Result<Option<CurrentUser>, AppError> {
    Ok(super::guard::viewer())
}

/// The feedback of a refused form, when this page is its answer (see
/// `auth::routes::render_page_with`); `None` on every ordinary request.
#[server(endpoint = "esito-modulo")]
pub async fn get_form_feedback() -> Result<Option<FormFeedback>, AppError> {
    Ok(use_context::<FormFeedback>())
}

/// A comune by code and name, for links.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComuneRef {
    pub codice_istat: String,
    pub denominazione: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    pub user: CurrentUser,
    pub comuni: Vec<ComuneRef>,
    /// The kinds of reminder of the person's role, and whether they receive each (their own
    /// choice: private, shown to them alone).
    pub reminders: Vec<crate::reminders::Preference>,
}

/// The signed-in person's own page.
#[server(endpoint = "profilo")]
pub async fn get_profile() -> Result<Profile, AppError> {
    let result = async {
        let user = super::guard::require_signed_in()?;
        let snapshot = crate::state::app_state()?.snapshot().await?;
        let comuni = user
            .comuni
            .iter()
            .map(|c| ComuneRef {
                codice_istat: c.clone(),
                denominazione: snapshot.find(c).map(|e| e.record.denominazione.clone()).unwrap_or_default(),
            })
            .collect();
        let off = crate::data::reminders::optouts_of(&crate::state::app_state()?.db, user.id).await?;
        let reminders = crate::reminders::Kind::of_role(user.role)
            .into_iter()
            .map(|kind| crate::reminders::Preference { kind, on: !off.iter().any(|o| o == kind.code()) })
            .collect();
        Ok(Profile { user, comuni, reminders })
    }
    .await;
    set_status_on_error(&result);
    result
}

/// One account on the users page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserSummary {
    pub email: String,
    pub name: String,
    pub role: Role,
    pub fiscal_code: Option<String>,
    pub enabled: bool,
    pub demo: bool,
    pub has_password: bool,
    pub comuni: Vec<String>,
}

/// One page (`pagina`, empty: the first) of the accounts, by role and name (the Region only).
#[server(endpoint = "utenti")]
pub async fn list_users(
    #[server(default)] pagina: String,
) -> Result<crate::paging::Paged<UserSummary>, AppError> {
    let result = async {
        super::guard::require_users_manager()?;
        let page = crate::paging::parse_page(&pagina).map_err(AppError::BadRequest)?;
        let state = crate::state::app_state()?;
        let (users, page, pages, total) = crate::paging::fetch_page(page, |offset| {
            crate::data::accounts::users_page(&state.db, crate::paging::PAGE_SIZE, offset)
        })
        .await?;
        let items = users
            .into_iter()
            .map(|u| UserSummary {
                email: u.email,
                name: u.name,
                role: u.role,
                fiscal_code: u.fiscal_code,
                enabled: u.enabled,
                demo: u.demo,
                has_password: u.has_password,
                comuni: u.comuni,
            })
            .collect();
        Ok(crate::paging::Paged { items, page, pages, total })
    }
    .await;
    set_status_on_error(&result);
    result
}
