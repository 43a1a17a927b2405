//! Aggregation of votes into unique unordered pairs with win/loss/tie counts: the sufficient
//! statistics every rating model here fits on.

use std::collections::HashMap;

use crate::votes::{Outcome, VoteSet};

/// How Arena's `both_bad` outcome is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BothBadPolicy {
    /// As a tie (arena-rank's and FastChat's convention). Default.
    #[default]
    Tie,
    /// Dropped before fitting.
    Drop,
}

/// One unique unordered pair `(i, j)` with `i < j` and its (possibly weighted) counts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PairCount {
    /// Smaller item id.
    pub i: u32,
    /// Larger item id.
    pub j: u32,
    /// Times `i` beat `j`.
    pub wins_i: f64,
    /// Times `j` beat `i`.
    pub wins_j: f64,
    /// Ties (including `both_bad` when counted as ties).
    pub ties: f64,
}

impl PairCount {
    /// Total comparisons of this pair.
    pub fn total(&self) -> f64 {
        self.wins_i + self.wins_j + self.ties
    }
}

/// All unique pairs of a vote set, sorted by `(i, j)`.
#[derive(Debug, Clone, PartialEq)]
pub struct PairTable {
    /// Number of items (ids run `0..n_items`).
    pub n_items: usize,
    /// The pairs, sorted by `(i, j)`.
    pub pairs: Vec<PairCount>,
}

impl PairTable {
    /// Aggregates votes into unique pairs. `both_bad` follows `both_bad`.
    pub fn from_votes(votes: &VoteSet, both_bad: BothBadPolicy) -> PairTable {
        let mut index: HashMap<(u32, u32), usize> = HashMap::new();
        let mut pairs: Vec<PairCount> = Vec::new();
        for v in &votes.votes {
            let outcome = match (v.outcome, both_bad) {
                (Outcome::BothBad, BothBadPolicy::Drop) => continue,
                (o, _) => o,
            };
            let (i, j, outcome) = if v.a < v.b {
                (v.a, v.b, outcome)
            } else {
                (v.b, v.a, outcome.flipped())
            };
            let idx = *index.entry((i, j)).or_insert_with(|| {
                pairs.push(PairCount {
                    i,
                    j,
                    wins_i: 0.0,
                    wins_j: 0.0,
                    ties: 0.0,
                });
                pairs.len() - 1
            });
            let p = &mut pairs[idx];
            match outcome {
                Outcome::AWins => p.wins_i += 1.0,
                Outcome::BWins => p.wins_j += 1.0,
                Outcome::Tie | Outcome::BothBad => p.ties += 1.0,
            }
        }
        pairs.sort_by_key(|p| (p.i, p.j));
        PairTable {
            n_items: votes.n_items(),
            pairs,
        }
    }

    /// Total comparisons (sum of all counts).
    pub fn total(&self) -> f64 {
        self.pairs.iter().map(PairCount::total).sum()
    }

    /// Dense `n × n` matrices `(wins, ties)`: `wins[i][j]` = times i beat j; `ties` symmetric.
    /// Row-major, length `n_items²` each.
    pub fn matrices(&self) -> (Vec<f64>, Vec<f64>) {
        let n = self.n_items;
        let mut wins = vec![0.0; n * n];
        let mut ties = vec![0.0; n * n];
        for p in &self.pairs {
            let (i, j) = (p.i as usize, p.j as usize);
            wins[i * n + j] += p.wins_i;
            wins[j * n + i] += p.wins_j;
            ties[i * n + j] += p.ties;
            ties[j * n + i] += p.ties;
        }
        (wins, ties)
    }

    /// Comparisons each item took part in.
    pub fn n_per_item(&self) -> Vec<f64> {
        let mut n = vec![0.0; self.n_items];
        for p in &self.pairs {
            n[p.i as usize] += p.total();
            n[p.j as usize] += p.total();
        }
        n
    }

