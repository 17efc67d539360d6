//! Server-side SVG charts (plotters). Each chart writes the numbers on the bars and a legend in
//! words, so colour is never the only cue; the page puts it in a `<figure>` with a caption and
//! the same numbers as a table.
//!
//! Every number the table beside a chart shows is written in the chart as SVG text, formatted
//! with `crate::format` exactly as the table writes it; [`svg_shows`] checks that.

use chrono::NaiveDate;
use plotters::{
    coord::{cartesian::Cartesian2d, types::RangedCoordf64, Shift},
    element::DashedPathElement,
    prelude::*,
    style::text_anchor::{HPos, Pos, VPos},
};

use super::{ProvinceRow, SeriesPoint, ServicesSeries};
use crate::format;

/// Fill colours; every segment also gets a dark outline, and labels are white on dark fills and
/// dark on the light one (WCAG 1.4.3, 1.4.11).
const ADERENTI: RGBColor = RGBColor(0, 102, 204); // Bootstrap Italia primary #0066CC
const IN_RITARDO: RGBColor = RGBColor(166, 77, 0); // dark orange #A64D00
const NON_ADERENTI: RGBColor = RGBColor(200, 204, 209); // light grey #C8CCD1, dark labels
const TEXT: RGBColor = RGBColor(25, 25, 25);
const PRIMARY: RGBColor = ADERENTI;
const SUCCESS: RGBColor = RGBColor(0, 135, 88); // Bootstrap Italia success #008758, white labels
const PALE_GREEN: RGBColor = RGBColor(227, 242, 236); // #E3F2EC under green hatching
const PALE_BLUE: RGBColor = RGBColor(214, 230, 245); // #D6E6F5 under blue hatching, dark labels
const SECONDARY: RGBColor = RGBColor(92, 111, 130); // Bootstrap Italia secondary #5C6F82
/// The App IO line: the dark orange, far from the pagoPA blue also for colour-blind readers.
const IO_LINE: RGBColor = IN_RITARDO;

/// The drawing area every chart draws on.
type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;

/// Stacked horizontal bars: for each province, adherents on time, late and not adhering, against
/// the province's total comuni. Each count is written inside its segment when it fits, and all
/// three always in words under the bar, so a segment too thin for its number (or empty) is read
/// there: every number of the table beside the chart is in the chart.
pub fn adhesion_by_province(rows: &[ProvinceRow]) -> Result<String, String> {
    let width = 760u32;
    let height = 90 + 64 * rows.len() as u32;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let max = rows.iter().map(|r| r.totale).max().unwrap_or(1).max(1) as f64;
        let n = rows.len().max(1) as f64;
        let mut chart = ChartBuilder::on(&root)
            .margin_top(44)
            .margin_right(60)
            .margin_left(12)
            .margin_bottom(8)
            .x_label_area_size(36)
            .y_label_area_size(190)
            .build_cartesian_2d(0f64..max * 1.05, 0f64..n)
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(0)
            .x_desc("Numero di comuni")
            // Whole comuni only: on a short axis (two comuni) plotters puts ticks at fractions,
            // which rounded would read "0 0 1 1 2".
            .x_label_formatter(&|v| {
                if (v - v.round()).abs() < 1e-9 {
                    format!("{v:.0}")
                } else {
                    String::new()
                }
            })
            .axis_desc_style(("sans-serif", 15).into_font().color(&TEXT))
            .label_style(("sans-serif", 14).into_font().color(&TEXT))
            .light_line_style(WHITE)
            .draw()
            .map_err(|e| e.to_string())?;

        for (i, row) in rows.iter().enumerate() {
            // The bar in the upper part of the row, its counts in words below it.
            let y0 = n - i as f64 - 0.6;
            let y1 = n - i as f64 - 0.1;
            let segments = [
                (row.aderenti, ADERENTI, WHITE),
                (row.in_ritardo, IN_RITARDO, WHITE),
                (row.non_aderenti, NON_ADERENTI, TEXT),
            ];
            let mut x = 0f64;
            for (count, fill, ink) in segments {
                if count == 0 {
                    continue;
                }
                let x1 = x + count as f64;
                chart
                    .draw_series([
                        Rectangle::new([(x, y0), (x1, y1)], fill.filled()),
                        // The outline keeps light segments at 3:1 against the white background.
                        Rectangle::new([(x, y0), (x1, y1)], TEXT.stroke_width(1)),
                    ])
                    .map_err(|e| e.to_string())?;
                // The count inside the segment when it fits, else just after it.
                let (px0, py) = chart.backend_coord(&(x, (y0 + y1) / 2.0));
                let (px1, _) = chart.backend_coord(&(x1, (y0 + y1) / 2.0));
                let style =
                    TextStyle::from(("sans-serif", 14).into_font()).pos(Pos::new(HPos::Center, VPos::Center));
                if px1 - px0 >= 22 {
                    root.draw(&Text::new(count.to_string(), ((px0 + px1) / 2, py), style.color(&ink)))
                        .map_err(|e| e.to_string())?;
                }
                x = x1;
            }
            let (px, py) = chart.backend_coord(&(0.0, (y0 + y1) / 2.0));
            let name =
                TextStyle::from(("sans-serif", 15).into_font()).pos(Pos::new(HPos::Right, VPos::Center));
            root.draw(&Text::new(row.nome.clone(), (px - 8, py), name.color(&TEXT)))
                .map_err(|e| e.to_string())?;
            let (pe, _) = chart.backend_coord(&(row.totale as f64, 0.0));
            let total =
                TextStyle::from(("sans-serif", 14).into_font()).pos(Pos::new(HPos::Left, VPos::Center));
            root.draw(&Text::new(format::comuni(row.totale), (pe + 6, py), total.color(&TEXT)))
                .map_err(|e| e.to_string())?;
            let (_, below) = chart.backend_coord(&(0.0, n - i as f64 - 0.8));
            let words = format!(
                "{} aderenti, {} in ritardo, {} non aderenti",
                row.aderenti, row.in_ritardo, row.non_aderenti
            );
            let small =
                TextStyle::from(("sans-serif", 13).into_font()).pos(Pos::new(HPos::Left, VPos::Center));
            root.draw(&Text::new(words, (px, below), small.color(&TEXT))).map_err(|e| e.to_string())?;
        }

        // Legend in words along the top.
        let mut lx = 200i32;
        for (text, fill) in
            [("Aderenti", ADERENTI), ("Aderenti in ritardo", IN_RITARDO), ("Non aderenti", NON_ADERENTI)]
        {
            root.draw(&Rectangle::new([(lx, 12), (lx + 18, 30)], fill.filled()))
                .map_err(|e| e.to_string())?;
            root.draw(&Rectangle::new([(lx, 12), (lx + 18, 30)], TEXT.stroke_width(1)))
                .map_err(|e| e.to_string())?;
            let style =
                TextStyle::from(("sans-serif", 14).into_font()).pos(Pos::new(HPos::Left, VPos::Center));
            root.draw(&Text::new(text, (lx + 24, 21), style.color(&TEXT))).map_err(|e| e.to_string())?;
            lx += 24 + 7 * text.chars().count() as i32 + 32;
        }
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(accessible(
        svg,
        "Adesione al Fondo Innovazione per provincia: aderenti, aderenti in ritardo e non aderenti",
    ))
}

