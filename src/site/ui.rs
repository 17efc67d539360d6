//! The pages linked from the footer: accessibility statement, privacy notes, legal notes, the
//! feedback form, and the messages received (the Region only). The statement and the notes are
//! static text; where only the data controller can fill something in, the page says so.

use crate::app::PageHead;
use leptos::{either::Either, prelude::*};
use leptos_router::{components::A, hooks::use_query_map};

use super::{server::list_feedback, ReceivedFeedback, FORM_ID, MAX_MESSAGE, MAX_TASK};
use crate::auth::{
    server::get_form_feedback,
    ui::{ErrorSummary, Field, SignInNeeded},
    FormFeedback,
};

/// When the accessibility statement was written (and last reviewed).
pub const STATEMENT_DATE: &str = "26/11/2026";

/// What only the data controller (Regione Puglia) can fill in, marked as such on the page.
#[component]
fn ToComplete() -> impl IntoView {
    view! { <strong class="da-completare">"da completare a cura del titolare"</strong> }
}

/// `/accessibilita`: the accessibility statement, in the structure of AgID's model.
#[component]
pub fn AccessibilityPage() -> impl IntoView {
    view! {
        <PageHead title="Dichiarazione di accessibilità" description="La dichiarazione di accessibilità di Traguardi." />
        <h1>"Dichiarazione di accessibilità"</h1>
        <p class="lead">
            "Regione Puglia si impegna a rendere accessibile Traguardi, conformemente alla legge 9 gennaio 2004, n. 4 e al decreto legislativo 10 agosto 2018, n. 106, che ha recepito la direttiva (UE) 2016/2102 del Parlamento europeo e del Consiglio."
        </p>
        <p>
            "Questa dichiarazione si applica a Traguardi, il servizio web di monitoraggio del Fondo Innovazione 2020-2021 nei comuni della Puglia."
        </p>

        <h2>"Stato di conformità"</h2>
        <p>
            "Traguardi è " <strong>"parzialmente conforme"</strong>
            " ai requisiti previsti dall'allegato A alla norma UNI CEI EN 301549 (per i contenuti web, le WCAG 2.1 ai livelli A e AA), in ragione dei casi di non conformità e dei limiti elencati sotto."
        </p>
        <p>"Che cosa è stato verificato:"</p>
        <ul>
            <li>
                "controlli automatici con axe-core di tutte le regole WCAG 2.1 di livello A e AA sulle pagine pubbliche, sulla pagina di accesso e su queste pagine, con JavaScript attivo e disattivato, nel browser Chromium, a ogni modifica del software;"
            </li>
            <li>
                "navigazione da tastiera: il collegamento «Vai al contenuto», la visibilità del focus e l'uso dei moduli (filtri, accesso, commenti) senza mouse;"
            </li>
            <li>"il funzionamento di tutte le pagine e di tutti i moduli senza JavaScript;"</li>
            <li>
                "l'adattamento dei contenuti a una larghezza di 320 pixel CSS senza scorrimento orizzontale della pagina, sul cruscotto e sull'elenco dei comuni."
            </li>
        </ul>
        <p>
            "Non sono ancora state svolte una valutazione manuale completa dei criteri WCAG da parte di esperti né prove con persone che usano tecnologie assistive (lettori di schermo, ingranditori): i controlli automatici rilevano solo una parte dei possibili problemi."
        </p>

        <h2>"Contenuti non accessibili"</h2>
        <h3>"Inosservanza della legge 4/2004"</h3>
        <ul>
            <li>
                "Grafici (e mappa dei comuni, dove presente): sono immagini SVG con una didascalia; i loro valori non si esplorano uno per uno con la tastiera o con un lettore di schermo. Gli stessi numeri sono nella tabella «Dati del grafico in tabella» sotto ciascun grafico, nell'elenco dei comuni e nell'esportazione CSV."
            </li>
            <li>
                "Le scritte dentro i grafici crescono con lo zoom della pagina ma non con le sole impostazioni della dimensione del testo del browser."
            </li>
        </ul>
        <h3>"Onere sproporzionato"</h3>
        <p>"Non si invoca alcuna deroga per onere sproporzionato."</p>
        <h3>"Contenuti non soggetti alla normativa"</h3>
        <p>
            "Le pagine del servizio di identità digitale della Regione (SPID, CIE, CNS), raggiunte con il pulsante «Entra con SPID, CIE o CNS», non fanno parte di Traguardi: la loro accessibilità è dichiarata da chi le gestisce."
        </p>

        <h2>"Redazione della dichiarazione di accessibilità"</h2>
        <p>
            "Questa dichiarazione è stata redatta il " {STATEMENT_DATE}
            " sulla base di un'autovalutazione del gruppo di sviluppo di Traguardi, con le verifiche descritte sopra. Va riesaminata a ogni modifica rilevante del servizio e aggiornata ogni anno, come prevedono le Linee guida AgID sull'accessibilità degli strumenti informatici; la dichiarazione ufficiale dell'ente si compila sulla piattaforma di AgID: "
            <ToComplete />
            "."
        </p>

        <h2>"Meccanismo di feedback e informazioni di contatto"</h2>
        <p>
            "Chiunque può segnalare casi di mancata conformità e chiedere le informazioni e i contenuti esclusi o non accessibili, anche in un formato alternativo, con il "
            <A href="/feedback?pagina=/accessibilita">"modulo per inviare un commento"</A>
            " (indica un indirizzo e-mail se desideri una risposta). I messaggi sono letti dai referenti della Regione."
        </p>
        <p>
            "Responsabile per la transizione al digitale della Regione Puglia e recapiti per l'accessibilità: "
            <ToComplete /> "."
        </p>

        <h2>"Procedura di attuazione"</h2>
        <p>
            "In caso di risposta insoddisfacente o di mancata risposta, nel termine di trenta giorni, alla notifica o alla richiesta, l'interessato può inoltrare una segnalazione al Difensore civico per il digitale, istituito ai sensi dell'articolo 17, comma 1-quater del Codice dell'amministrazione digitale, con il modulo disponibile all'indirizzo "
            <a href="https://form.agid.gov.it">"https://form.agid.gov.it"</a> "."
        </p>

        <h2>"Informazioni sul sito"</h2>
        <ul>
            <li>"Data di pubblicazione del sito: " <ToComplete /> "."</li>
            <li>"Test di usabilità: non ancora effettuati."</li>
            <li>
                "Tecnologie: pagine HTML e CSS generate sul server (Rust, Leptos) con lo stile di Bootstrap Italia; JavaScript e WebAssembly migliorano l'interazione ma non sono necessari. Nessun CMS."
            </li>
        </ul>

        <h2>"Informazioni sulla struttura"</h2>
        <p>
            "Numero di dipendenti con disabilità, postazioni di lavoro con tecnologie assistive e formazione sull'accessibilità: "
            <ToComplete /> "."
        </p>
    }
}