    /// Whether the pairs scored both ways (each side won, or they tied when `ties_count`) join
    /// every item into one connected graph: a sufficient condition for one strongly connected
    /// component, checked by union-find in one pass (no adjacency lists), so that the common
    /// case skips [`PairTable::strong_components`].
    pub fn two_way_connected(&self, ties_count: bool) -> bool {
        let n = self.n_items;
        let mut parent: Vec<u32> = (0..n as u32).collect();
        fn root(parent: &mut [u32], mut x: u32) -> u32 {
            while parent[x as usize] != x {
                let up = parent[parent[x as usize] as usize];
                parent[x as usize] = up;
                x = up;
            }
            x
        }
        let mut components = n;
        for p in &self.pairs {
            let tied = ties_count && p.ties > 0.0;
            if tied || (p.wins_i > 0.0 && p.wins_j > 0.0) {
                let (a, b) = (root(&mut parent, p.i), root(&mut parent, p.j));
                if a != b {
                    parent[a as usize] = b;
                    components -= 1;
                    if components == 1 {
                        return true;
                    }
                }
            }
        }
        components <= 1
    }

    /// Strongly connected components of the "beats" graph (edge i→j when i scored anything
    /// against j; a tie counts both ways). Returns the component id of each item, and the number
    /// of components. Items with no comparisons are their own components.
    pub fn strong_components(&self) -> (Vec<usize>, usize) {
        let n = self.n_items;
        let mut out: Vec<Vec<usize>> = vec![Vec::new(); n];
        for p in &self.pairs {
            let (i, j) = (p.i as usize, p.j as usize);
            if p.wins_i > 0.0 || p.ties > 0.0 {
                out[i].push(j);
            }
            if p.wins_j > 0.0 || p.ties > 0.0 {
                out[j].push(i);
            }
        }
        tarjan(&out)
    }
}

/// Iterative Tarjan SCC. Returns (component of each node, number of components).
fn tarjan(adj: &[Vec<usize>]) -> (Vec<usize>, usize) {
    let n = adj.len();
    const UNSEEN: usize = usize::MAX;
    let mut index = vec![UNSEEN; n];
    let mut low = vec![0usize; n];
    let mut on_stack = vec![false; n];
    let mut comp = vec![UNSEEN; n];
    let mut stack = Vec::new();
    let mut next_index = 0;
    let mut n_comp = 0;
    for root in 0..n {
        if index[root] != UNSEEN {
            continue;
        }
        // (node, next edge position)
        let mut call: Vec<(usize, usize)> = vec![(root, 0)];
        index[root] = next_index;
        low[root] = next_index;
        next_index += 1;
        stack.push(root);
        on_stack[root] = true;
        while let Some(&mut (v, ref mut pos)) = call.last_mut() {
            if *pos < adj[v].len() {
                let w = adj[v][*pos];
                *pos += 1;
                if index[w] == UNSEEN {
                    index[w] = next_index;
                    low[w] = next_index;
                    next_index += 1;
                    stack.push(w);
                    on_stack[w] = true;
                    call.push((w, 0));
                } else if on_stack[w] {
                    low[v] = low[v].min(index[w]);
                }
            } else {
                call.pop();
                if let Some(&(parent, _)) = call.last() {
                    low[parent] = low[parent].min(low[v]);
                }
                if low[v] == index[v] {
                    while let Some(w) = stack.pop() {
                        on_stack[w] = false;
                        comp[w] = n_comp;
                        if w == v {
                            break;
                        }
                    }
                    n_comp += 1;
                }
            }
        }
    }
    (comp, n_comp)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::votes::Outcome::*;

    #[test]
    fn aggregation_canonicalises_orientation() {
        let votes = VoteSet::from_triples(&[
            ("x", "y", AWins),
            ("y", "x", AWins),
            ("y", "x", Tie),
            ("x", "y", BothBad),
        ]);
        let table = PairTable::from_votes(&votes, BothBadPolicy::Tie);
        assert_eq!(
            table.pairs,
            [PairCount {
                i: 0,
                j: 1,
                wins_i: 1.0,
                wins_j: 1.0,
                ties: 2.0
            }]
        );
        let dropped = PairTable::from_votes(&votes, BothBadPolicy::Drop);
        assert_eq!(dropped.pairs[0].ties, 1.0);
    }

    #[test]
    fn components_find_an_unbeaten_item() {
        let votes =
            VoteSet::from_triples(&[("a", "b", AWins), ("b", "c", AWins), ("c", "b", AWins)]);
        let (_, n) = PairTable::from_votes(&votes, BothBadPolicy::Tie).strong_components();
        assert_eq!(n, 2);
        let votes = VoteSet::from_triples(&[("a", "b", AWins), ("b", "a", Tie)]);
        let (_, n) = PairTable::from_votes(&votes, BothBadPolicy::Tie).strong_components();
        assert_eq!(n, 1);
    }
}
