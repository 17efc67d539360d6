//! The comune page's forecasts, built from the snapshot's (the core's) results.

use super::ForecastView;
use crate::{
    dashboard::chart::{forecast_chart, ForecastSeries},
    evaluation::Evaluated,
    rules::{Platform, Programme, ProgressUnit},
};

/// What an objective's rule measures, in words.
fn measure(platform: Platform, unit: &ProgressUnit) -> String {
    match (platform, unit) {
        (_, ProgressUnit::NewServices) => "Servizi pagoPA nuovi attivi".to_string(),
        (_, ProgressUnit::ApplicableServices { total }) => {
            format!("Servizi pagoPA attivi (su {} applicabili)", crate::format::int(*total))
        }
        (_, ProgressUnit::SpidAndCieServices) => "Servizi online con SPID e CIE".to_string(),
        (Platform::PagoPa, _) => "Servizi pagoPA attivi".to_string(),
        (Platform::AppIo, _) => "Servizi pubblicati su App IO".to_string(),
        (Platform::SpidCie, _) => "Servizi online con SPID".to_string(),
    }
}

/// The forecasts of comune `e`, in the programme's order of objectives, each with its chart.
pub fn views(programme: &Programme, e: &Evaluated) -> Vec<ForecastView> {
    e.forecasts
        .iter()
        .filter_map(|f| {
            let objective = programme.objectives.iter().find(|o| o.code == f.objective)?;
            let unit = &e.outcome.objectives.iter().find(|o| o.code == f.objective)?.progress.unit;
            let measure = measure(objective.platform, unit);
            let grafico = forecast_chart(&ForecastSeries {
                measure: &measure,
                history: &f.history,
                required: f.required,
                deadline: f.deadline,
                expected: f.forecast.expected,
                earliest: f.forecast.earliest,
                latest: f.forecast.latest,
                at_risk: f.forecast.at_risk,
            })
            .inspect_err(|err| tracing::error!(error = %err, "drawing a forecast chart failed"))
            .ok();
            Some(ForecastView {
                objective_code: f.objective.clone(),
                platform: objective.platform.label().to_string(),
                description: objective.description.clone(),
                measure,
                current: f.current,
                required: f.required,
                deadline: f.deadline,
                expected: f.forecast.expected,
                earliest: f.forecast.earliest,
                latest: f.forecast.latest,
                at_risk: f.forecast.at_risk,
                method: f.forecast.method,
                per_week: f.forecast.per_day * 7.0,
                history: f.history.clone(),
                grafico,
            })
        })
        .collect()
}
