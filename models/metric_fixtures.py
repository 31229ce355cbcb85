"""Reference values for the Java quality metrics (benchmarks/src/main/java/specbeam/metrics).

One job: compute BLEU, ROUGE, distinct-n, self-BLEU and perplexity on fixed strings with the
Python implementations the Java code claims to match, and write them as JSON for the Java tests.

    python models/metric_fixtures.py            # -> benchmarks/src/test/resources/metric_fixtures.json

- BLEU: sacrebleu (corpus_bleu / sentence_bleu, 13a tokenisation, exp smoothing), the library itself.
- ROUGE-1/2/L F1: Google's rouge-score package (RougeScorer, use_stemmer=False) when it is importable.
  Where it is not (it is not installable on this project's machines), `rouge_reimplementation` below
  is used instead: a line-by-line transcription of rouge_score/tokenize.py and rouge_scorer.py
  (lowercase, non-[a-z0-9] runs become spaces, no stemming; n-gram overlap with max(count, 1)
  denominators; LCS table for ROUGE-L; F1 = 2PR/(P+R), 0 when P+R = 0). The JSON records which one
  produced the numbers ("rouge_source").
- distinct-n, self-BLEU, perplexity have no canonical library; their definitions are written here
  once, next to the numbers, and the Java tests check the same definitions.
"""

import collections
import json
import math
import re
import sys
from pathlib import Path

import sacrebleu

OUT = Path(__file__).resolve().parent.parent / "benchmarks/src/test/resources/metric_fixtures.json"

# Hypothesis / reference pairs chosen to exercise the 13a tokenizer and the smoothing paths:
# punctuation, digits with separators, dashes after digits, HTML entities, line breaks,
# trailing and non-ASCII whitespace, code (the bundled pair is trained on Python source),
# an empty hypothesis and hypotheses shorter than 4 tokens.
PAIRS = [
    ("The cat sat on the mat.", "The cat is sitting on the mat."),
    ("It costs 1,000.50 dollars, or 3-4 euros!", "It costs 1,000.50 dollars or 3 - 4 euros."),
    ("def f(x):\n    return x + 1\n", "def f(x):\n    return x - 1\n"),
    ("if a &lt; b &amp;&amp; c: print(\"yes\")", "if a < b and c: print('yes')"),
    ("for i in range(10):\n    total += i  # sum-\nmed", "for i in range(10): total += i"),
    ("self.assertEqual(len(items), 3)\u00a0", "self.assertEqual(len(items), 4)"),
    ("", "return None"),
    ("ok", "ok then"),
    ("A quick brown fox; jumps over {the} lazy dog's back?", "a quick brown fox jumps over the lazy dog"),
    ("Ünïcödé naïve café, résumé 42.", "unicode naive cafe resume 42"),
    ("x = [a[i] for i in range(n) if i % 2 == 0]", "x = [a[i] for i in range(n) if i % 2]"),
    ("raise ValueError('bad value: %r' % (value,))", "raise TypeError('bad value: %r' % (value,))"),
]

# Multiple references per hypothesis (closest reference length, max n-gram counts).
MULTI_REF = {
    "hypotheses": ["the quick brown fox", "import os, sys"],
    "references": [["a quick brown fox jumps", "the fast brown fox"], ["import os", "import os\nimport sys"]],
}

# Token-id sequences for distinct-n, returned beams for self-BLEU, log-probs for perplexity.
DISTINCT_SEQS = [[5, 6, 7, 5, 6, 8], [5, 6, 7, 9], [1, 1, 1, 1]]
SELF_BLEU_SETS = [
    ["def f(x): return x", "def f(x): return x + 1", "def g(y): return y"],
    ["the same text", "the same text"],
    ["alpha beta gamma delta", "one two", "alpha beta"],
]
LOG_PROBS = [[-0.1, -2.3, -0.7], [-1.0], [-0.05, -0.2, -3.5, -0.01]]


