//! A self-contained HTML report of one run: a trajectory plot per recorded output and a
//! histogram of final opinions (or a bar chart of final state fractions), as inline SVG with no
//! scripts or external assets.

use std::fmt::Write as _;

use crate::record::Recorder;
use crate::sim::RunSummary;

const WIDTH: f64 = 560.0;
const HEIGHT: f64 = 220.0;
const MARGIN: f64 = 40.0;

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Formats an axis number compactly.
fn tick(value: f64) -> String {
    if value != 0.0 && (value.abs() >= 1e4 || value.abs() < 1e-2) {
        format!("{value:.2e}")
    } else {
        format!("{}", (value * 1000.0).round() / 1000.0)
    }
}

/// An SVG line plot of `ys` against `xs`; non-finite points are skipped.
pub fn line_plot(title: &str, xs: &[f64], ys: &[f64]) -> String {
    let points: Vec<(f64, f64)> = xs
        .iter()
        .zip(ys)
        .filter(|(x, y)| x.is_finite() && y.is_finite())
        .map(|(&x, &y)| (x, y))
        .collect();
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" role="img"><title>{}</title>"#,
        escape(title)
    );
    let _ = write!(
        svg,
        r#"<text x="{MARGIN}" y="16" font-size="13">{}</text>"#,
        escape(title)
    );
    if points.is_empty() {
        svg.push_str("</svg>");
        return svg;
    }
    let (x_min, x_max) = points
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), p| {
            (a.min(p.0), b.max(p.0))
        });
    let (mut y_min, mut y_max) = points
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), p| {
            (a.min(p.1), b.max(p.1))
        });
    if y_max - y_min < 1e-12 {
        y_min -= 0.5;
        y_max += 0.5;
    }
    let x_span = (x_max - x_min).max(1e-12);
    let sx = |x: f64| MARGIN + (x - x_min) / x_span * (WIDTH - 2.0 * MARGIN);
    let sy = |y: f64| HEIGHT - MARGIN + -(y - y_min) / (y_max - y_min) * (HEIGHT - 2.0 * MARGIN);
    let _ = write!(
        svg,
        r##"<g stroke="#888" font-size="10"><line x1="{m}" y1="{b}" x2="{r}" y2="{b}"/><line x1="{m}" y1="{t}" x2="{m}" y2="{b}"/></g>"##,
        m = MARGIN,
        b = HEIGHT - MARGIN,
        r = WIDTH - MARGIN,
        t = MARGIN
    );
    let _ = write!(
        svg,
        r#"<g font-size="10"><text x="{}" y="{}">{}</text><text x="{}" y="{}" text-anchor="end">{}</text><text x="2" y="{}">{}</text><text x="2" y="{}">{}</text><text x="{}" y="{}" text-anchor="middle">sweeps</text></g>"#,
        MARGIN,
        HEIGHT - MARGIN + 14.0,
        tick(x_min),
        WIDTH - MARGIN,
        HEIGHT - MARGIN + 14.0,
        tick(x_max),
        MARGIN + 4.0,
        tick(y_max),
        HEIGHT - MARGIN,
        tick(y_min),
        WIDTH / 2.0,
        HEIGHT - 8.0
    );
    let path: Vec<String> = points
        .iter()
        .map(|&(x, y)| format!("{:.1},{:.1}", sx(x), sy(y)))
        .collect();
    let _ = write!(
        svg,
        r##"<polyline fill="none" stroke="#1f5fa8" stroke-width="1.5" points="{}"/>"##,
        path.join(" ")
    );
    svg.push_str("</svg>");
    svg
}

