//! Timing harness for `bench/dynamics/`: runs one workload of the engine and prints a JSON line
//! with agent updates per second, or measures streaming memory bandwidth.
//!
//! ```text
//! cargo run --release -p vox-dynamics --example dynamics_bench -- hk 10000 complete 50
//! cargo run --release -p vox-dynamics --example dynamics_bench -- bandwidth
//! ```
//! Workloads: `hk`, `deffuant`, `voter`, `sir`; topologies `complete` or `er` (Erdős–Rényi
//! with mean degree 10). Times cover the sweeps only (not graph building), with the scheduler
//! and rule exactly as `vox dynamics run` uses them, minus recording: at most SWEEPS sweeps,
//! stopping early where the run settles (fixed point, absorbing state, Deffuant's settle test).
//! Each workload runs REPEATS times (default 5), each from a freshly built model; the line
//! reports the median rate (`updates_per_s`) and the first run's (`first_run_updates_per_s`),
//! since single runs of 20-300 ms vary by up to 2x on a shared machine, and the median rate of
//! the runs' first sweeps (`first_sweep_updates_per_s`): HK on the complete graph computes one
//! window per *distinct* level, and only its first sweep has every level distinct.
//! HK on the complete graph at N >= 2^16 splits each sweep over rayon's threads
//! (`RAYON_NUM_THREADS=1` for one); the JSON line records the thread count. HK keeps its state
//! as runs of equal levels and writes agents' levels only when something reads them;
//! `READ_EVERY_SWEEP=1` summarises the state view after every sweep (timed), as recording a
//! step does, and the line says `"read_every_sweep":true`.

use std::time::Instant;

use rayon::prelude::*;

use vox_dynamics::graph::{erdos_renyi, Topology};
use vox_dynamics::models::*;
use vox_dynamics::record::Snapshot;
use vox_dynamics::{Scheduler, Simulation, UpdateRule};

/// One timed run, as `vox dynamics run` does it minus recording.
struct Run {
    updates: u64,
    /// Updates that changed an agent's state (SIR: infections and recoveries).
    changed: u64,
    seconds: f64,
    sweeps: u64,
    /// Updates and seconds of the first sweep alone.
    first_sweep: (u64, f64),
}

fn time_run<R: UpdateRule + Send>(rule: R, scheduler: Scheduler, sweeps: u64) -> Run {
    let read_every_sweep = read_every_sweep();
    let mut sim = Simulation::new(rule, scheduler, 1).expect("supported scheduler");
    let start = Instant::now();
    let mut updates = 0;
    let mut changed = 0;
    let mut done = 0;
    let mut first_sweep = (0, 0.0);
    for _ in 0..sweeps {
        let outcome = sim.step();
        if read_every_sweep {
            // What a recorder does after each step: summarise the state view (mean, variance,
            // clusters, consensus).
            std::hint::black_box(Snapshot::of(&sim.rule().view(), 1e-3));
        }
        updates += outcome.n_updates;
        changed += outcome.n_changed;
        done += 1;
        if done == 1 {
            first_sweep = (outcome.n_updates, start.elapsed().as_secs_f64());
        }
        // Stop where `vox dynamics run` stops: a settled run does no more sweeps, and sweeps
        // past a fixed point (HK) are cheaper than the ones that move opinions.
        if sim.rule().settled(&outcome) {
            break;
        }
    }
    Run {
        updates,
        changed,
        seconds: start.elapsed().as_secs_f64(),
        sweeps: done,
        first_sweep,
    }
}

/// Whether `READ_EVERY_SWEEP=1`: each timed sweep is followed by reading the model's state
/// view, as `vox dynamics run` does when it records a step.
fn read_every_sweep() -> bool {
    std::env::var("READ_EVERY_SWEEP").is_ok_and(|v| v == "1")
}

/// What one workload measured: the median rate over `REPEATS` runs (each from a freshly built
/// model, so every run does the same work), the first run's rate, and the median rate of the
/// runs' first sweeps (for HK on the complete graph the one sweep where every agent holds a
/// distinct level, so that it does one window per agent).
struct Timing {
    updates: u64,
    changed: u64,
    sweeps: u64,
    median_seconds: f64,
    first_seconds: f64,
    first_sweep_updates_per_s: f64,
    repeats: usize,
}

