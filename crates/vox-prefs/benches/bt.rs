//! Criterion benches of the Bradley-Terry core on seeded synthetic votes: one Newton fit and a
//! 100-round bootstrap (throughput in votes).

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use vox_prefs::{BradleyTerry, Outcome, VoteSet};

/// `n_votes` seeded Bradley-Terry votes over `n_items` items with evenly spread strengths.
fn synthetic(n_items: usize, n_votes: usize, seed: u64) -> VoteSet {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let theta: Vec<f64> = (0..n_items)
        .map(|i| 2.0 * i as f64 / n_items as f64 - 1.0)
        .collect();
    let names: Vec<String> = (0..n_items).map(|i| format!("m{i}")).collect();
    let triples: Vec<(String, String, Outcome)> = (0..n_votes)
        .map(|_| {
            let a = rng.random_range(0..n_items);
            let b = (a + rng.random_range(1..n_items)) % n_items;
            let p = 1.0 / (1.0 + (theta[b] - theta[a]).exp());
            let u: f64 = rng.random();
            let outcome = if u < 0.15 {
                Outcome::Tie
            } else if u < 0.15 + 0.85 * p {
                Outcome::AWins
            } else {
                Outcome::BWins
            };
            (names[a].clone(), names[b].clone(), outcome)
        })
        .collect();
    VoteSet::from_triples(&triples)
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("bradley_terry");
    for &(n_items, n_votes) in &[(20usize, 20_000usize), (53, 135_000)] {
        let votes = synthetic(n_items, n_votes, 1);
        group.throughput(Throughput::Elements(n_votes as u64));
        group.bench_with_input(
            BenchmarkId::new("fit", format!("{n_items}x{n_votes}")),
            &votes,
            |b, v| b.iter(|| BradleyTerry::params().fit(v).unwrap()),
        );
        let fit = BradleyTerry::params().fit(&votes).unwrap();
        group.bench_with_input(
            BenchmarkId::new("bootstrap100", format!("{n_items}x{n_votes}")),
            &fit,
            |b, f| b.iter(|| f.bootstrap(0.95, 100, 7).unwrap()),
        );
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = bench
}
criterion_main!(benches);
