//! Bounds on a `multipart/form-data` body, enforced on the raw bytes as they arrive, before the
//! parser buffers any of them.
//!
//! `multer` keeps in memory everything from the start of a framing element to its end: the
//! bytes before the first boundary (it looks for the boundary in a buffer that only grows) and a
//! part's header block (until its blank line). A body with no boundary at all, or a header that
//! never ends, would be held whole; and it parses any number of parts. Its own `Constraints`
//! bound sizes only (the whole stream, each field), and its whole-stream bound counts what it has
//! already buffered. [`Framing`] follows multer's grammar on the stream itself — the first
//! `--boundary`, `--` (the end) or transport padding and a line end, the header block up to
//! `\r\n\r\n`, the data up to `\r\n--boundary` — and refuses, before the chunk reaches the parser:
//! a body longer than its bound, a preamble or a header block longer than theirs, one part too
//! many, or bytes after a boundary that are neither `--` nor a line end. Data is never held: only
//! the last few bytes of a chunk are kept, in case a boundary straddles two chunks.

use axum::http::StatusCode;
use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use memchr::memmem::Finder;

/// Bytes before the first boundary, the boundary line included (browsers send none).
pub const PREAMBLE_BYTES: usize = 16 * 1024;
/// One part's header block, its blank line included: room for a file name of a few thousand
/// characters (the upload refuses names over 255 with a message of its own).
pub const HEADER_BYTES: usize = 16 * 1024;
/// Parts in a form: the site's upload forms have one or two fields.
pub const MAX_PARTS: usize = 16;

/// What a form's body may be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bounds {
    /// The whole body.
    pub body: u64,
    /// The preamble with the first boundary line.
    pub preamble: usize,
    /// One part's header block.
    pub header: usize,
    /// The number of parts.
    pub parts: usize,
}

impl Bounds {
    /// A form of at most `body` bytes, with the default framing bounds.
    pub fn form(body: u64) -> Bounds {
        Bounds { body, preamble: PREAMBLE_BYTES, header: HEADER_BYTES, parts: MAX_PARTS }
    }
}

/// Why a body was refused before it was parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Violation {
    #[error("the body is longer than {0} bytes")]
    TooLarge(u64),
    #[error("no boundary in the first {0} bytes")]
    NoBoundary(usize),
    #[error("a part's header block is longer than {0} bytes")]
    HeaderTooLong(usize),
    #[error("more than {0} parts")]
    TooManyParts(usize),
    #[error("a boundary followed by neither a line end nor --")]
    Malformed,
}

