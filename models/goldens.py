#!/usr/bin/env python3
"""Record Hugging Face `generate` outputs as goldens for the Java engine (FORMAT.md "Goldens").

    python models/goldens.py --model-dir D --hf-dir H [--text FILE]

Runs HF generate (PyTorch, fp32, CPU, eager attention) on the checkpoint H and writes
D/goldens.json: greedy and beam search over num_beams {2,4,8} x length_penalty {1,0,2} x
early_stopping {True,False,"never"}, num_return_sequences {1,2,B}, some min_new_tokens,
prompt lengths from 1 to ~40 tokens (the study prompts of D/tasks/prompts.jsonl, if
present, plus prefixes of --text), and an EOS made likely: in most beam cases the EOS id is
a token the model emits often, so hypotheses finish early and length penalty and early
stopping matter.

Sequences are prompt + generated tokens, cut after the first EOS (HF pads shorter beams).
step_gaps[t]: greedy, best minus runner-up processed logit; beam, the smallest gap between
adjacent ones among the best 2B+1 accumulated candidates (running beam score + processed
log-prob) at step t, recorded by a final logits processor that replays HF's accumulation.
"""

import argparse
import json
import sysconfig
from collections import Counter
from pathlib import Path

from common import CliError, hf_checkpoint, load_tokenizer, quiet_libraries, read_manifest, run_cli

PROMPT_LENGTHS = [1, 2, 5, 12, 24, 40]
NEW_TOKENS = [8, 12, 16, 24]
DEFAULT_TEXT = Path(sysconfig.get_paths()["stdlib"]) / "shlex.py"
TOLERANCE_NOTE = (
    "Goldens come from PyTorch fp32 on CPU; ONNX Runtime fp32 differs by ~1e-6 relative "
    "(manifest.check). A Java result that first diverges at step t is a floating-point "
    "near-tie, not a bug, only if some step_gaps[s], s <= t, is below 1e-3. Note HF keeps "
    "(1 + number of EOS ids) * num_beams candidates per beam step (at least 2 * num_beams).")


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model-dir", required=True, type=Path, help="specbeam model directory (export.py)")
    p.add_argument("--hf-dir", required=True, type=Path, help="the Hugging Face checkpoint it was exported from")
    p.add_argument("--text", type=Path, default=DEFAULT_TEXT,
                   help=f"text whose prefixes give prompts of {PROMPT_LENGTHS} tokens (default stdlib shlex.py)")
    p.add_argument("--sampling-only", action="store_true",
                   help="keep D/goldens.json's greedy and beam cases, (re)write its sampling cases only")
    return p.parse_args(argv)