/// Grouped horizontal bars: for each province, the share of its supported comuni (aderenti,
/// also late) that reached step 1 (solid blue) and every objective (hatched green), each bar
/// labelled `47 su 54 (87,0%)`; a province without adherents reads "nessun aderente".
pub fn objectives_by_province(rows: &[ProvinceRow]) -> Result<String, String> {
    let width = 760u32;
    let height = 100 + 72 * rows.len() as u32;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let n = rows.len().max(1) as f64;
        let mut chart = ChartBuilder::on(&root)
            .margin_top(44)
            .margin_right(170)
            .margin_left(12)
            .margin_bottom(8)
            .x_label_area_size(44)
            .y_label_area_size(190)
            .build_cartesian_2d(0f64..100f64, 0f64..n)
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(0)
            .x_labels(6)
            .x_desc("Percentuale dei comuni aderenti")
            .x_label_formatter(&|v| format!("{v:.0}%"))
            .axis_desc_style(("sans-serif", 15).into_font().color(&TEXT))
            .label_style(("sans-serif", 14).into_font().color(&TEXT))
            .light_line_style(WHITE)
            .draw()
            .map_err(|e| e.to_string())?;

        for (i, row) in rows.iter().enumerate() {
            let top = n - i as f64;
            let (px0, py) = chart.backend_coord(&(0.0, top - 0.5));
            text(&root, &row.nome, (px0 - 8, py), 15, HPos::Right, TEXT)?;
            if row.supportati <= 0 {
                text(&root, "nessun aderente", (px0 + 6, py), 14, HPos::Left, TEXT)?;
                continue;
            }
            let bars = [
                (row.primo_step, Fill::Solid(PRIMARY), top - 0.1, top - 0.47),
                (row.tutti_obiettivi, TUTTI_OBIETTIVI, top - 0.53, top - 0.9),
            ];
            for (count, fill, y_top, y_bottom) in bars {
                let share = (count as f64 * 100.0 / row.supportati as f64).clamp(0.0, 100.0);
                let (x0, y0) = chart.backend_coord(&(0.0, y_top));
                let (x1, y1) = chart.backend_coord(&(share, y_bottom));
                bar(&root, (x0, y0), (x1, y1), fill)?;
                let label = format!(
                    "{} su {} ({})",
                    format::int(count),
                    format::int(row.supportati),
                    format::percent(count, row.supportati)
                );
                text(&root, &label, (x1 + 6, (y0 + y1) / 2), 14, HPos::Left, TEXT)?;
            }
        }

        legend(
            &root,
            200,
            &[
                ("Primo step raggiunto", Fill::Solid(PRIMARY)),
                ("Tutti gli obiettivi raggiunti", TUTTI_OBIETTIVI),
            ],
        )?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(accessible(
        svg,
        "Obiettivi del primo step e obiettivi finali raggiunti per provincia, in percentuale dei comuni \
         aderenti",
    ))
}

/// Every objective reached: hatched, so it differs from the solid step-1 bar also without colour.
const TUTTI_OBIETTIVI: Fill = Fill::Hatched { ground: PALE_GREEN, lines: SUCCESS };

/// The points of the series, each day once (the last one given counts), in day order: the
/// table beside [`services_over_time`] lists every one, the chart labels every one with its
/// values and date, and `/grafici/servizi.csv` holds them.
pub fn series_table(series: &ServicesSeries) -> Vec<SeriesPoint> {
    let mut points = series.points.clone();
    // A stable sort keeps equal days in the order given; `dedup_by_key` keeps the first of a
    // run, so reverse around it for the last given to be the one kept.
    points.sort_by_key(|p| p.day);
    points.reverse();
    points.dedup_by_key(|p| p.day);
    points.reverse();
    points
}

