//! A progress bar for the evidence-upload form.
//!
//! The form is rendered on the server and works without JavaScript (a plain multipart POST).
//! With JavaScript, the [`UploadProgress`] island around it refuses a file over the size limit
//! before anything is sent, sends the form with `XMLHttpRequest` (the only browser API that
//! reports upload progress) and shows how much has been sent, in a `<progress>` bar and in
//! words; screen readers hear the progress every 10 % through a polite live region.

use leptos::prelude::*;

/// Bytes in a megabyte as the limit message counts them (MiB, the unit browsers and file
/// managers show as "MB").
const MEGABYTE: u64 = 1_048_576;

/// The limit in megabytes, in Italian: `10485760` → `10`, `7864320` → `7,5`. Not a whole number:
/// up to two decimals, truncated (never rounded up), so that "the file exceeds N MB" is always
/// true of a refused file.
pub fn megabytes(bytes: u64) -> String {
    let whole = crate::format::int(i64::try_from(bytes / MEGABYTE).unwrap_or(i64::MAX));
    let hundredths = (u128::from(bytes % MEGABYTE) * 100 / u128::from(MEGABYTE)) as u8;
    match hundredths {
        0 => whole,
        h if h % 10 == 0 => format!("{whole},{}", h / 10),
        h => format!("{whole},{h:02}"),
    }
}

/// What the page says when a file is over the limit `max_bytes` (also usable by the server).
pub fn too_large_message(max_bytes: u64) -> String {
    format!("Il file supera il limite di {} MB: non è stato inviato.", megabytes(max_bytes))
}

/// Said when the connection drops or the upload is aborted.
pub const CONNECTION_LOST: &str = "Connessione interrotta: il file non è stato salvato. Riprova.";
/// Said once the whole file has been sent, while the server checks it.
pub const SENT: &str = "Caricamento completato, verifica in corso…";

/// What the island shows; all of it stays hidden (or empty) until an upload starts.
#[derive(Clone, Copy)]
struct Ui {
    /// An upload is under way: the bar is shown, a second submit is ignored.
    busy: RwSignal<bool>,
    /// The share sent, 0–100; `None` while the browser cannot tell (an indeterminate bar).
    percent: RwSignal<Option<u8>>,
    /// The visible words under the bar ("40 %", "Caricamento completato, …").
    line: RwSignal<String>,
    /// The polite live region (visually hidden): progress every 10 %, the outcome, errors.
    status: RwSignal<String>,
    /// A visible error; empty when there is none.
    error: RwSignal<String>,
}

/// Wraps the server-rendered evidence-upload form (its `children`): with JavaScript, the form
/// is sent with a progress bar; without it, or if the browser cannot send it this way, the
/// form submits as usual.
///
/// `max_bytes` is the size limit the server applies: a larger file is refused before it is
/// sent, with [`too_large_message`]. The server renders the same HTML whether or not the
/// wasm loads; the bar, the words and the error box appear only when an upload starts or fails.
///
/// ```ignore
/// view! {
///     <UploadProgress max_bytes=limit>
///         <form method="post" enctype="multipart/form-data" action=action>
///             …
///         </form>
///     </UploadProgress>
/// }
/// ```
#[island]
pub fn UploadProgress(
    /// The largest file the server accepts, in bytes.
    max_bytes: u64,
    /// The upload form, rendered on the server.
    children: Children,
) -> impl IntoView {
    let ui = Ui {
        busy: RwSignal::new(false),
        percent: RwSignal::new(Some(0)),
        line: RwSignal::new(String::new()),
        status: RwSignal::new(String::new()),
        error: RwSignal::new(String::new()),
    };
    // Browser APIs only in event handlers, which run in the browser alone.
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        #[cfg(feature = "hydrate")]
        browser::submit(ev, max_bytes, ui);
        #[cfg(not(feature = "hydrate"))]
        let _ = (ev, max_bytes);
    };
    let on_change = move |ev: leptos::ev::Event| {
        #[cfg(feature = "hydrate")]
        browser::file_chosen(ev, max_bytes, ui);
        #[cfg(not(feature = "hydrate"))]
        let _ = (ev, max_bytes);
    };
    // No `aria-busy` on the wrapper while sending: screen readers may hold back the live
    // region's updates inside a busy element, and the progress is the point.
    // A `<progress>` element rather than Bootstrap's `div.progress-bar`: the bar's width would
    // need an inline `style`, which the Content-Security-Policy (`style-src 'self'`) refuses in
    // server-rendered HTML; `<progress>` also carries its role and value natively.
    view! {
        <div
            class="caricamento-evidenza"
            on:submit=on_submit
            on:change=on_change
        >
            {children()}
            <p class="visually-hidden" aria-live="polite">
                {move || ui.status.get()}
            </p>
            <div class="mt-3" hidden=move || !ui.busy.get()>
                <label class="d-block">
                    <span class="d-block">"Invio del file"</span>
                    <progress
                        class="w-100"
                        max="100"
                        value=move || ui.percent.get().map(|p| p.to_string())
                    ></progress>
                </label>
                <p class="mb-0">{move || ui.line.get()}</p>
            </div>
            <div class="alert alert-danger mt-3" hidden=move || ui.error.get().is_empty()>
                <p class="mb-0">{move || ui.error.get()}</p>
            </div>
        </div>
    }
}

