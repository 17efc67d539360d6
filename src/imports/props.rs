//! Properties of the import reader and planner over hostile files (see `crate::fuzz`): any
//! bytes under any name, CSVs built from the templates' headers with hostile cells, workbooks
//! whose sheet XML is assembled from cell fragments, damaged workbooks, and tables of
//! plausible and hostile cells straight into the planner.

use proptest::{prelude::*, test_runner::TestCaseResult};

use super::{
    limits::{
        check_xlsx,
        tests::{sheet_xml, workbook, workbook_with},
        LIMITS,
    },
    plan::{plan, Op, Plan},
    table::{header_name, read, FileType, Table},
    tests::{ctx, current},
    KINDS,
};
use crate::fuzz::{check, hostile_text};

/// What every dry run must satisfy, whatever the tables: a problem anywhere plans no write;
/// without problems, one write per added, changed or removed record; the totals add up; each
/// problem is said (a message) where it is (a table of the file, its header or one of its
/// rows); every write names a comune of the registry.
fn check_plan(tables: &[Table], p: &Plan) -> TestCaseResult {
    let r = &p.report;
    if !r.problems.is_empty() {
        prop_assert!(p.ops.is_empty(), "a file with problems plans writes: {:?}", r.problems);
        prop_assert!(!r.can_apply());
    } else {
        prop_assert_eq!(p.ops.len() as u32, r.added + r.changed + r.removed);
    }
    prop_assert_eq!(r.added, r.tables.iter().map(|t| t.added).sum::<u32>());
    prop_assert_eq!(r.changed, r.tables.iter().map(|t| t.changed).sum::<u32>());
    prop_assert_eq!(r.unchanged, r.tables.iter().map(|t| t.unchanged).sum::<u32>());
    for problem in &r.problems {
        prop_assert!(!problem.message.trim().is_empty());
        let table = tables.iter().find(|t| t.name == problem.table);
        let placed = match table {
            Some(t) => problem.row <= 1 || t.rows.iter().any(|(n, _)| *n == problem.row),
            None => tables.is_empty(),
        };
        prop_assert!(placed, "problem not placed in the file: {:?}", problem);
    }
    let names = &current().names;
    for op in &p.ops {
        let comune = match op {
            Op::Adhesion { comune, .. }
            | Op::AddService { comune, .. }
            | Op::UpdateService { comune, .. }
            | Op::Count { comune, .. } => Some(comune),
            Op::Project { project, .. } => Some(&project.comune),
            Op::Taxonomy { code, .. } => {
                prop_assert!(crate::rules::is_taxonomy_code(code), "{code}");
                None
            }
            Op::RemoveTaxonomy { .. } => None,
        };
        if let Some(c) = comune {
            prop_assert!(names.contains_key(c), "a write for an unknown comune {c}");
        }
    }
    Ok(())
}

/// Values a column's cells plausibly hold (right, nearly right and wrong), so that rows get
/// past the first checks and reach the validators and the comparisons.
fn plausible(column: &str) -> Vec<&'static str> {
    match column {
        "codice_istat" => vec!["072006", "72006", "072011", "071020", "999999", "0", "0072006", "72 006"],
        "denominazione" => vec!["Bari", "BARI", "Bitonto", "Foggia", "Sant'Agata", ""],
        "adesione" => vec!["aderente", "Aderente in ritardo", "non_aderente", "rinuncia", "forse", ""],
        "piattaforma" => vec!["pagopa", "App IO", "spid_cie", "SPID/CIE", "fax", ""],
        "codice" | "dati_specifici_di_incasso" => {
            vec!["9/0101100IM/", "9/0301109SP/", "9/0101100im/", "01H8ZQ", "9/9999999XX/", ""]
        }
        "attivi" => vec!["12", "0", "-1", "1.234", "12,0", "12.5", "99999999999999999999", ""],
        "applicabile" | "su_mypay" | "rinuncia" => {
            vec!["sì", "no", "SI", "x", "forse", "saldo", "contributo", ""]
        }
        "importo_finanziamento" => vec!["16389.0", "16.389,50", "NaN", "inf", "-1", "1e300", ""],
        "stato_candidatura" => vec!["A", "R", "E", "a", "Z", ""],
        "codice_cup" => vec!["F61F22002330006", "f61f22002330006", "F61F2200233000", ""],
        "regione" => vec!["Puglia", "PUGLIA", "Campania", ""],
        "tipologia_ente" => vec!["Comune", "Comuni", "Provincia", ""],
        "misura" | "avviso" | "decreto_finanziamento" | "tipo_servizio" | "nome" => {
            vec!["1.4.4  Adozione identità digitale", "Rendite catastali", "Servizio", ""]
        }
        _ => vec![
            "28/02/2021",
            "2021-02-28",
            "31/02/2021",
            "01/01/1800",
            "15.03.2022",
            "01/31/2021",
            "2022-08-23T06:55:19.000+0000",
            "2099-01-01",
            "",
        ],
    }
}

