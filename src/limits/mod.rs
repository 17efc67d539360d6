//! Bounds on what a request may cost the server: the body of every route but the uploads
//! ([`body`]), the framing of an uploaded form ([`multipart`], checked before the parser buffers
//! anything), the CPU-heavy answers ([`work`]: a few at a time, a short queue, 503 past it), the
//! calls to server functions that cannot be decoded ([`server_fn`]: 400 in Italian) and the query
//! strings that cannot be read ([`query`]: 400 in Italian).

pub mod body;
pub mod multipart;
pub mod query;
pub mod server_fn;
pub mod work;
