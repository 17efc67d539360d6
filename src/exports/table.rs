//! One list as a table in four formats, streamed where the format allows it.

use std::pin::Pin;

use axum::{
    body::Body,
    http::header,
    response::{IntoResponse, Response},
};
use chrono::{DateTime, NaiveDate, Utc};
use futures_util::{stream, Stream, StreamExt};
use rust_xlsxwriter::{DocProperties, Format, Workbook, XlsxError};

use crate::{
    comuni::export::{attachment, Dialect, ExportFormat, XLSX_TYPE},
    error::AppError,
};

/// One typed cell.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Text(String),
    Int(i64),
    Date(Option<NaiveDate>),
    /// A moment, in UTC (the trail's and the uploads' times).
    Time(Option<DateTime<Utc>>),
    Bool(bool),
}

impl Value {
    /// Text, or nothing when empty (`None` and `""` are both an empty cell).
    pub fn text(s: impl Into<String>) -> Value {
        Value::Text(s.into())
    }

    /// The cell as a CSV field in `dialect`; text that a spreadsheet would take for a formula
    /// is neutralised in the Excel dialect ([`super::formula`]), kept as it is in the contract.
    pub fn csv(&self, dialect: Dialect) -> String {
        match (self, dialect) {
            (Value::Text(s), _) => dialect.text(s),
            (Value::Int(n), _) => n.to_string(),
            (Value::Date(d), _) => dialect.date(*d),
            (Value::Time(None), _) => String::new(),
            (Value::Time(Some(t)), Dialect::Contract) => t.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
            (Value::Time(Some(t)), Dialect::Excel) => t.format("%d/%m/%Y %H:%M").to_string(),
            (Value::Bool(b), _) => dialect.yes_no(*b),
        }
    }

    /// The cell as JSON: numbers as numbers, dates ISO, empty dates `null`.
    pub fn json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match self {
            Value::Text(s) => J::String(s.clone()),
            Value::Int(n) => J::from(*n),
            Value::Date(d) => d.map(|d| J::String(d.format("%Y-%m-%d").to_string())).unwrap_or(J::Null),
            Value::Time(t) => {
                t.map(|t| J::String(t.format("%Y-%m-%dT%H:%M:%SZ").to_string())).unwrap_or(J::Null)
            }
            Value::Bool(b) => J::Bool(*b),
        }
    }
}

/// A batch of rows, each as many cells as the table has columns.
pub type Batch = Vec<Vec<Value>>;

/// The rows of a list, batch by batch (a query page each, or one batch for a short list).
pub type Rows = Pin<Box<dyn Stream<Item = Result<Batch, AppError>> + Send>>;

/// The rows of a list already in memory.
pub fn rows_in_memory(rows: Batch) -> Rows {
    Box::pin(stream::once(async move { Ok(rows) }))
}

/// What a list export is: its columns, and what the file says about itself.
#[derive(Clone, Debug)]
pub struct Table {
    /// The file name's start and the address's: `scadenze` → `/export/scadenze.csv`.
    pub stem: &'static str,
    /// The worksheet's name (at most 31 characters) and the workbook's title.
    pub title: &'static str,
    /// Column names: the CSV header, the JSON keys, the workbook's header row. Only ever
    /// added at the end.
    pub columns: &'static [&'static str],
    /// The filters in words, one phrase each; empty: none.
    pub filters: Vec<String>,
    /// The day the rows refer to.
    pub as_of: NaiveDate,
    /// The database holds the demo data: the file name says so.
    pub demo: bool,
    /// `as_of` is a past day asked with `?al=`: the file name and the workbook's properties
    /// say so (`scadenze-al-2021-02-15.csv`).
    pub past_day: bool,
}

impl Table {
    /// `scadenze-excel-dati-dimostrativi-2026-11-27.csv`.
    pub fn file_name(&self, format: ExportFormat) -> String {
        let (variant, extension) = match format {
            ExportFormat::Csv => ("", "csv"),
            ExportFormat::CsvExcel => ("excel-", "csv"),
            ExportFormat::Xlsx => ("", "xlsx"),
            ExportFormat::Json => ("", "json"),
        };
        format!(
            "{}-{variant}{}{}{}.{extension}",
            self.stem,
            if self.demo { "dati-dimostrativi-" } else { "" },
            if self.past_day { "al-" } else { "" },
            self.as_of.format("%Y-%m-%d")
        )
    }

