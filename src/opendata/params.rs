//! The API's parameters as its users read them in the OpenAPI document: each one declared
//! exactly (enumerations with their Italian values, integers with their bounds, patterns for
//! codes), described in Italian, with an example.
//!
//! The parameter structs ([`crate::comuni::ComuniFilter`], [`super::api::Paginazione`],
//! [`super::api::Giorno`]) are `Option<String>` on purpose — the handlers refuse a bad value with
//! a 400 in words rather than axum's rejection — so what utoipa derives from them is only the
//! list of names, typed as plain strings and described by the code's English doc comments.
//! [`document`] keeps that list (so the document cannot name a parameter the server does not
//! read) and replaces each parameter's schema and description with this table's. The values
//! come from the same constants the validators use, so the two cannot disagree, and a
//! parameter missing from the table fails [`document`]'s test rather than being published bare.

use serde_json::{json, Value};

use crate::{
    comuni::{search::MAX_SEARCH_CHARS, Milestone, SortKey, StepFilter, Territory},
    rules::{AdhesionStatus, Platform},
};

use super::api::{DEFAULT_PER_PAGE, MAX_PAGE, MAX_PER_PAGE};

/// How one parameter is declared: its JSON Schema, its description and an example value.
#[derive(Clone, Debug, PartialEq)]
pub struct ParamDoc {
    pub schema: Value,
    pub description: String,
    pub example: Value,
    /// For a list sent as one comma-separated value (`traguardo=primo_step,finale`): OpenAPI's
    /// `style: form` with `explode: false`.
    pub comma_separated: bool,
}

/// A population band: `min-max` (max exclusive) or `min-` (no upper bound). The pattern
/// cannot say that the maximum exceeds the minimum: the description does, and the server
/// answers a 400 in words otherwise.
pub const POPULATION_PATTERN: &str = "^(0|[1-9][0-9]{0,8})-([1-9][0-9]{0,8})?$";
/// A comune's ISTAT code: six digits.
pub const ISTAT_PATTERN: &str = "^[0-9]{6}$";

fn one_of<S: Into<String>>(values: impl IntoIterator<Item = S>) -> Value {
    json!({ "type": "string", "enum": values.into_iter().map(Into::into).collect::<Vec<String>>() })
}

