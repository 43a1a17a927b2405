//! Command-line tests of `vox survey` and `vox report`: scoring output, diagnostics for
//! malformed files, a real-process kill and resume on the embedded model, and the demo's report
//! rendered in headless Chromium.
//!
//! Tests that need the embedded model look for it in `VOX_MODEL`, then in vox's cache
//! (`VOX_HOME`, default `~/.cache/vox`), and fail with instructions when it is missing
//! (`scripts/test.sh` pulls it first). Tests that need Chromium look for `chromium` on PATH;
//! when it is missing they fail if `VOX_REQUIRE_CHROMIUM` is set (as `scripts/test.sh` does
//! once it has installed Chromium), and otherwise print `CHROMIUM ABSENT` and check the HTML only.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn vox() -> Command {
    Command::new(env!("CARGO_BIN_EXE_vox"))
}

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
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

fn run_err(command: &mut Command) -> String {
    let output = command.output().expect("vox runs");
    assert!(!output.status.success(), "vox should have failed");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The embedded model's path; panics with instructions when it is not available, because a
/// language-model test that silently checks nothing could never fail.
fn model_path() -> Option<PathBuf> {
    let candidates = [
        std::env::var_os("VOX_MODEL").map(PathBuf::from),
        std::env::var_os("VOX_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/vox")))
            .map(|home| home.join("models/SmolLM2-135M-Instruct.Q4_1.gguf")),
    ];
    let found = candidates.into_iter().flatten().find(|p| p.exists());
    assert!(
        found.is_some(),
        "the embedded model is missing: run `vox model pull` (or ./scripts/test.sh), or set VOX_MODEL to a GGUF file"
    );
    found
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

const SIMULATED: &str = r#"{"question_id":"q1","group":"D","options":["Yes","No"],"distribution":[0.7,0.3],"ordinal":[0,1]}
{"question_id":"q1","group":"R","options":["Yes","No"],"distribution":[0.4,0.6],"ordinal":[0,1]}
{"question_id":"q2","group":"D","options":["A","B","C"],"distribution":[0.2,0.3,0.5]}
{"question_id":"q2","group":"R","options":["A","B","C"],"distribution":[0.3,0.3,0.4]}
"#;

const HUMAN: &str = r#"{"question_id":"q1","group":"D","options":["Yes","No"],"distribution":[0.8,0.2],"ordinal":[0,1],"counts":[80,20]}
{"question_id":"q1","group":"R","options":["Yes","No"],"distribution":[0.2,0.8],"ordinal":[0,1],"counts":[20,80]}
{"question_id":"q2","group":"D","options":["A","B","C","Maybe"],"distribution":[0.1,0.3,0.5,0.1],"counts":[10,30,50,10]}
{"question_id":"q2","group":"R","options":["A","B","C"],"distribution":[0.5,0.3,0.2],"counts":[50,30,20]}
"#;

#[test]
fn compare_json_has_the_documented_shape_and_hand_checked_values() {
    let dir = tempfile::tempdir().unwrap();
    let simulated = write(dir.path(), "sim.jsonl", SIMULATED);
    let human = write(dir.path(), "human.jsonl", HUMAN);
    let output = run_ok(
        vox()
            .args(["survey", "compare", "--json", "--simulated"])
            .arg(&simulated)
            .arg("--human")
            .arg(&human),
    );
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    for key in ["questions", "aggregate", "baselines", "ceiling"] {
        assert!(json.get(key).is_some(), "missing {key}");
    }
    let questions = json["questions"].as_array().unwrap();
    assert_eq!(questions.len(), 4);
    let first = &questions[0];
    assert_eq!(first["question_id"], "q1");
    assert_eq!(first["group"], "D");
    // TV((0.7, 0.3), (0.8, 0.2)) = 0.1; 1 − W₁/(K−1) = 1 − 0.1 = 0.9.
    assert!((first["tv"].as_f64().unwrap() - 0.1).abs() < 1e-12);
    assert!((first["similarity_wd"].as_f64().unwrap() - 0.9).abs() < 1e-12);
    assert!(first["similarity_js"].as_f64().is_some() && first["kl"].as_f64().is_some());
    assert!(
        questions[2].get("similarity_wd").is_none(),
        "q2 is not ordinal"
    );
    let aggregate = &json["aggregate"];
    for metric in ["similarity_js", "similarity_wd", "tv", "kl"] {
        let ci = &aggregate[metric];
        assert!(
            ci["ci_low"].as_f64().unwrap() <= ci["mean"].as_f64().unwrap(),
            "{metric}"
        );
        assert!(
            ci["mean"].as_f64().unwrap() <= ci["ci_high"].as_f64().unwrap(),
            "{metric}"
        );
    }
    for baseline in ["uniform", "overall", "shuffled_demographics"] {
        assert!(
            json["baselines"][baseline]["similarity_js"]["mean"]
                .as_f64()
                .is_some(),
            "{baseline}"
        );
    }
    assert!(json["ceiling"]["tv"]["mean"].as_f64().is_some());
    // The unknown option is reported on stderr, not dropped: q2 × D keeps "Maybe".
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("human option \"Maybe\""), "{stderr}");
    assert_eq!(questions[2]["options"].as_array().unwrap().len(), 4);

    let table = run_ok(
        vox()
            .args(["survey", "compare", "--simulated"])
            .arg(&simulated)
            .arg("--human")
            .arg(&human),
    );
    let text = String::from_utf8_lossy(&table.stdout);
    for row in [
        "model",
        "uniform",
        "overall population",
        "shuffled demographics",
        "human split-half ceiling",
    ] {
        assert!(text.contains(row), "table lacks {row}:\n{text}");
    }
}