    fn filters_sentence(&self) -> String {
        if self.filters.is_empty() {
            "Nessun filtro.".to_string()
        } else {
            format!("{}.", self.filters.join(", "))
        }
    }
}

/// The CSV bytes of one batch; the first carries the header (and, for Excel, the BOM).
pub fn csv_batch(
    columns: &[&str],
    rows: &[Vec<Value>],
    dialect: Dialect,
    first: bool,
) -> Result<Vec<u8>, csv::Error> {
    let mut w = if first {
        let mut w = dialect.writer(Vec::new());
        w.write_record(columns)?;
        w
    } else {
        dialect.writer_without_bom(Vec::new())
    };
    for row in rows {
        w.write_record(row.iter().map(|v| v.csv(dialect)))?;
    }
    w.into_inner().map_err(|e| csv::Error::from(e.into_error()))
}

/// One row as a JSON object keyed by the column names.
pub fn json_row(columns: &[&str], row: &[Value]) -> serde_json::Value {
    serde_json::Value::Object(columns.iter().zip(row).map(|(k, v)| (k.to_string(), v.json())).collect())
}

/// The JSON document's head: `{"metadati": {...}, "righe": [` (then the rows, then
/// `], "totale": n}`). No licence: these lists are reserved data, not open data (the open-data
/// licence is the `/comuni` exports' and the API's); `riservato` says so.
fn json_head(table: &Table) -> Vec<u8> {
    let metadati = serde_json::json!({
        "elenco": table.title,
        "data_riferimento": table.as_of.format("%Y-%m-%d").to_string(),
        "filtri": table.filters,
        "dati_dimostrativi": table.demo,
        "riservato": true,
        "colonne": table.columns,
    });
    format!("{{\"metadati\":{metadati},\"righe\":[").into_bytes()
}

/// The workbook: the table (typed cells, bold frozen header, autofilter) and a sheet with the
/// filters and the dates (and that the data are reserved: no open-data licence). Text that
/// looks like a formula stays text ([`super::formula`]).
///
/// The rows come as an iterator and are written as they come (the sheet keeps one row in
/// memory, [`super::sheet`]): an export of the whole trail never holds all its rows at once.
pub fn workbook(
    table: &Table,
    rows: impl IntoIterator<Item = Vec<Value>>,
    made_at: &str,
) -> Result<Vec<u8>, XlsxError> {
    let header = Format::new().set_bold();
    let date = Format::new().set_num_format("dd/mm/yyyy");
    let time = Format::new().set_num_format("dd/mm/yyyy hh:mm");
    let integer = Format::new().set_num_format("#,##0");
    let quoted = super::formula::quoted();
    let mut book = Workbook::new();
    let mut properties = DocProperties::new()
        .set_title(format!("Traguardi — {}", table.title))
        .set_author("Traguardi — Regione Puglia");
    if table.past_day {
        properties = properties.set_subject(format!("Situazione al {}", crate::format::date(table.as_of)));
    }
    book.set_properties(&properties);
    let sheet = super::sheet::add(&mut book)?.set_name(table.title)?;
    let mut widths = super::sheet::Widths::default();
    for (c, h) in table.columns.iter().enumerate() {
        sheet.write_string_with_format(0, c as u16, *h, &header)?;
        widths.header(c as u16, h);
    }
    let mut written: u32 = 0;
    for row in rows {
        written += 1;
        let r = written;
        for (c, cell) in row.iter().enumerate() {
            let c = c as u16;
            match cell {
                Value::Text(s) => {
                    super::formula::write_text(sheet, r, c, s, &quoted)?;
                    widths.text(c, s);
                }
                Value::Int(n) => {
                    sheet.write_number_with_format(r, c, *n as f64, &integer)?;
                    widths.integer(c, *n);
                }
                Value::Date(Some(d)) => {
                    sheet.write_date_with_format(r, c, d, &date)?;
                    widths.date(c);
                }
                Value::Time(Some(t)) => {
                    sheet.write_datetime_with_format(r, c, t.naive_utc(), &time)?;
                    widths.datetime(c);
                }
                Value::Bool(b) => {
                    sheet.write_boolean(r, c, *b)?;
                    widths.boolean(c);
                }
                Value::Date(None) | Value::Time(None) => {}
            }
        }
    }
    sheet.set_freeze_panes(1, 0)?;
    sheet.autofilter(0, 0, written, (table.columns.len().max(1) - 1) as u16)?;
    widths.apply(sheet)?;

    let about = super::sheet::add(&mut book)?.set_name("Filtri")?;
    let mut widths = super::sheet::Widths::default();
    let lines = [
        ("Elenco", table.title.to_string()),
        ("Filtri", table.filters_sentence()),
        ("Dati al", crate::format::date(table.as_of)),
        ("Righe", written.to_string()),
        ("Generato il", made_at.to_string()),
        (
            "Dati dimostrativi",
            if table.demo { "sì: i dati non sono reali".to_string() } else { "no".to_string() },
        ),
        ("Riservatezza", "dati riservati: non sono dati aperti, non vanno pubblicati".to_string()),
    ];
    for (r, (k, v)) in lines.iter().enumerate() {
        about.write_string_with_format(r as u32, 0, *k, &header)?;
        widths.text(0, k);
        // The filters' words can hold what people typed (a comune's name): the same rule.
        super::formula::write_text(about, r as u32, 1, v, &quoted)?;
        widths.text(1, v);
    }
    widths.apply(about)?;
    book.save_to_buffer()
}

