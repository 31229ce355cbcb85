"""Numerical checks run by export.py before it publishes a model directory.

Each scenario feeds the same inputs to ONNX Runtime and to the PyTorch `DecoderWithPast`
and measures the max abs difference over all outputs (logits and present k/v):

    prefill          b=2, q=6 prompt tokens after a fully hidden past of CAPACITY random slots
    step             b=2, q=1: the prompt's k/v written into a CAPACITY-slot buffer, rest hidden
    tree_siblings    b=1, three children of the last prompt token, one shared position
    tree_chain       b=1, a tree with two chains under one root (depths 0..3)
    window_chain     sliding-window models (window <= 512): b=1, 2 * window + 3 prompt tokens, windowed mask
    window_tree      ... then the tree_chain tree over that prompt: the window cuts the past and the tree

Independently, every node (and the prefill and step rows) is compared with a plain Hugging
Face forward over the corresponding linear token sequence (default causal mask, no cache):
this is what certifies the tree semantics, not just the ONNX conversion.

Tolerance. Both sides compute in float32 (eps 1.2e-7). The reductions here are at most
hidden_size or context long and a few layers deep, so honest differences (kernel order,
fused ops, masked-softmax layout) stay around 1e-7..1e-5 of the output scale; we measured
1e-7 to 1e-6 on the tiny models. A wrong mask, position or cache slice moves logits by
O(0.1 * scale). The default 1e-4 *relative to max(1, max |reference output|)* sits two
orders above the honest noise and three below a real bug, and stays below the logit gaps
the goldens rely on.
"""

import numpy as np
import torch

from decoder_wrapper import SLIDING_MASK, DecoderWithPast, past_names, tree_mask, tree_paths, tree_positions

CAPACITY = 16  # past slots, most hidden, as the Java engine passes its fixed-capacity cache
PROMPT_LEN = 6
MAX_CHECKED_WINDOW = 512   # a longer sliding window is not run by the check (window_checked: false in the manifest)
WINDOW_ROWS = 4            # positions of the window chain compared with HF's linear forward
SIBLINGS = [-1, -1, -1]
TREE = [-1, 0, 1, 2, 0, 4]  # root; chain root->1->2->3; second chain root->4->5


class CheckFailed(Exception):
    pass


def typed_feeds(session, feeds: dict) -> dict:
    """`feeds` (float32 where floating) in the dtypes `session` declares: a float16 graph (FORMAT.md "Half
    precision") takes its past keys/values as float16."""
    types = {i.name: i.type for i in session.get_inputs()}
    return {n: v.astype(np.float16) if types.get(n) == "tensor(float16)" and v.dtype == np.float32 else v
            for n, v in feeds.items()}


def as_float32(outputs: list) -> list:
    return [o.astype(np.float32) if o.dtype == np.float16 else o for o in outputs]


def _ort_session(onnx_path):
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 2
    opts.log_severity_level = 3
    return ort.InferenceSession(str(onnx_path), opts, providers=["CPUExecutionProvider"])


class InplaceAdapter:
    """The in-place graph (FORMAT.md, "In-place graph") behind the traced graph's I/O, so that every scenario
    and test runs unchanged: the past [b, kv, p, head_dim] goes into a buffer of p + q slots, each row's q new
    tokens land in slots p .. p + q - 1 (seqlens_k = p + q - 1, total_sequence_length = p + q), the mask
    [b, 1, q, p + q] is the attention_bias as it is, and present is read back from those slots. A call of
    several rows and several tokens runs row by row, as the engine does (GroupQueryAttention takes one row
    when new tokens follow a past)."""

    def __init__(self, session):
        self.session = session

    def run(self, _outputs, feeds):
        ids = feeds["input_ids"]
        if ids.shape[0] > 1 and ids.shape[1] > 1:
            rows = [self._run_rows(feeds, slice(r, r + 1)) for r in range(ids.shape[0])]
            return [np.concatenate(parts, axis=0) for parts in zip(*rows)]
        return self._run_rows(feeds, slice(None))

    def _run_rows(self, feeds, rows):
        b, q = feeds["input_ids"][rows].shape
        pasts = sorted(n for n in feeds if n.startswith("past."))
        p = feeds[pasts[0]].shape[2]
        feed = {"input_ids": feeds["input_ids"][rows], "position_ids": feeds["position_ids"][rows],
                "attention_mask": np.ascontiguousarray(feeds["attention_mask"][rows]),
                "seqlens_k": np.full(b, p + q - 1, np.int32), "total_sequence_length": np.array(p + q, np.int32)}
        if SLIDING_MASK in {i.name for i in self.session.get_inputs()}:   # the same mask twice if only one is given
            feed[SLIDING_MASK] = np.ascontiguousarray(feeds.get(SLIDING_MASK, feeds["attention_mask"])[rows])
        for n in pasts:
            past = feeds[n][rows]
            buf = np.zeros(past.shape[:2] + (p + q,) + past.shape[3:], np.float32)
            buf[:, :, :p] = past
            feed[n] = buf
        names = [o.name for o in self.session.get_outputs()]
        out = dict(zip(names, as_float32(self.session.run(None, typed_feeds(self.session, feed)))))
        return [out["logits"]] + [out[n][:, :, p:] for n in names if n.startswith("present.")]


