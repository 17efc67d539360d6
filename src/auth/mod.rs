//! Sign-in, roles and sessions.
//!
//! Who may do what is decided here, in plain functions over [`Viewer`], and checked on the server
//! by every route and server function ([`guard`]); the UI only hides what the server would refuse
//! anyway. Roles are Traguardi's own data (table `app_user`): the identity provider only says
//! *who* someone is, never what they may do.
//!
//! - [`Role`], [`CurrentUser`], the access rules: shared with the browser.
//! - `config`, `password`, `session`, `limit`, `oidc`, `routes`, `guard`: server only.
//! - [`server`]: server functions; [`ui`]: the sign-in, profile and users pages.

use serde::{Deserialize, Serialize};

pub mod server;
pub mod ui;

#[cfg(feature = "ssr")]
pub mod cli;
#[cfg(feature = "ssr")]
pub mod config;
#[cfg(feature = "ssr")]
pub mod guard;
#[cfg(feature = "ssr")]
pub mod limit;
#[cfg(feature = "ssr")]
pub mod oidc;
#[cfg(feature = "ssr")]
pub mod password;
#[cfg(feature = "ssr")]
pub mod redirect;
#[cfg(feature = "ssr")]
pub mod routes;
#[cfg(feature = "ssr")]
pub mod session;
#[cfg(feature = "ssr")]
pub mod users;

#[cfg(test)]
mod tests;

/// What a signed-in person is to Traguardi.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Role {
    /// Regional project manager: reads and writes everything, manages users.
    Regione,
    /// A municipality's operator, bound to one or more comuni.
    Comune,
    /// Councillor or staff: reads everything, writes nothing.
    Assessore,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Regione, Role::Comune, Role::Assessore];

    /// The code stored in the database and typed on the command line.
    pub fn code(self) -> &'static str {
        match self {
            Role::Regione => "regione",
            Role::Comune => "comune",
            Role::Assessore => "assessore",
        }
    }

    pub fn from_code(code: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.code().eq_ignore_ascii_case(code.trim()))
    }

    /// The name shown to people.
    pub fn label(self) -> &'static str {
        match self {
            Role::Regione => "Regione (gestione del programma)",
            Role::Comune => "Comune (referente)",
            Role::Assessore => "Assessore (consultazione)",
        }
    }
}

/// The signed-in person, as the pages and server functions see them. It carries no secret: the
/// password hash never leaves the data layer (its type is not serialisable).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CurrentUser {
    pub id: i64,
    pub name: String,
    pub email: String,
    pub role: Role,
    /// ISTAT codes of the comuni a `comune` user operates for (empty for the other roles).
    pub comuni: Vec<String>,
    /// A demo account (only valid on a demo database).
    pub demo: bool,
}

/// Whoever is asking: `None` is the public.
pub type Viewer = Option<CurrentUser>;

/// Reads the non-public data of one comune (its referents today; blockers, notes and evidence
/// later): the Region and assessors for every comune, a `comune` user for its own.
pub fn may_read_private(viewer: Option<&CurrentUser>, codice_istat: &str) -> bool {
    match viewer {
        Some(u) => match u.role {
            Role::Regione | Role::Assessore => true,
            Role::Comune => u.comuni.iter().any(|c| c == codice_istat),
        },
        None => false,
    }
}

/// Proposes changes and uploads evidence for one comune: the Region, or the comune's own users.
/// Assessors never write.
pub fn may_act_for(viewer: Option<&CurrentUser>, codice_istat: &str) -> bool {
    match viewer {
        Some(u) => match u.role {
            Role::Regione => true,
            Role::Comune => u.comuni.iter().any(|c| c == codice_istat),
            Role::Assessore => false,
        },
        None => false,
    }
}

/// Selects comuni by their open blockers (the `bloccato` filter): only who reads every comune's
/// private data, the Region and assessors. A comune's user reads its own blockers, but a filter
/// over all comuni would tell which others have one.
pub fn may_filter_by_blockers(viewer: Option<&CurrentUser>) -> bool {
    viewer.is_some_and(|u| matches!(u.role, Role::Regione | Role::Assessore))
}