/// How many batches may wait between the query and the blocking writer of a workbook: the
/// query runs ahead of the writer by at most this many, so memory holds a few batches, not the
/// list.
const BATCHES_AHEAD: usize = 2;

/// Runs `consume` on a blocking thread over the batches of `rows` as they arrive, reading ahead
/// at most [`BATCHES_AHEAD`] batches: what cannot stream (a workbook) is still written row by
/// row instead of from every row gathered first. A failing batch stops the reading and is the
/// answer, whatever `consume` made of the batches before it (never a file that looks complete).
pub async fn blocking_over<T, F>(mut rows: Rows, consume: F) -> Result<T, AppError>
where
    T: Send + 'static,
    F: FnOnce(&mut dyn Iterator<Item = Batch>) -> T + Send + 'static,
{
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Batch>(BATCHES_AHEAD);
    let worker = tokio::task::spawn_blocking(move || {
        let mut batches = std::iter::from_fn(move || rx.blocking_recv());
        consume(&mut batches)
    });
    let fed: Result<(), AppError> = async move {
        while let Some(batch) = rows.next().await {
            // The writer stopped early (it failed): its answer says why.
            if tx.send(batch?).await.is_err() {
                break;
            }
        }
        Ok(())
    }
    .await;
    let made = worker.await.map_err(|e| failed("XLSX", &e))?;
    fed.map(|()| made)
}

/// Where a streamed export is.
enum Phase {
    Rows,
    Done,
}

struct Progress {
    rows: Rows,
    phase: Phase,
    /// Batches encoded: the first carries the CSV header.
    batches: usize,
    /// Rows encoded: JSON separates rows with commas.
    written: usize,
}

