//! The read-only JSON API of the public part (`/api/v1/…`): the same snapshot, filters and
//! rules as the pages, so the API and `/comuni` always count the same comuni. Never personal
//! data, blockers, notes or evidence: only what the public pages show.
//!
//! Its OpenAPI 3 document (`/api/v1/openapi.json`) is derived from these very types and
//! handlers by utoipa, so a field cannot be added to a response without appearing in the
//! document; `integration::opendata` checks every answer against the document's schemas.

use axum::{
    extract::{rejection::QueryRejection, Path, Query, State},
    http::{header, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};

use super::{LICENCE_ID, LICENCE_URL};
use crate::{
    comuni::{ComuniFilter, ListParams, ValidFilter},
    error::AppError,
    evaluation::{Evaluated, Snapshot},
    state::AppState,
};

/// Rows per page when `per_pagina` is not given, and the most a page may hold.
pub const DEFAULT_PER_PAGE: usize = 50;
pub const MAX_PER_PAGE: usize = 500;
/// The highest page number taken (a page past the last is empty).
pub const MAX_PAGE: usize = 1_000_000;

/// An error of the API, as JSON with the HTTP status repeated in the body.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiError {
    pub errore: ApiErrorBody,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApiErrorBody {
    /// The HTTP status (400, 404, 500).
    pub stato: u16,
    /// What went wrong, in Italian; never internals.
    pub messaggio: String,
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        ApiError { errore: ApiErrorBody { stato: e.status().as_u16(), messaggio: e.to_string() } }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(e: QueryRejection) -> Self {
        tracing::debug!(error = %e, "API query refused");
        AppError::BadRequest(
            "Parametri della richiesta non validi: ogni parametro può comparire una sola volta.".into(),
        )
        .into()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.errore.stato).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (status, Json(self)).into_response()
    }
}

/// What every answer says about the data it holds.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Metadati {
    /// The programme the figures belong to.
    pub programma: String,
    /// The day the figures refer to (they are computed by the rules on that day).
    pub data_riferimento: NaiveDate,
    /// `true` when the database holds the demonstration dataset, not real data.
    pub dati_dimostrativi: bool,
    /// The licence of the data (SPDX identifier) and its text.
    pub licenza: String,
    pub licenza_url: String,
    /// The filters applied, as a query string (empty: none).
    pub filtro: String,
    /// The past day asked with `?al=`, when the figures are not today's (absent: today).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub situazione_al: Option<NaiveDate>,
}

impl Metadati {
    pub fn of(snapshot: &Snapshot, filter: &ValidFilter) -> Self {
        Metadati {
            programma: snapshot.programme.name.clone(),
            data_riferimento: snapshot.as_of,
            dati_dimostrativi: snapshot.demo,
            licenza: LICENCE_ID.into(),
            licenza_url: LICENCE_URL.into(),
            filtro: filter.query(),
            situazione_al: crate::state::AppState::past_day(snapshot),
        }
    }
}

/// `/api/v1/province`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ProvinceRisposta {
    pub metadati: Metadati,
    pub province: Vec<Provincia>,
}

/// One province's figures over the comuni that match the filters (as the dashboard's table).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Provincia {
    pub sigla: String,
    pub nome: String,
    /// Comuni matching the filters: the denominator of the adhesion figures.
    pub comuni: i64,
    pub aderenti: i64,
    pub aderenti_in_ritardo: i64,
    /// Non aderenti, including those that renounced.
    pub non_aderenti: i64,
    /// Aderenti plus aderenti in ritardo: the denominator of the objectives' figures.
    pub supportati: i64,
    /// Step 1 reached, on time or late.
    pub primo_step: i64,
    /// Every objective reached by its deadline.
    pub tutti_obiettivi: i64,
    pub contributo_assegnato_eur: i64,
    pub contributo_maturato_eur: i64,
    /// The tranches whose deadline has not passed yet.
    pub contributo_possibile_eur: i64,
    pub contributo_perso_eur: i64,
    pub contributo_rinunciato_eur: i64,
}

