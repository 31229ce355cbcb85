"""The fused decoder graph: the same I/O as the traced one (FORMAT.md, "Graph I/O"), built node by node
from the Hugging Face weights with ONNX Runtime's fused CPU operators.

    per layer (Llama / Qwen2): SkipSimplifiedLayerNormalization -> one MatMul for q|k|v (+ bias)
    -> Split -> RotaryEmbedding on q and k -> the new k/v as [b, kv_heads, q, head_dim] (present)
    -> Concat(past, new) -> MultiHeadAttention(attention_bias = the additive tree mask)
    -> MatMul o_proj -> SkipSimplifiedLayerNormalization -> one MatMul for gate|up -> Split
    -> QuickGelu(alpha=1) (= SiLU) -> Mul -> MatMul down_proj

`MultiHeadAttention` gets key/value already concatenated (past of fixed capacity, then the new
tokens) in BNSH layout and the 4D additive mask as `attention_bias` [b, 1, q, past + q], so a
token tree is scored exactly as by the traced graph; the new keys/values leave the graph as
`present.*` before the concatenation (new tokens only). Grouped-query attention repeats the kv
heads for MultiHeadAttention (Expand + Reshape); the cache and `present` keep kv_heads.

`build(model, path)` raises `Unfusable` with the reason for a model it does not cover
(export.py then writes the traced graph): architectures other than those in `BUILDERS`, a
rotary embedding that depends on the sequence length, activations other than SiLU, ...
"""

import numpy as np
import torch
from onnx import TensorProto, helper, numpy_helper, save

from decoder_wrapper import past_names, present_names

MS = "com.microsoft"
GRAPH_VERSION = "fused-v1"


class Unfusable(Exception):
    """This model has a feature the fused builder does not express; the traced graph is used instead."""


class _Graph:
    """Nodes and initializers with generated names."""

    def __init__(self):
        self.nodes, self.inits, self._n = [], [], 0

    def name(self, hint):
        self._n += 1
        return f"{hint}_{self._n}"

    def const(self, hint, array):
        name = self.name(hint)
        self.inits.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def weight(self, hint, tensor):
        return self.const(hint, tensor.detach().to(torch.float32).numpy())

    def op(self, op_type, inputs, outputs=1, domain="", **attrs):
        names = [o if isinstance(o, str) else self.name(op_type.lower()) for o in
                 (outputs if isinstance(outputs, list) else [None] * outputs)]
        self.nodes.append(helper.make_node(op_type, inputs, names, name=self.name(op_type), domain=domain,
                                           **attrs))
        return names[0] if len(names) == 1 else names


def _linear_t(layers):
    """[in, sum(out)] weight and the concatenated bias (or None) of several nn.Linear."""
    w = torch.cat([l.weight for l in layers], dim=0).T
    biases = [l.bias for l in layers]
    if all(b is None for b in biases):
        return w, None
    return w, torch.cat([b if b is not None else torch.zeros(l.out_features) for b, l in zip(biases, layers)])


def _rotary_caches(model, head_dim, max_positions):
    """cos/sin caches [max_positions, head_dim / 2] from the model's own rotary module (scaling included)."""
    rotary = model.model.rotary_emb
    if getattr(rotary, "rope_type", "default") == "dynamic":
        raise Unfusable("dynamic rotary scaling depends on the sequence length")
    positions = torch.arange(max_positions).unsqueeze(0)
    with torch.no_grad():
        cos, sin = rotary(torch.zeros(1, dtype=torch.float32), positions)
    cos, sin = cos[0], sin[0]
    half = head_dim // 2
    if cos.shape[-1] != head_dim or not torch.equal(cos[:, :half], cos[:, half:]):
        raise Unfusable("the rotary embedding is not the rotate-half layout over the whole head")
    return cos[:, :half].numpy(), sin[:, :half].numpy()


