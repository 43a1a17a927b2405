//! Reference tests: each model against a closed-form or well-established result, with the
//! numbers of `../shared/reference/dynamics/NOTES.md` (checked there by exact computation or
//! simulation) and the sources named per test.

use vox_dynamics::graph::{Graph, Topology};
use vox_dynamics::models::*;
use vox_dynamics::record::cluster_sizes;
use vox_dynamics::{Scheduler, Simulation, UpdateRule};

/// The 3-agent influence matrix of NOTES.md (DeGroot and Friedkin–Johnsen).
fn notes_w() -> Graph {
    let w = [[0.2, 0.8, 0.0], [0.3, 0.3, 0.4], [0.5, 0.0, 0.5]];
    let mut edges = Vec::new();
    for (i, row) in w.iter().enumerate() {
        for (j, &weight) in row.iter().enumerate() {
            if weight > 0.0 {
                edges.push((i as u32, j as u32, weight));
            }
        }
    }
    Graph::from_edges(3, &edges, true, true).unwrap()
}

fn opinions_of<R: UpdateRule>(rule: &R) -> Vec<f64> {
    rule.view()
        .agent_opinions()
        .expect("continuous model expected")
}

/// DeGroot (1974): with W irreducible and aperiodic, x(t) → (πᵀx₀) 1 where πᵀW = πᵀ, and πᵀx(t)
/// is invariant. NOTES.md: consensus 52/107, π = (35, 40, 32)/107.
#[test]
fn degroot_reaches_the_stationary_weighted_mean_and_keeps_pi_x_invariant() {
    let pi = [35.0 / 107.0, 40.0 / 107.0, 32.0 / 107.0];
    let params = LinearParams {
        initial: InitialOpinions::Values(vec![0.0, 0.5, 1.0]),
    };
    let mut sim = Simulation::new(
        DeGroot::new(params, notes_w(), 0).unwrap(),
        Scheduler::Synchronous,
        0,
    )
    .unwrap();
    for _ in 0..200 {
        sim.step();
        let x = sim.rule().opinions();
        let pi_x: f64 = pi.iter().zip(x).map(|(p, x)| p * x).sum();
        assert!((pi_x - 52.0 / 107.0).abs() < 1e-12, "πᵀx drifted to {pi_x}");
    }
    for x in sim.rule().opinions() {
        assert!((x - 52.0 / 107.0).abs() < 1e-12, "{x}");
    }
}

/// Friedkin & Johnsen (1990): x* = (I − ΛW)⁻¹(I − Λ)x₀. NOTES.md: Λ = diag(½, 4/5, 1) gives
/// x* = (2/23, 9/46, 2/23); the test also solves the linear system directly.
#[test]
fn friedkin_johnsen_reaches_the_closed_form_equilibrium() {
    let w = [[0.2, 0.8, 0.0], [0.3, 0.3, 0.4], [0.5, 0.0, 0.5]];
    let lambda = [0.5, 0.8, 1.0];
    let x0 = [0.0, 0.5, 1.0];
    // Gaussian elimination on (I − ΛW) x = (I − Λ) x₀.
    let mut a = [[0.0; 4]; 3];
    for i in 0..3 {
        for j in 0..3 {
            a[i][j] = f64::from(u8::from(i == j)) - lambda[i] * w[i][j];
        }
        a[i][3] = (1.0 - lambda[i]) * x0[i];
    }
    for col in 0..3 {
        let pivot = (col..3)
            .max_by(|&r, &s| a[r][col].abs().total_cmp(&a[s][col].abs()))
            .unwrap();
        a.swap(col, pivot);
        for row in 0..3 {
            if row != col {
                let factor = a[row][col] / a[col][col];
                let pivot_row = a[col];
                for (target, pivot_value) in a[row].iter_mut().zip(pivot_row).skip(col) {
                    *target -= factor * pivot_value;
                }
            }
        }
    }
    let solved: Vec<f64> = (0..3).map(|i| a[i][3] / a[i][i]).collect();
    let expected = [2.0 / 23.0, 9.0 / 46.0, 2.0 / 23.0];
    for (s, e) in solved.iter().zip(expected) {
        assert!((s - e).abs() < 1e-12, "direct solve {s} vs NOTES {e}");
    }
    let params = FjParams {
        initial: InitialOpinions::Values(x0.to_vec()),
        susceptibility: lambda.to_vec(),
    };
    let mut sim = Simulation::new(
        FriedkinJohnsen::new(params, notes_w(), 0).unwrap(),
        Scheduler::Synchronous,
        0,
    )
    .unwrap();
    while sim.step().n_changed > 0 {
        assert!(sim.sweeps_done() < 10_000, "did not converge");
    }
    for (x, e) in sim.rule().opinions().iter().zip(expected) {
        assert!((x - e).abs() < 1e-10, "{x} vs {e}");
    }
}

