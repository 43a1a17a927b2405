#!/usr/bin/env python3
"""Whole-tool comparison on the 140k Arena votes: vox vs arena-rank, evalica and a scipy L-BFGS
implementation of FastChat's current Bradley-Terry method.

For each tool: one fit (best of 3, warm, from an in-memory table of votes to ratings) and an
R-round bootstrap (default 1000; all tools use every core). Prints a markdown table of times,
ratios (tool time / vox time) and rating agreement with vox, and writes JSON to bench/out/.

Setup (once; evalica's compiled core rejects the numpy arena-rank pins, so it gets its own venv):
    python3 -m venv .venv-prefs && .venv-prefs/bin/pip install arena-rank scipy pandas
    python3 -m venv .venv-evalica && .venv-evalica/bin/pip install evalica pandas
    cargo build --release -p vox-prefs --example prefs_bench
Run:
    .venv-prefs/bin/python bench/prefs/compare.py [--votes PATH] [--rounds 1000] [--slow-rounds N]

--slow-rounds runs fewer bootstrap rounds for evalica and arena-rank (each round is a full refit;
arena-rank needs about 20 minutes for 1,000) and extrapolates linearly to --rounds; the table
marks extrapolated numbers with "~". scipy/FastChat runs all --rounds (about 30 s) unless
--scipy-rounds says otherwise. vox's bootstrap is the median of --vox-runs runs (default 3).
"""

import argparse
import json
import math
import multiprocessing as mp
import os
import subprocess
import sys
import time
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_VOTES = ROOT.parent / "shared/data/arena_human_preference_140k/votes.csv"


def best_of(n, fn):
    best, out = math.inf, None
    for _ in range(n):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


# ---- scipy L-BFGS, FastChat's current method (fastchat/serve/monitor/elo_analysis.py) ----

def fc_preprocess(df):
    n_rows = len(df)
    model_indices, models = pd.factorize(pd.concat([df["model_a"], df["model_b"]]))
    matchups = np.column_stack([model_indices[:n_rows], model_indices[n_rows:]])
    schedule = pd.DataFrame(matchups, columns=["model_a", "model_b"])
    schedule["outcome"] = np.select(
        condlist=[df["winner"] == "model_a", df["winner"] == "model_b"], choicelist=[2, 0], default=1
    )
    matchups_outcomes, weights = np.unique(schedule, return_counts=True, axis=0)
    return matchups_outcomes[:, [0, 1]], matchups_outcomes[:, 2].astype(np.float64) / 2.0, list(models), weights.astype(np.float64)


def fc_loss_and_grad(ratings, matchups, outcomes, weights, alpha=1.0):
    from scipy.special import expit

    matchup_ratings = ratings[matchups]
    logits = alpha * (matchup_ratings[:, 0] - matchup_ratings[:, 1])
    probs = expit(logits)
    loss = -((np.log(probs) * outcomes + np.log(1.0 - probs) * (1.0 - outcomes)) * weights).sum()
    matchups_grads = -alpha * (outcomes - probs) * weights
    model_grad = np.zeros_like(ratings)
    np.add.at(model_grad, matchups[:, [0, 1]], matchups_grads[:, None] * np.array([1.0, -1.0]))
    return loss, model_grad


def fc_fit(matchups, outcomes, weights, n_models, alpha, tol=1e-6):
    from scipy.optimize import minimize

    result = minimize(
        fun=fc_loss_and_grad, x0=np.zeros(n_models), args=(matchups, outcomes, weights, alpha),
        jac=True, method="L-BFGS-B", options={"disp": False, "maxiter": 100, "gtol": tol},
    )
    return result["x"]


def fc_ratings(df):
    matchups, outcomes, models, weights = fc_preprocess(df)
    r = fc_fit(matchups, outcomes, weights, len(models), math.log(10.0))
    return dict(zip(models, r * 400.0 + 1000.0))


def fc_bootstrap(df, rounds):
    matchups, outcomes, models, weights = fc_preprocess(df)
    rng = np.random.default_rng(seed=0)
    idxs = rng.multinomial(n=len(df), pvals=weights / weights.sum(), size=rounds)
    boot_weights = idxs.astype(np.float64) / len(df)
    fn = partial(fc_fit, matchups, outcomes, n_models=len(models), alpha=math.log(10.0))
    with mp.Pool(os.cpu_count()) as pool:
        results = pool.map(fn, boot_weights)
    return np.array(results)