/// `/api/v1/comuni`: one page of the comuni matching the filters.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ComuniRisposta {
    pub metadati: Metadati,
    /// Comuni matching the filters, on every page.
    pub totale: usize,
    /// 1-based; a page past the last is empty.
    pub pagina: usize,
    pub per_pagina: usize,
    /// At least 1.
    pub pagine: usize,
    pub comuni: Vec<Comune>,
}

/// `/export/comuni.json`: every comune of a view, no pages. The export writes this shape chunk
/// by chunk (`comuni::export`, streamed); the type names it for the schema and for readers.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Esportazione {
    pub metadati: Metadati,
    pub totale: usize,
    pub comuni: Vec<Comune>,
}

/// `/api/v1/comuni/{codice_istat}`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ComuneRisposta {
    pub metadati: Metadati,
    pub comune: Comune,
}

/// A comune: registry, adhesion, where it stands on each step and objective, service counts.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Comune {
    /// Six digits, with leading zeros (`072006`).
    pub codice_istat: String,
    pub denominazione: String,
    pub codice_catastale: String,
    pub sigla_provincia: String,
    pub provincia: String,
    /// The comune's code in the IPA index of public administrations.
    pub codice_ipa: String,
    /// Resident population (ISTAT).
    pub popolazione: i64,
    pub adesione: Adesione,
    /// The programme's steps, in order; empty for comuni outside the programme.
    pub traguardi: Vec<Traguardo>,
    /// The objectives of every step; empty for comuni outside the programme.
    pub obiettivi: Vec<Obiettivo>,
    pub servizi: Servizi,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Adesione {
    /// `aderente`, `aderente_in_ritardo`, `non_aderente` or `rinuncia`.
    pub stato: String,
    /// The same in words.
    pub descrizione: String,
    pub data: Option<NaiveDate>,
    /// The grant assigned (0 outside the programme).
    pub contributo_eur: i64,
    pub contributo_maturato_eur: i64,
    pub contributo_perso_eur: i64,
    pub contributo_possibile_eur: i64,
    pub contributo_rinunciato_eur: i64,
    /// What the comune renounced: `saldo` (the final tranche) or `contributo` (the whole
    /// grant); absent when nothing.
    pub rinuncia: Option<String>,
    /// The day of the renunciation.
    pub data_rinuncia: Option<NaiveDate>,
}

/// Where a comune stands on a step or an objective.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Traguardo {
    pub codice: String,
    pub nome: String,
    pub scadenza: NaiveDate,
    /// The step's share of the grant, in percent.
    pub quota_percentuale: i64,
    /// `raggiunto`, `raggiunto_in_ritardo` or `non_raggiunto`.
    pub stato: String,
    /// The same in words ("Raggiunto il 15/02/2021").
    pub descrizione: String,
    pub data_raggiungimento: Option<NaiveDate>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Obiettivo {
    pub codice: String,
    /// `pagopa`, `io` or `spid_cie`.
    pub piattaforma: String,
    /// The code of the step the objective belongs to.
    pub traguardo: String,
    pub descrizione: String,
    pub scadenza: NaiveDate,
    /// `raggiunto`, `raggiunto_in_ritardo` or `non_raggiunto`.
    pub stato: String,
    pub data_raggiungimento: Option<NaiveDate>,
}

/// Active services on the reference day.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Servizi {
    pub pagopa_attivi: i64,
    /// Applicable collection services: the denominator of `pagopa_attivi`.
    pub pagopa_applicabili: i64,
    /// Active services activated during the programme.
    pub pagopa_attivati_nel_progetto: i64,
    pub io_attivi: i64,
    /// The comune's IO services are published through the Region.
    pub io_tramite_regione: bool,
    /// Online services reachable with SPID or CIE.
    pub spid_cie: i64,
}

/// Sorting and paging of `/api/v1/comuni`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Paginazione {
    /// `nome`, `provincia`, `popolazione`, `adesione`, `primo_step` or `finale` (default: ISTAT
    /// code).
    pub ordina: Option<String>,
    /// `asc` (default) or `desc`.
    pub verso: Option<String>,
    /// 1-based page number (default 1).
    pub pagina: Option<String>,
    /// Comuni per page, 1 to 500 (default 50).
    pub per_pagina: Option<String>,
}