class _Runner:
    """Runs one input set through ORT and the PyTorch wrapper."""

    def __init__(self, wrapper: DecoderWithPast, session, window):
        self.wrapper = wrapper
        self.session = session
        self.window = window
        masks = ["attention_mask", *([SLIDING_MASK] if wrapper.sliding else [])]
        self.names = ["input_ids", "position_ids", *masks, *past_names(wrapper.num_layers)]

    def masks(self, parents, visible_past, capacity, rows=1):
        """The graph's masks for a tree: the one mask (windowed where the model slides), or the full-attention
        layers' and the sliding layers' of a mixed model."""
        if self.wrapper.sliding:
            windows = (None, self.window)
        else:
            windows = (self.window,)
        q = len(parents)
        return [tree_mask(parents, visible_past, capacity, w).expand(rows, 1, q, capacity + q).contiguous()
                for w in windows]

    def both(self, ids, positions, masks, *past):
        inputs = (ids, positions, *masks, *past)
        with torch.no_grad():
            ref = [t.numpy() for t in self.wrapper(*inputs)]
        feeds = {n: t.numpy() for n, t in zip(self.names, inputs)}
        got = self.session.run(None, feeds if isinstance(self.session, InplaceAdapter)
                               else typed_feeds(self.session, feeds))
        return ref, as_float32(got)


def _relative_diff(ref, got) -> tuple[float, float]:
    """(max abs diff, scale) over matching lists of arrays; scale = max(1, max |ref|)."""
    diff = max(float(np.abs(r - g).max()) for r, g in zip(ref, got))
    scale = max(1.0, max(float(np.abs(r).max()) for r in ref))
    return diff, scale


def _linear_logits(model, ids: list[int]) -> np.ndarray:
    """Last-position logits of a plain HF forward over `ids` (default causal mask)."""
    with torch.no_grad():
        return model(input_ids=torch.tensor([ids])).logits[0, -1].numpy()


def _prompt_buffer(past, capacity, rows, kv_shape, generator):
    """Random [rows, kv_heads, capacity, head_dim] buffers with the prompt k/v in slots 0..len-1."""
    buffers = []
    for t in past:
        buf = torch.randn(rows, kv_shape[0], capacity, kv_shape[1], generator=generator)
        buf[:, :, : t.shape[2]] = t
        buffers.append(buf)
    return buffers