impl Violation {
    /// 413 for a body too large or with too many parts, 400 for a malformed one.
    pub fn status(self) -> StatusCode {
        match self {
            Violation::TooLarge(_) | Violation::TooManyParts(_) => StatusCode::PAYLOAD_TOO_LARGE,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    /// The Italian sentence for the person (the routes say "too large" their own way).
    pub fn message(self) -> String {
        match self {
            Violation::TooLarge(n) => format!(
                "Il modulo inviato supera il limite di {} MB: non è stato salvato nulla.",
                crate::evidence::progress::megabytes(n)
            ),
            Violation::TooManyParts(n) => {
                format!("Il modulo inviato contiene troppi campi (più di {n}): non è stato salvato nulla.")
            }
            Violation::NoBoundary(_) | Violation::HeaderTooLong(_) | Violation::Malformed => {
                "Il modulo inviato non è leggibile: ricarica la pagina e riprova.".to_string()
            }
        }
    }
}

/// What the body stream gives the parser instead of a chunk: a refusal or a read error.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    #[error("{0}")]
    Refused(Violation),
    #[error("the request body could not be read: {0}")]
    Read(String),
}

/// The refusal behind a parser's error, if the guard caused it.
pub fn violation(error: &multer::Error) -> Option<Violation> {
    match error {
        multer::Error::StreamReadFailed(inner) => match inner.downcast_ref::<BodyError>() {
            Some(BodyError::Refused(v)) => Some(*v),
            _ => None,
        },
        _ => None,
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    /// Looking for the first `--boundary`.
    Preamble,
    /// Just after a boundary: `--` ends the form, else padding and a line end.
    AfterBoundary,
    /// After `-`: one more ends the form.
    Dash,
    /// Spaces or tabs after a boundary.
    Padding,
    /// The `\r` of the boundary's line end.
    PaddingCr,
    /// A part's header block, up to its blank line.
    Headers,
    /// A part's data, up to `\r\n--boundary`.
    Data,
    /// After the closing boundary (the epilogue, which the parser never reads).
    Done,
    Failed(Violation),
}

/// The multipart grammar followed chunk by chunk; see the module's documentation.
pub struct Framing {
    bounds: Bounds,
    boundary: Finder<'static>,
    blank_line: Finder<'static>,
    next_boundary: Finder<'static>,
    stage: Stage,
    /// The current stage's last bytes of earlier chunks (fewer than the pattern looked for).
    carry: Vec<u8>,
    /// Bytes of the current stage so far (preamble, padding and header block).
    in_stage: usize,
    parts: usize,
    total: u64,
}

impl Framing {
    pub fn new(boundary: &str, bounds: Bounds) -> Framing {
        Framing {
            bounds,
            boundary: Finder::new(format!("--{boundary}").as_bytes()).into_owned(),
            blank_line: Finder::new(b"\r\n\r\n").into_owned(),
            next_boundary: Finder::new(format!("\r\n--{boundary}").as_bytes()).into_owned(),
            stage: Stage::Preamble,
            carry: Vec::new(),
            in_stage: 0,
            parts: 0,
            total: 0,
        }
    }

    /// Checks the next chunk of the body; once refused, every later chunk is refused too.
    pub fn feed(&mut self, chunk: &[u8]) -> Result<(), Violation> {
        if let Stage::Failed(v) = self.stage {
            return Err(v);
        }
        self.total += chunk.len() as u64;
        let checked = if self.total > self.bounds.body {
            Err(Violation::TooLarge(self.bounds.body))
        } else {
            self.scan(chunk)
        };
        if let Err(v) = checked {
            self.stage = Stage::Failed(v);
            self.carry = Vec::new();
        }
        checked
    }

    /// The parts begun so far.
    pub fn parts(&self) -> usize {
        self.parts
    }

    fn enter(&mut self, stage: Stage) {
        self.stage = stage;
        self.carry.clear();
        self.in_stage = 0;
    }

    /// Counts `n` more bytes of a bounded stage.
    fn count(&mut self, n: usize, bound: usize, violation: Violation) -> Result<(), Violation> {
        self.in_stage += n;
        if self.in_stage > bound {
            return Err(violation);
        }
        Ok(())
    }

    fn scan(&mut self, mut rest: &[u8]) -> Result<(), Violation> {
        let (preamble, header) = (self.bounds.preamble, self.bounds.header);
        while let Some(&byte) = rest.first() {
            match self.stage {
                Stage::Preamble | Stage::Headers | Stage::Data => {
                    let finder = match self.stage {
                        Stage::Preamble => &self.boundary,
                        Stage::Headers => &self.blank_line,
                        _ => &self.next_boundary,
                    };
                    let found = search(finder, &mut self.carry, rest);
                    let seen = found.unwrap_or(rest.len());
                    match self.stage {
                        Stage::Preamble => self.count(seen, preamble, Violation::NoBoundary(preamble))?,
                        Stage::Headers => self.count(seen, header, Violation::HeaderTooLong(header))?,
                        _ => {}
                    }
                    rest = &rest[seen..];
                    if found.is_some() {
                        let next =
                            if self.stage == Stage::Headers { Stage::Data } else { Stage::AfterBoundary };
                        self.enter(next);
                    }
                }
                Stage::Done => return Ok(()),
                Stage::Failed(v) => return Err(v),
                stage => {
                    rest = &rest[1..];
                    self.count(1, header, Violation::HeaderTooLong(header))?;
                    self.stage = match (stage, byte) {
                        (Stage::AfterBoundary, b'-') => Stage::Dash,
                        (Stage::Dash, b'-') => Stage::Done,
                        (Stage::AfterBoundary | Stage::Padding, b' ' | b'\t') => Stage::Padding,
                        (Stage::AfterBoundary | Stage::Padding, b'\r') => Stage::PaddingCr,
                        (Stage::PaddingCr, b'\n') => {
                            self.parts += 1;
                            if self.parts > self.bounds.parts {
                                return Err(Violation::TooManyParts(self.bounds.parts));
                            }
                            self.enter(Stage::Headers);
                            continue;
                        }
                        _ => return Err(Violation::Malformed),
                    };
                }
            }
        }
        Ok(())
    }
}

/// Where the first match of `finder`'s pattern ends in `data`, counting a match that began in
/// `carry` (the same stage's end of the earlier chunks); without one, `carry` keeps the bytes
/// that could begin a match.
fn search(finder: &Finder<'static>, carry: &mut Vec<u8>, data: &[u8]) -> Option<usize> {
    let p = finder.needle().len();
    if !carry.is_empty() {
        let mut joined = carry.clone();
        joined.extend_from_slice(&data[..data.len().min(p - 1)]);
        if let Some(i) = finder.find(&joined) {
            let end = i + p - carry.len();
            carry.clear();
            return Some(end);
        }
    }
    if let Some(i) = finder.find(data) {
        carry.clear();
        return Some(i + p);
    }
    carry.extend_from_slice(&data[data.len().saturating_sub(p - 1)..]);
    let excess = carry.len().saturating_sub(p - 1);
    carry.drain(..excess);
    None
}

/// `stream` with every chunk checked by `framing` before it is handed on: the first refusal
/// ends it with [`BodyError::Refused`].
pub fn guarded<S, E>(stream: S, mut framing: Framing) -> impl Stream<Item = Result<Bytes, BodyError>>
where
    S: Stream<Item = Result<Bytes, E>>,
    E: std::fmt::Display,
{
    stream.map(move |item| match item {
        Ok(chunk) => framing.feed(&chunk).map(|()| chunk).map_err(BodyError::Refused),
        Err(e) => Err(BodyError::Read(e.to_string())),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const B: &str = "----WebKitFormBoundaryx7Yq2";

    fn form(parts: &[(&str, &[u8])]) -> Vec<u8> {
        let mut body = Vec::new();
        for (name, data) in parts {
            body.extend_from_slice(
                format!(
                    "--{B}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{name}.pdf\"\r\n\
                     Content-Type: application/pdf\r\n\r\n"
                )
                .as_bytes(),
            );
            body.extend_from_slice(data);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{B}--\r\n").as_bytes());
        body
    }

    fn bounds() -> Bounds {
        Bounds { body: 1 << 20, preamble: 256, header: 256, parts: 3 }
    }

    /// Feeds `body` cut at `cut` (and in 7-byte pieces after it): the first refusal, and the
    /// parts counted.
    fn feed_cut(body: &[u8], cut: usize, bounds: Bounds) -> (Result<(), Violation>, usize) {
        let mut f = Framing::new(B, bounds);
        let (head, tail) = body.split_at(cut.min(body.len()));
        let mut result = f.feed(head);
        for piece in tail.chunks(7) {
            if result.is_err() {
                break;
            }
            result = f.feed(piece);
        }
        (result, f.parts())
    }

    /// What multer makes of the same body: the parts it reads, or its error.
    async fn multer_parts(body: &[u8]) -> Result<usize, String> {
        let body = Bytes::copy_from_slice(body);
        let stream = futures_util::stream::once(async move { Ok::<_, std::io::Error>(body) });
        let mut multipart = multer::Multipart::new(stream, B);
        let mut n = 0;
        while let Some(field) = multipart.next_field().await.map_err(|e| e.to_string())? {
            field.bytes().await.map_err(|e| e.to_string())?;
            n += 1;
        }
        Ok(n)
    }

    #[tokio::test]
    async fn well_formed_forms_pass_whatever_the_chunking_and_agree_with_multer() {
        // Data that looks like framing: a blank line, a dash, a boundary without its line end.
        let tricky: &[u8] = b"\r\n\r\n--\r\n--x\r\n----WebKitFormBoundaryx7Y\r\n-";
        let bodies = [
            form(&[("file", b"%PDF-1.7 hello %%EOF")]),
            form(&[("a", b""), ("file", tricky)]),
            form(&[("a", b"1"), ("b", b"2"), ("file", &[0u8; 300])]),
            // Transport padding after a boundary, and a preamble.
            format!(
                "preambolo\r\n--{B}  \t\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\nv\r\n--{B}--"
            )
            .into_bytes(),
        ];
        for body in &bodies {
            let expected = multer_parts(body).await.expect("multer reads it");
            for cut in 0..=body.len() {
                assert_eq!(feed_cut(body, cut, bounds()), (Ok(()), expected), "cut at {cut}");
            }
        }
    }

    #[test]
    fn each_bound_is_enforced_wherever_the_chunks_are_cut() {
        let no_boundary = vec![b'x'; 1000];
        let mut endless_header =
            format!("--{B}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"").into_bytes();
        endless_header.extend_from_slice(&[b'a'; 1000]);
        let too_many = form(&[("a", b""), ("b", b""), ("c", b""), ("d", b"")]);
        // An empty header block is `\r\n` right after the boundary's own line end: multer then
        // looks for `\r\n\r\n` from that second `\r\n`, as the guard does.
        let mut empty_then_endless = format!("--{B}\r\n\r\n").into_bytes();
        empty_then_endless.extend_from_slice(&[b'a'; 1000]);
        let garbage = format!("--{B}xyz\r\n").into_bytes();
        let cases = [
            (no_boundary, Violation::NoBoundary(256)),
            (endless_header, Violation::HeaderTooLong(256)),
            (empty_then_endless, Violation::HeaderTooLong(256)),
            (too_many, Violation::TooManyParts(3)),
            (garbage, Violation::Malformed),
        ];
        for (body, violation) in &cases {
            for cut in 0..=body.len() {
                assert_eq!(feed_cut(body, cut, bounds()).0, Err(*violation), "cut at {cut}");
            }
        }
        let small = Bounds { body: 100, ..bounds() };
        let body = form(&[("file", &[b'z'; 200])]);
        assert_eq!(feed_cut(&body, 50, small).0, Err(Violation::TooLarge(100)));
        // Once refused, always refused.
        let mut f = Framing::new(B, bounds());
        assert_eq!(f.feed(&[b'x'; 300]), Err(Violation::NoBoundary(256)));
        assert_eq!(f.feed(format!("--{B}\r\n").as_bytes()), Err(Violation::NoBoundary(256)));
    }

    #[test]
    fn statuses_and_messages() {
        assert_eq!(Violation::TooLarge(1).status(), StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(Violation::TooManyParts(16).status(), StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(Violation::NoBoundary(1).status(), StatusCode::BAD_REQUEST);
        assert!(Violation::TooManyParts(16).message().contains("troppi campi (più di 16)"));
        assert!(Violation::HeaderTooLong(1).message().contains("non è leggibile"));
    }
}
