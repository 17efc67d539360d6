//! The territory a deployment follows: its region and the region's provinces, as the ISTAT
//! registry names them. The province filters, their checks, the province rows of the figures and
//! the API's list of allowed values all read it, so that another territory is data, not code
//! (issue 19). The server builds it once, from the embedded registry
//! (`data::registry::territory`), and keeps it in `AppState`, where the pages it renders read it
//! ([`use_territory`]).

use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// A province of the territory: its two-letter sigla and its ISTAT name.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Provincia {
    pub sigla: String,
    pub nome: String,
}

/// A region and its provinces.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Territory {
    /// The ISTAT region code, two digits (`16`).
    pub codice_regione: String,
    /// The region's ISTAT name (`Puglia`).
    pub regione: String,
    /// In the order the forms and tables list them: by name.
    pub province: Vec<Provincia>,
}

impl Territory {
    /// A territory with its provinces put in the order the pages list them (by name, so Bari
    /// comes before Barletta-Andria-Trani and Brindisi).
    pub fn new(codice_regione: &str, regione: &str, province: Vec<Provincia>) -> Territory {
        Territory {
            codice_regione: codice_regione.to_string(),
            regione: regione.to_string(),
            province: in_listing_order(province),
        }
    }

    /// The province of `sigla`, whatever its case (`le` is Lecce).
    pub fn provincia(&self, sigla: &str) -> Option<&Provincia> {
        self.province.iter().find(|p| p.sigla.eq_ignore_ascii_case(sigla))
    }

    /// The name of the province `sigla`, or the sigla itself when the territory has no such
    /// province (a row kept from another territory still reads).
    pub fn nome_provincia<'a>(&'a self, sigla: &'a str) -> &'a str {
        self.provincia(sigla).map_or(sigla, |p| p.nome.as_str())
    }

    /// The region's name with the articulated preposition Italian gives it ("della Puglia",
    /// "del Molise", "dell'Umbria", "delle Marche"), for the sentences that name the territory
    /// ("i comuni della Puglia"). Grammar, not registry data: a table by ISTAT code.
    pub fn della(&self) -> String {
        let (preposition, name) = match self.codice_regione.as_str() {
            "01" => ("del", "Piemonte"),
            "02" => ("della", "Valle d'Aosta"),
            "03" => ("della", "Lombardia"),
            "04" => ("del", "Trentino-Alto Adige"),
            "05" => ("del", "Veneto"),
            "06" => ("del", "Friuli-Venezia Giulia"),
            "07" => ("della", "Liguria"),
            "08" => ("dell'", "Emilia-Romagna"),
            "09" => ("della", "Toscana"),
            "10" => ("dell'", "Umbria"),
            "11" => ("delle", "Marche"),
            "12" => ("del", "Lazio"),
            "13" => ("dell'", "Abruzzo"),
            "14" => ("del", "Molise"),
            "15" => ("della", "Campania"),
            "16" => ("della", "Puglia"),
            "17" => ("della", "Basilicata"),
            "18" => ("della", "Calabria"),
            "19" => ("della", "Sicilia"),
            "20" => ("della", "Sardegna"),
            _ => return format!("della regione {}", self.regione),
        };
        if preposition.ends_with('\'') {
            format!("{preposition}{name}")
        } else {
            format!("{preposition} {name}")
        }
    }

    /// The siglas in the forms' order, for the messages that list the allowed values
    /// ("BA, BT, BR, FG, LE, TA").
    pub fn sigle(&self) -> String {
        self.province.iter().map(|p| p.sigla.as_str()).collect::<Vec<_>>().join(", ")
    }
}

/// `province` in the order the pages list them, each once: by name.
pub fn in_listing_order(mut province: Vec<Provincia>) -> Vec<Provincia> {
    province.sort_by(|a, b| a.nome.cmp(&b.nome).then_with(|| a.sigla.cmp(&b.sigla)));
    province.dedup();
    province
}

/// The territory of the page being rendered, from the server's state in the page's context.
/// Only components rendered on the server call it (never an island): the browser has no
/// `AppState`, and there it is never reached.
pub fn use_territory() -> Arc<Territory> {
    #[cfg(feature = "ssr")]
    {
        crate::state::app_state().map(|s| s.territory.clone()).expect("AppState is in every page's context")
    }
    #[cfg(not(feature = "ssr"))]
    {
        unreachable!("the territory is read by components rendered on the server only")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(sigla: &str, nome: &str) -> Provincia {
        Provincia { sigla: sigla.into(), nome: nome.into() }
    }

    #[test]
    fn provinces_are_listed_by_name_and_found_whatever_the_case() {
        let t = Territory::new(
            "16",
            "Puglia",
            vec![p("TA", "Taranto"), p("BR", "Brindisi"), p("BT", "Barletta-Andria-Trani"), p("BA", "Bari")],
        );
        assert_eq!(t.sigle(), "BA, BT, BR, TA");
        assert_eq!(t.provincia("ta").map(|p| p.nome.as_str()), Some("Taranto"));
        assert_eq!(t.nome_provincia("BR"), "Brindisi");
        assert_eq!(t.nome_provincia("MI"), "MI");
        assert!(t.provincia("Taranto").is_none(), "a name is not a sigla");
    }

    #[test]
    fn each_region_takes_its_own_preposition() {
        let of = |code: &str, name: &str| Territory::new(code, name, Vec::new()).della();
        assert_eq!(of("16", "Puglia"), "della Puglia");
        assert_eq!(of("14", "Molise"), "del Molise");
        assert_eq!(of("10", "Umbria"), "dell'Umbria");
        assert_eq!(of("11", "Marche"), "delle Marche");
        assert_eq!(of("02", "Valle d'Aosta/Vallée d'Aoste"), "della Valle d'Aosta");
        assert_eq!(of("99", "Atlantide"), "della regione Atlantide");
    }
}
