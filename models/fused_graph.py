"""The fused decoder graph: the same I/O as the traced one (FORMAT.md, "Graph I/O"), built node by node
from the Hugging Face weights with ONNX Runtime's fused CPU operators.

    per layer (Llama / Qwen2 / Mistral / Qwen3 / Phi-3): SkipSimplifiedLayerNormalization -> one MatMul for
    q|k|v (+ bias) -> Split -> (Qwen3: per-head RMSNorm of q and k) -> RotaryEmbedding on q and k -> the new k/v as [b, kv_heads, q, head_dim] (present)
    -> Concat(past, new) -> MultiHeadAttention(attention_bias = the additive tree mask)
    -> MatMul o_proj -> SkipSimplifiedLayerNormalization -> one MatMul for gate|up -> Split
    -> QuickGelu(alpha=1) (= SiLU) -> Mul -> MatMul down_proj

`MultiHeadAttention` gets key/value already concatenated (past of fixed capacity, then the new
tokens) in BNSH layout and the 4D additive mask as `attention_bias` [b, 1, q, past + q], so a
token tree is scored exactly as by the traced graph; the new keys/values leave the graph as
`present.*` before the concatenation (new tokens only). Grouped-query attention repeats the kv
heads for MultiHeadAttention (Expand + Reshape); the cache and `present` keep kv_heads.

With `inplace=True`, `build` writes the in-place graph instead (FORMAT.md, "In-place graph"): the same nodes
with GroupQueryAttention on a KV buffer bound as both past and present, plus the inputs `seqlens_k` and
`total_sequence_length`; it attends over the used slots only and copies nothing.

`build(model, path)` raises `Unfusable` with the reason for a model it does not cover
(export.py then writes the traced graph): architectures other than those in `BUILDERS`, a
rotary embedding that depends on the sequence length, activations other than SiLU, ...
"""

from pathlib import Path

import numpy as np
import torch
from onnx import TensorProto, helper, numpy_helper, save

from decoder_wrapper import SLIDING_MASK, past_names, present_names

MS = "com.microsoft"
GRAPH_VERSION = "fused-v1"
INPLACE_GRAPH_VERSION = "fused-inplace-v1"
INPLACE_FILE = "model_inplace.onnx"


class Unfusable(Exception):
    """This model has a feature the fused builder does not express; the traced graph is used instead."""


class _Graph:
    """Nodes and initializers with generated names."""

    def __init__(self, attention, half=False):
        self.nodes, self.inits, self._n = [], [], 0
        self.attention = attention   # _Attention or _InplaceAttention
        self.half = half             # float16 weights, activations and KV (masks and logits stay float32)
        self._masks = {}             # graph mask input -> its float16 copy (half only)

    def name(self, hint):
        self._n += 1
        return f"{hint}_{self._n}"

    def const(self, hint, array):
        name = self.name(hint)
        array = np.asarray(array)
        if self.half and array.dtype == np.float32:
            array = array.astype(np.float16)
        self.inits.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def weight(self, hint, tensor):
        return self.const(hint, tensor.detach().to(torch.float32).numpy())

    def mask(self, name):
        """What attention reads for the graph's mask input `name`: the input itself, or in a half graph its float16
        copy, made once (the additive float32 mask clipped to float16's range first: mask_min becomes -65504)."""
        if not self.half:
            return name
        if name not in self._masks:
            low = self.name("mask_low")   # float32, as the mask it clips
            self.inits.append(numpy_helper.from_array(np.array(np.finfo(np.float16).min, np.float32), low))
            self._masks[name] = self.op("Cast", [self.op("Max", [name, low])], to=TensorProto.FLOAT16)
        return self._masks[name]

    def op(self, op_type, inputs, outputs=1, domain="", **attrs):
        names = [o if isinstance(o, str) else self.name(op_type.lower()) for o in
                 (outputs if isinstance(outputs, list) else [None] * outputs)]
        self.nodes.append(helper.make_node(op_type, inputs, names, name=self.name(op_type), domain=domain,
                                           **attrs))
        return names[0] if len(names) == 1 else names


