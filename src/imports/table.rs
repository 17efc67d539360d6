//! Reading an uploaded file into tables of text cells: a CSV (one table) or an XLSX workbook
//! (one table per sheet). Tolerant where spreadsheets are messy: `;`, `,` or tab as separator,
//! with or without a UTF-8 BOM, UTF-8 or Windows-1252 (what Italian Excel writes for "CSV"),
//! trailing spaces, headers in any case with spaces or accents. What cannot be read at all is
//! one Italian sentence; what is read is only text: its meaning is `plan`'s business.
//!
//! A hostile file must not take the server down: a workbook is checked by
//! [`super::limits::check_xlsx`] before calamine reads it, a CSV is held to the same rows and
//! columns as it is read, and the server reads uploads off the async runtime, two at a time
//! ([`read_off_runtime`]).

use std::{io::Cursor, time::Duration};

use calamine::{open_workbook_from_rs, Data, DataType, Reader, Xlsx};
use tokio::sync::Semaphore;

use super::limits::{check_xlsx, thousands, LIMITS};

/// One table: its normalised header and its non-empty rows with their spreadsheet row number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Table {
    /// The sheet's name, or the CSV file's name.
    pub name: String,
    /// Header cells normalised by [`header_name`].
    pub headers: Vec<String>,
    /// `(row number as the spreadsheet shows it, cells trimmed)`; the header is row 1 of a CSV.
    pub rows: Vec<(u32, Vec<String>)>,
}

impl Table {
    /// The column's position, by normalised name.
    pub fn column(&self, name: &str) -> Option<usize> {
        self.headers.iter().position(|h| h == name)
    }
}

/// What the file is, from its first bytes (the extension only breaks ties).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileType {
    Xlsx,
    Csv,
}

/// Why an upload was not read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReadError {
    /// The file cannot be read, or is beyond the limits: the Italian sentence says why.
    Refused(String),
    /// Other files are being read and none finished in time: try again shortly (503).
    Busy,
}

/// What a person reads when the server is [`ReadError::Busy`].
pub const BUSY: &str =
    "Il server sta già leggendo altri file: riprovare tra qualche secondo (nessun dato è stato modificato).";

/// Seconds to wait before trying again after [`ReadError::Busy`] (`Retry-After`).
pub const RETRY_AFTER_SECONDS: u64 = 10;

/// Files read at the same time: parsing is CPU and memory, and the server has other work.
const PARSING_AT_ONCE: usize = 2;

/// How long an upload waits for its turn before [`ReadError::Busy`].
const PARSING_WAIT: Duration = Duration::from_secs(30);

pub(crate) static PARSING: Semaphore = Semaphore::const_new(PARSING_AT_ONCE);

/// [`read`] on a blocking thread, at most [`PARSING_AT_ONCE`] at a time (waiting at most
/// [`PARSING_WAIT`] for a turn), so that a large or hostile file never holds up the async
/// runtime, nor many of them the machine.
pub async fn read_off_runtime(
    file_name: String,
    bytes: bytes::Bytes,
) -> Result<(FileType, Vec<Table>), ReadError> {
    read_with(&PARSING, PARSING_WAIT, file_name, bytes).await
}

/// [`read_off_runtime`] with its turns taken from `readers`, waiting at most `wait`.
async fn read_with(
    readers: &Semaphore,
    wait: Duration,
    file_name: String,
    bytes: bytes::Bytes,
) -> Result<(FileType, Vec<Table>), ReadError> {
    let permit = match tokio::time::timeout(wait, readers.acquire()).await {
        Ok(Ok(permit)) => permit,
        _ => return Err(ReadError::Busy),
    };
    let result = tokio::task::spawn_blocking(move || read(&file_name, &bytes)).await;
    drop(permit);
    match result {
        Ok(r) => r.map_err(ReadError::Refused),
        // A panic in a reader is a file it could not read, not a crash.
        Err(e) => {
            tracing::error!(error = %e, "reading an uploaded file failed");
            Err(ReadError::Refused(XLSX_UNREADABLE.into()))
        }
    }
}

const XLSX_UNREADABLE: &str = "Il file XLSX non è leggibile: è forse danneggiato o protetto da password?";

