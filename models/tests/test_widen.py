"""widen.py: the widened model computes the source's function, its extra layers are the identity, and shapes it
cannot widen exactly are refused."""

import pytest
import torch
from conftest import MODELS, TINY
from transformers import AutoConfig, AutoModelForCausalLM

import widen
from common import CliError

PAIR_TARGET = MODELS / "pair" / "hf" / "target"


@pytest.fixture(scope="module")
def source():
    return AutoModelForCausalLM.from_pretrained(PAIR_TARGET, dtype=torch.float32, attn_implementation="eager").eval()


@pytest.fixture(scope="module")
def wide(source):
    # smaller than the real widening (768 / 12 / 3072 / 14) so that the test stays fast; the same construction
    config = widen.widened_config(source.config, hidden=448, heads=7, intermediate=1024, layers=9)
    return widen.widen(source, config, seed=5)


def test_the_widened_model_gives_the_source_logits(source, wide):
    assert wide.num_parameters() > 1.5 * source.num_parameters()
    prompts = [[(7 * i + 3 * j) % 4000 + 2 for j in range(40)] for i in range(3)]
    result = widen.compare_logits(source, wide, prompts)
    assert result["positions"] == 120
    assert result["max_abs_logit_diff"] < 1e-4
    assert result["argmax_differs_not_near_tie"] == 0
    assert widen.compare_generate(source, wide, prompts[:1], new_tokens=8) == {"generate_calls": 2,
                                                                               "generate_identical": 2}


def test_padding_stays_zero_and_the_norms_are_rescaled(source, wide):
    h, H = source.config.hidden_size, wide.config.hidden_size
    assert wide.config.rms_norm_eps == pytest.approx(source.config.rms_norm_eps * h / H)
    assert torch.count_nonzero(wide.model.embed_tokens.weight[:, h:]) == 0
    for layer in wide.model.layers:
        assert torch.count_nonzero(layer.self_attn.o_proj.weight[h:]) == 0
        assert torch.count_nonzero(layer.mlp.down_proj.weight[h:]) == 0
    assert torch.allclose(wide.model.norm.weight[:h], source.model.norm.weight * (h / H) ** 0.5)


def test_an_added_layer_is_the_identity(source, wide):
    positions = widen.layer_positions(source.config.num_hidden_layers, wide.config.num_hidden_layers)
    assert positions == [0, 2, 3, 5, 6, 8]
    extra = next(i for i in range(wide.config.num_hidden_layers) if i not in positions)
    layer = wide.model.layers[extra]
    assert torch.count_nonzero(layer.self_attn.o_proj.weight) == 0
    assert torch.count_nonzero(layer.mlp.down_proj.weight) == 0
    # random elsewhere: the layer is computed, it just writes nothing
    assert torch.count_nonzero(layer.self_attn.q_proj.weight) == layer.self_attn.q_proj.weight.numel()


@pytest.mark.parametrize("change, message", [
    (dict(hidden=256, heads=4), "narrower than the source"),
    (dict(hidden=768, heads=11), "11 heads x 64"),
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