def rouge_reimplementation():
    """rouge-score 0.1.2 (tokenize.py, rouge_scorer.py) for rouge1, rouge2, rougeL, no stemmer."""
    non_alnum = re.compile(r"[^a-z0-9]+")
    spaces = re.compile(r"\s+")
    valid = re.compile(r"^[a-z0-9]+$")

    def tokenize(text):
        text = non_alnum.sub(" ", text.lower())
        return [t for t in spaces.split(text) if valid.match(t)]

    def fmeasure(p, r):
        return 2 * p * r / (p + r) if p + r > 0 else 0.0

    def ngrams(tokens, n):
        return collections.Counter(tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1))

    def score_ngrams(t, p):
        inter = sum(min(c, p[g]) for g, c in t.items())
        prec = inter / max(sum(p.values()), 1)
        rec = inter / max(sum(t.values()), 1)
        return prec, rec, fmeasure(prec, rec)

    def lcs_length(a, b):
        table = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
        for i in range(1, len(a) + 1):
            for j in range(1, len(b) + 1):
                table[i][j] = table[i - 1][j - 1] + 1 if a[i - 1] == b[j - 1] else max(table[i - 1][j], table[i][j - 1])
        return table[-1][-1]

    def score(target, prediction):
        t, p = tokenize(target), tokenize(prediction)
        out = {f"rouge{n}": score_ngrams(ngrams(t, n), ngrams(p, n)) for n in (1, 2)}
        if not t or not p:
            out["rougeL"] = (0.0, 0.0, 0.0)
        else:
            lcs = lcs_length(t, p)
            prec, rec = lcs / len(p), lcs / len(t)
            out["rougeL"] = (prec, rec, fmeasure(prec, rec))
        return out

    return score


def rouge_scorer():
    """(score(target, prediction) -> {type: (P, R, F)}, source name)."""
    try:
        from rouge_score import rouge_scorer as rs
    except ImportError:
        return rouge_reimplementation(), "reimplementation of rouge-score 0.1.2 (package not importable)"
    scorer = rs.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=False)

    def score(target, prediction):
        return {k: (v.precision, v.recall, v.fmeasure) for k, v in scorer.score(target, prediction).items()}

    return score, "rouge-score"


def bleu_dict(b):
    return {"score": b.score, "precisions": list(b.precisions), "bp": b.bp, "sys_len": b.sys_len,
            "ref_len": b.ref_len, "counts": list(b.counts), "totals": list(b.totals)}


def distinct(seqs, n):
    """Distinct-n: unique n-grams / all n-grams, pooled over the sequences (0 when there are none)."""
    grams = [tuple(s[i:i + n]) for s in seqs for i in range(len(s) - n + 1)]
    return len(set(grams)) / len(grams) if grams else 0.0


def self_bleu(texts):
    """Mean over i of sentence BLEU (sacrebleu defaults) of text i against all the others as references."""
    if len(texts) < 2:
        return float("nan")
    return sum(sacrebleu.sentence_bleu(t, texts[:i] + texts[i + 1:]).score for i, t in enumerate(texts)) / len(texts)


def perplexity(log_probs):
    """exp(-sum(log p) / number of tokens), pooled over all sequences."""
    flat = [x for seq in log_probs for x in seq]
    return math.exp(-sum(flat) / len(flat))


def main():
    rouge, rouge_source = rouge_scorer()
    hyps = [h for h, _ in PAIRS]
    refs = [r for _, r in PAIRS]
    fixtures = {
        "generator": "models/metric_fixtures.py",
        "sacrebleu_version": sacrebleu.__version__,
        "rouge_source": rouge_source,
        "tokenize_13a": [{"text": t, "tokens": sacrebleu.BLEU()._preprocess_segment(t).split()} for t in hyps + refs],
        "pairs": [{"hypothesis": h, "reference": r,
                   "sentence_bleu": bleu_dict(sacrebleu.sentence_bleu(h, [r])),
                   "rouge": {k: {"precision": v[0], "recall": v[1], "f1": v[2]} for k, v in rouge(r, h).items()}}
                  for h, r in PAIRS],
        "corpus_bleu": bleu_dict(sacrebleu.corpus_bleu(hyps, [refs])),
        "multi_ref": dict(MULTI_REF, corpus_bleu=bleu_dict(sacrebleu.corpus_bleu(
            MULTI_REF["hypotheses"], [list(r) for r in zip(*MULTI_REF["references"])]))),
        "distinct": {"sequences": DISTINCT_SEQS, "distinct1": distinct(DISTINCT_SEQS, 1),
                     "distinct2": distinct(DISTINCT_SEQS, 2)},
        "self_bleu": [{"texts": s, "self_bleu": self_bleu(s)} for s in SELF_BLEU_SETS],
        "perplexity": {"log_probs": LOG_PROBS, "perplexity": perplexity(LOG_PROBS)},
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(fixtures, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {OUT} (BLEU: sacrebleu {sacrebleu.__version__}; ROUGE: {rouge_source})", file=sys.stderr)


if __name__ == "__main__":
    main()
