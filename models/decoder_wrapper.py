"""The decoder-with-past module that `export.py` traces into ONNX (FORMAT.md, "Graph I/O").

`DecoderWithPast.forward(input_ids, position_ids, attention_mask, *past)`:

    input_ids       [b, q]                     int64
    position_ids    [b, q]                     int64, explicit (tree nodes share a depth-based position)
    attention_mask  [b, 1, q, p + q]           float32, additive: 0 visible, MASK_MIN hidden
    past            2 * num_layers tensors     [b, kv_heads, p, head_dim], key then value per layer
    -> logits       [b, q, vocab]
       present      2 * num_layers tensors     [b, kv_heads, q, head_dim], the q new tokens only

Hugging Face models return a 4D mask unchanged (masking_utils: "If the mask is already 4D,
simply return as-is") and the eager attention adds it to the scores, so one forward can verify
a whole token tree. The helpers below build such masks for tests and checks.
"""

import torch

# float32 min: the value FORMAT.md calls manifest.mask_min.
MASK_MIN = float(torch.finfo(torch.float32).min)


# The second mask of a model whose layers attend differently (FORMAT.md "Sliding window"): the sliding layers'.
SLIDING_MASK = "attention_mask_sliding"


class DecoderWithPast(torch.nn.Module):
    """With `sliding`, the input after attention_mask is the sliding layers' mask (SLIDING_MASK), and the two go to
    the model as transformers' per-layer-type mask mapping; attention_mask is then the full-attention layers'."""

    def __init__(self, model: torch.nn.Module, num_layers: int, sliding: bool = False):
        super().__init__()
        self.model = model
        self.num_layers = num_layers
        self.sliding = sliding

    def forward(self, input_ids, position_ids, attention_mask, *past):
        from transformers import DynamicCache

        if self.sliding:
            attention_mask = {"full_attention": attention_mask, "sliding_attention": past[0]}
            past = past[1:]
        pairs = [(past[2 * i], past[2 * i + 1]) for i in range(self.num_layers)]
        cache = DynamicCache(ddp_cache_data=pairs)
        out = self.model(
            input_ids=input_ids,
            position_ids=position_ids,
            attention_mask=attention_mask,
            past_key_values=cache,
            use_cache=True,
        )
        # Each layer's cache is cat(past, new) along the sequence axis: keep the new q entries.
        p = past[0].shape[2]
        present = []
        for layer in out.past_key_values.layers:
            present.append(layer.keys[:, :, p:, :])
            present.append(layer.values[:, :, p:, :])
        return (out.logits, *present)


def past_names(num_layers: int) -> list[str]:
    return [f"past.{i}.{kv}" for i in range(num_layers) for kv in ("key", "value")]


def present_names(num_layers: int) -> list[str]:
    return [f"present.{i}.{kv}" for i in range(num_layers) for kv in ("key", "value")]


def tree_mask(parents: list[int], visible_past: int, capacity: int, window: int | None = None) -> torch.Tensor:
    """Additive mask [1, 1, q, capacity + q] for a token tree appended after `visible_past` slots.

    parents[j] is the index (within this call) of node j's parent, or -1 for a child of the
    last past token. Node j sees past slots 0..visible_past-1, its ancestors and itself;
    slots visible_past..capacity-1 are hidden (unused cache capacity). With a sliding `window`
    (FORMAT.md "Sliding window"), node j at position p = visible_past + depth(j) sees only keys
    at positions p' with p - p' < window (past slot s holds position s).
    A chain is parents = [-1, 0, 1, ...]; siblings of one node are parents = [-1, -1, -1].
    """
    q = len(parents)
    window = window or capacity + q + visible_past + 1
    depth = []
    for parent in parents:
        depth.append(0 if parent == -1 else depth[parent] + 1)
    mask = torch.full((1, 1, q, capacity + q), MASK_MIN, dtype=torch.float32)
    for j in range(q):
        position = visible_past + depth[j]
        mask[0, 0, j, max(0, position - window + 1):visible_past] = 0.0
        node = j
        while node != -1 and depth[j] - depth[node] < window:
            mask[0, 0, j, capacity + node] = 0.0
            node = parents[node]
    return mask


def tree_positions(parents: list[int], first_position: int) -> torch.Tensor:
    """Depth-based positions [1, q]: a root node gets first_position, its child one more."""
    depth = []
    for j, parent in enumerate(parents):
        depth.append(0 if parent == -1 else depth[parent] + 1)
    return torch.tensor([[first_position + d for d in depth]], dtype=torch.long)


def tree_paths(parents: list[int]) -> list[list[int]]:
    """For each node, the indices of its ancestors and itself, root first."""
    paths = []
    for j in range(len(parents)):
        path, node = [], j
        while node != -1:
            path.append(node)
            node = parents[node]
        paths.append(path[::-1])
    return paths
