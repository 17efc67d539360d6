//! Loads a programme's rules (steps, objectives, funding bands) from their rows.

use chrono::NaiveDate;

use super::{on_db, Db};
use crate::rules::{FundingBand, Objective, Platform, Programme, RuleKind, Step};

/// The programme the Puglia deployment tracks today.
pub const FONDO_INNOVAZIONE: &str = "fondo-innovazione-2020";

#[derive(sqlx::FromRow)]
struct ProgrammeRow {
    code: String,
    name: String,
    start_date: NaiveDate,
    end_date: NaiveDate,
}

#[derive(sqlx::FromRow)]
struct StepRow {
    code: String,
    name: String,
    step_order: i64,
    deadline: NaiveDate,
    share_percent: i64,
    renounce_by: Option<NaiveDate>,
}

#[derive(sqlx::FromRow)]
struct BandRow {
    min_population: i64,
    max_population: Option<i64>,
    amount_eur: i64,
}

#[derive(sqlx::FromRow)]
struct ObjectiveRow {
    code: String,
    step: String,
    platform: String,
    rule: String,
    threshold: i64,
    threshold_if_already_on: Option<i64>,
    new_since: Option<NaiveDate>,
    requires_platform_adhesion: bool,
    deadline: NaiveDate,
    description: String,
    confirmed_by_source: bool,
}

/// Loads programme `code`, or `None` if there is no such programme.
pub async fn load(db: &Db, code: &str) -> Result<Option<Programme>, sqlx::Error> {
    on_db!(db, pool => {
        let Some(p) = sqlx::query_as::<_, ProgrammeRow>(
            "SELECT code, name, start_date, end_date FROM programme WHERE code = $1",
        )
        .bind(code)
        .fetch_optional(pool)
        .await?
        else {
            return Ok(None);
        };
        let steps = sqlx::query_as::<_, StepRow>(
            "SELECT code, name, step_order, deadline, share_percent, renounce_by FROM programme_step \
             WHERE programme = $1 ORDER BY step_order",
        )
        .bind(code)
        .fetch_all(pool)
        .await?;
        let bands = sqlx::query_as::<_, BandRow>(
            "SELECT min_population, max_population, amount_eur FROM funding_band \
             WHERE programme = $1 ORDER BY min_population",
        )
        .bind(code)
        .fetch_all(pool)
        .await?;
        let objectives = sqlx::query_as::<_, ObjectiveRow>(
            "SELECT code, step, platform, rule, threshold, threshold_if_already_on, new_since, \
             requires_platform_adhesion, deadline, description, confirmed_by_source \
             FROM objective WHERE programme = $1 ORDER BY display_order",
        )
        .bind(code)
        .fetch_all(pool)
        .await?;
        let objectives = objectives
            .into_iter()
            .map(|o| {
                Ok(Objective {
                    platform: Platform::from_code(&o.platform)
                        .ok_or_else(|| decode_error(format!("unknown platform {}", o.platform)))?,
                    rule: RuleKind::from_code(&o.rule)
                        .ok_or_else(|| decode_error(format!("unknown rule {}", o.rule)))?,
                    code: o.code,
                    step: o.step,
                    threshold: o.threshold,
                    threshold_if_already_on: o.threshold_if_already_on,
                    new_since: o.new_since,
                    requires_platform_adhesion: o.requires_platform_adhesion,
                    deadline: o.deadline,
                    description: o.description,
                    confirmed_by_source: o.confirmed_by_source,
                })
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()?;
        Ok(Some(Programme {
            code: p.code,
            name: p.name,
            start: p.start_date,
            end: p.end_date,
            steps: steps
                .into_iter()
                .map(|s| Step {
                    code: s.code,
                    name: s.name,
                    order: s.step_order,
                    deadline: s.deadline,
                    share_percent: s.share_percent,
                    renounce_by: s.renounce_by,
                })
                .collect(),
            objectives,
            bands: bands
                .into_iter()
                .map(|b| FundingBand {
                    min_population: b.min_population,
                    max_population: b.max_population,
                    amount_eur: b.amount_eur,
                })
                .collect(),
        }))
    })
}

pub(crate) fn decode_error(message: String) -> sqlx::Error {
    sqlx::Error::Decode(message.into())
}
