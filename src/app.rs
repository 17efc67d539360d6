//! The HTML shell, the router and the page frame (header, footer, demo label).

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::{
    components::{Route, Router, Routes, A},
    path, SsrMode,
};

use crate::{
    auth::ui::{AccountNav, LoginPage, ProfilePage, UsersPage},
    comuni::ui::{ComunePage, ComuniPage},
    dashboard::ui::DashboardPage,
    error::AppError,
};

/// The document around every page. `lang="it"`: the UI speaks Italian.
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
                <AutoReload options=options.clone() />
                <HydrationScripts options />
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
        <Stylesheet id="leptos" href="/pkg/traguardi.css" />
        <Title formatter=|text: String| format!("{text} — Traguardi") />
        <Router>
            <Frame>
                <Routes fallback=NotFoundPage>
                    <Route path=path!("/") view=DashboardPage ssr=SsrMode::Async />
                    <Route path=path!("/comuni") view=ComuniPage ssr=SsrMode::Async />
                    <Route path=path!("/comuni/:codice") view=ComunePage ssr=SsrMode::Async />
                    <Route path=path!("/accedi") view=LoginPage ssr=SsrMode::Async />
                    <Route path=path!("/profilo") view=ProfilePage ssr=SsrMode::Async />
                    <Route path=path!("/utenti") view=UsersPage ssr=SsrMode::Async />
                </Routes>
            </Frame>
        </Router>
    }
}

/// Header, demo label, main landmark and footer around every page.
#[component]
fn Frame(children: Children) -> impl IntoView {
    let site = Resource::new(|| (), |_| get_site_info());
    // Flipped by an effect, which only runs in the browser: proves that hydration happened
    // (the browser tests read it, so a broken wasm build cannot pass unnoticed).
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
    view! {
        <a class="skip-link" href="#main">
            "Vai al contenuto"
        </a>
        <header class="site-header">
            <div class="slim-header">
                <div class="container slim-inner">
                    <span>"Regione Puglia"</span>
                    <AccountNav />
                </div>
            </div>
            <div class="center-header">
                <div class="container">
                    <p class="service-name">
                        <A href="/">"Traguardi — Fondo Innovazione"</A>
                    </p>
                    <nav aria-label="Sezioni principali">
                        <ul class="main-nav">
                            <li>
                                <A href="/">"Cruscotto"</A>
                            </li>
                            <li>
                                <A href="/comuni">"Comuni"</A>
                            </li>
                        </ul>
                    </nav>
                </div>
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
        <footer class="site-footer">
            <div class="container">
                <p>
                    "Traguardi — monitoraggio del Fondo Innovazione 2020-2021, Regione Puglia."
                </p>
                <p>
                    "Elenco dei comuni e popolazione: ISTAT (licenza CC BY). I dati dei servizi sono quelli registrati in Traguardi."
                </p>
                <p class="visually-hidden">
                    <span
                        id="hydration-status"
                        data-hydrated=move || hydrated.get().to_string()
                    >
                        {move || {
                            if hydrated.get() {
                                "Interfaccia interattiva attiva"
                            } else {
                                "Interfaccia senza JavaScript"
                            }
                        }}
                    </span>
                </p>
            </div>
        </footer>
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
        <Title text="Pagina non trovata" />
        <h1>"Pagina non trovata"</h1>
        <p>"L'indirizzo richiesto non esiste. " <A href="/">"Torna al cruscotto"</A> "."</p>
    }
}

/// An error said in words, in an alert region.
#[component]
pub fn ErrorNotice(error: AppError) -> impl IntoView {
    view! {
        <div class="alert alert-danger" role="alert">
            <p>{error.to_string()}</p>
        </div>
    }
}
