//! A minimal line chart as SVG text (no plotting dependency).

use std::fmt::Write;

/// One line of a chart.
pub struct Series {
    /// Legend text.
    pub name: String,
    /// Stroke colour.
    pub color: &'static str,
    /// Dashed stroke.
    pub dashed: bool,
    /// Points (x, y); NaN y values are skipped.
    pub points: Vec<(f64, f64)>,
}

fn nice_max(v: f64) -> f64 {
    if v.is_nan() || v <= 0.0 {
        return 1.0;
    }
    let p = 10f64.powf(v.log10().floor());
    for m in [1.0, 2.0, 2.5, 5.0, 10.0] {
        if m * p >= v {
            return m * p;
        }
    }
    10.0 * p
}

/// Renders `series` against shared axes.
pub fn chart(title: &str, x_label: &str, y_label: &str, series: &[Series]) -> String {
    let (w, h) = (640.0, 400.0);
    let (l, r, t, b) = (70.0, 170.0, 40.0, 50.0);
    let pts = series.iter().flat_map(|s| s.points.iter()).filter(|p| p.1.is_finite());
    let (mut xmax, mut ymax) = (0.0f64, 0.0f64);
    for (x, y) in pts {
        xmax = xmax.max(*x);
        ymax = ymax.max(*y);
    }
    let (xmax, ymax) = (nice_max(xmax), nice_max(ymax * 1.05));
    let px = |x: f64| l + x / xmax * (w - l - r);
    let py = |y: f64| h - b - y / ymax * (h - t - b);
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="12">
<rect width="100%" height="100%" fill="white"/>
<text x="{}" y="22" font-size="15" text-anchor="middle">{title}</text>
"#,
        (w - r + l) / 2.0
    );
    for i in 0..=5 {
        let fy = ymax * i as f64 / 5.0;
        let fx = xmax * i as f64 / 5.0;
        let _ = write!(
            s,
            r##"<line x1="{l}" x2="{}" y1="{y}" y2="{y}" stroke="#ddd"/><text x="{}" y="{}" text-anchor="end">{}</text>
<line x1="{x}" x2="{x}" y1="{}" y2="{}" stroke="#ddd"/><text x="{x}" y="{}" text-anchor="middle">{}</text>
"##,
            w - r,
            l - 6.0,
            py(fy) + 4.0,
            fmt(fy),
            t,
            h - b,
            h - b + 16.0,
            fmt(fx),
            y = py(fy),
            x = px(fx),
        );
    }
    let _ = write!(
        s,
        r#"<text x="{}" y="{}" text-anchor="middle">{x_label}</text>
<text x="16" y="{}" text-anchor="middle" transform="rotate(-90 16 {})">{y_label}</text>
"#,
        (w - r + l) / 2.0,
        h - 12.0,
        (h - b + t) / 2.0,
        (h - b + t) / 2.0
    );
    for (i, se) in series.iter().enumerate() {
        let dash = if se.dashed { r#" stroke-dasharray="6 4""# } else { "" };
        let path: Vec<String> = se
            .points
            .iter()
            .filter(|p| p.1.is_finite())
            .map(|(x, y)| format!("{:.1},{:.1}", px(*x), py(*y)))
            .collect();
        let _ = writeln!(
            s,
            r#"<polyline fill="none" stroke="{}" stroke-width="2"{dash} points="{}"/>"#,
            se.color,
            path.join(" ")
        );
        for p in se.points.iter().filter(|p| p.1.is_finite()) {
            let _ =
                writeln!(s, r#"<circle cx="{:.1}" cy="{:.1}" r="3" fill="{}"/>"#, px(p.0), py(p.1), se.color);
        }
        let ly = t + 10.0 + 20.0 * i as f64;
        let _ = writeln!(
            s,
            r#"<line x1="{}" x2="{}" y1="{ly}" y2="{ly}" stroke="{}" stroke-width="2"{dash}/><text x="{}" y="{}">{}</text>"#,
            w - r + 10.0,
            w - r + 34.0,
            se.color,
            w - r + 40.0,
            ly + 4.0,
            se.name
        );
    }
    s.push_str("</svg>\n");
    s
}

fn fmt(v: f64) -> String {
    if v >= 100.0 || v == v.round() {
        format!("{v:.0}")
    } else if v >= 1.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}
