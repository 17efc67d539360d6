//! Server-side SVG charts (plotters). Each chart writes the numbers on the bars and a legend in
//! words, so colour is never the only cue; the page puts it in a `<figure>` with a caption and
//! the same numbers as a table.

use plotters::{
    prelude::*,
    style::text_anchor::{HPos, Pos, VPos},
};

use super::ProvinceRow;

/// Fill colours; every segment also gets a dark outline, and labels are white on dark fills and
/// dark on the light one (WCAG 1.4.3, 1.4.11).
const ADERENTI: RGBColor = RGBColor(0, 102, 204); // Bootstrap Italia primary #0066CC
const IN_RITARDO: RGBColor = RGBColor(166, 77, 0); // dark orange #A64D00
const NON_ADERENTI: RGBColor = RGBColor(200, 204, 209); // light grey #C8CCD1, dark labels
const TEXT: RGBColor = RGBColor(25, 25, 25);

/// Stacked horizontal bars: for each province, adherents on time, late and not adhering, against
/// the province's total comuni.
pub fn adhesion_by_province(rows: &[ProvinceRow]) -> Result<String, String> {
    let width = 760u32;
    let height = 90 + 46 * rows.len() as u32;
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
            .x_label_formatter(&|v| format!("{v:.0}"))
            .axis_desc_style(("sans-serif", 15).into_font().color(&TEXT))
            .label_style(("sans-serif", 14).into_font().color(&TEXT))
            .light_line_style(WHITE)
            .draw()
            .map_err(|e| e.to_string())?;

        for (i, row) in rows.iter().enumerate() {
            let y0 = n - i as f64 - 0.85;
            let y1 = n - i as f64 - 0.15;
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
            root.draw(&Text::new(format!("{} comuni", row.totale), (pe + 6, py), total.color(&TEXT)))
                .map_err(|e| e.to_string())?;
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

/// plotters writes a bare `<svg>`: give it a role and a name so assistive technology announces
/// it as one image (the numbers are in the table beside it).
fn accessible(svg: String, title: &str) -> String {
    svg.replacen("<svg ", &format!("<svg role=\"img\" aria-label=\"{title}\" "), 1)
}

#[cfg(test)]
mod tests {
    use super::*;

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
            },
            ProvinceRow {
                sigla: "BT".into(),
                nome: "Barletta-Andria-Trani".into(),
                aderenti: 7,
                in_ritardo: 0,
                non_aderenti: 3,
                totale: 10,
            },
        ];
        let svg = adhesion_by_province(&rows).unwrap();
        assert!(svg.starts_with("<svg role=\"img\" aria-label=\"Adesione"));
        // plotters writes each text on a line of its own.
        for text in ["Lecce", "65", "29", "96 comuni", "Barletta-Andria-Trani", "Aderenti in ritardo"] {
            assert!(svg.contains(&format!("\n{text}\n")), "missing {text}");
        }
    }
}