/// Lines over time: active pagoPA services (solid blue, circles) and services on App IO (dashed
/// orange, triangles), a dashed vertical line at each deadline labelled with its name and date,
/// each line's last value at its end (`pagoPA: 1.234`, `App IO: 567`), and every point's values
/// above its markers and its date under the axis, turned upright so that a monthly series over
/// two years (twenty points) has room for all of them: every number of the table is in the
/// chart.
pub fn services_over_time(series: &ServicesSeries) -> Result<String, String> {
    if series.points.is_empty() {
        return message_svg(
            "Nessun dato di conteggio disponibile",
            "Servizi attivi nel tempo: nessun dato di conteggio disponibile",
        );
    }
    let points = series_table(series);
    let (first, last) = (&points[0], &points[points.len() - 1]);
    let deadlines = series.deadlines.iter().map(|(_, d)| *d);
    let start = deadlines.clone().chain([first.day]).min().unwrap_or(first.day);
    let end = deadlines.chain([last.day]).max().unwrap_or(last.day);
    let day = |d: NaiveDate| (d - start).num_days() as f64;
    let span = day(end).max(1.0);
    // Head room for the upright labels above the highest point.
    let top = points.iter().map(|p| p.pagopa.max(p.io)).max().unwrap_or(0).max(4) as f64 * 1.45;

    let (width, height) = (760u32, 460u32);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let mut chart = days_chart(&root, (44, 130), span, top, "Giorno del conteggio", "Servizi attivi")?;
        let (plot_left, plot_bottom) = chart.backend_coord(&(0.0, 0.0));
        let (plot_right, plot_top) = chart.backend_coord(&(span, top));

        // The deadlines: a dashed line each, labelled at the top, staggered when close.
        let mut ends = Vec::new();
        let mut marks: Vec<(i32, String)> = series
            .deadlines
            .iter()
            .map(|(name, d)| (chart.backend_coord(&(day(*d), 0.0)).0, format!("{name} {}", format::date(*d))))
            .collect();
        marks.sort_by_key(|(px, _)| *px);
        for (px, label) in marks {
            root.draw(&DashedPathElement::new(
                vec![(px, plot_top), (px, plot_bottom)],
                6,
                4,
                SECONDARY.stroke_width(2),
            ))
            .map_err(|e| e.to_string())?;
            let w = text_width(&label, 14);
            let (from, anchor, x) = if px + 4 + w <= plot_right + 120 {
                (px + 4, HPos::Left, px + 4)
            } else {
                (px - 4 - w, HPos::Right, px - 4)
            };
            let row = stagger(&mut ends, from, from + w, 3);
            text(&root, &label, (x, plot_top + 10 + 18 * row as i32), 14, anchor, TEXT)?;
        }

        // The two lines and a marker at every point.
        let at = |p: &SeriesPoint, v: i64| (day(p.day), v as f64);
        chart
            .draw_series(LineSeries::new(points.iter().map(|p| at(p, p.pagopa)), PRIMARY.stroke_width(3)))
            .map_err(|e| e.to_string())?;
        chart
            .draw_series(DashedLineSeries::new(
                points.iter().map(|p| at(p, p.io)).collect::<Vec<_>>(),
                10,
                6,
                IO_LINE.stroke_width(3),
            ))
            .map_err(|e| e.to_string())?;
        chart
            .draw_series(points.iter().map(|p| Circle::new(at(p, p.pagopa), 4, PRIMARY.filled())))
            .map_err(|e| e.to_string())?;
        chart
            .draw_series(points.iter().map(|p| TriangleMarker::new(at(p, p.io), 6, IO_LINE.filled())))
            .map_err(|e| e.to_string())?;

        // Every point's values but the last (written at the lines' end), upright on a white
        // plate above its marker: pagoPA's just left of the point, App IO's just right of it, so
        // the two never cover each other and neighbouring points (a month apart) have room.
        for p in &points[..points.len() - 1] {
            let (px, pa_y) = chart.backend_coord(&at(p, p.pagopa));
            let (_, io_y) = chart.backend_coord(&at(p, p.io));
            upright_text(&root, &format::int(p.pagopa), (px - 7, pa_y - 8), PRIMARY)?;
            upright_text(&root, &format::int(p.io), (px + 7, io_y - 8), IO_LINE)?;
        }
        // The last values at the lines' end, kept apart when close.
        let (px, mut pa_y) = chart.backend_coord(&at(last, last.pagopa));
        let (_, mut io_y) = chart.backend_coord(&at(last, last.io));
        if (pa_y - io_y).abs() < 18 {
            let mid = (pa_y + io_y) / 2;
            (pa_y, io_y) = if last.pagopa >= last.io { (mid - 9, mid + 9) } else { (mid + 9, mid - 9) };
        }
        let pagopa_end = format!("pagoPA: {}", format::int(last.pagopa));
        text(&root, &pagopa_end, (px + 10, pa_y), 14, HPos::Left, PRIMARY)?;
        text(&root, &format!("App IO: {}", format::int(last.io)), (px + 10, io_y), 14, HPos::Left, IO_LINE)?;

        // Every point's date under the axis, upright, reading upwards.
        for p in &points {
            let (px, _) = chart.backend_coord(&(day(p.day), 0.0));
            root.draw(&PathElement::new(
                vec![(px, plot_bottom), (px, plot_bottom + 5)],
                TEXT.stroke_width(1),
            ))
            .map_err(|e| e.to_string())?;
            let style = TextStyle::from(("sans-serif", 12).into_font())
                .transform(FontTransform::Rotate270)
                .pos(Pos::new(HPos::Right, VPos::Center));
            root.draw(&Text::new(format::date(p.day), (px, plot_bottom + 8), style.color(&TEXT)))
                .map_err(|e| e.to_string())?;
        }

        // Legend in words along the top, each with its line style and marker.
        let mut lx = plot_left;
        let label = "Servizi pagoPA attivi";
        root.draw(&PathElement::new(vec![(lx, 21), (lx + 30, 21)], PRIMARY.stroke_width(3)))
            .map_err(|e| e.to_string())?;
        root.draw(&Circle::new((lx + 15, 21), 4, PRIMARY.filled())).map_err(|e| e.to_string())?;
        text(&root, label, (lx + 38, 21), 14, HPos::Left, TEXT)?;
        lx += 38 + text_width(label, 14) + 32;
        root.draw(&DashedPathElement::new(vec![(lx, 21), (lx + 30, 21)], 10, 6, IO_LINE.stroke_width(3)))
            .map_err(|e| e.to_string())?;
        root.draw(&TriangleMarker::new((lx + 15, 21), 6, IO_LINE.filled())).map_err(|e| e.to_string())?;
        text(&root, "Servizi su App IO", (lx + 38, 21), 14, HPos::Left, TEXT)?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(accessible(
        svg,
        "Servizi attivi nel tempo: servizi pagoPA attivi e servizi su App IO, con le scadenze del programma",
    ))
}

/// Stacked horizontal bars in euros: for each province, the grant matured (solid green), still
/// possible (hatched blue) and lost or renounced (grey), each amount inside its segment when it
/// fits, the assigned total after the bar (`€ 123.456 assegnati`) and, under the bar, every
/// amount in words (`€ 1.000 maturati · € 2.000 ancora possibili · € 0 persi o rinunciati`).
pub fn grant_by_province(rows: &[ProvinceRow]) -> Result<String, String> {
    let width = 760u32;
    let height = 90 + 64 * rows.len() as u32;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let max =
            rows.iter().map(|r| r.contributo_assegnato.max(stacked_grant(r))).max().unwrap_or(0).max(1000)
                as f64;
        let n = rows.len().max(1) as f64;
        let mut chart = ChartBuilder::on(&root)
            .margin_top(44)
            .margin_right(170)
            .margin_left(12)
            .margin_bottom(8)
            .x_label_area_size(36)
            .y_label_area_size(190)
            .build_cartesian_2d(0f64..max * 1.05, 0f64..n)
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(0)
            .x_labels(5)
            .x_desc("Euro")
            .x_label_formatter(&|v| format::eur(v.round() as i64))
            .axis_desc_style(("sans-serif", 15).into_font().color(&TEXT))
            .label_style(("sans-serif", 14).into_font().color(&TEXT))
            .light_line_style(WHITE)
            .draw()
            .map_err(|e| e.to_string())?;

        for (i, row) in rows.iter().enumerate() {
            let top = n - i as f64;
            let (y_top, y_bottom) = (top - 0.1, top - 0.56);
            let perso = row.contributo_perso + row.contributo_rinunciato;
            let segments = [
                (row.contributo_maturato, Fill::Solid(SUCCESS), WHITE),
                (row.contributo_possibile, ANCORA_POSSIBILE, TEXT),
                (perso, Fill::Solid(NON_ADERENTI), TEXT),
            ];
            let mut x = 0f64;
            for (amount, fill, ink) in segments {
                if amount <= 0 {
                    continue;
                }
                let x1 = x + amount as f64;
                let (px0, py0) = chart.backend_coord(&(x, y_top));
                let (px1, py1) = chart.backend_coord(&(x1, y_bottom));
                bar(&root, (px0, py0), (px1, py1), fill)?;
                // The amount inside the segment when it fits (on a white plate over hatching);
                // it is in the line under the bar anyway.
                let label = format::eur(amount);
                let w = text_width(&label, 14);
                let (cx, cy) = ((px0 + px1) / 2, (py0 + py1) / 2);
                if px1 - px0 >= w + 10 {
                    if let Fill::Hatched { .. } = fill {
                        plated_text(&root, &label, (cx, cy), ink)?;
                    } else {
                        text(&root, &label, (cx, cy), 14, HPos::Center, ink)?;
                    }
                }
                x = x1;
            }
            let (px0, py0) = chart.backend_coord(&(0.0, y_top));
            let (_, py1) = chart.backend_coord(&(0.0, y_bottom));
            let py = (py0 + py1) / 2;
            text(&root, &row.nome, (px0 - 8, py), 15, HPos::Right, TEXT)?;
            let (pe, _) = chart.backend_coord(&(x.max(row.contributo_assegnato as f64), 0.0));
            let total = format!("{} assegnati", format::eur(row.contributo_assegnato));
            text(&root, &total, (pe + 6, py), 14, HPos::Left, TEXT)?;
            let (_, py_words) = chart.backend_coord(&(0.0, top - 0.78));
            let words = format!(
                "{} maturati · {} ancora possibili · {} persi o rinunciati",
                format::eur(row.contributo_maturato),
                format::eur(row.contributo_possibile),
                format::eur(perso)
            );
            text(&root, &words, (px0, py_words), 14, HPos::Left, TEXT)?;
        }

        legend(
            &root,
            200,
            &[
                ("Maturato", Fill::Solid(SUCCESS)),
                ("Ancora possibile", ANCORA_POSSIBILE),
                ("Perso o rinunciato", Fill::Solid(NON_ADERENTI)),
            ],
        )?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(accessible(svg, "Contributo per provincia in euro: maturato, ancora possibile, perso o rinunciato"))
}

