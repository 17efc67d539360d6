//! `/opendata/catalogo.rdf`: the catalogue as DCAT-AP_IT metadata in RDF/XML, the profile the
//! national portal dati.gov.it harvests. The triples are built here from [`datasets`] and
//! written by oxrdfxml (Oxigraph's RDF/XML serialiser), so the XML is well formed and escaped
//! whatever the titles hold.
//!
//! Classes and properties follow DCAT-AP_IT 1.1 (dati.gov.it/onto/dcatapit): a
//! `dcatapit:Catalog` with its publisher and datasets; each `dcatapit:Dataset` with identifier,
//! title, description, modification date, theme, frequency, rights holder, publisher and
//! contact point; each `dcatapit:Distribution` with format, licence and access URL. Controlled
//! vocabularies are the EU authority tables (data-theme, file-type, frequency, language).
//! Beyond the mandatory properties, those DCAT-AP recommends: the catalogue's issue date,
//! licence and territory; each dataset's territory (`dct:spatial`, a `dct:Location` named by
//! its IRI in the national vocabulary) and period (`dct:temporal`, from the programme's start
//! to the data's last change); each distribution's description and its media type as the IRI
//! of its IANA registration (a literal fails the profile's shapes).

use axum::{
    extract::State,
    http::header,
    response::{IntoResponse, Response},
};
use chrono::NaiveDate;
use oxrdf::{vocab, Literal, NamedNode, Term, Triple};
use oxrdfxml::RdfXmlSerializer;

use super::{
    datasets, Dataset, LICENCE_NAME, LICENCE_URL, PUBLISHER_IPA, PUBLISHER_NAME, TERRITORY_IRI,
    TERRITORY_NAME,
};
use crate::{error::AppError, state::AppState};

pub const DCAT: &str = "http://www.w3.org/ns/dcat#";
pub const DCATAPIT: &str = "http://dati.gov.it/onto/dcatapit#";
pub const DCT: &str = "http://purl.org/dc/terms/";
pub const FOAF: &str = "http://xmlns.com/foaf/0.1/";
pub const VCARD: &str = "http://www.w3.org/2006/vcard/ns#";
pub const OWL: &str = "http://www.w3.org/2002/07/owl#";
const AUTHORITY: &str = "http://publications.europa.eu/resource/authority/";

/// The dates the catalogue states: they come from the data, not from the code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dates {
    /// First published: the day of the trail's first entry (the data's first load).
    pub issued: NaiveDate,
    /// Last changed ([`crate::data::opendata::last_change`]).
    pub modified: NaiveDate,
    /// The period the data cover: the programme's first day to the last change.
    pub from: NaiveDate,
    pub to: NaiveDate,
}

