//! Every worksheet of every workbook is made here: written row by row to a temporary file
//! (rust_xlsxwriter's low-memory mode), with the column widths counted while the rows go by.
//!
//! Why not the default worksheet: rust_xlsxwriter keeps every cell of a default worksheet in
//! memory and, when the workbook is saved, assembles each such worksheet **on a thread of its
//! own** (`std::thread::scope`, one per sheet). The comuni workbook has five sheets, so every
//! XLSX download started and ended five threads; under the soak's load (`benches/soak.rs`) that
//! was half of all the threads the server started, and each thread that ends leaves the memory
//! it allocated to the allocator's abandoned pages, a slow rise of the resident memory. A
//! low-memory worksheet keeps one row in memory, writes the rest to an unnamed temporary file
//! (deleted by the system when closed, even after a crash) and is assembled on the calling
//! thread: no thread is started, and a national export no longer holds all its cells at once.
//!
//! The price: rows must be written in order (every writer here does), and `autofit()` sees only
//! the row in memory, so the widths are counted here instead ([`Widths`]), in Excel's pixels,
//! as autofit does.

use rust_xlsxwriter::{ColNum, Workbook, Worksheet, XlsxError};

/// A new worksheet of `book`, written row by row (see the module's documentation).
pub fn add(book: &mut Workbook) -> Result<&mut Worksheet, XlsxError> {
    book.add_worksheet_with_low_memory()
}

/// Excel's widest column, in pixels (255 characters).
const MAX_PX: u32 = 1790;
/// The padding Excel's own autofit adds to a cell's text.
const PADDING_PX: u32 = 7;
/// The autofilter's drop-down button in a header cell.
const FILTER_BUTTON_PX: u32 = 16;

/// The widest cell of each column seen so far, in pixels of Excel's default font (Calibri 11,
/// about 7 pixels a character): what `autofit()` would have measured over the whole sheet.
#[derive(Debug, Default, Clone)]
pub struct Widths(Vec<u32>);

impl Widths {
    fn fit(&mut self, col: ColNum, px: u32) {
        let col = usize::from(col);
        if self.0.len() <= col {
            self.0.resize(col + 1, 0);
        }
        self.0[col] = self.0[col].max(px.min(MAX_PX));
    }

    /// A text cell: its longest line.
    pub fn text(&mut self, col: ColNum, text: &str) {
        let chars = text.lines().map(|l| l.chars().count()).max().unwrap_or(0);
        self.fit(col, u32::try_from(chars).unwrap_or(u32::MAX).saturating_mul(7));
    }

    /// A header cell with the autofilter's button beside its text.
    pub fn header(&mut self, col: ColNum, text: &str) {
        self.text(col, text);
        let chars = u32::try_from(text.chars().count()).unwrap_or(u32::MAX);
        self.fit(col, chars.saturating_mul(7).saturating_add(FILTER_BUTTON_PX));
    }

    /// A whole number shown with thousands separators (`#,##0`).
    pub fn integer(&mut self, col: ColNum, n: i64) {
        let digits = n.unsigned_abs().checked_ilog10().unwrap_or(0) + 1;
        let shown = digits + (digits - 1) / 3 + u32::from(n < 0);
        self.fit(col, shown * 7);
    }

    /// A date shown dd/mm/yyyy.
    pub fn date(&mut self, col: ColNum) {
        self.fit(col, 70);
    }

    /// A date and time shown dd/mm/yyyy hh:mm.
    pub fn datetime(&mut self, col: ColNum) {
        self.fit(col, 112);
    }

    /// A yes/no cell (VERO/FALSO in an Italian Excel).
    pub fn boolean(&mut self, col: ColNum) {
        self.fit(col, 40);
    }

    /// The width of column `col` so far, in pixels (0: nothing seen).
    pub fn px(&self, col: ColNum) -> u32 {
        self.0.get(usize::from(col)).copied().unwrap_or(0)
    }