fn hk_grid(epsilon: f64) -> Simulation<HkComplete> {
    let params = HkParams {
        epsilon,
        initial: InitialOpinions::Grid {
            low: 0.0,
            high: 1.0,
        },
    };
    Simulation::new(
        HkComplete::new(params, 1001, 0).unwrap(),
        Scheduler::Synchronous,
        0,
    )
    .unwrap()
}

/// Hegselmann & Krause (2002), sorted-window kernel. NOTES.md (exact rational arithmetic):
/// N = 1001, xᵢ = i/1000, self included, ≤ ε, iterated to an exact fixed point. The window uses
/// ≤ ε + 1e-9 (CONFIDENCE_TOLERANCE) because the grid holds pairs exactly ε apart. The counts
/// also follow the 1/(2ε) rule of thumb to within 1.5 clusters.
#[test]
fn hk_grid_reaches_an_exact_fixed_point_with_the_published_cluster_counts() {
    let table = [
        (0.05, 9),
        (0.08, 5),
        (0.10, 5),
        (0.12, 3),
        (0.15, 3),
        (0.18, 3),
        (0.20, 1),
        (0.25, 1),
        (0.30, 1),
    ];
    for (epsilon, expected) in table {
        let mut sim = hk_grid(epsilon);
        let mut changing_sweeps = 0;
        while sim.step().n_changed > 0 {
            changing_sweeps += 1;
            assert!(changing_sweeps < 5000, "ε = {epsilon}: no fixed point");
        }
        let mut x = opinions_of(sim.rule());
        x.sort_by(f64::total_cmp);
        let clusters = cluster_sizes(&x, 1e-9).len();
        assert_eq!(clusters, expected, "ε = {epsilon}");
        assert!(
            (clusters as f64 - 1.0 / (2.0 * epsilon)).abs() <= 1.5,
            "ε = {epsilon}: 1/(2ε) rule"
        );
        if epsilon == 0.20 {
            assert_eq!(
                changing_sweeps, 326,
                "NOTES.md: 326 iterations to settle at ε = 0.2"
            );
        }
    }
}

/// The generic HK update (any graph) agrees with the sorted-window kernel on the complete graph.
#[test]
fn hk_on_the_explicit_complete_graph_matches_the_sorted_window() {
    for (epsilon, expected) in [(0.10, 5), (0.20, 1)] {
        let params = HkParams {
            epsilon,
            initial: InitialOpinions::Grid {
                low: 0.0,
                high: 1.0,
            },
        };
        let rule = HegselmannKrause::new(params, Topology::Complete { n: 1001 }, 0).unwrap();
        let mut sim = Simulation::new(rule, Scheduler::Synchronous, 0).unwrap();
        while sim.step().n_changed > 0 {
            assert!(sim.sweeps_done() < 5000);
        }
        let mut x = sim.rule().opinions().to_vec();
        x.sort_by(f64::total_cmp);
        assert_eq!(cluster_sizes(&x, 1e-6).len(), expected, "ε = {epsilon}");
    }
}

