//! `GET /export/comuni.xlsx`: the view of `/comuni` (filters, search, sort) as an Excel
//! workbook with typed cells: one sheet per table — comuni (the CSV contract's columns),
//! objectives, services, blockers — and a sheet that states the filters and the dates. Each
//! table has a bold header row, frozen, with an autofilter; dates are real dates shown
//! dd/mm/yyyy, numbers are numbers, yes/no are booleans, ISTAT codes stay text (leading zero).
//!
//! Blockers are not public: their sheet lists only the comuni whose private data the person
//! may read, and says so when that is none.

use std::collections::HashSet;

use chrono::NaiveDate;
use rust_xlsxwriter::{DocProperties, Format, Workbook, Worksheet, XlsxError};

use super::export::HEADER;
use crate::{
    data::{blockers::BlockerRow, facts::AllServices},
    evaluation::{Evaluated, Snapshot},
    exports::sheet::{self as sheets, Widths},
};

/// What the workbook holds besides the comuni: the services and (visible) blockers of the
/// exported comuni, and the filter in words.
pub struct Contents<'a> {
    pub snapshot: &'a Snapshot,
    pub comuni: Vec<&'a Evaluated>,
    pub services: &'a AllServices,
    /// `None`: the person may read no blocker (not signed in).
    pub blockers: Option<Vec<&'a BlockerRow>>,
    /// The filters in words, one phrase each; empty: no filter.
    pub filters: Vec<String>,
    /// The query string of the view, to reproduce it.
    pub query: String,
    /// When the file was made (server time).
    pub made_at: String,
}

/// Column formats shared by the sheets.
struct Formats {
    header: Format,
    date: Format,
    integer: Format,
    /// Text that looks like a formula ([`crate::exports::formula`]).
    quoted: Format,
}

impl Formats {
    fn new() -> Self {
        Formats {
            header: Format::new().set_bold(),
            date: Format::new().set_num_format("dd/mm/yyyy"),
            integer: Format::new().set_num_format("#,##0"),
            quoted: crate::exports::formula::quoted(),
        }
    }
}

/// One typed cell.
enum Cell<'a> {
    Text(&'a str),
    Integer(i64),
    Date(Option<NaiveDate>),
    Bool(Option<bool>),
}

/// Writes a table: header, rows, frozen header, autofilter, widths fitted.
fn table<'a>(
    sheet: &mut Worksheet,
    f: &Formats,
    header: &[&str],
    rows: impl Iterator<Item = Vec<Cell<'a>>>,
) -> Result<u32, XlsxError> {
    let mut widths = Widths::default();
    for (c, h) in header.iter().enumerate() {
        sheet.write_string_with_format(0, c as u16, *h, &f.header)?;
        widths.header(c as u16, h);
    }
    let mut r = 0u32;
    for row in rows {
        r += 1;
        for (c, cell) in row.into_iter().enumerate() {
            let c = c as u16;
            match cell {
                Cell::Text(s) => {
                    crate::exports::formula::write_text(sheet, r, c, s, &f.quoted)?;
                    widths.text(c, s);
                }
                Cell::Integer(n) => {
                    sheet.write_number_with_format(r, c, n as f64, &f.integer)?;
                    widths.integer(c, n);
                }
                Cell::Date(Some(d)) => {
                    sheet.write_date_with_format(r, c, d, &f.date)?;
                    widths.date(c);
                }
                Cell::Bool(Some(b)) => {
                    sheet.write_boolean(r, c, b)?;
                    widths.boolean(c);
                }
                Cell::Date(None) | Cell::Bool(None) => {}
            }
        }
    }
    sheet.set_freeze_panes(1, 0)?;
    sheet.autofilter(0, 0, r, (header.len() - 1) as u16)?;
    widths.apply(sheet)?;
    Ok(r)
}