/// `/privacy`: what Traguardi stores about people, and why.
#[component]
pub fn PrivacyPage() -> impl IntoView {
    view! {
        <PageHead title="Informativa sulla privacy" description="L'informativa sul trattamento dei dati personali in Traguardi." />
        <h1>"Informativa sul trattamento dei dati personali"</h1>
        <p class="lead">
            "Ai sensi degli articoli 13 e 14 del Regolamento (UE) 2016/679 (GDPR), questa pagina descrive quali dati personali tratta Traguardi, perché e per quanto tempo."
        </p>

        <h2>"Titolare del trattamento"</h2>
        <p>"Regione Puglia. Indirizzo e recapiti del titolare: " <ToComplete /> "."</p>
        <h2>"Responsabile della protezione dei dati"</h2>
        <p>"Recapiti del responsabile della protezione dei dati (RPD/DPO): " <ToComplete /> "."</p>

        <h2>"Quali dati tratta Traguardi"</h2>
        <h3>"Chi consulta le pagine pubbliche"</h3>
        <p>
            "Il cruscotto, l'elenco e le schede dei comuni, l'esportazione CSV e queste pagine si consultano senza accedere e senza cookie. Traguardi non usa cookie di profilazione né strumenti di analisi statistica (analytics) e non carica nulla da siti terzi: caratteri, stili e icone sono serviti da Traguardi stesso."
        </p>
        <p>
            "L'indirizzo IP di chi invia un modulo (accesso, commenti) è usato solo nella memoria del server, per limitare i tentativi ripetuti, e non è registrato nella base dati."
        </p>
        <h3>"Il personale che accede"</h3>
        <p>
            "Per i referenti della Regione e dei comuni e per gli assessori registrati: nome e cognome, indirizzo e-mail, codice fiscale (facoltativo: serve a riconoscere chi accede con SPID, CIE o CNS tramite il servizio di identità della Regione), ruolo e comuni di competenza, l'impronta (hash argon2id) della password se ne è stata impostata una, mai la password, e le date di creazione e di disattivazione dell'account."
        </p>
        <p>
            "Per ogni accesso, una sessione sul server: l'impronta (SHA-256) del codice di sessione, l'ora di inizio e dell'ultimo utilizzo, il metodo di accesso e, per l'accesso con identità digitale, il token d'identità rilasciato dal servizio della Regione, usato solo per la disconnessione. Una sessione termina all'uscita, dopo 30 minuti di inattività o 12 ore dopo l'accesso (valori predefiniti) ed è cancellata entro dieci minuti dalla scadenza."
        </p>
        <h3>"Chi invia un commento"</h3>
        <p>
            "Il messaggio, la risposta facoltativa a «Cosa stavi cercando di fare?», la valutazione facoltativa, la pagina da cui è partito il commento, la data e l'ora e, solo se lo indichi, l'indirizzo e-mail per la risposta. Non sono registrati l'indirizzo IP né l'account di chi scrive. Non inserire nel messaggio dati personali che non servono."
        </p>

        <h2>"Cookie"</h2>
        <p>
            "Traguardi usa solo cookie tecnici, necessari al servizio, per i quali non occorre il consenso. Nessun cookie di profilazione, di analisi statistica o di terze parti."
        </p>
        <div class="table-wrap">
            <table class="table">
                <caption>"Cookie usati da Traguardi"</caption>
                <thead>
                    <tr>
                        <th scope="col">"Nome"</th>
                        <th scope="col">"A cosa serve"</th>
                        <th scope="col">"Durata"</th>
                    </tr>
                </thead>
                <tbody>
                    <tr>
                        <th scope="row">
                            <code>"traguardi_sessione"</code>
                            " (su https "
                            <code>"__Host-traguardi_sessione"</code>
                            ")"
                        </th>
                        <td>"Mantiene l'accesso del personale registrato; è impostato solo dopo l'accesso."</td>
                        <td>"Fino all'uscita, alla chiusura del browser o alla scadenza della sessione."</td>
                    </tr>
                    <tr>
                        <th scope="row">
                            <code>"traguardi_oidc"</code>
                            " (su https "
                            <code>"__Host-traguardi_oidc"</code>
                            ")"
                        </th>
                        <td>
                            "Lega il ritorno dal servizio di identità digitale al browser che ha iniziato l'accesso."
                        </td>
                        <td>"Fino al termine dell'accesso (al massimo 10 minuti)."</td>
                    </tr>
                </tbody>
            </table>
        </div>

        <h2>"Finalità e base giuridica"</h2>
        <p>
            "I dati servono a monitorare il Fondo Innovazione, a consentire l'accesso al solo personale autorizzato e a migliorare il servizio con i commenti ricevuti, nell'esecuzione di compiti di interesse pubblico del titolare (articolo 6, paragrafo 1, lettera e) del GDPR). Conferma della base giuridica e degli atti di riferimento: "
            <ToComplete /> "."
        </p>

        <h2>"Per quanto tempo"</h2>
        <ul>
            <li>"Sessioni: fino alla scadenza, come descritto sopra."</li>
            <li>
                "Account: finché la persona svolge il suo incarico; un account disattivato resta registrato con la data di disattivazione. Periodo di conservazione dopo la disattivazione: "
                <ToComplete /> "."
            </li>
            <li>"Commenti: " <ToComplete /> "."</li>
        </ul>

        <h2>"Chi vede i dati"</h2>
        <p>
            "Gli account sono visibili ai referenti della Regione (pagina Utenti); i referenti di un comune sono visibili anche a chi può leggere i dati riservati di quel comune (i suoi referenti, gli assessori e la Regione). I commenti sono letti solo dai referenti della Regione. Eventuali responsabili del trattamento, come il gestore tecnico del servizio: "
            <ToComplete /> "."
        </p>

        <h2>"I tuoi diritti"</h2>
        <p>
            "Puoi chiedere al titolare l'accesso ai tuoi dati, la rettifica, la cancellazione, la limitazione del trattamento od opporti al trattamento (articoli 15-22 del GDPR). Se ritieni che il trattamento violi il GDPR puoi proporre reclamo al Garante per la protezione dei dati personali ("
            <a href="https://www.garanteprivacy.it">"www.garanteprivacy.it"</a> ")."
        </p>
    }
}

