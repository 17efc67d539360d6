//! The site's own pages, linked from the footer of every page: the accessibility statement
//! (`/accessibilita`), the privacy notes (`/privacy`), the legal notes (`/note-legali`) and the
//! feedback form (`/feedback`), whose messages the Region reads on `/feedback/ricevuti`.
//!
//! - [`FeedbackForm`] and its rules ([`validate_feedback`]): shared with the browser.
//! - `routes`: `POST /feedback`, a plain route (the form works without JavaScript), server only.
//! - [`server`]: the server function of the received messages; [`ui`]: the pages.

use serde::{Deserialize, Serialize};

use crate::auth::FieldError;

pub mod server;
pub mod ui;

#[cfg(feature = "ssr")]
pub mod routes;

/// The longest message accepted, in characters (a line break counts as one).
pub const MAX_MESSAGE: usize = 2000;
/// The longest answer to "Cosa stavi cercando di fare?".
pub const MAX_TASK: usize = 200;
/// The longest page path kept with a message.
pub const MAX_PAGE: usize = 300;
/// The longest e-mail address (RFC 5321).
pub const MAX_EMAIL: usize = 254;
/// The id of the form in [`crate::auth::FormFeedback::form`].
pub const FORM_ID: &str = "commento";

/// The feedback form as posted; input names are the page's contract (`?pagina=` comes from the
/// footer link).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedbackForm {
    #[serde(default, rename = "pagina")]
    pub page: String,
    #[serde(default, rename = "attivita")]
    pub task: String,
    #[serde(default, rename = "valutazione")]
    pub rating: String,
    #[serde(default, rename = "messaggio")]
    pub message: String,
    #[serde(default)]
    pub email: String,
}

/// A checked [`FeedbackForm`], ready to store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidFeedback {
    /// A path of this site, or empty.
    pub page: String,
    pub task: Option<String>,
    /// 1 to 5.
    pub rating: Option<i64>,
    pub message: String,
    /// Lower case.
    pub email: Option<String>,
}

/// The page a message came from: a path of this site (never another site's address), else empty.
pub fn page_path(raw: &str) -> String {
    let p = raw.trim();
    if p.starts_with('/')
        && !p.starts_with("//")
        && !p.starts_with("/\\")
        && p.chars().count() <= MAX_PAGE
        && !p.chars().any(char::is_control)
    {
        p.to_string()
    } else {
        String::new()
    }
}

/// The footer's link to the feedback form, naming the page it is on (`/feedback?pagina=/comuni`).
pub fn feedback_href(path: &str) -> String {
    let mut href = String::from("/feedback?pagina=");
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            href.push(b as char);
        } else {
            href.push_str(&format!("%{b:02X}"));
        }
    }
    href
}

/// Checks the feedback form field by field; the messages are the page's, in Italian.
pub fn validate_feedback(form: &FeedbackForm) -> Result<ValidFeedback, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut err = |field: &str, message: String| errors.push(FieldError { field: field.into(), message });

    let task = form.task.trim();
    let task_len = task.chars().count();
    if task_len > MAX_TASK {
        err(
            "attivita",
            format!("Questa risposta può avere al massimo {MAX_TASK} caratteri (ne ha {task_len})."),
        );
    }
    let rating = match form.rating.trim() {
        "" => None,
        r => match r.parse::<i64>() {
            Ok(n @ 1..=5) => Some(n),
            _ => {
                err("valutazione", "La valutazione va da 1 a 5: scegline una o nessuna.".into());
                None
            }
        },
    };
    // Browsers send a textarea's line breaks as CR LF: count each as one character, as typed.
    let message = form.message.replace("\r\n", "\n");
    let message = message.trim();
    let message_len = message.chars().count();
    if message.is_empty() {
        err("messaggio", "Scrivi il tuo messaggio.".into());
    } else if message_len > MAX_MESSAGE {
        err(
            "messaggio",
            format!("Il messaggio può avere al massimo {MAX_MESSAGE} caratteri (ne ha {message_len}): accorcialo."),
        );
    }
    let email = form.email.trim().to_lowercase();
    if !email.is_empty() && (email.len() > MAX_EMAIL || !crate::auth::is_plausible_email(&email)) {
        err(
            "email",
            format!("«{email}» non è un indirizzo e-mail valido: correggilo o lascia vuoto il campo."),
        );
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(ValidFeedback {
        page: page_path(&form.page),
        task: (!task.is_empty()).then(|| task.to_string()),
        rating,
        message: message.to_string(),
        email: (!email.is_empty()).then_some(email),
    })
}

