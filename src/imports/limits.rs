//! What an uploaded workbook may cost before it is read. calamine, which reads the XLSX files,
//! trusts them: it decompresses each part whole, reserves room for as many shared texts as the
//! file announces, and lays a sheet out as a dense grid from its first to its farthest cell —
//! one cell at `XFD1048576` is a grid of 17 billion cells, a few kilobytes of zip can expand
//! to gigabytes. So before calamine sees a workbook, [`check_xlsx`] walks it as a stream, with
//! nothing allocated per cell:
//! - the zip's parts: at most [`Limits::max_parts`]; decompressed, at most
//!   [`Limits::max_unpacked`] bytes together, and no part above [`Limits::ratio_from`] bytes
//!   that expands more than [`Limits::max_ratio`] times (sizes as declared first, then as
//!   actually decompressed: a declared size can lie);
//! - every part's XML, read as calamine reads it: the cells with a value (`<c>` holding `<v>`,
//!   `<is>` or `<f>`), their positions from `r="…"` or counted as calamine counts them, so each
//!   sheet's grid is known: at most [`Limits::max_rows`] rows and [`Limits::max_columns`]
//!   columns per sheet, at most [`Limits::max_cells`] grid cells (and cells) in the workbook;
//! - the shared texts' announced count (`<sst uniqueCount>`), which calamine reserves at once.
//!
//! `<dimension ref>` is not trusted or needed: calamine only takes it as a hint below 100,000
//! cells, and Excel writes it from formatted empty cells too.
//!
//! What is refused is one Italian sentence naming the sheet (or the part) and the limit.

use std::{
    collections::HashMap,
    io::{BufReader, Cursor, Read},
};

use quick_xml::events::Event;

/// The limits of one workbook.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Parts (files) in the zip.
    pub max_parts: usize,
    /// Bytes of all the parts together, decompressed.
    pub max_unpacked: u64,
    /// A part larger than this, decompressed, must not expand more than `max_ratio` times.
    pub ratio_from: u64,
    pub max_ratio: u64,
    /// Rows of one sheet, from its first cell with a value to its last.
    pub max_rows: u64,
    /// Columns of one sheet, likewise.
    pub max_columns: u64,
    /// Grid cells (rows × columns) of all the sheets, and cells with a value.
    pub max_cells: u64,
}

/// The server's limits: far above any import the programme needs (7,896 comuni, a few
/// thousand services, a dozen columns), far below what would hurt the server (the grids take
/// at most some 100 MB).
pub const LIMITS: Limits = Limits {
    max_parts: 2_000,
    max_unpacked: 100 * 1024 * 1024,
    ratio_from: 10 * 1024 * 1024,
    max_ratio: 100,
    max_rows: 100_000,
    max_columns: 200,
    max_cells: 2_000_000,
};

/// A limit or a count as Italian text: `100.000` (saturated at `i64::MAX`, which no file reaches).
pub fn thousands(n: u64) -> String {
    crate::format::int(i64::try_from(n).unwrap_or(i64::MAX))
}