/// `/note-legali`: licences of the data and of the software, credits, no liability.
#[component]
pub fn LegalNotesPage() -> impl IntoView {
    view! {
        <PageHead title="Note legali" description="Note legali di Traguardi: licenza dei dati e fonti." />
        <h1>"Note legali"</h1>

        <h2>"Titolarità"</h2>
        <p>
            "Traguardi è il servizio di Regione Puglia per il monitoraggio del Fondo Innovazione 2020-2021 nei comuni pugliesi."
        </p>

        <h2>"Licenza dei dati"</h2>
        <p>
            "I dati aperti pubblicati da Traguardi (le cifre del cruscotto, l'elenco dei comuni con il loro stato e l'esportazione "
            <a href="/export/comuni.csv">"comuni.csv"</a> ") sono rilasciati con licenza "
            <a href="https://creativecommons.org/licenses/by/4.0/deed.it" hreflang="it">
                "Creative Commons Attribuzione 4.0 Internazionale (CC BY 4.0)"
            </a>
            ": si possono riutilizzare, anche per fini commerciali, citando la fonte «Regione Puglia – Traguardi» e le fonti indicate sotto."
        </p>
        <p>
            "Quando la base dati contiene i dati dimostrativi (ogni pagina lo segnala con «Dati dimostrativi»), solo i totali seguono il comunicato stampa della Regione: i singoli comuni, i servizi e le date sono illustrativi e non vanno riutilizzati come dati reali."
        </p>

        <h2>"Fonti e crediti"</h2>
        <ul>
            <li>
                "Elenco dei comuni, codici e popolazione residente: ISTAT, licenza Creative Commons Attribuzione (CC BY)."
            </li>
            <li>
                "Confini dei comuni e delle province, per la mappa: Openpolis su dati ISTAT, licenza CC BY 4.0 (credito «ISTAT, Openpolis»)."
            </li>
            <li>
                "Aspetto grafico: Bootstrap Italia (Designers Italia), licenza BSD-3-Clause; caratteri Titillium Web (SIL Open Font License 1.1) e Roboto Mono (Apache License 2.0)."
            </li>
        </ul>

        <h2>"Licenza del software"</h2>
        <p>
            "Licenza del codice di Traguardi: " <ToComplete />
            ". Il software usa componenti aperti, ciascuno con la propria licenza."
        </p>

        <h2>"Esclusione di responsabilità"</h2>
        <p>
            "Regione Puglia cura l'esattezza e l'aggiornamento dei contenuti, ma non garantisce che siano completi, privi di errori o sempre disponibili: le cifre derivano dai dati registrati in Traguardi e dalle regole del programma descritte nelle schede dei comuni. Fanno fede gli atti ufficiali del programma. Regione Puglia non risponde di danni derivanti dall'uso dei contenuti o dall'impossibilità di accedervi, né dei contenuti dei siti esterni collegati."
        </p>
    }
}