/// What [`UploadProgress`] does in the browser.
#[cfg(feature = "hydrate")]
mod browser {
    use std::{cell::RefCell, rc::Rc};

    use leptos::prelude::*;
    use wasm_bindgen::{closure::Closure, JsCast};
    use web_sys::{Element, HtmlElement, HtmlFormElement, HtmlInputElement, ProgressEvent, XmlHttpRequest};

    use super::{too_large_message, Ui, CONNECTION_LOST, SENT};

    /// The submit buttons the island disables while it sends (those not disabled already).
    const SUBMIT_BUTTONS: &str = "button:not([type=button]):not([type=reset]):not(:disabled), \
                                  input[type=submit]:not(:disabled), input[type=image]:not(:disabled)";

    /// The XHR's event handlers: kept alive for as long as the request runs.
    struct Handlers {
        _progress: Closure<dyn FnMut(ProgressEvent)>,
        _sent: Closure<dyn FnMut()>,
        _done: Closure<dyn FnMut()>,
    }

    /// A file was chosen: say at once if it is over the limit, or clear an earlier error.
    pub fn file_chosen(ev: leptos::ev::Event, max_bytes: u64, ui: Ui) {
        let Some(input) = ev.target().and_then(|t| t.dyn_into::<HtmlInputElement>().ok()) else {
            return;
        };
        if input.type_() != "file" || ui.busy.get_untracked() {
            return;
        }
        if input_too_large(&input, max_bytes) {
            fail(ui, too_large_message(max_bytes));
        } else if !ui.error.get_untracked().is_empty() {
            ui.error.set(String::new());
            ui.status.set(String::new());
        }
    }

