//! `traguardi check`: each figure of the Region's press release beside the figure computed by the
//! rules from the database, with its denominator. On a demo database every line must agree.

use std::fmt::Write;

use crate::{
    comuni::ValidFilter,
    dashboard::{Share, Summary},
    data::{programme::FONDO_INNOVAZIONE, Db},
    evaluation::{today, Snapshot},
    format,
};

/// One figure of the press release.
#[derive(Clone, Debug)]
pub struct Line {
    pub label: String,
    pub published: String,
    pub computed: String,
    pub denominator: String,
    pub agrees: bool,
}

pub struct CheckOutcome {
    pub lines: Vec<Line>,
    pub report: String,
    /// A demo database that disagrees with the press release.
    pub failed: bool,
}

/// "su 140 comuni aderenti, nei termini o in ritardo": the dashboard's words for the same whole.
/// A count with its share of its whole: «130 (50,6%)».
fn counted(sh: Share) -> String {
    format!("{} ({})", sh.count, format::percent(sh.count, sh.whole))
}

fn of(sh: Share) -> String {
    format!("su {} {}", sh.whole, sh.whole_words)
}

/// Compares the press release with `summary`, each figure over the whole the dashboard's card
/// uses ([`Summary`]'s shares): the two can never disagree on a denominator.
pub fn compare(s: &Summary) -> Vec<Line> {
    let tot = s.totale_comuni;
    let line = |label: &str, published: &str, computed: String, denominator: String, agrees: bool| Line {
        label: label.to_string(),
        published: published.to_string(),
        computed,
        denominator,
        agrees,
    };
    let mut lines = vec![line(
        "Comuni aderenti",
        "133",
        s.aderenti.to_string(),
        format!("su {tot} comuni"),
        s.aderenti == 133,
    )];
    for (sigla, published) in [("BA", 11), ("BR", 9), ("BT", 7), ("FG", 27), ("LE", 65), ("TA", 14)] {
        let row = s.province.iter().find(|p| p.sigla == sigla);
        let computed = row.map(|p| p.aderenti).unwrap_or(0);
        lines.push(line(
            &format!("  di cui provincia {sigla}"),
            &published.to_string(),
            computed.to_string(),
            format!("su {} comuni della provincia", row.map(|p| p.totale).unwrap_or(0)),
            computed == published,
        ));
    }
    lines.extend([
        line(
            "Comuni in ritardo ma supportati",
            "7 (140 supportati)",
            format!("{} ({} supportati)", s.in_ritardo, s.supportati),
            of(s.supportati_share()),
            s.in_ritardo == 7 && s.supportati == 140,
        ),
        line(
            "Primo step entro il 28/02/2021",
            "106",
            s.primo_step_in_tempo.to_string(),
            of(s.primo_step_in_tempo_share()),
            s.primo_step_in_tempo == 106,
        ),
        {
            let sh = s.primo_step_share();
            line(
                "Primo step raggiunto",
                "oltre il 50% dei comuni",
                counted(sh),
                of(sh),
                sh.count * 2 > sh.whole,
            )
        },
        {
            let sh = s.tutti_obiettivi_share();
            line(
                "Tutti gli obiettivi raggiunti",
                "poco più dell'85%",
                counted(sh),
                of(sh),
                sh.count * 100 > 85 * sh.whole && sh.count * 100 < 90 * sh.whole,
            )
        },
        line(
            "Servizi di incasso attivi su MyPay",
            "oltre 3.500",
            s.mypay_attivi_fine_progetto.to_string(),
            format!(
                "su {} servizi applicabili registrati su MyPay, al {}",
                s.mypay_applicabili_fine_progetto,
                s.fine_progetto.map(format::date).unwrap_or_default()
            ),
            s.mypay_attivi_fine_progetto >= 3_500,
        ),
        line(
            "  di cui attivati durante il progetto",
            "2.200",
            s.mypay_nel_progetto_fine_progetto.to_string(),
            format!("su {} servizi attivi su MyPay alla stessa data", s.mypay_attivi_fine_progetto),
            (2_200..2_250).contains(&s.mypay_nel_progetto_fine_progetto),
        ),
        line(
            "Comuni su App IO tramite la Regione",
            "90",
            s.io_regione.to_string(),
            of(s.io_regione_share()),
            s.io_regione == 90,
        ),
    ]);
    lines
}

/// Runs the comparison on the database.
pub async fn run(db: &Db) -> anyhow::Result<CheckOutcome> {
    let snapshot =
        Snapshot::build(db, FONDO_INNOVAZIONE, today()).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let summary = snapshot.summary(&ValidFilter::default());
    let lines = compare(&summary);
    let mut report = String::new();
    let _ = writeln!(
        report,
        "Press release (Regione Puglia) vs {} database, {} data, as of {}",
        db.backend(),
        if snapshot.demo { "demo" } else { "real" },
        format::date(snapshot.as_of)
    );
    let _ = writeln!(
        report,
        "{:<40} {:>24} {:>20}  {:<44} verdict",
        "figure", "published", "computed", "denominator"
    );
    for l in &lines {
        let _ = writeln!(
            report,
            "{:<40} {:>24} {:>20}  {:<44} {}",
            l.label,
            l.published,
            l.computed,
            l.denominator,
            if l.agrees { "ok" } else { "DIFFERS" }
        );
    }
    let _ = writeln!(
        report,
        "Note: the press release counts 256 comuni in Puglia; ISTAT lists {} (Presicce-Acquarica, 2019).",
        summary.totale_comuni
    );
    let disagreements = lines.iter().filter(|l| !l.agrees).count();
    let failed = snapshot.demo && disagreements > 0;
    if disagreements > 0 {
        let _ = writeln!(report, "{disagreements} figure(s) differ from the press release.");
    } else {
        let _ = writeln!(report, "All figures agree with the press release.");
    }
    Ok(CheckOutcome { lines, report, failed })
}
