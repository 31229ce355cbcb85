"""export.py on the four tiny architectures: files, manifest, graph I/O and tree semantics.

The tree tests drive the exported graph the way the Java engine does (fixed-capacity past,
most slots hidden, only new-token k/v returned) with code independent of export_check.py,
and compare every tree node with a plain Hugging Face forward over its linear path.
"""

import json

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
from conftest import ARCHS, FUSED, TINY

import logits_from
from common import CliError, sha256_file
from onnx_engine import Engine

FORMAT_KEYS = {"format", "model_type", "architecture", "num_layers", "num_heads", "num_kv_heads", "head_dim",
               "hidden_size", "vocab_size", "max_positions", "bos_token_id", "eos_token_ids", "pad_token_id",
               "dtype", "graph", "mask_min", "parameters", "flops_per_token", "inputs", "outputs", "source",
               "exporter", "files", "check"}
CHECK_KEYS = {"tolerance", "prefill_max_abs_diff", "step_max_abs_diff", "tree_siblings_max_abs_diff",
              "tree_chain_max_abs_diff"}
# make_tiny.py's shapes: grouped-query attention where it gives 2 kv heads; Qwen3's head_dim is not hidden / heads
KV_HEADS = {"llama": 4, "qwen2": 2, "gpt2": 4, "gpt_neox": 4, "mistral": 2, "qwen3": 2, "phi3": 2, "gemma2": 2,
            "gemma3": 2}
HEAD_DIM = {"llama": 16, "qwen2": 16, "gpt2": 16, "gpt_neox": 16, "mistral": 8, "qwen3": 16, "phi3": 8,
            "gemma2": 8, "gemma3": 8}
HIDDEN = {"mistral": 32, "qwen3": 32, "phi3": 32, "gemma2": 32, "gemma3": 32}   # make_tiny.SMALL; the rest 64
WINDOW = {"mistral": 12, "phi3": 13, "gemma2": 8, "gemma3": 8}
MIXED = {"gemma2", "gemma3"}   # sliding and full layers: a second mask input
MODEL_TYPE = {"gemma3": "gemma3_text"}


def hf_linear_logits(hf_model, ids):
    with torch.no_grad():
        return hf_model(input_ids=torch.tensor([ids])).logits[0, -1].numpy()


@pytest.mark.parametrize("arch", ARCHS)
def test_export_writes_every_manifest_field_and_matching_checksums(exported, arch):
    out = exported(arch)
    m = json.loads((out / "manifest.json").read_text())
    assert FORMAT_KEYS <= m.keys()
    assert CHECK_KEYS <= m["check"].keys()
    assert m["format"] == "specbeam-onnx-v1" and m["model_type"] == MODEL_TYPE.get(arch, arch)
    assert m["dtype"] == "float32"
    assert m["mask_min"] == float(np.finfo(np.float32).min)
    assert m["outputs"]["present_holds"] == "new_tokens_only"
    assert m["num_kv_heads"] == KV_HEADS[arch] and m["num_heads"] == 4
    assert m["head_dim"] == HEAD_DIM[arch] and m["hidden_size"] == HIDDEN.get(arch, 64)
    assert m["sliding_window"] == WINDOW.get(arch)
    assert ("attention_mask_sliding" in m["inputs"]) == (arch in MIXED)
    assert m["vocab_size"] == 512 and m["eos_token_ids"]
    assert m["flops_per_token"] > 2 * m["hidden_size"] * m["vocab_size"]
    graphs = ["model.onnx", "model.onnx.data", "model_inplace.onnx"] if arch in FUSED else ["model.onnx"]
    assert set(m["files"]) == {*graphs, "tokenizer.json", "tokenizer_config.json"}
    for name, digest in m["files"].items():
        assert sha256_file(out / name) == digest
    for check in (m["check"], *([m["inplace"]["check"]] if arch in FUSED else [])):
        diffs = [v for k, v in check.items() if k.endswith("_diff")]
        windowed = 2 if m["sliding_window"] else 0   # window_chain, window_tree
        assert len(diffs) == 5 + windowed and all(0.0 <= d <= check["tolerance_abs"] for d in diffs)
    if arch in FUSED:
        assert m["inplace"]["file"] == "model_inplace.onnx" and m["inplace"]["graph"] == "fused-inplace-v1"
    else:
        assert "inplace" not in m and m["graph"] == "traced"
    assert sorted(p.name for p in out.iterdir()) == sorted(["manifest.json", *graphs, "tokenizer.json",
                                                            "tokenizer_config.json"])


