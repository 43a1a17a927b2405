//! Scenario-level tests: every example runs, same seed gives identical bytes, overrides apply,
//! sweeps are ordered, and a corpus of malformed scenarios and edge lists gets errors that name
//! the file, the line and the key.

use std::path::{Path, PathBuf};

use vox_dynamics::scenario::Scenario;
use vox_dynamics::sweep;

fn examples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/dynamics")
}

fn run_into(path: &Path, overrides: &[&str], out: &Path) -> vox_dynamics::RunSummary {
    let overrides: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
    let scenario = Scenario::from_file(path, &overrides).unwrap();
    let output = sweep::run(&scenario, &mut |_| {}).unwrap();
    sweep::write_run(out, &output).unwrap();
    output.summary
}

#[test]
fn every_example_scenario_runs_and_writes_its_outputs() {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(examples_dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            names.push(path);
        }
    }
    names.sort();
    assert_eq!(names.len(), 11, "one example per model");
    for path in names {
        let out = tempfile::tempdir().unwrap();
        // Short runs keep the test fast; the full runs are for the CLI.
        let summary = run_into(&path, &["max_steps=30"], out.path());
        for file in ["summary.json", "steps.parquet", "report.html"] {
            assert!(
                out.path().join(file).is_file(),
                "{}: no {file}",
                path.display()
            );
        }
        let json: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(out.path().join("summary.json")).unwrap(),
        )
        .unwrap();
        for key in [
            "model",
            "n_agents",
            "seed",
            "steps",
            "converged",
            "consensus",
            "consensus_time",
        ] {
            assert!(
                json.get(key).is_some(),
                "{}: summary lacks {key}",
                path.display()
            );
        }
        let continuous =
            ["degroot", "friedkin_johnsen", "hk", "deffuant"].contains(&summary.model.as_str());
        for key in ["final_mean", "final_variance", "n_clusters"] {
            assert_eq!(
                json.get(key).is_some(),
                continuous,
                "{}: {key}",
                path.display()
            );
        }
        assert_eq!(
            json.get("final_fraction").is_some(),
            !continuous,
            "{}",
            path.display()
        );
    }
}

#[test]
fn examples_reproduce_their_documented_results() {
    let out = tempfile::tempdir().unwrap();
    let summary = run_into(&examples_dir().join("degroot.toml"), &[], out.path());
    assert!((summary.final_mean.unwrap() - 52.0 / 107.0).abs() < 1e-9 && summary.consensus);
    let summary = run_into(&examples_dir().join("hk.toml"), &[], out.path());
    assert_eq!(
        (summary.steps, summary.n_clusters, summary.converged),
        (327, Some(1), true)
    );
    let summary = run_into(
        &examples_dir().join("hk.toml"),
        &["params.epsilon=0.05"],
        out.path(),
    );
    assert_eq!(summary.n_clusters, Some(9));
}

#[test]
fn the_same_seed_gives_byte_identical_outputs_and_another_seed_does_not() {
    for (name, overrides) in [
        ("deffuant.toml", vec!["max_steps=40"]),
        ("sir.toml", vec![]),
        ("voter.toml", vec![]),
    ] {
        let path = examples_dir().join(name);
        let (a, b, c) = (
            tempfile::tempdir().unwrap(),
            tempfile::tempdir().unwrap(),
            tempfile::tempdir().unwrap(),
        );
        run_into(&path, &overrides, a.path());
        run_into(&path, &overrides, b.path());
        let mut other = overrides.clone();
        other.push("seed=999");
        run_into(&path, &other, c.path());
        for file in ["summary.json", "steps.parquet"] {
            let bytes_a = std::fs::read(a.path().join(file)).unwrap();
            assert_eq!(
                bytes_a,
                std::fs::read(b.path().join(file)).unwrap(),
                "{name}: {file} differs"
            );
            assert_ne!(
                bytes_a,
                std::fs::read(c.path().join(file)).unwrap(),
                "{name}: {file} ignores the seed"
            );
        }
    }
}