class _InplaceAttention:
    """GroupQueryAttention on a KV buffer shared by past and present (the in-place contract, FORMAT.md "In-place
    graph"): each row's q new keys/values are written by ONNX Runtime into slots seqlens_k - q + 1 .. seqlens_k
    of the buffer, and attention runs over the first total_sequence_length slots with the additive mask
    [b, 1, q, total_sequence_length] as attention_bias (causal among the new tokens too, which a tree whose
    parents precede their children satisfies). Grouped-query heads are native: nothing is repeated."""

    def __init__(self, g: _Graph, heads, kv_heads, head_dim):
        self.g, self.heads, self.kv_heads = g, heads, kv_heads

    def __call__(self, i, q, k, v, scale, mask="attention_mask", softcap=None):
        return self.g.op("GroupQueryAttention", [q, k, v, f"past.{i}.key", f"past.{i}.value", "seqlens_k",
                                                 "total_sequence_length", "", "", "", self.g.mask(mask)],
                         [self.g.name("context"), f"present.{i}.key", f"present.{i}.value"], domain=MS,
                         num_heads=self.heads, kv_num_heads=self.kv_heads, scale=scale,
                         **({"softcap": float(softcap)} if softcap else {}))[0]


class _Attention:
    """present = the new k/v as [b, kv_heads, q, head_dim]; MultiHeadAttention over Concat(past, new) with the
    additive mask as attention_bias; kv heads repeated for grouped-query attention."""

    def __init__(self, g: _Graph, heads, kv_heads, head_dim):
        self.g, self.heads, self.group, self.head_dim = g, heads, heads // kv_heads, head_dim
        self.kv_shape = g.const("kv_shape", np.array([0, 0, kv_heads, head_dim], np.int64))   # [b, q, kv, hd]
        if self.group > 1:
            self.expand = g.const("gqa_expand", np.array([1, 1, self.group, 1, 1], np.int64))
            self.axis = g.const("gqa_axis", np.array([2], np.int64))
            self.heads_shape = g.const("gqa_heads", np.array([0, heads, -1, head_dim], np.int64))

    def __call__(self, i, q, k, v, scale, mask="attention_mask", softcap=None):
        """q: [b, q, heads * hd], k/v: [b, q, kv_heads * hd] (rotary applied) -> context [b, q, heads * hd];
        `mask` is the graph input layer i attends with (the sliding layers' own, in a mixed model). With
        `softcap` (Gemma 2), which MultiHeadAttention has no attribute for, the attention is spelled out."""
        g = self.g
        present_k = g.op("Transpose", [g.op("Reshape", [k, self.kv_shape])], [f"present.{i}.key"], perm=[0, 2, 1, 3])
        present_v = g.op("Transpose", [g.op("Reshape", [v, self.kv_shape])], [f"present.{i}.value"],
                         perm=[0, 2, 1, 3])
        keys = g.op("Concat", [f"past.{i}.key", present_k], axis=2)       # [b, kv, past + q, hd]
        values = g.op("Concat", [f"past.{i}.value", present_v], axis=2)
        if self.group > 1:
            keys, values = (g.op("Reshape", [g.op("Expand", [g.op("Unsqueeze", [t, self.axis]), self.expand]),
                                             self.heads_shape]) for t in (keys, values))
        mask = g.mask(mask)
        if softcap:
            return self._softcapped(q, keys, values, scale, mask, softcap)
        return g.op("MultiHeadAttention", [q, keys, values, "", "", mask], domain=MS,
                    num_heads=self.heads, scale=scale)

    def _softcapped(self, q, keys, values, scale, mask, softcap):
        """softmax(cap * tanh(q k^T * scale / cap) + mask) v, in Gemma 2's eager order; keys/values
        [b, heads, p + q, hd]."""
        g = self.g
        q = g.op("Transpose", [g.op("Reshape", [q, g.const("q_heads", np.array([0, 0, self.heads, self.head_dim],
                                                                                np.int64))])], perm=[0, 2, 1, 3])
        scores = g.op("Mul", [g.op("MatMul", [q, g.op("Transpose", [keys], perm=[0, 1, 3, 2])]),
                              g.const("scale", np.array(scale, np.float32))])
        cap = g.const("softcap", np.array(softcap, np.float32))
        scores = g.op("Add", [g.op("Mul", [g.op("Tanh", [g.op("Div", [scores, cap])]), cap]), mask])
        context = g.op("MatMul", [g.op("Softmax", [scores], axis=-1), values])      # [b, heads, q, hd]
        return g.op("Reshape", [g.op("Transpose", [context], perm=[0, 2, 1, 3]),
                                g.const("context_shape", np.array([0, 0, self.heads * self.head_dim], np.int64))])


