//! The comune page's «Previsioni» section: one figure per open objective, its verdict in words,
//! the chart and the same numbers as a table.

use leptos::prelude::*;

use super::{method_label, ForecastView};
use crate::format;

/// Nothing when there is no open objective (every deadline passed, or all reached): the section
/// only appears on a day before a deadline.
#[component]
pub fn ForecastSection(forecasts: Vec<ForecastView>) -> impl IntoView {
    (!forecasts.is_empty()).then(|| {
        view! {
            <section aria-labelledby="previsioni" data-testid="previsioni">
                <h2 id="previsioni">"Previsioni"</h2>
                <p class="note">
                    "Per ogni obiettivo non ancora raggiunto, il giorno in cui la sua regola dovrebbe essere soddisfatta al ritmo delle ultime settimane, con un intervallo; «a rischio» se quel giorno cade dopo la scadenza o se non c'è progresso. È una stima, non un impegno del comune."
                </p>
                {forecasts.into_iter().map(|f| view! { <ForecastFigure f /> }).collect_view()}
            </section>
        }
    })
}

#[component]
fn ForecastFigure(f: ForecastView) -> impl IntoView {
    let id = format!("previsione-{}", f.objective_code);
    let css = if f.at_risk { "stato stato-no" } else { "stato stato-ok" };
    view! {
        <figure class="chart" id=id.clone() data-previsione=f.objective_code.clone()>
            <h3>{format!("{}: {}", f.platform, f.description)}</h3>
            <p>
                <span class=css data-testid="esito-previsione">{f.verdict()}</span>
            </p>
            <dl class="scheda">
                <dt>"Misura"</dt>
                <dd>{format!("{}: {} su {} richiesti", f.measure, format::int(f.current), format::int(f.required))}</dd>
                <dt>"Scadenza"</dt>
                <dd>{format::date(f.deadline)}</dd>
                <dt>"Data prevista"</dt>
                <dd>{format::opt_date(f.expected)}</dd>
                <dt>"Intervallo"</dt>
                <dd>{f.range()}</dd>
                <dt>"Ritmo"</dt>
                <dd>{f.pace()}</dd>
                <dt>"Metodo"</dt>
                <dd>{method_label(f.method)}</dd>
            </dl>
            {f.grafico.clone().map(|svg| view! { <div class="chart-svg" inner_html=svg></div> })}
            <figcaption>
                {format!(
                    "{} misurati ogni settimana e proiezione fino alla data prevista.",
                    f.measure,
                )}
            </figcaption>
            <details>
                <summary>"Dati della previsione in tabella"</summary>
                <table class="table table-sm">
                    <caption>{format!("{}: misure settimanali", f.measure)}</caption>
                    <thead>
                        <tr>
                            <th scope="col">"Giorno"</th>
                            <th scope="col">"Valore"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {f
                            .history
                            .iter()
                            .map(|(d, v)| {
                                view! {
                                    <tr>
                                        <td>{format::date(*d)}</td>
                                        <td>{format::int(v.round() as i64)}</td>
                                    </tr>
                                }
                            })
                            .collect_view()}
                    </tbody>
                </table>
            </details>
        </figure>
    }
}