/// `0` → `A`, `16383` → `XFD`.
fn column_letters(mut col: u64) -> String {
    let mut out = Vec::new();
    loop {
        out.push(b'A' + (col % 26) as u8);
        if col < 26 {
            break;
        }
        col = col / 26 - 1;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

const UNREADABLE: &str = "Il file XLSX non è leggibile: è forse danneggiato o protetto da password?";

/// Checks `bytes`, an XLSX workbook, against `limits` without building anything large; `Err`
/// is the Italian sentence.
pub fn check_xlsx(bytes: &[u8], limits: &Limits) -> Result<(), String> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|_| UNREADABLE.to_string())?;
    if zip.len() > limits.max_parts {
        return Err(format!(
            "Il file XLSX contiene {} parti, oltre il limite di {}: non sembra un normale foglio di calcolo.",
            thousands(zip.len() as u64),
            thousands(limits.max_parts as u64)
        ));
    }
    let too_big = || {
        format!(
            "Il file XLSX, decompresso, supera il limite di {} MB: dividere i dati in più file.",
            limits.max_unpacked / (1024 * 1024)
        )
    };
    let anomalous = |part: &str| {
        format!(
            "Il file XLSX ha una parte («{part}») compressa in modo anomalo (si espande oltre {} volte): \
             il file non viene letto.",
            limits.max_ratio
        )
    };
    // Each part's cap: what is left of the total, and the ratio's bound.
    let cap = |compressed: u64| limits.ratio_from.max(compressed.saturating_mul(limits.max_ratio));

    // The declared sizes first: a bomb that says what it is costs nothing.
    let mut declared = 0u64;
    for i in 0..zip.len() {
        let part = zip.by_index_raw(i).map_err(|_| UNREADABLE.to_string())?;
        declared = declared.saturating_add(part.size());
        if part.size() > cap(part.compressed_size()) {
            return Err(anomalous(&part.name().unwrap_or_default()));
        }
    }
    if declared > limits.max_unpacked {
        return Err(too_big());
    }

    // Then every part as it decompresses, its XML scanned as it streams.
    let mut unpacked = 0u64;
    let mut sheets: Vec<(String, Grid)> = Vec::new();
    let mut shared_texts = 0u64;
    for i in 0..zip.len() {
        let part = zip.by_index(i).map_err(|_| UNREADABLE.to_string())?;
        if part.is_dir() {
            continue;
        }
        let name = part.name().map(|n| n.into_owned()).unwrap_or_default();
        let budget = cap(part.compressed_size()).min(limits.max_unpacked - unpacked);
        let mut reader = Capped { inner: part, left: budget + 1, counted: 0 };
        let scan = scan_part(&mut reader);
        // What the scan left unread (after an XML error) is decompressed all the same.
        let rest = std::io::copy(&mut reader, &mut std::io::sink());
        unpacked += reader.counted;
        if reader.counted > budget {
            return Err(if unpacked > limits.max_unpacked { too_big() } else { anomalous(&name) });
        }
        rest.map_err(|_| UNREADABLE.to_string())?;
        let scan = scan.map_err(|_| UNREADABLE.to_string())?;
        shared_texts = shared_texts.max(scan.shared_texts);
        if let Some(grid) = scan.grid {
            sheets.push((name, grid));
        }
    }

    if shared_texts > limits.max_cells {
        return Err(format!(
            "Il file XLSX dichiara {} testi, oltre il limite di {} celle: dividere i dati in più file.",
            thousands(shared_texts),
            thousands(limits.max_cells)
        ));
    }
    let names = sheet_names(&mut zip);
    let name_of = |part: &str| names.get(part).cloned().unwrap_or_else(|| part.to_string());
    let (mut grid_cells, mut values) = (0u64, 0u64);
    for (part, grid) in &sheets {
        let (rows, columns) = grid.size();
        if rows > limits.max_rows {
            return Err(format!(
                "Il foglio «{}» va oltre il limite di {} righe (ha dati fino alla riga {}): dividere i dati in più file.",
                name_of(part),
                thousands(limits.max_rows),
                thousands(grid.max_row + 1)
            ));
        }
        if columns > limits.max_columns {
            return Err(format!(
                "Il foglio «{}» va oltre il limite di {} colonne (ha dati fino alla colonna {}): \
                 togliere le colonne che non servono all'importazione.",
                name_of(part),
                limits.max_columns,
                column_letters(grid.max_col)
            ));
        }
        grid_cells = grid_cells.saturating_add(rows.saturating_mul(columns));
        values = values.saturating_add(grid.values);
    }
    if grid_cells > limits.max_cells || values > limits.max_cells {
        return Err(format!(
            "I fogli del file XLSX vanno oltre il limite di {} celle: dividere i dati in più file.",
            thousands(limits.max_cells)
        ));
    }
    Ok(())
}