# ---- arena-rank ----

def ar_ratings(df):
    from arena_rank.models.bradley_terry import BradleyTerry
    from arena_rank.utils.data_utils import PairDataset

    ds = PairDataset.from_pandas(df)
    m = BradleyTerry(n_competitors=len(ds.competitors))
    m.fit(ds)
    r = np.asarray(m.params["ratings"]) * m.alpha + m.init_rating
    return dict(zip(ds.competitors, r))


def ar_bootstrap(df, rounds):
    from arena_rank.models.bradley_terry import BradleyTerry
    from arena_rank.utils.data_utils import PairDataset

    import jax
    from arena_rank.models.bradley_terry import fit_single_bootstrap_sample

    # arena-rank's own bootstrap forks a multiprocessing pool after JAX has started its threads,
    # which hung on this machine; so its per-round function runs here in a sequential loop, on the
    # same multinomial counts its `compute_ratings_and_cis(ci_method="bootstrap")` draws.
    ds = PairDataset.from_pandas(df)
    m = BradleyTerry(n_competitors=len(ds.competitors))
    total = float(ds.counts.sum())
    counts = jax.random.multinomial(
        jax.random.PRNGKey(0), n=int(total), p=ds.counts / total, shape=(rounds, ds.counts.shape[0]), dtype=m.dtype
    )
    return [fit_single_bootstrap_sample(counts[i], m, ds) for i in range(rounds)]


# ---- evalica (no built-in bootstrap: resample votes and refit) ----

def ev_winners(df):
    import evalica

    draw = evalica.Winner.Draw
    return df["winner"].map({"model_a": evalica.Winner.X, "model_b": evalica.Winner.Y, "tie": draw, "both_bad": draw})


def ev_ratings(df, winners):
    import evalica

    res = evalica.bradley_terry(df["model_a"], df["model_b"], winners)
    s = res.scores
    theta = np.log(s.values)
    theta -= theta.mean()
    return dict(zip(s.index, theta * 400.0 / math.log(10.0) + 1000.0))


def ev_bootstrap(df, winners, rounds):
    import evalica

    rng = np.random.default_rng(0)
    xs, ys, ws = df["model_a"].to_numpy(), df["model_b"].to_numpy(), winners.to_numpy()
    for _ in range(rounds):
        idx = rng.integers(0, len(df), len(df))
        evalica.bradley_terry(pd.Series(xs[idx]), pd.Series(ys[idx]), pd.Series(ws[idx]))


