//! The free-text search of `/comuni`: by name, ISTAT code or cadastral code, with accents,
//! case and punctuation not mattering (`nardo` finds Nardò, `sant agata` finds Sant'Agata di
//! Puglia, `073013` finds Martina Franca).
//!
//! Accents are folded by a small explicit table instead of a crate such as `deunicode`: the
//! names of the comuni are Italian (the registry's only non-ASCII letters are à è é ì ò ù) and
//! a manager may type the odd other Latin accent; an explicit table covers that, is the same in
//! the server and in the browser bundle, and adds no dependency. Letters outside the table are
//! kept as they are (lowercased), so an unusual name still matches itself.

use serde::{Deserialize, Serialize};

/// The longest search accepted, in characters: longer is a typing accident (or a probe).
pub const MAX_SEARCH_CHARS: usize = 100;

/// The letter without its accent, for the Latin letters a name or a search may carry.
fn fold(c: char) -> char {
    match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ă' | 'ą' => 'a',
        'ç' | 'ć' | 'č' => 'c',
        'ď' | 'đ' => 'd',
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ė' | 'ę' | 'ě' => 'e',
        'ì' | 'í' | 'î' | 'ï' | 'ī' | 'į' | 'ı' => 'i',
        'ł' | 'ľ' | 'ĺ' => 'l',
        'ñ' | 'ń' | 'ň' => 'n',
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ő' => 'o',
        'ŕ' | 'ř' => 'r',
        'ś' | 'š' | 'ş' | 'ș' => 's',
        'ť' | 'ţ' | 'ț' => 't',
        'ù' | 'ú' | 'û' | 'ü' | 'ū' | 'ů' | 'ű' | 'ų' => 'u',
        'ý' | 'ÿ' => 'y',
        'ź' | 'ż' | 'ž' => 'z',
        c => c,
    }
}

/// The form in which names and searches are compared: lowercase, accents folded, every
/// apostrophe, hyphen or other punctuation a space, runs of spaces collapsed, trimmed.
/// `Sant'Agata di Puglia` → `sant agata di puglia`; `  NARDÒ ` → `nardo`.
pub fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut pending_space = false;
    for c in text.chars().flat_map(char::to_lowercase).map(fold) {
        if c.is_alphanumeric() {
            if pending_space && !out.is_empty() {
                out.push(' ');
            }
            pending_space = false;
            out.push(c);
        } else {
            // Spaces, apostrophes (' ’), hyphens, dots, slashes…: word separators.
            pending_space = true;
        }
    }
    out
}

/// A validated search: what was typed (trimmed, for the search box and the links) and its
/// normalized form (for matching).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Search {
    text: String,
    key: String,
}

impl Search {
    /// `None` when nothing searchable is left (empty, or only punctuation).
    pub fn new(text: &str) -> Option<Search> {
        let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
        let key = normalize(&text);
        (!key.is_empty()).then_some(Search { text, key })
    }

    /// What the person typed, spaces tidied.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Whether the comune matches: its normalized name contains the normalized search, or the
    /// search is digits that begin its ISTAT code, or it is its cadastral code (any case).
    pub fn matches(&self, denominazione: &str, codice_istat: &str, codice_catastale: &str) -> bool {
        let key = self.key.as_str();
        if key.bytes().all(|b| b.is_ascii_digit()) && codice_istat.starts_with(key) {
            return true;
        }
        if codice_catastale.eq_ignore_ascii_case(key) {
            return true;
        }
        normalize(denominazione).contains(key)
    }
}

/// `value` percent-encoded for a query string (RFC 3986 unreserved characters kept, UTF-8
/// bytes of everything else as `%XX`, so a space is `%20`).
pub fn encode_query_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_folds_accents_case_and_punctuation() {
        assert_eq!(normalize("Nardò"), "nardo");
        assert_eq!(normalize("Sant'Agata di Puglia"), "sant agata di puglia");
        assert_eq!(normalize("Monte Sant’Angelo"), "monte sant angelo");
        assert_eq!(normalize("  SAN   Pietro-Vernotico. "), "san pietro vernotico");
        assert_eq!(normalize("Patù, Seclì"), "patu secli");
        assert_eq!(normalize("'''"), "");
        assert_eq!(normalize("073013"), "073013");
    }

    #[test]
    fn search_finds_real_comuni_by_name_or_code() {
        let s = |q: &str| Search::new(q).unwrap();
        // Nardò (LE), 075052, cadastral F842.
        assert!(s("nardo").matches("Nardò", "075052", "F842"));
        assert!(s("NARDÒ").matches("Nardò", "075052", "F842"));
        assert!(s("f842").matches("Nardò", "075052", "F842"));
        assert!(s("0750").matches("Nardò", "075052", "F842"));
        // Sant'Agata di Puglia (FG), 071052.
        assert!(s("sant agata").matches("Sant'Agata di Puglia", "071052", "I193"));
        assert!(s("sant'agata").matches("Sant'Agata di Puglia", "071052", "I193"));
        assert!(!s("Santagata").matches("Sant'Agata di Puglia", "071052", "I193"));
        // Martina Franca (TA), 073013: by code, by part of the name.
        assert!(s("073013").matches("Martina Franca", "073013", "E986"));
        assert!(s("franca").matches("Martina Franca", "073013", "E986"));
        assert!(!s("073014").matches("Martina Franca", "073013", "E986"));
        // Digits only match the start of the ISTAT code, not its middle.
        assert!(!s("3013").matches("Martina Franca", "073013", "E986"));
        // San Pietro Vernotico (BR), 074016; Monte Sant'Angelo (FG), 071033.
        assert!(s("san pietro").matches("San Pietro Vernotico", "074016", "I119"));
        assert!(s("pietro-vernotico").matches("San Pietro Vernotico", "074016", "I119"));
        assert!(s("monte sant angelo").matches("Monte Sant'Angelo", "071033", "F631"));
        assert!(!s("nardo").matches("Monte Sant'Angelo", "071033", "F631"));
    }

    #[test]
    fn search_keeps_what_was_typed_and_refuses_nothing() {
        assert_eq!(Search::new("  sant'  agata ").unwrap().text(), "sant' agata");
        assert_eq!(Search::new("   "), None);
        assert_eq!(Search::new("-'."), None);
    }

    #[test]
    fn query_values_are_percent_encoded() {
        assert_eq!(encode_query_value("sant agata"), "sant%20agata");
        assert_eq!(encode_query_value("Nardò"), "Nard%C3%B2");
        assert_eq!(encode_query_value("a&b=c'd"), "a%26b%3Dc%27d");
        assert_eq!(encode_query_value("0-5000"), "0-5000");
    }
}