class BeamGapRecorder:
    """Final logits processor: replays HF beam search's accumulated scores and records gaps.

    HF adds the running beam score (float32) to the processed log-probs of each beam and keeps
    the top (1 + n_eos) * B. We do the same float32 addition, so every candidate value is
    bit-identical to HF's and the running beams of the next step can be looked up by their
    token sequence. Step 0: beam 0 has score 0, the copies -1e9 (as in HF).
    """

    def __init__(self, num_beams: int, keep: int):
        self.num_beams, self.keep = num_beams, keep
        self.previous = None  # {token tuple: accumulated score} of the last step's top candidates
        self.seen = {}        # the same, over all steps: finished hypotheses are looked up here
        self.gaps = []

    def __call__(self, input_ids, scores):
        import torch

        rows = [tuple(r) for r in input_ids.tolist()]
        if self.previous is None:
            running = [0.0] + [-1e9] * (self.num_beams - 1)
        else:
            running = [self.previous[r] for r in rows]
        accumulated = (scores + torch.tensor(running, dtype=scores.dtype)[:, None]).reshape(-1)  # [B * V]
        top = torch.topk(accumulated, k=min(self.keep, accumulated.numel()))
        vocab = scores.shape[-1]
        self.previous = {rows[i // vocab] + (i % vocab,): v
                         for v, i in zip(top.values.tolist(), top.indices.tolist())}
        self.seen.update(self.previous)
        best = top.values[: 2 * self.num_beams + 1]
        best = best[torch.isfinite(best)]
        self.gaps.append(float((best[:-1] - best[1:]).min()) if best.numel() > 1 else float("inf"))
        return scores


def top_gap(scores) -> float:
    """Best minus runner-up among the finite processed logits of one greedy step ([1, V])."""
    import torch

    finite = scores[0][torch.isfinite(scores[0])]
    top2 = torch.topk(finite, k=2).values
    return float(top2[0] - top2[1])


def cut_at_eos(seq: list[int], prompt_len: int, eos: list[int]) -> list[int]:
    for i in range(prompt_len, len(seq)):
        if seq[i] in eos:
            return seq[: i + 1]
    return seq


def generate_case(model, prompt_ids: list[int], config: dict, pad_id: int) -> dict:
    """Run one case; return the FORMAT.md case body (sequences, scores, step gaps)."""
    import torch
    from transformers import GenerationConfig, LogitsProcessorList

    beam = config["mode"] == "beam"
    b = config["num_beams"] if beam else 1
    gen = GenerationConfig(
        do_sample=False, num_beams=b, max_new_tokens=config["max_new_tokens"],
        min_new_tokens=config["min_new_tokens"] or None, length_penalty=config["length_penalty"],
        early_stopping=config["early_stopping"], num_return_sequences=config["num_return_sequences"],
        eos_token_id=config["eos_token_ids"], pad_token_id=pad_id,
        output_scores=True, return_dict_in_generate=True)
    recorder = BeamGapRecorder(b, keep=4 * b * (1 + len(config["eos_token_ids"]))) if beam else None
    ids = torch.tensor([prompt_ids])
    with torch.no_grad():
        out = model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), generation_config=gen,
                             logits_processor=LogitsProcessorList([recorder] if beam else []))
    n = len(prompt_ids)
    sequences = [cut_at_eos(s, n, config["eos_token_ids"]) for s in out.sequences.tolist()]
    case = {"sequences": sequences}
    if beam:
        case["sequence_scores"] = out.sequences_scores.tolist()
        case["step_gaps"] = recorder.gaps
        _check_replay(recorder, sequences, case["sequence_scores"], n, config["length_penalty"])
    else:
        case["step_gaps"] = [top_gap(s) for s in out.scores]
    return case


# HF sampling's warpers, by seed: (temperature, top_k, top_p); the third combines both cut-offs, in HF's order
SAMPLING = [(0.7, 20, 1.0), (1.3, 0, 0.8), (1.0, 30, 0.9)]
SAMPLING_STEPS = 8
SAMPLING_KEPT = 24   # distributions are recorded where the warpers keep at most this many tokens


def sampling_cases(model, prompts, eos: list[int], likely: int, pad_id: int) -> list[dict]:
    """HF generate(do_sample=True) with a torch seed: the sampled tokens and, at each step, the distribution the
    processors and warpers leave (softmax of out.scores: the kept tokens and their probabilities, most likely
    first). A draw cannot be matched across RNGs, so the engine is held to the distribution at every step of
    HF's own sample (FORMAT.md "Goldens")."""
    import torch
    from transformers import GenerationConfig

    cases = []
    for i, (temperature, top_k, top_p) in enumerate(SAMPLING):
        name, ids = prompts[i % len(prompts)]
        eos_ids = [likely, *eos] if i == 1 else eos
        min_new = 3 if i == 2 else 0
        gen = GenerationConfig(do_sample=True, temperature=temperature, top_k=top_k, top_p=top_p,   # 0: no top-k
                               max_new_tokens=SAMPLING_STEPS, min_new_tokens=min_new or None, eos_token_id=eos_ids,
                               pad_token_id=pad_id, output_scores=True, return_dict_in_generate=True)
        x = torch.tensor([ids])
        for seed in range(100):   # a seed whose steps all keep few enough tokens to record
            torch.manual_seed(seed)
            with torch.no_grad():
                out = model.generate(input_ids=x, attention_mask=torch.ones_like(x), generation_config=gen)
            steps = []
            for scores in out.scores:
                probs = torch.softmax(scores[0].double(), dim=-1)
                kept = torch.nonzero(torch.isfinite(scores[0])).flatten().tolist()
                kept.sort(key=lambda t: -probs[t].item())
                steps.append({"tokens": kept, "probs": [round(probs[t].item(), 7) for t in kept]})
            if all(len(st["tokens"]) <= SAMPLING_KEPT for st in steps):
                break
        else:
            continue
        cases.append({"id": f"sample_t{temperature:g}_k{top_k}_p{top_p:g}_{name}", "prompt_ids": ids,
                      "config": {"mode": "sampling", "temperature": temperature, "top_k": top_k, "top_p": top_p,
                                 "max_new_tokens": SAMPLING_STEPS, "min_new_tokens": min_new,
                                 "eos_token_ids": eos_ids, "torch_seed": seed},
                      "sequence": cut_at_eos(out.sequences[0].tolist(), len(ids), eos_ids), "steps": steps})
    return cases