fn deffuant_run(epsilon: f64, n: usize, seed: u64, check_mean: bool) -> Vec<usize> {
    let params = DeffuantParams {
        epsilon,
        mu: 0.5,
        initial: InitialOpinions::default(),
        settle_tolerance: 1e-6,
    };
    let rule = Deffuant::new(params, Topology::Complete { n }, seed).unwrap();
    let mut sim = Simulation::new(rule, Scheduler::Pairwise, seed).unwrap();
    let mean0: f64 = sim.rule().opinions().iter().sum::<f64>() / n as f64;
    loop {
        let outcome = sim.step();
        if check_mean {
            let mean: f64 = sim.rule().opinions().iter().sum::<f64>() / n as f64;
            // Each meeting moves xᵢ and xⱼ by ±μ(xⱼ − xᵢ): the sum is conserved up to one
            // rounding per meeting (≈1e-16); 1e-12 over ~10⁵ meetings leaves a wide margin.
            assert!(
                (mean - mean0).abs() < 1e-12,
                "mean drifted by {}",
                mean - mean0
            );
        }
        if sim.rule().settled(&outcome) {
            break;
        }
        assert!(sim.sweeps_done() < 100_000, "Deffuant did not settle");
    }
    let mut x = sim.rule().opinions().to_vec();
    x.sort_by(f64::total_cmp);
    cluster_sizes(&x, 1e-3)
}

/// Deffuant, Neau, Amblard & Weisbuch (2000): pairwise meetings conserve the mean; ε > ½ gives
/// consensus; smaller ε gives about ⌊1/(2ε)⌋ major clusters (Weisbuch et al. 2002). "Major":
/// at least 5% of agents (minor clusters of a few agents form near the extremes).
#[test]
fn deffuant_conserves_the_mean_and_forms_about_one_over_two_epsilon_clusters() {
    deffuant_run(0.3, 500, 1, true);
    for seed in 0..5 {
        assert_eq!(
            deffuant_run(0.6, 1000, seed, false).len(),
            1,
            "ε = 0.6 seed {seed}: consensus"
        );
    }
    for (epsilon, expected) in [(0.3, 1usize), (0.2, 2), (0.15, 3)] {
        let mut hits = 0;
        for seed in 0..10 {
            let sizes = deffuant_run(epsilon, 1000, seed, false);
            let major = sizes.iter().filter(|&&s| s >= 50).count();
            hits += usize::from(major == expected);
        }
        // The cluster count is itself random near the thresholds; demand it in 8 of 10 runs.
        assert!(
            hits >= 8,
            "ε = {epsilon}: {hits}/10 runs had {expected} major clusters"
        );
    }
}

/// Mean absorption time (in sweeps) of the random-sequential voter model on the complete graph,
/// solved exactly on the birth–death chain of the count k of A: k → k ± 1 each with
/// probability k(N − k)/(N(N − 1)) per update.
fn exact_voter_time(n: usize, k0: usize) -> f64 {
    // T_k satisfies p_k (2T_k − T_{k+1} − T_{k−1}) = 1 with T_0 = T_N = 0; write T_{k+1} − T_k = D_k,
    // so D_k = D_{k−1} − 1/p_k, and fix D_0 by T_N = Σ D = 0.
    let nf = n as f64;
    let p = |k: usize| (k * (n - k)) as f64 / (nf * (nf - 1.0));
    let mut cumulative = vec![0.0; n]; // D_k = D_0 − cumulative[k]
    for k in 1..n {
        cumulative[k] = cumulative[k - 1] + 1.0 / p(k);
    }
    let d0 = cumulative.iter().sum::<f64>() / nf;
    let t_k0: f64 = (0..k0).map(|k| d0 - cumulative[k]).sum();
    t_k0 / nf
}

