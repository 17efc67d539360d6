//! The assessors' report (`/report.pdf`): the same figures as the dashboard for the same filter
//! (read back from the PDF's text), the comuni of the filter with their status, the demo mark and
//! the data's date, Titillium Web embedded, and a tagged PDF (structure tree, marked content,
//! language, alternative texts), on both backends.

use axum::{
    body::Body,
    http::{Request, StatusCode},
};
use http_body_util::BodyExt;
use lopdf::{Dictionary, Document, Object};
use tower::ServiceExt;

use super::{
    dashboard::{app, dashboard, send},
    TestDb,
};
use crate::{comuni::ComuniFilter, dashboard::ui::figures, format};

/// The PDF's text, every page, with all white space removed: the extractor places words by
/// position, so spaces and line breaks may or may not be characters; comparing without them is
/// exact about the rest.
fn text_of(bytes: &[u8]) -> String {
    squeeze(&pdf_extract::extract_text_from_mem(bytes).unwrap())
}

fn squeeze(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

fn resolve<'a>(pdf: &'a Document, o: &'a Object) -> &'a Object {
    match o {
        Object::Reference(id) => pdf.get_object(*id).unwrap(),
        other => other,
    }
}

/// Every structure element under `node` (depth first), as dictionaries.
fn structure<'a>(pdf: &'a Document, node: &'a Dictionary, out: &mut Vec<&'a Dictionary>, depth: usize) {
    assert!(depth < 200, "structure tree too deep: a cycle?");
    let Ok(kids) = node.get(b"K") else { return };
    let kids: Vec<&Object> = match resolve(pdf, kids) {
        Object::Array(items) => items.iter().collect(),
        single => vec![single],
    };
    for kid in kids {
        if let Object::Dictionary(d) = resolve(pdf, kid) {
            if d.get(b"S").is_ok() {
                out.push(d);
                structure(pdf, d, out, depth + 1);
            }
        }
    }
}

fn name_of(pdf: &Document, d: &Dictionary, key: &[u8]) -> String {
    match d.get(key).map(|o| resolve(pdf, o)) {
        Ok(Object::Name(n)) => String::from_utf8_lossy(n).into_owned(),
        _ => String::new(),
    }
}