def compare(ratings, reference, n_votes, min_votes=100):
    """Max |difference| over all items, and over items with >= min_votes after aligning means."""
    common = [k for k in reference if k in ratings]
    raw = max(abs(ratings[k] - reference[k]) for k in common)
    well = [k for k in common if n_votes.get(k, 0) >= min_votes]
    shift = np.mean([ratings[k] - reference[k] for k in well])
    aligned = max(abs(ratings[k] - shift - reference[k]) for k in well)
    return raw, aligned


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--votes", type=Path, default=DEFAULT_VOTES)
    ap.add_argument("--rounds", type=int, default=1000)
    ap.add_argument("--slow-rounds", type=int, default=None, help="rounds for evalica and arena-rank (extrapolated to --rounds)")
    ap.add_argument("--scipy-rounds", type=int, default=None, help="rounds for scipy/FastChat (default: --rounds, not extrapolated)")
    ap.add_argument("--vox-runs", type=int, default=3, help="vox bootstrap runs; the median is reported")
    ap.add_argument("--vox-bin", type=Path, default=ROOT / "target/release/examples/prefs_bench")
    ap.add_argument("--skip", action="append", default=[], help="skip a tool: arena-rank, evalica, scipy")
    ap.add_argument("--evalica-python", type=Path, default=ROOT / ".venv-evalica/bin/python")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    args = ap.parse_args()
    slow = args.slow_rounds or args.rounds
    if args.worker == "evalica":
        df = pd.read_csv(args.votes, usecols=["model_a", "model_b", "winner"])
        winners = ev_winners(df)
        fit_s, r = best_of(3, lambda: ev_ratings(df, winners))
        t = time.perf_counter(); ev_bootstrap(df, winners, args.rounds); boot_s = time.perf_counter() - t
        print(json.dumps({"fit_s": fit_s, "boot_s": boot_s, "boot_rounds": args.rounds, "ratings": r}))
        return

    df = pd.read_csv(args.votes, usecols=["model_a", "model_b", "winner"])
    n_votes = pd.concat([df.model_a, df.model_b]).value_counts().to_dict()
    print(f"{len(df)} votes, {len(n_votes)} models, {os.cpu_count()} cores", file=sys.stderr)

    # vox runs are short, so one noisy moment moves them a lot: report the median of several.
    runs = []
    for _ in range(max(1, args.vox_runs)):
        out = subprocess.run([str(args.vox_bin), str(args.votes), str(args.rounds), "0"], check=True, capture_output=True, text=True)
        runs.append(json.loads(out.stdout))
    runs.sort(key=lambda r: r["bootstrap_s"])
    vox = runs[len(runs) // 2]
    fit_s = min(r["fit_s"] for r in runs)
    results = {"vox": {"fit_s": fit_s, "boot_s": vox["bootstrap_s"], "boot_rounds": args.rounds, "ratings": vox["ratings"]}}
    print(f"vox: fit {fit_s:.4f}s, bootstrap {vox['bootstrap_s']:.3f}s, median of {[round(r['bootstrap_s'], 3) for r in runs]} ({vox['threads']} threads)", file=sys.stderr)

    if "scipy" not in args.skip:
        fit_s, r = best_of(3, lambda: fc_ratings(df))
        fc_rounds = args.scipy_rounds or args.rounds
        t = time.perf_counter(); fc_bootstrap(df, fc_rounds); boot_s = time.perf_counter() - t
        results["scipy (FastChat)"] = {"fit_s": fit_s, "boot_s": boot_s, "boot_rounds": fc_rounds, "ratings": r}
        print(f"scipy: fit {fit_s:.3f}s, {fc_rounds} rounds {boot_s:.2f}s", file=sys.stderr)
    if "evalica" not in args.skip:
        # evalica's compiled core rejects the numpy that arena-rank pins, so it runs in its own
        # interpreter (a venv with just `evalica pandas`).
        cmd = [str(args.evalica_python), __file__, "--worker", "evalica", "--votes", str(args.votes), "--rounds", str(slow)]
        r = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
        results["evalica"] = r
        print(f"evalica: fit {r['fit_s']:.4f}s, {slow} rounds {r['boot_s']:.2f}s", file=sys.stderr)
    if "arena-rank" not in args.skip:
        fit_s, r = best_of(3, lambda: ar_ratings(df))
        t = time.perf_counter(); ar_bootstrap(df, slow); boot_s = time.perf_counter() - t
        results["arena-rank"] = {"fit_s": fit_s, "boot_s": boot_s, "boot_rounds": slow, "ratings": r}
        print(f"arena-rank: fit {fit_s:.3f}s, {slow} rounds {boot_s:.2f}s", file=sys.stderr)

    base = results["vox"]
    per_round_vox = base["boot_s"] / base["boot_rounds"]
    print(f"\n{len(df)} Arena votes, {len(n_votes)} models; bootstrap = {args.rounds} rounds; vox threads = {vox['threads']}\n")
    print("| tool | one fit (s) | fit ratio | bootstrap (s) | bootstrap ratio | max |Δrating| vs vox (all / ≥100 votes, mean-aligned) |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, r in results.items():
        boot_full = r["boot_s"] / r["boot_rounds"] * args.rounds
        mark = "~" if r["boot_rounds"] != args.rounds else ""
        raw, aligned = compare(r["ratings"], base["ratings"], n_votes) if name != "vox" else (0.0, 0.0)
        print(f"| {name} | {r['fit_s']:.4f} | {r['fit_s'] / base['fit_s']:.1f}× | {mark}{boot_full:.2f} | {mark}{boot_full / (per_round_vox * args.rounds):.0f}× | {raw:.3f} / {aligned:.4f} |")
    out_dir = ROOT / "bench/out"
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "prefs.json").write_text(json.dumps({k: {kk: vv for kk, vv in v.items() if kk != "ratings"} for k, v in results.items()}, indent=2))


if __name__ == "__main__":
    main()
