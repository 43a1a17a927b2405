//! End-to-end tests of the embedded backend on the real SmolLM2-135M-Instruct GGUF: tokenizer
//! and option log-probabilities against llama.cpp's golden values, KV-cache sharing, prefix
//! reuse, seeded generation, hidden states and error handling.
//!
//! The model comes from `VOX_MODEL`, or the store (`VOX_HOME`, default `~/.cache/vox`); `.ci/run`
//! pulls it first. A missing model fails the tests with instructions, never skips them.

use std::path::PathBuf;
use std::sync::OnceLock;

use serde::Deserialize;
use vox_lm::embedded::{EmbeddedConfig, EmbeddedModel};
use vox_lm::{GenerateRequest, LanguageModel, LmError, Prompt, Sampling, ScoreRequest};

fn model_path() -> PathBuf {
    match std::env::var_os("VOX_MODEL") {
        Some(path) => PathBuf::from(path),
        None => vox_lm::store::Store::from_env()
            .unwrap()
            .default_model_path(),
    }
}

fn model() -> &'static EmbeddedModel {
    static MODEL: OnceLock<EmbeddedModel> = OnceLock::new();
    MODEL.get_or_init(|| {
        let path = model_path();
        EmbeddedModel::load(&path, EmbeddedConfig::default()).unwrap_or_else(|e| {
            panic!("cannot load the embedded model ({e}); run `vox model pull` or set VOX_MODEL")
        })
    })
}

#[derive(Deserialize)]
struct Golden {
    tokens: Vec<GoldenTokens>,
    scores: Vec<GoldenScores>,
}

#[derive(Deserialize)]
struct GoldenTokens {
    text: String,
    ids: Vec<u32>,
}

#[derive(Deserialize)]
struct GoldenScores {
    prompt: String,
    options: Vec<GoldenOption>,
}

#[derive(Deserialize)]
struct GoldenOption {
    text: String,
    logprob: f64,
    n_tokens: usize,
}

/// Golden values from llama.cpp (llama-cpp-python 0.3.36) on the same GGUF; regenerate with
/// `python3 bench/lm_scoring/llamacpp_golden.py MODEL.gguf crates/vox-lm/tests/golden/llamacpp.json`.
fn golden() -> Golden {
    serde_json::from_str(include_str!("golden/llamacpp.json")).unwrap()
}

#[test]
fn tokenizer_matches_llama_cpp() {
    for case in golden().tokens {
        assert_eq!(
            model().tokenize(&case.text).unwrap(),
            case.ids,
            "token ids of {:?}",
            case.text
        );
    }
}

/// Tolerances. llama.cpp multiplies Q4_1 weights by activations quantised to 8 bits, while
/// vox uses the exact dequantised weights with f32 activations; on this model that moves a
/// per-option log-probability by about 0.1 nats (NOTES.md), more for long, unlikely options
/// whose log-probabilities sum many tokens. We allow 0.1 nats per token plus 0.15, and 0.05
/// absolute on the softmax over options.
const NATS_PER_TOKEN: f64 = 0.1;
const NATS_BASE: f64 = 0.15;
const PROB_TOLERANCE: f64 = 0.05;

#[test]
fn option_logprobs_match_llama_cpp_within_quantisation_noise() {
    for case in golden().scores {
        let options: Vec<String> = case.options.iter().map(|o| o.text.clone()).collect();
        let scores = model()
            .score_options(&ScoreRequest {
                prompt: Prompt::Raw(case.prompt.clone()),
                options,
            })
            .unwrap();
        let ours = scores.distribution();
        let theirs = softmax(&case.options.iter().map(|o| o.logprob).collect::<Vec<_>>());
        for ((got, want), (p_got, p_want)) in scores
            .options
            .iter()
            .zip(&case.options)
            .zip(ours.iter().zip(&theirs))
        {
            assert_eq!(got.n_tokens, want.n_tokens, "{:?}", want.text);
            let tolerance = NATS_BASE + NATS_PER_TOKEN * want.n_tokens as f64;
            assert!(
                (got.logprob - want.logprob).abs() <= tolerance,
                "{:?} after {:?}: vox {} vs llama.cpp {} (tolerance {tolerance})",
                want.text,
                case.prompt,
                got.logprob,
                want.logprob
            );
            assert!(
                (p_got - p_want).abs() <= PROB_TOLERANCE,
                "{:?}: p {p_got} vs {p_want}",
                want.text
            );
        }
    }
}

fn softmax(xs: &[f64]) -> Vec<f64> {
    let max = xs.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let w: Vec<f64> = xs.iter().map(|x| (x - max).exp()).collect();
    let total: f64 = w.iter().sum();
    w.iter().map(|x| x / total).collect()
}

