//! Bounded expensive work, on both backends: with one report (or PNG, or chart drawing, or
//! workbook) in progress and one queued, a burst gets 503 with `Retry-After` and an Italian
//! message at once, never 500, and the queued request is served when its turn comes; concurrent
//! requests for the same chart on the same data draw it once; bodies of the other routes are
//! bounded.

use axum::{
    body::Body,
    http::{header, HeaderMap, Request, StatusCode},
    Router,
};
use http_body_util::BodyExt;
use leptos::prelude::LeptosOptions;
use tower::ServiceExt;

use super::TestDb;
use crate::{
    limits::work::{Permit, WorkLimits, RETRY_AFTER_SECONDS},
    server::router,
    state::AppState,
};

/// The demo data with: reports 1 in progress and 1 queued, PNG 1 + 1, drawings 1 + 1, workbooks
/// 1 + 0.
async fn app(t: &TestDb) -> (Router, AppState) {
    crate::demo::load(&t.db).await.unwrap();
    let options = LeptosOptions::builder().output_name("traguardi").build();
    let state =
        AppState::new(options, t.db.clone()).with_limits(WorkLimits::new((1, 1), (1, 1), (1, 1), (1, 0)));
    (router(state.clone()), state)
}

type Answer = (StatusCode, HeaderMap, Vec<u8>);

/// A GET with a cookie, as a browser that has signed in sends it: the page cache stays out of
/// such requests, so these tests see the work limits and the drawing cache themselves (the page
/// cache answers identical anonymous requests with one render:
/// [`eight_anonymous_requests_for_one_report_wait_for_one_render`]).
async fn answer(app: Router, uri: String) -> Answer {
    let request = Request::get(uri).header(header::COOKIE, "altro=1").body(Body::empty()).unwrap();
    let response = app.oneshot(request).await.unwrap();
    let (status, headers) = (response.status(), response.headers().clone());
    (status, headers, response.into_body().collect().await.unwrap().to_bytes().to_vec())
}

/// `uris` requested at once while the test holds the only turn (`held`): with one place in the
/// queue, all but one are answered while the turn is held (nothing can finish meanwhile); then
/// the turn is given back and the last one answered. In the order the answers came.
async fn burst(app: &Router, uris: Vec<String>, held: Permit) -> Vec<Answer> {
    let n = uris.len();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    for uri in uris {
        let (app, tx) = (app.clone(), tx.clone());
        tokio::spawn(async move {
            let _ = tx.send(answer(app, uri).await);
        });
    }
    let mut answers = Vec::new();
    while answers.len() < n - 1 {
        answers.push(rx.recv().await.expect("an answer"));
    }
    drop(held);
    answers.push(rx.recv().await.expect("the queued answer"));
    answers
}

/// The refusals: 503, `Retry-After`, the Italian sentence, in plain text like the other errors.
fn assert_busy(what: &str, answers: &[Answer], word: &str) {
    for (status, headers, body) in answers {
        let body = String::from_utf8_lossy(body);
        assert_eq!(*status, StatusCode::SERVICE_UNAVAILABLE, "{what}: {body}");
        assert_eq!(headers[header::RETRY_AFTER], RETRY_AFTER_SECONDS.to_string(), "{what}");
        assert_eq!(headers[header::CONTENT_TYPE], "text/plain; charset=utf-8", "{what}");
        assert!(body.contains(word) && body.contains("riprova tra qualche secondo"), "{what}: {body}");
    }
}

#[tokio::test]
async fn a_burst_of_reports_and_pictures_is_refused_with_503_past_the_queue() {
    for t in TestDb::all().await {
        let backend = t.db.backend();
        let (app, state) = app(&t).await;

        // Eight reports: one queued and then served, seven refused at once.
        let held = state.limits.report.acquire().await.unwrap();
        let answers = burst(&app, vec!["/report.pdf".to_string(); 8], held).await;
        assert_busy(&format!("{backend}: report"), &answers[..7], "rapporti PDF");
        let (status, headers, pdf) = &answers[7];
        assert_eq!(*status, StatusCode::OK, "{backend}: the queued report");
        assert_eq!(headers[header::CONTENT_TYPE], "application/pdf");
        assert!(pdf.starts_with(b"%PDF-"), "{backend}");

        // The same for the PNG pictures.
        let held = state.limits.png.acquire().await.unwrap();
        let answers = burst(&app, vec!["/grafici/adesione.png".to_string(); 8], held).await;
        assert_busy(&format!("{backend}: PNG"), &answers[..7], "immagini PNG");
        assert_eq!(answers[7].0, StatusCode::OK, "{backend}: the queued PNG");
        assert!(answers[7].2.starts_with(b"\x89PNG"), "{backend}");

        // Drawings for eight filters not drawn yet: one queued, seven refused.
        let filters = ["provincia=BA", "provincia=BT", "provincia=BR", "provincia=FG", "provincia=LE"]
            .into_iter()
            .chain(["provincia=TA", "adesione=aderente", "adesione=non_aderente"])
            .map(|q| format!("/grafici/mappa.svg?{q}"))
            .collect();
        let held = state.limits.drawing.acquire().await.unwrap();
        let answers = burst(&app, filters, held).await;
        assert_busy(&format!("{backend}: drawings"), &answers[..7], "grafici");
        assert_eq!(answers[7].0, StatusCode::OK, "{backend}: the queued drawing");

        // Workbooks: no queue at all; the CSV of the same list is not limited.
        let held = state.limits.xlsx.acquire().await.unwrap();
        let refused = answer(app.clone(), "/export/comuni.xlsx".into()).await;
        assert_busy(&format!("{backend}: XLSX"), &[refused], "file Excel");
        assert_eq!(answer(app.clone(), "/export/comuni.csv".into()).await.0, StatusCode::OK);
        drop(held);
        assert_eq!(answer(app.clone(), "/export/comuni.xlsx".into()).await.0, StatusCode::OK);
        t.drop_db().await;
    }
}