def _lm_head(g: _Graph, h, head, embedding, embed_name, name="logits"):
    """`name` (default the graph output) = h @ head.weight.T (+ bias); a head tied to the embedding reuses its
    initializer. Returns the output's name (a generated one for name=None)."""
    if head.weight is embedding:   # tied: stored once, transposed in-graph (ONNX Runtime folds it at load)
        weight = g.op("Transpose", [embed_name], perm=[1, 0])
    else:
        weight = g.weight("lm_head", head.weight.T)
    out = [name] if name else 1
    if getattr(head, "bias", None) is None:
        return g.op("MatMul", [h, weight], out)
    return g.op("Add", [g.op("MatMul", [h, weight]), g.weight("lm_bias", head.bias)], out)


def _linear_t(layers):
    """[in, sum(out)] weight and the concatenated bias (or None) of several nn.Linear."""
    w = torch.cat([l.weight for l in layers], dim=0).T
    biases = [l.bias for l in layers]
    if all(b is None for b in biases):
        return w, None
    return w, torch.cat([b if b is not None else torch.zeros(l.out_features) for b, l in zip(biases, layers)])


def _rotary_caches(rotary, head_dim, max_positions):
    """cos/sin caches [max_positions, rotary_dim / 2] from the model's own rotary module (scaling included);
    rotary_dim = head_dim, or less for a partial rotary embedding."""
    if getattr(rotary, "rope_type", "default") == "dynamic":
        raise Unfusable("dynamic rotary scaling depends on the sequence length")
    positions = torch.arange(max_positions).unsqueeze(0)
    with torch.no_grad():
        cos, sin = rotary(torch.zeros(1, dtype=torch.float32), positions)
    cos, sin = cos[0], sin[0]
    half = cos.shape[-1] // 2
    if cos.shape[-1] > head_dim or not torch.equal(cos[:, :half], cos[:, half:]):
        raise Unfusable("the rotary embedding is not the rotate-half layout")
    return cos[:, :half].numpy(), sin[:, :half].numpy()


def _qkv(attn):
    """[in, q|k|v] weight and bias of an attention block: separate q/k/v projections, or Phi-3's qkv_proj (whose
    rows are already q, then k, then v)."""
    if hasattr(attn, "qkv_proj"):
        return _linear_t([attn.qkv_proj])
    return _linear_t([attn.q_proj, attn.k_proj, attn.v_proj])


def _gate_up(mlp):
    """[in, gate|up] weight of a gated MLP: gate_proj and up_proj, or Phi-3's gate_up_proj (gate rows first, as
    its chunk(2) reads them)."""
    if hasattr(mlp, "gate_up_proj"):
        if mlp.gate_up_proj.bias is not None:
            raise Unfusable("a biased gate_up_proj")
        return mlp.gate_up_proj.weight.T
    return _linear_t([mlp.gate_proj, mlp.up_proj])[0]


def _head_norm(g: _Graph, t, norm, heads, head_dim, eps, weight=None):
    """Qwen3's (Gemma 3's: `weight` = 1 + w) per-head RMSNorm of q or k ([b, q, heads * hd]) over head_dim, before
    the rotary embedding."""
    per_head = g.op("Reshape", [t, g.const("heads_shape", np.array([0, 0, heads, head_dim], np.int64))])
    weight = norm.weight if weight is None else weight
    normed = g.op("SimplifiedLayerNormalization", [per_head, g.weight("head_norm", weight)], axis=-1,
                  epsilon=eps, stash_type=1)
    return g.op("Reshape", [normed, g.const("flat_shape", np.array([0, 0, heads * head_dim], np.int64))])


def _block_input(g: _Graph, x, pending, weight, eps):
    """(normed block input, residual stream): RMSNorm of x, or with a pending output still to add to x, the
    fused add-and-norm (which also returns the new residual stream)."""
    if pending is None:
        return g.op("SimplifiedLayerNormalization", [x, weight], axis=-1, epsilon=eps, stash_type=1), x
    h, _, _, x = g.op("SkipSimplifiedLayerNormalization", [pending, x, weight], outputs=4, domain=MS, epsilon=eps)
    return h, x