/// The export of `table` in `format`. The first batch is read before answering, so a refused
/// or failing query is an error page, not a broken file; later failures cut the download
/// (logged) rather than finish a file that looks complete.
pub async fn respond(table: Table, format: ExportFormat, mut rows: Rows) -> Result<Response, AppError> {
    let filename = table.file_name(format);
    let first = rows.next().await.transpose()?.unwrap_or_default();
    if format == ExportFormat::Xlsx {
        let made_at = chrono::Local::now().format("%d/%m/%Y %H:%M").to_string();
        let rows: Rows = Box::pin(stream::once(async move { Ok(first) }).chain(rows));
        let bytes = blocking_over(rows, move |batches| workbook(&table, batches.flatten(), &made_at))
            .await?
            .map_err(|e| failed("XLSX", &e))?;
        return Ok(attachment(XLSX_TYPE, &filename, bytes));
    }
    let rows: Rows = Box::pin(stream::once(async move { Ok(first) }).chain(rows));
    let content_type =
        if format == ExportFormat::Json { "application/json" } else { "text/csv; charset=utf-8" };
    let columns = table.columns;
    let head = if format == ExportFormat::Json { json_head(&table) } else { Vec::new() };
    // Fused: the compression layer polls once more after the end, which `unfold` alone refuses
    // with a panic.
    let progress = Progress { rows, phase: Phase::Rows, batches: 0, written: 0 };
    let body = stream::once(async move { Ok::<_, std::io::Error>(head) })
        .chain(stream::unfold(progress, move |p| next_chunk(p, format, columns)))
        .fuse();
    Ok((
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{filename}\"")),
        ],
        Body::from_stream(body),
    )
        .into_response())
}

/// The next piece of a streamed export: one batch encoded, then the end (JSON's `], "totale"`).
async fn next_chunk(
    mut p: Progress,
    format: ExportFormat,
    columns: &'static [&'static str],
) -> Option<(std::io::Result<Vec<u8>>, Progress)> {
    if let Phase::Done = p.phase {
        return None;
    }
    match p.rows.next().await {
        Some(Ok(batch)) => {
            let bytes = match format {
                ExportFormat::Json => {
                    let mut out = Vec::new();
                    for (i, row) in batch.iter().enumerate() {
                        if p.written + i > 0 {
                            out.push(b',');
                        }
                        out.extend(json_row(columns, row).to_string().into_bytes());
                    }
                    Ok(out)
                }
                _ => {
                    let dialect =
                        if format == ExportFormat::Csv { Dialect::Contract } else { Dialect::Excel };
                    csv_batch(columns, &batch, dialect, p.batches == 0).map_err(std::io::Error::other)
                }
            };
            p.batches += 1;
            p.written += batch.len();
            Some((bytes, p))
        }
        Some(Err(e)) => {
            tracing::error!(error = %e, rows = p.written, "export interrupted");
            p.phase = Phase::Done;
            Some((Err(std::io::Error::other("export interrupted")), p))
        }
        None => {
            p.phase = Phase::Done;
            // The total comes last: it is known only now.
            let tail = if format == ExportFormat::Json {
                format!("],\"totale\":{}}}\n", p.written).into_bytes()
            } else {
                Vec::new()
            };
            Some((Ok(tail), p))
        }
    }
}

