//! `GET /export/comuni.csv`: the open-data contract. Columns are fixed; later versions only add
//! columns at the end. Booleans `si`/`no`, dates ISO `YYYY-MM-DD`, empty when not applicable.

use axum::{
    extract::{Query, State},
    http::header,
    response::{IntoResponse, Response},
};

use super::{ComuniFilter, ListParams};
use crate::{
    error::AppError,
    evaluation::{Evaluated, Snapshot},
    state::AppState,
};

pub const HEADER: [&str; 19] = [
    "codice_istat",
    "denominazione",
    "sigla_provincia",
    "codice_ipa",
    "popolazione",
    "adesione",
    "data_adesione",
    "contributo_eur",
    "primo_step",
    "primo_step_entro_scadenza",
    "data_primo_step",
    "obiettivi_finali",
    "data_obiettivi_finali",
    "servizi_pagopa_attivi",
    "servizi_pagopa_applicabili",
    "servizi_pagopa_attivati_nel_progetto",
    "servizi_io_attivi",
    "io_tramite_regione",
    "servizi_spid_cie",
];

/// Every comune matching the filter and the search (all pages), in the list's order
/// (`ordina`, `verso`; `pagina` is ignored): exactly what `/comuni` shows with the same query.
pub async fn comuni_csv(
    State(state): State<AppState>,
    Query(filter): Query<ComuniFilter>,
    Query(vista): Query<ListParams>,
) -> Result<Response, AppError> {
    let filter = filter.validate()?;
    let vista = vista.validate()?;
    let snapshot = state.snapshot().await?;
    let mut rows = snapshot.list(&filter);
    vista.sort(&mut rows);
    let comuni = rows.iter().filter_map(|r| snapshot.find(&r.codice_istat));
    let body = write_csv(&snapshot, comuni).map_err(|e| {
        tracing::error!(error = %e, "CSV export failed");
        AppError::Internal
    })?;
    // Demo data says so even in the file name, since the CSV itself has no room for a label.
    let filename = format!(
        "comuni-{}{}.csv",
        if snapshot.demo { "dati-dimostrativi-" } else { "" },
        snapshot.as_of.format("%Y-%m-%d")
    );
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{filename}\"")),
        ],
        body,
    )
        .into_response())
}

/// Writes the rows of `comuni` in the contract's format.
pub fn write_csv<'a>(
    snapshot: &Snapshot,
    comuni: impl Iterator<Item = &'a Evaluated>,
) -> Result<Vec<u8>, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(HEADER)?;
    let (first, last) = (snapshot.first_step_code(), snapshot.last_step_code());
    let yes_no = |b: bool| if b { "si" } else { "no" }.to_string();
    let date = |d: Option<chrono::NaiveDate>| d.map(|d| d.format("%Y-%m-%d").to_string()).unwrap_or_default();
    for e in comuni {
        let (r, o, c) = (&e.record, &e.outcome, &e.counts);
        let supported = o.supported;
        let step1 = o.step(first).filter(|_| supported);
        let fin = o.step(last).filter(|_| supported);
        let if_supported = |v: String| if supported { v } else { String::new() };
        w.write_record([
            r.codice_istat.clone(),
            r.denominazione.clone(),
            r.sigla_provincia.clone(),
            r.codice_ipa.clone(),
            r.popolazione.to_string(),
            r.facts.adhesion.code().to_string(),
            date(r.facts.adhesion_date),
            if o.grant_eur > 0 { o.grant_eur.to_string() } else { String::new() },
            if_supported(yes_no(step1.is_some_and(|s| s.reached_on.is_some()))),
            if_supported(yes_no(step1.is_some_and(|s| s.on_time))),
            date(step1.and_then(|s| s.reached_on)),
            if_supported(yes_no(fin.is_some_and(|s| s.reached_on.is_some()))),
            date(fin.and_then(|s| s.reached_on)),
            c.pagopa_active.to_string(),
            c.pagopa_applicable.to_string(),
            c.pagopa_activated_in_project.to_string(),
            c.io_active.to_string(),
            yes_no(r.facts.io_via_region),
            c.online_spid_or_cie.to_string(),
        ])?;
    }
    w.into_inner().map_err(|e| csv::Error::from(e.into_error()))
}