/// The grant still possible: hatched, so it differs from the other segments also without colour.
const ANCORA_POSSIBILE: Fill = Fill::Hatched { ground: PALE_BLUE, lines: PRIMARY };

/// The euros the grant bar stacks: matured, still possible, lost and renounced.
fn stacked_grant(row: &ProvinceRow) -> i64 {
    row.contributo_maturato.max(0)
        + row.contributo_possibile.max(0)
        + (row.contributo_perso + row.contributo_rinunciato).max(0)
}

/// How a bar or legend swatch is filled; every one also gets a dark outline.
#[derive(Clone, Copy)]
enum Fill {
    Solid(RGBColor),
    /// Diagonal lines over a pale ground: a texture, so the series differs not only in colour.
    Hatched {
        ground: RGBColor,
        lines: RGBColor,
    },
}

/// A filled, outlined bar between two backend corners (top left, bottom right).
fn bar(root: &Area, (x0, y0): (i32, i32), (x1, y1): (i32, i32), fill: Fill) -> Result<(), String> {
    if x1 <= x0 || y1 <= y0 {
        return Ok(());
    }
    match fill {
        Fill::Solid(color) => {
            root.draw(&Rectangle::new([(x0, y0), (x1, y1)], color.filled())).map_err(|e| e.to_string())?;
        }
        Fill::Hatched { ground, lines } => {
            root.draw(&Rectangle::new([(x0, y0), (x1, y1)], ground.filled())).map_err(|e| e.to_string())?;
            // Lines rising at 45°, one every 7 px, clipped to the bar.
            let h = y1 - y0;
            let mut k = x0 - h;
            while k < x1 {
                let from = if k < x0 { (x0, y1 - (x0 - k)) } else { (k, y1) };
                let to = if k + h > x1 { (x1, y1 - (x1 - k)) } else { (k + h, y0) };
                if to.0 > from.0 {
                    root.draw(&PathElement::new(vec![from, to], lines.stroke_width(2)))
                        .map_err(|e| e.to_string())?;
                }
                k += 7;
            }
        }
    }
    // The outline keeps light fills at 3:1 against the white background.
    root.draw(&Rectangle::new([(x0, y0), (x1, y1)], TEXT.stroke_width(1))).map_err(|e| e.to_string())
}

/// A legend in words along the top, each name after its swatch.
fn legend(root: &Area, x: i32, items: &[(&str, Fill)]) -> Result<(), String> {
    let mut lx = x;
    for &(label, fill) in items {
        bar(root, (lx, 12), (lx + 18, 30), fill)?;
        text(root, label, (lx + 24, 21), 14, HPos::Left, TEXT)?;
        lx += 24 + text_width(label, 14) + 32;
    }
    Ok(())
}

/// One forecast as [`forecast_chart`] draws it: the measured weekly history, the value the rule
/// requires, the deadline, and the projection from the day of the forecast.
#[derive(Clone, Copy, Debug)]
pub struct ForecastSeries<'a> {
    /// What is measured, in words ("Servizi pubblicati su App IO").
    pub measure: &'a str,
    pub history: &'a [(NaiveDate, f64)],
    pub required: i64,
    pub deadline: NaiveDate,
    pub expected: Option<NaiveDate>,
    pub earliest: Option<NaiveDate>,
    pub latest: Option<NaiveDate>,
    pub at_risk: bool,
}