def _project_qkv(g: _Graph, h, attn, split):
    """q, k, v of an attention block: one MatMul (+ bias) and a Split."""
    w, b = _qkv(attn)
    qkv = g.op("MatMul", [h, g.weight("qkv", w)])
    if b is not None:
        qkv = g.op("Add", [qkv, g.weight("qkv_bias", b)])
    return g.op("Split", [qkv, split], outputs=3, axis=-1)


def _llama(model, g: _Graph, n_layers):
    """Llama and its close relatives: Qwen2 (qkv bias), Mistral (a sliding window, which is the mask's business:
    FORMAT.md "Sliding window"), Qwen3 (per-head q/k RMSNorm) and Phi-3 (fused qkv_proj and gate_up_proj, partial
    rotary)."""
    from export import max_positions

    config = model.config
    if config.hidden_act != "silu" or getattr(config, "mlp_bias", False):
        raise Unfusable(f"activation {config.hidden_act!r} / MLP bias")
    if getattr(config, "pretraining_tp", 1) != 1:
        raise Unfusable("pretraining_tp != 1")
    heads, kv_heads = config.num_attention_heads, config.num_key_value_heads
    first_attn = model.model.layers[0].self_attn
    head_dim = first_attn.head_dim
    eps = float(config.rms_norm_eps)
    cos, sin = _rotary_caches(model.model.rotary_emb, head_dim, max_positions(config))
    cos_cache, sin_cache = g.const("cos_cache", cos), g.const("sin_cache", sin)
    rotary = {} if 2 * cos.shape[-1] == head_dim else {"rotary_embedding_dim": 2 * cos.shape[-1]}
    head_norms = hasattr(first_attn, "q_norm")
    attention = g.attention(g, heads, kv_heads, head_dim)
    q_size, kv_size = heads * head_dim, kv_heads * head_dim
    qkv_split = g.const("qkv_split", np.array([q_size, kv_size, kv_size], np.int64))
    mlp_split = g.const("mlp_split", np.array([config.intermediate_size] * 2, np.int64))

    embed = g.weight("embed", model.model.embed_tokens.weight)
    x = g.op("Gather", [embed, "input_ids"])
    residual_in = None    # the block input before its norm; None: x is already the first layer's input
    for i, layer in enumerate(model.model.layers[:n_layers]):
        attn, mlp = layer.self_attn, layer.mlp
        # x is the residual stream; the attention norm also adds the previous MLP output
        h, x = _block_input(g, x, residual_in, g.weight("ln_in", layer.input_layernorm.weight), eps)
        q, k, v = _project_qkv(g, h, attn, qkv_split)
        if head_norms:
            q = _head_norm(g, q, attn.q_norm, heads, head_dim, eps)
            k = _head_norm(g, k, attn.k_norm, kv_heads, head_dim, eps)
        q = g.op("RotaryEmbedding", [q, "position_ids", cos_cache, sin_cache], domain=MS, interleaved=0,
                 num_heads=heads, **rotary)
        k = g.op("RotaryEmbedding", [k, "position_ids", cos_cache, sin_cache], domain=MS, interleaved=0,
                 num_heads=kv_heads, **rotary)
        context = attention(i, q, k, v, float(attn.scaling))
        attn_out = g.op("MatMul", [context, g.weight("o_proj", attn.o_proj.weight.T)])
        if attn.o_proj.bias is not None:
            attn_out = g.op("Add", [attn_out, g.weight("o_bias", attn.o_proj.bias)])
        h, _, _, x = g.op("SkipSimplifiedLayerNormalization",
                          [attn_out, x, g.weight("ln_post", layer.post_attention_layernorm.weight)], outputs=4,
                          domain=MS, epsilon=eps)
        gate, up = g.op("Split", [g.op("MatMul", [h, g.weight("gate_up", _gate_up(mlp))]),
                                  mlp_split], outputs=2, axis=-1)
        act = g.op("QuickGelu", [gate], domain=MS, alpha=1.0)
        residual_in = g.op("MatMul", [g.op("Mul", [act, up]), g.weight("down", mlp.down_proj.weight.T)])
    h, _, _, _ = g.op("SkipSimplifiedLayerNormalization",
                      [residual_in, x, g.weight("ln_final", model.model.norm.weight)], outputs=4, domain=MS,
                      epsilon=eps)
    _lm_head(g, h, model.lm_head, model.model.embed_tokens.weight, embed)
    return kv_heads, head_dim


