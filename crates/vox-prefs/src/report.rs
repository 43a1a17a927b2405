//! A self-contained HTML report: the leaderboard with CI whiskers, the win-probability heatmap,
//! and (optionally) the annotator table and annotator clusters (a mixture of Bradley-Terry
//! prototypes). Inline SVG, no scripts, no external assets.

use std::fmt::Write;

use crate::annotators::AnnotatorReport;
use crate::mixture::Mixture;
use crate::uncertainty::LeaderboardRow;

/// Colours of the prototypes (colour-blind-safe Okabe-Ito palette), cycled past eight.
const PALETTE: [&str; 8] = [
    "#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#000000",
];

/// Escapes text for HTML.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Renders the report. `rows` is the leaderboard (sorted as it should appear); `win_prob` is the
/// row-major `n × n` matrix `P(i ≻ j)` indexed by `items` (the fit's item order); `clusters` is
/// an annotator mixture fitted on the same votes.
pub fn html(
    title: &str,
    rows: &[LeaderboardRow],
    items: &[String],
    win_prob: &[f64],
    annotators: Option<&AnnotatorReport>,
    clusters: Option<&Mixture>,
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
        let cluster_of = |name: &str| -> String {
            clusters
                .and_then(|m| {
                    let u = m.annotators.iter().position(|x| x == name)?;
                    let (k, w) = m.main_prototype(u)?;
                    Some(format!("{} ({w:.2})", k + 1))
                })
                .unwrap_or_else(|| "–".into())
        };
        out.push_str(
            "<table><tr><th>annotator</th><th>votes</th><th>shared</th><th>LOO agreement</th><th>cluster (weight)</th></tr>",
        );
        for s in &a.annotators {
            let agreement = s
                .loo_agreement
                .map_or("–".to_string(), |x| format!("{x:.3}"));
            let _ = write!(
                out,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{agreement}</td><td>{}</td></tr>",
                esc(&s.annotator),
                s.n_votes,
                s.n_shared,
                cluster_of(&s.annotator)
            );
        }
        out.push_str("</table>");
    }
    if let Some(m) = clusters {
        clusters_section(&mut out, m, rows);
    }
    out.push_str("</body></html>\n");
    out
}

/// The annotator clusters: one row per prototype (mixing weight, annotators whose largest weight
/// is on it, its top items), then each prototype's ratings per item as coloured dots, items in
/// leaderboard order, on the 400-point scale centred per prototype.
fn clusters_section(out: &mut String, m: &Mixture, rows: &[LeaderboardRow]) {
    let k = m.prototypes.len();
    let _ = write!(
        out,
        "<h2>Annotator clusters</h2><p>A mixture of {k} Bradley-Terry prototypes fitted by EM; \
         each annotator has a weight on every prototype (PAL-style ideal points). The dots are each \
         cluster's ratings (400-point scale, centred per cluster), items in leaderboard order.</p>\
         <table><tr><th>cluster</th><th>mixing weight</th><th>annotators</th><th>top items</th></tr>"
    );
    let mut assigned = vec![0usize; k];
    for u in 0..m.responsibilities.len() {
        if let Some((c, _)) = m.main_prototype(u) {
            assigned[c] += 1;
        }
    }
    for (c, theta) in m.prototypes.iter().enumerate() {
        let mut order: Vec<usize> = (0..theta.len()).collect();
        order.sort_by(|&a, &b| theta[b].total_cmp(&theta[a]));
        let top: Vec<String> = order.iter().take(3).map(|&i| esc(&m.items[i])).collect();
        let _ = write!(
            out,
            "<tr><td style=\"color:{}\">● {}</td><td>{:.3}</td><td>{}</td><td style=\"text-align:left\">{}</td></tr>",
            PALETTE[c % PALETTE.len()],
            c + 1,
            m.mixing[c],
            assigned[c],
            top.join(", ")
        );
    }
    out.push_str("</table>");
    // Ratings on the 400-point scale, each prototype mean-centred.
    let points = 400.0 / std::f64::consts::LN_10;
    let centred: Vec<Vec<f64>> = m
        .prototypes
        .iter()
        .map(|t| {
            let mean = t.iter().sum::<f64>() / t.len().max(1) as f64;
            t.iter().map(|x| points * (x - mean)).collect()
        })
        .collect();
    let order: Vec<usize> = rows
        .iter()
        .filter_map(|r| m.items.iter().position(|i| *i == r.item))
        .collect();
    let (lo, hi) = centred
        .iter()
        .flatten()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &v| {
            (l.min(v), h.max(v))
        });
    let span = (hi - lo).max(1e-9);
    let (width, row_h, label_w) = (420.0, 16.0, 260.0);
    let x = |v: f64| label_w + (v - lo) / span * width;
    let _ = write!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\">",
        label_w + width + 20.0,
        row_h * order.len() as f64 + 10.0
    );
    for (r, &i) in order.iter().enumerate() {
        let y = row_h * r as f64 + row_h / 2.0 + 4.0;
        let _ = write!(
            out,
            "<text x=\"0\" y=\"{:.1}\" font-size=\"11\">{}</text>",
            y + 4.0,
            esc(&m.items[i])
        );
        for (c, ratings) in centred.iter().enumerate() {
            let _ = write!(
                out,
                "<circle cx=\"{:.1}\" cy=\"{y:.1}\" r=\"3.5\" fill=\"{}\"><title>cluster {}: {:.1}</title></circle>",
                x(ratings[i]),
                PALETTE[c % PALETTE.len()],
                c + 1,
                ratings[i]
            );
        }
    }
    out.push_str("</svg>");
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
        let page = html("t", &rows, &items, &[0.5, 0.6, 0.4, 0.5], None, None);
        assert!(page.contains("a&lt;b") && !page.contains("a<b"));
        assert_eq!(page.matches("<circle").count(), 2);
        assert_eq!(page.matches("<rect").count(), 4);
        // Clusters: one dot per item and prototype, and each annotator's cluster in the table.
        let mixture = Mixture {
            items: items.clone(),
            prototypes: vec![vec![0.5, -0.5], vec![-0.5, 0.5]],
            mixing: vec![0.6, 0.4],
            annotators: vec!["u1".into(), "u2".into()],
            responsibilities: vec![vec![0.9, 0.1], vec![0.2, 0.8]],
            report: crate::fit::FitReport {
                converged: true,
                iterations: 3,
                termination: crate::fit::Termination::StepBelowTolerance,
                objective: -1.0,
            },
        };
        let annotators = AnnotatorReport {
            annotators: vec![crate::annotators::AnnotatorSummary {
                annotator: "u2".into(),
                n_votes: 4,
                n_shared: 2,
                loo_agreement: Some(0.5),
                log_strengths: None,
            }],
            krippendorff_alpha: Some(0.3),
        };
        let page = html(
            "t",
            &rows,
            &items,
            &[0.5, 0.6, 0.4, 0.5],
            Some(&annotators),
            Some(&mixture),
        );
        assert!(page.contains("Annotator clusters"));
        assert_eq!(page.matches("<circle").count(), 2 + 4);
        assert!(
            page.contains("<td>2 (0.80)</td>"),
            "u2 belongs to cluster 2"
        );
    }
}
