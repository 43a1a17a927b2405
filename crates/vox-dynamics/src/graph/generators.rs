//! Seeded random-graph generators: complete, Erdős–Rényi, Watts–Strogatz, Barabási–Albert and the
//! stochastic block model. All return undirected, unweighted [`Graph`]s.

use std::collections::HashSet;

use rand::Rng;

use super::Graph;
use crate::error::{invalid, Result};
use crate::rng::{seeded, streams};

/// The complete graph on `n` nodes as an explicit CSR (`n (n - 1)` arcs). Prefer
/// [`super::Topology::Complete`], which costs no memory, unless a model needs explicit rows.
///
/// # Errors
/// When `n (n - 1)` arcs would exceed 2³¹ (16 GiB of ids); use the implicit topology instead.
pub fn complete(n: usize) -> Result<Graph> {
    if n.saturating_mul(n.saturating_sub(1)) > 1 << 31 {
        return Err(invalid(
            "n_agents",
            "explicit complete graph too large; use topology = \"complete\"",
        ));
    }
    let mut edges = Vec::with_capacity(n * n.saturating_sub(1) / 2);
    for i in 0..n as u32 {
        for j in i + 1..n as u32 {
            edges.push((i, j, 1.0));
        }
    }
    Graph::from_edges(n, &edges, false, false)
}

/// Calls `emit(k)` for each index `k < total` kept independently with probability `p`, using
/// geometric skips so that the cost is O(kept) rather than O(total) (Batagelj & Brandes 2005).
fn bernoulli_indices<R: Rng>(total: u64, p: f64, rng: &mut R, mut emit: impl FnMut(u64)) {
    if p <= 0.0 || total == 0 {
        return;
    }
    if p >= 1.0 {
        (0..total).for_each(emit);
        return;
    }
    let log_q = (1.0 - p).ln();
    let mut k: i128 = -1;
    loop {
        let u: f64 = 1.0 - rng.random::<f64>(); // in (0, 1]
        k += 1 + (u.ln() / log_q).floor() as i128;
        if k >= total as i128 {
            return;
        }
        emit(k as u64);
    }
}

/// Erdős–Rényi G(n, p): each of the n(n−1)/2 pairs is an edge with probability `p`.
/// Expected cost O(n + p n²/2).
///
/// # Errors
/// When `p` is not in [0, 1].
pub fn erdos_renyi(n: usize, p: f64, seed: u64) -> Result<Graph> {
    if !(0.0..=1.0).contains(&p) {
        return Err(invalid("graph.p", format!("must be in [0, 1], got {p}")));
    }
    let mut rng = seeded(seed, streams::GRAPH);
    let mut edges = Vec::new();
    let n64 = n as u64;
    bernoulli_indices(n64 * n64.saturating_sub(1) / 2, p, &mut rng, |k| {
        edges.push(pair_from_index(k));
    });
    Graph::from_edges(n, &edges, false, false)
}

/// Maps `k` in 0..n(n−1)/2 to the pair (i, j), j < i, in row-major lower-triangle order.
fn pair_from_index(k: u64) -> (u32, u32, f64) {
    // i is the largest integer with i(i−1)/2 <= k.
    let mut i = ((1.0 + (1.0 + 8.0 * k as f64).sqrt()) / 2.0).floor() as u64;
    while i * (i - 1) / 2 > k {
        i -= 1;
    }
    while (i + 1) * i / 2 <= k {
        i += 1;
    }
    let j = k - i * (i - 1) / 2;
    (i as u32, j as u32, 1.0)
}

/// Watts–Strogatz small world: a ring where each node links to its `k` nearest neighbours
/// (`k` even), then each edge's far end is rewired with probability `p` to a uniform node,
/// avoiding self-loops and duplicate edges.
///
/// # Errors
/// When `k` is odd or `k >= n`, or `p` is not in [0, 1].
pub fn watts_strogatz(n: usize, k: usize, p: f64, seed: u64) -> Result<Graph> {
    if !k.is_multiple_of(2) || k >= n.max(1) {
        return Err(invalid(
            "graph.k",
            format!("must be even and below n = {n}, got {k}"),
        ));
    }
    if !(0.0..=1.0).contains(&p) {
        return Err(invalid("graph.p", format!("must be in [0, 1], got {p}")));
    }
    let mut rng = seeded(seed, streams::GRAPH);
    let key = |a: usize, b: usize| {
        if a < b {
            (a as u32, b as u32)
        } else {
            (b as u32, a as u32)
        }
    };
    let mut edge_set: HashSet<(u32, u32)> = HashSet::with_capacity(n * k / 2);
    let mut edges = Vec::with_capacity(n * k / 2);
    for i in 0..n {
        for offset in 1..=k / 2 {
            let j = (i + offset) % n;
            edge_set.insert(key(i, j));
            edges.push((i, j));
        }
    }
    for edge in edges.iter_mut() {
        if rng.random::<f64>() < p {
            let (i, j) = *edge;
            // Give up rewiring a node that is already linked to everyone.
            for _ in 0..n {
                let candidate = rng.random_range(0..n);
                if candidate != i && !edge_set.contains(&key(i, candidate)) {
                    edge_set.remove(&key(i, j));
                    edge_set.insert(key(i, candidate));
                    *edge = (i, candidate);
                    break;
                }
            }
        }
    }
    let triples: Vec<_> = edges
        .iter()
        .map(|&(a, b)| (a as u32, b as u32, 1.0))
        .collect();
    Graph::from_edges(n, &triples, false, false)
}