/// A reader that stops (with an error) after `left` bytes, counting what it gave.
struct Capped<R> {
    inner: R,
    left: u64,
    counted: u64,
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.left == 0 {
            return Err(std::io::Error::other("part over its limit"));
        }
        let max = buf.len().min(self.left.min(usize::MAX as u64) as usize);
        let n = self.inner.read(&mut buf[..max])?;
        self.left -= n as u64;
        self.counted += n as u64;
        Ok(n)
    }
}

/// The bounds of one sheet's cells with a value (0-based).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Grid {
    min_row: u64,
    max_row: u64,
    min_col: u64,
    max_col: u64,
    /// Cells with a value, repeats included (calamine keeps each before laying them out).
    values: u64,
}

impl Grid {
    /// (rows, columns) of the dense grid calamine would allocate.
    fn size(&self) -> (u64, u64) {
        (self.max_row - self.min_row + 1, self.max_col - self.min_col + 1)
    }

    fn add(grid: &mut Option<Grid>, (row, col): (u64, u64)) {
        match grid {
            None => *grid = Some(Grid { min_row: row, max_row: row, min_col: col, max_col: col, values: 1 }),
            Some(g) => {
                g.min_row = g.min_row.min(row);
                g.max_row = g.max_row.max(row);
                g.min_col = g.min_col.min(col);
                g.max_col = g.max_col.max(col);
                g.values += 1;
            }
        }
    }
}

/// What one part holds: the grid of its cells (a sheet), the shared texts it announces.
#[derive(Debug, Default)]
struct Scan {
    grid: Option<Grid>,
    shared_texts: u64,
}

/// A cell reference (`B7`, any case, as calamine reads it) as 0-based (row, column); far-off or
/// overlong references saturate (they are refused as too large, never wrap).
fn cell_ref(r: &[u8]) -> Option<(u64, Option<u64>)> {
    let (mut col, mut row, mut i) = (0u64, 0u64, 0);
    while i < r.len() && r[i].is_ascii_alphabetic() {
        col = col.saturating_mul(26).saturating_add((r[i].to_ascii_uppercase() - b'A') as u64 + 1);
        i += 1;
    }
    if i == r.len() {
        return None;
    }
    while i < r.len() {
        if !r[i].is_ascii_digit() {
            return None;
        }
        row = row.saturating_mul(10).saturating_add((r[i] - b'0') as u64);
        i += 1;
    }
    Some((row.checked_sub(1)?, col.checked_sub(1)))
}

/// Excel's grid: 1,048,576 rows, 16,384 columns (`XFD`). A reference beyond it is in no
/// workbook a spreadsheet wrote, and calamine reads references into 32 bits without checking
/// (beyond 4,294,967,295 it overflows: a panic in a debug build, a wrapped, wrong position in a
/// release one), so the scan refuses it as unreadable before calamine sees it.
const GRID_ROWS: u64 = 1 << 20;
const GRID_COLUMNS: u64 = 1 << 14;

/// [`cell_ref`], refused (`Err`) beyond Excel's grid; `Ok(None)` is what calamine refuses on
/// its own (no row, a character that is not a letter or a digit).
fn in_grid(r: &[u8]) -> Result<Option<(u64, Option<u64>)>, ()> {
    match cell_ref(r) {
        Some((row, col)) if row >= GRID_ROWS || col.is_some_and(|c| c >= GRID_COLUMNS) => Err(()),
        found => Ok(found),
    }
}

/// The raw value of the attribute `key` (as calamine: exact name, no unescaping).
fn attr(e: &quick_xml::events::BytesStart, key: &str) -> Result<Option<String>, ()> {
    for a in e.attributes().with_checks(false) {
        let a = a.map_err(|_| ())?;
        if a.key.as_ref() == key {
            return Ok(Some(a.value.into_owned()));
        }
    }
    Ok(None)
}