def test_traced_export_has_no_inplace_graph(exported):
    m = json.loads((exported("llama", "unfused") / "manifest.json").read_text())
    assert "inplace" not in m and not (exported("llama", "unfused") / "model_inplace.onnx").exists()


@pytest.mark.parametrize("arch", ARCHS)
def test_graph_io_names_and_dynamic_axes_follow_format(exported, arch):
    graph = onnx.load(str(exported(arch) / "model.onnx")).graph

    def dims(v):
        return [d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim]

    inputs = {v.name: dims(v) for v in graph.input}
    outputs = {v.name: dims(v) for v in graph.output}
    masks = ["attention_mask", *(["attention_mask_sliding"] if arch in MIXED else [])]
    assert sorted(list(inputs)[:2 + len(masks)]) == sorted(["input_ids", "position_ids", *masks])
    assert inputs["input_ids"] == ["b", "q"]
    assert all(inputs[mask] == ["b", 1, "q", "p_plus_q"] for mask in masks)
    assert inputs["past.1.value"] == ["b", KV_HEADS[arch], "p", HEAD_DIM[arch]]
    assert outputs["logits"] == ["b", "kept", 512]   # q - logits_from rows
    assert inputs["logits_from"] == [1]
    assert outputs["present.0.key"] == ["b", KV_HEADS[arch], "q", HEAD_DIM[arch]]
    assert len(inputs) == 2 + len(masks) + 4 + 1 and len(outputs) == 1 + 4
    if arch not in FUSED:
        return

    inplace = onnx.load(str(exported(arch) / "model_inplace.onnx")).graph
    inputs = {v.name: dims(v) for v in inplace.input}
    outputs = {v.name: dims(v) for v in inplace.output}
    assert inputs["attention_mask"] == ["b", 1, "q", "total"]
    assert inputs["seqlens_k"] == ["b"] and inputs["total_sequence_length"] == []
    # present is the past buffer itself: same shape, the same "p"
    assert outputs["present.1.value"] == inputs["past.1.value"] == ["b", KV_HEADS[arch], "p", HEAD_DIM[arch]]
    assert inputs["logits_from"] == [1]
    assert len(inputs) == 4 + len(masks) + 4 + 1 and len(outputs) == 1 + 4


@pytest.mark.parametrize("arch", FUSED)
def test_default_graph_is_fused_and_unfused_is_the_trace(exported, arch):
    assert json.loads((exported(arch) / "manifest.json").read_text())["graph"] == "fused-v1"
    assert json.loads((exported(arch, "unfused") / "manifest.json").read_text())["graph"] == "traced"


def _nodes_after_ort(model_path, tmp_path):
    options = ort.SessionOptions()
    options.optimized_model_filepath = str(tmp_path / "optimized.onnx")
    options.log_severity_level = 3
    ort.InferenceSession(str(model_path), options, providers=["CPUExecutionProvider"])
    return len(onnx.load(str(tmp_path / "optimized.onnx"), load_external_data=False).graph.node)  # nodes only


@pytest.mark.parametrize("arch", ["llama", "gpt2", "gpt_neox"])
def test_fused_graph_has_at_most_20_nodes_per_layer_after_ort_optimisation(exported, arch, tmp_path):
    layers = json.loads((exported(arch) / "manifest.json").read_text())["num_layers"]
    fused = _nodes_after_ort(exported(arch) / "model.onnx", tmp_path)
    traced = _nodes_after_ort(exported(arch, "unfused") / "model.onnx", tmp_path)
    assert fused <= 20 * layers + 5  # + embedding, final norm, lm_head
    assert traced > 1.5 * fused
    inplace = _nodes_after_ort(exported(arch) / "model_inplace.onnx", tmp_path)
    assert inplace <= 14 * layers + 5 and inplace < fused   # no Reshape/Transpose/Concat around attention


@pytest.fixture(scope="module")
def llama_with_gelu(tmp_path_factory):
    """The tiny llama with an activation the fused builder does not express."""
    import shutil

    d = tmp_path_factory.mktemp("gelu_llama") / "hf"
    shutil.copytree(TINY / "llama" / "hf", d)
    config = json.loads((d / "config.json").read_text())
    config["hidden_act"] = "gelu"
    (d / "config.json").write_text(json.dumps(config))
    return d


