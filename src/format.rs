//! Italian formatting for the UI: dates dd/mm/yyyy, thousands with a dot, decimals with a comma.
//! (CSV exports keep ISO dates and plain numbers: they are a machine contract.)

use chrono::NaiveDate;

/// `2021-02-28` → `28/02/2021`.
pub fn date(d: NaiveDate) -> String {
    d.format("%d/%m/%Y").to_string()
}

/// An optional date, or an en dash.
pub fn opt_date(d: Option<NaiveDate>) -> String {
    d.map(date).unwrap_or_else(|| "–".to_string())
}

/// `3512` → `3.512`, `-1200` → `-1.200`.
pub fn int(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('.');
        }
        out.push(c);
    }
    out
}

/// A number of comuni in words, the noun agreeing with it: `1 comune`, `1.234 comuni`.
pub fn comuni(n: i64) -> String {
    format!("{} {}", int(n), if n == 1 { "comune" } else { "comuni" })
}

/// Euros without cents: `11850` → `€ 11.850`.
pub fn eur(n: i64) -> String {
    format!("€ {}", int(n))
}

/// `part` over `whole` as a percentage with one decimal and a comma: `130, 257` → `50,6%`.
pub fn percent(part: i64, whole: i64) -> String {
    if whole == 0 {
        return "–".to_string();
    }
    let tenths = (part * 1000 + whole / 2) / whole;
    format!("{},{}%", int(tenths / 10), tenths % 10)
}

/// "sì"/"no" for the UI.
pub fn yes_no(b: bool) -> &'static str {
    if b {
        "sì"
    } else {
        "no"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn italian_numbers_dates_and_percentages() {
        assert_eq!(int(0), "0");
        assert_eq!(int(999), "999");
        assert_eq!(int(3512), "3.512");
        assert_eq!(int(3_900_852), "3.900.852");
        assert_eq!(int(-1200), "-1.200");
        assert_eq!(eur(11850), "€ 11.850");
        assert_eq!(
            (comuni(1), comuni(0), comuni(7896)),
            ("1 comune".into(), "0 comuni".into(), "7.896 comuni".into())
        );
        assert_eq!(date(NaiveDate::from_ymd_opt(2021, 2, 28).unwrap()), "28/02/2021");
        assert_eq!(opt_date(None), "–");
        assert_eq!(percent(130, 257), "50,6%");
        assert_eq!(percent(120, 140), "85,7%");
        assert_eq!(percent(1, 0), "–");
    }
}
