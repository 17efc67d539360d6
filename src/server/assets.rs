//! Static files under names that carry their content's hash, cached by browsers for a year.
//!
//! The wasm, its JavaScript and our stylesheet (`pkg/`, made by cargo-leptos) and Bootstrap
//! Italia's stylesheet, icon sprite and fonts (`bootstrap-italia/`, copied by `make assets`)
//! change only with a new build. At start-up [`Assets::from_site`] hashes each folder's files
//! (SHA-256 over their names and bytes), and the pages link them as `/pkg/<hash>/traguardi.js`,
//! `/bootstrap-italia/<hash>/css/bootstrap-italia.min.css` and so on. [`serve`] maps such an
//! address back to the file and answers it with `Cache-Control: public, max-age=31536000,
//! immutable`: a browser keeps it and never asks again, and the next build's files have other
//! addresses, so nobody is served a stale wasm with a new page. The relative references inside
//! the files (the stylesheet's fonts, the JavaScript's snippets) resolve under the same hashed
//! folder. One hash per folder: a new build of our code does not make browsers download
//! Bootstrap Italia's fonts again.
//!
//! Why the folder and not each file: cargo-leptos' own `hash-files` renames the three `pkg`
//! files but not Bootstrap Italia's, and Leptos then reads a `hash.txt` beside the binary on
//! every render. The files stay where cargo-leptos and `make assets` put them, so the plain
//! addresses keep working too (without the long cache lifetime).

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
};

use axum::{
    extract::{Request, State},
    http::{header, HeaderValue, StatusCode, Uri},
    middleware::Next,
    response::Response,
};
use sha2::{Digest, Sha256};

use crate::state::AppState;

/// The folders under the site root whose files are served under a hash.
pub const FOLDERS: [&str; 2] = ["pkg", "bootstrap-italia"];
/// What a hashed address is answered with.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// The content hash of each folder (16 hex digits), for the folders found at start-up.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Assets {
    hashes: BTreeMap<&'static str, String>,
}

impl Assets {
    /// Hashes the [`FOLDERS`] under `site_root` (e.g. `target/site`). A folder that is missing or
    /// empty (a build without cargo-leptos, the tests) keeps its plain addresses.
    pub fn from_site(site_root: &Path) -> std::io::Result<Assets> {
        let mut hashes = BTreeMap::new();
        for folder in FOLDERS {
            let root = site_root.join(folder);
            if !root.is_dir() {
                continue;
            }
            let mut files = Vec::new();
            walk(&root, &mut files)?;
            files.sort();
            if files.is_empty() {
                continue;
            }
            let mut digest = Sha256::new();
            for file in &files {
                let name = file.strip_prefix(&root).unwrap_or(file).to_string_lossy().replace('\\', "/");
                let bytes = std::fs::read(file)?;
                // Name and length first: two different sets cannot give the same stream.
                digest.update((name.len() as u64).to_le_bytes());
                digest.update(name.as_bytes());
                digest.update((bytes.len() as u64).to_le_bytes());
                digest.update(&bytes);
            }
            let hex = format!("{:x}", digest.finalize());
            hashes.insert(folder, hex[..16].to_string());
        }
        Ok(Assets { hashes })
    }

    /// The hash of `folder`, if its files were found.
    pub fn hash(&self, folder: &str) -> Option<&str> {
        self.hashes.get(folder).map(String::as_str)
    }

    /// The address of `path` in `folder` (`url("bootstrap-italia", "svg/sprites.svg")`): under
    /// the folder's hash when it has one, else the plain one.
    pub fn url(&self, folder: &str, path: &str) -> String {
        match self.hash(folder) {
            Some(hash) => format!("/{folder}/{hash}/{path}"),
            None => format!("/{folder}/{path}"),
        }
    }

    /// Leptos' `site_pkg_dir` for the pages' hydration scripts (`pkg/<hash>`), when hashed.
    pub fn pkg_dir(&self) -> Option<String> {
        self.hash("pkg").map(|h| format!("pkg/{h}"))
    }

