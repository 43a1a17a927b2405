#!/usr/bin/env bash
# vox's main job on the embedded default model: pulls SmolLM2-135M-Instruct if needed, then
# runs the demonstration. This is the README's first command.
set -euo pipefail
cd "$(dirname "$0")/.."
export VOX_HOME="${VOX_HOME:-$HOME/.cache/vox}"
cargo build --release --quiet -p vox
VOX=target/release/vox
"$VOX" model pull
echo "== generation (chat template, seeded) =="
"$VOX" lm generate --prompt "In two sentences, why do surveys use random samples?" --max-tokens 60 --seed 7
echo "== option scoring (log-probability of each answer) =="
"$VOX" lm score --prompt "Do you agree: 'The government should do more to reduce income inequality.' Answer Agree or Disagree." \
    --option Agree --option Disagree --json