class _LayerRotary:
    """One layer type's rotary embedding of a Gemma 3 model (its rotary module takes the type as an argument;
    Gemma 2's has one for all layers)."""

    def __init__(self, rotary, layer_type):
        self.rotary, self.layer_type = rotary, layer_type
        self.per_type = isinstance(rotary.rope_type, dict)
        self.rope_type = rotary.rope_type[layer_type] if self.per_type else rotary.rope_type

    def __call__(self, x, positions):
        return self.rotary(x, positions, self.layer_type) if self.per_type else self.rotary(x, positions)


def _gemma(model, g: _Graph, n_layers):
    """Gemma 2 and Gemma 3 (text): embeddings scaled by sqrt(hidden), (1 + w) RMSNorms (the 1 + w is the
    initializer), norms before and after attention and MLP, query_pre_attn_scalar, GELU (tanh), sliding layers
    with their own mask (SLIDING_MASK), a final logit soft-cap where set; Gemma 2's attention-logit soft-cap
    (spelled out, _Attention._softcapped); Gemma 3's per-head q/k norms and its sliding layers' own rotary base."""
    from export import max_positions

    config = model.config
    if config.hidden_activation != "gelu_pytorch_tanh":
        raise Unfusable(f"activation {config.hidden_activation!r}")
    softcap = getattr(config, "attn_logit_softcapping", None)
    text = model.model
    heads, kv_heads = config.num_attention_heads, config.num_key_value_heads
    head_dim = text.layers[0].self_attn.head_dim
    eps = float(config.rms_norm_eps)
    rotary = {}
    for kind in sorted(set(config.layer_types)):
        cos, sin = _rotary_caches(_LayerRotary(text.rotary_emb, kind), head_dim, max_positions(config))
        rotary[kind] = (g.const("cos_cache", cos), g.const("sin_cache", sin))
        if 2 * cos.shape[-1] != head_dim:
            raise Unfusable("a partial rotary embedding in Gemma")
    attention = g.attention(g, heads, kv_heads, head_dim)
    q_size, kv_size = heads * head_dim, kv_heads * head_dim
    qkv_split = g.const("qkv_split", np.array([q_size, kv_size, kv_size], np.int64))
    mlp_split = g.const("mlp_split", np.array([config.intermediate_size] * 2, np.int64))
    one_plus = lambda norm: norm.weight.detach().float() + 1.0   # Gemma3RMSNorm: x_normed * (1.0 + w), float32

    embed = g.weight("embed", text.embed_tokens.weight)
    scale = g.const("embed_scale", np.array(text.embed_tokens.embed_scale.to(torch.float32).item(), np.float32))
    x = g.op("Mul", [g.op("Gather", [embed, "input_ids"]), scale])
    pending = None   # the previous MLP's normed output, still to be added to the residual stream x
    for i, layer in enumerate(text.layers[:n_layers]):
        attn, mlp = layer.self_attn, layer.mlp
        kind = config.layer_types[i]
        h, x = _block_input(g, x, pending, g.weight("ln_in", one_plus(layer.input_layernorm)), eps)
        q, k, v = _project_qkv(g, h, attn, qkv_split)
        if hasattr(attn, "q_norm"):   # Gemma 3
            q = _head_norm(g, q, attn.q_norm, heads, head_dim, eps, one_plus(attn.q_norm))
            k = _head_norm(g, k, attn.k_norm, kv_heads, head_dim, eps, one_plus(attn.k_norm))
        cos_cache, sin_cache = rotary[kind]
        q = g.op("RotaryEmbedding", [q, "position_ids", cos_cache, sin_cache], domain=MS, interleaved=0,
                 num_heads=heads)
        k = g.op("RotaryEmbedding", [k, "position_ids", cos_cache, sin_cache], domain=MS, interleaved=0,
                 num_heads=kv_heads)
        mask = SLIDING_MASK if kind == "sliding_attention" else "attention_mask"
        context = attention(i, q, k, v, float(attn.scaling), mask, softcap)
        attn_out = g.op("MatMul", [context, g.weight("o_proj", attn.o_proj.weight.T)])
        attn_out = g.op("SimplifiedLayerNormalization",
                        [attn_out, g.weight("ln_post_attn", one_plus(layer.post_attention_layernorm))], axis=-1,
                        epsilon=eps, stash_type=1)
        h, _, _, x = g.op("SkipSimplifiedLayerNormalization",
                          [attn_out, x, g.weight("ln_pre_ff", one_plus(layer.pre_feedforward_layernorm))],
                          outputs=4, domain=MS, epsilon=eps)
        gate, up = g.op("Split", [g.op("MatMul", [h, g.weight("gate_up", _gate_up(mlp))]), mlp_split], outputs=2,
                        axis=-1)
        act = g.op("FastGelu", [gate], domain=MS)   # 0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3)))
        mlp_out = g.op("MatMul", [g.op("Mul", [act, up]), g.weight("down", mlp.down_proj.weight.T)])
        pending = g.op("SimplifiedLayerNormalization",
                       [mlp_out, g.weight("ln_post_ff", one_plus(layer.post_feedforward_layernorm))], axis=-1,
                       epsilon=eps, stash_type=1)
    h, _, _, _ = g.op("SkipSimplifiedLayerNormalization", [pending, x, g.weight("ln_final", one_plus(text.norm))],
                      outputs=4, domain=MS, epsilon=eps)
    cap = getattr(config, "final_logit_softcapping", None)
    logits = _lm_head(g, h, model.lm_head, text.embed_tokens.weight, embed, name="logits" if cap is None else None)
    if cap is not None:   # logits = tanh(logits / cap) * cap
        c = g.const("softcap", np.array(cap, np.float32))
        g.op("Mul", [g.op("Tanh", [g.op("Div", [logits, c])]), c], ["logits"])
    return kv_heads, head_dim