fn time_sweeps<R: UpdateRule + Send>(
    make: impl Fn() -> R,
    scheduler: Scheduler,
    sweeps: u64,
) -> Timing {
    let repeats: usize = std::env::var("REPEATS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(5)
        .max(1);
    let runs: Vec<Run> = (0..repeats)
        .map(|_| time_run(make(), scheduler, sweeps))
        .collect();
    let mut seconds: Vec<f64> = runs.iter().map(|r| r.seconds).collect();
    seconds.sort_by(f64::total_cmp);
    let mut first_sweep_rates: Vec<f64> = runs
        .iter()
        .map(|r| r.first_sweep.0 as f64 / r.first_sweep.1)
        .collect();
    first_sweep_rates.sort_by(f64::total_cmp);
    Timing {
        updates: runs[0].updates,
        changed: runs[0].changed,
        sweeps: runs[0].sweeps,
        median_seconds: seconds[repeats / 2],
        first_seconds: runs[0].seconds,
        first_sweep_updates_per_s: first_sweep_rates[repeats / 2],
        repeats,
    }
}

/// Best-of-5 STREAM-style triad a = b + s·c over three 2²⁵-element f64 arrays (768 MiB moved
/// per pass: two reads and one write; write-allocate traffic not counted, as in STREAM), on
/// one thread and split over rayon's threads (the HK kernel's parallel pass uses the same
/// threads); the same triad over three 2²⁰-element arrays (24 MiB, within the 32 MiB L3),
/// repeated, for the bandwidth of a working set that stays in cache; and a copy.
fn bandwidth() {
    let n = 1usize << 25;
    let b = vec![1.0f64; n];
    let c = vec![2.0f64; n];
    let mut a = vec![0.0f64; n];
    let best_of = |passes: usize, mut pass: Box<dyn FnMut() + '_>| {
        let mut best = f64::INFINITY;
        for k in 0..passes {
            let start = Instant::now();
            pass();
            if k > 0 {
                best = best.min(start.elapsed().as_secs_f64());
            }
        }
        best
    };
    let triad = |a: &mut [f64], b: &[f64], c: &[f64]| {
        for k in 0..a.len() {
            a[k] = b[k] + 3.0 * c[k];
        }
        std::hint::black_box(&*a);
    };
    let best = best_of(6, Box::new(|| triad(&mut a, &b, &c)));
    let threads = rayon::current_num_threads();
    let part = n.div_ceil(threads);
    let best_threads = best_of(
        6,
        Box::new(|| {
            a.par_chunks_mut(part)
                .zip(b.par_chunks(part))
                .zip(c.par_chunks(part))
                .for_each(|((a, b), c)| triad(a, b, c));
        }),
    );
    let copy_best = best_of(
        6,
        Box::new(|| {
            a.copy_from_slice(&b);
            std::hint::black_box(&a);
        }),
    );
    let small = 1usize << 20;
    let repeats = n / small;
    let best_small = best_of(
        6,
        Box::new(|| {
            let (a, b, c) = (&mut a[..small], &b[..small], &c[..small]);
            for _ in 0..repeats {
                triad(a, b, c);
            }
        }),
    );
    println!(
        "{{\"bench\":\"bandwidth\",\"triad_gb_s\":{:.2},\"copy_gb_s\":{:.2},\"bytes_per_pass\":{},\"threads\":{threads},\"triad_gb_s_threads\":{:.2},\"triad_in_cache_gb_s\":{:.2},\"in_cache_bytes\":{}}}",
        (3 * 8 * n) as f64 / best / 1e9,
        (2 * 8 * n) as f64 / copy_best / 1e9,
        3 * 8 * n,
        (3 * 8 * n) as f64 / best_threads / 1e9,
        (3 * 8 * n) as f64 / best_small / 1e9,
        3 * 8 * small,
    );
    drop((a, b, c));
    random_access();
}