fn cell_for(column: &str) -> BoxedStrategy<String> {
    prop_oneof![
        4 => proptest::sample::select(plausible(column)).prop_map(str::to_string),
        1 => hostile_text(),
    ]
    .boxed()
}

/// A table shaped as one of the templates: its required columns, some of its optional ones,
/// maybe one it does not know, in any order; rows of plausible and hostile cells, some short.
fn template_table() -> impl Strategy<Value = Table> {
    (0..KINDS.len(), proptest::collection::vec(any::<bool>(), 16), any::<bool>())
        .prop_flat_map(|(k, keep, extra)| {
            let mut headers: Vec<String> = KINDS[k]
                .columns
                .iter()
                .zip(&keep)
                .filter(|(c, keep)| c.required || **keep)
                .map(|(c, _)| c.name.to_string())
                .collect();
            if extra {
                headers.push("colonna_in_piu".into());
            }
            Just(headers).prop_shuffle()
        })
        .prop_flat_map(|headers| {
            let row: Vec<BoxedStrategy<String>> = headers.iter().map(|h| cell_for(h)).collect();
            let n = headers.len();
            let rows = proptest::collection::vec((row, 0..=n + 1), 0..6);
            (Just(headers), rows).prop_map(|(headers, rows)| Table {
                name: "prova.csv".to_string(),
                headers,
                rows: rows
                    .into_iter()
                    .enumerate()
                    .map(|(i, (mut cells, keep))| {
                        cells.truncate(keep);
                        (i as u32 + 2, cells)
                    })
                    .collect(),
            })
        })
}

#[test]
fn prop_the_planner_never_plans_a_write_for_a_file_with_a_problem() {
    // Sheets named apart, as in a workbook.
    let tables = proptest::collection::vec(template_table(), 0..3).prop_map(|mut tables| {
        for (i, t) in tables.iter_mut().enumerate() {
            t.name = format!("Foglio{}", i + 1);
        }
        tables
    });
    check("imports::plan (template tables)", tables, |tables| {
        let p = plan(&tables, &current(), &ctx());
        check_plan(&tables, &p)
    });
}

/// Any bytes under any name: read or refused in words, never a panic; whatever is read is
/// within the limits, numbered below its header.
#[test]
fn prop_any_bytes_are_read_or_refused_in_words() {
    let magic = proptest::sample::select(vec![
        &b""[..],
        b"PK\x03\x04",
        b"\xEF\xBB\xBF",
        b"%PDF-",
        b"\xD0\xCF\x11\xE0",
        b"codice_istat;adesione\n",
    ]);
    let name = prop_oneof![
        hostile_text(),
        proptest::sample::select(vec!["a.csv", "a.xlsx", "a.XLS", "a.ods", ""]).prop_map(str::to_string),
    ];
    let input = (magic, proptest::collection::vec(any::<u8>(), 0..1024), name);
    check("imports::table::read (any bytes)", input, |(magic, tail, name)| {
        let bytes = [magic, &tail[..]].concat();
        match read(&name, &bytes) {
            Ok((_, tables)) => {
                prop_assert!(!tables.is_empty());
                for t in &tables {
                    prop_assert!(t.headers.len() as u64 <= LIMITS.max_columns);
                    prop_assert!(t.rows.iter().all(|(n, c)| *n >= 2 && c.len() as u64 <= LIMITS.max_columns));
                    prop_assert!(t.rows.windows(2).all(|w| w[0].0 < w[1].0));
                }
                let p = plan(&tables, &current(), &ctx());
                check_plan(&tables, &p)?;
            }
            Err(message) => prop_assert!(!message.trim().is_empty()),
        }
        Ok(())
    });
}