#[test]
fn shared_prompt_scoring_equals_one_option_at_a_time() {
    let prompt = Prompt::user("Which season do you like most?");
    let options: Vec<String> = [
        "Summer, because it is warm.",
        "Winter.",
        "I like autumn best",
    ]
    .map(String::from)
    .into();
    let together = model()
        .score_options(&ScoreRequest {
            prompt: prompt.clone(),
            options: options.clone(),
        })
        .unwrap();
    for (i, option) in options.iter().enumerate() {
        let alone = model()
            .score_options(&ScoreRequest {
                prompt: prompt.clone(),
                options: vec![option.clone()],
            })
            .unwrap();
        let diff = (alone.options[0].logprob - together.options[i].logprob).abs();
        assert!(
            diff < 1e-3,
            "option {i}: alone {} vs shared {}",
            alone.options[0].logprob,
            together.options[i].logprob
        );
    }
}

#[test]
fn batch_with_prefix_reuse_equals_single_requests() {
    let preamble = "You are a 45-year-old farmer from Iowa who votes Republican. ";
    let requests: Vec<ScoreRequest> = [
        "Do you support farm subsidies?",
        "Do you like cities?",
        "Is trade good?",
    ]
    .iter()
    .map(|q| ScoreRequest {
        prompt: Prompt::user(format!("{preamble}{q}")),
        options: vec!["Yes".into(), "No".into()],
    })
    .collect();
    let batch = model().score_batch(&requests).unwrap();
    for (request, batched) in requests.iter().zip(&batch) {
        // Score something unrelated first so the single request cannot reuse the cache.
        model()
            .score_options(&ScoreRequest {
                prompt: Prompt::Raw("Unrelated.".into()),
                options: vec![" x".into()],
            })
            .unwrap();
        let single = model().score_options(request).unwrap();
        for (a, b) in single.options.iter().zip(&batched.options) {
            assert!(
                (a.logprob - b.logprob).abs() < 1e-3,
                "{} vs {}",
                a.logprob,
                b.logprob
            );
        }
    }
}

#[test]
fn next_token_letters_match_single_token_options() {
    let prompt = Prompt::user("Pick one letter: A, B or C.");
    let letters: Vec<String> = ["A", "B", "C"].map(String::from).into();
    let next = model().next_token_logprobs(&prompt, &letters).unwrap();
    let scored = model()
        .score_options(&ScoreRequest {
            prompt,
            options: letters,
        })
        .unwrap();
    for (n, s) in next.iter().zip(&scored.options) {
        assert!((n - s.logprob).abs() < 1e-3);
    }
    let err = model()
        .next_token_logprobs(&Prompt::Raw("x".into()), &["Strongly agree".into()])
        .unwrap_err();
    assert!(matches!(err, LmError::InvalidRequest(_)), "{err}");
}

#[test]
fn chat_generation_is_coherent_and_seeded() {
    let mut request = GenerateRequest::new(Prompt::user(
        "What is the capital of France? Answer in one sentence.",
    ));
    request.max_tokens = 24;
    request.sampling = Sampling::greedy();
    let greedy = model().generate(&request).unwrap();
    assert!(greedy.text.contains("Paris"), "{:?}", greedy.text);

    request.sampling = Sampling {
        temperature: 1.0,
        top_p: 0.95,
        seed: 42,
    };
    let first = model().generate(&request).unwrap();
    let again = model().generate(&request).unwrap();
    assert_eq!(first, again, "the same seed must give the same text");
    let seeds: Vec<String> = (0..4)
        .map(|seed| {
            request.sampling.seed = seed;
            model().generate(&request).unwrap().text
        })
        .collect();
    assert!(
        seeds.iter().any(|t| t != &seeds[0]),
        "four seeds at temperature 1 all gave {:?}",
        seeds[0]
    );
}

#[test]
fn stop_strings_and_max_tokens_end_generation() {
    let mut request = GenerateRequest::new(Prompt::Raw("1, 2, 3, 4, 5,".into()));
    request.sampling = Sampling::greedy();
    request.max_tokens = 30;
    request.stop = vec![" 8".into()];
    let out = model().generate(&request).unwrap();
    assert_eq!(out.finish, vox_lm::FinishReason::Stop, "{out:?}");
    assert!(
        !out.text.contains(" 8") && out.text.contains('7'),
        "{:?}",
        out.text
    );
    request.stop.clear();
    request.max_tokens = 3;
    let out = model().generate(&request).unwrap();
    assert_eq!(
        (out.n_generated_tokens, out.finish),
        (3, vox_lm::FinishReason::Length)
    );
}