/// Voter model on the complete graph with random-sequential updates (Liggett; Redner, "A Guide
/// to First-Passage Processes"): T = −N[ρ ln ρ + (1−ρ) ln(1−ρ)] sweeps as N → ∞; NOTES.md gives
/// the exact finite-N mean 137.44 at N = 200, ρ = ½. P(A wins) = ρ (a martingale).
/// 2000 replicates: the consensus time has sd ≈ 0.6·mean, so its mean's standard error is ≈ 1.9
/// sweeps and the 5-SE band (false failure < 1e-6) is ≈ ±10 sweeps (7%).
#[test]
fn voter_consensus_time_and_exit_probability_match_closed_forms() {
    let n = 200;
    let exact = exact_voter_time(n, 100);
    assert!(
        (exact - 137.44).abs() < 0.01,
        "exact chain gives {exact}, NOTES 137.44"
    );
    assert!(
        (exact - n as f64 * 2f64.ln()).abs() / exact < 0.01,
        "N ln 2 closed form"
    );
    let replicates = 2000;
    let mut times = Vec::with_capacity(replicates);
    let mut a_wins = 0;
    for seed in 0..replicates as u64 {
        let rule = QVoter::new(QVoterParams::default(), Topology::Complete { n }, seed).unwrap();
        let mut sim = Simulation::new(rule, Scheduler::RandomSequential, seed).unwrap();
        while !sim.rule().absorbed() {
            sim.step();
        }
        times.push(sim.consensus_time().unwrap());
        a_wins += usize::from(sim.rule().states()[0] == 0);
    }
    let mean = times.iter().sum::<f64>() / replicates as f64;
    let sd =
        (times.iter().map(|t| (t - mean).powi(2)).sum::<f64>() / (replicates - 1) as f64).sqrt();
    let se = sd / (replicates as f64).sqrt();
    assert!(
        (mean - exact).abs() < 5.0 * se,
        "mean {mean} vs exact {exact} (SE {se})"
    );
    // P(A wins) = ½: binomial SE = 0.011, 5 SE = 0.056.
    let p_a = a_wins as f64 / replicates as f64;
    assert!((p_a - 0.5).abs() < 0.056, "P(A wins) = {p_a}");

    // ρ = 0.2 at N = 50: exact chain time and P(A wins) = 0.2 (SE 0.0089, 5 SE = 0.045).
    let (n, replicates) = (50, 2000);
    let exact = exact_voter_time(n, 10);
    let params = QVoterParams {
        initial_fraction_a: 0.2,
        ..QVoterParams::default()
    };
    let (mut a_wins, mut times) = (0, Vec::new());
    for seed in 0..replicates as u64 {
        let rule = QVoter::new(params.clone(), Topology::Complete { n }, seed).unwrap();
        let mut sim = Simulation::new(rule, Scheduler::RandomSequential, seed).unwrap();
        while !sim.rule().absorbed() {
            sim.step();
        }
        times.push(sim.consensus_time().unwrap());
        a_wins += usize::from(sim.rule().states()[0] == 0);
    }
    let p_a = a_wins as f64 / replicates as f64;
    assert!((p_a - 0.2).abs() < 0.045, "P(A wins) = {p_a} at ρ = 0.2");
    let mean = times.iter().sum::<f64>() / replicates as f64;
    let sd =
        (times.iter().map(|t| (t - mean).powi(2)).sum::<f64>() / (replicates - 1) as f64).sqrt();
    assert!(
        (mean - exact).abs() < 5.0 * sd / (replicates as f64).sqrt(),
        "ρ = 0.2: {mean} vs {exact}"
    );
}

/// Root of r = 1 − e^(−R₀ r) in (0, 1] by fixed-point iteration.
fn final_size(r0: f64) -> f64 {
    let mut r = 0.5;
    for _ in 0..10_000 {
        r = 1.0 - (-r0 * r).exp();
    }
    r
}