def _gpt2(model, g: _Graph, n_layers):
    """GPT-2: learned positions, LayerNorm, fused c_attn (Conv1D: weights already [in, out]), gelu_new."""
    config = model.config
    if config.activation_function not in ("gelu_new", "gelu_pytorch_tanh") or config.add_cross_attention:
        raise Unfusable(f"activation {config.activation_function!r} / cross-attention")
    t = model.transformer
    heads = config.n_head
    head_dim = config.n_embd // heads
    eps = float(config.layer_norm_epsilon)
    attention = g.attention(g, heads, heads, head_dim)
    split = g.const("qkv_split", np.array([config.n_embd] * 3, np.int64))
    embed = g.weight("wte", t.wte.weight)
    x = g.op("Add", [g.op("Gather", [embed, "input_ids"]), g.op("Gather", [g.weight("wpe", t.wpe.weight),
                                                                          "position_ids"])])
    pending = None   # (output, bias) of the previous MLP, added to the residual by the next norm
    for i, block in enumerate(t.h[:n_layers]):
        attn, mlp = block.attn, block.mlp
        ln1 = [g.weight("ln1", block.ln_1.weight), g.weight("ln1_b", block.ln_1.bias)]
        if pending is None:
            h = g.op("LayerNormalization", [x, *ln1], axis=-1, epsilon=eps)
        else:
            h, _, _, x = g.op("SkipLayerNormalization", [pending[0], x, *ln1, pending[1]], outputs=4, domain=MS,
                              epsilon=eps)
        qkv = g.op("Add", [g.op("MatMul", [h, g.weight("c_attn", attn.c_attn.weight)]),
                           g.weight("c_attn_b", attn.c_attn.bias)])
        q, k, v = g.op("Split", [qkv, split], outputs=3, axis=-1)
        scale = (head_dim ** -0.5 if attn.scale_attn_weights else 1.0) / (
            i + 1 if attn.scale_attn_by_inverse_layer_idx else 1)
        context = attention(i, q, k, v, float(scale))
        h, _, _, x = g.op("SkipLayerNormalization",
                          [g.op("MatMul", [context, g.weight("c_proj", attn.c_proj.weight)]), x,
                           g.weight("ln2", block.ln_2.weight), g.weight("ln2_b", block.ln_2.bias),
                           g.weight("c_proj_b", attn.c_proj.bias)], outputs=4, domain=MS, epsilon=eps)
        f = g.op("FastGelu", [g.op("MatMul", [h, g.weight("c_fc", mlp.c_fc.weight)]),
                              g.weight("c_fc_b", mlp.c_fc.bias)], domain=MS)
        pending = (g.op("MatMul", [f, g.weight("mlp_proj", mlp.c_proj.weight)]), g.weight("mlp_proj_b", mlp.c_proj.bias))
    h, _, _, _ = g.op("SkipLayerNormalization", [pending[0], x, g.weight("ln_f", t.ln_f.weight),
                                                 g.weight("ln_f_b", t.ln_f.bias), pending[1]], outputs=4,
                      domain=MS, epsilon=eps)
    _lm_head(g, h, model.lm_head, t.wte.weight, embed)
    return heads, head_dim