/// An SVG bar chart: one bar per `(label, value)`.
pub fn bar_chart(title: &str, bars: &[(String, f64)]) -> String {
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" role="img"><title>{}</title>"#,
        escape(title)
    );
    let _ = write!(
        svg,
        r#"<text x="{MARGIN}" y="16" font-size="13">{}</text>"#,
        escape(title)
    );
    let max = bars.iter().map(|b| b.1).fold(0.0f64, f64::max).max(1e-12);
    let slot = (WIDTH - 2.0 * MARGIN) / bars.len().max(1) as f64;
    for (k, (label, value)) in bars.iter().enumerate() {
        let height = value / max * (HEIGHT - 2.0 * MARGIN);
        let x = MARGIN + k as f64 * slot;
        let _ = write!(
            svg,
            r##"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="#1f5fa8"><title>{}: {}</title></rect>"##,
            x + slot * 0.05,
            HEIGHT - MARGIN - height,
            slot * 0.9,
            height,
            escape(label),
            value
        );
        if bars.len() <= 12 || k % (bars.len() / 10).max(1) == 0 {
            let _ = write!(
                svg,
                r#"<text x="{:.1}" y="{}" font-size="10" text-anchor="middle">{}</text>"#,
                x + slot / 2.0,
                HEIGHT - MARGIN + 14.0,
                escape(label)
            );
        }
    }
    let _ = write!(
        svg,
        r#"<text x="2" y="{}" font-size="10">{}</text>"#,
        MARGIN + 4.0,
        tick(max)
    );
    svg.push_str("</svg>");
    svg
}

/// Histogram of `values` in `bins` equal bins over their range, as (bin centre label, count).
pub fn histogram(values: &[f64], bins: usize) -> Vec<(String, f64)> {
    let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    if finite.is_empty() || bins == 0 {
        return Vec::new();
    }
    let low = finite.iter().copied().fold(f64::INFINITY, f64::min);
    let high = finite.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let width = if high > low {
        (high - low) / bins as f64
    } else {
        1.0
    };
    let mut counts = vec![0.0; bins];
    for v in finite {
        let bin = (((v - low) / width) as usize).min(bins - 1);
        counts[bin] += 1.0;
    }
    counts
        .into_iter()
        .enumerate()
        .map(|(k, c)| (tick(low + (k as f64 + 0.5) * width), c))
        .collect()
}

/// The whole report. `final_opinions` are the final continuous opinions (empty for discrete
/// models, whose final fractions come from the summary).
pub fn render(summary: &RunSummary, recorder: &Recorder, final_opinions: &[f64]) -> String {
    let mut html = String::new();
    let _ = write!(
        html,
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>vox dynamics: {model}</title>\
         <style>body{{font-family:sans-serif;max-width:1200px;margin:2em auto}}svg{{margin:4px;border:1px solid #ddd}}\
         td,th{{padding:2px 8px;text-align:left}}</style></head><body><h1>{model}</h1>",
        model = escape(&summary.model)
    );
    let json = serde_json::to_string_pretty(summary).unwrap_or_default();
    let _ = write!(
        html,
        "<h2>Summary</h2><pre>{}</pre><h2>Trajectories</h2>",
        escape(&json)
    );
    for column in recorder.columns() {
        html.push_str(&line_plot(&column.name, recorder.times(), &column.values));
    }
    html.push_str("<h2>Final state</h2>");
    if !final_opinions.is_empty() {
        html.push_str(&bar_chart(
            "final opinions (histogram, 50 bins)",
            &histogram(final_opinions, 50),
        ));
    }
    if let Some(fractions) = &summary.final_fraction {
        let bars: Vec<(String, f64)> = fractions.iter().map(|(k, v)| (k.clone(), *v)).collect();
        html.push_str(&bar_chart("final fraction per state", &bars));
    }
    html.push_str("</body></html>\n");
    html
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_counts_every_value_once() {
        let bars = histogram(&[0.0, 0.1, 0.5, 1.0, 1.0], 4);
        assert_eq!(bars.iter().map(|b| b.1).sum::<f64>(), 5.0);
        assert_eq!(bars[3].1, 2.0);
    }

    #[test]
    fn plots_are_self_contained_svg() {
        let svg = line_plot("mean <x>", &[0.0, 1.0, 2.0], &[0.5, 0.4, f64::NAN]);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains("mean &lt;x&gt;") && !svg.contains("<script"));
    }
}