fn state_code(reached_on: Option<NaiveDate>, on_time: bool) -> &'static str {
    match reached_on {
        Some(_) if on_time => "raggiunto",
        Some(_) => "raggiunto_in_ritardo",
        None => "non_raggiunto",
    }
}

/// The API's view of one evaluated comune.
pub fn comune(snapshot: &Snapshot, e: &Evaluated) -> Comune {
    let (r, o, c) = (&e.record, &e.outcome, &e.counts);
    let programme = &snapshot.programme;
    let traguardi = if o.supported {
        programme
            .steps
            .iter()
            .filter_map(|step| {
                let s = o.step(&step.code)?;
                Some(Traguardo {
                    codice: step.code.clone(),
                    nome: step.name.clone(),
                    scadenza: step.deadline,
                    quota_percentuale: step.share_percent,
                    stato: state_code(s.reached_on, s.on_time).into(),
                    descrizione: crate::comuni::StepState::reached(s.reached_on, s.on_time).label(),
                    data_raggiungimento: s.reached_on,
                })
            })
            .collect()
    } else {
        Vec::new()
    };
    let obiettivi = if o.supported {
        programme
            .objectives
            .iter()
            .zip(&o.objectives)
            .map(|(objective, outcome)| Obiettivo {
                codice: objective.code.clone(),
                piattaforma: objective.platform.code().into(),
                traguardo: objective.step.clone(),
                descrizione: objective.description.clone(),
                scadenza: objective.deadline,
                stato: state_code(outcome.reached_on, outcome.on_time).into(),
                data_raggiungimento: outcome.reached_on,
            })
            .collect()
    } else {
        Vec::new()
    };
    Comune {
        codice_istat: r.codice_istat.clone(),
        denominazione: r.denominazione.clone(),
        codice_catastale: r.codice_catastale.clone(),
        sigla_provincia: r.sigla_provincia.clone(),
        provincia: r.provincia.clone(),
        codice_ipa: r.codice_ipa.clone(),
        popolazione: r.popolazione,
        adesione: Adesione {
            stato: r.facts.adhesion.code().into(),
            descrizione: r.facts.adhesion.label().into(),
            data: r.facts.adhesion_date,
            contributo_eur: o.grant_eur,
            contributo_maturato_eur: o.earned_eur,
            contributo_perso_eur: o.lost_eur,
            contributo_possibile_eur: o.possible_eur,
            contributo_rinunciato_eur: o.renounced_eur,
            rinuncia: r.facts.renunciation.as_ref().map(|x| x.kind.code().to_string()),
            data_rinuncia: r.facts.renunciation.as_ref().map(|x| x.on),
        },
        traguardi,
        obiettivi,
        servizi: Servizi {
            pagopa_attivi: c.pagopa_active,
            pagopa_applicabili: c.pagopa_applicable,
            pagopa_attivati_nel_progetto: c.pagopa_activated_in_project,
            io_attivi: c.io_active,
            io_tramite_regione: r.facts.io_via_region,
            spid_cie: c.online_spid_or_cie,
        },
    }
}

/// The province table of the dashboard, for the same filters.
pub fn province(snapshot: &Snapshot, filter: &ValidFilter) -> Vec<Provincia> {
    snapshot
        .summary(filter)
        .province
        .into_iter()
        .map(|p| Provincia {
            comuni: p.totale,
            sigla: p.sigla,
            nome: p.nome,
            aderenti: p.aderenti,
            aderenti_in_ritardo: p.in_ritardo,
            non_aderenti: p.non_aderenti,
            supportati: p.supportati,
            primo_step: p.primo_step,
            tutti_obiettivi: p.tutti_obiettivi,
            contributo_assegnato_eur: p.contributo_assegnato,
            contributo_maturato_eur: p.contributo_maturato,
            contributo_possibile_eur: p.contributo_possibile,
            contributo_perso_eur: p.contributo_perso,
            contributo_rinunciato_eur: p.contributo_rinunciato,
        })
        .collect()
}