def _check_replay(recorder, sequences, scores, prompt_len, length_penalty) -> None:
    """The replayed accumulation must reproduce HF's length-penalised sequence scores."""
    for seq, score in zip(sequences, scores):
        replay = recorder.seen[tuple(seq)] / (len(seq) - prompt_len) ** length_penalty
        if abs(replay - score) > 1e-4 * max(1.0, abs(score)):
            raise RuntimeError(f"beam replay {replay} != HF score {score}: generate changed, fix BeamGapRecorder")


def load_prompts(model_dir: Path, tokenizer, text_file: Path) -> list[tuple[str, list[int]]]:
    """(name, ids): the study prompts if tasks.py wrote them, then prefixes of the text."""
    prompts = []
    tasks = model_dir / "tasks" / "prompts.jsonl"
    if tasks.is_file():
        prompts += [(r["id"], r["prompt_ids"]) for r in map(json.loads, tasks.read_text().splitlines())]
    if not text_file.is_file():
        raise CliError(f"--text {text_file} not found")
    ids = tokenizer(text_file.read_text(encoding="utf-8", errors="replace"))["input_ids"]
    prompts += [(f"text{n}", ids[:n]) for n in PROMPT_LENGTHS if n <= len(ids)]
    return prompts


def frequent_token(model, prompts, avoid: list[int]) -> int:
    """The token greedy decoding emits most often over the prompts (not already an EOS id)."""
    import torch

    counts = Counter()
    with torch.no_grad():
        for _, ids in prompts:
            x = torch.tensor([ids])
            out = model.generate(input_ids=x, attention_mask=torch.ones_like(x), do_sample=False,
                                 max_new_tokens=24, min_new_tokens=24, eos_token_id=None, pad_token_id=0)
            counts.update(t for t in out[0, len(ids):].tolist() if t not in avoid)
    return counts.most_common(1)[0][0]


def case_configs(prompts, eos: list[int], likely: int) -> list[tuple[str, list[int], dict]]:
    """The case matrix: (id, prompt ids, config) for ~50 cases."""
    def cfg(mode, eos_ids, max_new, beams=1, lp=1.0, es=False, nrs=1, min_new=0):
        return {"mode": mode, "num_beams": beams, "max_new_tokens": max_new, "min_new_tokens": min_new,
                "length_penalty": lp, "early_stopping": es, "num_return_sequences": nrs,
                "eos_token_ids": eos_ids}

    cases = []
    for i, (name, ids) in enumerate(prompts):  # greedy on every prompt, the model's own EOS
        cases.append((f"greedy_{name}", ids, cfg("greedy", eos, NEW_TOKENS[i % 4])))
    for i, (name, ids) in enumerate(prompts[:4]):  # greedy with the likely EOS, two with a minimum
        cases.append((f"greedy_eos_{name}", ids, cfg("greedy", [likely], 24, min_new=6 * (i % 2))))
    k = 0
    for beams in (2, 4, 8):  # beam grid with the likely EOS: hypotheses finish early
        for lp in (1.0, 0.0, 2.0):
            for es in (True, False, "never"):
                name, ids = prompts[k % len(prompts)]
                nrs = (1, 2, beams)[k % 3]
                cases.append((f"beam{beams}_lp{lp:g}_es{es}_{name}", ids,
                              cfg("beam", [likely], NEW_TOKENS[k % 4], beams, lp, es, nrs, 4 * (k % 4 == 3))))
                k += 1
    for beams in (2, 4, 8):  # the model's own EOS (rarely emitted: all run to max_new_tokens)
        for j, (name, ids) in enumerate(prompts[beams % 3::4][:2]):
            cases.append((f"beam{beams}_model_eos_{name}", ids, cfg("beam", eos, 16, beams, nrs=beams)))
    for beams in (2, 4, 8):  # two EOS ids: HF keeps (1 + 2) * B candidates
        name, ids = prompts[beams % len(prompts)]
        cases.append((f"beam{beams}_two_eos_{name}", ids,
                      cfg("beam", [likely, eos[0]], 16, beams, 1.0, "never", 2)))
    return cases


