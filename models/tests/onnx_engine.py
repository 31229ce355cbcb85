"""A minimal driver of an exported graph the way the Java engine uses it (for tests)."""

import json

import numpy as np
import onnxruntime as ort

import logits_from
from export_check import as_float32, typed_feeds
from decoder_wrapper import MASK_MIN, SLIDING_MASK


class Engine:
    """A minimal fixed-capacity KV-cache driver for the exported graph (one row). With `inplace`, the manifest's
    in-place graph: the new tokens go to slots length.., attention covers length + q slots, and the mask has
    that many columns; its present output is the whole buffer, of which the new tokens' slots are returned."""

    def __init__(self, model_dir, capacity=12, inplace=False):
        self.capacity = capacity
        self.manifest = json.loads((model_dir / "manifest.json").read_text())
        m = self.manifest
        self.inplace = inplace
        graph = m["inplace"]["file"] if inplace else "model.onnx"
        self.session = ort.InferenceSession(str(model_dir / graph), providers=["CPUExecutionProvider"])
        self.layers = m["num_layers"]
        # [1, kv_heads, self.capacity, head_dim] per layer and k/v; garbage in the unused slots
        self.cache = [np.random.default_rng(7).standard_normal((1, m["num_kv_heads"], capacity, m["head_dim"]),
                                                               dtype=np.float32) * 5
                      for _ in range(2 * self.layers)]
        self.length = 0

    def run(self, ids, positions, new_mask):
        """new_mask [q, q] of 0/1 among the new tokens; all `length` past slots visible (past slot s holds position
        s), but for a sliding window (manifest sliding_window): a token at position p sees positions > p - window."""
        q = len(ids)
        first = self.length if self.inplace else self.capacity   # mask column of the first new token
        window = self.manifest.get("sliding_window") or (1 << 30)
        mixed = SLIDING_MASK in self.manifest["inputs"]   # full layers take attention_mask, sliding ones the other
        pos = np.array(positions)

        def mask_for(w):
            mask = np.full((1, 1, q, first + q), MASK_MIN, dtype=np.float32)
            past_seen = pos[:, None] - np.arange(self.length)[None, :] < w
            mask[0, 0, :, : self.length] = np.where(past_seen, 0.0, MASK_MIN)
            new_seen = np.asarray(new_mask, bool) & (pos[:, None] - pos[None, :] < w)
            mask[0, 0, :, first:] = np.where(new_seen, 0.0, MASK_MIN)
            return mask

        feed = {"input_ids": np.array([ids], dtype=np.int64),
                "position_ids": np.array([positions], dtype=np.int64),
                "attention_mask": mask_for(1 << 30 if mixed else window)}
        if mixed:
            feed[SLIDING_MASK] = mask_for(window)
        if self.inplace:
            feed["seqlens_k"] = np.array([self.length + q - 1], np.int32)
            feed["total_sequence_length"] = np.array(self.length + q, np.int32)
        for i in range(self.layers):
            feed[f"past.{i}.key"], feed[f"past.{i}.value"] = self.cache[2 * i], self.cache[2 * i + 1]
        logits, *present = as_float32(self.session.run(None, typed_feeds(self.session,
                                                                           logits_from.feed(self.session, feed))))
        if self.inplace:
            present = [p[:, :, self.length: self.length + q] for p in present]
        return logits[0], present

    def append(self, present):
        """Write the new tokens' k/v after the current length (a linear prefix)."""
        q = present[0].shape[2]
        for buf, new in zip(self.cache, present):
            buf[:, :, self.length: self.length + q] = new
        self.length += q


def greedy_decode(model_dir, case, capacity=64) -> list[int]:
    """A goldens case's greedy run on the exported graph: prompt + generated tokens, EOS forbidden for
    min_new_tokens steps, cut after the first EOS."""
    cfg = case["config"]
    engine = Engine(model_dir, capacity=capacity)
    ids = list(case["prompt_ids"])
    logits, present = engine.run(ids, list(range(len(ids))), np.tril(np.ones((len(ids), len(ids)), bool)))
    out = list(ids)
    for step in range(cfg["max_new_tokens"]):
        row = logits[-1].copy()
        if step < cfg["min_new_tokens"]:
            row[cfg["eos_token_ids"]] = -np.inf
        engine.append(present)
        token = int(np.argmax(row))
        out.append(token)
        if token in cfg["eos_token_ids"]:
            break
        logits, present = engine.run([token], [len(out) - 1], np.ones((1, 1), bool))
    return out