/// `/feedback`: the feedback form (`POST /feedback`, see `site::routes`), its errors when refused
/// and the thanks when stored (`?inviato=1`).
#[component]
pub fn FeedbackPage() -> impl IntoView {
    let query = use_query_map();
    let feedback = Resource::new(|| (), |_| get_form_feedback());
    let sent = move || query.with(|q| q.get("inviato").is_some());
    let page_from_query = move || query.with(|q| super::page_path(&q.get("pagina").unwrap_or_default()));
    view! {
        <PageHead title="Invia un commento" description="Inviare un commento o segnalare un problema su Traguardi." />
        <h1>"Invia un commento"</h1>
        <Show
            when=sent
            fallback=move || {
                view! {
                    <p>
                        "Hai trovato un errore, qualcosa di poco chiaro o un ostacolo all'accessibilità? Scrivici: i messaggi sono letti dai referenti della Regione Puglia."
                    </p>
                    <Suspense fallback=|| ()>
                        {move || Suspend::new(async move {
                            let feedback = feedback.await.ok().flatten().filter(|f| f.form == FORM_ID);
                            let page = feedback
                                .as_ref()
                                .map(|f| f.value("pagina"))
                                .unwrap_or_else(page_from_query);
                            view! { <FeedbackFormView feedback page /> }
                        })}
                    </Suspense>
                }
            }
        >
            <div class="alert alert-success" role="status">
                <p>"Grazie, il tuo messaggio è stato ricevuto."</p>
            </div>
            <p>
                <A href="/">"Torna al cruscotto"</A>
            </p>
        </Show>
    }
}

