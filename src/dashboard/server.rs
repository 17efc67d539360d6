//! Server functions of the dashboard: thin adapters over the cached
//! [`Snapshot`](crate::evaluation::Snapshot) and the cached drawings, plus the SVG downloads.

use leptos::prelude::*;

use super::{DashboardData, Graphics};
#[cfg(feature = "ssr")]
use crate::error::set_status_on_error;
use crate::{comuni::ComuniFilter, error::AppError};

/// The figures, tables and legend for the comuni matching `filter`.
#[server(endpoint = "cruscotto")]
pub async fn get_dashboard(#[server(default)] filter: ComuniFilter) -> Result<DashboardData, AppError> {
    let result = async {
        let state = crate::state::app_state()?;
        let filter = filter.validate_for(crate::auth::guard::viewer().as_ref(), &state.territory)?;
        let snapshot = state.snapshot_on(filter.al).await?;
        let map_status = snapshot.map_status(&filter);
        let legenda = super::map::legend_counts(&state.graphics.geometry(), &map_status)
            .into_iter()
            .map(|(status, n)| super::LegendEntry {
                label: status.label().to_string(),
                css: status.css_class().to_string(),
                pattern: status.pattern_id().to_string(),
                comuni: n as i64,
            })
            .collect();
        Ok(DashboardData {
            summary: snapshot.summary(&filter),
            filtro: filter.query(),
            fasce_popolazione: snapshot.population_choices(),
            legenda,
            servizi: super::chart::series_table(&snapshot.series(&filter)),
            al: crate::state::AppState::past_day(&snapshot),
        })
    }
    .await;
    set_status_on_error(&result);
    result
}

/// The four charts and the map for `filter`, as SVG (cached per data version and filter).
#[server(endpoint = "grafici")]
pub async fn get_graphics(#[server(default)] filter: ComuniFilter) -> Result<Graphics, AppError> {
    let result = async {
        let state = crate::state::app_state()?;
        let filter = filter.validate_for(crate::auth::guard::viewer().as_ref(), &state.territory)?;
        let snapshot = state.snapshot_on(filter.al).await?;
        let graphics = state.graphics.get(&snapshot, &filter, &state.limits.drawing).await?;
        Ok(Graphics::clone(&graphics))
    }
    .await;
    set_status_on_error(&result);
    result
}

/// `GET /grafici/{name}.svg?filters` or `.png`: one picture as a file to download, with the
/// data's day in its name. The PNG is drawn from the same SVG (off the async runtime, a few at
/// a time: past the queue, 503). `GET /grafici/servizi.csv?filters`: the points of the
/// services-over-time chart, every one (`giorno,servizi_pagopa_attivi,servizi_io_attivi`):
/// public aggregates, like the chart.
#[cfg(feature = "ssr")]
pub async fn download_svg(
    axum::extract::State(state): axum::extract::State<crate::state::AppState>,
    axum::extract::Path(file): axum::extract::Path<String>,
    crate::limits::query::Query(filter): crate::limits::query::Query<ComuniFilter>,
    extensions: axum::http::Extensions,
) -> Result<axum::response::Response, AppError> {
    use axum::{http::header, response::IntoResponse};

    let unknown = || {
        AppError::not_found(format!(
            "Grafico sconosciuto: «{file}». Grafici disponibili: {}, anche in PNG; i dati di servizi.svg anche in CSV (servizi.csv).",
            super::GRAPHICS_NAMES.map(|n| format!("{n}.svg")).join(", ")
        ))
    };
    let (name, extension) = file.rsplit_once('.').ok_or_else(unknown)?;
    let name = Some(name).filter(|n| super::GRAPHICS_NAMES.contains(n)).ok_or_else(unknown)?;
    // Every picture as SVG and PNG; the services chart's points also as data.
    if !matches!((name, extension), (_, "svg" | "png") | ("servizi", "csv")) {
        return Err(unknown());
    }
    let viewer = crate::auth::session::viewer_of(&extensions);
    let filter = filter.validate_for(viewer.as_ref(), &state.territory)?;
    let snapshot = state.snapshot_on(filter.al).await?;
    let filename = |extension: &str| {
        crate::comuni::export::file_name(&snapshot, &format!("traguardi-{name}"), extension)
    };
    let attachment = |content_type: &str, extension: &str, body: Vec<u8>| {
        (
            [
                (header::CONTENT_TYPE, content_type.to_string()),
                (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{}\"", filename(extension))),
            ],
            body,
        )
            .into_response()
    };
    if extension == "csv" {
        let points = super::chart::series_table(&snapshot.series(&filter));
        let body = series_csv(&points).map_err(|e| {
            tracing::error!(error = %e, "series CSV not written");
            AppError::INTERNAL
        })?;
        return Ok(attachment("text/csv; charset=utf-8", "csv", body));
    }
    let graphics = state.graphics.get(&snapshot, &filter, &state.limits.drawing).await?;
    let svg = standalone(graphics.by_name(name).ok_or_else(unknown)?);
    if extension == "svg" {
        return Ok(attachment("image/svg+xml; charset=utf-8", "svg", svg.into_bytes()));
    }
    // Rasterising takes CPU: a turn of the PNG limit (`TRAGUARDI_LIMITE_PNG`), held by the task.
    let permit = state.limits.png.acquire().await?;
    let drawn = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        super::png::render(&svg)
    })
    .await;
    match drawn {
        Ok(Ok(bytes)) => Ok(attachment("image/png", "png", bytes)),
        Ok(Err(e)) => {
            tracing::error!(picture = name, error = %e, "PNG not drawn");
            Err(AppError::INTERNAL)
        }
        Err(e) => {
            tracing::error!(picture = name, error = %e, "PNG task failed");
            Err(AppError::INTERNAL)
        }
    }
}

/// The series' points in the open-data CSV dialect: `giorno,servizi_pagopa_attivi,servizi_io_attivi`.
#[cfg(feature = "ssr")]
fn series_csv(points: &[super::SeriesPoint]) -> Result<Vec<u8>, csv::Error> {
    let mut w = crate::comuni::export::Dialect::Contract.writer(Vec::new());
    w.write_record(["giorno", "servizi_pagopa_attivi", "servizi_io_attivi"])?;
    for p in points {
        w.write_record([p.day.format("%Y-%m-%d").to_string(), p.pagopa.to_string(), p.io.to_string()])?;
    }
    w.into_inner().map_err(|e| e.into_error().into())
}

/// An inline SVG as a standalone file: plotters' output lacks the namespace an `.svg` file needs.
#[cfg(feature = "ssr")]
pub fn standalone(svg: &str) -> String {
    let body = if svg.contains("xmlns=\"http://www.w3.org/2000/svg\"") {
        svg.to_string()
    } else {
        svg.replacen("<svg ", "<svg xmlns=\"http://www.w3.org/2000/svg\" ", 1)
    };
    format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{body}")
}