/// A forecast's chart: the weekly samples as a solid line with a marker each, the value required
/// as a dashed level, the deadline as a dashed upright line, and the projection from the last
/// sample to the expected day as a dashed line (flat, to the deadline, when there is no pace),
/// with its earliest and latest days as thin dotted lines. Every date and value the table beside
/// it lists is written in words, and the verdict («a rischio» or «in tempo») is in the legend.
pub fn forecast_chart(f: &ForecastSeries<'_>) -> Result<String, String> {
    let title = format!("Previsione: {}", f.measure);
    let Some(&(last_day, current)) = f.history.last() else {
        return message_svg("Nessuna misura disponibile per la previsione", &title);
    };
    let first_day = f.history[0].0;
    // The projection is drawn up to the deadline and a little past it, however far the expected
    // day: a day years away would squash the history into a corner (it is written in words).
    let horizon = f.deadline + chrono::Days::new(45);
    let end = [Some(f.deadline), f.expected, f.latest]
        .into_iter()
        .flatten()
        .max()
        .unwrap_or(f.deadline)
        .min(horizon);
    let day = |d: NaiveDate| (d.min(end) - first_day).num_days() as f64;
    let span = day(end).max(1.0);
    let top = f.history.iter().map(|(_, v)| *v).fold(f.required as f64, f64::max).max(4.0) * 1.3;
    // The projected value on `d` at the pace that reaches `required` on `reach`.
    let projected = |reach: NaiveDate, d: NaiveDate| -> f64 {
        let total = (reach - last_day).num_days().max(1) as f64;
        current + (f.required as f64 - current) * ((d - last_day).num_days() as f64 / total).min(1.0)
    };

    let (width, height) = (760u32, 420u32);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let mut chart = days_chart(&root, (64, 150), span, top, "Giorno", f.measure)?;
        let (_, plot_bottom) = chart.backend_coord(&(0.0, 0.0));
        let (plot_right, plot_top) = chart.backend_coord(&(span, top));

        // The value required: a dashed level, labelled at its right end.
        let (_, req_y) = chart.backend_coord(&(0.0, f.required as f64));
        let (plot_left, _) = chart.backend_coord(&(0.0, 0.0));
        root.draw(&DashedPathElement::new(
            vec![(plot_left, req_y), (plot_right, req_y)],
            6,
            4,
            SUCCESS.stroke_width(2),
        ))
        .map_err(|e| e.to_string())?;
        text(
            &root,
            &format!("Richiesti: {}", format::int(f.required)),
            (plot_right + 6, req_y),
            14,
            HPos::Left,
            SUCCESS,
        )?;

        // The deadline: a dashed upright line, labelled at the top.
        let (dl_x, _) = chart.backend_coord(&(day(f.deadline), 0.0));
        root.draw(&DashedPathElement::new(
            vec![(dl_x, plot_top), (dl_x, plot_bottom)],
            6,
            4,
            SECONDARY.stroke_width(2),
        ))
        .map_err(|e| e.to_string())?;
        text(
            &root,
            &format!("Scadenza {}", format::date(f.deadline)),
            (dl_x + 4, plot_top + 10),
            14,
            HPos::Left,
            TEXT,
        )?;

        // The history.
        let at = |(d, v): &(NaiveDate, f64)| (day(*d), *v);
        chart
            .draw_series(LineSeries::new(f.history.iter().map(at), PRIMARY.stroke_width(3)))
            .map_err(|e| e.to_string())?;
        chart
            .draw_series(f.history.iter().map(|p| Circle::new(at(p), 4, PRIMARY.filled())))
            .map_err(|e| e.to_string())?;
        let (lx, ly) = chart.backend_coord(&(day(last_day), current));
        plated_text(
            &root,
            &format!("{}: {}", format::date(last_day), format::int(current.round() as i64)),
            (lx, ly - 16),
            PRIMARY,
        )?;

        // The projection, and the range.
        let line = |reach: NaiveDate| -> Vec<(f64, f64)> {
            let stop = reach.min(end);
            vec![(day(last_day), current), (day(stop), projected(reach, stop))]
        };
        match f.expected {
            Some(expected) => {
                for bound in [f.earliest, f.latest].into_iter().flatten() {
                    chart
                        .draw_series(DashedLineSeries::new(line(bound), 2, 4, IO_LINE.stroke_width(1)))
                        .map_err(|e| e.to_string())?;
                }
                chart
                    .draw_series(DashedLineSeries::new(line(expected), 10, 6, IO_LINE.stroke_width(3)))
                    .map_err(|e| e.to_string())?;
                let label = format!("Previsto: {}", format::date(expected));
                if expected <= end {
                    let (ex, ey) = chart.backend_coord(&(day(expected), f.required as f64));
                    chart
                        .draw_series([TriangleMarker::new(
                            (day(expected), f.required as f64),
                            6,
                            IO_LINE.filled(),
                        )])
                        .map_err(|e| e.to_string())?;
                    plated_text(&root, &label, (ex, ey + 18), IO_LINE)?;
                } else {
                    let (ex, ey) = chart.backend_coord(&(span, projected(expected, end)));
                    text(&root, &label, (ex + 6, ey + 18), 14, HPos::Left, IO_LINE)?;
                }
            }
            None => {
                let flat = vec![(day(last_day), current), (span, current)];
                chart
                    .draw_series(DashedLineSeries::new(flat, 10, 6, IO_LINE.stroke_width(3)))
                    .map_err(|e| e.to_string())?;
                let (ex, ey) = chart.backend_coord(&(span, current));
                text(&root, "Nessun progresso previsto", (ex + 6, ey + 18), 14, HPos::Left, IO_LINE)?;
            }
        }

        // The first and last sample's days under the axis.
        for d in [first_day, last_day] {
            let (px, _) = chart.backend_coord(&(day(d), 0.0));
            text(&root, &format::date(d), (px, plot_bottom + 14), 12, HPos::Center, TEXT)?;
        }

        // Legend and verdict in words along the top.
        let verdict = if f.at_risk { "Esito previsto: a rischio" } else { "Esito previsto: in tempo" };
        text(&root, verdict, (plot_left, 16), 15, HPos::Left, TEXT)?;
        let mut x = plot_left;
        root.draw(&PathElement::new(vec![(x, 44), (x + 30, 44)], PRIMARY.stroke_width(3)))
            .map_err(|e| e.to_string())?;
        root.draw(&Circle::new((x + 15, 44), 4, PRIMARY.filled())).map_err(|e| e.to_string())?;
        let measured = "Misurato ogni settimana";
        text(&root, measured, (x + 38, 44), 14, HPos::Left, TEXT)?;
        x += 38 + text_width(measured, 14) + 32;
        root.draw(&DashedPathElement::new(vec![(x, 44), (x + 30, 44)], 10, 6, IO_LINE.stroke_width(3)))
            .map_err(|e| e.to_string())?;
        text(&root, "Proiezione (puntinata: intervallo)", (x + 38, 44), 14, HPos::Left, TEXT)?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(accessible(svg, &title))
}

/// The frame of the charts over time: `span` days wide and `top` high, the days' axis without
/// labels (each chart writes its own dates), the values' axis with six, both described in words.
/// `margins` are the top (the legend's room) and the right (the end labels' room).
fn days_chart<'a, 'b>(
    root: &'a Area<'b>,
    (margin_top, margin_right): (u32, u32),
    span: f64,
    top: f64,
    x_desc: &str,
    y_desc: &str,
) -> Result<ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordf64, RangedCoordf64>>, String> {
    let mut chart = ChartBuilder::on(root)
        .margin_top(margin_top)
        .margin_right(margin_right)
        .margin_left(12)
        .margin_bottom(8)
        .x_label_area_size(86)
        .y_label_area_size(70)
        .build_cartesian_2d(0f64..span, 0f64..top)
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(0)
        .y_labels(6)
        .x_desc(x_desc)
        .y_desc(y_desc)
        .y_label_formatter(&|v| format::int(v.round() as i64))
        .axis_desc_style(("sans-serif", 15).into_font().color(&TEXT))
        .label_style(("sans-serif", 14).into_font().color(&TEXT))
        .light_line_style(WHITE)
        .draw()
        .map_err(|e| e.to_string())?;
    Ok(chart)
}