#[tokio::test]
async fn sixteen_requests_for_the_same_chart_draw_it_once() {
    for t in TestDb::all().await {
        let backend = t.db.backend();
        crate::demo::load(&t.db).await.unwrap();
        let options = LeptosOptions::builder().output_name("traguardi").build();
        let state = AppState::new(options, t.db.clone());
        let app = router(state.clone());
        let requests = (0..16).map(|_| tokio::spawn(answer(app.clone(), "/grafici/adesione.svg".into())));
        let answers = futures_util::future::join_all(requests).await;
        let bodies: Vec<Vec<u8>> = answers
            .into_iter()
            .map(|a| {
                let (status, _, body) = a.unwrap();
                assert_eq!(status, StatusCode::OK, "{backend}");
                body
            })
            .collect();
        assert!(bodies.windows(2).all(|w| w[0] == w[1]), "{backend}: the same picture");
        assert_eq!(state.graphics.draws(), 1, "{backend}: drawn once for 16 requests");
        t.drop_db().await;
    }
}

#[tokio::test]
async fn eight_anonymous_requests_for_one_report_wait_for_one_render() {
    for t in TestDb::all().await {
        let backend = t.db.backend();
        let (app, state) = app(&t).await;
        // The only turn is held: eight anonymous requests for the same report would leave one
        // queued and refuse seven, were each typeset for itself.
        let held = state.limits.report.acquire().await.unwrap();
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        for _ in 0..8 {
            let (app, tx) = (app.clone(), tx.clone());
            tokio::spawn(async move {
                let req = Request::get("/report.pdf").body(Body::empty()).unwrap();
                let _ = tx.send(answer_to(&app, req).await);
            });
        }
        // None is refused while the turn is held (a refusal comes at once): they wait for the
        // one render, queued.
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        assert!(rx.try_recv().is_err(), "{backend}: an answer before the turn was free");
        drop(held);
        let mut answers = Vec::new();
        for _ in 0..8 {
            answers.push(rx.recv().await.expect("an answer"));
        }
        for (status, headers, pdf) in &answers {
            assert_eq!(*status, StatusCode::OK, "{backend}");
            assert!(pdf.starts_with(b"%PDF-") && *pdf == answers[0].2, "{backend}: the same report");
            assert_eq!(headers[header::CONTENT_TYPE], "application/pdf");
        }
        let rendered =
            answers.iter().filter(|(_, h, _)| h[crate::server::cache::CACHE_HEADER] == "miss").count();
        assert_eq!(rendered, 1, "{backend}: typeset once, seven answered from it");
        t.drop_db().await;
    }
}

#[tokio::test]
async fn bodies_of_the_other_routes_are_bounded() {
    use crate::limits::body::FORM_BYTES;
    let t = TestDb::sqlite().await;
    let (app, _) = app(&t).await;
    let post = |body: Body| {
        Request::post("/api/scelte-filtri")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(body)
    };
    // Declared too long: refused before a byte is read.
    let (body, pulled) = super::generated_body(b"", b'a', FORM_BYTES as u64 + 1);
    let mut req = post(body).unwrap();
    req.headers_mut().insert(header::CONTENT_LENGTH, (FORM_BYTES + 1).into());
    let (status, _, body) = answer_to(&app, req).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(String::from_utf8_lossy(&body).contains("La richiesta è troppo grande"));
    assert_eq!(pulled.await.unwrap(), 0, "not a byte read");
    // Sent chunked, with no length: cut at the bound, the same 413 (not the reader's 500).
    let (body, pulled) = super::generated_body(b"", b'a', 64 * 1024 * 1024);
    let (status, _, body) = answer_to(&app, post(body).unwrap()).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(String::from_utf8_lossy(&body).contains("La richiesta è troppo grande"));
    let pulled = pulled.await.unwrap();
    assert!(pulled <= (FORM_BYTES + 64 * 1024) as u64, "{pulled} bytes read");
    // A normal server function call still works.
    let (status, _, _) = answer_to(&app, post(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    t.drop_db().await;
}

async fn answer_to(app: &Router, req: Request<Body>) -> Answer {
    let response = app.clone().oneshot(req).await.unwrap();
    let (status, headers) = (response.status(), response.headers().clone());
    (status, headers, response.into_body().collect().await.unwrap().to_bytes().to_vec())
}
