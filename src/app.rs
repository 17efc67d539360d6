//! The HTML shell, the router and the page frame (header, footer, demo label).

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, Meta, MetaTags, Stylesheet, Title};
use leptos_router::{
    components::{Route, Router, Routes, A},
    hooks::use_location,
    path, SsrMode,
};

use crate::{
    auth::ui::{AccountNav, LoginPage, ProfilePage, UsersPage},
    comuni::ui::{ComunePage, ComuniPage},
    dashboard::ui::DashboardPage,
    error::AppError,
    evidence::ui::{EvidencePageView, EvidenceQueuePage},
    imports::ui::ImportsPage,
    opendata::ui::OpenDataPageView,
    scadenze::ui::ScadenzePage,
    site::ui::{AccessibilityPage, FeedbackPage, FeedbackReceivedPage, LegalNotesPage, PrivacyPage},
    workspace::ui::{ComuneTrailPage, ProposalsPage, TrailPageView, WorkspacePage},
};

/// The address of a static file: `path` in `folder` (`pkg` or `bootstrap-italia`), under the
/// folder's content hash when the server found it at start-up (`server::assets`), so that
/// browsers may keep it for a year. Rendered on the server only (no island links a file).
pub fn static_url(folder: &str, path: &str) -> String {
    #[cfg(feature = "ssr")]
    if let Some(state) = use_context::<crate::state::AppState>() {
        return state.assets.url(folder, path);
    }
    format!("/{folder}/{path}")
}

/// Bootstrap Italia's stylesheet, copied from npm by `make assets` (see the README). Its
/// JavaScript is never loaded: interactive pieces are Leptos components with its classes.
pub fn bootstrap_italia_css() -> String {
    static_url("bootstrap-italia", "css/bootstrap-italia.min.css")
}

/// Bootstrap Italia's icon `name`, in its SVG sprite.
pub fn icon(name: &str) -> String {
    format!("{}#{name}", static_url("bootstrap-italia", "svg/sprites.svg"))
}

/// The document around every page. `lang="it"`: the UI speaks Italian. Bootstrap Italia's
/// stylesheet comes first, so that ours (`traguardi.css`, placed by `<MetaTags />`) wins.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    crate::security::set_page_policy();
    view! {
        <!DOCTYPE html>
        <html lang="it">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <link rel="icon" type="image/png" href="/favicon.png" />
                <link rel="stylesheet" href=bootstrap_italia_css() />
                <AutoReload options=options.clone() />
                <HydrationScripts options islands=true />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// Facts about the whole site that every page shows.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SiteInfo {
    /// The database holds the demo dataset: every page says "Dati dimostrativi".
    pub demo: bool,
}

#[server(endpoint = "sito")]
pub async fn get_site_info() -> Result<SiteInfo, AppError> {
    // From the cached snapshot: no query per page.
    let snapshot = crate::state::app_state()?.snapshot().await?;
    Ok(SiteInfo { demo: snapshot.demo })
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    // Every route renders whole on the server before it is sent (SsrMode::Async): pages work
    // without JavaScript (no streamed fragments to stitch) and a missing comune can answer 404.
    view! {
        <Stylesheet id="leptos" href=static_url("pkg", "traguardi.css") />
        <Title formatter=|text: String| format!("{text} — Traguardi") />
        <Router>
            <Frame>
                <Routes fallback=NotFoundPage>
                    <Route path=path!("/") view=DashboardPage ssr=SsrMode::Async />
                    <Route path=path!("/comuni") view=ComuniPage ssr=SsrMode::Async />
                    <Route path=path!("/comuni/:codice") view=ComunePage ssr=SsrMode::Async />
                    <Route path=path!("/comuni/:codice/gestione") view=WorkspacePage ssr=SsrMode::Async />
                    <Route path=path!("/comuni/:codice/registro") view=ComuneTrailPage ssr=SsrMode::Async />
                    <Route path=path!("/registro") view=TrailPageView ssr=SsrMode::Async />
                    <Route path=path!("/proposte") view=ProposalsPage ssr=SsrMode::Async />
                    <Route path=path!("/comuni/:codice/evidenze") view=EvidencePageView ssr=SsrMode::Async />
                    <Route path=path!("/evidenze") view=EvidenceQueuePage ssr=SsrMode::Async />
                    <Route path=path!("/scadenze") view=ScadenzePage ssr=SsrMode::Async />
                    <Route path=path!("/importazioni") view=ImportsPage ssr=SsrMode::Async />
                    <Route path=path!("/importazioni/:id") view=ImportsPage ssr=SsrMode::Async />
                    <Route path=path!("/opendata") view=OpenDataPageView ssr=SsrMode::Async />
                    <Route path=path!("/accedi") view=LoginPage ssr=SsrMode::Async />
                    <Route path=path!("/profilo") view=ProfilePage ssr=SsrMode::Async />
                    <Route path=path!("/utenti") view=UsersPage ssr=SsrMode::Async />
                    <Route
                        path=path!("/promemoria")
                        view=crate::reminders::RemindersPageView
                        ssr=SsrMode::Async
                    />
                    <Route path=path!("/accessibilita") view=AccessibilityPage ssr=SsrMode::Async />
                    <Route path=path!("/privacy") view=PrivacyPage ssr=SsrMode::Async />
                    <Route path=path!("/note-legali") view=LegalNotesPage ssr=SsrMode::Async />
                    <Route path=path!("/feedback") view=FeedbackPage ssr=SsrMode::Async />
                    <Route
                        path=path!("/feedback/ricevuti")
                        view=FeedbackReceivedPage
                        ssr=SsrMode::Async
                    />
                </Routes>
            </Frame>
        </Router>
    }
}

