//! The report's contents ([`contents`], pure: snapshot + filter + drawings → [`Report`]) and
//! its typesetting ([`typeset`]: Typst → tagged PDF/UA-1 bytes, CPU-bound, call it on the
//! blocking pool).
//!
//! The template receives one JSON document with every text already formatted, so the PDF uses
//! exactly the dashboard's wording and numbers, and the template stays free of logic.

use std::sync::OnceLock;

use serde::Serialize;
use typst::foundations::{Dict, IntoValue};
use typst_as_lib::TypstEngine;

use crate::{
    comuni::ValidFilter,
    dashboard::{map, ui::figures, Graphics},
    evaluation::Snapshot,
    format,
};

/// What the template prints, already in Italian formats.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub titolo: String,
    pub sottotitolo: String,
    pub descrizione: String,
    pub autore: String,
    pub programma: String,
    /// The data's day, dd/mm/yyyy.
    pub data: String,
    /// When the PDF was made, dd/mm/yyyy hh:mm (Europe/Rome as the server's clock says).
    pub generato_il: String,
    pub dimostrativi: bool,
    pub nota_dimostrativi: String,
    /// "Nessun filtro: tutti i comuni della Puglia." or the filters in words.
    pub filtri: String,
    pub comuni_considerati: String,
    pub fonte: String,
    pub cifre: Vec<Cifra>,
    pub obiettivi: Vec<ObiettivoRiga>,
    pub nota_obiettivi: String,
    pub mappa: Picture,
    pub legenda: Vec<LegendaRiga>,
    pub grafici: Vec<Picture>,
    pub province: Vec<ProvinciaRiga>,
    pub nota_comuni: String,
    pub comuni: Vec<ComuneRiga>,
    pub crediti: String,
}