    /// The form is submitted: send it with XHR and show the progress. Until the request is
    /// actually sent, any failure leaves the event alone and the browser submits the form itself.
    pub fn submit(ev: leptos::ev::SubmitEvent, max_bytes: u64, ui: Ui) {
        let Some(form) = ev.target().and_then(|t| t.dyn_into::<HtmlFormElement>().ok()) else {
            return;
        };
        if !form.method().eq_ignore_ascii_case("post") {
            return;
        }
        if ui.busy.get_untracked() {
            // Already sending (Enter pressed again in a field): never send the file twice.
            ev.prevent_default();
            return;
        }
        if form_too_large(&form, max_bytes) {
            ev.prevent_default();
            fail(ui, too_large_message(max_bytes));
            return;
        }
        let Ok(data) = web_sys::FormData::new_with_form(&form) else { return };
        // What the browser would add: the name and value of the button that submitted.
        if let Some(button) = ev.submitter() {
            if let Some(name) = button.get_attribute("name").filter(|n| !n.is_empty()) {
                let value = button.get_attribute("value").unwrap_or_default();
                if data.append_with_str(&name, &value).is_err() {
                    return;
                }
            }
        }
        let action = form.action();
        let Ok(xhr) = XmlHttpRequest::new() else { return };
        let Ok(upload) = xhr.upload() else { return };
        if xhr.open("POST", &action).is_err() {
            return;
        }
        // Ask for what a browser navigation asks for: the server's pages, not an API answer.
        let _ = xhr.set_request_header("Accept", "text/html,application/xhtml+xml");

        let handlers: Rc<RefCell<Option<Handlers>>> = Rc::default();
        let mut announced = 0u8;
        let progress = Closure::<dyn FnMut(ProgressEvent)>::new(move |e: ProgressEvent| {
            if !e.length_computable() || e.total() <= 0.0 {
                ui.percent.set(None);
                ui.line.set("Caricamento in corso…".into());
                return;
            }
            let percent = (e.loaded() / e.total() * 100.0).floor().clamp(0.0, 100.0) as u8;
            ui.percent.set(Some(percent));
            ui.line.set(format!("{percent} %"));
            // At most every 10 %; 100 % is said by `sent`, in words.
            let step = percent / 10 * 10;
            if step > announced && step < 100 {
                announced = step;
                ui.status.set(format!("Caricamento: {step} %"));
            }
        });
        let sent = Closure::<dyn FnMut()>::new(move || {
            ui.percent.set(Some(100));
            ui.line.set(SENT.into());
            ui.status.set(SENT.into());
        });
        let buttons = disable_buttons(&form);
        let done = {
            let (xhr, handlers, buttons) = (xhr.clone(), Rc::clone(&handlers), buttons.clone());
            Closure::<dyn FnMut()>::new(move || {
                // The request is over: free the handlers (this one included) once it returns.
                if let Some(h) = handlers.borrow_mut().take() {
                    leptos::task::spawn_local(async move { drop(h) });
                }
                finish(&xhr, &action, ui, &buttons);
            })
        };
        upload.set_onprogress(Some(progress.as_ref().unchecked_ref()));
        upload.set_onload(Some(sent.as_ref().unchecked_ref()));
        // `loadend` follows `load`, `error`, `abort` and `timeout` alike: one place decides.
        xhr.set_onloadend(Some(done.as_ref().unchecked_ref()));
        *handlers.borrow_mut() = Some(Handlers { _progress: progress, _sent: sent, _done: done });

        if xhr.send_with_opt_form_data(Some(&data)).is_err() {
            // Nothing left: let the browser submit the form itself.
            handlers.borrow_mut().take();
            enable(&buttons);
            return;
        }
        ev.prevent_default();
        ui.error.set(String::new());
        ui.percent.set(Some(0));
        ui.line.set("0 %".into());
        ui.status.set("Caricamento: 0 %".into());
        ui.busy.set(true);
    }

    /// The server has answered, or the request failed.
    fn finish(xhr: &XmlHttpRequest, action: &str, ui: Ui, buttons: &[Element]) {
        let Some(window) = web_sys::window() else { return };
        // 0: no answer at all (connection lost, request aborted).
        let status = xhr.status().unwrap_or(0);
        if status == 0 {
            fail(ui, CONNECTION_LOST.into());
            enable(buttons);
            return;
        }
        let url = xhr.response_url();
        // The server stored the file and answered 303 to the comune page, which XHR followed:
        // go there, as the browser would have without JavaScript.
        if status < 400 && !url.is_empty() && url != action {
            if window.location().assign(&url).is_err() {
                let _ = window.location().reload();
            }
            return;
        }
        // A refusal (or, unexpectedly, a page answered to the POST itself): show it, as the
        // browser would have.
        let html = xhr.response_text().ok().flatten().unwrap_or_default();
        if show_page(&window, &html) {
            return;
        }
        if status < 400 {
            let _ = window.location().reload();
            return;
        }
        fail(
            ui,
            format!("Il file non è stato salvato: il server ha risposto con l'errore {status}. Riprova."),
        );
        enable(buttons);
    }