def test_auto_falls_back_to_the_traced_graph_where_fusion_does_not_apply(llama_with_gelu, tmp_path):
    import export

    export.main(["--model", str(llama_with_gelu), "--out", str(tmp_path / "o")])
    m = json.loads((tmp_path / "o" / "manifest.json").read_text())
    assert m["graph"] == "traced" and max(v for k, v in m["check"].items() if k.endswith("diff")) < 1e-3


def test_an_inplace_graph_that_fails_its_check_is_left_out(tmp_path, monkeypatch):
    """model.onnx is published alone (the engine then runs it alone) when the in-place graph fails its check."""
    import export
    import export_check

    real = export_check.run_checks

    def failing_inplace(*args, inplace=False, **kwargs):
        if inplace:
            raise export_check.CheckFailed("forced for the test")
        return real(*args, **kwargs)

    monkeypatch.setattr(export_check, "run_checks", failing_inplace)
    with pytest.warns(UserWarning, match="no in-place graph: forced for the test"):
        export.main(["--model", str(TINY / "llama" / "hf"), "--out", str(tmp_path / "o")])
    m = json.loads((tmp_path / "o" / "manifest.json").read_text())
    assert m["graph"] == "fused-v1" and "inplace" not in m and "model_inplace.onnx" not in m["files"]
    assert not (tmp_path / "o" / "model_inplace.onnx").exists() and not (tmp_path / "o" / "model.onnx.data").exists()


def test_both_graphs_read_their_weights_from_one_file(exported):
    out = exported("llama")
    data = (out / "model.onnx.data").stat().st_size
    for graph in ("model.onnx", "model_inplace.onnx"):
        model = onnx.load(str(out / graph), load_external_data=False)
        external = [i for i in model.graph.initializer if i.data_location == onnx.TensorProto.EXTERNAL]
        assert external and (out / graph).stat().st_size < 20_000   # the graph alone
        ends = [int(e.value) for i in external for e in i.external_data if e.key in ("offset", "length")]
        assert max(ends) <= data


@pytest.mark.parametrize("inplace_fails", [False, True])
def test_a_graph_over_protobufs_limit_is_written_through_staging_data_to_the_same_files(
        exported, tmp_path, monkeypatch, inplace_fails):
    """A fused graph over 2 GiB (Llama-3.2-1B's shape: 4.9 GB) cannot be one protobuf: fused_graph.build saves its
    weights to <name>.staging.data and store_weights_once moves them into model.onnx.data. Forced here on the tiny
    llama (limit 0), the published files equal a normal export's byte for byte, and no staging file is left."""
    import export
    import export_check
    import fused_graph

    monkeypatch.setattr(fused_graph, "INLINE_LIMIT", 0)
    if inplace_fails:
        real = export_check.run_checks

        def failing_inplace(*args, inplace=False, **kwargs):
            if inplace:
                raise export_check.CheckFailed("forced for the test")
            return real(*args, **kwargs)

        monkeypatch.setattr(export_check, "run_checks", failing_inplace)
        with pytest.warns(UserWarning, match="no in-place graph"):
            export.main(["--model", str(TINY / "llama" / "hf"), "--out", str(tmp_path / "o")])
        out = tmp_path / "o"
        assert sorted(f.name for f in out.iterdir() if f.name.startswith("model")) == ["model.onnx", "model.onnx.data"]
        model = onnx.load(str(out / "model.onnx"), load_external_data=False)
        assert {e.value for i in model.graph.initializer for e in i.external_data if e.key == "location"} \
            == {"model.onnx.data"}
        return
    export.main(["--model", str(TINY / "llama" / "hf"), "--out", str(tmp_path / "o")])
    normal, staged = exported("llama"), tmp_path / "o"
    names = sorted(f.name for f in staged.iterdir())
    assert not [n for n in names if "staging" in n or n.endswith(".before")]
    for name in ("model.onnx", "model_inplace.onnx", "model.onnx.data"):
        assert (staged / name).read_bytes() == (normal / name).read_bytes(), name