#[test]
fn sweeps_run_the_grid_in_order_and_reproducibly() {
    let path = examples_dir().join("deffuant.toml");
    let overrides = vec![
        "sweep.replicates=2".to_string(),
        "n_agents=200".to_string(),
        "max_steps=50".to_string(),
    ];
    let scenario = Scenario::from_file(&path, &overrides).unwrap();
    let rows = sweep::run_sweep(&scenario).unwrap();
    assert_eq!(rows.len(), 8);
    let order: Vec<(usize, u64)> = rows.iter().map(|r| (r.point, r.replicate)).collect();
    assert_eq!(
        order,
        (0..4)
            .flat_map(|p| (0..2).map(move |r| (p, r)))
            .collect::<Vec<_>>()
    );
    assert_eq!(rows[1].summary.seed, 2);
    assert_eq!(rows[7].overrides, vec!["params.epsilon=0.6".to_string()]);
    let again = sweep::run_sweep(&scenario).unwrap();
    assert_eq!(
        rows.iter().map(|r| r.summary.clone()).collect::<Vec<_>>(),
        again.iter().map(|r| r.summary.clone()).collect::<Vec<_>>()
    );
    let out = tempfile::tempdir().unwrap();
    sweep::write_sweep(out.path(), &rows).unwrap();
    assert!(out.path().join("sweep.parquet").is_file() && out.path().join("sweep.json").is_file());
}

