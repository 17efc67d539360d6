//! Formula injection ("CSV injection", OWASP): a spreadsheet reads a cell that starts with `=`,
//! `+`, `-` or `@` (and, in some programs, tab, carriage return, line feed or NUL) as a
//! formula, so a blocker typed as `=HYPERLINK("http://x";"y")` would become a live link, or
//! worse, on the desk of whoever opens the export. One rule, used by every file meant for a
//! spreadsheet (the Excel CSVs and every workbook); the open-data contract CSV and JSON are for
//! programs and keep their bytes.
//!
//! - Excel CSV: such a cell gets a leading `'`, which Excel takes as "this is text".
//! - XLSX: the cell is a string cell already (`write_string` never makes a formula; only
//!   `rust_xlsxwriter::Formula` does), and it is written with Excel's "quote prefix" style, so
//!   that it stays text even when someone edits the cell and presses Enter; the text itself is
//!   unchanged.
//!
//! Numbers and dates are typed cells, never text: a negative number stays a number.

use std::borrow::Cow;

use rust_xlsxwriter::{ColNum, Format, RowNum, Worksheet, XlsxError};

/// The first characters that make a spreadsheet read a text cell as a formula: OWASP's `=`,
/// `+`, `-`, `@`, tab and carriage return, with line feed and NUL (ASVS 1.2.10) besides.
pub const FORMULA_STARTS: [char; 8] = ['=', '+', '-', '@', '\t', '\r', '\n', '\0'];

/// Whether a spreadsheet could read `text` as a formula.
pub fn starts_like_formula(text: &str) -> bool {
    text.starts_with(FORMULA_STARTS)
}

/// `text` as a cell of a CSV meant for Excel: with a leading `'` when it would be a formula.
pub fn excel_csv_text(text: &str) -> Cow<'_, str> {
    if starts_like_formula(text) {
        Cow::Owned(format!("'{text}"))
    } else {
        Cow::Borrowed(text)
    }
}

/// Excel's limit for one cell's text, in UTF-16 units: longer text would fail the whole
/// workbook, so it is cut (with `…`) instead.
const MAX_CELL_TEXT: usize = 32_767;

/// The style of text cells that look like formulas: Excel's quote prefix.
pub fn quoted() -> Format {
    Format::new().set_quote_prefix()
}

/// Writes `text` as a string cell of `sheet`; one that looks like a formula with `quoted`
/// (see [`quoted`]). Empty text is an empty cell.
pub fn write_text(
    sheet: &mut Worksheet,
    row: RowNum,
    col: ColNum,
    text: &str,
    quoted: &Format,
) -> Result<(), XlsxError> {
    if text.is_empty() {
        return Ok(());
    }
    let text = fit_cell(text);
    if starts_like_formula(&text) {
        sheet.write_string_with_format(row, col, text.as_ref(), quoted)?;
    } else {
        sheet.write_string(row, col, text.as_ref())?;
    }
    Ok(())
}

/// `text` cut to what one cell holds.
fn fit_cell(text: &str) -> Cow<'_, str> {
    if text.encode_utf16().count() <= MAX_CELL_TEXT {
        return Cow::Borrowed(text);
    }
    let mut out = String::new();
    let mut units = 0;
    for c in text.chars() {
        if units + c.len_utf16() > MAX_CELL_TEXT - 1 {
            break;
        }
        units += c.len_utf16();
        out.push(c);
    }
    out.push('…');
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_formula_start_is_neutralised_for_excel_csv() {
        for (text, expected) in [
            ("=HYPERLINK(\"http://x\",\"y\")", "'=HYPERLINK(\"http://x\",\"y\")"),
            ("+39 080 000", "'+39 080 000"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1:A2)", "'@SUM(A1:A2)"),
            ("\t=1", "'\t=1"),
            ("\r=1", "'\r=1"),
            ("\n=1", "'\n=1"),
            ("\0=1", "'\0=1"),
        ] {
            assert!(starts_like_formula(text), "{text:?}");
            assert_eq!(excel_csv_text(text), expected, "{text:?}");
        }
    }

    #[test]
    fn ordinary_text_is_left_alone() {
        for text in ["", "Nardò", "tecnico: =1+1", " =1", "'=1", "1-2", "— nessuno", "＝1"] {
            assert!(!starts_like_formula(text), "{text:?}");
            assert!(matches!(excel_csv_text(text), Cow::Borrowed(t) if t == text), "{text:?}");
        }
    }

    #[test]
    fn overlong_text_is_cut_to_one_cell() {
        let long = "è".repeat(40_000);
        let cut = fit_cell(&long);
        assert_eq!(cut.encode_utf16().count(), MAX_CELL_TEXT);
        assert!(cut.ends_with('…'));
        assert!(matches!(fit_cell("breve"), Cow::Borrowed("breve")));
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        write_text(sheet, 0, 0, &long, &quoted()).unwrap();
        book.save_to_buffer().unwrap();
    }
}
