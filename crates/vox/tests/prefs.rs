//! Command-line tests of `vox prefs`: the JSON leaderboard shape, the HTML report with annotator
//! clusters, TRL export with tie policies and margins, and diagnostics for bad input.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn vox() -> Command {
    Command::new(env!("CARGO_BIN_EXE_vox"))
}

fn run_ok(command: &mut Command) -> Output {
    let output = command.output().expect("vox runs");
    assert!(
        output.status.success(),
        "vox failed\nstdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// LLMFAO-layout votes from two groups of annotators with opposite tastes on items x and y, and
/// a shared dislike of z.
fn two_camps() -> String {
    let mut text = String::from("left,right,winner,worker\n");
    for w in 0..6 {
        let camp_x = w % 2 == 0;
        for _ in 0..6 {
            let (a, b) = if camp_x { ("x", "y") } else { ("y", "x") };
            text.push_str(&format!("{a},{b},left,w{w}\n"));
            text.push_str(&format!("x,z,left,w{w}\ny,z,left,w{w}\n"));
        }
        text.push_str(&format!("z,x,left,w{w}\nx,y,tie,w{w}\n"));
    }
    text
}

#[test]
fn rate_json_and_html_report_with_clusters() {
    let dir = tempfile::tempdir().unwrap();
    let votes = write(dir.path(), "votes.csv", &two_camps());
    let html = dir.path().join("report.html");
    let out = run_ok(
        vox()
            .args([
                "prefs", "rate", "--preset", "llmfao", "--prompt", "-", "--json", "--html",
            ])
            .arg(&html)
            .arg(&votes),
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let ratings = json["ratings"].as_array().unwrap();
    assert_eq!(ratings.len(), 3);
    for key in ["item", "rating", "lower", "upper", "rank", "n_votes"] {
        assert!(ratings[0].get(key).is_some(), "missing {key}");
    }
    assert_eq!(ratings[2]["item"], "z");
    for key in ["converged", "iterations", "termination"] {
        assert!(json["fit"].get(key).is_some(), "missing fit.{key}");
    }
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("Annotator clusters"), "no cluster section");
    // 3 leaderboard dots + 3 items × 2 prototypes.
    assert_eq!(page.matches("<circle").count(), 3 + 6);
    // Each camp lands wholly in one cluster: workers 0, 2, 4 share theirs, 1, 3, 5 the other.
    let cluster = |w: usize| -> String {
        let row = page
            .split("<tr>")
            .find(|r| r.starts_with(&format!("<td>w{w}</td>")))
            .unwrap_or_else(|| panic!("no row for w{w}"));
        row.rsplit("<td>").next().unwrap()[..1].to_owned()
    };
    assert_eq!(cluster(0), cluster(2));
    assert_eq!(cluster(0), cluster(4));
    assert_eq!(cluster(1), cluster(3));
    assert_ne!(cluster(0), cluster(1));
}

#[test]
fn export_ties_and_margins() {
    let dir = tempfile::tempdir().unwrap();
    let votes = write(
        dir.path(),
        "votes.csv",
        "model_a,model_b,winner,prompt,ra,rb,score\n\
         m1,m2,model_a,p1,a1,b1,1.5\n\
         m1,m2,model_b,p2,a2,b2,-2\n\
         m1,m2,tie,p3,a3,b3,0\n",
    );
    let base = |extra: &[&str], train: &Path| {
        let mut c = vox();
        c.args(["prefs", "export", "--prompt", "prompt"])
            .arg(&votes)
            .arg("--train")
            .arg(train)
            .args(extra);
        c
    };
    // The arena preset has no text columns: the error says how to name them.
    let train = dir.path().join("train.jsonl");
    let out = base(&[], &train).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no texts"), "{err}");
    let texts = ["--texts", "prompt,ra,rb", "--margin", "score"];
    let read = |path: &Path| -> Vec<serde_json::Value> {
        std::fs::read_to_string(path)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    };
    // Default: the tie is dropped; margins are oriented chosen over rejected.
    run_ok(&mut base(&texts, &train));
    let rows = read(&train);
    assert_eq!(rows.len(), 2);
    assert_eq!(
        (&rows[0]["chosen"], &rows[0]["margin"]),
        (&"a1".into(), &1.5.into())
    );
    assert_eq!(
        (&rows[1]["chosen"], &rows[1]["margin"]),
        (&"b2".into(), &2.0.into())
    );
    // --ties both: the tie in both orders with margin 0.
    run_ok(&mut base(
        &[&texts[..], &["--ties", "both"]].concat(),
        &train,
    ));
    let rows = read(&train);
    assert_eq!(rows.len(), 4);
    assert_eq!(
        (&rows[2]["chosen"], &rows[2]["margin"]),
        (&"a3".into(), &0.0.into())
    );
    assert_eq!(rows[3]["chosen"], "b3");
    // --ties error names the line.
    let out = base(&[&texts[..], &["--ties", "error"]].concat(), &train)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("line 4") && err.contains("tie"), "{err}");
    // Parquet output carries the margin column.
    let pq = dir.path().join("train.parquet");
    run_ok(&mut base(&texts, &pq));
    assert!(std::fs::metadata(&pq).unwrap().len() > 0);
    // An unknown margin column names what was expected.
    let out = base(&["--texts", "prompt,ra,rb", "--margin", "nope"], &train)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("nope"), "{err}");
}
