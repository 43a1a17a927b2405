//! A self-contained HTML report: the leaderboard with CI whiskers, the win-probability heatmap,
//! and (optionally) the annotator table. Inline SVG, no scripts, no external assets.

use std::fmt::Write;

use crate::annotators::AnnotatorReport;
use crate::uncertainty::LeaderboardRow;

/// Escapes text for HTML.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Renders the report. `rows` is the leaderboard (sorted as it should appear); `win_prob` is the
/// row-major `n × n` matrix `P(i ≻ j)` indexed by `items` (the fit's item order).
pub fn html(
    title: &str,
    rows: &[LeaderboardRow],
    items: &[String],
    win_prob: &[f64],
    annotators: Option<&AnnotatorReport>,
) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>{t}</title><style>\
         body{{font-family:sans-serif;margin:2em}} table{{border-collapse:collapse}} \
         td,th{{padding:2px 8px;text-align:right}} td:first-child{{text-align:left}}</style>\
         </head><body><h1>{t}</h1>",
        t = esc(title)
    );
    // Leaderboard with whiskers.
    let (lo, hi) = rows
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), r| {
            (l.min(r.lower), h.max(r.upper))
        });
    let span = (hi - lo).max(1e-9);
    let (width, row_h, label_w) = (420.0, 18.0, 260.0);
    let x = |v: f64| label_w + (v - lo) / span * width;
    let _ = write!(
        out,
        "<h2>Leaderboard</h2><svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\">",
        label_w + width + 80.0,
        row_h * rows.len() as f64 + 10.0
    );
    for (k, r) in rows.iter().enumerate() {
        let y = row_h * k as f64 + row_h / 2.0 + 4.0;
        let _ = write!(
            out,
            "<text x=\"0\" y=\"{:.1}\" font-size=\"12\">{}. {}</text>\
             <line x1=\"{:.1}\" x2=\"{:.1}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#555\"/>\
             <circle cx=\"{:.1}\" cy=\"{y:.1}\" r=\"3\" fill=\"#c33\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\">{:.1}</text>",
            y + 4.0,
            r.rank,
            esc(&r.item),
            x(r.lower),
            x(r.upper),
            x(r.rating),
            label_w + width + 8.0,
            y + 4.0,
            r.rating
        );
    }
    out.push_str("</svg><table><tr><th>rank</th><th>item</th><th>rating</th><th>lower</th><th>upper</th><th>votes</th></tr>");
    for r in rows {
        let _ = write!(
            out,
            "<tr><td>{}</td><td style=\"text-align:left\">{}</td><td>{:.2}</td><td>{:.2}</td><td>{:.2}</td><td>{}</td></tr>",
            r.rank,
            esc(&r.item),
            r.rating,
            r.lower,
            r.upper,
            r.n_votes
        );
    }
    out.push_str("</table>");
    // Heatmap in leaderboard order.
    let n = items.len();
    if win_prob.len() == n * n && n > 0 {
        let order: Vec<usize> = rows
            .iter()
            .filter_map(|r| items.iter().position(|i| *i == r.item))
            .collect();
        let cell = 14.0;
        let _ = write!(
            out,
            "<h2>Win probability P(row ≻ column)</h2><svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{:.0}\" height=\"{:.0}\">",
            label_w + cell * order.len() as f64,
            cell * order.len() as f64
        );
        for (r, &i) in order.iter().enumerate() {
            let _ = write!(
                out,
                "<text x=\"0\" y=\"{:.1}\" font-size=\"10\">{}</text>",
                cell * r as f64 + 11.0,
                esc(&items[i])
            );
            for (c, &j) in order.iter().enumerate() {
                let p = win_prob[i * n + j];
                // Blue (row loses) to white (even) to red (row wins).
                let (rr, gg, bb) = if p >= 0.5 {
                    let t = (p - 0.5) * 2.0;
                    (255.0, 255.0 * (1.0 - t), 255.0 * (1.0 - t))
                } else {
                    let t = (0.5 - p) * 2.0;
                    (255.0 * (1.0 - t), 255.0 * (1.0 - t), 255.0)
                };
                let _ = write!(
                    out,
                    "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{cell}\" height=\"{cell}\" fill=\"rgb({:.0},{:.0},{:.0})\"><title>{} vs {}: {:.3}</title></rect>",
                    label_w + cell * c as f64,
                    cell * r as f64,
                    rr,
                    gg,
                    bb,
                    esc(&items[i]),
                    esc(&items[j]),
                    p
                );
            }
        }
        out.push_str("</svg>");
    }
    if let Some(a) = annotators {
        out.push_str("<h2>Annotators</h2>");
        if let Some(alpha) = a.krippendorff_alpha {
            let _ = write!(out, "<p>Krippendorff's alpha (nominal): {alpha:.4}</p>");
        }
        out.push_str(
            "<table><tr><th>annotator</th><th>votes</th><th>shared</th><th>LOO agreement</th></tr>",
        );
        for s in &a.annotators {
            let agreement = s
                .loo_agreement
                .map_or("–".to_string(), |x| format!("{x:.3}"));
            let _ = write!(
                out,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{agreement}</td></tr>",
                esc(&s.annotator),
                s.n_votes,
                s.n_shared
            );
        }
        out.push_str(
            "</table><p>Annotator clustering (mixture of prototypes) is not implemented yet.</p>",
        );
    }
    out.push_str("</body></html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_names_and_draws_every_row() {
        let rows = vec![
            LeaderboardRow {
                item: "a<b".into(),
                rating: 1010.0,
                lower: 1000.0,
                upper: 1020.0,
                rank: 1,
                n_votes: 3,
            },
            LeaderboardRow {
                item: "c".into(),
                rating: 990.0,
                lower: 980.0,
                upper: 1000.0,
                rank: 1,
                n_votes: 3,
            },
        ];
        let items = vec!["a<b".to_string(), "c".to_string()];
        let page = html("t", &rows, &items, &[0.5, 0.6, 0.4, 0.5], None);
        assert!(page.contains("a&lt;b") && !page.contains("a<b"));
        assert_eq!(page.matches("<circle").count(), 2);
        assert_eq!(page.matches("<rect").count(), 4);
    }
}
