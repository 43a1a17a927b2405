//! A self-contained HTML report (inline CSS, inline SVG, no external resources) of one or more
//! comparisons: the summary against baselines and ceiling, fidelity by group, the worst-matched
//! questions and every question's simulated and human distributions side by side.

use std::fmt::Write;

use crate::compare::{Aggregate, CompareReport, QuestionResult};
use crate::metrics::MeanCi;
use crate::run::RunManifest;

/// One section of the report: a titled comparison, with the run's manifest when known.
#[derive(Debug, Clone, Copy)]
pub struct Section<'a> {
    /// Heading, e.g. `"OpinionQA (party and ideology)"`.
    pub title: &'a str,
    /// The comparison.
    pub report: &'a CompareReport,
    /// The run that produced the simulated side.
    pub manifest: Option<&'a RunManifest>,
}

const SIMULATED_COLOUR: &str = "#3b6fb6";
const HUMAN_COLOUR: &str = "#d9822b";
const SERIES: [(&str, &str); 5] = [
    ("model", "#3b6fb6"),
    ("uniform", "#9e9e9e"),
    ("overall", "#6a9f58"),
    ("shuffled", "#b65f9e"),
    ("ceiling", "#222222"),
];

/// Escapes text for HTML element content and attribute values.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// Renders the whole page.
pub fn render(title: &str, sections: &[Section<'_>]) -> String {
    let mut html = String::new();
    let _ = write!(
        html,
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }}
table {{ border-collapse: collapse; margin: 1em 0; }}
th, td {{ border-bottom: 1px solid #ddd; padding: 4px 10px; text-align: right; }}
th:first-child, td:first-child {{ text-align: left; }}
.small {{ color: #666; font-size: 0.85em; }}
.grid {{ display: flex; flex-wrap: wrap; gap: 12px; }}
.item {{ border: 1px solid #eee; padding: 6px; width: 330px; }}
.item h4 {{ margin: 0 0 4px 0; font-size: 0.8em; font-weight: 600; }}
svg text {{ font-family: system-ui, sans-serif; }}
.legend span {{ display: inline-block; width: 12px; height: 12px; margin: 0 4px 0 12px; vertical-align: middle; }}
</style></head><body>
<h1>{title}</h1>
<p class="small">Similarity = 1 − Jensen–Shannon distance (base 2); 1 − WD = 1 − Wasserstein distance over ordinal
positions divided by their range; TV = total variation; KL = KL(human ‖ simulated) in nats. Intervals are 95% bootstrap
percentile intervals over items. Baselines: <b>uniform</b> answers; the human <b>overall</b> distribution for every group;
<b>shuffled</b> demographics (each group gets another group's simulated answers). <b>Ceiling</b>: human split-half agreement
from the counts (absent when the human data has no counts).</p>
"#,
        title = escape(title)
    );
    for (index, section) in sections.iter().enumerate() {
        render_section(&mut html, index, section);
    }
    html.push_str(
        r#"<script>
// Marks how many plots the browser actually laid out, for the headless render test.
document.body.dataset.svgRendered = Array.from(document.querySelectorAll('svg'))
  .filter(function (s) { var r = s.getBoundingClientRect(); return r.width > 0 && r.height > 0; }).length;
</script>
</body></html>
"#,
    );
    html
}

fn fmt_ci(ci: &MeanCi) -> String {
    format!(
        "{:.3} <span class=\"small\">[{:.3}, {:.3}]</span>",
        ci.mean, ci.ci_low, ci.ci_high
    )
}

fn render_section(html: &mut String, index: usize, section: &Section<'_>) {
    let report = section.report;
    let _ = writeln!(
        html,
        "<section id=\"section-{index}\"><h2>{}</h2>",
        escape(section.title)
    );
    if let Some(m) = section.manifest {
        let _ = writeln!(
            html,
            "<p class=\"small\">model <code>{}</code> · method <b>{}</b> · template <b>{}</b> (sha256 {}…) · seed {} · {} items ({} failed)</p>",
            escape(&m.provenance.model_id),
            m.method.as_str(),
            escape(&m.template),
            &m.template_sha256.get(..12).unwrap_or(""),
            m.seed,
            m.n_items,
            m.n_failed
        );
    }
    // Summary table.
    let columns: Vec<(&str, Option<&Aggregate>)> = vec![
        ("model", Some(&report.aggregate)),
        ("uniform", Some(&report.baselines.uniform)),
        ("overall", Some(&report.baselines.overall)),
        ("shuffled", report.baselines.shuffled_demographics.as_ref()),
        ("ceiling", report.ceiling.as_ref()),
    ];
    html.push_str("<table><tr><th>metric</th>");
    for (name, _) in &columns {
        let _ = write!(html, "<th>{name}</th>");
    }
    html.push_str("</tr>\n");
    type Getter = fn(&Aggregate) -> Option<&MeanCi>;
    let rows: [(&str, Getter); 4] = [
        ("1 − JS (↑)", |a| Some(&a.similarity_js)),
        ("1 − WD (↑)", |a| a.similarity_wd.as_ref()),
        ("TV (↓)", |a| Some(&a.tv)),
        ("KL (↓)", |a| Some(&a.kl)),
    ];
    for (label, get) in rows {
        let _ = write!(html, "<tr><td>{label}</td>");
        for (_, aggregate) in &columns {
            match aggregate.and_then(get) {
                Some(ci) => {
                    let _ = write!(html, "<td>{}</td>", fmt_ci(ci));
                }
                None => html.push_str("<td>—</td>"),
            }
        }
        html.push_str("</tr>\n");
    }
    let _ = writeln!(
        html,
        "</table><p class=\"small\">{} question × group items.</p>",
        report.questions.len()
    );

    // Fidelity by group.
    html.push_str("<h3>Fidelity by group (1 − JS)</h3>");
    html.push_str(&group_chart(report));
    html.push_str("<p class=\"legend small\">");
    for (name, colour) in SERIES {
        let _ = write!(html, "<span style=\"background:{colour}\"></span>{name}");
    }
    html.push_str("</p>");

    // Worst-matched questions.
    let mut order: Vec<&QuestionResult> = report.questions.iter().collect();
    order.sort_by(|a, b| a.metrics.similarity_js.total_cmp(&b.metrics.similarity_js));
    html.push_str("<h3>Worst-matched questions</h3><div class=\"grid\">");
    for q in order.iter().take(8) {
        html.push_str(&item_plot(q));
    }
    html.push_str("</div>");

    // Every question.
    let _ = write!(
        html,
        "<h3>All questions: simulated <span style=\"color:{SIMULATED_COLOUR}\">■</span> and human <span style=\"color:{HUMAN_COLOUR}\">■</span></h3><div class=\"grid\">"
    );
    for q in &report.questions {
        html.push_str(&item_plot(q));
    }
    html.push_str("</div>");

    if !report.diagnostics.is_empty() {
        let _ = write!(
            html,
            "<h3>Diagnostics ({})</h3><ul class=\"small\">",
            report.diagnostics.len()
        );
        for d in report.diagnostics.iter().take(200) {
            let _ = write!(html, "<li>{}</li>", escape(d));
        }
        if report.diagnostics.len() > 200 {
            let _ = write!(
                html,
                "<li>… and {} more</li>",
                report.diagnostics.len() - 200
            );
        }
        html.push_str("</ul>");
    }
    html.push_str("</section>\n");
}

/// Grouped horizontal bars: one row per group, one bar per series.
fn group_chart(report: &CompareReport) -> String {
    let row_height = 12.0;
    let rows_per_group = SERIES.len() as f64;
    let label_width = 170.0;
    let plot_width = 520.0;
    let height = report.by_group.len() as f64 * (rows_per_group * row_height + 10.0) + 30.0;
    let mut svg = format!(
        "<svg class=\"plot group-chart\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{height}\" viewBox=\"0 0 {w} {height}\">",
        w = label_width + plot_width + 60.0
    );
    for tick in 0..=4 {
        let x = label_width + plot_width * tick as f64 / 4.0;
        let _ = write!(
            svg,
            "<line x1=\"{x}\" y1=\"0\" x2=\"{x}\" y2=\"{y}\" stroke=\"#eee\"/><text x=\"{x}\" y=\"{ty}\" font-size=\"10\" text-anchor=\"middle\">{v:.2}</text>",
            y = height - 20.0,
            ty = height - 6.0,
            v = tick as f64 / 4.0
        );
    }
    let mut y = 5.0;
    for group in &report.by_group {
        let values = [
            Some(group.model.similarity_js.mean),
            Some(group.uniform_similarity_js),
            Some(group.overall_similarity_js),
            group.shuffled_similarity_js,
            group.ceiling_similarity_js,
        ];
        let _ = write!(
            svg,
            "<text x=\"{x}\" y=\"{ty}\" font-size=\"11\" text-anchor=\"end\">{label} (n={n})</text>",
            x = label_width - 6.0,
            ty = y + rows_per_group * row_height / 2.0 + 4.0,
            label = escape(&group.group),
            n = group.n
        );
        for ((name, colour), value) in SERIES.iter().zip(values) {
            if let Some(v) = value.filter(|v| v.is_finite()) {
                let _ = write!(
                    svg,
                    "<rect x=\"{label_width}\" y=\"{y}\" width=\"{w:.1}\" height=\"{h}\" fill=\"{colour}\"><title>{name}: {v:.3}</title></rect><text x=\"{tx:.1}\" y=\"{ty}\" font-size=\"9\">{v:.3}</text>",
                    w = plot_width * v.clamp(0.0, 1.0),
                    h = row_height - 2.0,
                    tx = label_width + plot_width * v.clamp(0.0, 1.0) + 3.0,
                    ty = y + row_height - 3.0
                );
            }
            y += row_height;
        }
        y += 10.0;
    }
    svg.push_str("</svg>");
    svg
}

/// Side-by-side horizontal bars of one item's simulated and human distributions.
fn item_plot(q: &QuestionResult) -> String {
    let bar_height = 7.0;
    let label_width = 130.0;
    let plot_width = 170.0;
    let height = q.options.len() as f64 * (2.0 * bar_height + 5.0) + 4.0;
    let mut out = format!(
        "<div class=\"item\"><h4>{} · {} · 1−JS {:.3} · TV {:.3}</h4>",
        escape(&q.question_id),
        escape(&q.group),
        q.metrics.similarity_js,
        q.metrics.tv
    );
    let _ = write!(
        out,
        "<svg class=\"plot item-plot\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{height}\" viewBox=\"0 0 {w} {height}\">",
        w = label_width + plot_width + 10.0
    );
    let mut y = 2.0;
    for (i, option) in q.options.iter().enumerate() {
        let label: String = option.chars().take(24).collect();
        let ellipsis = if option.chars().count() > 24 {
            "…"
        } else {
            ""
        };
        let _ = write!(
            out,
            "<text x=\"{x}\" y=\"{ty}\" font-size=\"9\" text-anchor=\"end\"><title>{full}</title>{label}{ellipsis}</text>",
            x = label_width - 4.0,
            ty = y + bar_height + 3.0,
            full = escape(option),
            label = escape(&label)
        );
        for (value, colour, who) in [
            (q.simulated[i], SIMULATED_COLOUR, "simulated"),
            (q.human[i], HUMAN_COLOUR, "human"),
        ] {
            let _ = write!(
                out,
                "<rect x=\"{label_width}\" y=\"{y}\" width=\"{w:.1}\" height=\"{h}\" fill=\"{colour}\"><title>{who}: {value:.3}</title></rect>",
                w = (plot_width * value.clamp(0.0, 1.0)).max(0.5),
                h = bar_height - 1.0
            );
            y += bar_height;
        }
        y += 5.0;
    }
    out.push_str("</svg></div>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::{compare, CompareConfig};
    use crate::records::DistributionRecord;

    #[test]
    fn page_is_self_contained_and_escaped() {
        let record = |g: &str, p: f64| DistributionRecord {
            question_id: "q<1>".into(),
            group: g.into(),
            options: vec!["Yes & no".into(), "No".into()],
            distribution: vec![p, 1.0 - p],
            ordinal: None,
            counts: Some(vec![p * 100.0, (1.0 - p) * 100.0]),
        };
        let human = vec![record("D", 0.8), record("R", 0.3)];
        let simulated = vec![record("D", 0.6), record("R", 0.5)];
        let report = compare(&simulated, &human, &CompareConfig::default()).unwrap();
        let html = render(
            "Test",
            &[Section {
                title: "one",
                report: &report,
                manifest: None,
            }],
        );
        assert!(html.contains("q&lt;1&gt;"));
        assert!(html.contains("Yes &amp; no"));
        assert!(
            !html.contains("http://")
                || html.matches("http://").count()
                    == html.matches("xmlns=\"http://www.w3.org/2000/svg\"").count()
        );
        // One group chart plus two items in "worst" and two in "all".
        assert_eq!(html.matches("<svg").count(), 5);
    }
}