/// Streams one part's XML with calamine's reader settings, counting cells as calamine places
/// them (a row's `r`, or one more than the last row; a cell's `r`, or one more than the last
/// cell of the row). A part that is not XML ends the scan with what was found (calamine could
/// not read it either); a cell reference calamine would refuse is an error.
fn scan_part(reader: impl Read) -> Result<Scan, ()> {
    let mut xml = quick_xml::Reader::from_reader(BufReader::new(reader));
    let config = xml.config_mut();
    config.check_end_names = false;
    config.trim_text(false);
    config.check_comments = false;
    config.expand_empty_elements = true;
    let mut scan = Scan::default();
    let (mut row, mut col) = (0u64, 0u64);
    // The cell being read: its position, whether it holds a value.
    let mut cell: Option<((u64, u64), bool)> = None;
    let mut buf = Vec::new();
    loop {
        buf.clear();
        let event = match xml.read_event_into(&mut buf) {
            Ok(e) => e,
            // An over-long part stops here too: the caller tells which it was.
            Err(quick_xml::Error::Io(_)) => return Err(()),
            Err(_) => return Ok(scan),
        };
        match event {
            Event::Start(e) => match e.local_name().as_ref() {
                "row" => {
                    if let Some(r) = attr(&e, "r")? {
                        row = in_grid(r.as_bytes())?.ok_or(())?.0;
                    }
                }
                "c" => {
                    let at = match attr(&e, "r")? {
                        Some(r) => match in_grid(r.as_bytes())?.ok_or(())? {
                            (r, Some(c)) => {
                                col = c;
                                (r, c)
                            }
                            (_, None) => return Err(()),
                        },
                        None => (row, col),
                    };
                    cell = Some((at, false));
                }
                "v" | "is" | "f" => {
                    if let Some((_, has_value)) = cell.as_mut() {
                        *has_value = true;
                    }
                }
                // calamine reads the sheet's dimension before its cells, and takes the second
                // corner from the first unchecked (overflowing when it comes before it).
                "dimension" => {
                    if let Some(r) = attr(&e, "ref")? {
                        let corners =
                            r.split(':').map(|c| in_grid(c.as_bytes())).collect::<Result<Vec<_>, ()>>()?;
                        if let [Some((r1, Some(c1))), Some((r2, Some(c2)))] = corners[..] {
                            if r2 < r1 || c2 < c1 {
                                return Err(());
                            }
                        }
                    }
                }
                "sst" => {
                    if let Some(n) = attr(&e, "uniqueCount")? {
                        // Digits only, as calamine reads it; more digits than a u64 holds is
                        // as good as infinite.
                        if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) {
                            let n = n.parse().unwrap_or(u64::MAX);
                            scan.shared_texts = scan.shared_texts.max(n);
                        }
                    }
                }
                _ => {}
            },
            Event::End(e) => match e.local_name().as_ref() {
                "row" => {
                    row = row.saturating_add(1);
                    col = 0;
                }
                "c" => {
                    if let Some((at, true)) = cell.take() {
                        Grid::add(&mut scan.grid, at);
                    }
                    cell = None;
                    col = col.saturating_add(1);
                }
                _ => {}
            },
            Event::Eof => return Ok(scan),
            _ => {}
        }
    }
}

