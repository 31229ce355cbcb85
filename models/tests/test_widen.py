"""widen.py: the widened model computes the source's function, its added layers are the identity, no two of their
zero matrices hold the same bytes, and shapes it cannot widen exactly are refused."""

import pytest
import torch
from conftest import MODELS, TINY
from transformers import AutoConfig, AutoModelForCausalLM

import widen
from common import CliError

PAIR_HF = MODELS / "pair" / "hf"


def load(path):
    return AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32, attn_implementation="eager").eval()


@pytest.fixture(scope="module")
def source():
    return load(PAIR_HF / "target")


@pytest.fixture(scope="module")
def wide(source):
    # smaller than the real widening (768 / 12 / 3072 / 14) so that the test stays fast; the same construction
    config = widen.widened_config(source.config, hidden=448, heads=7, intermediate=1024, layers=9)
    return widen.widen(source, config, seed=5)


PROMPTS = [[(7 * i + 3 * j) % 4000 + 2 for j in range(40)] for i in range(3)]


def test_the_widened_model_gives_the_source_logits(source, wide):
    assert wide.num_parameters() > 1.5 * source.num_parameters()
    result = widen.compare_logits(source, wide, PROMPTS)
    assert result["positions"] == 120
    assert result["max_abs_logit_diff"] < 1e-4
    assert result["argmax_differs_not_near_tie"] == 0
    assert widen.compare_generate(source, wide, PROMPTS[:1], new_tokens=8) == {"generate_calls": 2,
                                                                               "generate_identical": 2}


def test_without_the_norm_rescaling_the_logits_differ(source, wide):
    # the check can fail: undo the sqrt(h/H) factor of one norm and the logits move far past the tolerance
    h, H = source.config.hidden_size, wide.config.hidden_size
    norm = wide.model.layers[0].input_layernorm.weight
    with torch.no_grad():
        norm[:h] /= (h / H) ** 0.5
        try:
            result = widen.compare_logits(source, wide, PROMPTS[:1])
        finally:
            norm[:h] *= (h / H) ** 0.5
    assert result["max_abs_logit_diff"] > 1e-2


def test_padding_stays_zero_and_the_norms_are_rescaled(source, wide):
    h, H = source.config.hidden_size, wide.config.hidden_size
    assert wide.config.rms_norm_eps == pytest.approx(source.config.rms_norm_eps * h / H)
    assert torch.count_nonzero(wide.model.embed_tokens.weight[:, h:]) == 0
    for layer in wide.model.layers:
        assert torch.count_nonzero(layer.self_attn.o_proj.weight[h:]) == 0
        assert torch.count_nonzero(layer.mlp.down_proj.weight[h:]) == 0
    assert torch.allclose(wide.model.norm.weight[:h], source.model.norm.weight * (h / H) ** 0.5)
    x = torch.tensor([PROMPTS[0]])
    with torch.no_grad():
        hidden = wide(input_ids=x, output_hidden_states=True).hidden_states
    assert all(torch.count_nonzero(state[..., h:]) == 0 for state in hidden)


def test_an_added_layer_is_the_identity(source, wide):
    positions = widen.layer_positions(source.config.num_hidden_layers, wide.config.num_hidden_layers)
    assert positions == [0, 2, 3, 5, 6, 8]
    extra = next(i for i in range(wide.config.num_hidden_layers) if i not in positions)
    layer = wide.model.layers[extra]
    # random elsewhere: the layer is computed, it just writes nothing
    assert torch.count_nonzero(layer.self_attn.q_proj.weight) == layer.self_attn.q_proj.weight.numel()
    x = torch.randn(2, 12, wide.config.hidden_size)
    position_ids = torch.arange(12)[None].expand(2, -1)
    with torch.no_grad():
        y = layer(x, position_ids=position_ids, position_embeddings=wide.model.rotary_emb(x, position_ids))
    assert torch.equal(y, x)
    trained = wide.model.layers[positions[1]]
    with torch.no_grad():
        z = trained(x, position_ids=position_ids, position_embeddings=wide.model.rotary_emb(x, position_ids))
    assert not torch.equal(z, x)


def test_no_two_zero_matrices_hold_the_same_bytes(wide):
    # the exporter stores byte-identical tensors once: shared zero matrices would make the forward cheaper
    blobs = [layer.self_attn.o_proj.weight.detach().numpy().tobytes() for layer in wide.model.layers] + \
            [layer.mlp.down_proj.weight.detach().numpy().tobytes() for layer in wide.model.layers]
    assert len(set(blobs)) == len(blobs)
    assert all(torch.isfinite(p).all() for p in wide.parameters())


def test_the_draft_agrees_alike_with_both(source, wide):
    result = widen.draft_agreement(source, wide, load(PAIR_HF / "draft"), PROMPTS[:2])
    assert result["positions"] == 80
    assert result["equal"]
    assert 0 < result["with_source"]["greedy_agreement"] <= 1


@pytest.mark.parametrize("change, message", [
    (dict(hidden=256, heads=4), "narrower than the source"),
    (dict(hidden=768, heads=11), "11 heads x 64"),
    (dict(intermediate=512), "narrower than the source"),
    (dict(layers=3), "narrower than the source"),
])
def test_shapes_it_cannot_widen_exactly_are_refused(source, change, message):
    shape = dict(hidden=768, heads=12, intermediate=3072, layers=14) | change
    with pytest.raises(CliError, match=message):
        widen.widened_config(source.config, **shape)


def test_grouped_query_and_untied_sources_are_refused():
    config = AutoConfig.from_pretrained(TINY / "llama" / "hf")
    config.num_key_value_heads = 2
    config.tie_word_embeddings = False
    with pytest.raises(CliError, match=r"2 kv heads for 4 heads \(grouped-query.*not tied"):
        widen.widened_config(config, hidden=128, heads=8, intermediate=512, layers=4)


def test_a_narrower_request_exits_2_with_one_line_and_writes_nothing(capsys, tmp_path):
    from common import run_cli

    out = tmp_path / "pair-wide"
    assert run_cli(widen.main, ["--hidden", "256", "--heads", "4", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: cannot widen it:")
    assert not out.exists()