#[test]
fn malformed_files_name_file_line_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let simulated = write(dir.path(), "sim.jsonl", SIMULATED);
    let bad_human = write(
        dir.path(),
        "bad-human.jsonl",
        "{\"question_id\":\"q1\",\"group\":\"D\",\"options\":[\"Yes\",\"No\"],\"distribution\":[0.8,0.2]}\n{\"question_id\":\"q1\",\"group\":\"R\",\"options\":[\"Yes\",\"No\"],\"distribution\":[0.8]}\n",
    );
    let stderr = run_err(
        vox()
            .args(["survey", "compare", "--simulated"])
            .arg(&simulated)
            .arg("--human")
            .arg(&bad_human),
    );
    assert!(
        stderr.contains("bad-human.jsonl:2: field `distribution`: has 1 values for 2 options"),
        "{stderr}"
    );

    let population = write(
        dir.path(),
        "population.jsonl",
        "{\"id\":\"a\",\"attributes\":{\"party\":\"Democrat\"}}\n",
    );
    let bad_survey = write(dir.path(), "bad-survey.toml", "[[question]]\nid = \"q1\"\ntext = \"t\"\noptions = [\"a\", \"b\"]\n\n[[question]]\nid = \"q2\"\ntext = \"t\"\noptions = \"a, b\"\n");
    let stderr = run_err(
        vox()
            .args(["survey", "run", "--survey"])
            .arg(&bad_survey)
            .arg("--population")
            .arg(&population)
            .arg("--out")
            .arg(dir.path().join("out")),
    );
    assert!(
        stderr.contains("bad-survey.toml:6: field `options`: must be an array of strings"),
        "{stderr}"
    );

    let survey = write(
        dir.path(),
        "survey.toml",
        "[[question]]\nid = \"q1\"\ntext = \"t\"\noptions = [\"a\", \"b\"]\n",
    );
    let bad_population = write(
        dir.path(),
        "bad-population.csv",
        "party,weight\nDemocrat,1\nRepublican,-2\n",
    );
    let stderr = run_err(
        vox()
            .args(["survey", "run", "--survey"])
            .arg(&survey)
            .arg("--population")
            .arg(&bad_population)
            .arg("--out")
            .arg(dir.path().join("out")),
    );
    assert!(
        stderr.contains("bad-population.csv:3: field `weight`"),
        "{stderr}"
    );
}

