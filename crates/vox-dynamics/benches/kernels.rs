//! Criterion benchmarks of one sweep of the main kernels, seeded, with throughput in agent
//! updates (`cargo bench -p vox-dynamics`).

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use vox_dynamics::graph::{erdos_renyi, Topology};
use vox_dynamics::models::*;
use vox_dynamics::{Scheduler, Simulation, UpdateRule};

const N: usize = 100_000;

fn bench_sweep<R: UpdateRule + Send + Clone>(
    c: &mut Criterion,
    name: &str,
    rule: R,
    scheduler: Scheduler,
) {
    let mut group = c.benchmark_group("sweep");
    group.throughput(Throughput::Elements(N as u64));
    group.sample_size(20);
    group.bench_function(name, |b| {
        b.iter_batched(
            || Simulation::new(rule.clone(), scheduler, 1).expect("supported scheduler"),
            |mut sim| sim.step(),
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

fn kernels(c: &mut Criterion) {
    let hk = HkParams {
        epsilon: 0.1,
        initial: InitialOpinions::default(),
    };
    bench_sweep(
        c,
        "hk_complete_sorted_window",
        HkComplete::new(hk, N, 1).unwrap(),
        Scheduler::Synchronous,
    );
    let deffuant = DeffuantParams {
        epsilon: 0.2,
        mu: 0.5,
        initial: InitialOpinions::default(),
        settle_tolerance: 1e-6,
    };
    bench_sweep(
        c,
        "deffuant_complete_pairwise",
        Deffuant::new(deffuant, Topology::Complete { n: N }, 1).unwrap(),
        Scheduler::Pairwise,
    );
    bench_sweep(
        c,
        "voter_complete_random_sequential",
        QVoter::new(QVoterParams::default(), Topology::Complete { n: N }, 1).unwrap(),
        Scheduler::RandomSequential,
    );
    let graph = Topology::Graph(erdos_renyi(N, 10.0 / (N - 1) as f64, 1).unwrap());
    let sir = CompartmentalParams {
        beta: 0.02,
        gamma: 0.01,
        sigma: None,
        initial_infected: 0.01,
    };
    bench_sweep(
        c,
        "sir_erdos_renyi_synchronous",
        Compartmental::new(sir, graph, 1).unwrap(),
        Scheduler::Synchronous,
    );
}

criterion_group!(benches, kernels);
criterion_main!(benches);