/// Reads the programme's lists of every comune (the whole trail, the review queue, the
/// proposals) and their exports: the Region, and assessors, who read everything and write
/// nothing.
pub fn may_read_all(viewer: Option<&CurrentUser>) -> bool {
    viewer.is_some_and(|u| matches!(u.role, Role::Regione | Role::Assessore))
}

/// Kinds of record (the trail's `entity`) that only the Region reads: its own notes on a comune
/// (the workspace never shows them to anyone else) and accounts (people's e-mail addresses and
/// roles, managed on `/utenti`).
pub const REGION_ONLY_RECORDS: [&str; 2] = ["comune_note", "app_user"];

/// The kinds of trail entry `viewer` may not see: a trail entry is visible to exactly those who
/// may read the record it describes. Every path that shows the trail (pages, server functions,
/// exports) passes this to `data::audit::list`; which comuni's entries a person reads at all is
/// `may_read_private` (one comune) or `may_read_all` (the whole trail).
pub fn hidden_trail_entities(viewer: Option<&CurrentUser>) -> &'static [&'static str] {
    match viewer {
        Some(u) if u.role == Role::Regione => &[],
        _ => &REGION_ONLY_RECORDS,
    }
}

/// Creates, lists and disables accounts: the Region only.
pub fn may_manage_users(viewer: Option<&CurrentUser>) -> bool {
    viewer.is_some_and(|u| u.role == Role::Regione)
}

/// Reads the messages sent with the feedback form: the Region only.
pub fn may_read_feedback(viewer: Option<&CurrentUser>) -> bool {
    viewer.is_some_and(|u| u.role == Role::Regione)
}

/// A plausible e-mail address (lower-cased and trimmed by the caller): something before the `@`,
/// a dot after it, no spaces. The address is proven by the mail that reaches it, not here.
pub fn is_plausible_email(email: &str) -> bool {
    let at = email.find('@');
    at.is_some_and(|i| i > 0 && i < email.len() - 1 && email[i + 1..].contains('.'))
        && !email.contains(char::is_whitespace)
}

/// A message about one field of a form, shown next to it and in the summary at the top.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    /// The `name` of the input.
    pub field: String,
    pub message: String,
}

/// What a refused plain-HTML form gets back: the page is rendered again (no JavaScript needed)
/// with the messages and the values typed, so nothing is lost. Passwords are never echoed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormFeedback {
    /// Which form on the page (`accesso`, `nuovo-utente`, …).
    pub form: String,
    /// The summary at the top of the form.
    pub message: String,
    pub errors: Vec<FieldError>,
    /// The values typed, by input name.
    pub values: Vec<(String, String)>,
}

impl FormFeedback {
    pub fn value(&self, name: &str) -> String {
        self.values.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_default()
    }

    pub fn error(&self, name: &str) -> Option<String> {
        self.errors.iter().find(|e| e.field == name).map(|e| e.message.clone())
    }
}

/// The account form of the users page (and the fields of `traguardi user add`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserForm {
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub role: String,
    #[serde(default)]
    pub fiscal_code: String,
    /// ISTAT codes separated by commas, spaces or new lines.
    #[serde(default)]
    pub comuni: String,
    #[serde(default)]
    pub password: String,
}

/// A checked [`UserForm`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidUser {
    pub email: String,
    pub name: String,
    pub role: Role,
    pub fiscal_code: Option<String>,
    pub comuni: Vec<String>,
    pub password: Option<String>,
}