#[component]
fn FeedbackFormView(feedback: Option<FormFeedback>, page: String) -> impl IntoView {
    let value = |name: &str| feedback.as_ref().map(|f| f.value(name)).unwrap_or_default();
    let error = |name: &str| feedback.as_ref().and_then(|f| f.error(name));
    let rating = value("valutazione");
    let rating_error = error("valutazione");
    let message = value("messaggio");
    let message_error = error("messaggio");
    let message_described =
        if message_error.is_some() { "messaggio-aiuto messaggio-errore" } else { "messaggio-aiuto" };
    let shown_page = page.clone();
    view! {
        {feedback.clone().map(|f| view! { <ErrorSummary feedback=f /> })}
        <form method="post" action="/feedback" class="modulo" novalidate>
            <input type="hidden" name="pagina" value=page />
            {(!shown_page.is_empty())
                .then(|| {
                    view! {
                        <p class="aiuto">"Il commento riguarda la pagina " <code>{shown_page}</code> "."</p>
                    }
                })}
            <Field
                name="attivita"
                label="Cosa stavi cercando di fare?"
                hint=format!("Facoltativo, al massimo {MAX_TASK} caratteri.")
                feedback=feedback.clone()
            />
            <fieldset
                class="campo valutazione"
                class:campo-errore=rating_error.is_some()
                id="valutazione"
                aria-describedby=rating_error.is_some().then_some("valutazione-errore")
            >
                <legend>"Quanto è stato facile trovare quello che cercavi? (facoltativo)"</legend>
                {rating_error
                    .clone()
                    .map(|e| view! { <p class="errore-campo" id="valutazione-errore">{format!("Errore: {e}")}</p> })}
                <div class="scelte">
                    {(1..=5)
                        .map(|n| {
                            let id = format!("valutazione-{n}");
                            let label = match n {
                                1 => "1 – molto difficile",
                                5 => "5 – molto facile",
                                2 => "2",
                                3 => "3",
                                _ => "4",
                            };
                            view! {
                                <div class="form-check form-check-inline">
                                    <input
                                        type="radio"
                                        name="valutazione"
                                        id=id.clone()
                                        value=n.to_string()
                                        checked=rating == n.to_string()
                                    />
                                    <label for=id>{label}</label>
                                </div>
                            }
                        })
                        .collect_view()}
                </div>
            </fieldset>
            <div class="campo" class:campo-errore=message_error.is_some()>
                <label for="messaggio">"Il tuo messaggio (obbligatorio)"</label>
                <p class="aiuto" id="messaggio-aiuto">
                    {format!("Al massimo {MAX_MESSAGE} caratteri. Non scrivere dati personali che non servono.")}
                </p>
                {message_error
                    .clone()
                    .map(|e| view! { <p class="errore-campo" id="messaggio-errore">{format!("Errore: {e}")}</p> })}
                <MessageArea message invalid=message_error.is_some() described=message_described />
            </div>
            <Field
                name="email"
                label="Indirizzo e-mail per una risposta"
                kind="email"
                autocomplete="email"
                hint="Facoltativo: lascialo vuoto se non desideri una risposta.".to_string()
                feedback=feedback.clone()
            />
            <button type="submit" class="btn btn-primary">"Invia il commento"</button>
        </form>
    }
}

