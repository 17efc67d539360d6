//! What an uploaded file is, decided from its bytes: the browser's `Content-Type` and the file's
//! name are claims, the first bytes are facts. Pure functions over byte slices, so every hostile
//! case is a unit test.
//!
//! Accepted: PDF, CAdES signed files (`.p7m`: a DER PKCS#7 `signedData` envelope), PNG and JPEG.
//! The name's extension must agree with the content, and the first [`HEAD_BYTES`] must not hold
//! HTML markup: browsers sniff the start of a file for HTML, so a PDF/HTML polyglot is refused
//! even though the download is served as an attachment with `nosniff`.

use serde::{Deserialize, Serialize};

/// How many leading bytes the checks read (what browsers and PDF readers look at first).
pub const HEAD_BYTES: usize = 4096;
/// How many trailing bytes are kept to check that a PDF or PNG arrived whole.
pub const TAIL_BYTES: usize = 1024;
/// The longest original name kept (characters).
pub const MAX_NAME_CHARS: usize = 255;

/// The accepted kinds of evidence.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Kind {
    Pdf,
    /// CAdES: a PKCS#7 signed-data envelope, usually around a PDF.
    P7m,
    Png,
    Jpeg,
}

impl Kind {
    /// The type the file is stored and served with.
    pub fn content_type(self) -> &'static str {
        match self {
            Kind::Pdf => "application/pdf",
            Kind::P7m => "application/pkcs7-mime",
            Kind::Png => "image/png",
            Kind::Jpeg => "image/jpeg",
        }
    }

    pub fn from_content_type(value: &str) -> Option<Kind> {
        [Kind::Pdf, Kind::P7m, Kind::Png, Kind::Jpeg].into_iter().find(|k| k.content_type() == value)
    }

    pub fn label(self) -> &'static str {
        match self {
            Kind::Pdf => "PDF",
            Kind::P7m => "PDF firmato (p7m)",
            Kind::Png => "immagine PNG",
            Kind::Jpeg => "immagine JPEG",
        }
    }

    /// The extensions a name of this kind may end with (lower case).
    pub fn extensions(self) -> &'static [&'static str] {
        match self {
            Kind::Pdf => &["pdf"],
            Kind::P7m => &["p7m"],
            Kind::Png => &["png"],
            Kind::Jpeg => &["jpg", "jpeg"],
        }
    }
}

/// What the upload form says is accepted (also the end of every type refusal).
pub const ACCEPTED: &str =
    "PDF (.pdf), PDF firmato digitalmente in formato CAdES (.p7m), immagini PNG (.png) o JPEG (.jpg, .jpeg)";

/// The `accept` attribute of the file input: a hint to the browser's picker, never trusted.
pub const ACCEPT_ATTR: &str =
    ".pdf,.p7m,.png,.jpg,.jpeg,application/pdf,application/pkcs7-mime,image/png,image/jpeg";

/// The PKCS#7 `signedData` content type, 1.2.840.113549.1.7.2, DER-encoded with its tag.
const SIGNED_DATA_OID: [u8; 11] = [0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x07, 0x02];

/// The kind of a file from its first bytes (at least the first 16 are needed), or `None`.
pub fn sniff(head: &[u8]) -> Option<Kind> {
    if head.starts_with(b"%PDF-") {
        Some(Kind::Pdf)
    } else if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(Kind::Png)
    } else if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(Kind::Jpeg)
    } else if is_signed_data(head) {
        Some(Kind::P7m)
    } else {
        None
    }
}

/// A DER (or BER indefinite-length) `ContentInfo` SEQUENCE whose first element is the
/// `signedData` OID: what every CAdES `.p7m` starts with.
fn is_signed_data(head: &[u8]) -> bool {
    if head.first() != Some(&0x30) {
        return false;
    }
    // The SEQUENCE's length: short form, long form with 1-4 length bytes, or indefinite (0x80).
    let Some(&len) = head.get(1) else { return false };
    let content = match len {
        0x00..=0x80 => 2, // short form (0x00-0x7F) or indefinite (0x80)
        0x81..=0x84 => 2 + usize::from(len & 0x7F),
        _ => return false,
    };
    head.get(content..content + SIGNED_DATA_OID.len()) == Some(&SIGNED_DATA_OID[..])
}

