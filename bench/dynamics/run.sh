#!/usr/bin/env bash
# Whole-tool comparison of vox-dynamics against NDlib 6.0.1 and Mesa 3 on this machine:
# HK, Deffuant, voter and SIR at N = 10^4 with all three, and vox alone at N = 10^6; plus the
# memory measurements the roofline is built from (STREAM triad in memory and in L3, and
# random-access rates for tables the size of each kernel's). Prints JSON lines to
# bench/out/dynamics/results.jsonl and writes bench/dynamics/RESULTS.md.
#
#   python3 -m venv .venv-dynamics && .venv-dynamics/bin/pip install ndlib mesa networkx six scikit-learn
#   bench/dynamics/run.sh            # BUDGET=10 seconds per Python run, ROUNDS=3 at N = 10^6
#   On a shared machine, run it under an exclusive lock that builds take shared (flock -x).
#
# vox stops a workload early where `vox dynamics run` would (UpdateRule::settled), so its rate
# covers the sweeps a real run does; the reference tools run their whole budget. vox repeats
# each workload REPEATS times (default 5, fresh model each time) and reports the median rate
# with the first run's beside it.
#
# NDlib's HK is not Hegselmann-Krause (ndlib issue #263: each iteration writes back only one
# node's update; it also leaves out the node itself and uses strict <). Its HK numbers measure
# the work NDlib does per iteration, not a correct HK; RESULTS.md says so next to them.
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=bench/out/dynamics
mkdir -p "$OUT"
PY=${PYTHON:-.venv-dynamics/bin/python}
BUDGET=${BUDGET:-10}
cargo build --release -p vox-dynamics --example dynamics_bench
BIN=target/release/examples/dynamics_bench
{
  echo "{\"bench\":\"machine\",\"cpu\":\"$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)\",\"cores\":$(nproc),\"budget_s\":$BUDGET,\"load\":\"$(cut -d' ' -f1-3 /proc/loadavg)\"}"
  # vox at N = 10^4 (complete graph and Erdős–Rényi with mean degree 10).
  "$BIN" hk 10000 complete 2000
  "$BIN" hk 10000 er 200
  "$BIN" deffuant 10000 complete 2000
  "$BIN" deffuant 10000 er 2000
  "$BIN" voter 10000 complete 20000
  "$BIN" voter 10000 er 2000
  "$BIN" sir 10000 complete 200
  "$BIN" sir 10000 er 200
  # The reference tools at N = 10^4.
  for workload in hk deffuant voter sir; do
    "$PY" bench/dynamics/ndlib_bench.py "$workload" 10000 "$BUDGET"
    "$PY" bench/dynamics/mesa_bench.py "$workload" 10000 "$BUDGET"
  done
  # vox alone at N = 10^6 against the memory measurements, ROUNDS times over (the shared
  # machine swings both within minutes; summarize.py takes medians): HK on one thread and on
  # all of rayon's threads, and HK with its state summarised after every sweep, as recording
  # a step does.
  for round in $(seq "${ROUNDS:-3}"); do
    "$BIN" bandwidth
    RAYON_NUM_THREADS=1 "$BIN" hk 1000000 complete 50
    "$BIN" hk 1000000 complete 50
    READ_EVERY_SWEEP=1 RAYON_NUM_THREADS=1 "$BIN" hk 1000000 complete 50
    "$BIN" deffuant 1000000 complete 20
    "$BIN" voter 1000000 complete 20
    "$BIN" sir 1000000 er 20
  done
  # N = 10^7, once, three runs each: every state but the voter's bits outgrows the 32 MiB L3,
  # so the memory roofline is the ceiling that binds.
  REPEATS=3 RAYON_NUM_THREADS=1 "$BIN" hk 10000000 complete 50
  REPEATS=3 "$BIN" deffuant 10000000 complete 5
  REPEATS=3 "$BIN" voter 10000000 complete 5
  REPEATS=3 "$BIN" sir 10000000 er 10
} | tee "$OUT/results.jsonl"
"$PY" bench/dynamics/summarize.py "$OUT/results.jsonl" > bench/dynamics/RESULTS.md
cat bench/dynamics/RESULTS.md