/// Reads `bytes` (named `file_name`) into its tables, or says in Italian why it cannot.
/// Synchronous and CPU-bound: the server calls [`read_off_runtime`].
pub fn read(file_name: &str, bytes: &[u8]) -> Result<(FileType, Vec<Table>), String> {
    if bytes.is_empty() {
        return Err("Il file è vuoto.".into());
    }
    let lower = file_name.to_lowercase();
    if bytes.starts_with(b"PK\x03\x04") {
        return read_xlsx(bytes).map(|t| (FileType::Xlsx, t));
    }
    // The old binary Excel format (an OLE2 compound file).
    if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) || lower.ends_with(".xls") || lower.ends_with(".ods") {
        return Err(
            "Questo formato non è letto: salvare il foglio come «Cartella di lavoro di Excel (.xlsx)» o come CSV."
                .into(),
        );
    }
    if bytes.starts_with(b"%PDF") || bytes.contains(&0) {
        return Err("Il file non è un CSV né un foglio XLSX: caricare un file .csv o .xlsx.".into());
    }
    let name =
        if file_name.trim().is_empty() { "file CSV".to_string() } else { file_name.trim().to_string() };
    read_csv(&name, bytes).map(|t| (FileType::Csv, vec![t]))
}

/// Text of a CSV: UTF-8 (BOM dropped) or, failing that, Windows-1252.
pub fn decode(bytes: &[u8]) -> String {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        Err(_) => encoding_rs::WINDOWS_1252.decode_without_bom_handling(bytes).0.into_owned(),
    }
}

/// The separator of a CSV: whichever of `;`, `,` and tab occurs most in the header line
/// (outside quotes); `,` when none does.
pub fn sniff_delimiter(text: &str) -> u8 {
    let header = text.lines().find(|l| !l.trim().is_empty()).unwrap_or_default();
    let mut counts = [(b';', 0usize), (b',', 0), (b'\t', 0)];
    let mut quoted = false;
    for b in header.bytes() {
        if b == b'"' {
            quoted = !quoted;
        } else if !quoted {
            for (d, n) in counts.iter_mut() {
                if *d == b {
                    *n += 1;
                }
            }
        }
    }
    counts.iter().max_by_key(|(_, n)| *n).filter(|(_, n)| *n > 0).map(|(d, _)| *d).unwrap_or(b',')
}

fn read_csv(name: &str, bytes: &[u8]) -> Result<Table, String> {
    let text = decode(bytes);
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(sniff_delimiter(&text))
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut rows = Vec::new();
    let mut cells = 0u64;
    for (i, record) in reader.records().enumerate() {
        let record = record
            .map_err(|e| format!("Il CSV non è leggibile alla riga {}: {}.", i + 1, csv_error_words(&e)))?;
        // The workbooks' limits (each field would be a string of its own).
        if i as u64 >= LIMITS.max_rows {
            return Err(format!(
                "Il CSV va oltre il limite di {} righe: dividere i dati in più file.",
                thousands(LIMITS.max_rows)
            ));
        }
        if record.len() as u64 > LIMITS.max_columns {
            return Err(format!(
                "La riga {} del CSV ha {} colonne, oltre il limite di {}: controllare il separatore \
                 e togliere le colonne che non servono all'importazione.",
                i + 1,
                record.len(),
                LIMITS.max_columns
            ));
        }
        cells += record.len() as u64;
        if cells > LIMITS.max_cells {
            return Err(format!(
                "Il CSV va oltre il limite di {} celle: dividere i dati in più file.",
                thousands(LIMITS.max_cells)
            ));
        }
        rows.push(((i + 1) as u32, record.iter().map(clean).collect::<Vec<_>>()));
    }
    table_from(name, rows)
}

fn csv_error_words(e: &csv::Error) -> &'static str {
    match e.kind() {
        csv::ErrorKind::Utf8 { .. } => "caratteri non leggibili",
        _ => "virgolette non chiuse o riga malformata",
    }
}

/// Header first (the first non-empty row), then the non-empty rows.
fn table_from(name: &str, rows: Vec<(u32, Vec<String>)>) -> Result<Table, String> {
    let mut rows = rows.into_iter().filter(|(_, cells)| cells.iter().any(|c| !c.is_empty()));
    let Some((_, header)) = rows.next() else {
        return Err(format!("«{name}» non contiene righe."));
    };
    Ok(Table {
        name: name.to_string(),
        headers: header.iter().map(|h| header_name(h)).collect(),
        rows: rows.collect(),
    })
}

fn read_xlsx(bytes: &[u8]) -> Result<Vec<Table>, String> {
    // Before calamine allocates anything from what the file claims.
    check_xlsx(bytes, &LIMITS)?;
    let mut book: Xlsx<_> =
        open_workbook_from_rs(Cursor::new(bytes)).map_err(|_| XLSX_UNREADABLE.to_string())?;
    let mut tables = Vec::new();
    for sheet in book.sheet_names() {
        let range = book
            .worksheet_range(&sheet)
            .map_err(|_| format!("Il foglio «{sheet}» del file XLSX non è leggibile."))?;
        let first_row = range.start().map(|(r, _)| r).unwrap_or(0);
        let rows = range
            .rows()
            .enumerate()
            .map(|(i, cells)| (first_row + i as u32 + 1, cells.iter().map(cell_text).collect()))
            .collect();
        // An empty sheet is not a table (and not worth a word).
        if let Ok(t) = table_from(&sheet, rows) {
            tables.push(t);
        }
    }
    if tables.is_empty() {
        return Err("Il file XLSX non contiene fogli con dati.".into());
    }
    Ok(tables)
}

