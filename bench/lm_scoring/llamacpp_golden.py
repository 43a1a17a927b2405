"""Writes llama.cpp's token ids and option log-probabilities for the shared cases, the golden
file that vox-lm's tests compare against. Needs `pip install llama-cpp-python==0.3.36`.

    python3 bench/lm_scoring/llamacpp_golden.py MODEL.gguf crates/vox-lm/tests/golden/llamacpp.json
"""
import json
import sys

import numpy as np
from llama_cpp import Llama

from cases import SCORING_CASES, TOKENIZER_STRINGS


def log_softmax(row):
    row = row.astype(np.float64)
    m = row.max()
    return row - m - np.log(np.exp(row - m).sum())


def score(llm, prompt, options):
    """Evaluate the prompt once, then each option after rolling the KV cache back."""
    p = llm.tokenize(prompt.encode(), add_bos=False, special=True)
    llm.reset()
    llm.eval(p)
    out = []
    for option in options:
        o = llm.tokenize(option.encode(), add_bos=False, special=False)
        llm.n_tokens = len(p)
        llm.eval(o)
        total = 0.0
        for k, tok in enumerate(o):
            total += log_softmax(llm.scores[len(p) - 1 + k])[tok]
        out.append({"text": option, "logprob": total, "n_tokens": len(o)})
    return out


def main():
    model, out_path = sys.argv[1], sys.argv[2]
    llm = Llama(model_path=model, n_ctx=2048, logits_all=True, n_threads=2, verbose=False)
    golden = {
        "source": "llama.cpp via llama-cpp-python " + __import__("llama_cpp").__version__,
        "regenerate": "python3 bench/lm_scoring/llamacpp_golden.py MODEL.gguf crates/vox-lm/tests/golden/llamacpp.json",
        "tokens": [{"text": s, "ids": llm.tokenize(s.encode(), add_bos=False, special=True)} for s in TOKENIZER_STRINGS],
        "scores": [{"prompt": c["prompt"], "options": score(llm, c["prompt"], c["options"])} for c in SCORING_CASES],
    }
    with open(out_path, "w") as f:
        json.dump(golden, f, indent=1, ensure_ascii=False)
    print(f"wrote {out_path}")


if __name__ == "__main__":
    main()