/// Header, demo label, main landmark and footer around every page, in Bootstrap Italia's markup.
/// Nothing here needs JavaScript: the main navigation is always visible and wraps on narrow
/// screens instead of hiding behind a toggle.
#[component]
fn Frame(children: Children) -> impl IntoView {
    let site = Resource::new(|| (), |_| get_site_info());
    view! {
        <div class="skiplinks">
            <a class="visually-hidden-focusable" href="#main">
                "Vai al contenuto"
            </a>
        </div>
        <header class="it-header-wrapper">
            <div class="it-header-slim-wrapper">
                <div class="container">
                    <div class="it-header-slim-wrapper-content">
                        <a class="navbar-brand" href="https://www.regione.puglia.it">
                            "Regione Puglia"
                        </a>
                        <div class="it-header-slim-right-zone">
                            <AccountNav />
                        </div>
                    </div>
                </div>
            </div>
            <div class="it-nav-wrapper">
                <div class="it-header-center-wrapper">
                    <div class="container">
                        <div class="it-header-center-content-wrapper">
                            <div class="it-brand-wrapper">
                                <A href="/">
                                    <svg class="icon" aria-hidden="true" focusable="false">
                                        <use href=icon("it-pa")></use>
                                    </svg>
                                    <div class="it-brand-text">
                                        <div class="it-brand-title">"Traguardi — Fondo Innovazione"</div>
                                        <div class="it-brand-tagline d-none d-md-block">
                                            "Il programma di digitalizzazione dei comuni della Puglia, comune per comune"
                                        </div>
                                    </div>
                                </A>
                            </div>
                        </div>
                    </div>
                </div>
                <MainNav />
            </div>
        </header>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match site.await {
                    Ok(SiteInfo { demo: true }) => {
                        view! {
                            <div class="demo-banner" role="note">
                                <div class="container">
                                    <strong>"Dati dimostrativi"</strong>
                                    ": solo i totali seguono il comunicato stampa della Regione Puglia; quali comuni (oltre ai 14 della provincia di Taranto), i servizi e le date sono illustrativi."
                                </div>
                            </div>
                        }
                            .into_any()
                    }
                    _ => ().into_any(),
                }
            })}
        </Suspense>
        <main id="main" class="container" tabindex="-1">
            {children()}
        </main>
        <SiteFooter />
    }
}

/// The main navigation: Bootstrap Italia's navbar, without its off-canvas toggle (which needs
/// its JavaScript): the links stay visible and wrap at any width. The router marks the current
/// page with `aria-current="page"`. Pages for signed-in people only appear to them (the server
/// refuses them to others anyway).
#[component]
fn MainNav() -> impl IntoView {
    let user = Resource::new(|| (), |_| crate::auth::server::who_am_i());
    view! {
        <div class="it-header-navbar-wrapper">
            <div class="container">
                <nav class="navbar" aria-label="Sezioni principali">
                    <ul class="navbar-nav">
                        <li class="nav-item">
                            <A href="/" attr:class="nav-link">
                                "Cruscotto"
                            </A>
                        </li>
                        <li class="nav-item">
                            <A href="/comuni" attr:class="nav-link">
                                "Comuni"
                            </A>
                        </li>
                        <li class="nav-item">
                            <A href="/opendata" attr:class="nav-link">
                                "Dati aperti"
                            </A>
                        </li>
                        <Suspense fallback=|| ()>
                            {move || Suspend::new(async move {
                                user.await
                                    .ok()
                                    .flatten()
                                    .map(|u| {
                                        let region = u.role == crate::auth::Role::Regione;
                                        view! {
                                            <li class="nav-item">
                                                <A href="/scadenze" attr:class="nav-link">
                                                    "Scadenze"
                                                </A>
                                            </li>
                                            {region
                                                .then(|| {
                                                    view! {
                                                        <li class="nav-item">
                                                            <A href="/importazioni" attr:class="nav-link">
                                                                "Importazioni"
                                                            </A>
                                                        </li>
                                                    }
                                                })}
                                        }
                                    })
                            })}
                        </Suspense>
                    </ul>
                </nav>
            </div>
        </div>
    }
}

