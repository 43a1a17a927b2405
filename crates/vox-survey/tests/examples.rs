//! The example files in `examples/survey/` and the committed demo samples in `data/` load
//! without errors, so the documented commands work from a clean clone.

use std::path::PathBuf;

use vox_survey::{load_population, load_survey, read_distributions, PromptTemplate};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn example_files_load() {
    let dir = root().join("examples/survey");
    let survey = load_survey(&dir.join("survey.toml")).unwrap();
    assert_eq!(survey.questions.len(), 3);
    assert_eq!(survey.questions[0].refusal, vec![4]);
    assert_eq!(
        load_population(&dir.join("population.csv")).unwrap().len(),
        5
    );
    assert_eq!(
        load_population(&dir.join("population-marginals.toml"))
            .unwrap()
            .len(),
        50
    );
    let with_backstories = load_population(&dir.join("population.toml")).unwrap();
    assert!(with_backstories
        .members
        .iter()
        .all(|(p, _)| p.backstory.is_some()));
    let template = PromptTemplate::load(dir.join("neighbour.toml").to_str().unwrap()).unwrap();
    let (system, user) = template
        .render(
            &with_backstories.members[0].0,
            &survey.questions[2],
            "Answer with a letter.",
        )
        .unwrap();
    assert!(system.is_some());
    assert!(
        user.contains("In politics I'm a Democrat. I live in the South."),
        "{user}"
    );
}

#[test]
fn demo_samples_load_and_match_their_surveys() {
    for sample in ["opinionqa-sample", "globalopinionqa-sample"] {
        let dir = root().join("data").join(sample);
        let survey = load_survey(&dir.join("survey.toml")).unwrap();
        assert_eq!(survey.questions.len(), 20, "{sample}");
        let human = read_distributions(&dir.join("human.jsonl")).unwrap();
        for record in &human {
            let question = survey
                .question(&record.question_id)
                .unwrap_or_else(|| panic!("{sample}: {}", record.question_id));
            assert_eq!(
                record.options, question.options,
                "{sample}: {}",
                record.question_id
            );
        }
        assert!(
            load_population(&dir.join("population.jsonl"))
                .unwrap()
                .len()
                >= 5
        );
        for notice in ["LICENSE-NOTICE.md", "PROVENANCE.txt"] {
            assert!(dir.join(notice).exists(), "{sample} lacks {notice}");
        }
    }
}