def _gpt_neox(model, g: _Graph, n_layers):
    """GPT-NeoX: per-head interleaved q|k|v, partial rotary, exact GELU, parallel residual (or not)."""
    config = model.config
    if config.hidden_act != "gelu":
        raise Unfusable(f"activation {config.hidden_act!r}")
    neox = model.gpt_neox
    heads = config.num_attention_heads
    head_dim = config.hidden_size // heads
    eps = float(config.layer_norm_eps)
    cos, sin = _rotary_caches(neox.rotary_emb, head_dim, config.max_position_embeddings)
    cos_cache, sin_cache = g.const("cos_cache", cos), g.const("sin_cache", sin)
    rotary_dim = 2 * cos.shape[-1]
    attention = g.attention(g, heads, heads, head_dim)
    split = g.const("qkv_split", np.array([config.hidden_size] * 3, np.int64))
    embed = g.weight("embed_in", neox.embed_in.weight)
    x = g.op("Gather", [embed, "input_ids"])
    pending = None   # (output, bias) still to be added to the residual stream by the next norm

    def norm(inp, ln):
        params = [g.weight("ln", ln.weight), g.weight("ln_b", ln.bias)]
        nonlocal x, pending
        if pending is None:
            return g.op("LayerNormalization", [inp, *params], axis=-1, epsilon=eps)
        out, _, _, x = g.op("SkipLayerNormalization", [pending[0], x, *params, pending[1]], outputs=4, domain=MS,
                            epsilon=eps)
        pending = None
        return out

    for i, layer in enumerate(neox.layers[:n_layers]):
        attn, mlp = layer.attention, layer.mlp
        h = norm(x, layer.input_layernorm)
        # query_key_value rows are [heads, 3, head_dim]: regroup as q | k | v
        w = attn.query_key_value.weight.view(heads, 3, head_dim, -1).transpose(0, 1).reshape(3 * heads * head_dim, -1)
        b = attn.query_key_value.bias.view(heads, 3, head_dim).transpose(0, 1).reshape(-1)
        qkv = g.op("Add", [g.op("MatMul", [h, g.weight("qkv", w.T)]), g.weight("qkv_b", b)])
        q, k, v = g.op("Split", [qkv, split], outputs=3, axis=-1)
        q, k = (g.op("RotaryEmbedding", [t, "position_ids", cos_cache, sin_cache], domain=MS, interleaved=0,
                     num_heads=heads, rotary_embedding_dim=rotary_dim) for t in (q, k))
        attn_out = g.op("MatMul", [attention(i, q, k, v, float(attn.scaling)), g.weight("dense", attn.dense.weight.T)])
        if config.use_parallel_residual:   # x + attn(ln1(x)) + mlp(ln2(x))
            h2 = g.op("LayerNormalization", [x, g.weight("ln2", layer.post_attention_layernorm.weight),
                                             g.weight("ln2_b", layer.post_attention_layernorm.bias)],
                      axis=-1, epsilon=eps)
        else:
            pending = (attn_out, g.weight("dense_b", attn.dense.bias))
            h2 = norm(x, layer.post_attention_layernorm)
        f = g.op("BiasGelu", [g.op("MatMul", [h2, g.weight("fc_in", mlp.dense_h_to_4h.weight.T)]),
                              g.weight("fc_in_b", mlp.dense_h_to_4h.bias)], domain=MS)
        mlp_out = g.op("MatMul", [f, g.weight("fc_out", mlp.dense_4h_to_h.weight.T)])
        if config.use_parallel_residual:
            pending = (g.op("Add", [attn_out, mlp_out]),
                       g.weight("out_b", attn.dense.bias + mlp.dense_4h_to_h.bias))
        else:
            pending = (mlp_out, g.weight("fc_out_b", mlp.dense_4h_to_h.bias))
    h = norm(x, neox.final_layer_norm)
    _lm_head(g, h, model.get_output_embeddings(), neox.embed_in.weight, embed)
    return heads, head_dim