#[tokio::test]
async fn the_report_has_the_dashboards_figures_and_is_a_tagged_pdf() {
    for t in TestDb::all().await {
        let backend = t.db.backend();
        let (app, state) = app(&t).await;
        let snapshot = state.snapshot().await.unwrap();
        let filter = |provincia: Option<&str>, piattaforma: Option<&str>| ComuniFilter {
            provincia: provincia.map(String::from),
            piattaforma: piattaforma.map(String::from),
            ..ComuniFilter::default()
        };
        let cases = [
            ("", filter(None, None)),
            ("provincia=TA", filter(Some("TA"), None)),
            ("provincia=LE&piattaforma=io", filter(Some("LE"), Some("io"))),
        ];
        for (q, f) in cases {
            let ctx = format!("{backend} ?{q}");
            let uri = if q.is_empty() { "/report.pdf".to_string() } else { format!("/report.pdf?{q}") };
            let response =
                app.clone().oneshot(Request::get(&uri).body(Body::empty()).unwrap()).await.unwrap();
            assert_eq!(response.status(), StatusCode::OK, "{ctx}");
            assert_eq!(response.headers()["content-type"], "application/pdf", "{ctx}");
            let disposition = response.headers()["content-disposition"].to_str().unwrap().to_string();
            assert_eq!(
                disposition,
                format!(
                    "inline; filename=\"rapporto-dati-dimostrativi-{}.pdf\"",
                    snapshot.as_of.format("%Y-%m-%d")
                ),
                "{ctx}"
            );
            let bytes = response.into_body().collect().await.unwrap().to_bytes();
            assert!(bytes.starts_with(b"%PDF-"), "{ctx}");
            let pdf = Document::load_mem(&bytes).unwrap();
            let text = text_of(&bytes);

            // The headline figures of the dashboard for the same filter, as its cards say them.
            let d = dashboard(&app, q).await;
            let cards = figures(&d.summary, &d.filtro);
            assert_eq!(cards.len(), 12, "{ctx}");
            for card in &cards {
                for part in [&card.title, &card.value, &card.denominator] {
                    assert!(text.contains(&squeeze(part)), "{ctx}: «{part}» missing from the PDF");
                }
            }
            for o in &d.summary.obiettivi {
                let row = format!(
                    "{}{} ({}){} ({}){}",
                    o.obiettivo,
                    format::int(o.raggiunti),
                    format::percent(o.raggiunti, o.supportati),
                    format::int(o.verificati),
                    format::percent(o.verificati, o.supportati),
                    format::int(o.supportati)
                );
                assert!(text.contains(&squeeze(&row)), "{ctx}: objective row «{row}»");
            }
            for p in &d.summary.province {
                let adhesion =
                    format!("{}{} su {}", p.nome, format::int(p.supportati), format::int(p.totale));
                assert!(text.contains(&squeeze(&adhesion)), "{ctx}: «{adhesion}»");
            }
            // The data's date, the filter in words, the demo mark, the count of comuni.
            assert!(text.contains(&squeeze(&format!("Dati al{}", format::date(snapshot.as_of)))), "{ctx}");
            assert!(text.contains("DATIDIMOSTRATIVI") && text.contains("Datidimostrativi."), "{ctx}");
            let considered = squeeze(&format!("Comuni considerati{}", format::int(d.summary.totale_comuni)));
            assert!(text.contains(&considered), "{ctx}");
            if q.is_empty() {
                assert!(text.contains("Nessunfiltro"), "{ctx}");
            } else {
                assert!(text.contains("Provinciadi"), "{ctx}");
            }

            // The list: every comune of the filter with its status, and none other.
            let rows = snapshot.list(&f.validate().unwrap());
            assert_eq!(rows.len() as i64, d.summary.totale_comuni, "{ctx}");
            for r in &rows {
                let line = format!(
                    "{}{}{}{}{}{}{}",
                    r.codice_istat,
                    r.denominazione,
                    r.sigla_provincia,
                    format::int(r.popolazione),
                    r.adesione.label(),
                    r.primo_step.label(),
                    r.finale.label()
                );
                assert!(text.contains(&squeeze(&line)), "{ctx}: comune row «{line}»");
            }
            let outside = snapshot
                .comuni
                .iter()
                .find(|e| !rows.iter().any(|r| r.codice_istat == e.record.codice_istat));
            if let Some(e) = outside {
                assert!(
                    !text.contains(&e.record.codice_istat),
                    "{ctx}: {} is outside the filter",
                    e.record.codice_istat
                );
            }

            // Tagged: marked content, a structure tree with headings, tables and figures with
            // alternative texts, Italian, the title shown; PDF/UA-1 declared.
            let catalog = pdf.catalog().unwrap();
            let mark_info = resolve(&pdf, catalog.get(b"MarkInfo").unwrap()).as_dict().unwrap();
            assert_eq!(mark_info.get(b"Marked").unwrap(), &Object::Boolean(true), "{ctx}");
            match resolve(&pdf, catalog.get(b"Lang").unwrap()) {
                Object::String(lang, _) => assert!(lang.starts_with(b"it"), "{ctx}: {lang:?}"),
                other => panic!("{ctx}: Lang {other:?}"),
            }
            let prefs = resolve(&pdf, catalog.get(b"ViewerPreferences").unwrap()).as_dict().unwrap();
            assert_eq!(prefs.get(b"DisplayDocTitle").unwrap(), &Object::Boolean(true), "{ctx}");
            let root = resolve(&pdf, catalog.get(b"StructTreeRoot").unwrap()).as_dict().unwrap();
            let mut elements = Vec::new();
            structure(&pdf, root, &mut elements, 0);
            let kinds: Vec<String> = elements.iter().map(|e| name_of(&pdf, e, b"S")).collect();
            for kind in ["H1", "H2", "Table", "TH", "TD", "Figure", "Caption"] {
                assert!(kinds.iter().any(|k| k == kind), "{ctx}: no {kind} in the structure tree: {kinds:?}");
            }
            let figures_alt: Vec<String> = elements
                .iter()
                .filter(|e| name_of(&pdf, e, b"S") == "Figure")
                .map(|e| match e.get(b"Alt").map(|o| resolve(&pdf, o)) {
                    Ok(Object::String(s, _)) => {
                        lopdf::decode_text_string(&Object::String(s.clone(), lopdf::StringFormat::Literal))
                            .unwrap_or_default()
                    }
                    _ => String::new(),
                })
                .collect();
            assert_eq!(figures_alt.len(), 5, "{ctx}: the map and four charts: {figures_alt:?}");
            assert!(figures_alt.iter().all(|a| a.len() > 20), "{ctx}: {figures_alt:?}");
            assert!(figures_alt.iter().any(|a| a.starts_with("Mappa dei comuni")), "{ctx}");
            let metadata = resolve(&pdf, catalog.get(b"Metadata").unwrap()).as_stream().unwrap();
            let xmp = String::from_utf8_lossy(&metadata.content);
            assert!(xmp.contains("pdfuaid:part") && xmp.contains('1'), "{ctx}: PDF/UA-1 not declared");
            assert!(
                xmp.contains("rapporto sull'avanzamento") || xmp.contains("rapporto sull&apos;avanzamento"),
                "{ctx}: title"
            );

            // Titillium Web, embedded (the only typeface).
            let mut fonts = 0;
            for object in pdf.objects.values() {
                let Ok(d) = object.as_dict() else { continue };
                if d.get(b"Type").ok().and_then(|t| t.as_name().ok()) != Some(b"FontDescriptor") {
                    continue;
                }
                fonts += 1;
                assert!(name_of(&pdf, d, b"FontName").contains("TitilliumWeb"), "{ctx}: {d:?}");
                assert!(
                    d.has(b"FontFile2") || d.has(b"FontFile3") || d.has(b"FontFile"),
                    "{ctx}: font not embedded"
                );
            }
            assert!(fonts >= 2, "{ctx}: regular and bold");
        }
        t.drop_db().await;
    }
}

#[tokio::test]
async fn a_bad_filter_is_refused_in_italian_not_typeset() {
    let t = TestDb::sqlite().await;
    let (app, _) = app(&t).await;
    let (status, body) =
        send(&app, Request::get("/report.pdf?provincia=XX").body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("Provincia"), "{body}");
    assert!(!body.contains("%PDF"));
}