/// One line of text, vertically centred on `at`.
fn text(
    root: &Area,
    content: &str,
    at: (i32, i32),
    size: u32,
    h: HPos,
    color: RGBColor,
) -> Result<(), String> {
    let style = TextStyle::from(("sans-serif", size).into_font()).pos(Pos::new(h, VPos::Center));
    root.draw(&Text::new(content.to_string(), at, style.color(&color))).map_err(|e| e.to_string())
}

/// A 14 px text centred on `at` over a white plate, legible over hatching and lines.
fn plated_text(root: &Area, content: &str, at: (i32, i32), color: RGBColor) -> Result<(), String> {
    let w = text_width(content, 14);
    let plate = [(at.0 - w / 2 - 3, at.1 - 9), (at.0 + w / 2 + 3, at.1 + 9)];
    root.draw(&Rectangle::new(plate, WHITE.filled())).map_err(|e| e.to_string())?;
    text(root, content, at, 14, HPos::Center, color)
}

/// A 12 px text turned upright, reading upwards from `bottom`, over a white plate: the series'
/// point values, so that points a month apart each have room for two.
fn upright_text(root: &Area, content: &str, bottom: (i32, i32), color: RGBColor) -> Result<(), String> {
    let (x, y) = bottom;
    let h = text_width(content, 12);
    root.draw(&Rectangle::new([(x - 7, y - h - 3), (x + 7, y + 2)], WHITE.filled()))
        .map_err(|e| e.to_string())?;
    let style = TextStyle::from(("sans-serif", 12).into_font())
        .transform(FontTransform::Rotate270)
        .pos(Pos::new(HPos::Left, VPos::Center));
    root.draw(&Text::new(content.to_string(), (x, y), style.color(&color))).map_err(|e| e.to_string())
}

/// A generous estimate of a text's width in pixels (the SVG has no font metrics): half the font
/// size per character.
fn text_width(content: &str, size: u32) -> i32 {
    (content.chars().count() as i32 * size as i32 + 1) / 2
}

/// The row (up to `rows`) for a label spanning `from..to` px, labels coming left to right: the
/// first row whose last label ends before it, else a new row, else the row freed first.
fn stagger(ends: &mut Vec<i32>, from: i32, to: i32, rows: usize) -> usize {
    let row = match ends.iter().position(|&end| end + 6 <= from) {
        Some(row) => row,
        None if ends.len() < rows.max(1) => {
            ends.push(to);
            ends.len() - 1
        }
        None => (0..ends.len()).min_by_key(|&r| ends[r]).unwrap_or(0),
    };
    ends[row] = to;
    row
}

/// A small chart-sized SVG that only says `message`, for when there is nothing to draw.
fn message_svg(message: &str, title: &str) -> Result<String, String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (760, 60)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        text(&root, message, (380, 30), 15, HPos::Center, TEXT)?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(accessible(svg, title))
}

/// plotters writes a bare `<svg>`: give it a role and a name so assistive technology announces
/// it as one image (the numbers are in the table beside it).
fn accessible(svg: String, title: &str) -> String {
    svg.replacen("<svg ", &format!("<svg role=\"img\" aria-label=\"{title}\" "), 1)
}

/// The content of every `<text>` of an SVG written by plotters, unescaped, in document order
/// (plotters writes each on a line of its own and escapes `<`, `>`, `&`, `"` and `'`; `€`, `–`
/// and other non-ASCII characters stay as they are).
pub fn svg_texts(svg: &str) -> Vec<String> {
    let mut texts = Vec::new();
    let mut rest = svg;
    while let Some(open) = rest.find("<text ") {
        rest = &rest[open..];
        let Some(start) = rest.find(">\n") else { break };
        let Some(len) = rest[start + 2..].find("\n</text>") else { break };
        let raw = &rest[start + 2..start + 2 + len];
        texts.push(
            raw.replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&quot;", "\"")
                .replace("&apos;", "'")
                .replace("&amp;", "&"),
        );
        rest = &rest[start + 2 + len..];
    }
    texts
}