    /// Puts the page `html` (the server's answer) in place of the current one; false if it
    /// holds no page.
    ///
    /// Only the `<body>` and the title are replaced, through `DOMParser`, rather than writing
    /// the whole answer with `document.open()`/`write()`: the stylesheets in `<head>` stay
    /// applied (no unstyled flash while they reload), and no script of the answer runs. With
    /// `document.write` the answer's hydration script would run with a fresh nonce that the
    /// current page's Content-Security-Policy refuses, and would load the wasm a second time
    /// into the same window. The replaced page is server-rendered HTML that works without
    /// JavaScript (its own footer then says so); the address stays the form's page, so
    /// reloading shows the form again instead of sending the file again.
    fn show_page(window: &web_sys::Window, html: &str) -> bool {
        let parsed = web_sys::DomParser::new()
            .and_then(|p| p.parse_from_string(html, web_sys::SupportedType::TextHtml))
            .ok();
        let (Some(parsed), Some(document)) = (parsed, window.document()) else { return false };
        let (Some(fresh), Some(body)) = (parsed.body(), document.body()) else { return false };
        if fresh.first_element_child().is_none() {
            return false;
        }
        body.set_inner_html(&fresh.inner_html());
        document.set_title(&parsed.title());
        // A new page: start from the top, with focus on its main content (`tabindex="-1"` in the
        // frame), so that screen readers read the explanation rather than lose their place.
        window.scroll_to_with_x_and_y(0.0, 0.0);
        if let Some(main) = document.get_element_by_id("main").and_then(|m| m.dyn_into::<HtmlElement>().ok())
        {
            let _ = main.focus();
        }
        true
    }

    /// Shows `message` as an error, in the box and in the live region; the form can be sent again.
    fn fail(ui: Ui, message: String) {
        ui.busy.set(false);
        ui.percent.set(Some(0));
        ui.line.set(String::new());
        ui.error.set(message.clone());
        ui.status.set(message);
    }

    /// Disables the form's enabled submit buttons; returns them, to enable them again.
    fn disable_buttons(form: &HtmlFormElement) -> Vec<Element> {
        let Ok(list) = form.query_selector_all(SUBMIT_BUTTONS) else { return Vec::new() };
        let buttons: Vec<Element> =
            (0..list.length()).filter_map(|i| list.get(i)).filter_map(|n| n.dyn_into().ok()).collect();
        for b in &buttons {
            let _ = b.set_attribute("disabled", "");
        }
        buttons
    }

    /// Enables the buttons again. Focus is left alone: moving it would make screen readers cut
    /// the error the live region has just been given; Tab still resumes from the button.
    fn enable(buttons: &[Element]) {
        for b in buttons {
            let _ = b.remove_attribute("disabled");
        }
    }

    /// Some file input of `form` holds a file over `max_bytes`.
    fn form_too_large(form: &HtmlFormElement, max_bytes: u64) -> bool {
        let Ok(list) = form.query_selector_all("input[type=file]") else { return false };
        (0..list.length())
            .filter_map(|i| list.get(i))
            .filter_map(|n| n.dyn_into::<HtmlInputElement>().ok())
            .any(|input| input_too_large(&input, max_bytes))
    }

    /// The input holds a file over `max_bytes`.
    fn input_too_large(input: &HtmlInputElement, max_bytes: u64) -> bool {
        let Some(files) = input.files() else { return false };
        (0..files.length()).filter_map(|i| files.get(i)).any(|f| f.size() > max_bytes as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limit_in_megabytes_with_a_decimal_comma() {
        assert_eq!(megabytes(10 * MEGABYTE), "10");
        assert_eq!(megabytes(MEGABYTE * 3 / 2), "1,5");
        assert_eq!(megabytes(MEGABYTE * 5 / 4), "1,25");
        assert_eq!(megabytes(MEGABYTE / 2), "0,5");
        assert_eq!(megabytes(10_000_000), "9,53");
        // Truncated, never rounded up: a refused file is always over the stated figure.
        assert_eq!(megabytes(10 * MEGABYTE + 1), "10");
        assert_eq!(megabytes(2048 * MEGABYTE), "2.048");
        assert_eq!(
            too_large_message(MEGABYTE * 15 / 2),
            "Il file supera il limite di 7,5 MB: non è stato inviato."
        );
    }
}