/// One received message, as the Region's page shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceivedFeedback {
    pub id: i64,
    /// `dd/mm/yyyy hh:mm`, in the server's time zone (formatted there: the browser's may differ).
    pub received: String,
    pub page: String,
    pub task: Option<String>,
    pub rating: Option<i64>,
    pub message: String,
    pub email: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(message: &str) -> FeedbackForm {
        FeedbackForm { message: message.into(), ..FeedbackForm::default() }
    }

    fn fields(result: Result<ValidFeedback, Vec<FieldError>>) -> Vec<String> {
        result.err().unwrap_or_default().into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn a_message_alone_is_enough_and_optional_fields_become_none() {
        let v = validate_feedback(&form("  Il filtro per provincia non funziona.  ")).unwrap();
        assert_eq!(v.message, "Il filtro per provincia non funziona.");
        assert_eq!((v.task, v.rating, v.email, v.page.as_str()), (None, None, None, ""));
    }

    #[test]
    fn every_field_is_checked() {
        let full = FeedbackForm {
            page: "/comuni?provincia=LE".into(),
            task: "Cercavo Lecce".into(),
            rating: "4".into(),
            message: "Ok".into(),
            email: " Persona@Example.IT ".into(),
        };
        let v = validate_feedback(&full).unwrap();
        assert_eq!(v.page, "/comuni?provincia=LE");
        assert_eq!((v.rating, v.email.as_deref()), (Some(4), Some("persona@example.it")));
        assert_eq!(fields(validate_feedback(&form(""))), ["messaggio"]);
        assert_eq!(fields(validate_feedback(&form(" \r\n "))), ["messaggio"]);
        for rating in ["0", "6", "7", "-1", "tre", "1.5"] {
            let f = FeedbackForm { rating: rating.into(), ..form("x") };
            assert_eq!(fields(validate_feedback(&f)), ["valutazione"], "{rating}");
        }
        for email in ["nessuna", "@example.it", "a@b", "a b@example.it"] {
            let f = FeedbackForm { email: email.into(), ..form("x") };
            assert_eq!(fields(validate_feedback(&f)), ["email"], "{email}");
        }
        let f = FeedbackForm { task: "x".repeat(MAX_TASK + 1), ..form("x") };
        assert_eq!(fields(validate_feedback(&f)), ["attivita"]);
    }

    #[test]
    fn the_length_limit_counts_characters_and_line_breaks_once() {
        assert!(validate_feedback(&form(&"è".repeat(MAX_MESSAGE))).is_ok());
        assert_eq!(fields(validate_feedback(&form(&"è".repeat(MAX_MESSAGE + 1)))), ["messaggio"]);
        // 1000 lines sent as CR LF: 1999 characters as typed.
        let lines = vec!["a"; 1000].join("\r\n");
        assert!(validate_feedback(&form(&lines)).is_ok());
    }

    #[test]
    fn the_footer_link_carries_the_page_encoded() {
        assert_eq!(feedback_href("/comuni/073013"), "/feedback?pagina=/comuni/073013");
        assert_eq!(feedback_href("/a b&c=è#x"), "/feedback?pagina=/a%20b%26c%3D%C3%A8%23x");
    }

    #[test]
    fn only_paths_of_this_site_are_kept_as_the_page() {
        assert_eq!(page_path("/comuni/073013"), "/comuni/073013");
        for bad in ["https://evil.example/", "//evil.example", "/\\evil", "comuni", "/a\nb"] {
            assert_eq!(page_path(bad), "", "{bad}");
        }
        assert_eq!(page_path(&format!("/{}", "a".repeat(MAX_PAGE))), "");
    }
}