/// A CSV written properly (quotes where needed) from a template's header and hostile cells,
/// with any of the three separators, with or without a BOM, is read back cell for cell
/// (trimmed; empty rows dropped; rows numbered as the spreadsheet shows them), then planned.
#[test]
fn prop_a_csv_of_hostile_cells_is_read_back_cell_for_cell() {
    let cell = hostile_text().prop_map(|s| s.replace('\0', ""));
    let input = (
        template_table().prop_map(|t| t.headers),
        proptest::collection::vec(proptest::collection::vec(cell, 1..8), 0..6),
        proptest::sample::select(vec![b';', b',', b'\t']),
        any::<bool>(),
    );
    check("imports::table::read (hostile CSV)", input, |(headers, rows, delimiter, bom)| {
        let mut writer =
            csv::WriterBuilder::new().delimiter(delimiter).flexible(true).from_writer(Vec::new());
        writer.write_record(&headers).unwrap();
        for r in &rows {
            writer.write_record(r).unwrap();
        }
        let mut bytes = if bom { b"\xEF\xBB\xBF".to_vec() } else { Vec::new() };
        bytes.extend(writer.into_inner().unwrap());
        let clean = |s: &String| s.trim_matches(|c: char| c.is_whitespace() || c == '\u{a0}').to_string();
        let expected: Vec<(u32, Vec<String>)> = rows
            .iter()
            .enumerate()
            .map(|(i, cells)| (i as u32 + 2, cells.iter().map(clean).collect::<Vec<_>>()))
            .filter(|(_, cells)| cells.iter().any(|c| !c.is_empty()))
            .collect();
        let (kind, tables) = read("prova.csv", &bytes).map_err(TestCaseError::fail)?;
        prop_assert_eq!(kind, FileType::Csv);
        prop_assert_eq!(tables.len(), 1);
        let headers: Vec<String> = headers.iter().map(|h| header_name(h)).collect();
        prop_assert_eq!(&tables[0].headers, &headers);
        prop_assert_eq!(&tables[0].rows, &expected);
        let p = plan(&tables, &current(), &ctx());
        check_plan(&tables, &p)
    });
}

/// A cell reference as found in the wild and in hostile files.
fn cell_ref() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[A-D][1-5]",
        1 => "[A-Za-z]{0,4}[0-9]{0,8}",
        1 => proptest::sample::select(vec!["XFD1048576", "A0", "A99999999999999999999", "ZZZZZZZZZZZZ1", "7", ""])
            .prop_map(str::to_string),
    ]
}

/// Text escaped for XML (or not: a quarter of the time it goes in raw and may break the XML).
fn xml_text() -> impl Strategy<Value = String> {
    (hostile_text(), 0..4u8).prop_map(|(s, raw)| {
        if raw == 0 {
            s
        } else {
            s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
        }
    })
}

/// A fragment of a worksheet's `sheetData`.
fn sheet_fragment() -> impl Strategy<Value = String> {
    let kind = proptest::sample::select(vec![
        "",
        " t=\"s\"",
        " t=\"inlineStr\"",
        " t=\"b\"",
        " t=\"e\"",
        " t=\"str\"",
        " t=\"d\"",
        " t=\"n\"",
    ]);
    prop_oneof![
        proptest::sample::select(vec![
            "<row>",
            "</row>",
            "<c>",
            "</c>",
            "<c r=\"B2\" s=\"1\"/>",
            "<f>SUM(A1:A2)</f>"
        ])
        .prop_map(str::to_string),
        cell_ref().prop_map(|r| format!("<row r=\"{r}\">")),
        (cell_ref(), kind).prop_map(|(r, t)| format!("<c r=\"{r}\"{t}>")),
        prop_oneof![xml_text(), "[0-9]{1,12}", "-?[0-9]{1,5}\\.[0-9]{1,5}(E[0-9]{1,4})?"]
            .prop_map(|v| format!("<v>{v}</v>")),
        xml_text().prop_map(|v| format!("<is><t>{v}</t></is>")),
        xml_text(),
    ]
}