def test_graph_fused_where_fusion_does_not_apply_is_a_clean_error(llama_with_gelu, tmp_path, capsys):
    import export
    from common import run_cli

    assert run_cli(export.main, ["--model", str(llama_with_gelu), "--out", str(tmp_path / "o"),
                                 "--graph", "fused"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --graph fused: activation 'gelu'") and not (tmp_path / "o").exists()


@pytest.mark.parametrize("graph", ["auto", "unfused", "inplace"])
@pytest.mark.parametrize("arch", ARCHS)
def test_tree_nodes_match_linear_hf_forward_of_their_paths(exported, arch, graph):
    from transformers import AutoModelForCausalLM

    if graph == "inplace" and arch not in FUSED:
        pytest.skip(f"{arch} has no fused graph, so no in-place graph")

    # another attention implementation than the exporter's eager one; SDPA drops Gemma 2's soft-cap, so eager there
    hf = AutoModelForCausalLM.from_pretrained(TINY / arch / "hf", attn_implementation="eager" if arch == "gemma2"
                                              else "sdpa").eval()
    engine = Engine(exported(arch, "auto" if graph == "inplace" else graph), inplace=graph == "inplace")
    prompt = [11, 300, 42, 7, 99]
    logits, present = engine.run(prompt, list(range(5)), np.tril(np.ones((5, 5), bool)))
    assert present[0].shape[2] == 5  # only the new tokens come back
    engine.append(present)
    scale = max(1.0, float(np.abs(logits).max()))
    assert np.abs(logits[-1] - hf_linear_logits(hf, prompt)).max() < 1e-4 * scale

    # root 0 with children 1 and 2 (siblings at one position); 3 under 1; 4 under 3
    parents = [-1, 0, 0, 1, 3]
    tokens = [5, 17, 250, 33, 400]
    depth = [0, 1, 1, 2, 3]
    ancestors = np.zeros((5, 5), bool)
    paths = []
    for j in range(5):
        node, path = j, []
        while node != -1:
            ancestors[j, node] = True
            path.append(tokens[node])
            node = parents[node]
        paths.append(path[::-1])
    logits, present = engine.run(tokens, [5 + d for d in depth], ancestors)
    assert present[0].shape[2] == 5
    for j in range(5):
        want = hf_linear_logits(hf, prompt + paths[j])
        assert np.abs(logits[j] - want).max() < 1e-4 * scale, f"node {j} path {paths[j]}"
    # siblings really differ, so the test would catch a mask that lets them see each other
    assert np.abs(logits[1] - logits[2]).max() > 0.1


@pytest.mark.parametrize("graph", ["auto", "unfused", "inplace"])
@pytest.mark.parametrize("arch", ["llama", "qwen2"])
def test_hidden_past_slots_do_not_change_outputs(exported, arch, graph):
    engine = Engine(exported(arch, "auto" if graph == "inplace" else graph), inplace=graph == "inplace")
    _, present = engine.run([3, 4, 5], [0, 1, 2], np.tril(np.ones((3, 3), bool)))
    engine.append(present)
    before, _ = engine.run([6], [3], np.ones((1, 1), bool))
    for buf in engine.cache:
        buf[:, :, engine.length:] = 1e3  # rewrite every hidden slot
    after, _ = engine.run([6], [3], np.ones((1, 1), bool))
    assert np.abs(before - after).max() <= 1e-6


@pytest.mark.parametrize("arch", ARCHS)
def test_committed_tiny_model_is_small_checked_and_consistent(arch):
    d = TINY / arch
    m = json.loads((d / "manifest.json").read_text())
    assert (d / "model.onnx").stat().st_size < 1_000_000
    if arch in FUSED:
        assert (d / m["inplace"]["file"]).stat().st_size < 1_000_000
    for name, digest in m["files"].items():
        assert sha256_file(d / name) == digest, f"{name} changed after export: rerun make_tiny.py"
    assert (d / "hf" / "model.safetensors").is_file()
    assert not m["source"]["model"].startswith("/")  # machine-independent
    config = json.loads((d / "tokenizer_config.json").read_text())
    if arch in ("qwen2", "qwen3"):
        assert "<|im_start|>" in config["chat_template"] and m["eos_token_ids"] == [2, 0]
    else:
        assert "chat_template" not in config


def test_scattered_external_data_is_gathered_into_one_file(tmp_path):
    import export

    model = onnx.load(str(TINY / "llama" / "model.onnx"))
    path = tmp_path / "model.onnx"
    onnx.save(model, str(path), save_as_external_data=True, all_tensors_to_one_file=False)  # as >2 GB exports
    assert len(list(tmp_path.iterdir())) > 3
    export._consolidate_external_data(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.onnx", "model.onnx.data"]
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    assert [o.name for o in session.get_outputs()][0] == "logits"


@pytest.mark.parametrize("arch", ARCHS)
@pytest.mark.parametrize("graph", ["auto", "unfused"])
def test_logits_from_keeps_the_last_rows_and_zero_keeps_all(exported, arch, graph):
    """logits_from (logits_from.py): 0 gives every position, s rows s..q-1 with the same numbers; the manifest
    names it. Both graphs of the export have it."""
    d = exported(arch, graph)
    manifest = json.loads((d / "manifest.json").read_text())
    assert manifest["inputs"]["logits_from"] == "logits_from"
    options = ort.SessionOptions()
    options.log_severity_level = 3
    files = ["model.onnx"] + ([manifest["inplace"]["file"]] if "inplace" in manifest else [])
    assert len(files) == (2 if graph == "auto" and arch in FUSED else 1)
    for name in files:
        session = ort.InferenceSession(str(d / name), options, providers=["CPUExecutionProvider"])
        feeds = logits_from._feeds(session, manifest, 9, np.random.default_rng(3))
        full = session.run(["logits"], feeds)[0]   # logits_from = 0
        assert full.shape[:2] == (2, 9)
        for start in (0, 4, 8):
            part = session.run(["logits"], {**feeds, "logits_from": np.array([start], np.int64)})[0]
            assert part.shape[:2] == (2, 9 - start)
            np.testing.assert_allclose(part, full[:, start:], rtol=0, atol=1e-5)


def test_logits_from_refuses_a_graph_whose_logits_are_not_a_matmul():
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2])
    y = helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 2])
    model = helper.make_model(helper.make_graph([helper.make_node("Relu", ["x"], ["logits"])], "g", [x], [y]))
    with pytest.raises(CliError, match="does not come from a MatMul"):
        logits_from.add(model)



