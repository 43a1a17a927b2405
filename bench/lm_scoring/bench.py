"""Side-by-side throughput of vox's embedded backend and llama.cpp (llama-cpp-python) on the
same GGUF, on this machine, with the same number of threads.

    pip install llama-cpp-python==0.3.36      # builds llama.cpp from source (~10-15 min)
    cargo build --release -p vox
    python3 bench/lm_scoring/bench.py [MODEL.gguf]

Workloads (model loading excluded on both sides; median of --repeats runs):
- scoring: P = 80 persona x question chat prompts, K = 5 answer options each; an "answer" is one
  prompt's full option distribution. llama.cpp gets its best single-stream strategy: each
  prompt's longest common prefix with the previous prompt is kept in the KV cache, the rest of
  the prompt is evaluated once with last-position logits only, and every option is decoded
  token by token after rolling the cache back to the end of the prompt.
- generation: 128 greedy tokens after a short raw prompt.
Results go to bench/lm_scoring/results.json and are printed as ratios (vox / llama.cpp).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
from llama_cpp import Llama

sys.path.insert(0, os.path.dirname(__file__))
from cases import persona_prompts  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
VOX = os.path.join(ROOT, "target", "release", "vox")
GEN_PROMPT = "Once upon a time, in a small village by the sea,"
GEN_TOKENS = 128


def log_softmax(row):
    row = row.astype(np.float64)
    m = row.max()
    return row - m - np.log(np.exp(row - m).sum())


def last_logits(llm):
    return np.ctypeslib.as_array(llm._ctx.get_logits(), shape=(llm.n_vocab(),)).copy()


def llama_scoring(llm, items):
    """llama.cpp's efficient path: last-position logits only (logits_all=False), the prompt
    evaluated once after the longest common prefix with the previous prompt, each option decoded
    token by token after rolling the cache back to the end of the prompt."""
    prev = []
    out = []
    start = time.perf_counter()
    for item in items:
        p = llm.tokenize(item["prompt"].encode(), add_bos=False, special=True)
        keep = 0
        while keep < min(len(prev), len(p) - 1) and prev[keep] == p[keep]:
            keep += 1
        llm.n_tokens = keep
        llm.eval(p[keep:])
        after_prompt = log_softmax(last_logits(llm))
        logprobs = []
        for option in item["options"]:
            o = llm.tokenize(option.encode(), add_bos=False, special=False)
            llm.n_tokens = len(p)
            total = after_prompt[o[0]]
            for k in range(1, len(o)):
                llm.eval([o[k - 1]])
                total += log_softmax(last_logits(llm))[o[k]]
            logprobs.append(total)
        out.append(logprobs)
        prev = p
    return time.perf_counter() - start, out


def llama_generation(llm):
    start = time.perf_counter()
    result = llm.create_completion(GEN_PROMPT, max_tokens=GEN_TOKENS, temperature=0.0)
    seconds = time.perf_counter() - start
    return seconds, result["usage"]["completion_tokens"]


def vox_scoring(model, work, out):
    proc = subprocess.run([VOX, "lm", "score", "--raw", "--model", model, "--batch", work, "--out", out],
                          capture_output=True, text=True, check=True)
    line = [l for l in proc.stderr.splitlines() if l.startswith("scored ")][-1]
    seconds = float(line.split(" in ")[1].split(" s ")[0])
    with open(out) as f:
        return seconds, [json.loads(l)["logprobs"] for l in f]


def vox_generation(model):
    proc = subprocess.run([VOX, "lm", "generate", "--raw", "--model", model, "--prompt", GEN_PROMPT,
                           "--max-tokens", str(GEN_TOKENS), "--temperature", "0", "--json"],
                          capture_output=True, text=True, check=True)
    result = json.loads(proc.stdout)
    return result["seconds"], result["n_generated_tokens"]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("model", nargs="?", default=os.path.expanduser("~/.cache/vox/models/SmolLM2-135M-Instruct.Q4_1.gguf"))
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    os.environ["RAYON_NUM_THREADS"] = os.environ["CANDLE_NUM_THREADS"] = str(args.threads)

    items = persona_prompts()
    tmp = tempfile.mkdtemp()
    work = os.path.join(tmp, "work.jsonl")
    with open(work, "w") as f:
        for item in items:
            f.write(json.dumps(item) + "\n")

    scorer = Llama(model_path=args.model, n_ctx=2048, logits_all=False, n_threads=args.threads,
                   n_threads_batch=args.threads, verbose=False)
    generator = Llama(model_path=args.model, n_ctx=2048, n_threads=args.threads,
                      n_threads_batch=args.threads, verbose=False)

    runs = {"vox_scoring_s": [], "llama_scoring_s": [], "vox_gen_tok_s": [], "llama_gen_tok_s": []}
    for r in range(args.repeats):
        s, vox_lp = vox_scoring(args.model, work, os.path.join(tmp, "out.jsonl"))
        runs["vox_scoring_s"].append(s)
        scorer.reset()
        s, llama_lp = llama_scoring(scorer, items)
        runs["llama_scoring_s"].append(s)
        s, n = vox_generation(args.model)
        runs["vox_gen_tok_s"].append(n / s)
        generator.reset()
        s, n = llama_generation(generator)
        runs["llama_gen_tok_s"].append(n / s)
        print(f"run {r + 1}: " + ", ".join(f"{k}={v[-1]:.2f}" for k, v in runs.items()), flush=True)

    diffs = [abs(a - b) for va, vb in zip(vox_lp, llama_lp) for a, b in zip(va, vb)]
    med = {k: statistics.median(v) for k, v in runs.items()}
    result = {
        "machine": f"{os.cpu_count()} cores, {args.threads} threads",
        "workload": f"{len(items)} prompts x {len(items[0]['options'])} options; generation {GEN_TOKENS} greedy tokens",
        "vox_answers_per_s": len(items) / med["vox_scoring_s"],
        "llama_answers_per_s": len(items) / med["llama_scoring_s"],
        "vox_generation_tok_per_s": med["vox_gen_tok_s"],
        "llama_generation_tok_per_s": med["llama_gen_tok_s"],
        "mean_abs_logprob_diff_nats": sum(diffs) / len(diffs),
        "runs": runs,
    }
    result["scoring_ratio"] = result["vox_answers_per_s"] / result["llama_answers_per_s"]
    result["generation_ratio"] = result["vox_generation_tok_per_s"] / result["llama_generation_tok_per_s"]
    with open(os.path.join(os.path.dirname(__file__), "results.json"), "w") as f:
        json.dump(result, f, indent=1)
    print(json.dumps({k: v for k, v in result.items() if k != "runs"}, indent=1))


if __name__ == "__main__":
    main()