fn failed(what: &str, e: &dyn std::fmt::Display) -> AppError {
    tracing::error!(error = %e, "{what} export failed");
    AppError::INTERNAL
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    /// The blocking consumer of a long list gets each batch while the query is still reading:
    /// the reading runs at most [`BATCHES_AHEAD`] (+ the one in hand) batches ahead of the
    /// writing. Before, the workbook's rows were all gathered first: the first batch written saw
    /// every batch already read (the whole trail in memory at once).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_workbook_is_written_while_its_rows_are_read() {
        use std::sync::{
            atomic::{AtomicUsize, Ordering},
            Arc,
        };
        const BATCHES: usize = 40;
        let read = Arc::new(AtomicUsize::new(0));
        let counter = read.clone();
        let rows: Rows = Box::pin(stream::iter(0..BATCHES).map(move |i| {
            counter.fetch_add(1, Ordering::SeqCst);
            Ok(vec![vec![Value::Int(i as i64)]; 100])
        }));
        let seen = read.clone();
        let ahead = blocking_over(rows, move |batches| {
            let mut most = 0;
            let mut written = 0;
            for batch in batches {
                written += 1;
                assert_eq!(batch.len(), 100);
                most = most.max(seen.load(Ordering::SeqCst) - written);
            }
            (written, most)
        })
        .await
        .unwrap();
        assert_eq!(ahead.0, BATCHES, "every batch reached the writer");
        assert!(ahead.1 <= BATCHES_AHEAD + 1, "the reading ran {} batches ahead of the writing", ahead.1);

        // A batch that fails: the failure is the answer, not what was written before it.
        let failing: Rows = Box::pin(stream::iter(0..5).map(|i| {
            if i == 3 {
                Err(AppError::INTERNAL)
            } else {
                Ok(vec![vec![Value::Int(i)]])
            }
        }));
        let answer = blocking_over(failing, |batches| batches.count()).await;
        assert!(matches!(answer, Err(AppError::Internal { .. })), "{answer:?}");
    }

    fn table() -> Table {
        Table {
            stem: "prova",
            title: "Prova",
            columns: &["testo", "numero"],
            filters: vec!["=provincia".into()],
            as_of: NaiveDate::from_ymd_opt(2021, 2, 15).unwrap(),
            demo: false,
            past_day: false,
        }
    }

    /// Text that looks like a formula: quoted for Excel, as it is for programs; a negative number
    /// is a number in both.
    #[test]
    fn formula_text_is_neutralised_for_excel_and_numbers_stay_numbers() {
        let rows = vec![vec![Value::text("-3"), Value::Int(-3)], vec![Value::text("=1+1"), Value::Int(7)]];
        let excel = String::from_utf8(csv_batch(&["a", "b"], &rows, Dialect::Excel, true).unwrap()).unwrap();
        assert_eq!(excel, "\u{feff}a;b\n'-3;-3\n'=1+1;7\n");
        let contract =
            String::from_utf8(csv_batch(&["a", "b"], &rows, Dialect::Contract, true).unwrap()).unwrap();
        assert_eq!(contract, "a,b\n-3,-3\n=1+1,7\n");
        assert_eq!(json_row(&["a", "b"], &rows[0]), serde_json::json!({"a": "-3", "b": -3}));
    }

    /// In the workbook: the text a string cell with the quote-prefix style, unchanged; the number
    /// a number cell; no formula anywhere (the filter's words too).
    #[test]
    fn formula_text_is_a_quoted_string_cell_in_the_workbook() {
        let rows = vec![vec![Value::text("=1+1"), Value::Int(-3)], vec![Value::text("testo"), Value::Int(2)]];
        let bytes = workbook(&table(), rows, "15/02/2021 10:00").unwrap();
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
        let mut read = |name: &str| {
            let mut s = String::new();
            zip.by_name(name).unwrap().read_to_string(&mut s).unwrap();
            s
        };
        let (sheet, about, strings, styles) = (
            read("xl/worksheets/sheet1.xml"),
            read("xl/worksheets/sheet2.xml"),
            read("xl/sharedStrings.xml"),
            read("xl/styles.xml"),
        );
        assert!(!sheet.contains("<f>") && !about.contains("<f>"), "{sheet}");
        assert!(strings.contains("<t>=1+1</t>") && !strings.contains("'=1+1"), "{strings}");
        // A2 has a style whose format has the quote prefix; A3 has none.
        let style = |cell: &str| -> Option<usize> {
            let at = sheet.find(&format!("<c r=\"{cell}\""))?;
            let tag = &sheet[at..at + sheet[at..].find('>').unwrap()];
            tag.split(" s=\"").nth(1).map(|s| s[..s.find('"').unwrap()].parse().unwrap())
        };
        let xfs = &styles[styles.find("<cellXfs").unwrap()..styles.find("</cellXfs>").unwrap()];
        let xf: Vec<&str> = xfs.split("<xf ").skip(1).collect();
        assert!(xf[style("A2").expect("A2 styled")].contains("quotePrefix=\"1\""), "{xfs}");
        assert!(style("A3").is_none_or(|s| !xf[s].contains("quotePrefix")), "{sheet}");
        assert!(sheet.contains("<c r=\"B2\" s=\"") && sheet.contains("<v>-3</v>"), "{sheet}");
        let b2 = &sheet[sheet.find("<c r=\"B2\"").unwrap()..];
        assert!(!b2[..b2.find('>').unwrap()].contains("t=\""), "B2 is a number: {b2}");
    }
}