def run_checks(model, onnx_path, num_layers: int, kv_heads: int, head_dim: int,
               vocab_size: int, tolerance: float, seed: int = 0, inplace: bool = False) -> dict:
    """Run the four scenarios (on the in-place graph's contract with `inplace`), and for a sliding-window model
    the window scenario; return the `check` manifest entry or raise CheckFailed."""
    from export import attention_window, mixed_attention

    window = attention_window(model.config)
    wrapper = DecoderWithPast(model, num_layers, mixed_attention(model.config)).eval()
    session = _ort_session(onnx_path)
    runner = _Runner(wrapper, InplaceAdapter(session) if inplace else session, window)
    g = torch.Generator().manual_seed(seed)
    diffs, linear, scale = {}, 0.0, 1.0

    def record(name, ref, got):
        nonlocal scale
        d, s = _relative_diff(ref, got)
        diffs[name] = d
        scale = max(scale, s)

    def compare_linear(ids, logits_row):
        nonlocal linear
        linear = max(linear, float(np.abs(_linear_logits(model, ids) - logits_row).max()))

    # (a) prefill: b=2 prompts after CAPACITY hidden random slots.
    n, b = PROMPT_LEN, 2
    prompts = torch.randint(0, vocab_size, (b, n), generator=g)
    hidden_past = [torch.randn(b, kv_heads, CAPACITY, head_dim, generator=g) for _ in range(2 * num_layers)]
    causal = runner.masks(list(range(-1, n - 1)), 0, CAPACITY, rows=b)
    positions = torch.arange(n).expand(b, n)
    ref, got = runner.both(prompts, positions, causal, *hidden_past)
    record("prefill", ref, got)
    for row in range(b):
        for j in range(n):
            compare_linear(prompts[row, : j + 1].tolist(), ref[0][row, j])
    prompt_kv = [torch.from_numpy(t) for t in ref[1:]]  # [b, kv_heads, n, head_dim] each

    # (b) one decode step: the prompt's k/v in slots 0..n-1 of a CAPACITY buffer.
    buffers = _prompt_buffer(prompt_kv, CAPACITY, b, (kv_heads, head_dim), g)
    step_ids = torch.randint(0, vocab_size, (b, 1), generator=g)
    step_mask = runner.masks([-1], n, CAPACITY, rows=b)
    ref, got = runner.both(step_ids, torch.full((b, 1), n), step_mask, *buffers)
    record("step", ref, got)
    for row in range(b):
        compare_linear(prompts[row].tolist() + [step_ids[row, 0].item()], ref[0][row, 0])

    # (c), (d) token trees after the first prompt: every node vs its linear path.
    row0 = [t[:1] for t in buffers]
    for name, parents in (("tree_siblings", SIBLINGS), ("tree_chain", TREE)):
        ids = torch.randint(0, vocab_size, (1, len(parents)), generator=g)
        mask = runner.masks(parents, n, CAPACITY)
        ref, got = runner.both(ids, tree_positions(parents, n), mask, *row0)
        record(name, ref, got)
        for j, path in enumerate(tree_paths(parents)):
            compare_linear(prompts[0].tolist() + [ids[0, k].item() for k in path], ref[0][0, j])

    # (e) sliding window: a chain of 2 * window + 3 tokens after hidden slots (its last WINDOW_ROWS positions against
    # HF's own windowed forward), then a tree over it, so that the window cuts through the past and the tree
    if window is not None and window <= MAX_CHECKED_WINDOW:
        n_long = 2 * window + 3
        ids = torch.randint(0, vocab_size, (1, n_long), generator=g)
        chain = list(range(-1, n_long - 1))
        hidden = [torch.randn(1, kv_heads, CAPACITY, head_dim, generator=g) for _ in range(2 * num_layers)]
        ref, got = runner.both(ids, torch.arange(n_long).unsqueeze(0), runner.masks(chain, 0, CAPACITY), *hidden)
        record("window_chain", ref, got)
        for j in range(n_long - WINDOW_ROWS, n_long):
            compare_linear(ids[0, : j + 1].tolist(), ref[0][0, j])
        past = [torch.from_numpy(t) for t in ref[1:]]
        tree_ids = torch.randint(0, vocab_size, (1, len(TREE)), generator=g)
        ref, got = runner.both(tree_ids, tree_positions(TREE, n_long), runner.masks(TREE, n_long, n_long), *past)
        record("window_tree", ref, got)
        for j, path in enumerate(tree_paths(TREE)):
            compare_linear(ids[0].tolist() + [tree_ids[0, k].item() for k in path], ref[0][0, j])

    limit = tolerance * scale
    check = {
        "tolerance": tolerance,
        "tolerance_abs": limit,
        **{f"{k}_max_abs_diff": v for k, v in diffs.items()},
        "tree_vs_linear_max_abs_diff": linear,
        **({"sliding_window": window, "window_checked": window <= MAX_CHECKED_WINDOW} if window else {}),
    }
    worst = max(list(diffs.values()) + [linear])
    if not worst <= limit:  # also catches NaN
        measured = ", ".join(f"{k}={v:.3g}" for k, v in check.items() if k.endswith("diff"))
        raise CheckFailed(f"ONNX/PyTorch/linear outputs differ by {worst:.3g} > tolerance "
                          f"{limit:.3g} ({tolerance:g} x output scale {scale:.3g}): {measured}")
    return check