/// Bootstrap Italia's footer: who runs the service, the data credits, the links every public
/// administration site carries, and the hydration marker the browser tests read.
#[component]
fn SiteFooter() -> impl IntoView {
    let location = use_location();
    let feedback_href = move || crate::site::feedback_href(&location.pathname.get());
    view! {
        <footer class="it-footer">
            <div class="it-footer-main">
                <div class="container">
                    <div class="it-brand-wrapper">
                        <A href="/">
                            <svg class="icon" aria-hidden="true" focusable="false">
                                <use href=icon("it-pa")></use>
                            </svg>
                            <div class="it-brand-text">
                                <p class="h2 no_toc">"Traguardi"</p>
                                <p class="h3 no_toc">"Regione Puglia"</p>
                            </div>
                        </A>
                    </div>
                    <p>
                        "Traguardi — monitoraggio del Fondo Innovazione 2020-2021, Regione Puglia."
                    </p>
                    <p>
                        "Elenco dei comuni e popolazione: ISTAT (licenza CC BY). I dati dei servizi sono quelli registrati in Traguardi."
                    </p>
                    <p class="visually-hidden">
                        <HydrationStatus />
                    </p>
                </div>
            </div>
            <div class="it-footer-small-prints">
                <div class="container">
                    <nav aria-label="Informazioni sul sito">
                        <ul class="it-footer-small-prints-list list-inline mb-0 d-flex flex-column flex-md-row">
                            <li class="list-inline-item">
                                <A href="/accessibilita">"Dichiarazione di accessibilità"</A>
                            </li>
                            <li class="list-inline-item">
                                <a href=feedback_href>"Invia un commento"</a>
                            </li>
                            <li class="list-inline-item">
                                <A href="/privacy">"Informativa sulla privacy"</A>
                            </li>
                            <li class="list-inline-item">
                                <A href="/note-legali">"Note legali"</A>
                            </li>
                            <li class="list-inline-item">
                                <A href="/opendata">"Dati aperti"</A>
                            </li>
                        </ul>
                    </nav>
                </div>
            </div>
        </footer>
    }
}

/// Says whether the page's JavaScript runs: an island, flipped by an effect, which only runs in
/// the browser. The browser tests read it, so a broken wasm build cannot pass unnoticed.
#[island]
fn HydrationStatus() -> impl IntoView {
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
    view! {
        <span id="hydration-status" data-hydrated=move || hydrated.get().to_string()>
            {move || {
                if hydrated.get() { "Interfaccia interattiva attiva" } else { "Interfaccia senza JavaScript" }
            }}
        </span>
    }
}

/// A page's title and its description: search engines show the description under the title
/// and chat apps in a link's preview, so every page has exactly one of each (the authorization
/// matrix checks every HTML answer of every route for every role).
#[component]
pub fn PageHead(#[prop(into)] title: String, #[prop(into)] description: String) -> impl IntoView {
    view! {
        <Title text=title />
        <Meta name="description" content=description />
    }
}

/// The page for an unknown address: a real 404.
#[component]
pub fn NotFoundPage() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(axum::http::StatusCode::NOT_FOUND);
    }
    view! {
        <PageHead title="Pagina non trovata" description="La pagina richiesta non esiste in Traguardi." />
        <h1>"Pagina non trovata"</h1>
        <p>"L'indirizzo richiesto non esiste. " <A href="/">"Torna al cruscotto"</A> "."</p>
    }
}

/// An error said in words, in an alert region; an internal one with the request's id, which
/// the person can quote and the operator find in the log.
#[component]
pub fn ErrorNotice(error: AppError) -> impl IntoView {
    // On the server the request's id; in the browser the one a server function's answer carried.
    let code = error.request_code();
    view! {
        <div class="alert alert-danger" role="alert">
            <p>{error.to_string()}</p>
            {code.map(|id| view! { <p class="codice-richiesta">{format!("Codice della richiesta: {id}")}</p> })}
        </div>
    }
}
