#!/usr/bin/env bash
# vox's main job on the embedded default model: fetches SmolLM2-135M-Instruct if needed, then
# simulates ~20 OpinionQA questions for party and ideology groups and ~20 GlobalOpinionQA
# questions for 5 countries, scores the simulated answer distributions against the real ones
# next to honest baselines, prints the table and writes vox-demo/report.html.
# This is the README's first command. Extra arguments go to `vox survey demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
export VOX_HOME="${VOX_HOME:-$HOME/.cache/vox}"
cargo build --release --quiet -p vox
VOX=target/release/vox
"$VOX" model pull
"$VOX" survey demo --out vox-demo "$@"
echo "report: $(pwd)/vox-demo/report.html"