def test_llama3_rope_scaling_is_exported_and_greedy_equals_hf_generate_past_the_original_context(tmp_path):
    """Llama 3.x's `llama3` rope scaling (per-frequency factors, an original context of 16 here): the fused
    graph keeps it (the cos/sin caches come from the model's own rotary module), and greedy decoding to position
    56 equals HF generate."""
    import shutil

    from transformers import AutoModelForCausalLM
    from onnx_engine import greedy_decode as greedy

    import export

    d = tmp_path / "hf"
    shutil.copytree(TINY / "llama" / "hf", d)
    config = json.loads((d / "config.json").read_text())
    config["rope_scaling"] = {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                              "high_freq_factor": 4.0, "original_max_position_embeddings": 16}
    config.pop("rope_parameters", None)
    (d / "config.json").write_text(json.dumps(config))
    export.main(["--model", str(d), "--out", str(tmp_path / "out")])
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["graph"] == "fused-v1"
    hf = AutoModelForCausalLM.from_pretrained(d, attn_implementation="eager").eval()
    assert hf.model.rotary_emb.rope_type == "llama3"
    plain = AutoModelForCausalLM.from_pretrained(TINY / "llama" / "hf", attn_implementation="eager").eval()
    prompt = list(range(5, 45))
    eos = [hf.generation_config.eos_token_id]   # suppressed for all 16 tokens, by HF and here
    case = {"prompt_ids": prompt, "config": {"max_new_tokens": 16, "min_new_tokens": 16, "eos_token_ids": eos}}
    with torch.no_grad():
        x = torch.tensor([prompt])
        want = hf.generate(x, attention_mask=torch.ones_like(x), do_sample=False, max_new_tokens=16,
                           min_new_tokens=16, pad_token_id=0)[0].tolist()
        unscaled = plain.generate(x, attention_mask=torch.ones_like(x), do_sample=False, max_new_tokens=16,
                                  min_new_tokens=16, pad_token_id=0)[0].tolist()
    assert want != unscaled   # the scaling matters at these positions
    assert greedy(tmp_path / "out", case) == want
