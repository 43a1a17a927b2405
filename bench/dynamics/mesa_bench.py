"""Times Mesa 3 implementations of the vox-dynamics benchmark workloads; prints one JSON line.

usage: python mesa_bench.py WORKLOAD N BUDGET_SECONDS
Written the way the Mesa tutorials write models: one Agent per person, `agents.shuffle_do`
once per sweep (so N agent updates per sweep), `self.random` for draws. hk, deffuant and voter
run on the complete graph (a partner is any other agent); HK's inner average uses numpy over
the opinion array, which is the fast way to write it in Mesa. sir runs on Erdős–Rényi
G(N, 10/(N-1)) (networkx, seed 1) with NDlib's discrete-time rule.
"""
import json
import math
import sys
import time

import mesa
import networkx as nx
import numpy as np


class HKAgent(mesa.Agent):
    def __init__(self, model, idx):
        super().__init__(model)
        self.idx = idx

    def step(self):
        x = self.model.x
        within = np.abs(x - x[self.idx]) <= self.model.epsilon
        self.model.next_x[self.idx] = x[within].mean()


class DeffuantAgent(mesa.Agent):
    def __init__(self, model, idx):
        super().__init__(model)
        self.idx = idx

    def step(self):
        m = self.model
        j = m.random.randrange(m.n - 1)
        j = j + 1 if j >= self.idx else j
        x = m.x
        d = x[j] - x[self.idx]
        if abs(d) <= m.epsilon:
            x[self.idx] += 0.5 * d
            x[j] -= 0.5 * d


class VoterAgent(mesa.Agent):
    def __init__(self, model, idx):
        super().__init__(model)
        self.idx = idx

    def step(self):
        m = self.model
        j = m.random.randrange(m.n - 1)
        j = j + 1 if j >= self.idx else j
        m.state[self.idx] = m.state[j]


class SIRAgent(mesa.Agent):
    def __init__(self, model, idx):
        super().__init__(model)
        self.idx = idx

    def step(self):
        m = self.model
        s = m.state[self.idx]
        if s == 0:
            k = sum(1 for j in m.neighbors[self.idx] if m.state[j] == 1)
            if k and m.random.random() < 1.0 - (1.0 - m.beta) ** k:
                m.next_state[self.idx] = 1
        elif s == 1 and m.random.random() < m.gamma:
            m.next_state[self.idx] = 2


class Bench(mesa.Model):
    def __init__(self, workload, n):
        super().__init__(seed=1)
        self.n = n
        self.workload = workload
        if workload == "hk":
            self.epsilon = 0.1
            self.x = np.array([self.random.random() for _ in range(n)])
            self.next_x = self.x.copy()
            cls = HKAgent
        elif workload == "deffuant":
            self.epsilon = 0.2
            self.x = [self.random.random() for _ in range(n)]
            cls = DeffuantAgent
        elif workload == "voter":
            self.state = [i % 2 for i in range(n)]
            cls = VoterAgent
        elif workload == "sir":
            graph = nx.fast_gnp_random_graph(n, 10.0 / (n - 1), seed=1)
            self.neighbors = [list(graph.neighbors(i)) for i in range(n)]
            self.beta, self.gamma = 0.02, 0.01
            self.state = [1 if self.random.random() < 0.01 else 0 for _ in range(n)]
            self.next_state = list(self.state)
            cls = SIRAgent
        else:
            raise SystemExit(f"unknown workload {workload}")
        for i in range(n):
            cls(self, i)

    def step(self):
        self.agents.shuffle_do("step")
        if self.workload == "hk":
            self.x, self.next_x = self.next_x, self.x.copy()
        elif self.workload == "sir":
            self.state = list(self.next_state)


def main():
    workload, n, budget = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    model = Bench(workload, n)
    sweeps = 0
    start = time.perf_counter()
    while True:
        model.step()
        sweeps += 1
        elapsed = time.perf_counter() - start
        if elapsed > budget:
            break
    updates = sweeps * n
    topology = "er" if workload == "sir" else "complete"
    print(json.dumps({"bench": "mesa", "workload": workload, "n": n, "topology": topology,
                      "sweeps": sweeps, "updates": updates, "seconds": round(elapsed, 6),
                      "updates_per_s": round(updates / elapsed, 1)}))


if __name__ == "__main__":
    main()