/// Whether `head` holds HTML markup a browser could act on (case-insensitive).
pub fn has_html(head: &[u8]) -> bool {
    const MARKERS: [&[u8]; 8] =
        [b"<html", b"<script", b"<body", b"<head", b"<!doctype html", b"<iframe", b"<svg", b"<object"];
    let lower = head.to_ascii_lowercase();
    MARKERS.iter().any(|m| lower.windows(m.len()).any(|w| w == *m))
}

/// Whether the file's last bytes show it complete: a PDF ends with `%%EOF` (possibly followed by
/// a line end), a PNG with its `IEND` chunk. JPEG and p7m have no reliable trailer to check.
pub fn complete(kind: Kind, tail: &[u8]) -> bool {
    match kind {
        Kind::Pdf => tail.windows(5).any(|w| w == b"%%EOF"),
        Kind::Png => tail.ends_with(b"IEND\xAE\x42\x60\x82"),
        Kind::Jpeg | Kind::P7m => true,
    }
}

/// The original name, checked and cleaned for display; or why it is refused. Path parts, NUL
/// and other control characters are refused outright (the name is a claim the person made; one
/// that tries to climb folders is not an honest one); so are names longer than
/// [`MAX_NAME_CHARS`]. Bidirectional-override characters, which can make `gpj.pdf` read as
/// `fdp.jpg`, are removed — before the path checks, which judge the name as it is kept
/// (`.\u{202E}.` would otherwise be kept as `..`).
pub fn clean_name(raw: &str) -> Result<String, &'static str> {
    if raw.chars().any(|c| c == '\0' || c.is_control()) {
        return Err("Il nome del file contiene caratteri non ammessi: rinominalo e riprova.");
    }
    let cleaned: String = raw
        .chars()
        .filter(|c| !matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'))
        .collect::<String>()
        .trim()
        .to_string();
    if cleaned.is_empty() {
        return Err("Il file non ha un nome: rinominalo e riprova.");
    }
    let path =
        "Il nome del file non può contenere percorsi di cartelle («/», «\\», «..»): rinominalo e riprova.";
    if cleaned.contains('/') || cleaned.contains('\\') || cleaned.split('.').all(|p| p.is_empty()) {
        return Err(path);
    }
    if cleaned.contains("..") && cleaned.split("..").any(|p| p.is_empty()) {
        return Err(path);
    }
    if cleaned.chars().count() > MAX_NAME_CHARS {
        return Err("Il nome del file è troppo lungo (al massimo 255 caratteri): rinominalo e riprova.");
    }
    Ok(cleaned)
}

/// Whether the name's extension is one of `kind`'s.
pub fn extension_agrees(kind: Kind, name: &str) -> bool {
    name.rsplit_once('.')
        .is_some_and(|(_, ext)| kind.extensions().iter().any(|e| e.eq_ignore_ascii_case(ext)))
}

/// Why a file's content is refused, in Italian, saying what is accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    Empty,
    UnknownType,
    Html,
    ExtensionMismatch(Kind),
    Incomplete(Kind),
}

impl Refusal {
    pub fn message(&self) -> String {
        match self {
            Refusal::Empty => "Il file è vuoto: scegli il documento da caricare.".to_string(),
            Refusal::UnknownType => {
                format!("Il contenuto del file non è di un tipo accettato. Sono accettati: {ACCEPTED}.")
            }
            Refusal::Html => format!(
                "Il file contiene codice di una pagina web (HTML) e non può essere accettato. Sono accettati: {ACCEPTED}."
            ),
            Refusal::ExtensionMismatch(kind) => format!(
                "Il nome del file non corrisponde al contenuto: il contenuto è un {} ma il nome non finisce con {}. \
                 Rinomina il file e riprova.",
                kind.label(),
                kind.extensions().iter().map(|e| format!(".{e}")).collect::<Vec<_>>().join(" o ")
            ),
            Refusal::Incomplete(kind) => format!(
                "Il file non è un {} completo (manca la parte finale): potrebbe essere danneggiato. Salvalo di nuovo e riprova.",
                kind.label()
            ),
        }
    }
}