    /// Sets each column seen to its widest cell, padded as Excel pads.
    pub fn apply(&self, sheet: &mut Worksheet) -> Result<(), XlsxError> {
        for (col, px) in self.0.iter().enumerate() {
            if *px > 0 {
                let col = ColNum::try_from(col).map_err(|_| XlsxError::RowColumnLimitError)?;
                sheet.set_column_width_pixels(col, (px + PADDING_PX).min(MAX_PX))?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    #[test]
    fn widths_follow_the_widest_cell_of_each_column() {
        let mut w = Widths::default();
        w.header(0, "codice");
        w.text(0, "072006");
        w.text(1, "Altamura");
        w.text(1, "Bari\nSan Giovanni Rotondo");
        w.integer(2, 1_234_567);
        w.integer(3, -5);
        w.date(4);
        w.boolean(5);
        assert_eq!(w.px(0), 6 * 7 + FILTER_BUTTON_PX);
        assert_eq!(w.px(1), 20 * 7, "the longest line, not the whole text");
        assert_eq!(w.px(2), 9 * 7, "1.234.567");
        assert_eq!(w.px(3), 2 * 7, "-5");
        assert_eq!(w.px(6), 0);
        w.text(6, &"x".repeat(1_000));
        assert_eq!(w.px(6), MAX_PX);
    }

    /// The widths reach the sheet's `<cols>` even though its rows went to the temporary file
    /// first, and the cells are all there, in order.
    #[test]
    fn a_sheet_written_row_by_row_keeps_its_cells_and_widths() {
        let mut book = Workbook::new();
        let sheet = add(&mut book).unwrap();
        let mut w = Widths::default();
        for r in 0..1_000u32 {
            sheet.write_string(r, 0, format!("riga {r}")).unwrap();
            w.text(0, &format!("riga {r}"));
            sheet.write_number(r, 1, f64::from(r)).unwrap();
            w.integer(1, i64::from(r));
        }
        w.apply(sheet).unwrap();
        let bytes = book.save_to_buffer().unwrap();
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
        let mut xml = String::new();
        zip.by_name("xl/worksheets/sheet1.xml").unwrap().read_to_string(&mut xml).unwrap();
        assert!(xml.contains("<cols>"), "{}", &xml[..400.min(xml.len())]);
        assert!(xml.find("<cols>").unwrap() < xml.find("<sheetData>").unwrap());
        assert_eq!(xml.matches("<row ").count(), 1_000);
        assert!(xml.contains("<c r=\"B1000\"") && xml.contains("<v>999</v>"));
    }

    /// The child process of the thread test: what it measured, on a line of its own.
    const THREAD_PROBE: &str = "TRAGUARDI_TEST_XLSX_THREAD_PROBE";

    /// Threads of this process now.
    fn threads() -> usize {
        let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
        status
            .lines()
            .find_map(|l| l.strip_prefix("Threads:"))
            .and_then(|n| n.trim().parse().ok())
            .expect("a Threads line")
    }

    /// 1,000 comuni with four pagoPA services each, for the comuni workbook (five sheets).
    fn fixture() -> (crate::evaluation::Snapshot, crate::data::facts::AllServices) {
        use crate::{
            data::facts::{AllServices, ComuneRecord, ServiceExportRow},
            evaluation::Snapshot,
            rules::tests::{day, fondo_innovazione, full_success},
        };
        let records: Vec<ComuneRecord> = (0..1_000)
            .map(|i| ComuneRecord {
                codice_istat: format!("{:06}", 72_000 + i),
                denominazione: format!("Comune numero {i}"),
                sigla_provincia: "BA".into(),
                provincia: "Bari".into(),
                codice_catastale: format!("X{i:03}"),
                codice_ipa: format!("c_{i}"),
                popolazione: 5_000,
                facts: full_success(),
                counts_over_time: Vec::new(),
                open_blockers: 0,
            })
            .collect();
        let services = AllServices {
            pagopa: records
                .iter()
                .flat_map(|r| {
                    (0..4).map(|k| ServiceExportRow {
                        comune: r.codice_istat.clone(),
                        code: format!("SRV{k}"),
                        name: format!("Servizio di pagamento {k}"),
                        applicable: true,
                        active_since: Some(day("2021-01-15")),
                        deactivated_on: None,
                        on_mypay: true,
                        spid_since: None,
                        cie_since: None,
                    })
                })
                .collect(),
            ..AllServices::default()
        };
        (Snapshot::evaluate(fondo_innovazione(), records, day("2022-06-30"), 1, false), services)
    }

    fn comuni_workbook(
        snapshot: &crate::evaluation::Snapshot,
        services: &crate::data::facts::AllServices,
    ) -> Vec<u8> {
        use crate::comuni::xlsx::{workbook, Contents};
        let contents = Contents {
            snapshot,
            comuni: snapshot.comuni.iter().collect(),
            services,
            blockers: None,
            filters: Vec::new(),
            query: String::new(),
            made_at: "30/06/2022 10:00".into(),
        };
        workbook(&contents).unwrap()
    }

    /// No workbook starts a thread: the comuni workbook, a list's workbook and the import
    /// template are made on the calling thread alone (before, rust_xlsxwriter started one thread
    /// per sheet at every save: five for the comuni workbook). Measured in a process of its own,
    /// whose thread count the tests running beside this one cannot move: a worker makes the
    /// workbooks again and again while this thread reads the count as fast as it can.
    #[test]
    fn no_workbook_starts_a_thread() {
        if std::env::var_os(THREAD_PROBE).is_some() {
            use std::sync::{
                atomic::{AtomicBool, Ordering},
                Arc,
            };
            // The fixture first: the programme's rows come from a migrated SQLite database, read
            // on threads of their own (a runtime, the connections' workers); they end before the
            // count starts.
            let (snapshot, services) = fixture();
            let settled = std::time::Instant::now();
            while threads() > 2 && settled.elapsed() < std::time::Duration::from_secs(10) {
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            let before = threads();
            let done = Arc::new(AtomicBool::new(false));
            let worker = {
                let done = done.clone();
                std::thread::spawn(move || {
                    for _ in 0..4 {
                        assert!(!comuni_workbook(&snapshot, &services).is_empty());
                        assert!(!crate::imports::routes::workbook().unwrap().is_empty());
                    }
                    done.store(true, Ordering::SeqCst);
                })
            };
            let mut most = before;
            loop {
                let finished = done.load(Ordering::SeqCst);
                let n = threads();
                most = most.max(n);
                if finished {
                    break;
                }
            }
            worker.join().unwrap();
            println!("thread probe: {before} {most}");
            return;
        }
        let stdout =
            crate::ops::probe::rerun_alone("exports::sheet::tests::no_workbook_starts_a_thread", |child| {
                child.env(THREAD_PROBE, "1");
            });
        let report = stdout
            .lines()
            // libtest writes the test's name on the same line before the test's own output.
            .find_map(|l| l.split_once("thread probe: ").map(|(_, r)| r.to_owned()))
            .unwrap_or_else(|| panic!("{stdout}"));
        let (before, most) = report.split_once(' ').unwrap();
        let (before, most): (usize, usize) = (before.parse().unwrap(), most.trim().parse().unwrap());
        assert!(most <= before + 1, "threads before {before}, most seen {most}: only the worker may run");
    }
}
