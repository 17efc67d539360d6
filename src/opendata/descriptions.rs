//! The API's answers as their users read them in the OpenAPI document: every schema and every
//! property described in Italian.
//!
//! utoipa takes a schema's and a property's description from the Rust doc comments, which are
//! written in English for the code's readers (and may hold doc links). [`document`] replaces
//! them with this table's, as `params` does for the parameters: a property the table does not
//! describe fails the document's test instead of being published in English, and an entry the
//! document no longer has fails it too, so the table follows the types.

use serde_json::Value;

/// What each answer's schema is.
pub const SCHEMAS: &[(&str, &str)] = &[
    ("ApiError", "Un errore: lo stato HTTP e il motivo, in italiano."),
    ("ApiErrorBody", "Lo stato HTTP dell'errore e il suo motivo."),
    (
        "Metadati",
        "Che cosa contengono i dati della risposta: programma, giorno di riferimento, licenza, filtri.",
    ),
    ("ProvinceRisposta", "Le cifre di ogni provincia sui comuni che rispondono ai filtri."),
    (
        "Provincia",
        "Le cifre di una provincia sui comuni che rispondono ai filtri, come nella tabella del cruscotto.",
    ),
    ("ComuniRisposta", "Una pagina dei comuni che rispondono ai filtri, con il totale."),
    ("ComuneRisposta", "Un comune."),
    ("Comune", "Un comune: anagrafica, adesione, traguardi, obiettivi e servizi attivi."),
    ("Adesione", "L'adesione del comune al programma e il contributo."),
    ("Traguardo", "A che punto è il comune su un traguardo del programma."),
    ("Obiettivo", "A che punto è il comune su un obiettivo di un traguardo."),
    ("Servizi", "I servizi attivi nel giorno di riferimento."),
];