/// Kermack–McKendrick final-size relation r = 1 − e^(−R₀ r) (NOTES.md: 0.582812, 0.796812,
/// 0.940480 for R₀ = 1.5, 2, 3). Discrete-time SIR on the complete graph with per-edge
/// transmissibility T = β/(β + γ − βγ) and R₀ = (N − 1)T. N = 10⁴ and 12 replicates: the final
/// size of a major outbreak has sd ≈ 0.01 at this N, so the mean over 12 has SE ≈ 0.003; the
/// band ±0.015 also absorbs the O(1/√N) finite-size bias. Minor outbreaks (r < 0.1) are set
/// aside, as the relation describes major ones.
#[test]
fn sir_final_size_solves_the_kermack_mckendrick_relation() {
    let expected = [(1.5, 0.582812), (2.0, 0.796812), (3.0, 0.940480)];
    let n = 10_000;
    let gamma = 0.5;
    for (r0, published) in expected {
        assert!((final_size(r0) - published).abs() < 1e-6);
        let t = r0 / (n - 1) as f64;
        let beta = t * gamma / (1.0 - t * (1.0 - gamma));
        let params = CompartmentalParams {
            beta,
            gamma,
            sigma: None,
            initial_infected: 0.001,
        };
        let mut sizes = Vec::new();
        for seed in 0..12 {
            let rule = Compartmental::new(params.clone(), Topology::Complete { n }, seed).unwrap();
            let mut sim = Simulation::new(rule, Scheduler::Synchronous, seed).unwrap();
            while !sim.rule().absorbed() {
                sim.step();
            }
            let recovered =
                sim.rule().states().iter().filter(|&&s| s == 2).count() as f64 / n as f64;
            if recovered > 0.1 {
                sizes.push(recovered);
            }
        }
        assert!(
            sizes.len() >= 8,
            "R₀ = {r0}: only {} major outbreaks",
            sizes.len()
        );
        let mean = sizes.iter().sum::<f64>() / sizes.len() as f64;
        assert!(
            (mean - published).abs() < 0.015,
            "R₀ = {r0}: mean final size {mean} vs {published}"
        );
    }
}

/// SEIR has the same final size as SIR (the latent period changes timing, not who gets
/// infected); checked at R₀ = 2 with σ = 0.3.
#[test]
fn seir_final_size_matches_sir() {
    let n = 10_000;
    let (gamma, r0) = (0.5, 2.0);
    let t = r0 / (n - 1) as f64;
    let beta = t * gamma / (1.0 - t * (1.0 - gamma));
    let params = CompartmentalParams {
        beta,
        gamma,
        sigma: Some(0.3),
        initial_infected: 0.001,
    };
    let mut sizes = Vec::new();
    for seed in 0..12 {
        let rule = Compartmental::new(params.clone(), Topology::Complete { n }, seed).unwrap();
        let mut sim = Simulation::new(rule, Scheduler::Synchronous, seed).unwrap();
        while !sim.rule().absorbed() {
            sim.step();
        }
        let recovered = sim.rule().states().iter().filter(|&&s| s == 3).count() as f64 / n as f64;
        if recovered > 0.1 {
            sizes.push(recovered);
        }
    }
    let mean = sizes.iter().sum::<f64>() / sizes.len() as f64;
    assert!(
        (mean - 0.796812).abs() < 0.015,
        "SEIR mean final size {mean}"
    );
}

/// Maki & Thompson (1973); Sudbury (1985): the fraction never hearing the rumour tends to
/// 0.203188 (NOTES.md). N = 10⁴, 20 replicates: per-run sd ≈ 0.006 at this N, SE of the mean
/// ≈ 0.0014; the band ±0.008 is > 5 SE and covers the O(1/N) bias.
#[test]
fn maki_thompson_leaves_about_a_fifth_ignorant() {
    let n = 10_000;
    let mut fractions = Vec::new();
    for seed in 0..20 {
        let rule = MakiThompson::new(
            MakiThompsonParams::default(),
            Topology::Complete { n },
            seed,
        )
        .unwrap();
        let mut sim = Simulation::new(rule, Scheduler::RandomSequential, seed).unwrap();
        while !sim.rule().absorbed() {
            sim.step();
        }
        fractions.push(sim.rule().states().iter().filter(|&&s| s == 0).count() as f64 / n as f64);
    }
    let mean = fractions.iter().sum::<f64>() / fractions.len() as f64;
    assert!((mean - 0.203188).abs() < 0.008, "ignorant fraction {mean}");
}