/// Shared texts: a count announced (true, small, huge, not a number) and a few entries.
fn shared_strings() -> impl Strategy<Value = Vec<u8>> {
    let count = prop_oneof![Just("2".to_string()), "[0-9]{1,25}", hostile_text()];
    (count, proptest::collection::vec(xml_text(), 0..4)).prop_map(|(count, items)| {
        let items: String = items.iter().map(|t| format!("<si><t>{t}</t></si>")).collect();
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="{count}" uniqueCount="{count}">{items}</sst>"#
        )
        .into_bytes()
    })
}

/// Whatever `read` makes of a workbook, it stays within the limits; what the pre-scan refuses
/// is refused by `read` with the same words, before calamine sees it.
fn check_workbook(book: &[u8]) -> TestCaseResult {
    let scanned = check_xlsx(book, &LIMITS);
    // Damage to the first bytes makes it a file that is not a workbook (read as a CSV).
    let zip = book.starts_with(b"PK\x03\x04");
    match read("prova.xlsx", book) {
        Ok((kind, tables)) => {
            if zip {
                prop_assert!(scanned.is_ok());
                prop_assert_eq!(kind, FileType::Xlsx);
            }
            for t in &tables {
                prop_assert!(t.rows.len() as u64 <= LIMITS.max_rows);
                prop_assert!(t.headers.len() as u64 <= LIMITS.max_columns);
                prop_assert!(t.rows.iter().all(|(_, c)| c.len() as u64 <= LIMITS.max_columns));
            }
            let p = plan(&tables, &current(), &ctx());
            check_plan(&tables, &p)?;
        }
        Err(message) => {
            prop_assert!(!message.trim().is_empty());
            if let (true, Err(refused)) = (zip, scanned) {
                prop_assert_eq!(message, refused);
            }
        }
    }
    Ok(())
}

/// Workbooks whose sheet is assembled from cell fragments (references far and malformed,
/// every cell type, values that are not what their type says, broken XML), with or without
/// shared texts and a dimension: the pre-scan and calamine never panic.
#[test]
fn prop_workbooks_of_hostile_xml_are_read_or_refused() {
    let input = (
        proptest::collection::vec(sheet_fragment(), 0..40),
        proptest::option::of(shared_strings()),
        proptest::option::of((cell_ref(), cell_ref())),
    );
    check(
        "imports::table::read + limits::check_xlsx (hostile sheet XML)",
        input,
        |(fragments, sst, dimension)| {
            let mut sheet = sheet_xml(&fragments.concat());
            if let Some((a, b)) = dimension {
                let s = String::from_utf8(sheet).unwrap();
                sheet = s
                    .replacen("<sheetData>", &format!("<dimension ref=\"{a}:{b}\"/><sheetData>"), 1)
                    .into_bytes();
            }
            let mut parts: Vec<(&str, &[u8])> = vec![("xl/worksheets/sheet1.xml", sheet.as_slice())];
            if let Some(sst) = &sst {
                parts.push(("xl/sharedStrings.xml", sst.as_slice()));
            }
            check_workbook(&workbook_with(&parts))
        },
    );
}

/// An ordinary workbook damaged: bytes overwritten here and there, or cut short.
#[test]
fn prop_damaged_workbooks_are_read_or_refused() {
    let book = workbook(&sheet_xml(
        r#"<row r="1"><c r="A1" t="inlineStr"><is><t>codice_istat</t></is></c><c r="B1" t="inlineStr"><is><t>adesione</t></is></c></row><row r="2"><c r="A2"><v>72006</v></c><c r="B2" t="inlineStr"><is><t>aderente</t></is></c></row>"#,
    ));
    let len = book.len();
    let input = (proptest::collection::vec((0..len, any::<u8>()), 0..6), 0..=len);
    check("imports::table::read (damaged XLSX)", input, move |(flips, cut)| {
        let mut damaged = book.clone();
        for (at, byte) in flips {
            damaged[at] = byte;
        }
        damaged.truncate(cut.max(4));
        check_workbook(&damaged)
    });
}