/// Writes `text` to `dir/name` and returns the scenario error message.
fn scenario_error(dir: &Path, name: &str, text: &str, overrides: &[&str]) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    let overrides: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
    let result = Scenario::from_file(&path, &overrides).and_then(|s| s.build().map(|_| ()));
    match result {
        Ok(()) => panic!("{name} was accepted:\n{text}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn malformed_scenarios_name_the_file_the_line_and_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let hk = "model = \"hk\"\nn_agents = 100\n\n[params]\nepsilon = 0.2\n";
    // (file name, text, overrides, expected fragments of the message)
    let corpus: Vec<(&str, String, Vec<&str>, Vec<&str>)> = vec![
        ("syntax.toml", "model = \"hk\"\nn_agents = = 3\n".into(), vec![], vec!["syntax.toml:2"]),
        ("no_model.toml", "n_agents = 3\n".into(), vec![], vec!["no_model.toml:0", "key `model`", "missing"]),
        ("bad_model.toml", "model = \"hkk\"\nn_agents = 3\n".into(), vec![], vec!["bad_model.toml:1", "unknown model `hkk`"]),
        ("typo.toml", hk.replace("epsilon", "epsilom"), vec![], vec!["typo.toml:5", "params.epsilom", "unknown key"]),
        ("missing_eps.toml", "model = \"hk\"\nn_agents = 10\n".into(), vec![], vec!["key `params.epsilon`", "missing"]),
        ("type.toml", hk.replace("0.2", "\"wide\""), vec![], vec!["type.toml:5", "params.epsilon", "expected a number"]),
        ("negative.toml", hk.replace("0.2", "-0.2"), vec![], vec!["negative.toml:5", "params.epsilon", ">= 0"]),
        ("n.toml", hk.replace("n_agents = 100", "n_agents = -4"), vec![], vec!["n.toml:2", "key `n_agents`"]),
        (
            "scheduler.toml",
            format!("scheduler = \"sometimes\"\n{hk}"),
            vec![],
            vec!["scheduler.toml:1", "unknown scheduler"],
        ),
        (
            "deffuant_sync.toml",
            "model = \"deffuant\"\nn_agents = 10\nscheduler = \"synchronous\"\n[params]\nepsilon = 0.2\n".into(),
            vec![],
            vec!["deffuant_sync.toml:3", "key `scheduler`", "cannot run under"],
        ),
        (
            "graph.toml",
            format!("{hk}\n[graph]\nkind = \"erdos_renyi\"\np = 1.5\n"),
            vec![],
            vec!["graph.toml:9", "graph.p", "[0, 1]"],
        ),
        ("graph_kind.toml", format!("{hk}\n[graph]\nkind = \"lattice\"\n"), vec![], vec!["graph_kind.toml:8", "graph.kind"]),
        (
            "initial.toml",
            hk.replace("epsilon = 0.2", "epsilon = 0.2\ninitial = { kind = \"values\", values = [0.1, 0.2] }"),
            vec![],
            vec!["initial.toml:6", "params.initial", "2 values for 100 agents"],
        ),
        (
            "intervention.toml",
            "model = \"misinformation\"\nn_agents = 10\n[params]\nbeta = 0.5\n\n[[params.interventions]]\nstep = 3\nreach = 2.0\nefficacy = 0.5\n"
                .into(),
            vec![],
            vec!["intervention.toml:8", "params.interventions[0].reach"],
        ),
        ("record.toml", format!("{hk}\n[record]\noutputs = [\"mean\", \"median\"]\n"), vec![], vec!["record.toml:8", "record.outputs", "median"]),
        ("override.toml", hk.into(), vec!["params.epsilon=-1"], vec!["--set `params.epsilon=-1`", ">= 0"]),
        ("override_syntax.toml", hk.into(), vec!["params.epsilon"], vec!["--set `params.epsilon`", "KEY=VALUE"]),
        ("override_unknown.toml", hk.into(), vec!["params.typo=3"], vec!["--set `params.typo=3`", "unknown key"]),
        // A table the file does not have, brought in by the override: blame the override.
        ("override_table.toml", hk.into(), vec!["topology.kind=complete"], vec!["--set `topology.kind=complete`", "key `topology`", "unknown key"]),
        (
            "edges_missing.toml",
            "model = \"voter\"\n[graph]\nkind = \"edge_list\"\npath = \"nowhere.csv\"\n".into(),
            vec![],
            vec!["nowhere.csv"],
        ),
    ];
    for (name, text, overrides, fragments) in corpus {
        let message = scenario_error(dir.path(), name, &text, &overrides);
        for fragment in fragments {
            assert!(
                message.contains(fragment),
                "{name}: `{message}` lacks `{fragment}`"
            );
        }
    }
}

#[test]
fn malformed_edge_lists_name_the_file_the_line_and_the_column() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = [
        (
            "no_target.csv",
            "source,dest\n0,1\n",
            vec!["no_target.csv:1", "`target`"],
        ),
        (
            "bad_id.csv",
            "source,target\n0,1\n1,two\n",
            vec!["bad_id.csv:3", "`target`", "`two`"],
        ),
        (
            "negative.csv",
            "source,target\n-1,1\n",
            vec!["negative.csv:2", "`source`"],
        ),
        (
            "bad_weight.csv",
            "source,target,weight\n0,1,0.5\n1,2,heavy\n",
            vec!["bad_weight.csv:3", "`weight`"],
        ),
        (
            "ragged.csv",
            "source,target\n0,1\n1,2,3\n",
            vec!["ragged.csv:3"],
        ),
        (
            "not_parquet.parquet",
            "source,target\n0,1\n",
            vec!["not_parquet.parquet", "not a Parquet file"],
        ),
    ];
    for (name, text, fragments) in corpus {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        let format = vox_dynamics::graph::EdgeListFormat::from_path(&path);
        let message = vox_dynamics::graph::read_edge_list(&path, format, false, 0)
            .unwrap_err()
            .to_string();
        for fragment in fragments {
            assert!(
                message.contains(fragment),
                "{name}: `{message}` lacks `{fragment}`"
            );
        }
    }
    // The scenario path resolves relative edge lists and passes the file error through.
    std::fs::write(dir.path().join("bad.csv"), "source,target\n0,x\n").unwrap();
    let message = scenario_error(
        dir.path(),
        "uses_bad.toml",
        "model = \"voter\"\n[graph]\nkind = \"edge_list\"\npath = \"bad.csv\"\n",
        &[],
    );
    assert!(
        message.contains("bad.csv:2") && message.contains("`target`"),
        "{message}"
    );
}

#[test]
fn parquet_edge_lists_load_with_weights() {
    use std::sync::Arc;

    use arrow_array::{ArrayRef, Float64Array, Int64Array, RecordBatch};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("edges.parquet");
    let batch = RecordBatch::try_from_iter([
        (
            "source",
            Arc::new(Int64Array::from(vec![0, 1, 2])) as ArrayRef,
        ),
        (
            "target",
            Arc::new(Int64Array::from(vec![1, 2, 0])) as ArrayRef,
        ),
        (
            "weight",
            Arc::new(Float64Array::from(vec![1.0, 1.0, 1.0])) as ArrayRef,
        ),
    ])
    .unwrap();
    let mut writer = parquet::arrow::ArrowWriter::try_new(
        std::fs::File::create(&path).unwrap(),
        batch.schema(),
        None,
    )
    .unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
    let graph = vox_dynamics::graph::read_edge_list(
        &path,
        vox_dynamics::graph::EdgeListFormat::Parquet,
        true,
        0,
    )
    .unwrap();
    assert_eq!(
        (graph.n_nodes(), graph.n_arcs(), graph.is_weighted()),
        (3, 3, true)
    );
    assert_eq!(graph.neighbors(2), &[0]);
}
