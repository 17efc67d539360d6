//! Names for the demo dataset. The pagoPA codes made up here have the official shape
//! (`9/` + 7 digits + 2 letters + `/`) under macro area `99`, which the official taxonomy does not
//! use, and are stored with origin `demo`: they are never passed off as official.

/// Real codes quoted by the fund's documents (stored by the migration with origin `nota`) that
/// every demo comune runs.
pub const COMMON: [&str; 3] = ["9/0101100IM/", "9/0101101IM/", "9/0102100SA/"];

/// Real codes the fund's documents cite as usually not applicable: every demo comune lists them
/// as "not applicable", which keeps them out of the 70% rule.
pub const NOT_APPLICABLE: [&str; 2] = ["9/0101105IM/", "9/0115116SP/"];

const DEMO_SERVICES: [&str; 45] = [
    "Mensa scolastica",
    "Trasporto scolastico",
    "Canone unico patrimoniale",
    "Diritti di segreteria",
    "Lampade votive",
    "Concessioni cimiteriali",
    "Servizi cimiteriali",
    "Asilo nido",
    "Centri estivi",
    "Impianti sportivi",
    "Diritti di istruttoria edilizia",
    "Oneri di urbanizzazione",
    "Carta d'identità elettronica",
    "Passi carrabili",
    "Occupazione suolo pubblico temporanea",
    "Affissioni",
    "Fitti attivi",
    "Servizio idrico (quota comunale)",
    "Sanzioni amministrative",
    "Sanzioni edilizie",
    "Trasporto disabili",
    "Assistenza domiciliare",
    "Rette RSA",
    "Biblioteca",
    "Musei e mostre",
    "Teatro comunale",
    "Matrimoni civili",
    "Certificati anagrafici",
    "Accesso agli atti",
    "Contributo di costruzione",
    "Diritti SUAP",
    "Mercato settimanale",
    "Fiere e sagre",
    "Parcheggi a pagamento",
    "Permessi ZTL",
    "Rimozione veicoli",
    "Raccolta ingombranti",
    "Spese di notifica",
    "Rimborsi spese",
    "Depositi cauzionali",
    "Gettoni ludoteca",
    "Orti urbani",
    "Sale comunali",
    "Ricerche d'archivio",
    "Tosap residua",
];

/// The demo taxonomy entries: (code, description). The UI labels them from their origin.
pub fn demo_taxonomy() -> Vec<(String, String)> {
    DEMO_SERVICES
        .iter()
        .enumerate()
        .map(|(i, name)| (format!("9/0199{:03}DM/", i + 1), name.to_string()))
        .collect()
}

/// The applicable codes a demo comune draws from: the three common real codes first, then the
/// demo ones.
pub fn applicable_codes(taxonomy: &[(String, String)]) -> Vec<String> {
    COMMON.iter().map(|c| c.to_string()).chain(taxonomy.iter().map(|(c, _)| c.clone())).collect()
}

/// Typical services of a comune on App IO.
pub const IO_SERVICES: [&str; 25] = [
    "Pagamento TARI",
    "Pagamento IMU",
    "Scadenza carta d'identità",
    "Servizi demografici",
    "Mensa scolastica",
    "Trasporto scolastico",
    "Avvisi di protezione civile",
    "Polizia locale - sanzioni",
    "Tributi - avvisi di pagamento",
    "Servizi sociali",
    "Elettorale - tessera elettorale",
    "Raccolta rifiuti - calendario",
    "SUAP - pratiche",
    "SUE - pratiche edilizie",
    "Biblioteca - prestiti",
    "Asilo nido - iscrizioni",
    "Lampade votive",
    "Concessioni cimiteriali",
    "Canone unico patrimoniale",
    "Eventi e cultura",
    "Sport e impianti",
    "Bonus e contributi",
    "Ufficio relazioni con il pubblico",
    "Appuntamenti allo sportello",
    "Accesso agli atti",
];

/// Typical online services of a comune reachable with SPID/CIE.
pub const ONLINE_SERVICES: [&str; 6] = [
    "Sportello telematico polifunzionale",
    "Istanze online servizi scolastici",
    "SUAP online",
    "Pratiche edilizie online",
    "Certificati anagrafici online",
    "Portale tributi",
];