/// What each property of each schema holds: (schema, property, description).
pub const PROPERTIES: &[(&str, &str, &str)] = &[
    ("ApiError", "errore", "L'errore."),
    ("ApiErrorBody", "stato", "Lo stato HTTP (400, 404, 500)."),
    ("ApiErrorBody", "messaggio", "Che cosa non va, in italiano."),
    ("Metadati", "programma", "Il programma a cui appartengono le cifre."),
    ("Metadati", "data_riferimento", "Il giorno a cui si riferiscono le cifre, calcolate dalle regole del programma in quel giorno."),
    ("Metadati", "dati_dimostrativi", "Vero quando la banca dati contiene i dati dimostrativi e non dati reali."),
    ("Metadati", "licenza", "La licenza dei dati (identificatore SPDX)."),
    ("Metadati", "licenza_url", "L'indirizzo del testo della licenza."),
    ("Metadati", "filtro", "I filtri applicati, come stringa di interrogazione (vuota: nessuno)."),
    ("Metadati", "situazione_al", "Il giorno passato chiesto con il parametro al, quando le cifre non sono quelle di oggi (assente: oggi)."),
    ("ProvinceRisposta", "metadati", "Che cosa contengono i dati."),
    ("ProvinceRisposta", "province", "Una voce per provincia."),
    ("Provincia", "sigla", "La sigla della provincia."),
    ("Provincia", "nome", "Il nome della provincia."),
    ("Provincia", "comuni", "I comuni che rispondono ai filtri: il denominatore delle cifre di adesione."),
    ("Provincia", "aderenti", "I comuni aderenti entro il termine."),
    ("Provincia", "aderenti_in_ritardo", "I comuni aderenti dopo il termine."),
    ("Provincia", "non_aderenti", "I comuni non aderenti, compresi quelli che hanno rinunciato."),
    ("Provincia", "supportati", "Aderenti più aderenti in ritardo: il denominatore delle cifre sugli obiettivi."),
    ("Provincia", "primo_step", "I comuni che hanno raggiunto il primo step, nei tempi o in ritardo."),
    ("Provincia", "tutti_obiettivi", "I comuni che hanno raggiunto ogni obiettivo entro la sua scadenza."),
    ("Provincia", "contributo_assegnato_eur", "Il contributo assegnato, in euro."),
    ("Provincia", "contributo_maturato_eur", "Il contributo maturato con i traguardi raggiunti, in euro."),
    ("Provincia", "contributo_possibile_eur", "Il contributo delle quote la cui scadenza non è ancora passata, in euro."),
    ("Provincia", "contributo_perso_eur", "Il contributo delle quote non maturate entro la scadenza, in euro."),
    ("Provincia", "contributo_rinunciato_eur", "Il contributo a cui i comuni hanno rinunciato, in euro."),
    ("ComuniRisposta", "metadati", "Che cosa contengono i dati."),
    ("ComuniRisposta", "totale", "I comuni che rispondono ai filtri, su tutte le pagine."),
    ("ComuniRisposta", "pagina", "Il numero della pagina, da 1; una pagina oltre l'ultima è vuota."),
    ("ComuniRisposta", "per_pagina", "Quanti comuni al massimo per pagina."),
    ("ComuniRisposta", "pagine", "Quante pagine in tutto (almeno 1)."),
    ("ComuniRisposta", "comuni", "I comuni della pagina."),
    ("ComuneRisposta", "metadati", "Che cosa contengono i dati."),
    ("ComuneRisposta", "comune", "Il comune."),
    ("Comune", "codice_istat", "Il codice ISTAT del comune: sei cifre, con gli zeri iniziali (072006)."),
    ("Comune", "denominazione", "Il nome del comune."),
    ("Comune", "codice_catastale", "Il codice catastale del comune."),
    ("Comune", "sigla_provincia", "La sigla della provincia."),
    ("Comune", "provincia", "Il nome della provincia."),
    ("Comune", "codice_ipa", "Il codice del comune nell'Indice dei domicili digitali della pubblica amministrazione (IPA)."),
    ("Comune", "popolazione", "La popolazione residente (ISTAT)."),
    ("Comune", "adesione", "L'adesione al programma e il contributo."),
    ("Comune", "traguardi", "I traguardi del programma, in ordine; vuoto per i comuni fuori dal programma."),
    ("Comune", "obiettivi", "Gli obiettivi di ogni traguardo; vuoto per i comuni fuori dal programma."),
    ("Comune", "servizi", "I servizi attivi nel giorno di riferimento."),
    ("Adesione", "stato", "Lo stato dell'adesione: aderente, aderente_in_ritardo, non_aderente o rinuncia."),
    ("Adesione", "descrizione", "Lo stato dell'adesione in parole."),
    ("Adesione", "data", "Il giorno dell'adesione."),
    ("Adesione", "contributo_eur", "Il contributo assegnato, in euro (0 fuori dal programma)."),
    ("Adesione", "contributo_maturato_eur", "Il contributo maturato con i traguardi raggiunti, in euro."),
    ("Adesione", "contributo_perso_eur", "Il contributo delle quote non maturate entro la scadenza, in euro."),
    ("Adesione", "contributo_possibile_eur", "Il contributo delle quote la cui scadenza non è ancora passata, in euro."),
    ("Adesione", "contributo_rinunciato_eur", "Il contributo a cui il comune ha rinunciato, in euro."),
    ("Adesione", "rinuncia", "A che cosa il comune ha rinunciato: saldo (la quota finale) o contributo (tutto il contributo); assente se a nulla."),
    ("Adesione", "data_rinuncia", "Il giorno della rinuncia."),
    ("Traguardo", "codice", "Il codice del traguardo."),
    ("Traguardo", "nome", "Il nome del traguardo."),
    ("Traguardo", "scadenza", "La scadenza del traguardo."),
    ("Traguardo", "quota_percentuale", "La quota del contributo legata al traguardo, in percentuale."),
    ("Traguardo", "stato", "Lo stato: raggiunto, raggiunto_in_ritardo o non_raggiunto."),
    ("Traguardo", "descrizione", "Lo stato in parole (per esempio «Raggiunto il 15/02/2021»)."),
    ("Traguardo", "data_raggiungimento", "Il giorno in cui il traguardo è stato raggiunto."),
    ("Obiettivo", "codice", "Il codice dell'obiettivo."),
    ("Obiettivo", "piattaforma", "La piattaforma: pagopa, io o spid_cie."),
    ("Obiettivo", "traguardo", "Il codice del traguardo a cui appartiene l'obiettivo."),
    ("Obiettivo", "descrizione", "Che cosa chiede l'obiettivo."),
    ("Obiettivo", "scadenza", "La scadenza dell'obiettivo."),
    ("Obiettivo", "stato", "Lo stato: raggiunto, raggiunto_in_ritardo o non_raggiunto."),
    ("Obiettivo", "data_raggiungimento", "Il giorno in cui l'obiettivo è stato raggiunto."),
    ("Servizi", "pagopa_attivi", "I servizi di incasso attivi su pagoPA."),
    ("Servizi", "pagopa_applicabili", "I servizi di incasso applicabili al comune: il denominatore di pagopa_attivi."),
    ("Servizi", "pagopa_attivati_nel_progetto", "I servizi attivi su pagoPA attivati durante il programma."),
    ("Servizi", "io_attivi", "I servizi attivi sull'app IO."),
    ("Servizi", "io_tramite_regione", "Vero quando i servizi IO del comune sono pubblicati tramite la Regione."),
    ("Servizi", "spid_cie", "I servizi online accessibili con SPID o CIE."),
];