/// A headline figure, as the dashboard's card says it.
#[derive(Clone, Debug, Serialize)]
pub struct Cifra {
    pub titolo: String,
    pub valore: String,
    pub denominatore: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct ObiettivoRiga {
    pub obiettivo: String,
    pub raggiunti: String,
    pub verificati: String,
    pub supportati: String,
}

/// A chart or the map: standalone SVG, its alternative text and its caption.
#[derive(Clone, Debug, Serialize)]
pub struct Picture {
    pub titolo: String,
    pub svg: String,
    pub alt: String,
    pub didascalia: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct LegendaRiga {
    pub stato: String,
    pub comuni: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct ProvinciaRiga {
    pub nome: String,
    /// "12 su 46" (aderenti, in time or late, over the province's comuni).
    pub aderenti: String,
    pub non_aderenti: String,
    /// "5 (41,7%)" over the supported comuni.
    pub primo_step: String,
    pub tutti_obiettivi: String,
    pub assegnato: String,
    pub maturato: String,
}

/// One comune with its status in words.
#[derive(Clone, Debug, Serialize)]
pub struct ComuneRiga {
    pub codice: String,
    pub nome: String,
    pub provincia: String,
    pub popolazione: String,
    pub adesione: String,
    pub primo_step: String,
    pub finale: String,
}

/// The report of `snapshot` for `filter`, with the drawings of the same snapshot and filter.
/// `generated_at` is the wall-clock time printed in the footer.
pub fn contents(
    snapshot: &Snapshot,
    filter: &ValidFilter,
    graphics: &Graphics,
    geometry: &map::Geometry,
    generated_at: &str,
) -> Report {
    let summary = snapshot.summary(filter);
    let filtro = filter.query();
    let data = format::date(snapshot.as_of);
    let phrases = filter.phrases(&snapshot.population_choices(), &snapshot.province);
    let filtri = if phrases.is_empty() {
        "Nessun filtro: tutti i comuni della Puglia.".to_string()
    } else {
        format!("{}.", capitalised(&phrases.join(", ")))
    };
    let cifre = figures(&summary, &filtro)
        .into_iter()
        .map(|f| Cifra { titolo: f.title, valore: f.value, denominatore: f.denominator })
        .collect();
    let obiettivi = summary
        .obiettivi
        .iter()
        .map(|o| ObiettivoRiga {
            obiettivo: o.obiettivo.clone(),
            raggiunti: count_and_share(o.raggiunti, o.supportati),
            verificati: count_and_share(o.verificati, o.supportati),
            supportati: format::int(o.supportati),
        })
        .collect();
    // The map's classes, counted once: the legend table and the map's alternative text.
    let counts = map::legend_counts(geometry, &snapshot.map_status(filter));
    let legenda = counts
        .iter()
        .copied()
        .map(|(status, n)| LegendaRiga { stato: status.label().to_string(), comuni: format::int(n as i64) })
        .collect();
    let province = summary
        .province
        .iter()
        .map(|p| ProvinciaRiga {
            nome: p.nome.clone(),
            aderenti: format!("{} su {}", format::int(p.supportati), format::int(p.totale)),
            non_aderenti: format::int(p.non_aderenti),
            primo_step: count_and_share(p.primo_step, p.supportati),
            tutti_obiettivi: count_and_share(p.tutti_obiettivi, p.supportati),
            assegnato: format::eur(p.contributo_assegnato),
            maturato: format::eur(p.contributo_maturato),
        })
        .collect();
    let (first, last) = (snapshot.first_step_code(), snapshot.last_step_code());
    let comuni = snapshot
        .filtered(filter)
        .map(|e| ComuneRiga {
            codice: e.record.codice_istat.clone(),
            nome: e.record.denominazione.clone(),
            provincia: e.record.sigla_provincia.clone(),
            popolazione: format::int(e.record.popolazione),
            adesione: e.record.facts.adhesion.label().to_string(),
            primo_step: snapshot.step_state(e, first).label(),
            finale: snapshot.step_state(e, last).label(),
        })
        .collect::<Vec<_>>();
    let picture = |titolo: &str, svg: &str, alt: String, didascalia: &str| Picture {
        titolo: titolo.to_string(),
        svg: crate::dashboard::server::standalone(svg),
        alt,
        didascalia: didascalia.to_string(),
    };
    let see_table = "I valori sono nella tabella «Le province in cifre».";
    // A past day asked with `?al=` is in the title: the heading and the PDF's metadata say it.
    let titolo = match crate::state::AppState::past_day(snapshot) {
        Some(_) => format!("{}: situazione al {data}", summary.programma),
        None => format!("{}: rapporto sull'avanzamento", summary.programma),
    };
    Report {
        titolo,
        sottotitolo: "Adesione e obiettivi dei comuni pugliesi su pagoPA, App IO e SPID/CIE".to_string(),
        descrizione: format!(
            "Cifre principali, mappa, grafici per provincia ed elenco dei comuni del programma {}, dati al {data}.",
            summary.programma
        ),
        autore: "Regione Puglia — Traguardi".to_string(),
        programma: summary.programma.clone(),
        data: data.clone(),
        generato_il: generated_at.to_string(),
        dimostrativi: snapshot.demo,
        nota_dimostrativi: "Solo i totali seguono il comunicato stampa della Regione Puglia; quali comuni \
            (oltre ai 14 della provincia di Taranto), i servizi e le date sono illustrativi e non vanno \
            riutilizzati come dati reali."
            .to_string(),
        filtri,
        comuni_considerati: format::int(summary.totale_comuni),
        fonte: "Traguardi: dati registrati dalla Regione Puglia e dai comuni; obiettivi calcolati con le regole del programma."
            .to_string(),
        cifre,
        obiettivi,
        nota_obiettivi: "Raggiunto: secondo i dati dei servizi. Verificato: raggiunto e con l'ultima evidenza \
            esaminata dalla Regione con esito positivo. Percentuali sui comuni aderenti."
            .to_string(),
        mappa: picture(
            "La mappa dei comuni",
            &graphics.mappa,
            format!(
                "Mappa dei comuni della Puglia colorati per stato: {}.",
                counts
                    .iter()
                    .map(|(s, n)| format!("{} {}", s.label().to_lowercase(), format::int(*n as i64)))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            "Ogni comune è colorato e tratteggiato secondo il suo stato; la tabella che segue dà i conteggi. \
             Confini dei comuni e delle province: ISTAT, Openpolis (licenza CC BY 4.0).",
        ),
        legenda,
        grafici: vec![
            picture(
                "Adesione per provincia",
                &graphics.adesione,
                format!("Grafico a barre dei comuni aderenti, in ritardo e non aderenti per provincia. {see_table}"),
                "Comuni aderenti, aderenti in ritardo e non aderenti (comprese le rinunce), sul totale dei comuni di ciascuna provincia.",
            ),
            picture(
                "Obiettivi raggiunti per provincia",
                &graphics.obiettivi,
                format!("Grafico a barre delle percentuali di comuni aderenti che hanno raggiunto gli obiettivi, per provincia. {see_table}"),
                "Comuni che hanno raggiunto gli obiettivi del primo step (anche in ritardo) e tutti gli obiettivi entro le scadenze, in percentuale dei comuni aderenti della provincia.",
            ),
            picture(
                "Servizi attivi nel tempo",
                &graphics.servizi,
                "Grafico a linee dei servizi pagoPA attivi e dei servizi su App IO nel tempo, con le scadenze del programma.".to_string(),
                "Servizi di incasso pagoPA attivi e servizi pubblicati su App IO, sommati sui comuni considerati, dai conteggi di fine mese; le linee verticali segnano le scadenze del programma.",
            ),
            picture(
                "Contributo per provincia",
                &graphics.contributo,
                format!("Grafico a barre del contributo maturato, ancora possibile, perso o rinunciato per provincia. {see_table}"),
                "Contributo assegnato ai comuni aderenti, in euro: maturato, ancora possibile, perso o rinunciato.",
            ),
        ],
        province,
        nota_comuni: format!(
            "{} comuni, in ordine di codice ISTAT. Lo stato di ogni obiettivo è al {data}.",
            format::int(comuni.len() as i64)
        ),
        comuni,
        crediti: "Elenco dei comuni, codici e popolazione: ISTAT (licenza CC BY). Confini: Openpolis su dati \
            ISTAT (CC BY 4.0). Dati di Traguardi rilasciati con licenza CC BY 4.0. Carattere Titillium Web \
            (SIL Open Font License)."
            .to_string(),
    }
}

/// "12 (41,7%)", as the dashboard's tables write a count over its denominator.
fn count_and_share(n: i64, whole: i64) -> String {
    format!("{} ({})", format::int(n), format::percent(n, whole))
}

fn capitalised(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The Typst engine: the template and Titillium Web, parsed once per process.
fn engine() -> &'static TypstEngine<typst_as_lib::TypstTemplateMainFile> {
    static ENGINE: OnceLock<TypstEngine<typst_as_lib::TypstTemplateMainFile>> = OnceLock::new();
    ENGINE.get_or_init(|| {
        TypstEngine::builder()
            .main_file(include_str!("template.typ"))
            .fonts([
                &include_bytes!("../dashboard/fonts/TitilliumWeb-Regular.ttf")[..],
                &include_bytes!("../dashboard/fonts/TitilliumWeb-Bold.ttf")[..],
            ])
            .build()
    })
}

/// Typesets `report` as a tagged PDF conforming to PDF/UA-1, or says why not (for the log).
pub fn typeset(report: &Report) -> Result<Vec<u8>, String> {
    let json = serde_json::to_string(report).map_err(|e| format!("report data: {e}"))?;
    let mut inputs = Dict::new();
    inputs.insert("data".into(), json.into_value());
    let warned = engine().compile_with_input::<_, typst_layout::PagedDocument>(inputs);
    for w in &warned.warnings {
        tracing::warn!(warning = %w.message, "report typesetting");
    }
    let document = warned.output.map_err(|e| format!("typesetting: {e}"))?;
    let standards = typst_pdf::PdfStandards::new(&[typst_pdf::PdfStandard::Ua_1])
        .map_err(|e| format!("PDF standard: {}", e.message()))?;
    let options = typst_pdf::PdfOptions {
        creator: typst::foundations::Smart::Custom(Some("Traguardi".to_string())),
        standards,
        ..Default::default()
    };
    typst_pdf::pdf(&document, &options)
        .map_err(|errors| errors.iter().map(|e| e.message.to_string()).collect::<Vec<_>>().join("; "))
}