/// The workbook's bytes.
pub fn workbook(x: &Contents) -> Result<Vec<u8>, XlsxError> {
    let f = Formats::new();
    let s = x.snapshot;
    // The blockers are reserved data: when the sheet holds some, the licence says it is not theirs.
    let licence = if x.blockers.is_some() {
        "CC BY 4.0 (Regione Puglia — Traguardi) per i fogli Comuni, Obiettivi e Servizi; \
         il foglio Blocchi contiene dati riservati, esclusi dalla licenza"
    } else {
        "CC BY 4.0 (Regione Puglia — Traguardi)"
    };
    let mut book = Workbook::new();
    let mut properties = DocProperties::new()
        .set_title(format!("{} — comuni", s.programme.name))
        .set_author("Traguardi — Regione Puglia")
        .set_comment(format!("Licenza {licence}"));
    // A past day asked with `?al=` is said in the properties too, not only in the file name.
    if let Some(day) = crate::state::AppState::past_day(s) {
        properties = properties.set_subject(format!("Situazione al {}", crate::format::date(day)));
    }
    book.set_properties(&properties);
    let (first, last) = (s.first_step_code(), s.last_step_code());

    let sheet = sheets::add(&mut book)?.set_name("Comuni")?;
    table(
        sheet,
        &f,
        &HEADER,
        x.comuni.iter().map(|e| {
            let (r, o, c) = (&e.record, &e.outcome, &e.counts);
            let supported = o.supported;
            let step1 = o.step(first).filter(|_| supported);
            let fin = o.step(last).filter(|_| supported);
            let if_supported = |b: bool| supported.then_some(b);
            vec![
                Cell::Text(&r.codice_istat),
                Cell::Text(&r.denominazione),
                Cell::Text(&r.sigla_provincia),
                Cell::Text(&r.codice_ipa),
                Cell::Integer(r.popolazione),
                Cell::Text(r.facts.adhesion.code()),
                Cell::Date(r.facts.adhesion_date),
                if o.grant_eur > 0 { Cell::Integer(o.grant_eur) } else { Cell::Bool(None) },
                Cell::Bool(if_supported(step1.is_some_and(|s| s.reached_on.is_some()))),
                Cell::Bool(if_supported(step1.is_some_and(|s| s.on_time))),
                Cell::Date(step1.and_then(|s| s.reached_on)),
                Cell::Bool(if_supported(fin.is_some_and(|s| s.reached_on.is_some()))),
                Cell::Date(fin.and_then(|s| s.reached_on)),
                Cell::Integer(c.pagopa_active),
                Cell::Integer(c.pagopa_applicable),
                Cell::Integer(c.pagopa_activated_in_project),
                Cell::Integer(c.io_active),
                Cell::Bool(Some(r.facts.io_via_region)),
                Cell::Integer(c.online_spid_or_cie),
                Cell::Bool(if_supported(o.all_objectives_on_time)),
                r.facts.renunciation.as_ref().map_or(Cell::Bool(None), |x| Cell::Text(x.kind.code())),
                Cell::Date(r.facts.renunciation.as_ref().map(|x| x.on)),
            ]
        }),
    )?;

    let sheet = sheets::add(&mut book)?.set_name("Obiettivi")?;
    table(
        sheet,
        &f,
        &[
            "codice_istat",
            "denominazione",
            "obiettivo",
            "piattaforma",
            "traguardo",
            "descrizione",
            "scadenza",
            "raggiunto",
            "entro_scadenza",
            "data_raggiungimento",
        ],
        x.comuni.iter().filter(|e| e.outcome.supported).flat_map(|e| {
            s.programme.objectives.iter().zip(&e.outcome.objectives).map(|(objective, o)| {
                vec![
                    Cell::Text(&e.record.codice_istat),
                    Cell::Text(&e.record.denominazione),
                    Cell::Text(&objective.code),
                    Cell::Text(objective.platform.code()),
                    Cell::Text(&objective.step),
                    Cell::Text(&objective.description),
                    Cell::Date(Some(objective.deadline)),
                    Cell::Bool(Some(o.reached_on.is_some())),
                    Cell::Bool(Some(o.on_time)),
                    Cell::Date(o.reached_on),
                ]
            })
        }),
    )?;

    let exported: HashSet<&str> = x.comuni.iter().map(|e| e.record.codice_istat.as_str()).collect();
    let name_of = |code: &str| s.find(code).map(|e| e.record.denominazione.as_str()).unwrap_or_default();
    let sheet = sheets::add(&mut book)?.set_name("Servizi")?;
    let services = x.services;
    let pagopa = services.pagopa.iter().filter(|p| exported.contains(p.comune.as_str())).map(|p| {
        vec![
            Cell::Text(&p.comune),
            Cell::Text(name_of(&p.comune)),
            Cell::Text("pagopa"),
            Cell::Text(&p.code),
            Cell::Text(&p.name),
            Cell::Bool(Some(p.applicable)),
            Cell::Date(p.active_since),
            Cell::Date(p.deactivated_on),
            Cell::Bool(Some(p.on_mypay)),
            Cell::Date(None),
            Cell::Date(None),
        ]
    });
    let io = services.io.iter().filter(|p| exported.contains(p.comune.as_str())).map(|p| {
        vec![
            Cell::Text(&p.comune),
            Cell::Text(name_of(&p.comune)),
            Cell::Text("io"),
            Cell::Text(&p.code),
            Cell::Text(&p.name),
            Cell::Bool(None),
            Cell::Date(p.active_since),
            Cell::Date(p.deactivated_on),
            Cell::Bool(None),
            Cell::Date(None),
            Cell::Date(None),
        ]
    });
    let online = services.online.iter().filter(|p| exported.contains(p.comune.as_str())).map(|p| {
        vec![
            Cell::Text(&p.comune),
            Cell::Text(name_of(&p.comune)),
            Cell::Text("spid_cie"),
            Cell::Text(""),
            Cell::Text(&p.name),
            Cell::Bool(None),
            Cell::Date(None),
            Cell::Date(None),
            Cell::Bool(None),
            Cell::Date(p.spid_since),
            Cell::Date(p.cie_since),
        ]
    });
    table(
        sheet,
        &f,
        &[
            "codice_istat",
            "denominazione",
            "piattaforma",
            "codice",
            "nome",
            "applicabile",
            "attivo_dal",
            "disattivato_il",
            "su_mypay",
            "spid_dal",
            "cie_dal",
        ],
        pagopa.chain(io).chain(online),
    )?;

    let sheet = sheets::add(&mut book)?.set_name("Blocchi")?;
    let header = ["codice_istat", "denominazione", "categoria", "descrizione", "aperto_il", "risolto_il"];
    match &x.blockers {
        Some(rows) => {
            table(
                sheet,
                &f,
                &header,
                rows.iter().filter(|b| exported.contains(b.comune.as_str())).map(|b| {
                    vec![
                        Cell::Text(&b.comune),
                        Cell::Text(name_of(&b.comune)),
                        Cell::Text(&b.category),
                        Cell::Text(&b.description),
                        Cell::Date(Some(b.opened_on)),
                        Cell::Date(b.resolved_on),
                    ]
                }),
            )?;
        }
        None => {
            sheet.write_string(0, 0, "I blocchi non sono dati pubblici: sono esportati solo per chi ha effettuato l'accesso, per i comuni che può consultare.")?;
        }
    }

    let sheet = sheets::add(&mut book)?.set_name("Filtri")?;
    sheet.write_string_with_format(0, 0, "Voce", &f.header)?;
    sheet.write_string_with_format(0, 1, "Valore", &f.header)?;
    let mut widths = Widths::default();
    widths.text(0, "Voce");
    widths.text(1, "Valore");
    let mut r = 1;
    let mut line = |sheet: &mut Worksheet, k: &str, v: &str| -> Result<(), XlsxError> {
        sheet.write_string(r, 0, k)?;
        crate::exports::formula::write_text(sheet, r, 1, v, &f.quoted)?;
        widths.text(0, k);
        widths.text(1, v);
        r += 1;
        Ok(())
    };
    line(sheet, "Programma", &s.programme.name)?;
    line(sheet, "Dati al", &crate::format::date(s.as_of))?;
    line(sheet, "File creato il", &x.made_at)?;
    line(sheet, "Dati dimostrativi", if s.demo { "sì" } else { "no" })?;
    line(sheet, "Comuni esportati", &x.comuni.len().to_string())?;
    line(sheet, "Licenza", licence)?;
    if x.filters.is_empty() {
        line(sheet, "Filtri", "nessuno: tutti i comuni della Puglia")?;
    }
    for phrase in &x.filters {
        line(sheet, "Filtro", phrase)?;
    }
    line(sheet, "Vista (parametri)", if x.query.is_empty() { "—" } else { &x.query })?;
    sheet.set_freeze_panes(1, 0)?;
    widths.apply(sheet)?;

    book.save_to_buffer()
}