/// Barabási–Albert preferential attachment: start from a clique of `m + 1` nodes; each new node
/// attaches to `m` distinct existing nodes chosen with probability proportional to degree.
///
/// # Errors
/// When `m == 0` or `m >= n`.
pub fn barabasi_albert(n: usize, m: usize, seed: u64) -> Result<Graph> {
    if m == 0 || m >= n {
        return Err(invalid(
            "graph.m",
            format!("must be in 1..n (n = {n}), got {m}"),
        ));
    }
    let mut rng = seeded(seed, streams::GRAPH);
    let mut edges = Vec::with_capacity(n * m);
    // Each node appears in `endpoints` once per incident edge, so a uniform draw is
    // degree-proportional.
    let mut endpoints: Vec<u32> = Vec::with_capacity(2 * n * m);
    for i in 0..=m as u32 {
        for j in 0..i {
            edges.push((i, j, 1.0));
            endpoints.extend([i, j]);
        }
    }
    let mut chosen: Vec<u32> = Vec::with_capacity(m);
    for new in (m + 1) as u32..n as u32 {
        chosen.clear();
        while chosen.len() < m {
            let target = endpoints[rng.random_range(0..endpoints.len())];
            if !chosen.contains(&target) {
                chosen.push(target);
            }
        }
        for &target in &chosen {
            edges.push((new, target, 1.0));
            endpoints.extend([new, target]);
        }
    }
    Graph::from_edges(n, &edges, false, false)
}

/// Stochastic block model: blocks of the given `sizes` (nodes numbered block by block); a pair in
/// blocks (a, b) is an edge with probability `probabilities[a][b]` (must be symmetric).
///
/// # Errors
/// When the matrix is not `sizes.len()` square and symmetric with entries in [0, 1].
pub fn stochastic_block_model(
    sizes: &[usize],
    probabilities: &[Vec<f64>],
    seed: u64,
) -> Result<Graph> {
    let n_blocks = sizes.len();
    if probabilities.len() != n_blocks || probabilities.iter().any(|row| row.len() != n_blocks) {
        return Err(invalid(
            "graph.probabilities",
            format!("must be a {n_blocks}x{n_blocks} matrix"),
        ));
    }
    for (a, row) in probabilities.iter().enumerate() {
        for (b, &p) in row.iter().enumerate() {
            if !(0.0..=1.0).contains(&p) || p != probabilities[b][a] {
                return Err(invalid(
                    "graph.probabilities",
                    format!("entry [{a}][{b}] = {p} must be in [0, 1] and symmetric"),
                ));
            }
        }
    }
    let mut rng = seeded(seed, streams::GRAPH);
    let starts: Vec<u64> = sizes
        .iter()
        .scan(0u64, |acc, &s| {
            let start = *acc;
            *acc += s as u64;
            Some(start)
        })
        .collect();
    let mut edges = Vec::new();
    for a in 0..n_blocks {
        for b in 0..=a {
            let (size_a, size_b) = (sizes[a] as u64, sizes[b] as u64);
            if a == b {
                bernoulli_indices(
                    size_a * size_a.saturating_sub(1) / 2,
                    probabilities[a][b],
                    &mut rng,
                    |k| {
                        let (i, j, w) = pair_from_index(k);
                        edges.push((i + starts[a] as u32, j + starts[a] as u32, w));
                    },
                );
            } else {
                bernoulli_indices(size_a * size_b, probabilities[a][b], &mut rng, |k| {
                    edges.push((
                        (starts[a] + k / size_b) as u32,
                        (starts[b] + k % size_b) as u32,
                        1.0,
                    ));
                });
            }
        }
    }
    Graph::from_edges(sizes.iter().sum(), &edges, false, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pair_index_round_trips() {
        let mut k = 0;
        for i in 1..50u32 {
            for j in 0..i {
                assert_eq!(pair_from_index(k), (i, j, 1.0));
                k += 1;
            }
        }
    }

    #[test]
    fn erdos_renyi_mean_degree_matches_p() {
        // E[k] = p (n - 1) = 9.999; the sd of the mean over 2000 nodes is about 0.1.
        let graph = erdos_renyi(2000, 0.005, 7).unwrap();
        assert!(
            (graph.mean_degree() - 9.995).abs() < 0.5,
            "{}",
            graph.mean_degree()
        );
        assert_eq!(graph, erdos_renyi(2000, 0.005, 7).unwrap());
    }

    #[test]
    fn generators_have_expected_edge_counts() {
        assert_eq!(complete(5).unwrap().n_arcs(), 20);
        assert_eq!(watts_strogatz(100, 4, 0.3, 1).unwrap().n_arcs(), 400);
        // Clique of 3 nodes (3 edges) plus 97 nodes with 2 edges each.
        assert_eq!(
            barabasi_albert(100, 2, 1).unwrap().n_arcs(),
            2 * (3 + 97 * 2)
        );
        let sbm = stochastic_block_model(&[50, 50], &[vec![1.0, 0.0], vec![0.0, 1.0]], 3).unwrap();
        assert_eq!(sbm.n_arcs(), 2 * 2 * 50 * 49 / 2);
        assert!(sbm.neighbors(0).iter().all(|&j| j < 50));
    }
}