/// Checks the account form field by field (the registry lookup of the comuni is the caller's).
/// ISTAT codes that lost their leading zero in a spreadsheet (`72006`) are padded.
pub fn validate_user_form(form: &UserForm) -> Result<ValidUser, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut err = |field: &str, message: String| errors.push(FieldError { field: field.into(), message });
    let email = form.email.trim().to_lowercase();
    if email.is_empty() {
        err("email", "Indica l'indirizzo e-mail.".into());
    } else if !is_plausible_email(&email) {
        err("email", format!("«{email}» non è un indirizzo e-mail valido."));
    }
    let name = form.name.trim().to_string();
    if name.is_empty() {
        err("name", "Indica nome e cognome.".into());
    }
    let role = Role::from_code(&form.role);
    if role.is_none() {
        err("role", "Scegli il ruolo: regione, comune o assessore.".into());
    }
    let fiscal_code = form.fiscal_code.trim().to_uppercase();
    let fiscal_code = if fiscal_code.is_empty() {
        None
    } else if fiscal_code.len() == 16 && fiscal_code.bytes().all(|b| b.is_ascii_alphanumeric()) {
        Some(fiscal_code)
    } else {
        err("fiscal_code", "Il codice fiscale deve avere 16 lettere e cifre.".into());
        None
    };
    let mut comuni = Vec::new();
    let mut bad_code = false;
    for raw in
        form.comuni.split(|c: char| c == ',' || c == ';' || c.is_whitespace()).filter(|s| !s.is_empty())
    {
        if raw.len() <= 6 && raw.bytes().all(|b| b.is_ascii_digit()) {
            let code = format!("{raw:0>6}");
            if !comuni.contains(&code) {
                comuni.push(code);
            }
        } else {
            bad_code = true;
            err("comuni", format!("«{raw}» non è un codice ISTAT (6 cifre, ad esempio 072006)."));
        }
    }
    match role {
        Some(Role::Comune) if comuni.is_empty() && !bad_code => {
            err("comuni", "Un utente del comune deve avere almeno un comune (codice ISTAT).".into())
        }
        Some(Role::Regione | Role::Assessore) if !comuni.is_empty() => {
            err("comuni", "Solo gli utenti con ruolo comune sono legati a dei comuni.".into())
        }
        _ => {}
    }
    let password = if form.password.is_empty() { None } else { Some(form.password.clone()) };
    if let Some(p) = &password {
        if let Err(m) = check_password_rule(p, &email) {
            err("password", m);
        }
    }
    match role {
        Some(role) if errors.is_empty() => Ok(ValidUser { email, name, role, fiscal_code, comuni, password }),
        _ => Err(errors),
    }
}

/// The shortest password accepted.
pub const MIN_LENGTH: usize = 12;
const MAX_LENGTH: usize = 128;

/// The password rule, said in Italian: length (long passphrases beat symbol rules, as NIST
/// SP 800-63B says), not the e-mail address, not one repeated character.
pub fn check_password_rule(password: &str, email: &str) -> Result<(), String> {
    let len = password.chars().count();
    if len < MIN_LENGTH {
        return Err(format!("La password deve avere almeno {MIN_LENGTH} caratteri (ne ha {len})."));
    }
    if len > MAX_LENGTH {
        return Err(format!("La password può avere al massimo {MAX_LENGTH} caratteri."));
    }
    let lower = password.to_lowercase();
    let local = email.split('@').next().unwrap_or_default().to_lowercase();
    if local.len() >= 4 && lower.contains(&local) {
        return Err("La password non deve contenere il proprio indirizzo e-mail.".into());
    }
    let mut distinct: Vec<char> = password.chars().collect();
    distinct.sort_unstable();
    distinct.dedup();
    if distinct.len() < 5 {
        return Err("La password è troppo prevedibile: usa almeno 5 caratteri diversi.".into());
    }
    Ok(())
}

/// The sentence for an `?errore=` code the sign-in routes redirect with.
pub fn sign_in_error(code: &str) -> Option<&'static str> {
    Some(match code {
        "oidc-non-registrato" => {
            "La tua identità digitale è valida, ma non risulta registrata in Traguardi. Chiedi alla \
             Regione di abilitarti indicando il tuo codice fiscale o indirizzo e-mail."
        }
        "oidc-non-valido" => {
            "L'accesso con l'identità digitale non è andato a buon fine (richiesta scaduta o non \
             valida). Riprova dall'inizio."
        }
        "oidc-annullato" => "Accesso annullato presso il servizio di identità digitale.",
        "oidc-non-disponibile" => {
            "Il servizio di identità digitale della Regione non risponde. Riprova tra qualche minuto \
             o accedi con e-mail e password."
        }
        "sessione-scaduta" => "La sessione è scaduta: accedi di nuovo.",
        _ => return None,
    })
}