# Initializer bytes above which a graph is saved with its weights in a staging file (protobuf's limit is 2 GiB).
INLINE_LIMIT = 1_800_000_000
STAGING_SUFFIX = ".staging.data"

BUILDERS = {"llama": _llama, "qwen2": _llama, "mistral": _llama, "qwen3": _llama, "phi3": _llama,
            "gemma2": _gemma, "gemma3_text": _gemma, "gpt2": _gpt2, "gpt_neox": _gpt_neox}


def build(model, shapes: dict, path, opset: int, inplace: bool = False, dtype: str = "float32") -> None:
    """Write the fused graph of `model` to `path` (the in-place GroupQueryAttention graph with `inplace`), or
    raise Unfusable. dtype "float16": weights, activations and the KV cache (past/present) in half precision;
    the masks stay float32 inputs (cast inside) and the logits a float32 output (FORMAT.md "Half precision")."""
    from export import mixed_attention

    builder = BUILDERS.get(model.config.model_type)
    if builder is None:
        raise Unfusable(f"no fused builder for model_type {model.config.model_type!r}")
    sliding = mixed_attention(model.config)
    if sliding and builder is not _gemma:
        raise Unfusable("layers of two attention kinds (the builder gives every layer one mask)")
    n_layers = shapes["num_layers"]
    half = dtype == "float16"
    g = _Graph(_InplaceAttention if inplace else _Attention, half)
    kv_heads, head_dim = builder(model, g, n_layers)
    if (kv_heads, head_dim) != (shapes["kv_heads"], shapes["head_dim"]):
        raise Unfusable("the model's cache shapes differ from its config")
    if half:   # the builders name their last node's output "logits": it becomes the float16 input of a Cast
        for node in g.nodes:
            for j, out in enumerate(node.output):
                if out == "logits":
                    node.output[j] = "logits.half"
        g.op("Cast", ["logits.half"], ["logits"], to=TensorProto.FLOAT)
    f32, i64, i32 = TensorProto.FLOAT, TensorProto.INT64, TensorProto.INT32
    kv_type = TensorProto.FLOAT16 if half else f32
    kv = lambda name, axis: helper.make_tensor_value_info(name, kv_type, ["b", kv_heads, axis, head_dim])
    inputs = [helper.make_tensor_value_info("input_ids", i64, ["b", "q"]),
              helper.make_tensor_value_info("position_ids", i64, ["b", "q"]),
              *[helper.make_tensor_value_info(name, f32, ["b", 1, "q", "total" if inplace else "p_plus_q"])
                for name in ["attention_mask", *([SLIDING_MASK] if sliding else [])]],
              *([helper.make_tensor_value_info("seqlens_k", i32, ["b"]),
                 helper.make_tensor_value_info("total_sequence_length", i32, [])] if inplace else []),
              *[kv(n, "p") for n in past_names(n_layers)]]
    outputs = [helper.make_tensor_value_info("logits", f32, ["b", "q", shapes["vocab_size"]]),
               *[kv(n, "p" if inplace else "q") for n in present_names(n_layers)]]
    graph = helper.make_graph(g.nodes, "specbeam_fused_decoder", inputs, outputs, g.inits)
    onnx_model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset),
                                                          helper.make_opsetid(MS, 1)],
                                   producer_name="specbeam",
                                   producer_version=INPLACE_GRAPH_VERSION if inplace else GRAPH_VERSION)
    onnx_model.ir_version = min(onnx_model.ir_version, 10)
    if sum(init.ByteSize() for init in g.inits) > INLINE_LIMIT:
        # past protobuf's 2 GiB a graph cannot carry its weights: they go to <name>.staging.data, which
        # export.store_weights_once moves into model.onnx.data (a Llama-3.2-1B shape has 4.9 GB)
        save(onnx_model, str(path), save_as_external_data=True, all_tensors_to_one_file=True,
             location=Path(path).name + STAGING_SUFFIX, size_threshold=1024)
    else:
        save(onnx_model, str(path))