/// Checks `per_pagina` and `pagina`: (page, rows per page).
pub fn paging(p: &Paginazione) -> Result<(usize, usize), AppError> {
    let number =
        |v: &Option<String>, name: &str, max: usize, default: usize| match v.as_deref().map(str::trim) {
            None | Some("") => Ok(default),
            Some(s) => s.parse::<usize>().ok().filter(|n| (1..=max).contains(n)).ok_or_else(|| {
                AppError::BadRequest(format!(
                    "Valore non valido per «{name}»: «{s}». Indicare un numero da 1 a {max}."
                ))
            }),
        };
    Ok((
        number(&p.pagina, "pagina", MAX_PAGE, 1)?,
        number(&p.per_pagina, "per_pagina", MAX_PER_PAGE, DEFAULT_PER_PAGE)?,
    ))
}

type ApiResult<T> = Result<Json<T>, ApiError>;

/// The provinces of Puglia with their figures over the comuni that match the filters.
#[utoipa::path(
    get,
    path = "/api/v1/province",
    tag = "dati",
    params(ComuniFilter),
    responses(
        (status = 200, description = "Le province con i loro dati", body = ProvinceRisposta),
        (status = 400, description = "Filtro non valido", body = ApiError),
    )
)]
pub async fn get_province(
    State(state): State<AppState>,
    filter: Result<Query<ComuniFilter>, QueryRejection>,
    extensions: axum::http::Extensions,
) -> ApiResult<ProvinceRisposta> {
    let Query(filter) = filter?;
    let filter = filter
        .validate_for(crate::auth::session::viewer_of(&extensions).as_ref(), &state.territory)
        .map_err(AppError::from)?;
    let snapshot = state.snapshot_on(filter.al).await?;
    Ok(Json(ProvinceRisposta {
        metadati: Metadati::of(&snapshot, &filter),
        province: province(&snapshot, &filter),
    }))
}

/// The comuni that match the filters (the same as `/comuni`), one page at a time, with the
/// total.
#[utoipa::path(
    get,
    path = "/api/v1/comuni",
    tag = "dati",
    params(ComuniFilter, Paginazione),
    responses(
        (status = 200, description = "Una pagina di comuni e il totale", body = ComuniRisposta),
        (status = 400, description = "Filtro, ordinamento o pagina non validi", body = ApiError),
    )
)]
pub async fn get_comuni(
    State(state): State<AppState>,
    filter: Result<Query<ComuniFilter>, QueryRejection>,
    paginazione: Result<Query<Paginazione>, QueryRejection>,
    extensions: axum::http::Extensions,
) -> ApiResult<ComuniRisposta> {
    let (Query(filter), Query(p)) = (filter?, paginazione?);
    let filter = filter
        .validate_for(crate::auth::session::viewer_of(&extensions).as_ref(), &state.territory)
        .map_err(AppError::from)?;
    let vista = ListParams { ordina: p.ordina.clone(), verso: p.verso.clone(), pagina: None }
        .validate()
        .map_err(AppError::from)?;
    let (pagina, per_pagina) = paging(&p)?;
    let snapshot = state.snapshot_on(filter.al).await?;
    let mut rows = snapshot.list(&filter);
    vista.sort(&mut rows);
    let totale = rows.len();
    let comuni = rows
        .iter()
        .skip((pagina - 1).saturating_mul(per_pagina))
        .take(per_pagina)
        .filter_map(|r| snapshot.find(&r.codice_istat))
        .map(|e| comune(&snapshot, e))
        .collect();
    Ok(Json(ComuniRisposta {
        metadati: Metadati::of(&snapshot, &filter),
        totale,
        pagina,
        per_pagina,
        pagine: totale.div_ceil(per_pagina).max(1),
        comuni,
    }))
}