def write_goldens(path: Path, goldens: dict) -> None:
    """goldens.json with one case per line: less than half the bytes of an indented file (these are committed for
    every model), still one case to a diff hunk."""
    head = {k: v for k, v in goldens.items() if k not in ("cases", "sampling")}
    lines = [json.dumps(head, ensure_ascii=False)[:-1] + ', "sampling": [']
    lines += [json.dumps(c, ensure_ascii=False, separators=(",", ":")) + ("," if i + 1 < len(goldens.get("sampling", []))
                                                                          else "")
              for i, c in enumerate(goldens.get("sampling", []))]
    lines += ['], "cases": [']
    lines += [json.dumps(c, ensure_ascii=False, separators=(",", ":")) + ("," if i + 1 < len(goldens["cases"]) else "")
              for i, c in enumerate(goldens["cases"])]
    Path(path).write_text("\n".join(lines) + "\n]}\n")


def main(argv=None):
    args = parse_args(argv)
    quiet_libraries()
    import torch
    from transformers import AutoModelForCausalLM

    torch.set_num_threads(1)  # tiny matmuls: threads only add contention, and results stay fixed
    manifest = read_manifest(args.model_dir)
    tokenizer = load_tokenizer(args.model_dir)
    try:
        model = AutoModelForCausalLM.from_pretrained(hf_checkpoint(args.hf_dir), dtype=torch.float32,
                                                     attn_implementation="eager").eval()
    except Exception as e:  # OSError, ValueError, a truncated safetensors file, ...
        raise CliError(f"cannot load HF checkpoint {args.hf_dir}: {str(e).splitlines()[0]}") from None
    eos = manifest["eos_token_ids"]
    if not eos:
        raise CliError("manifest has no eos_token_ids")
    pad = manifest["pad_token_id"] if manifest["pad_token_id"] is not None else eos[0]
    prompts = load_prompts(args.model_dir, tokenizer, args.text)
    if args.sampling_only:
        existing = args.model_dir / "goldens.json"
        if not existing.is_file():
            raise CliError(f"--sampling-only: {existing} does not exist; run without it first")
        goldens = json.loads(existing.read_text())
        goldens["sampling"] = sampling_cases(model, prompts, eos, goldens["likely_eos_token_id"], pad)
        write_goldens(existing, goldens)
        print(f"wrote {existing}: {len(goldens['sampling'])} sampling cases")
        return
    likely = frequent_token(model, prompts, avoid=eos)
    cases = []
    for case_id, ids, config in case_configs(prompts, eos, likely):
        cases.append({"id": case_id, "prompt_ids": ids, "config": config,
                      **generate_case(model, ids, config, pad)})
    sampling = sampling_cases(model, prompts, eos, likely, pad)
    write_goldens(args.model_dir / "goldens.json",
                  {"model": manifest["source"]["model"], "tolerance_note": TOLERANCE_NOTE,
                   "likely_eos_token_id": likely, "sampling": sampling, "cases": cases})
    gaps = [g for c in cases for g in c["step_gaps"]]
    print(f"wrote {args.model_dir / 'goldens.json'}: {len(cases)} cases, likely EOS {likely}, "
          f"{sum(g < 1e-3 for g in gaps)}/{len(gaps)} step gaps < 1e-3")


if __name__ == "__main__":
    raise SystemExit(run_cli(main))