/// A workbook cell as text: whole numbers without `.0` (a code typed as a number), dates ISO,
/// booleans `sì`/`no`.
fn cell_text(cell: &Data) -> String {
    match cell {
        Data::Empty => String::new(),
        Data::String(s) => clean(s),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Int(i) => i.to_string(),
        Data::Bool(b) => if *b { "sì" } else { "no" }.to_string(),
        Data::DateTime(_) => cell.as_date().map(|d| d.format("%Y-%m-%d").to_string()).unwrap_or_default(),
        Data::DateTimeIso(s) => s.get(..10).unwrap_or(s).to_string(),
        Data::DurationIso(s) => s.clone(),
        Data::Error(_) => "#ERRORE".to_string(),
    }
}

/// A cell trimmed, non-breaking spaces included.
fn clean(s: &str) -> String {
    s.trim_matches(|c: char| c.is_whitespace() || c == '\u{a0}').to_string()
}

/// A header as the kinds name their columns: lower case, accents dropped, spaces and dashes as
/// `_`, a trailing `*` (a required-column mark) dropped, and a few common synonyms.
pub fn header_name(raw: &str) -> String {
    // "DATA INIZIO VALIDITA (mm/gg/aaaa)": what is in brackets is a hint, not the name.
    let raw = match raw.find('(') {
        Some(i) if i > 0 => &raw[..i],
        _ => raw,
    };
    let folded: String = raw
        .trim()
        .trim_end_matches('*')
        .trim()
        .to_lowercase()
        .chars()
        .map(|c| match c {
            'à' | 'á' => 'a',
            'è' | 'é' => 'e',
            'ì' | 'í' => 'i',
            'ò' | 'ó' => 'o',
            'ù' | 'ú' => 'u',
            ' ' | '-' | '.' => '_',
            c => c,
        })
        .collect();
    let mut name = String::new();
    for part in folded.split('_').filter(|p| !p.is_empty()) {
        if !name.is_empty() {
            name.push('_');
        }
        name.push_str(part);
    }
    match name.as_str() {
        "istat" | "cod_istat" | "codice_comune" | "cod_comune" | "pro_com_t" | "codice_istat_comune" => {
            "codice_istat".into()
        }
        "comune" | "nome_comune" => "denominazione".into(),
        "stato_adesione" => "adesione".into(),
        _ => name,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// No reader free within the wait: `Busy`, and the file is not read; a free reader reads it.
    #[tokio::test]
    async fn uploads_wait_their_turn_a_bounded_time() {
        let csv = bytes::Bytes::from_static(b"codice_istat;adesione\n072006;aderente\n");
        let none = Semaphore::new(0);
        let r = read_with(&none, Duration::ZERO, "a.csv".into(), csv.clone()).await;
        assert_eq!(r, Err(ReadError::Busy));
        let one = Semaphore::new(1);
        let (kind, tables) = read_with(&one, Duration::ZERO, "a.csv".into(), csv).await.unwrap();
        assert_eq!((kind, tables[0].rows.len()), (FileType::Csv, 1));
        assert_eq!(one.available_permits(), 1, "the turn is given back");
        let r =
            read_with(&one, Duration::ZERO, "a.xlsx".into(), bytes::Bytes::from_static(b"PK\x03\x04")).await;
        assert!(matches!(r, Err(ReadError::Refused(m)) if m.contains("XLSX non è leggibile")));
    }

    #[test]
    fn a_csv_is_held_to_the_workbooks_limits() {
        let wide = format!("{}\n", vec!["x"; 201].join(";"));
        let e = read("a.csv", wide.as_bytes()).unwrap_err();
        assert!(e.contains("201 colonne, oltre il limite di 200"), "{e}");
        let long: String =
            std::iter::once("codice_istat\n").chain(std::iter::repeat_n("1\n", 100_000)).collect();
        let e = read("a.csv", long.as_bytes()).unwrap_err();
        assert!(e.contains("100.000 righe"), "{e}");
        let fits: String =
            std::iter::once("codice_istat\n").chain(std::iter::repeat_n("1\n", 99_999)).collect();
        assert_eq!(read("a.csv", fits.as_bytes()).unwrap().1[0].rows.len(), 99_999);
    }
}