/// One comune by its ISTAT code.
#[utoipa::path(
    get,
    path = "/api/v1/comuni/{codice_istat}",
    tag = "dati",
    params(("codice_istat" = String, Path), Giorno),
    responses(
        (status = 200, description = "Il comune", body = ComuneRisposta),
        (status = 400, description = "Giorno non valido o fuori dal programma", body = ApiError),
        (status = 404, description = "Nessun comune con questo codice", body = ApiError),
    )
)]
pub async fn get_comune(
    State(state): State<AppState>,
    Path(codice): Path<String>,
    giorno: Result<Query<Giorno>, QueryRejection>,
) -> ApiResult<ComuneRisposta> {
    let Query(giorno) = giorno?;
    let day = ComuniFilter { al: giorno.al, ..Default::default() }.validate().map_err(AppError::from)?.al;
    let snapshot = state.snapshot_on(day).await?;
    let e = snapshot.find(codice.trim()).ok_or_else(|| {
        AppError::not_found(format!("Comune non trovato: nessun comune ha il codice ISTAT «{codice}»."))
    })?;
    Ok(Json(ComuneRisposta {
        metadati: Metadati::of(&snapshot, &ValidFilter::default()),
        comune: comune(&snapshot, e),
    }))
}

/// The day of one comune's figures: `?al=2021-02-28` (or `28/02/2021`); absent, today.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Giorno {
    /// The programme as it stood at the end of this day, from its start to today.
    #[serde(default)]
    pub al: Option<String>,
}

/// Any other address under `/api/v1/`: a JSON 404, not the HTML page.
pub async fn unknown() -> ApiError {
    AppError::not_found("Risorsa non trovata: le risorse disponibili sono elencate in /api/v1/openapi.json.")
        .into()
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Traguardi — dati aperti",
        description = "I dati pubblici del Fondo Innovazione 2020-2021 nei comuni della Puglia: anagrafica, adesione, traguardi, obiettivi e numero di servizi attivi. Gli stessi filtri delle pagine /comuni e del cruscotto. Licenza CC BY 4.0.",
        license(name = "CC-BY-4.0", url = "https://creativecommons.org/licenses/by/4.0/"),
        version = "1.0.0",
    ),
    paths(get_province, get_comuni, get_comune),
    components(schemas(ApiError, ApiErrorBody)),
    tags((name = "dati", description = "Dati pubblici, in sola lettura"))
)]
pub struct ApiDoc;

/// The OpenAPI document of a deployment following `territory` (its provinces are the allowed
/// values of `provincia`). The server builds it once, on the first request, and keeps it in its
/// state (`AppState::openapi_json`).
pub fn openapi_json(territory: &crate::comuni::Territory) -> String {
    let derived = serde_json::to_value(ApiDoc::openapi()).expect("the OpenAPI document serialises");
    let described = super::descriptions::document(super::params::document(derived, territory));
    serde_json::to_string_pretty(&described).expect("JSON serialises")
}

pub async fn get_openapi(State(state): State<AppState>) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], state.openapi_json()).into_response()
}

/// Properties of the API's paging parameters (see `crate::fuzz`): any query string is refused
/// by a 400 in words or gives a page and a page size within their bounds.
#[cfg(all(test, feature = "ssr"))]
mod props {
    use proptest::prelude::*;

    use super::*;
    use crate::fuzz::{check, query_string, uri};

    #[test]
    fn prop_paging_is_within_bounds_or_refused_in_words() {
        let keys =
            &["pagina", "per_pagina", "ordina", "verso", "0", "1", "500", "501", "18446744073709551616"];
        check("opendata::api::paging", query_string(keys), |query| {
            let Some(uri) = uri(&query) else { return Ok(()) };
            let p = match Query::<Paginazione>::try_from_uri(&uri) {
                Ok(Query(p)) => p,
                // What the route answers then: a 400 in words.
                Err(e) => {
                    let ApiError { errore } = ApiError::from(e);
                    prop_assert_eq!(errore.stato, 400);
                    return Ok(());
                }
            };
            match paging(&p) {
                Ok((page, per_page)) => {
                    prop_assert!((1..=1_000_000).contains(&page));
                    prop_assert!((1..=MAX_PER_PAGE).contains(&per_page));
                }
                Err(AppError::BadRequest(m)) => prop_assert!(m.starts_with("Valore non valido")),
                Err(other) => prop_assert!(false, "not a 400: {other:?}"),
            }
            Ok(())
        });
    }
}