/// Random accesses per second on one thread, HPCC RandomAccess (GUPS) style: 2²⁴ indices
/// drawn ahead (xorshift, then Lemire's multiply-shift into the table), then a pass that reads
/// the entries they point at (summed) and one that updates them in place (+1). Each table is
/// sized like a kernel's: per-agent states at N = 10⁶ as bytes (voter, SIR), bits (the voter
/// kernel's packed copy), u32 (SIR's infected-neighbour counts) and f64 (Deffuant's opinions;
/// the size of a CSR row-offset array), and a 256 MiB table that no cache holds (memory).
/// Best of 5 passes after a warm-up; one JSON line per table.
fn random_access() {
    fn measure<T: Copy + Default>(
        name: &str,
        entries: usize,
        bump: impl Fn(T) -> T,
        value: impl Fn(T) -> u64,
    ) {
        let mut table = vec![T::default(); entries];
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let indices: Vec<u32> = (0..1usize << 24)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                ((u64::from(state as u32) * entries as u64) >> 32) as u32
            })
            .collect();
        let mut best_read = f64::INFINITY;
        let mut best_update = f64::INFINITY;
        for pass in 0..6 {
            let start = Instant::now();
            let sum = indices
                .iter()
                .fold(0u64, |sum, &i| sum.wrapping_add(value(table[i as usize])));
            std::hint::black_box(sum);
            let read = start.elapsed().as_secs_f64();
            let start = Instant::now();
            for &i in &indices {
                table[i as usize] = bump(table[i as usize]);
            }
            std::hint::black_box(&table);
            let update = start.elapsed().as_secs_f64();
            if pass > 0 {
                best_read = best_read.min(read);
                best_update = best_update.min(update);
            }
        }
        let accesses = indices.len() as f64;
        println!(
            "{{\"bench\":\"random_access\",\"table\":\"{name}\",\"entries\":{entries},\"bytes\":{},\"reads_per_s\":{:.1},\"updates_per_s\":{:.1}}}",
            entries * std::mem::size_of::<T>(),
            accesses / best_read,
            accesses / best_update,
        );
    }
    let n = 1_000_000;
    measure::<u8>("u8", n, |x| x.wrapping_add(1), u64::from);
    measure::<u64>("bits", n.div_ceil(64), |x| x ^ 1, |x| x);
    measure::<u32>("u32", n, |x| x.wrapping_add(1), u64::from);
    measure::<f64>("f64", n, |x| x + 1.0, f64::to_bits);
    measure::<u64>("memory", 1 << 25, |x| x.wrapping_add(1), |x| x);
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("bandwidth") {
        bandwidth();
        return;
    }
    if args.len() != 4 {
        eprintln!("usage: dynamics_bench WORKLOAD N TOPOLOGY SWEEPS | bandwidth");
        std::process::exit(2);
    }
    let workload = args[0].as_str();
    let n: usize = args[1].parse().expect("N");
    let sweeps: u64 = args[3].parse().expect("SWEEPS");
    let topology = match args[2].as_str() {
        "complete" => Topology::Complete { n },
        "er" => Topology::Graph(erdos_renyi(n, 10.0 / (n - 1) as f64, 1).expect("graph")),
        other => panic!("unknown topology {other}"),
    };
    let seed = 1;
    let timing = match (workload, &topology) {
        ("hk", Topology::Complete { .. }) => {
            let params = HkParams {
                epsilon: 0.1,
                initial: InitialOpinions::default(),
            };
            time_sweeps(
                || HkComplete::new(params.clone(), n, seed).unwrap(),
                Scheduler::Synchronous,
                sweeps,
            )
        }
        ("hk", _) => {
            let params = HkParams {
                epsilon: 0.1,
                initial: InitialOpinions::default(),
            };
            time_sweeps(
                || HegselmannKrause::new(params.clone(), topology.clone(), seed).unwrap(),
                Scheduler::Synchronous,
                sweeps,
            )
        }
        ("deffuant", _) => {
            let params = DeffuantParams {
                epsilon: 0.2,
                mu: 0.5,
                initial: InitialOpinions::default(),
                settle_tolerance: 1e-6,
            };
            time_sweeps(
                || Deffuant::new(params.clone(), topology.clone(), seed).unwrap(),
                Scheduler::Pairwise,
                sweeps,
            )
        }
        ("voter", _) => time_sweeps(
            || QVoter::new(QVoterParams::default(), topology.clone(), seed).unwrap(),
            Scheduler::RandomSequential,
            sweeps,
        ),
        ("sir", _) => {
            // γ = 0.01 keeps agents infectious for ~100 sweeps, so the epidemic is still running
            // through the timed window (as in the NDlib and Mesa runs).
            let params = CompartmentalParams {
                beta: 0.02,
                gamma: 0.01,
                sigma: None,
                initial_infected: 0.01,
            };
            time_sweeps(
                || Compartmental::new(params.clone(), topology.clone(), seed).unwrap(),
                Scheduler::Synchronous,
                sweeps,
            )
        }
        (other, _) => panic!("unknown workload {other}"),
    };
    let Timing {
        updates,
        changed,
        sweeps: sweeps_done,
        median_seconds,
        first_seconds,
        first_sweep_updates_per_s,
        repeats,
    } = timing;
    println!(
        "{{\"bench\":\"vox\",\"workload\":\"{workload}\",\"n\":{n},\"topology\":\"{}\",\"threads\":{},\"sweeps\":{sweeps_done},\"updates\":{updates},\"changed\":{changed},\"repeats\":{repeats},\"seconds\":{median_seconds:.6},\"updates_per_s\":{:.1},\"first_run_updates_per_s\":{:.1},\"first_sweep_updates_per_s\":{first_sweep_updates_per_s:.1},\"read_every_sweep\":{}}}",
        args[2],
        rayon::current_num_threads(),
        updates as f64 / median_seconds,
        updates as f64 / first_seconds,
        read_every_sweep()
    );
}