/// The catalogue's triples, for a site reachable at `base` (`https://…`, no trailing slash).
/// No blank nodes: every resource has an IRI on this site, so harvesters can refer to it.
pub fn triples(base: &str, dates: Dates) -> Result<Vec<Triple>, oxrdf::IriParseError> {
    let iri = |s: String| NamedNode::new(s);
    let term = |ns: &str, local: &str| NamedNode::new_unchecked(format!("{ns}{local}"));
    let it = |s: &str| Term::from(Literal::new_language_tagged_literal_unchecked(s, "it"));
    let plain = |s: &str| Term::from(Literal::new_simple_literal(s));
    let day = |d: NaiveDate| {
        Term::from(Literal::new_typed_literal(d.format("%Y-%m-%d").to_string(), vocab::xsd::DATE))
    };
    let date = day(dates.modified);
    let page = iri(format!("{base}/opendata"))?;
    let territory = iri(format!("{base}/opendata#territorio"))?;
    let period = iri(format!("{base}/opendata#periodo"))?;
    let catalog = iri(format!("{base}/opendata#catalogo"))?;
    let agent = iri(format!("{base}/opendata#{PUBLISHER_IPA}"))?;
    let contact = iri(format!("{base}/opendata#contatto"))?;
    let licence = iri(LICENCE_URL.to_string())?;
    let italian = term(AUTHORITY, "language/ITA");

    let mut t = Vec::new();
    let mut add = |s: &NamedNode, p: NamedNode, o: Term| t.push(Triple::new(s.clone(), p, o));
    let a = || NamedNode::from(vocab::rdf::TYPE);

    add(&catalog, a(), term(DCATAPIT, "Catalog").into());
    add(&catalog, a(), term(DCAT, "Catalog").into());
    add(&catalog, term(DCT, "title"), it("Traguardi — dati aperti del Fondo Innovazione"));
    add(
        &catalog,
        term(DCT, "description"),
        it("I dati pubblici di Traguardi, il monitoraggio del Fondo Innovazione 2020-2021 nei comuni della Puglia."),
    );
    add(&catalog, term(DCT, "publisher"), agent.clone().into());
    add(&catalog, term(DCT, "issued"), day(dates.issued));
    add(&catalog, term(DCT, "modified"), date.clone());
    add(&catalog, term(DCT, "language"), italian.clone().into());
    add(&catalog, term(DCT, "license"), licence.clone().into());
    add(&catalog, term(DCT, "spatial"), territory.clone().into());
    add(&catalog, term(FOAF, "homepage"), page.clone().into());
    add(&catalog, term(DCAT, "themeTaxonomy"), term(AUTHORITY, "data-theme").into());
    // Listed here, with the catalogue's other properties, so it is written as one element.
    for d in datasets() {
        add(&catalog, term(DCAT, "dataset"), iri(format!("{base}/opendata#{}", d.id))?.into());
    }

    add(&agent, a(), term(DCATAPIT, "Agent").into());
    add(&agent, a(), term(FOAF, "Agent").into());
    add(&agent, term(DCT, "identifier"), plain(PUBLISHER_IPA));
    add(&agent, term(FOAF, "name"), it(PUBLISHER_NAME));

    add(&contact, a(), term(DCATAPIT, "Organization").into());
    add(&contact, a(), term(VCARD, "Organization").into());
    add(&contact, term(VCARD, "fn"), it("Regione Puglia — Traguardi"));
    add(&contact, term(VCARD, "hasURL"), iri(format!("{base}/feedback"))?.into());

    add(&licence, a(), term(DCATAPIT, "LicenseDocument").into());
    add(&licence, a(), term(DCT, "LicenseDocument").into());
    add(&licence, term(DCT, "type"), iri("http://purl.org/adms/licencetype/Attribution".into())?.into());
    add(&licence, term(FOAF, "name"), it(LICENCE_NAME));

    add(&territory, a(), term(DCT, "Location").into());
    add(&territory, term(DCATAPIT, "geographicalName"), it(TERRITORY_NAME));
    add(&territory, term(DCATAPIT, "geographicalIdentifier"), plain(TERRITORY_IRI));
    add(&territory, term(OWL, "sameAs"), iri(TERRITORY_IRI.to_string())?.into());

    add(&period, a(), term(DCT, "PeriodOfTime").into());
    add(&period, term(DCAT, "startDate"), day(dates.from));
    add(&period, term(DCAT, "endDate"), day(dates.to));

    let mut media_types: Vec<String> =
        datasets().iter().flat_map(|d| d.distributions.iter().map(|x| x.format.media_type_iri())).collect();
    media_types.sort_unstable();
    media_types.dedup();
    for m in media_types {
        add(&iri(m)?, a(), term(DCT, "MediaType").into());
    }

    for d in datasets() {
        let Dataset { id, title, description, keywords, distributions } = d;
        let ds = iri(format!("{base}/opendata#{id}"))?;
        add(&ds, a(), term(DCATAPIT, "Dataset").into());
        add(&ds, a(), term(DCAT, "Dataset").into());
        add(&ds, term(DCT, "identifier"), plain(&format!("{PUBLISHER_IPA}:traguardi-{id}")));
        add(&ds, term(DCT, "title"), it(&title));
        add(&ds, term(DCT, "description"), it(&description));
        add(&ds, term(DCT, "modified"), date.clone());
        add(&ds, term(DCAT, "theme"), term(AUTHORITY, "data-theme/GOVE").into());
        add(&ds, term(DCT, "accrualPeriodicity"), term(AUTHORITY, "frequency/UPDATE_CONT").into());
        add(&ds, term(DCT, "language"), italian.clone().into());
        add(&ds, term(DCT, "rightsHolder"), agent.clone().into());
        add(&ds, term(DCT, "publisher"), agent.clone().into());
        add(&ds, term(DCAT, "contactPoint"), contact.clone().into());
        add(&ds, term(DCAT, "landingPage"), page.clone().into());
        add(&ds, term(DCT, "spatial"), territory.clone().into());
        add(&ds, term(DCT, "temporal"), period.clone().into());
        for k in &keywords {
            add(&ds, term(DCAT, "keyword"), it(k));
        }
        for x in &distributions {
            add(&ds, term(DCAT, "distribution"), iri(format!("{base}/opendata#{}", x.id))?.into());
        }
        for x in distributions {
            let dist = iri(format!("{base}/opendata#{}", x.id))?;
            let url: Term = iri(format!("{base}{}", x.path))?.into();
            add(&dist, a(), term(DCATAPIT, "Distribution").into());
            add(&dist, a(), term(DCAT, "Distribution").into());
            add(&dist, term(DCT, "title"), it(&x.title));
            add(&dist, term(DCT, "description"), it(&x.description));
            add(
                &dist,
                term(DCT, "format"),
                term(AUTHORITY, &format!("file-type/{}", x.format.eu_code())).into(),
            );
            add(&dist, term(DCAT, "mediaType"), iri(x.format.media_type_iri())?.into());
            add(&dist, term(DCT, "license"), licence.clone().into());
            add(&dist, term(DCAT, "accessURL"), url.clone());
            if x.download {
                add(&dist, term(DCAT, "downloadURL"), url);
            }
            add(&dist, term(DCT, "modified"), date.clone());
        }
    }
    Ok(t)
}

/// The catalogue as RDF/XML.
pub fn rdf_xml(base: &str, dates: Dates) -> anyhow::Result<Vec<u8>> {
    let mut w = RdfXmlSerializer::new()
        .with_prefix("dcat", DCAT)?
        .with_prefix("dcatapit", DCATAPIT)?
        .with_prefix("dct", DCT)?
        .with_prefix("foaf", FOAF)?
        .with_prefix("vcard", VCARD)?
        .with_prefix("owl", OWL)?
        .for_writer(Vec::new());
    for t in triples(base, dates)? {
        w.serialize_triple(&t)?;
    }
    Ok(w.finish()?)
}

/// `GET /opendata/catalogo.rdf`.
pub async fn catalogue(State(state): State<AppState>) -> Result<Response, AppError> {
    let snapshot = state.snapshot().await?;
    let modified = crate::data::opendata::last_change(&state.db).await?.unwrap_or(snapshot.as_of);
    let issued = crate::data::opendata::first_change(&state.db).await?.unwrap_or(modified);
    let from = snapshot.programme.start;
    let dates = Dates { issued, modified, from, to: modified.max(from) };
    let base = state.auth.config.public_url.trim_end_matches('/').to_string();
    let body = rdf_xml(&base, dates).map_err(|e| {
        tracing::error!(error = %e, base, "the DCAT-AP_IT catalogue could not be written");
        AppError::INTERNAL
    })?;
    Ok(([(header::CONTENT_TYPE, "application/rdf+xml; charset=utf-8")], body).into_response())
}