/// The document with every schema and property described by the tables above. Panics on a
/// schema or property they do not describe (a test builds the document, so such a property never
/// reaches the published one).
pub fn document(derived: Value) -> Value {
    let mut doc = derived;
    let Some(schemas) = doc.pointer_mut("/components/schemas").and_then(Value::as_object_mut) else {
        return doc;
    };
    for (name, schema) in schemas.iter_mut() {
        let description = SCHEMAS
            .iter()
            .find(|(s, _)| s == name)
            .unwrap_or_else(|| panic!("the schema «{name}» has no Italian description"))
            .1;
        schema["description"] = Value::from(description);
        let Some(properties) = schema.get_mut("properties").and_then(Value::as_object_mut) else { continue };
        for (property, declared) in properties.iter_mut() {
            let description = PROPERTIES
                .iter()
                .find(|(s, p, _)| s == name && p == property)
                .unwrap_or_else(|| panic!("{name}.{property} has no Italian description"))
                .2;
            declared["description"] = Value::from(description);
        }
    }
    doc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_schema_and_property_of_the_document_is_described_in_italian_and_nothing_else() {
        let doc: Value =
            serde_json::from_str(&super::super::api::openapi_json(&crate::data::registry::territory()))
                .unwrap();
        let schemas = doc["components"]["schemas"].as_object().expect("the schemas");
        let mut published = Vec::new();
        for (name, schema) in schemas {
            let own = SCHEMAS.iter().find(|(s, _)| s == name).expect("described").1;
            assert_eq!(schema["description"], own, "{name}");
            for (property, declared) in schema["properties"].as_object().into_iter().flatten() {
                let text = declared["description"].as_str().unwrap_or_default();
                let own =
                    PROPERTIES.iter().find(|(s, p, _)| s == name && p == property).expect("described").2;
                assert_eq!(text, own, "{name}.{property}");
                published.push((name.as_str(), property.as_str()));
            }
        }
        // The tables name nothing the document lacks (they follow the types).
        for (schema, property, _) in PROPERTIES {
            assert!(published.contains(&(schema, property)), "{schema}.{property} is not in the document");
        }
        for (schema, _) in SCHEMAS {
            assert!(schemas.contains_key(*schema), "{schema} is not in the document");
        }
        // Written for the API's users: no Rust doc syntax, and in Italian (none of the English
        // doc comments' words).
        for text in SCHEMAS.iter().map(|(_, d)| *d).chain(PROPERTIES.iter().map(|(_, _, d)| *d)) {
            assert!(!text.contains('`') && !text.contains("]("), "{text}");
            for english in [" the ", "The ", " of ", " when ", " comuni matching"] {
                assert!(!text.contains(english), "{text}");
            }
        }
        assert!(published.len() >= 70, "{}", published.len());
    }
}