def _llama(model, g: _Graph, n_layers):
    config = model.config
    if config.hidden_act != "silu" or getattr(config, "mlp_bias", False):
        raise Unfusable(f"activation {config.hidden_act!r} / MLP bias")
    if getattr(config, "pretraining_tp", 1) != 1:
        raise Unfusable("pretraining_tp != 1")
    heads, kv_heads = config.num_attention_heads, config.num_key_value_heads
    first_attn = model.model.layers[0].self_attn
    head_dim = first_attn.head_dim
    group = heads // kv_heads
    eps = float(config.rms_norm_eps)
    cos, sin = _rotary_caches(model, head_dim, config.max_position_embeddings)
    cos_cache, sin_cache = g.const("cos_cache", cos), g.const("sin_cache", sin)
    kv_shape = g.const("kv_shape", np.array([0, 0, kv_heads, head_dim], np.int64))   # [b, q, kv, hd]
    perm = [0, 2, 1, 3]
    if group > 1:
        expand_shape = g.const("gqa_expand", np.array([1, 1, group, 1, 1], np.int64))
        unsqueeze_axis = g.const("gqa_axis", np.array([2], np.int64))
        heads_shape = g.const("gqa_heads", np.array([0, heads, -1, head_dim], np.int64))
    q_size, kv_size = heads * head_dim, kv_heads * head_dim
    qkv_split = g.const("qkv_split", np.array([q_size, kv_size, kv_size], np.int64))
    mlp_split = g.const("mlp_split", np.array([config.intermediate_size] * 2, np.int64))

    embed = g.weight("embed", model.model.embed_tokens.weight)
    x = g.op("Gather", [embed, "input_ids"])
    residual_in = None    # the block input before its norm; None: x is already the first layer's input
    for i, layer in enumerate(model.model.layers[:n_layers]):
        attn, mlp = layer.self_attn, layer.mlp
        # x is the residual stream; the attention norm also adds the previous MLP output
        if residual_in is None:
            h = g.op("SimplifiedLayerNormalization", [x, g.weight("ln_in", layer.input_layernorm.weight)],
                     axis=-1, epsilon=eps, stash_type=1)
        else:
            h, _, _, x = g.op("SkipSimplifiedLayerNormalization",
                              [residual_in, x, g.weight("ln_in", layer.input_layernorm.weight)], outputs=4,
                              domain=MS, epsilon=eps)
        w, b = _linear_t([attn.q_proj, attn.k_proj, attn.v_proj])
        qkv = g.op("MatMul", [h, g.weight("qkv", w)])
        if b is not None:
            qkv = g.op("Add", [qkv, g.weight("qkv_bias", b)])
        q, k, v = g.op("Split", [qkv, qkv_split], outputs=3, axis=-1)
        q = g.op("RotaryEmbedding", [q, "position_ids", cos_cache, sin_cache], domain=MS, interleaved=0,
                 num_heads=heads)
        k = g.op("RotaryEmbedding", [k, "position_ids", cos_cache, sin_cache], domain=MS, interleaved=0,
                 num_heads=kv_heads)
        present_k = g.op("Transpose", [g.op("Reshape", [k, kv_shape])], [f"present.{i}.key"], perm=perm)
        present_v = g.op("Transpose", [g.op("Reshape", [v, kv_shape])], [f"present.{i}.value"], perm=perm)
        keys = g.op("Concat", [f"past.{i}.key", present_k], axis=2)       # [b, kv, past + q, hd]
        values = g.op("Concat", [f"past.{i}.value", present_v], axis=2)
        if group > 1:
            keys, values = (g.op("Reshape", [g.op("Expand", [g.op("Unsqueeze", [t, unsqueeze_axis]),
                                                            expand_shape]), heads_shape])
                            for t in (keys, values))
        context = g.op("MultiHeadAttention", [q, keys, values, "", "", "attention_mask"], domain=MS,
                       num_heads=heads, scale=float(attn.scaling))
        attn_out = g.op("MatMul", [context, g.weight("o_proj", attn.o_proj.weight.T)])
        if attn.o_proj.bias is not None:
            attn_out = g.op("Add", [attn_out, g.weight("o_bias", attn.o_proj.bias)])
        h, _, _, x = g.op("SkipSimplifiedLayerNormalization",
                          [attn_out, x, g.weight("ln_post", layer.post_attention_layernorm.weight)], outputs=4,
                          domain=MS, epsilon=eps)
        gate, up = g.op("Split", [g.op("MatMul", [h, g.weight("gate_up", _linear_t([mlp.gate_proj, mlp.up_proj])[0])]),
                                  mlp_split], outputs=2, axis=-1)
        act = g.op("QuickGelu", [gate], domain=MS, alpha=1.0)
        residual_in = g.op("MatMul", [g.op("Mul", [act, up]), g.weight("down", mlp.down_proj.weight.T)])
    h, _, _, _ = g.op("SkipSimplifiedLayerNormalization",
                      [residual_in, x, g.weight("ln_final", model.model.norm.weight)], outputs=4, domain=MS,
                      epsilon=eps)
    head = model.lm_head
    if head.weight is model.model.embed_tokens.weight:   # tied: store the embedding once, transposed in-graph
        head_w = g.op("Transpose", [embed], perm=[1, 0])
    else:
        head_w = g.weight("lm_head", head.weight.T)
    logits = g.op("MatMul", [h, head_w], ["logits" if head.bias is None else "logits_nobias"])
    if head.bias is not None:
        g.op("Add", [logits, g.weight("lm_bias", head.bias)], ["logits"])
    return kv_heads, head_dim


BUILDERS = {"llama": _llama, "qwen2": _llama}


def build(model, shapes: dict, path, opset: int) -> None:
    """Write the fused graph of `model` to `path`, or raise Unfusable."""
    builder = BUILDERS.get(model.config.model_type)
    if builder is None:
        raise Unfusable(f"no fused builder for model_type {model.config.model_type!r}")
    n_layers = shapes["num_layers"]
    g = _Graph()
    kv_heads, head_dim = builder(model, g, n_layers)
    if (kv_heads, head_dim) != (shapes["kv_heads"], shapes["head_dim"]):
        raise Unfusable("the model's cache shapes differ from its config")
    f32, i64 = TensorProto.FLOAT, TensorProto.INT64
    kv = lambda name, axis: helper.make_tensor_value_info(name, f32, ["b", kv_heads, axis, head_dim])
    inputs = [helper.make_tensor_value_info("input_ids", i64, ["b", "q"]),
              helper.make_tensor_value_info("position_ids", i64, ["b", "q"]),
              helper.make_tensor_value_info("attention_mask", f32, ["b", 1, "q", "p_plus_q"]),
              *[kv(n, "p") for n in past_names(n_layers)]]
    outputs = [helper.make_tensor_value_info("logits", f32, ["b", "q", shapes["vocab_size"]]),
               *[kv(n, "q") for n in present_names(n_layers)]]
    graph = helper.make_graph(g.nodes, "specbeam_fused_decoder", inputs, outputs, g.inits)
    onnx_model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset),
                                                          helper.make_opsetid(MS, 1)],
                                   producer_name="specbeam", producer_version=GRAPH_VERSION)
    onnx_model.ir_version = min(onnx_model.ir_version, 10)
    save(onnx_model, str(path))