/// The declaration of the parameter `name` (query or path) in a deployment following
/// `territory` (the provinces it allows), or `None` for a name this table does not know.
pub fn param_doc(name: &str, territory: &Territory) -> Option<ParamDoc> {
    let doc = |schema: Value, description: &str, example: Value| ParamDoc {
        schema,
        description: description.to_string(),
        example,
        comma_separated: false,
    };
    let reached = || one_of(StepFilter::ALL.map(StepFilter::code));
    Some(match name {
        "provincia" => doc(
            one_of(territory.province.iter().map(|p| p.sigla.clone())),
            "Sigla della provincia: solo i comuni di quella provincia.",
            json!(territory.province.first().map_or("BA", |p| p.sigla.as_str())),
        ),
        "adesione" => doc(
            one_of(AdhesionStatus::ALL.map(AdhesionStatus::code)),
            "Stato di adesione al programma: aderente (nei termini), aderente_in_ritardo, non_aderente, rinuncia.",
            json!("aderente"),
        ),
        "popolazione" => doc(
            json!({ "type": "string", "pattern": POPULATION_PATTERN }),
            "Fascia di popolazione residente: «minimo-massimo», con il massimo escluso e maggiore del minimo (0-5000: fino a 4.999 abitanti), oppure «minimo-» senza limite superiore (200000-).",
            json!("5000-40000"),
        ),
        "piattaforma" => doc(
            one_of(Platform::ALL.map(Platform::code)),
            "Solo i comuni con almeno un servizio attivo sulla piattaforma: pagopa, io (App IO) o spid_cie (accesso con SPID o CIE).",
            json!("io"),
        ),
        "traguardo" => ParamDoc {
            schema: json!({
                "type": "array",
                "items": one_of(Milestone::ALL.map(Milestone::code)),
                "minItems": 1,
                "uniqueItems": true,
            }),
            description: "I comuni dietro una cifra del cruscotto: uno o più traguardi separati da virgole (primo_step,mypay), e il comune deve rientrare in tutti.".into(),
            example: json!(["primo_step"]),
            comma_separated: true,
        },
        "q" => doc(
            json!({ "type": "string", "maxLength": MAX_SEARCH_CHARS }),
            "Ricerca libera: una parte del nome del comune (accenti, maiuscole e punteggiatura non contano), l'inizio del codice ISTAT o il codice catastale.",
            json!("bari"),
        ),
        "primo_step" => doc(
            reached(),
            "Primo step raggiunto (nei termini o in ritardo) o non raggiunto, tra i comuni nel programma.",
            json!("raggiunto"),
        ),
        "finale" => doc(
            reached(),
            "Obiettivi finali raggiunti (nei termini o in ritardo) o non raggiunti, tra i comuni nel programma.",
            json!("non_raggiunto"),
        ),
        "scaduto" => doc(
            one_of(["si"]),
            "si: solo i comuni nel programma con almeno un obiettivo scaduto e mai raggiunto.",
            json!("si"),
        ),
        "bloccato" => doc(
            one_of(["si"]),
            "si: solo i comuni con almeno un blocco aperto. Riservato alla Regione e agli assessori che hanno eseguito l'accesso: i blocchi non sono dati pubblici, e per gli altri la risposta è 400.",
            json!("si"),
        ),
        "al" => doc(
            json!({ "type": "string", "format": "date" }),
            "Il giorno dei dati, aaaa-mm-gg: il programma com'era alla fine di quel giorno, dal primo giorno del programma a oggi (un giorno fuori da questo intervallo dà 400). Assente: oggi.",
            json!("2021-02-28"),
        ),
        "ordina" => doc(
            json!({ "type": "string", "enum": SortKey::ALL.map(SortKey::code), "default": "istat" }),
            "Ordinamento: nome, istat (codice ISTAT, il predefinito), provincia, popolazione, adesione, primo_step o finale.",
            json!("nome"),
        ),
        "verso" => doc(
            json!({ "type": "string", "enum": ["asc", "desc"], "default": "asc" }),
            "Verso dell'ordinamento: asc (crescente, il predefinito) o desc (decrescente).",
            json!("desc"),
        ),
        "pagina" => doc(
            json!({ "type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1 }),
            "Numero della pagina, da 1; una pagina oltre l'ultima è vuota.",
            json!(2),
        ),
        "per_pagina" => doc(
            json!({ "type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE, "default": DEFAULT_PER_PAGE }),
            "Comuni per pagina.",
            json!(50),
        ),
        "codice_istat" => doc(
            json!({ "type": "string", "pattern": ISTAT_PATTERN }),
            "Codice ISTAT del comune, sei cifre; un codice che non è di un comune dà 404.",
            json!("072006"),
        ),
        _ => return None,
    })
}

/// The OpenAPI document utoipa derived (`derived`), with every parameter of every operation
/// declared by [`param_doc`] for `territory`. Panics on a parameter the table does not know: a
/// test builds the document, so such a parameter never reaches the published one.
pub fn document(derived: Value, territory: &Territory) -> Value {
    let mut doc = derived;
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else { return doc };
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else { continue };
        for (method, operation) in item.iter_mut() {
            let Some(parameters) = operation.get_mut("parameters").and_then(Value::as_array_mut) else {
                continue;
            };
            for p in parameters.iter_mut() {
                let name = p["name"].as_str().unwrap_or_default().to_string();
                let d = param_doc(&name, territory)
                    .unwrap_or_else(|| panic!("{method} {path}: the parameter «{name}» has no declaration"));
                p["schema"] = d.schema;
                p["description"] = Value::String(d.description);
                p["example"] = d.example;
                if d.comma_separated {
                    p["style"] = json!("form");
                    p["explode"] = json!(false);
                }
            }
        }
    }
    doc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_example_fits_its_own_declaration() {
        // Every parameter the published document names (so the list cannot fall behind it).
        let territory = crate::data::registry::territory();
        let doc: Value = serde_json::from_str(&super::super::api::openapi_json(&territory)).unwrap();
        let mut names: Vec<String> = doc["paths"]
            .as_object()
            .unwrap()
            .values()
            .flat_map(|item| item["get"]["parameters"].as_array().cloned().unwrap_or_default())
            .map(|p| p["name"].as_str().unwrap().to_string())
            .collect();
        names.sort();
        names.dedup();
        assert!(names.len() >= 16, "{names:?}");
        for name in names {
            let name = name.as_str();
            let d = param_doc(name, &territory).unwrap_or_else(|| panic!("{name}"));
            let s = &d.schema;
            let fits = |v: &Value, s: &Value| match s["type"].as_str() {
                Some("string") => {
                    let text = v.as_str().expect("a string");
                    s["enum"].as_array().is_none_or(|e| e.contains(v))
                        && s["pattern"]
                            .as_str()
                            .is_none_or(|p| regex::Regex::new(p).expect("a pattern").is_match(text))
                        && s["maxLength"].as_u64().is_none_or(|m| text.chars().count() as u64 <= m)
                }
                Some("integer") => {
                    let n = v.as_i64().expect("an integer");
                    s["minimum"].as_i64().is_none_or(|m| n >= m)
                        && s["maximum"].as_i64().is_none_or(|m| n <= m)
                }
                other => panic!("{other:?}"),
            };
            let ok = if s["type"] == "array" {
                d.example.as_array().expect("a list").iter().all(|v| fits(v, &s["items"]))
            } else {
                fits(&d.example, s)
            };
            assert!(ok, "{name}: {} does not fit {s}", d.example);
            assert!(
                !d.description.contains('`') && !d.description.contains("]("),
                "{name}: no Rust doc links"
            );
        }
        assert!(param_doc("ignoto", &territory).is_none());
    }

    #[test]
    fn the_population_pattern_takes_the_bands_the_pages_offer() {
        let re = regex::Regex::new(POPULATION_PATTERN).unwrap();
        for band in ["0-5000", "5000-40000", "200000-", "1-2"] {
            assert!(re.is_match(band), "{band}");
        }
        for band in ["", "-5000", "05-10", "abc", "5000", "1-2-3", " 0-5000"] {
            assert!(!re.is_match(band), "{band}");
        }
    }
}
