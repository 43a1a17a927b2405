//! Criterion benchmarks of the embedded backend on the real GGUF (`VOX_MODEL` or the store):
//! option scoring with and without prefix reuse, and greedy generation. Throughput is reported
//! in answers (one prompt's option distribution) and tokens.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use vox_lm::embedded::{EmbeddedConfig, EmbeddedModel};
use vox_lm::{GenerateRequest, LanguageModel, Prompt, Sampling, ScoreRequest};

const OPTIONS: [&str; 5] = [
    "Strongly agree",
    "Somewhat agree",
    "Neither",
    "Somewhat disagree",
    "Strongly disagree",
];

fn load() -> EmbeddedModel {
    let path = match std::env::var_os("VOX_MODEL") {
        Some(p) => p.into(),
        None => vox_lm::store::Store::from_env()
            .expect("store")
            .default_model_path(),
    };
    EmbeddedModel::load(&path, EmbeddedConfig::default())
        .expect("run `vox model pull` or set VOX_MODEL")
}

fn requests(n_personas: usize, n_questions: usize) -> Vec<ScoreRequest> {
    let mut out = Vec::new();
    for p in 0..n_personas {
        for q in 0..n_questions {
            out.push(ScoreRequest {
                prompt: Prompt::user(format!(
                    "Answer as persona number {p}, a voter with views of their own. Question {q}: should policy {q} be adopted?"
                )),
                options: OPTIONS.iter().map(|s| s.to_string()).collect(),
            });
        }
    }
    out
}

fn scoring(c: &mut Criterion) {
    let model = load();
    let batch = requests(2, 4);
    let mut group = c.benchmark_group("scoring");
    group.sample_size(10);
    group.throughput(Throughput::Elements(batch.len() as u64));
    group.bench_function("score_batch_2x4_prefix_reuse", |b| {
        b.iter(|| model.score_batch(&batch).unwrap())
    });
    group.bench_function("score_options_one_by_one", |b| {
        b.iter(|| {
            for request in &batch {
                // A different first token defeats prefix reuse between items.
                model
                    .score_options(&ScoreRequest {
                        prompt: Prompt::Raw("x".into()),
                        options: vec![" y".into()],
                    })
                    .unwrap();
                model.score_options(request).unwrap();
            }
        })
    });
    group.finish();
}

fn generation(c: &mut Criterion) {
    let model = load();
    model.prepare_generation().unwrap();
    let mut request = GenerateRequest::new(Prompt::Raw("Once upon a time".into()));
    request.max_tokens = 32;
    request.sampling = Sampling::greedy();
    let mut group = c.benchmark_group("generation");
    group.sample_size(10);
    group.throughput(Throughput::Elements(32));
    group.bench_function("greedy_32_tokens", |b| {
        b.iter(|| model.generate(&request).unwrap())
    });
    group.finish();
}

criterion_group!(benches, scoring, generation);
criterion_main!(benches);