/// The checks that need the head only: the kind, no HTML, the extension. Called as soon as the
/// first [`HEAD_BYTES`] (or the whole file, if shorter) have arrived.
pub fn check_head(head: &[u8], name: &str) -> Result<Kind, Refusal> {
    if head.is_empty() {
        return Err(Refusal::Empty);
    }
    let kind = sniff(head).ok_or(Refusal::UnknownType)?;
    if has_html(head) {
        return Err(Refusal::Html);
    }
    if !extension_agrees(kind, name) {
        return Err(Refusal::ExtensionMismatch(kind));
    }
    Ok(kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pdf() -> Vec<u8> {
        b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n".to_vec()
    }

    /// The start of a real CAdES envelope: SEQUENCE (long form, 2 length bytes), signedData OID.
    fn p7m() -> Vec<u8> {
        let mut v = vec![0x30, 0x82, 0x12, 0x34];
        v.extend_from_slice(&SIGNED_DATA_OID);
        v.extend_from_slice(&[0xA0, 0x82, 0x12, 0x25, 0x30, 0x82]);
        v
    }

    #[test]
    fn each_accepted_kind_is_recognised_by_its_bytes() {
        assert_eq!(check_head(&pdf(), "delibera.pdf"), Ok(Kind::Pdf));
        assert_eq!(check_head(&p7m(), "delibera.pdf.p7m"), Ok(Kind::P7m));
        assert_eq!(check_head(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", "schermata.PNG"), Ok(Kind::Png));
        assert_eq!(check_head(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, b'J', b'F'], "foto.jpeg"), Ok(Kind::Jpeg));
        assert_eq!(check_head(&[0xFF, 0xD8, 0xFF, 0xE1], "foto.JPG"), Ok(Kind::Jpeg));
    }

    #[test]
    fn indefinite_and_short_length_envelopes_are_signed_data_too() {
        let mut ber = vec![0x30, 0x80];
        ber.extend_from_slice(&SIGNED_DATA_OID);
        assert_eq!(sniff(&ber), Some(Kind::P7m));
        // enveloped data (1.2.840.113549.1.7.3) is not a signature
        let mut enveloped = vec![0x30, 0x82, 0x01, 0x00];
        enveloped.extend_from_slice(&SIGNED_DATA_OID[..10]);
        enveloped.push(0x03);
        assert_eq!(sniff(&enveloped), None);
    }

    #[test]
    fn html_renamed_pdf_is_refused_as_unknown() {
        assert_eq!(
            check_head(b"<!DOCTYPE html><html><body>x</body></html>", "verbale.pdf"),
            Err(Refusal::UnknownType)
        );
    }

    #[test]
    fn a_pdf_html_polyglot_is_refused() {
        let poly = b"%PDF-1.4\n<html><script>alert(document.cookie)</script></html>\n%%EOF";
        assert_eq!(check_head(poly, "verbale.pdf"), Err(Refusal::Html));
        // …and with the markup upper-cased
        assert_eq!(check_head(b"%PDF-1.4\n<SCRIPT>x</SCRIPT>", "v.pdf"), Err(Refusal::Html));
    }

    #[test]
    fn an_executable_renamed_png_is_refused() {
        assert_eq!(
            check_head(b"MZ\x90\0\x03\0\0\0\x04\0\0\0\xff\xff", "schermata.png"),
            Err(Refusal::UnknownType)
        );
        assert_eq!(check_head(b"\x7fELF\x02\x01\x01", "schermata.png"), Err(Refusal::UnknownType));
    }

    #[test]
    fn an_empty_file_is_refused() {
        assert_eq!(check_head(b"", "vuoto.pdf"), Err(Refusal::Empty));
    }

    #[test]
    fn the_extension_must_agree_with_the_content() {
        assert_eq!(check_head(&pdf(), "schermata.png"), Err(Refusal::ExtensionMismatch(Kind::Pdf)));
        assert_eq!(check_head(&pdf(), "senza-estensione"), Err(Refusal::ExtensionMismatch(Kind::Pdf)));
        assert_eq!(check_head(&p7m(), "delibera.pdf"), Err(Refusal::ExtensionMismatch(Kind::P7m)));
        assert!(Refusal::ExtensionMismatch(Kind::Jpeg).message().contains(".jpg o .jpeg"));
    }

    #[test]
    fn a_pdf_or_png_must_arrive_whole() {
        assert!(complete(Kind::Pdf, b"endobj\n%%EOF\n"));
        assert!(!complete(Kind::Pdf, b"endobj\nstream\nxx"));
        assert!(complete(Kind::Png, b"\0\0\0\0IEND\xAE\x42\x60\x82"));
        assert!(!complete(Kind::Png, b"\0\0\0\0IDAT"));
        assert!(complete(Kind::Jpeg, b""));
    }

    #[test]
    fn names_with_paths_nul_or_too_long_are_refused() {
        assert!(clean_name("../../etc/passwd.pdf").is_err());
        assert!(clean_name("..\\windows\\x.pdf").is_err());
        assert!(clean_name("a/b.pdf").is_err());
        assert!(clean_name("..").is_err());
        assert!(clean_name("verbale\0.pdf").is_err());
        assert!(clean_name("riga\nnuova.pdf").is_err());
        assert!(clean_name(&format!("{}.pdf", "a".repeat(1996))).is_err());
        assert!(clean_name("   ").is_err());
    }

    /// Found by `evidence::sniff::props`: the path checks ran before the bidirectional marks
    /// were removed and the name trimmed, so `.\u{202E}` was kept as `.`, `.\u{202E}.` as `..`.
    #[test]
    fn a_name_that_is_a_path_once_cleaned_is_refused() {
        for raw in [".\u{202E}", ".\u{202E}.", " . ", "..\u{2066} ", "\u{200E}.\u{200F}.\u{200E}"] {
            assert!(clean_name(raw).unwrap_err().contains("percorsi di cartelle"), "{raw:?}");
        }
        assert!(clean_name("").unwrap_err().contains("non ha un nome"));
    }

    #[test]
    fn honest_names_are_kept_and_bidi_overrides_dropped() {
        assert_eq!(clean_name("Delibera n. 12 del 2021.pdf").as_deref(), Ok("Delibera n. 12 del 2021.pdf"));
        assert_eq!(clean_name("verbale..finale.pdf").as_deref(), Ok("verbale..finale.pdf"));
        assert_eq!(clean_name("fattura\u{202E}fdp.exe").as_deref(), Ok("fatturafdp.exe"));
        assert_eq!(clean_name(&format!("{}.pdf", "è".repeat(251))).map(|n| n.chars().count()), Ok(255));
    }
}

/// Properties over hostile uploads (see `crate::fuzz`): any head under any name, heads that
/// begin like a real file (a whole or cut magic number) and go on with anything.
#[cfg(all(test, feature = "ssr"))]
mod props {
    use proptest::prelude::*;

    use super::*;
    use crate::fuzz::{check, hostile_char, hostile_text};

    /// The first bytes of each accepted kind, of a CAdES envelope in its three length forms,
    /// and of things that must be refused.
    fn magic() -> impl Strategy<Value = Vec<u8>> {
        let mut p7m_long = vec![0x30, 0x84, 0, 0, 0x12, 0x34];
        p7m_long.extend_from_slice(&SIGNED_DATA_OID);
        let mut p7m_short = vec![0x30, 0x20];
        p7m_short.extend_from_slice(&SIGNED_DATA_OID);
        let mut p7m_ber = vec![0x30, 0x80];
        p7m_ber.extend_from_slice(&SIGNED_DATA_OID);
        let whole = proptest::sample::select(vec![
            b"%PDF-1.7\n".to_vec(),
            b"\x89PNG\r\n\x1a\n".to_vec(),
            vec![0xFF, 0xD8, 0xFF, 0xE0],
            p7m_long,
            p7m_short,
            p7m_ber,
            b"<!DOCTYPE html>".to_vec(),
            b"MZ\x90\0".to_vec(),
            Vec::new(),
        ]);
        // Whole, or cut anywhere.
        (whole, any::<prop::sample::Index>(), any::<bool>()).prop_map(|(m, cut, whole)| {
            if whole || m.is_empty() {
                m
            } else {
                m[..cut.index(m.len())].to_vec()
            }
        })
    }

    fn name() -> impl Strategy<Value = String> {
        let ext =
            proptest::sample::select(vec![".pdf", ".PDF", ".p7m", ".png", ".jpg", ".jpeg", ".exe", ".", ""]);
        (hostile_text(), ext).prop_map(|(stem, ext)| format!("{stem}{ext}"))
    }

    /// What a tail may hold: anything, or markup a browser would act on.
    fn tail() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            3 => proptest::collection::vec(any::<u8>(), 0..600),
            1 => (proptest::collection::vec(any::<u8>(), 0..300), proptest::sample::select(vec![
                &b"<html>"[..], b"<SCRIPT>", b"<svg onload=x>", b"%%EOF", b"IEND\xAE\x42\x60\x82",
            ]))
            .prop_map(|(mut v, m)| {
                v.extend_from_slice(m);
                v
            }),
        ]
    }

    /// The head's verdict is consistent: accepted means of a known kind, without markup, with
    /// an agreeing name; refused means said in words. The kind depends on the first 17 bytes
    /// only (the longest envelope header), and completeness never panics.
    #[test]
    fn prop_any_head_under_any_name_is_judged_consistently() {
        check("evidence::sniff::check_head", (magic(), tail(), name()), |(magic, tail, name)| {
            let head = [magic, tail].concat();
            match check_head(&head, &name) {
                Ok(kind) => {
                    prop_assert_eq!(sniff(&head), Some(kind));
                    prop_assert!(!has_html(&head));
                    prop_assert!(extension_agrees(kind, &name));
                    let _ = complete(kind, &head);
                }
                Err(refusal) => prop_assert!(!refusal.message().is_empty()),
            }
            prop_assert_eq!(sniff(&head), sniff(&head[..head.len().min(17)]));
            for kind in [Kind::Pdf, Kind::P7m, Kind::Png, Kind::Jpeg] {
                let _ = complete(kind, &head);
            }
            Ok(())
        });
    }

    /// A name is refused in words, or kept as a name that would be kept again as it is: no
    /// folder part, no control character, no bidirectional override, trimmed, not empty, at
    /// most 255 characters.
    #[test]
    fn prop_a_kept_name_is_clean_and_stays_as_it_is() {
        let names = prop_oneof![
            name(),
            proptest::collection::vec(
                prop_oneof![
                    3 => proptest::sample::select(vec!['.', ' ', 'a', '/', '\\', '\u{202e}', '\u{200e}', '\u{2066}']),
                    1 => hostile_char(),
                ],
                0..8
            )
            .prop_map(|v| v.into_iter().collect::<String>()),
            "[a-z]{250,260}\\.pdf",
        ];
        check("evidence::sniff::clean_name", names, |raw| {
            match clean_name(&raw) {
                Ok(kept) => {
                    prop_assert!(!kept.is_empty() && kept.chars().count() <= MAX_NAME_CHARS);
                    prop_assert_eq!(kept.trim(), kept.as_str());
                    prop_assert!(!kept.chars().any(|c| c.is_control() || c == '/' || c == '\\'));
                    let bidi = |c: char| matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}');
                    prop_assert!(!kept.chars().any(bidi), "bidirectional mark kept: {:?}", kept);
                    prop_assert_eq!(
                        clean_name(&kept),
                        Ok(kept.clone()),
                        "a kept name is kept again as it is"
                    );
                }
                Err(message) => {
                    prop_assert!(message.contains("nome del file") || message.contains("non ha un nome"))
                }
            }
            Ok(())
        });
    }
}