/// The message's textarea, holding what was typed. Its value is its content, and the server renders
/// an empty text child as a single space (which would become the value): none when empty.
#[component]
fn MessageArea(message: String, invalid: bool, described: &'static str) -> impl IntoView {
    let invalid = invalid.then_some("true");
    if message.is_empty() {
        Either::Left(view! {
            <textarea
                id="messaggio"
                name="messaggio"
                rows="6"
                required
                aria-invalid=invalid
                aria-describedby=described
            ></textarea>
        })
    } else {
        Either::Right(view! {
            <textarea
                id="messaggio"
                name="messaggio"
                rows="6"
                required
                aria-invalid=invalid
                aria-describedby=described
            >
                {message}
            </textarea>
        })
    }
}

/// `/feedback/ricevuti`: the messages, newest first and a page at a time, for the Region.
#[component]
pub fn FeedbackReceivedPage() -> impl IntoView {
    let query = leptos_router::hooks::use_query_map();
    let list = Resource::new(move || query.with(|q| q.get("pagina").unwrap_or_default()), list_feedback);
    view! {
        <PageHead title="Commenti ricevuti" description="I commenti ricevuti dagli utenti di Traguardi." />
        <h1>"Commenti ricevuti"</h1>
        <Suspense fallback=|| view! { <p>"Caricamento dei commenti…"</p> }>
            {move || Suspend::new(async move {
                match list.await {
                    Ok(list) => view! { <ReceivedList list /> }.into_any(),
                    Err(error) => view! { <SignInNeeded error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn ReceivedList(list: crate::paging::Paged<ReceivedFeedback>) -> impl IntoView {
    let crate::paging::Paged { items: list, page, pages, total } = list;
    if list.is_empty() {
        return view! { <p>"Nessun commento ricevuto."</p> }.into_any();
    }
    let count = match total {
        1 => "1 commento ricevuto.".to_string(),
        n => format!("{} commenti ricevuti, dal più recente.", crate::format::int(n as i64)),
    };
    let range = crate::paging::range_words(page, list.len(), total);
    let count = if range.is_empty() { count } else { format!("{count} {range}") };
    view! {
        <p role="status">{count}</p>
        <div class="table-wrap">
            <table class="table">
                <caption>"Commenti ricevuti, dal più recente"</caption>
                <thead>
                    <tr>
                        <th scope="col">"Ricevuto"</th>
                        <th scope="col">"Pagina"</th>
                        <th scope="col">"Cosa stava cercando di fare"</th>
                        <th scope="col">"Valutazione"</th>
                        <th scope="col">"Messaggio"</th>
                        <th scope="col">"E-mail"</th>
                    </tr>
                </thead>
                <tbody>
                    {list
                        .into_iter()
                        .map(|f| {
                            view! {
                                <tr>
                                    <td class="text-nowrap">{f.received}</td>
                                    <td>{if f.page.is_empty() { "–".to_string() } else { f.page }}</td>
                                    <td>{f.task.unwrap_or_else(|| "–".into())}</td>
                                    <td class="num">{f.rating.map(|r| format!("{r} su 5")).unwrap_or_else(|| "–".into())}</td>
                                    <td class="testo-messaggio">{f.message}</td>
                                    <td>{f.email.unwrap_or_else(|| "–".into())}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
        <crate::paging::Pager page pages href=|p: usize| crate::paging::href("/feedback/ricevuti", "", p) />
    }
    .into_any()
}