/// A real kill (SIGKILL) in the middle of a run on the embedded model, then a resume: every
/// persona × question ends up exactly once, and nothing already computed is asked again.
#[test]
fn killed_run_resumes_without_losing_or_duplicating_items() {
    let Some(model) = model_path() else { return };
    let dir = tempfile::tempdir().unwrap();
    // The first 4 questions of the committed OpinionQA sample × 8 personas = 32 calls.
    let sample =
        std::fs::read_to_string(repo_root().join("data/opinionqa-sample/survey.toml")).unwrap();
    let four: Vec<&str> = sample.split("[[question]]").skip(1).take(4).collect();
    let survey = write(
        dir.path(),
        "survey.toml",
        &format!("[[question]]{}", four.join("[[question]]")),
    );
    let population = repo_root().join("data/opinionqa-sample/population.jsonl");
    let out = dir.path().join("run");
    let journal = out.join("journal.jsonl");
    let args = |c: &mut Command| {
        c.args([
            "survey",
            "run",
            "--template",
            "opinionqa-bio",
            "--group-by",
            "party,ideology",
            "--survey",
        ])
        .arg(&survey)
        .arg("--population")
        .arg(&population)
        .arg("--out")
        .arg(&out)
        .arg("--model")
        .arg(&model);
    };
    let mut first = vox();
    args(&mut first);
    let mut child = first
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Kill after a few calls have been journaled.
    let journaled = |p: &Path| {
        std::fs::read_to_string(p)
            .map(|t| t.lines().count())
            .unwrap_or(0)
    };
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the run ended ({status}) before it could be killed; the workload is too small to test resuming");
        }
        if journaled(&journal) >= 5 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let before = journaled(&journal);
    assert!(before < 32, "killed mid-way");
    assert!(
        !out.join("run.json").exists(),
        "a killed run writes no manifest"
    );

    let mut second = vox();
    args(&mut second);
    run_ok(&mut second);
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("run.json")).unwrap()).unwrap();
    assert_eq!(manifest["n_items"], 32);
    let reused = manifest["n_reused"].as_u64().unwrap() as usize;
    assert!(
        reused >= before.min(32) - 1,
        "journaled items were reused ({reused} of {before})"
    );
    assert_eq!(
        reused + manifest["n_computed"].as_u64().unwrap() as usize,
        32
    );

    let responses = std::fs::read_to_string(out.join("responses.jsonl")).unwrap();
    let mut pairs = HashSet::new();
    for line in responses.lines() {
        let r: serde_json::Value = serde_json::from_str(line).unwrap();
        let pair = (
            r["persona_id"].as_str().unwrap().to_string(),
            r["question_id"].as_str().unwrap().to_string(),
        );
        assert!(pairs.insert(pair.clone()), "{pair:?} appears twice");
        let d: Vec<f64> = r["distribution"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        assert!((d.iter().sum::<f64>() - 1.0).abs() < 1e-9);
    }
    assert_eq!(pairs.len(), 32);
    let keys: Vec<String> = std::fs::read_to_string(&journal)
        .unwrap()
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["key"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(keys.len(), 32, "the journal holds each call once");
    assert_eq!(keys.iter().collect::<HashSet<_>>().len(), 32);
    assert!(out.join("responses.parquet").metadata().unwrap().len() > 0);
    assert_eq!(
        std::fs::read_to_string(out.join("distributions.jsonl"))
            .unwrap()
            .lines()
            .count(),
        32
    );
}

fn chromium() -> Option<PathBuf> {
    for name in ["chromium", "chromium-browser", "google-chrome"] {
        if let Ok(output) = Command::new("which").arg(name).output() {
            if output.status.success() {
                return Some(PathBuf::from(
                    String::from_utf8_lossy(&output.stdout).trim(),
                ));
            }
        }
    }
    assert!(
        std::env::var_os("VOX_REQUIRE_CHROMIUM").is_none(),
        "VOX_REQUIRE_CHROMIUM is set but chromium is not on PATH"
    );
    eprintln!("CHROMIUM ABSENT: install Debian's `chromium` (apt-get install -y chromium); the report render was not checked");
    None
}

/// The demo (cut to 2 questions per sample) on the embedded model, then its report opened in
/// headless Chromium: the page must lay out every SVG plot.
#[test]
fn demo_report_renders_in_headless_chromium() {
    let Some(model) = model_path() else { return };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("demo");
    let output = run_ok(
        vox()
            .args(["survey", "demo", "--max-questions", "2", "--out"])
            .arg(&out)
            .arg("--model")
            .arg(&model),
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("shuffled demographics") && stdout.contains("overall population"),
        "{stdout}"
    );
    let report = out.join("report.html");
    let html = std::fs::read_to_string(&report).unwrap();
    let n_svg = html.matches("<svg").count();
    assert!(n_svg >= 4, "{n_svg} plots");
    assert!(
        !html.contains("<link") && !html.contains("src=\"http"),
        "the page must be self-contained"
    );
    // `vox report` on the demo directory regenerates the same kind of page.
    run_ok(vox().arg("report").arg(&out));

    let Some(chromium) = chromium() else { return };
    let profile = tempfile::tempdir().unwrap();
    let dom = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--no-first-run",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", report.display()))
        .output()
        .unwrap();
    let dom = String::from_utf8_lossy(&dom.stdout);
    let rendered = dom
        .split("data-svg-rendered=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .and_then(|n| n.parse::<usize>().ok())
        .unwrap_or_else(|| {
            panic!(
                "the page's script did not run in Chromium; DOM starts:\n{}",
                &dom[..dom.len().min(500)]
            )
        });
    assert_eq!(
        rendered, n_svg,
        "Chromium laid out {rendered} of {n_svg} plots"
    );
}