/// The sheets' names by part (`xl/worksheets/sheet1.xml` → `Servizi`), for the messages; empty
/// when the workbook does not say (the part's name is used instead). The parts were checked.
fn sheet_names(zip: &mut zip::ZipArchive<Cursor<&[u8]>>) -> HashMap<String, String> {
    let mut read = |name: &str| -> Option<Vec<u8>> {
        let mut part = zip.by_name(name).ok()?;
        let mut out = Vec::new();
        part.read_to_end(&mut out).ok()?;
        Some(out)
    };
    let (Some(book), Some(rels)) = (read("xl/workbook.xml"), read("xl/_rels/workbook.xml.rels")) else {
        return HashMap::new();
    };
    let elements = |xml: &[u8], element: &str, keys: [&str; 2]| -> Vec<(String, String)> {
        let mut reader = quick_xml::Reader::from_reader(xml);
        reader.config_mut().expand_empty_elements = true;
        let mut out = Vec::new();
        while let Ok(event) = reader.read_event() {
            match event {
                Event::Start(e) if e.local_name().as_ref() == element => {
                    let mut values = [None, None];
                    for a in e.attributes().with_checks(false).flatten() {
                        for (k, v) in keys.iter().zip(values.iter_mut()) {
                            if a.key.as_ref() == *k || a.key.local_name().as_ref() == *k {
                                *v = quick_xml::escape::unescape(&a.value).ok().map(|s| s.into_owned());
                            }
                        }
                    }
                    if let [Some(a), Some(b)] = values {
                        out.push((a, b));
                    }
                }
                Event::Eof => break,
                _ => {}
            }
        }
        out
    };
    let targets: HashMap<String, String> = elements(&rels, "Relationship", ["Id", "Target"])
        .into_iter()
        .map(|(id, target)| {
            let path = match target.strip_prefix('/') {
                Some(absolute) => absolute.to_string(),
                None => format!("xl/{target}"),
            };
            (id, path)
        })
        .collect();
    elements(&book, "sheet", ["name", "id"])
        .into_iter()
        .filter_map(|(name, id)| Some((targets.get(&id)?.clone(), name)))
        .collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use std::io::Write;

    use super::*;

    /// A minimal workbook: one sheet named `Foglio1` whose XML is `sheet`, compressed.
    pub(crate) fn workbook(sheet: &[u8]) -> Vec<u8> {
        workbook_with(&[("xl/worksheets/sheet1.xml", sheet)])
    }

    /// A minimal workbook with `parts` besides the fixed ones.
    pub(crate) fn workbook_with(parts: &[(&str, &[u8])]) -> Vec<u8> {
        let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .large_file(false);
        let fixed: [(&str, &[u8]); 4] = [
            (
                "[Content_Types].xml",
                br#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#,
            ),
            (
                "_rels/.rels",
                br#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#,
            ),
            (
                "xl/workbook.xml",
                br#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Foglio1" sheetId="1" r:id="rId1"/></sheets></workbook>"#,
            ),
            (
                "xl/_rels/workbook.xml.rels",
                br#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#,
            ),
        ];
        for (name, body) in fixed.iter().chain(parts) {
            zip.start_file(*name, options).unwrap();
            zip.write_all(body).unwrap();
        }
        zip.finish().unwrap().into_inner()
    }

    /// A worksheet's XML around `rows`.
    pub(crate) fn sheet_xml(rows: &str) -> Vec<u8> {
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>{rows}</sheetData></worksheet>"#
        )
        .into_bytes()
    }

    /// One row of `n` numeric cells without references (positions counted).
    pub(crate) fn wide_row(n: usize) -> String {
        let mut row = String::from("<row r=\"1\">");
        for i in 0..n {
            row.push_str(&format!("<c><v>{i}</v></c>"));
        }
        row.push_str("</row>");
        row
    }

    /// The corner cells: A1 and XFD1048576.
    pub(crate) const FAR_CELL: &str = r#"<row r="1"><c r="A1" t="inlineStr"><is><t>codice_istat</t></is></c></row><row r="1048576"><c r="XFD1048576"><v>1</v></c></row>"#;

    fn check(bytes: &[u8]) -> Result<(), String> {
        check_xlsx(bytes, &LIMITS)
    }

    #[test]
    fn an_ordinary_workbook_passes_and_calamine_reads_it() {
        let book = workbook(&sheet_xml(
            r#"<row r="1"><c r="A1" t="inlineStr"><is><t>codice_istat</t></is></c><c r="B1" t="inlineStr"><is><t>adesione</t></is></c></row><row r="2"><c r="A2" t="inlineStr"><is><t>072006</t></is></c><c r="B2" t="inlineStr"><is><t>aderente</t></is></c></row>"#,
        ));
        check(&book).unwrap();
        let (_, tables) = crate::imports::table::read("a.xlsx", &book).unwrap();
        assert_eq!(tables[0].headers, ["codice_istat", "adesione"]);
        assert_eq!(tables[0].rows, [(2, vec!["072006".to_string(), "aderente".to_string()])]);
        // The templates the Region downloads pass too.
        check(&crate::imports::routes::workbook().unwrap()).unwrap();
    }

    #[test]
    fn a_far_cell_is_refused_naming_the_sheet_and_the_limit() {
        let e = check(&workbook(&sheet_xml(FAR_CELL))).unwrap_err();
        assert!(e.contains("«Foglio1»") && e.contains("100.000 righe") && e.contains("1.048.576"), "{e}");
        // Far to the right only: the columns.
        let e = check(&workbook(&sheet_xml(
            r#"<row r="1"><c r="A1"><v>1</v></c><c r="XFD1"><v>1</v></c></row>"#,
        )))
        .unwrap_err();
        assert!(e.contains("«Foglio1»") && e.contains("200 colonne") && e.contains("XFD"), "{e}");
        // An empty styled cell far away is no data (calamine skips it): accepted.
        check(&workbook(&sheet_xml(r#"<row r="1"><c r="A1"><v>1</v></c><c r="XFD1048576" s="1"/></row>"#)))
            .unwrap();
    }

    #[test]
    fn counted_columns_are_refused_too() {
        let e = check(&workbook(&sheet_xml(&wide_row(100_000)))).unwrap_err();
        assert!(e.contains("200 colonne") && e.contains("«Foglio1»"), "{e}");
        check(&workbook(&sheet_xml(&wide_row(200)))).unwrap();
        // Rows without `r` count on from the last one.
        let rows: String = (0..10).map(|_| "<row><c><v>1</v></c></row>").collect();
        let limits = Limits { max_rows: 9, ..LIMITS };
        let e = check_xlsx(&workbook(&sheet_xml(&rows)), &limits).unwrap_err();
        assert!(e.contains("9 righe") && e.contains("riga 10"), "{e}");
        check_xlsx(&workbook(&sheet_xml(&rows)), &Limits { max_rows: 10, ..LIMITS }).unwrap();
    }

    #[test]
    fn the_cell_budget_counts_every_sheet_and_every_repeat() {
        let book = workbook(&sheet_xml(&wide_row(150)));
        let e = check_xlsx(&book, &Limits { max_cells: 100, ..LIMITS }).unwrap_err();
        assert!(e.contains("100 celle"), "{e}");
        // One position written again and again is as many cells for calamine.
        let same: String = (0..50).map(|_| r#"<c r="A1"><v>1</v></c>"#).collect();
        let book = workbook(&sheet_xml(&format!("<row r=\"1\">{same}</row>")));
        assert!(check_xlsx(&book, &Limits { max_cells: 49, ..LIMITS }).is_err());
        check_xlsx(&book, &Limits { max_cells: 50, ..LIMITS }).unwrap();
    }

    #[test]
    fn shared_texts_announced_beyond_the_budget_are_refused() {
        let sst = br#"<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="18446744073709551615"><si><t>a</t></si></sst>"#;
        let book =
            workbook_with(&[("xl/worksheets/sheet1.xml", &sheet_xml("")), ("xl/sharedStrings.xml", sst)]);
        let e = check(&book).unwrap_err();
        assert!(e.contains("testi"), "{e}");
    }

    #[test]
    fn a_zip_bomb_is_refused_by_its_size_and_by_its_ratio() {
        // 30 MB of spaces: a few tens of kilobytes compressed.
        let book = workbook(&sheet_xml(&" ".repeat(30 << 20)));
        assert!(book.len() < 1 << 20, "{}", book.len());
        let e = check(&book).unwrap_err();
        assert!(e.contains("compressa in modo anomalo") && e.contains("xl/worksheets/sheet1.xml"), "{e}");
        // Without the ratio, the total.
        let e = check_xlsx(&book, &Limits { max_ratio: u64::MAX / 2, max_unpacked: 20 << 20, ..LIMITS })
            .unwrap_err();
        assert!(e.contains("20 MB"), "{e}");
    }

    #[test]
    fn sizes_are_counted_as_decompressed_not_as_declared() {
        // A reader that yields more than its cap is stopped and reported.
        let mut capped = Capped { inner: &[b'x'; 100][..], left: 11, counted: 0 };
        let mut out = Vec::new();
        assert!(capped.read_to_end(&mut out).is_err());
        assert_eq!((out.len(), capped.counted), (11, 11));
        let xml = sheet_xml(&wide_row(10));
        assert!(scan_part(Capped { inner: &xml[..], left: 50, counted: 0 }).is_err());
        // Exactly at the cap is fine.
        let mut capped = Capped { inner: &xml[..], left: xml.len() as u64 + 1, counted: 0 };
        assert_eq!(scan_part(&mut capped).unwrap().grid.unwrap().values, 10);
        assert_eq!(capped.counted, xml.len() as u64);
    }

    #[test]
    fn too_many_parts_and_garbage_are_refused() {
        let many: Vec<(String, Vec<u8>)> =
            (0..20).map(|i| (format!("x/{i}.xml"), b"<a/>".to_vec())).collect();
        let parts: Vec<(&str, &[u8])> = many.iter().map(|(n, b)| (n.as_str(), b.as_slice())).collect();
        let e = check_xlsx(&workbook_with(&parts), &Limits { max_parts: 10, ..LIMITS }).unwrap_err();
        assert!(e.contains("parti"), "{e}");
        assert_eq!(check(b"PK\x03\x04 nothing more").unwrap_err(), UNREADABLE);
    }

    /// Found by `imports::props`: a reference beyond 32 bits made calamine overflow (a panic in
    /// a debug build, a wrapped position in a release one). Refused as unreadable, before
    /// calamine reads the workbook.
    #[test]
    fn a_reference_beyond_the_grid_is_refused_before_calamine_reads_it() {
        for sheet in [
            r#"<row r="A99999999999999999999"></row><row></row>"#,
            r#"<row r="1"><c r="ZZZZZZZ1" s="1"/></row>"#,
            r#"<row r="1048577"></row>"#,
        ] {
            let book = workbook(&sheet_xml(sheet));
            assert_eq!(check(&book).unwrap_err(), UNREADABLE, "{sheet}");
            assert_eq!(crate::imports::table::read("a.xlsx", &book).unwrap_err(), UNREADABLE, "{sheet}");
        }
        // The dimension: a corner beyond the grid, a second corner before the first.
        for dimension in ["A1:B99999999999", "A2:A1", "B1:A1"] {
            let sheet = format!(
                r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><dimension ref="{dimension}"/><sheetData/></worksheet>"#
            );
            let book = workbook(sheet.as_bytes());
            assert_eq!(check(&book).unwrap_err(), UNREADABLE, "{dimension}");
            assert_eq!(crate::imports::table::read("a.xlsx", &book).unwrap_err(), UNREADABLE, "{dimension}");
        }
        // The grid's last cell is still a cell (refused for the rows it spans, in words).
        let e = check(&workbook(&sheet_xml(FAR_CELL))).unwrap_err();
        assert!(e.contains("100.000 righe"), "{e}");
    }

    #[test]
    fn references_read_as_calamine_reads_them() {
        assert_eq!(cell_ref(b"A1"), Some((0, Some(0))));
        assert_eq!(cell_ref(b"xfd1048576"), Some((1_048_575, Some(16_383))));
        assert_eq!(cell_ref(b"7"), Some((6, None)));
        assert_eq!(cell_ref(b"A0"), None);
        assert_eq!(cell_ref(b"A"), None);
        assert_eq!(cell_ref(b"A1B"), None);
        // Overlong: saturated, never wrapped to something small.
        let (row, col) = cell_ref(b"ZZZZZZZZZZZZZZZZ99999999999999999999999").unwrap();
        assert!(row > 1 << 40 && col.unwrap() > 1 << 40);
        assert_eq!(column_letters(0), "A");
        assert_eq!(column_letters(16_383), "XFD");
        assert_eq!(thousands(1_048_576), "1.048.576");
        assert_eq!(thousands(200), "200");
    }
}