#[test]
fn hidden_states_cover_every_layer_and_token() {
    let states = model()
        .hidden_states(&Prompt::Raw("The sky is blue.".into()))
        .unwrap();
    let meta = model().metadata();
    assert_eq!(states.layers.len(), meta.n_layers + 1);
    assert_eq!(states.hidden_size, meta.hidden_size);
    for layer in &states.layers {
        assert_eq!(layer.len(), states.tokens.len());
        assert!(layer
            .iter()
            .all(|v| v.len() == meta.hidden_size && v.iter().all(|x| x.is_finite())));
    }
    // The residual stream changes from layer to layer.
    assert_ne!(states.layers[0][0], states.layers[meta.n_layers][0]);
}

#[test]
fn bad_inputs_get_clear_errors() {
    let missing = EmbeddedModel::load(
        "/nonexistent/model.gguf".as_ref(),
        EmbeddedConfig::default(),
    )
    .unwrap_err();
    assert!(
        matches!(missing, LmError::ModelNotFound { .. })
            && missing.to_string().contains("vox model pull"),
        "{missing}"
    );

    let dir = tempfile::tempdir().unwrap();
    let not_gguf = dir.path().join("notes.gguf");
    std::fs::write(&not_gguf, b"this is not a model").unwrap();
    let err = EmbeddedModel::load(&not_gguf, EmbeddedConfig::default()).unwrap_err();
    assert!(
        matches!(err, LmError::BadModelFile { .. }) && err.to_string().contains("notes.gguf"),
        "{err}"
    );

    let empty = model()
        .score_options(&ScoreRequest {
            prompt: Prompt::Raw("Hi".into()),
            options: vec![],
        })
        .unwrap_err();
    assert!(
        empty.to_string().contains("option list is empty"),
        "{empty}"
    );
    let empty_option = model()
        .score_options(&ScoreRequest {
            prompt: Prompt::Raw("Hi".into()),
            options: vec!["".into()],
        })
        .unwrap_err();
    assert!(
        matches!(empty_option, LmError::InvalidRequest(_)),
        "{empty_option}"
    );

    let long = "word ".repeat(9000);
    let overflow = model()
        .score_options(&ScoreRequest {
            prompt: Prompt::Raw(long),
            options: vec![" x".into()],
        })
        .unwrap_err();
    assert!(
        matches!(
            overflow,
            LmError::ContextOverflow {
                context_length: 8192,
                ..
            }
        ),
        "{overflow}"
    );
}

#[test]
fn grouped_batch_scoring_equals_single_requests_for_mixed_items() {
    // Shared and unshared prefixes, an identical prompt twice, one prompt that is a prefix of
    // another, options of different lengths, a chat and a raw prompt, and one item longer than
    // a whole group: all must score as they do alone.
    let persona = |p: &str, q: &str| Prompt::user(format!("You are {p}. {q}"));
    let options = |xs: &[&str]| xs.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let long_question = format!(
        "Consider this: {} Do you agree?",
        "the weather is mild and the town is calm. ".repeat(40)
    );
    let requests = vec![
        ScoreRequest {
            prompt: persona("a farmer", "Do you like rain?"),
            options: options(&["Yes", "No", "Only in spring, honestly"]),
        },
        ScoreRequest {
            prompt: persona("a farmer", "Do you like cities?"),
            options: options(&["Yes", "No"]),
        },
        ScoreRequest {
            prompt: persona("a nurse", "Do you like rain?"),
            options: options(&["Yes", "No"]),
        },
        ScoreRequest {
            prompt: persona("a farmer", "Do you like rain?"),
            options: options(&["No", "Yes"]),
        },
        ScoreRequest {
            prompt: Prompt::Raw("The capital of France is".into()),
            options: options(&[" Paris", " Lyon"]),
        },
        ScoreRequest {
            prompt: Prompt::Raw("The capital of France is Paris and".into()),
            options: options(&[" Berlin is", " so"]),
        },
        ScoreRequest {
            prompt: persona("a nurse", &long_question),
            options: options(&["Yes", "No"]),
        },
    ];
    let batch = model().score_batch(&requests).unwrap();
    for (i, (request, batched)) in requests.iter().zip(&batch).enumerate() {
        model()
            .score_options(&ScoreRequest {
                prompt: Prompt::Raw("Unrelated.".into()),
                options: vec![" x".into()],
            })
            .unwrap();
        let single = model().score_options(request).unwrap();
        assert_eq!(single.options.len(), batched.options.len());
        for (a, b) in single.options.iter().zip(&batched.options) {
            assert_eq!((&a.text, a.n_tokens), (&b.text, b.n_tokens));
            assert!(
                (a.logprob - b.logprob).abs() < 1e-3,
                "item {i} {:?}: single {} vs batch {}",
                a.text,
                a.logprob,
                b.logprob
            );
        }
    }
}
