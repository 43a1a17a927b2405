"""Times NDlib 6.0.1 on the vox-dynamics benchmark workloads; prints one JSON line.

usage: python ndlib_bench.py WORKLOAD N BUDGET_SECONDS
WORKLOAD: hk | deffuant | voter | sir, all on the giant component of Erdős–Rényi G(N, 10/(N-1))
(seed 1; it holds all but ~1 node): NDlib needs
65 s and 6.2 GB just to build the complete graph at N = 10^4, so the complete-graph workloads
are compared against Mesa instead.

Agent updates counted per NDlib iteration: hk N (it computes N neighbourhood averages but,
because of ndlib issue #263, writes back only one of them: NDlib's HK is NOT Hegselmann-Krause;
it also leaves out the node itself and uses strict <), deffuant N (AlgorithmicBiasModel with
gamma = 0 runs N pair meetings per iteration), voter 1 (one listener per iteration), sir N.
"""
import json
import random
import sys
import time

import numpy as np

import networkx as nx
import ndlib.models.ModelConfig as mc
import ndlib.models.epidemics as ep
import ndlib.models.opinions as op


def main():
    workload, n, budget = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    graph = nx.fast_gnp_random_graph(n, 10.0 / (n - 1), seed=1)
    # AlgorithmicBiasModel crashes on a node without neighbours (argmax of an empty sequence);
    # G(10^4, <k> = 10) has about 0.5 isolated nodes, so keep the giant component (~all nodes).
    giant = max(nx.connected_components(graph), key=len)
    graph = nx.convert_node_labels_to_integers(graph.subgraph(giant).copy())
    config = mc.Configuration()
    random.seed(1)
    np.random.seed(1)
    if workload == "hk":
        model = op.HKModel(graph)  # takes no seed argument; seeded globally above
        config.add_model_parameter("epsilon", 0.1)
        per_iteration = n
    elif workload == "deffuant":
        model = op.AlgorithmicBiasModel(graph, seed=1)
        config.add_model_parameter("epsilon", 0.2)
        config.add_model_parameter("gamma", 0.0)
        per_iteration = n
    elif workload == "voter":
        model = op.VoterModel(graph, seed=1)
        config.add_model_parameter("fraction_infected", 0.5)
        per_iteration = 1
    elif workload == "sir":
        model = ep.SIRModel(graph, seed=1)
        config.add_model_parameter("beta", 0.02)
        config.add_model_parameter("gamma", 0.01)
        config.add_model_parameter("fraction_infected", 0.01)
        per_iteration = n
    else:
        raise SystemExit(f"unknown workload {workload}")
    model.set_initial_status(config)
    model.iteration()  # iteration 0 only reports the initial state
    iterations = 0
    start = time.perf_counter()
    while True:
        model.iteration()
        iterations += 1
        elapsed = time.perf_counter() - start
        if elapsed > budget:
            break
    per_iteration = per_iteration if per_iteration == 1 else graph.number_of_nodes()
    updates = iterations * per_iteration
    print(json.dumps({"bench": "ndlib", "workload": workload, "n": n, "topology": "er",
                      "iterations": iterations, "updates": updates, "seconds": round(elapsed, 6),
                      "updates_per_s": round(updates / elapsed, 1)}))


if __name__ == "__main__":
    main()