    /// The plain path of a hashed address of this build (`/pkg/<hash>/x.js` → `/pkg/x.js`);
    /// `None` for any other path, an older build's hash included.
    pub fn unhash(&self, path: &str) -> Option<String> {
        let rest = path.strip_prefix('/')?;
        let (folder, rest) = rest.split_once('/')?;
        let (hash, file) = rest.split_once('/')?;
        (self.hash(folder) == Some(hash) && !file.is_empty()).then(|| format!("/{folder}/{file}"))
    }
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            walk(&path, out)?;
        } else {
            out.push(path);
        }
    }
    Ok(())
}

/// The middleware: a hashed address of this build is served as its plain file (by the static
/// file handler behind), marked immutable. What the file holds is public, so the mark replaces
/// the `private, no-store` of signed-in answers.
pub async fn serve(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let Some(plain) = state.assets.unhash(req.uri().path()) else { return next.run(req).await };
    let target = match req.uri().query() {
        Some(q) => format!("{plain}?{q}"),
        None => plain,
    };
    match target.parse::<Uri>() {
        Ok(uri) => *req.uri_mut() = uri,
        Err(_) => return next.run(req).await,
    }
    let mut response = next.run(req).await;
    if matches!(response.status(), StatusCode::OK | StatusCode::NOT_MODIFIED | StatusCode::PARTIAL_CONTENT) {
        response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static(IMMUTABLE));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site(name: &str, files: &[(&str, &str)]) -> PathBuf {
        let root = std::env::temp_dir().join(format!("traguardi_assets_{}_{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        for (name, content) in files {
            let path = root.join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, content).unwrap();
        }
        root
    }

    #[test]
    fn each_folder_is_named_by_its_content() {
        let one = site(
            "one",
            &[
                ("pkg/traguardi.js", "js"),
                ("pkg/traguardi.wasm", "wasm"),
                ("bootstrap-italia/css/bi.css", "c"),
            ],
        );
        let a = Assets::from_site(&one).unwrap();
        let (pkg, bi) = (a.hash("pkg").unwrap().to_string(), a.hash("bootstrap-italia").unwrap().to_string());
        assert_eq!(pkg.len(), 16);
        assert!(pkg.chars().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(a.url("pkg", "traguardi.js"), format!("/pkg/{pkg}/traguardi.js"));
        assert_eq!(a.pkg_dir(), Some(format!("pkg/{pkg}")));
        assert_eq!(
            a.unhash(&format!("/bootstrap-italia/{bi}/css/bi.css")).as_deref(),
            Some("/bootstrap-italia/css/bi.css")
        );
        // Another build's hash, a plain address, a folder not hashed: left alone.
        assert_eq!(a.unhash("/pkg/0123456789abcdef/traguardi.js"), None);
        assert_eq!(a.unhash("/pkg/traguardi.js"), None);
        assert_eq!(a.unhash(&format!("/pkg/{pkg}/")), None);
        assert_eq!(a.unhash(&format!("/altro/{pkg}/x")), None);
        // A changed file changes its folder's hash only; the same bytes give the same hash.
        std::fs::write(one.join("pkg/traguardi.wasm"), "wasm2").unwrap();
        let b = Assets::from_site(&one).unwrap();
        assert_ne!(b.hash("pkg"), Some(pkg.as_str()));
        assert_eq!(b.hash("bootstrap-italia"), Some(bi.as_str()));
        assert_eq!(Assets::from_site(&one).unwrap(), b);
        // Moving bytes from one file's name to another's changes the hash too.
        std::fs::remove_dir_all(&one).unwrap();
        let two = site("two", &[("pkg/a", "xy"), ("pkg/b", "z")]);
        let three = Assets::from_site(&two).unwrap();
        std::fs::write(two.join("pkg/a"), "x").unwrap();
        std::fs::write(two.join("pkg/b"), "yz").unwrap();
        assert_ne!(Assets::from_site(&two).unwrap(), three);
        std::fs::remove_dir_all(&two).unwrap();
    }

    #[test]
    fn without_the_built_files_the_plain_addresses_stay() {
        let a = Assets::from_site(Path::new("/nonexistent/traguardi/site")).unwrap();
        assert_eq!(a, Assets::default());
        assert_eq!(a.url("bootstrap-italia", "svg/sprites.svg"), "/bootstrap-italia/svg/sprites.svg");
        assert_eq!(a.pkg_dir(), None);
    }
}