/// Whether some text of the chart shows `value` (as the table beside it writes it: `1.234`,
/// `€ 1.234`, `87,0%`, `28/02/2021`) as a whole: not as a piece of a longer number (`1.234` is not
/// shown by `11.234` nor `1.234,5`, `0%` not by `10,0%`).
pub fn svg_shows(svg: &str, value: &str) -> bool {
    let numeric = |c: Option<char>| c.is_some_and(|c| c.is_ascii_digit());
    svg_texts(svg).iter().any(|t| {
        t.match_indices(value).any(|(at, _)| {
            let mut before = t[..at].chars().rev();
            let mut after = t[at + value.len()..].chars();
            let (b1, b2) = (before.next(), before.next());
            let (a1, a2) = (after.next(), after.next());
            let glued_before = numeric(b1) || (matches!(b1, Some('.' | ',' | '/')) && numeric(b2));
            let glued_after = numeric(a1) || (matches!(a1, Some('.' | ',' | '/')) && numeric(a2));
            !(glued_before || glued_after)
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::{date, eur, int, percent};

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn aria_label(svg: &str) -> &str {
        let rest = svg.strip_prefix("<svg role=\"img\" aria-label=\"").expect("role and aria-label first");
        &rest[..rest.find('"').unwrap()]
    }

    #[test]
    fn chart_names_every_province_and_count() {
        let rows = vec![
            ProvinceRow {
                sigla: "LE".into(),
                nome: "Lecce".into(),
                aderenti: 65,
                in_ritardo: 2,
                non_aderenti: 29,
                totale: 96,
                ..Default::default()
            },
            ProvinceRow {
                sigla: "BT".into(),
                nome: "Barletta-Andria-Trani".into(),
                aderenti: 7,
                in_ritardo: 0,
                non_aderenti: 3,
                totale: 10,
                ..Default::default()
            },
        ];
        let svg = adhesion_by_province(&rows).unwrap();
        assert!(svg.starts_with("<svg role=\"img\" aria-label=\"Adesione"));
        // plotters writes each text on a line of its own.
        for text in ["Lecce", "65", "29", "96 comuni", "Barletta-Andria-Trani", "Aderenti in ritardo"] {
            assert!(svg.contains(&format!("\n{text}\n")), "missing {text}");
        }
    }

    fn objectives_rows() -> Vec<ProvinceRow> {
        vec![
            ProvinceRow {
                sigla: "LE".into(),
                nome: "Lecce".into(),
                supportati: 54,
                primo_step: 47,
                tutti_obiettivi: 31,
                ..Default::default()
            },
            // Not realistic for a province, but it shows the thousands' dot.
            ProvinceRow {
                sigla: "BA".into(),
                nome: "Bari".into(),
                supportati: 1234,
                primo_step: 1111,
                tutti_obiettivi: 0,
                ..Default::default()
            },
            ProvinceRow { sigla: "FG".into(), nome: "Foggia".into(), ..Default::default() },
        ]
    }

    #[test]
    fn objectives_chart_writes_every_count_and_share_of_its_table() {
        let rows = objectives_rows();
        let svg = objectives_by_province(&rows).unwrap();
        assert_eq!(
            aria_label(&svg),
            "Obiettivi del primo step e obiettivi finali raggiunti per provincia, in percentuale dei comuni \
             aderenti"
        );
        for row in rows.iter().filter(|r| r.supportati > 0) {
            for value in [
                int(row.primo_step),
                int(row.tutti_obiettivi),
                int(row.supportati),
                percent(row.primo_step, row.supportati),
                percent(row.tutti_obiettivi, row.supportati),
            ] {
                assert!(svg_shows(&svg, &value), "{}: missing {value}", row.nome);
            }
        }
        for text in [
            "Lecce",
            "47 su 54 (87,0%)",
            "31 su 54 (57,4%)",
            "1.111 su 1.234 (90,0%)",
            "0 su 1.234 (0,0%)",
            "Foggia",
            "nessun aderente",
            "Primo step raggiunto",
            "Tutti gli obiettivi raggiunti",
        ] {
            assert!(svg.contains(&format!("\n{text}\n")), "missing {text}");
        }
        // Without adherents there are no bars, hence no "su" label.
        assert_eq!(svg_texts(&svg).iter().filter(|t| t.contains(" su ")).count(), 4);
    }

    #[test]
    fn objectives_chart_renders_no_rows_and_no_adherents() {
        let svg = objectives_by_province(&[]).unwrap();
        assert!(svg.starts_with("<svg role=\"img\" aria-label=\"Obiettivi"));
        let only_zero = [ProvinceRow { nome: "Taranto".into(), ..Default::default() }];
        let svg = objectives_by_province(&only_zero).unwrap();
        assert!(svg.contains("\nnessun aderente\n"));
    }

    fn series() -> ServicesSeries {
        let point = |d, pagopa, io| SeriesPoint { day: d, pagopa, io };
        ServicesSeries {
            points: vec![
                point(day(2020, 12, 1), 812, 233),
                point(day(2021, 1, 15), 977, 402),
                point(day(2021, 2, 26), 1103, 511),
                point(day(2021, 3, 2), 1150, 530),
                point(day(2021, 9, 30), 1877, 1046),
                point(day(2021, 12, 31), 2345, 1499),
                point(day(2022, 3, 1), 2401, 1523),
            ],
            deadlines: vec![("Primo step".into(), day(2021, 2, 28)), ("Finale".into(), day(2021, 12, 31))],
        }
    }

    #[test]
    fn series_table_holds_every_point_once_in_day_order() {
        let table = series_table(&series());
        assert_eq!(table, series().points);

        // The input's order does not matter; a day given twice is listed once, with the last
        // values given for it.
        let mut s = series();
        s.points.reverse();
        s.points.push(SeriesPoint { day: day(2021, 3, 2), pagopa: 1151, io: 531 });
        let table = series_table(&s);
        assert_eq!(table.len(), 7);
        assert!(table.windows(2).all(|w| w[0].day < w[1].day));
        assert_eq!(table[3], SeriesPoint { day: day(2021, 3, 2), pagopa: 1151, io: 531 });

        assert!(series_table(&ServicesSeries::default()).is_empty());
    }

    #[test]
    fn services_chart_writes_the_points_of_its_table_and_the_deadlines() {
        let series = series();
        let svg = services_over_time(&series).unwrap();
        assert_eq!(
            aria_label(&svg),
            "Servizi attivi nel tempo: servizi pagoPA attivi e servizi su App IO, con le scadenze del \
             programma"
        );
        let table = series_table(&series);
        assert_eq!(table.len(), 7);
        for p in &table {
            for value in [date(p.day), int(p.pagopa), int(p.io)] {
                assert!(svg_shows(&svg, &value), "{}: missing {value}", date(p.day));
            }
        }
        for text in [
            "Primo step 28/02/2021",
            "Finale 31/12/2021",
            "pagoPA: 2.401",
            "App IO: 1.523",
            "26/02/2021",
            "1.103",
            "511",
            "977",
            "Servizi pagoPA attivi",
            "Servizi su App IO",
        ] {
            assert!(svg.contains(&format!("\n{text}\n")), "missing {text}");
        }
    }

    #[test]
    fn services_chart_renders_without_points_or_with_one() {
        let empty = ServicesSeries { points: vec![], deadlines: series().deadlines };
        let svg = services_over_time(&empty).unwrap();
        assert!(svg.starts_with("<svg role=\"img\" aria-label=\"Servizi attivi nel tempo"));
        assert!(svg.contains("\nNessun dato di conteggio disponibile\n"));
        assert!(svg.trim_end().ends_with("</svg>"));

        let one = ServicesSeries {
            points: vec![SeriesPoint { day: day(2021, 5, 3), pagopa: 0, io: 0 }],
            deadlines: vec![],
        };
        let svg = services_over_time(&one).unwrap();
        for text in ["03/05/2021", "pagoPA: 0", "App IO: 0"] {
            assert!(svg.contains(&format!("\n{text}\n")), "missing {text}");
        }
    }

    fn grant_rows() -> Vec<ProvinceRow> {
        vec![
            ProvinceRow {
                sigla: "BA".into(),
                nome: "Bari".into(),
                contributo_assegnato: 1_234_567,
                contributo_maturato: 987_654,
                contributo_possibile: 200_000,
                contributo_perso: 45_913,
                contributo_rinunciato: 1_000,
                ..Default::default()
            },
            // Segments too small to hold their amount.
            ProvinceRow {
                sigla: "BR".into(),
                nome: "Brindisi".into(),
                contributo_assegnato: 23_456,
                contributo_maturato: 11_850,
                contributo_possibile: 11_106,
                contributo_perso: 0,
                contributo_rinunciato: 500,
                ..Default::default()
            },
            ProvinceRow { sigla: "TA".into(), nome: "Taranto".into(), ..Default::default() },
        ]
    }

    #[test]
    fn grant_chart_writes_every_amount_of_its_table() {
        let rows = grant_rows();
        let svg = grant_by_province(&rows).unwrap();
        assert_eq!(
            aria_label(&svg),
            "Contributo per provincia in euro: maturato, ancora possibile, perso o rinunciato"
        );
        for row in &rows {
            for value in [
                eur(row.contributo_maturato),
                eur(row.contributo_possibile),
                eur(row.contributo_perso + row.contributo_rinunciato),
                eur(row.contributo_assegnato),
            ] {
                assert!(svg_shows(&svg, &value), "{}: missing {value}", row.nome);
            }
        }
        for text in [
            "€ 1.234.567 assegnati",
            // Big enough to be written inside its segment too.
            "€ 987.654",
            "€ 987.654 maturati · € 200.000 ancora possibili · € 46.913 persi o rinunciati",
            "€ 11.850 maturati · € 11.106 ancora possibili · € 500 persi o rinunciati",
            "€ 0 assegnati",
            "€ 0 maturati · € 0 ancora possibili · € 0 persi o rinunciati",
            "Maturato",
            "Ancora possibile",
            "Perso o rinunciato",
        ] {
            assert!(svg.contains(&format!("\n{text}\n")), "missing {text}");
        }
        // Too small for its segment: only in the line under the bar.
        assert!(!svg.contains("\n€ 500\n"));
    }

    #[test]
    fn grant_chart_renders_no_rows() {
        let svg = grant_by_province(&[]).unwrap();
        assert!(svg.starts_with("<svg role=\"img\" aria-label=\"Contributo per provincia"));
    }

    #[test]
    fn charts_are_deterministic() {
        assert_eq!(objectives_by_province(&objectives_rows()), objectives_by_province(&objectives_rows()));
        assert_eq!(services_over_time(&series()), services_over_time(&series()));
        assert_eq!(grant_by_province(&grant_rows()), grant_by_province(&grant_rows()));
    }

    #[test]
    fn svg_shows_whole_values_only() {
        let svg = grant_by_province(&grant_rows()).unwrap();
        assert!(svg_shows(&svg, "€ 1.234.567"));
        assert!(!svg_shows(&svg, "234.567"));
        assert!(!svg_shows(&svg, "€ 1.234"));
        let svg = objectives_by_province(&objectives_rows()).unwrap();
        assert!(svg_shows(&svg, "87,0%"));
        assert!(!svg_shows(&svg, "7,0%"));
        assert!(!svg_shows(&svg, "87"));
        // Escaped characters are compared unescaped.
        let rows = [ProvinceRow { nome: "L'Aquila & <co>".into(), ..Default::default() }];
        let svg = objectives_by_province(&rows).unwrap();
        assert!(svg.contains("\nL&apos;Aquila &amp; &lt;co&gt;\n"));
        assert!(svg_texts(&svg).contains(&"L'Aquila & <co>".to_string()));
    }

    /// WCAG 2 contrast ratio of two colours.
    fn contrast(a: RGBColor, b: RGBColor) -> f64 {
        let luminance = |c: RGBColor| {
            let channel = |v: u8| {
                let v = v as f64 / 255.0;
                if v <= 0.04045 {
                    v / 12.92
                } else {
                    ((v + 0.055) / 1.055).powf(2.4)
                }
            };
            0.2126 * channel(c.0) + 0.7152 * channel(c.1) + 0.0722 * channel(c.2)
        };
        let (la, lb) = (luminance(a), luminance(b));
        (la.max(lb) + 0.05) / (la.min(lb) + 0.05)
    }

    #[test]
    fn palette_keeps_text_and_graphics_contrast() {
        // Text on its fill (and coloured text on white): 4.5:1.
        for (ink, fill) in [
            (WHITE, ADERENTI),
            (WHITE, IN_RITARDO),
            (WHITE, SUCCESS),
            (TEXT, NON_ADERENTI),
            (TEXT, PALE_BLUE),
            (TEXT, PALE_GREEN),
            (TEXT, WHITE),
            (PRIMARY, WHITE),
            (IO_LINE, WHITE),
        ] {
            assert!(contrast(ink, fill) >= 4.5, "{ink:?} on {fill:?}: {:.2}", contrast(ink, fill));
        }
        // Lines, markers and hatching against what is around them: 3:1 (the light fills have a
        // dark outline instead).
        for (color, ground) in [
            (PRIMARY, WHITE),
            (IO_LINE, WHITE),
            (SECONDARY, WHITE),
            (SUCCESS, PALE_GREEN),
            (PRIMARY, PALE_BLUE),
        ] {
            assert!(
                contrast(color, ground) >= 3.0,
                "{color:?} on {ground:?}: {:.2}",
                contrast(color, ground)
            );
        }
    }

    /// The forecast chart writes the last sample, the value required, the deadline, the
    /// expected day and the verdict in words; with no pace it says so; with no samples it is a
    /// message.
    #[test]
    fn forecast_chart_writes_its_days_values_and_verdict() {
        let history: Vec<(NaiveDate, f64)> =
            (0..14u64).map(|i| (day(2021, 8, 1) + chrono::Days::new(7 * i), (i / 2 + 1) as f64)).collect();
        let series = ForecastSeries {
            measure: "Servizi pubblicati su App IO",
            history: &history,
            required: 10,
            deadline: day(2021, 12, 31),
            expected: Some(day(2021, 12, 12)),
            earliest: Some(day(2021, 12, 5)),
            latest: Some(day(2022, 1, 9)),
            at_risk: false,
        };
        let svg = forecast_chart(&series).unwrap();
        assert!(aria_label(&svg).contains("Previsione: Servizi pubblicati su App IO"));
        let texts = svg_texts(&svg);
        for want in [
            "Richiesti: 10",
            "Scadenza 31/12/2021",
            "Previsto: 12/12/2021",
            "31/10/2021: 7",
            "Esito previsto: in tempo",
        ] {
            assert!(texts.iter().any(|t| t == want), "{want}: {texts:?}");
        }
        assert!(svg_shows(&svg, "01/08/2021"), "the first sample's day");
        let stuck = ForecastSeries { expected: None, earliest: None, latest: None, at_risk: true, ..series };
        let texts = svg_texts(&forecast_chart(&stuck).unwrap());
        assert!(texts.iter().any(|t| t == "Nessun progresso previsto"), "{texts:?}");
        assert!(texts.iter().any(|t| t == "Esito previsto: a rischio"), "{texts:?}");
        // Far after the deadline: written in words at the edge, the chart not stretched.
        let far = ForecastSeries { expected: Some(day(2023, 6, 1)), at_risk: true, ..series };
        assert!(svg_texts(&forecast_chart(&far).unwrap()).iter().any(|t| t == "Previsto: 01/06/2023"));
        let empty = ForecastSeries { history: &[], ..series };
        assert!(svg_texts(&forecast_chart(&empty).unwrap()).iter().any(|t| t.contains("Nessuna misura")));
    }
}
