//! The review form (`POST /evidenze/{id}/esame`) and the download (`GET /evidenze/{id}/file`).
//! The upload is in [`super::upload`].

use axum::{
    body::Body,
    extract::{Path as UrlPath, Request, State},
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Redirect, Response},
};
use object_store::{path::Path, ObjectStoreExt};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use super::validate_review;
use crate::{
    auth::{
        may_read_private,
        routes::{render_page_with, split_form},
        FieldError, FormFeedback, Role,
    },
    data::{
        evidence::{self, NewReview},
        workspace::{write_tx, WriteError},
    },
    error::AppError,
    state::AppState,
    workspace::Fields,
};

fn not_found() -> AppError {
    AppError::not_found("Evidenza non trovata: il file non esiste o non è accessibile con il tuo profilo.")
}

/// `POST /evidenze/{id}/esame`: the Region's review. Saved → back to the comune's evidence page
/// (or to the queue, when the form came from it); refused → the page again with the messages.
pub async fn review(State(state): State<AppState>, UrlPath(id): UrlPath<i64>, req: Request) -> Response {
    let (parts, fields) = match split_form::<Fields>(&state, req).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let Some(user) = crate::auth::session::viewer_of(&parts.extensions) else {
        return AppError::sign_in_required().into_response();
    };
    if user.role != Role::Regione {
        return AppError::Forbidden("Solo i referenti della Regione esaminano le evidenze.".into())
            .into_response();
    }
    let row = match evidence::get(&state.db, id).await {
        Ok(Some(row)) => row,
        Ok(None) => return not_found().into_response(),
        Err(e) => return AppError::from(e).into_response(),
    };
    let from_queue = fields.get("ritorno").is_some_and(|r| r == "coda");
    let page = if from_queue { "/evidenze".to_string() } else { format!("/comuni/{}/evidenze", row.comune) };
    let form = format!("esame-{id}");
    let refuse = |errors: Vec<FieldError>, message: String, status: StatusCode| {
        let feedback = FormFeedback {
            form: form.clone(),
            message,
            errors,
            values: fields.clone().into_iter().collect(),
        };
        let (state, parts, page) = (state.clone(), parts.clone(), page.clone());
        async move { render_page_with(&state, &parts, &page, feedback, status).await }
    };
    let values = match validate_review(
        fields.get("esito").map(String::as_str),
        fields.get("motivo").map(String::as_str),
        fields.get("ultima").map(String::as_str),
    ) {
        Ok(v) => v,
        Err(errors) => {
            return refuse(
                errors,
                "L'esame non è stato salvato: correggi i campi indicati.".into(),
                StatusCode::BAD_REQUEST,
            )
            .await
        }
    };
    let new = NewReview {
        evidence: id,
        outcome: values.outcome,
        reason: values.reason,
        expected_last_review: values.expected_last_review,
    };
    let db = &state.db;
    match write_tx!(db, tx => tx.review_in(&user.email, &new).await?) {
        Ok(row) => {
            tracing::info!(evidence = id, outcome = new.outcome.code(), "evidence reviewed");
            let anchor = format!("evidenza-{id}");
            if from_queue {
                Redirect::to(&format!("/evidenze?esaminata={id}")).into_response()
            } else {
                Redirect::to(&format!("/comuni/{}/evidenze?esaminata={id}#{anchor}", row.comune)).into_response()
            }
        }
        Err(WriteError::Conflict) => {
            refuse(
                Vec::new(),
                "L'esame non è stato salvato: un altro referente ha esaminato questa evidenza dopo che hai aperto la \
                 pagina. Leggi il suo esito qui sotto e, se serve, esamina di nuovo."
                    .into(),
                StatusCode::CONFLICT,
            )
            .await
        }
        Err(WriteError::Duplicate(field, message) | WriteError::Refused(field, message)) => {
            refuse(
                vec![FieldError { field: field.into(), message }],
                "L'esame non è stato salvato.".into(),
                StatusCode::CONFLICT,
            )
            .await
        }
        Err(WriteError::NotFound) => not_found().into_response(),
        Err(WriteError::Db(e)) => AppError::from(e).into_response(),
    }
}

/// Characters kept as they are in an RFC 5987 `filename*` value.
const ATTR_CHAR: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'!')
    .remove(b'#')
    .remove(b'$')
    .remove(b'&')
    .remove(b'+')
    .remove(b'-')
    .remove(b'.')
    .remove(b'^')
    .remove(b'_')
    .remove(b'`')
    .remove(b'|')
    .remove(b'~');

/// `attachment` with the original name: an ASCII fallback for old clients and the exact name
/// in UTF-8 (RFC 6266). Quotes, backslashes and non-ASCII never reach the quoted form.
pub fn content_disposition(file_name: &str) -> String {
    let fallback: String = file_name
        .chars()
        .map(|c| if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' { c } else { '_' })
        .collect();
    format!(
        "attachment; filename=\"{fallback}\"; filename*=UTF-8''{}",
        utf8_percent_encode(file_name, ATTR_CHAR)
    )
}

/// `GET /evidenze/{id}/file`: the Region, assessors and the comune's own users; every download
/// is written in the audit trail before a byte is sent. Served as an attachment with the
/// stored type and `nosniff`, so a browser never renders it in the site's origin.
pub async fn download(State(state): State<AppState>, UrlPath(id): UrlPath<i64>, req: Request) -> Response {
    let Some(user) = crate::auth::session::viewer_of(req.extensions()) else {
        return AppError::sign_in_required().into_response();
    };
    let row = match evidence::get(&state.db, id).await {
        Ok(Some(row)) if may_read_private(Some(&user), &row.comune) => row,
        Ok(_) => return not_found().into_response(),
        Err(e) => return AppError::from(e).into_response(),
    };
    let object = match state.evidence.store.get(&Path::from(row.storage_key.as_str())).await {
        Ok(o) => o,
        Err(e) => {
            tracing::error!(error = %e, evidence = id, "evidence file missing from the store");
            return AppError::INTERNAL.into_response();
        }
    };
    if let Err(e) = evidence::record_download(&state.db, &user.email, &row).await {
        return AppError::from(e).into_response();
    }
    let content_type = super::sniff::Kind::from_content_type(&row.content_type)
        .map(|k| k.content_type())
        .unwrap_or("application/octet-stream");
    let mut response = Body::from_stream(object.into_stream()).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(&content_disposition(&row.file_name)) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(row.size_bytes));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    response
}

#[cfg(test)]
mod tests {
    use super::content_disposition;

    #[test]
    fn the_download_name_is_quoted_safely_and_kept_exactly_in_utf8() {
        assert_eq!(
            content_disposition("Delibera n. 12.pdf"),
            "attachment; filename=\"Delibera n. 12.pdf\"; filename*=UTF-8''Delibera%20n.%2012.pdf"
        );
        let tricky = content_disposition("verbale \"finale\"\\città.pdf");
        assert!(tricky.starts_with("attachment; filename=\"verbale _finale__citt_.pdf\";"));
        assert!(tricky.ends_with("filename*=UTF-8''verbale%20%22finale%22%5Ccitt%C3%A0.pdf"));
    }
}
