#!/usr/bin/env python3
"""Continue distilling the pair's draft for top-B agreement with the target (not only the argmax).

One job: starting from a draft checkpoint, train it towards the target's whole top of the
next-token distribution, on a mix of training text and on-policy sequences, from a cache of the
target's top-k log-probabilities; and measure greedy agreement and top-B coverage on the held-out
files. The target is only read.

    python models/distill_topb.py run --minutes 60            # cache, train, evaluate (resumable)
    python models/distill_topb.py cache                       # only the teacher caches
    python models/distill_topb.py train --minutes 20          # one more chunk of training
    python models/distill_topb.py report                      # baseline vs trained draft, save it
    python models/distill_topb.py eval --draft models/pair/hf/draft   # held-out metrics of any draft
    python models/distill_topb.py online --device cuda --minutes 6.5 --steps 100000 --batch-tokens 65536
                                                              # GPU: the teacher in the loop, no cache

Each subcommand resumes where the last one stopped: cache shards already written are skipped,
training continues from `<work-dir>/train/checkpoint.pt`, and the schedule is in steps, so a run
split into chunks trains exactly like one run. `run` ends by writing `<work-dir>/draft/` (Hugging
Face checkpoint) and `<work-dir>/report.json` (baseline and new metrics side by side); copy the
draft to models/pair/hf/draft and export it only if it is better (models/pair/MODEL_CARD.md).

Cache (`<work-dir>/cache/<set>/NNNNN.pt`, one shard per forward batch of the target):
  heldout   every non-overlapping 1024-token window of the held-out stream (the evaluation set)
  heldout_beam  the target's beam-search outputs (B = 4, all 4 beams) from held-out prompts: a second
            evaluation set, on the sequences a speculative beam step actually verifies
  text      training-stream windows at seeded random offsets
  beam      the target's own beam-search outputs (B = 2, 4, 8, all B returned beams) from
            training-text prompts: the sequences speculative beam search verifies
  sample    the draft's samples (temperature 1) from training-text prompts: the on-policy data of
            DistillSpec
Each shard holds the token ids, the target's top-k token ids and log-probabilities at every
position (k = 32 by default) and the position from which the loss counts (after the prompt).

Objective, per position (p = target, q = draft, T = the target's top-k set, tail = everything else):
  KL(p || q) over the k + 1 outcomes {t in T} + {tail}   (forward KL: mass-covering, so the draft
                                                          keeps every top candidate, not only the mode)
  + tv_weight * TV(p, q) over the same outcomes          (1 - TV is the speculative acceptance rate;
                                                          LK losses optimise it directly)

`online` is the same recipe for a GPU, where the target is cheap enough to run beside every draft
step: no cache, the loss is over the whole vocabulary (KL + tv_weight * TV), text windows are drawn
anew each step, and the on-policy sets (the target's beam outputs, the draft's samples) are
generated on the device at start. The schedule follows the wall clock (`--minutes`; `--steps` caps
it), a checkpoint and the Hugging Face draft are written every `--save-seconds`, and a rerun with
the same work dir resumes. It writes `<work-dir>/report.json` (baseline and distilled metrics on the
full held-out windows and the target's held-out beam outputs, float32) and `<work-dir>/draft/`.

Metrics (teacher-forced on the held-out windows, and on heldout_beam after the prompt; float32):
  greedy_agreement   share of positions where argmax draft == argmax target
  top4_in_top8       share of the target's top-4 next tokens that are among the draft's top-8
                     (top-B coverage at B = 4: the candidates a beam step of width 4 verifies)
  kl_topk            KL(p || q) over the target's top-k + tail (a lower bound of the full KL)
"""

import argparse
import json
import math
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from common import CliError, hf_checkpoint, quiet_libraries, run_cli

DEFAULT_WORK_DIR = Path(".work/distill-topb")
DEFAULT_DATA_DIR = Path(".cache/pair-data")
DEFAULT_TARGET = Path("models/pair/hf/target")
DEFAULT_DRAFT = Path("models/pair/hf/draft")
EOS_ID = 1
SETS = ("heldout", "heldout_beam", "beam", "sample", "text")
COVERAGE_B = 4
CACHE_STRIDE = 5  # top-B coverage: the target's top-B among the draft's top-2B


# ----------------------------------------------------------------------------- metrics


def topk_log_probs(logits: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """[..., vocab] logits -> ([..., k] int64 ids, [..., k] float32 log-probs), best first."""
    logp = F.log_softmax(logits.float(), -1)
    values, ids = logp.topk(k, dim=-1)
    return ids, values


def bucket_log_probs(draft_logits: torch.Tensor, top_ids: torch.Tensor) -> torch.Tensor:
    """Draft log-probs of the target's top-k tokens and of the tail: [..., vocab] -> [..., k + 1]."""
    logq = F.log_softmax(draft_logits.float(), -1)
    top = logq.gather(-1, top_ids)
    tail = logq.scatter(-1, top_ids, float("-inf")).logsumexp(-1, keepdim=True)
    return torch.cat([top, tail], -1).clamp_min(-100.0)  # an empty tail (k = vocab) stays finite


def target_buckets(top_logp: torch.Tensor) -> torch.Tensor:
    """Target log-probs of its top-k and of the tail: [..., k] -> [..., k + 1]."""
    top_logp = top_logp.float()
    tail_mass = (1 - top_logp.exp().sum(-1, keepdim=True)).clamp_min(1e-12)
    return torch.cat([top_logp, tail_mass.log()], -1)


def topb_divergences(draft_logits, top_ids, top_logp) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-position KL(p || q) and TV(p, q) over the target's top-k + tail: two [...] tensors."""
    logp, logq = target_buckets(top_logp), bucket_log_probs(draft_logits, top_ids)
    p = logp.exp()
    kl = (p * (logp - logq)).sum(-1)
    tv = 0.5 * (p - logq.exp()).abs().sum(-1)
    return kl, tv


def agreement_counts(draft_logits: torch.Tensor, top_ids: torch.Tensor, b: int = COVERAGE_B) -> tuple[int, int]:
    """(positions where argmax draft == argmax target, target top-b tokens found in the draft's top-2b)."""
    draft_top = draft_logits.topk(2 * b, dim=-1).indices  # [..., 2b]
    greedy = (draft_top[..., 0] == top_ids[..., 0]).sum().item()
    covered = (top_ids[..., :b, None] == draft_top[..., None, :]).any(-1).sum().item()
    return greedy, covered


# ----------------------------------------------------------------------------- models and data


def load_lm(path: Path, device: str = "cpu"):
    from transformers import LlamaForCausalLM

    if not (Path(path) / "config.json").is_file():
        raise CliError(f"{path} is not a Hugging Face checkpoint (no config.json); "
                       f"the pair's are models/pair/hf/target and models/pair/hf/draft")
    return LlamaForCausalLM.from_pretrained(str(hf_checkpoint(path)), attn_implementation="sdpa", dtype=torch.float32).to(device)


def load_stream(data_dir: Path, name: str) -> torch.Tensor:
    path = Path(data_dir) / f"{name}.npy"
    if not path.is_file():
        raise CliError(f"{path} not found: run `python models/corpus.py --reuse-tokenizer` first")
    return torch.from_numpy(np.load(path).astype(np.int64))


def heldout_windows(stream: torch.Tensor, seq_len: int) -> torch.Tensor:
    """[n, seq_len + 1]: the non-overlapping windows train_pair.py evaluates on."""
    n = (len(stream) - 1) // seq_len
    return torch.stack([stream[i * seq_len: (i + 1) * seq_len + 1] for i in range(n)])


def random_windows(stream: torch.Tensor, count: int, length: int, seed: int) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    starts = torch.randint(0, len(stream) - length, (count,), generator=gen)
    return stream[starts[:, None] + torch.arange(length)]


def logits_of(model, ids: torch.Tensor) -> torch.Tensor:
    return model(input_ids=ids, use_cache=False).logits.float()


# ----------------------------------------------------------------------------- cache


class Cache:
    """Shards of teacher top-k under <work-dir>/cache/<set>/; each shard is written atomically."""

    def __init__(self, root: Path):
        self.root = Path(root) / "cache"

    def shard_path(self, name: str, index: int) -> Path:
        return self.root / name / f"{index:05d}.pt"

    def write(self, name: str, index: int, shard: dict) -> None:
        path = self.shard_path(name, index)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        torch.save(shard, tmp)
        tmp.replace(path)

    def shards(self, name: str) -> list[Path]:
        return sorted((self.root / name).glob("*.pt"))

    def load(self, name: str) -> list[dict]:
        return [torch.load(p) for p in self.shards(name)]


@torch.no_grad()
def teacher_shard(target, ids: torch.Tensor, k: int, loss_from: int) -> dict:
    """ids [n, L] (inputs and, shifted, labels) -> the target's top-k at the first L - 1 positions."""
    top_ids, top_logp = topk_log_probs(logits_of(target, ids[:, :-1].to(target.device)), k)
    top_ids, top_logp, ids = top_ids.cpu(), top_logp.cpu(), ids.cpu()
    return {"ids": ids.to(torch.int16), "top_ids": top_ids.to(torch.int16),
            "top_logp": top_logp.to(torch.float16 if k > 8 else torch.float32), "loss_from": loss_from}


@torch.no_grad()
def beam_sequences(target, prompts: torch.Tensor, beams: int, new_tokens: int) -> torch.Tensor:
    """All `beams` final beams of the target's beam search (EOS suppressed so every row is full length)."""
    prompts = prompts.to(target.device)
    out = target.generate(input_ids=prompts, attention_mask=torch.ones_like(prompts), num_beams=beams,
                          num_return_sequences=beams, max_new_tokens=new_tokens, min_new_tokens=new_tokens,
                          do_sample=False, early_stopping=False, pad_token_id=0, eos_token_id=EOS_ID)
    return out.cpu()


@torch.no_grad()
def draft_samples(draft, prompts: torch.Tensor, new_tokens: int, seed: int) -> torch.Tensor:
    torch.manual_seed(seed)
    prompts = prompts.to(draft.device)
    return draft.generate(input_ids=prompts, attention_mask=torch.ones_like(prompts), do_sample=True,
                          temperature=1.0, top_k=0, top_p=1.0, max_new_tokens=new_tokens,
                          min_new_tokens=new_tokens, pad_token_id=0, eos_token_id=EOS_ID).cpu()


def build_cache(args, log, sets=SETS) -> None:
    cache = Cache(args.work_dir)
    train = load_stream(args.data_dir, "train")
    target = load_lm(args.target, args.device).eval()
    draft = load_lm(args.draft, args.device).eval() if "sample" in sets else None
    plans = {}
    if "heldout" in sets:
        windows = heldout_windows(load_stream(args.data_dir, "heldout"), args.seq_len)
        if args.heldout_windows:
            windows = windows[:: max(1, len(windows) // args.heldout_windows)][: args.heldout_windows]
        plans["heldout"] = [(windows[i: i + args.batch_windows], 0)
                            for i in range(0, len(windows), args.batch_windows)]
    if "text" in sets:
        windows = random_windows(train, args.text_windows, args.seq_len + 1, args.seed)
        plans["text"] = [(windows[i: i + args.batch_windows], 0) for i in range(0, len(windows), args.batch_windows)]
    prompts = random_windows(train, args.policy_prompts, args.prompt_len, args.seed + 1)
    per = max(1, args.policy_prompts // len(args.beams))
    if "beam" in sets:  # an equal share of the prompts per beam width, four prompts per shard
        plans["beam"] = [(("beam", b, prompts[i * per: (i + 1) * per][j: j + 4]), args.prompt_len - 1)
                         for i, b in enumerate(args.beams) for j in range(0, per, 4)]
    if "heldout_beam" in sets:
        starts = random_windows(load_stream(args.data_dir, "heldout"), args.eval_beam_prompts, args.prompt_len,
                                args.seed + 2)
        plans["heldout_beam"] = [(("beam", COVERAGE_B, starts[j: j + 4]), args.prompt_len - 1)
                                 for j in range(0, len(starts), 4)]
    if "sample" in sets:
        plans["sample"] = [(("sample", 0, prompts[j: j + 8]), args.prompt_len - 1)
                           for j in range(0, len(prompts), 8)]
    for name in sets:
        plan = plans[name]
        t0, done = time.monotonic(), 0
        # Strided order, so that a cache stopped early still spreads over the whole set.
        order = [i for r in range(CACHE_STRIDE) for i in range(r, len(plan), CACHE_STRIDE)]
        for count, index in enumerate(order):
            work, loss_from = plan[index]
            if cache.shard_path(name, index).is_file():
                continue
            if isinstance(work, tuple):
                kind, beams, chunk = work
                ids = (beam_sequences(target, chunk, beams, args.new_tokens) if kind == "beam"
                       else draft_samples(draft, chunk, args.new_tokens, args.seed + index))
            else:
                ids = work
            cache.write(name, index, teacher_shard(target, ids, args.top_k, loss_from))
            done += ids[:, 1:].numel()
            log(f"[cache {name}] shard {index} ({count + 1}/{len(plan)}) {done / (time.monotonic() - t0):,.0f} tok/s")


# ----------------------------------------------------------------------------- evaluation


@torch.no_grad()
def evaluate(draft, shards: list[dict], b: int = COVERAGE_B) -> dict:
    """Teacher-forced metrics of `draft` against cached target top-k (float32)."""
    draft.eval()
    positions = greedy = covered = 0
    kl_sum = tv_sum = 0.0
    for shard in shards:
        ids, start = shard["ids"].long().to(draft.device), shard["loss_from"]
        top_ids = shard["top_ids"].long()[:, start:].to(draft.device)
        top_logp = shard["top_logp"].float()[:, start:].to(draft.device)
        logits = logits_of(draft, ids[:, :-1])[:, start:]
        g, c = agreement_counts(logits, top_ids, b)
        kl, tv = topb_divergences(logits, top_ids, top_logp)
        positions += top_ids[..., 0].numel()
        greedy, covered = greedy + g, covered + c
        kl_sum, tv_sum = kl_sum + kl.sum().item(), tv_sum + tv.sum().item()
    k = shards[0]["top_ids"].shape[-1] if shards else 0
    return {"positions": positions, "greedy_agreement": greedy / positions,
            f"top{b}_in_top{2 * b}": covered / (b * positions),
            f"kl_top{k}_tail": kl_sum / positions, f"tv_top{k}_tail": tv_sum / positions}


def evaluate_checkpoint(work_dir: Path, path: Path, name: str, log, device: str = "cpu") -> dict:
    """evaluate() of the checkpoint at `path` on cached set `name`, memoised in <work-dir>/evals/ by the
    weights' and the cache's content (a baseline takes minutes on a loaded CPU; compute it once)."""
    from common import sha256_file

    cache = Cache(work_dir)
    shards = cache.shards(name)
    key = sha256_file(Path(path) / "model.safetensors").split(":")[1][:16] + f"-{name}-{len(shards)}"
    memo = Path(work_dir) / "evals" / f"{key}.json"
    if memo.is_file():
        return json.loads(memo.read_text())
    result = evaluate(load_lm(path, device), cache.load(name))
    memo.parent.mkdir(parents=True, exist_ok=True)
    memo.write_text(json.dumps(result) + "\n")
    log(f"[eval] {path} on {name}: {json.dumps(result)}")
    return result


# ----------------------------------------------------------------------------- training


def adamw(model, lr: float, weight_decay: float, fused: bool = False) -> torch.optim.AdamW:
    """AdamW (0.9, 0.95) with weight decay on the matrices only, as the draft was first trained."""
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    return torch.optim.AdamW([{"params": decay, "weight_decay": weight_decay},
                              {"params": no_decay, "weight_decay": 0.0}], lr=lr, betas=(0.9, 0.95), fused=fused)


def lr_at(step: int, steps: int, peak: float, warmup: int, floor_ratio: float = 0.1) -> float:
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, steps - warmup))
    return peak * (floor_ratio + (1 - floor_ratio) * 0.5 * (1 + math.cos(math.pi * progress)))


class Mixture:
    """Batches drawn from the cached sets in fixed proportions; batch i depends only on (seed, i)."""

    def __init__(self, cache: Cache, weights: dict[str, float], batch_tokens: int, seed: int):
        self.sets, self.weights = {}, {}
        for name, w in weights.items():
            shards = cache.load(name) if w > 0 else []
            if not shards:
                continue
            rows = {key: torch.cat([s[key] for s in shards]) for key in ("ids", "top_ids", "top_logp")}
            loss_from = shards[0]["loss_from"]
            rows_per_batch = max(1, batch_tokens // (rows["ids"].shape[1] - 1))
            self.sets[name] = (rows, loss_from, rows_per_batch)
            self.weights[name] = w
        if not self.sets:
            raise CliError("no cached training data: run `python models/distill_topb.py cache` first")
        self.names = list(self.sets)
        total = sum(self.weights.values())
        self.probs = torch.tensor([self.weights[n] / total for n in self.names])
        self.seed = seed

    def tokens(self) -> dict[str, int]:
        return {n: int(s[0]["top_ids"][..., 0].numel()) for n, s in self.sets.items()}

    def batch(self, step: int) -> tuple[str, dict, int]:
        gen = torch.Generator().manual_seed(self.seed * 1_000_003 + step)
        name = self.names[torch.multinomial(self.probs, 1, generator=gen).item()]
        rows, loss_from, count = self.sets[name]
        pick = torch.randint(0, len(rows["ids"]), (count,), generator=gen)
        return name, {k: v[pick] for k, v in rows.items()}, loss_from


def distill_loss(draft, batch: dict, loss_from: int, tv_weight: float) -> tuple[torch.Tensor, int]:
    batch = {k: v.to(draft.device) for k, v in batch.items()}
    logits = logits_of(draft, batch["ids"].long()[:, :-1])[:, loss_from:]
    kl, tv = topb_divergences(logits, batch["top_ids"].long()[:, loss_from:], batch["top_logp"][:, loss_from:])
    return (kl + tv_weight * tv).mean(), kl.numel()


def train(args, log) -> dict:
    """Runs (or resumes) the schedule of args.steps steps for at most args.minutes; returns the state."""
    cache = Cache(args.work_dir)
    ckpt_path = args.work_dir / "train" / "checkpoint.pt"
    draft = load_lm(args.draft, args.device)
    weights = {"text": args.w_text, "beam": args.w_beam, "sample": args.w_sample}
    mixture = Mixture(cache, weights, args.batch_tokens, args.seed)
    opt = adamw(draft, args.lr, args.weight_decay)
    state = {"step": 0, "tokens": 0, "seconds": 0.0, "curve": [], "by_set": {n: 0 for n in mixture.names},
             "cached_tokens": mixture.tokens()}
    if ckpt_path.is_file():
        saved = torch.load(ckpt_path, map_location="cpu")
        draft.load_state_dict(saved["model"])
        opt.load_state_dict(saved["optimizer"])
        state = saved["state"]
        log(f"[train] resumed at step {state['step']} ({state['tokens']:,} tokens, {state['seconds']:.0f} s)")
    state["cached_tokens"] = mixture.tokens()
    # A fixed handful of held-out shards (indices 0, 20, 40, ...) watched during training; the
    # checkpoint kept is the last one, so this never chooses the model.
    monitor = [torch.load(cache.shard_path("heldout", i)) for i in range(0, 20 * args.monitor_shards, 20)
               if cache.shard_path("heldout", i).is_file()]

    def save() -> None:
        ckpt_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = ckpt_path.with_suffix(".tmp")
        torch.save({"model": draft.state_dict(), "optimizer": opt.state_dict(), "state": state}, tmp)
        tmp.replace(ckpt_path)

    log(f"[train] sets {mixture.tokens()} weights {mixture.weights}, {args.steps} steps, "
        f"~{args.batch_tokens} tokens/step")
    draft.train()
    start, last_save, loss_acc, n_acc = time.monotonic(), time.monotonic(), 0.0, 0
    chunk_s = args.minutes * 60
    stop_at = args.steps if not args.chunk_steps else min(args.steps, state["step"] + args.chunk_steps)
    while state["step"] < stop_at and time.monotonic() - start < chunk_s:
        step = state["step"]
        for group in opt.param_groups:
            group["lr"] = lr_at(step, args.steps, args.lr, args.warmup)
        t0 = time.monotonic()
        name, batch, loss_from = mixture.batch(step)
        loss, positions = distill_loss(draft, batch, loss_from, args.tv_weight)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(draft.parameters(), 1.0)
        opt.step()
        state["step"] += 1
        state["tokens"] += positions
        state["by_set"][name] = state["by_set"].get(name, 0) + positions
        state["seconds"] += time.monotonic() - t0
        loss_acc, n_acc = loss_acc + loss.item(), n_acc + 1
        if state["step"] % args.log_every == 0 or state["step"] == args.steps:
            point = {"step": state["step"], "tokens": state["tokens"], "seconds": round(state["seconds"], 1),
                     "lr": lr_at(step, args.steps, args.lr, args.warmup), "loss": round(loss_acc / n_acc, 4)}
            if monitor and state["step"] % (args.log_every * args.monitor_every) == 0:
                point["monitor"] = {k: round(v, 4) for k, v in evaluate(draft, monitor).items() if k != "positions"}
                draft.train()
            state["curve"].append(point)
            log(f"[train] {json.dumps(point)}")
            loss_acc, n_acc = 0.0, 0
        if time.monotonic() - last_save > 120:
            save()
            last_save = time.monotonic()
    save()
    log(f"[train] stopped at step {state['step']} of {args.steps}")
    return state


def write_report(args, log) -> None:
    """Baseline and distilled draft side by side on the held-out cache; saves <work-dir>/draft/."""
    ckpt_path = args.work_dir / "train" / "checkpoint.pt"
    if not ckpt_path.is_file():
        raise CliError(f"no training checkpoint at {ckpt_path}: run `python models/distill_topb.py train` first")
    cache = Cache(args.work_dir)
    planned = len(heldout_windows(load_stream(args.data_dir, "heldout"), args.seq_len))
    if args.heldout_windows:
        planned = min(planned, args.heldout_windows)
    shards = cache.load("heldout")
    windows = sum(len(s["ids"]) for s in shards)
    if windows != planned:
        raise CliError(f"the held-out cache holds {windows} of {planned} windows: "
                       f"run `python models/distill_topb.py cache --sets heldout` to finish it")
    saved = torch.load(ckpt_path, map_location="cpu")
    out = args.work_dir / "draft"
    draft = load_lm(args.draft, args.device)
    draft.load_state_dict(saved["model"])
    draft.save_pretrained(str(out))
    for f in ("tokenizer.json", "tokenizer_config.json"):
        if (args.draft / f).is_file():
            shutil.copy(args.draft / f, out / f)
    sets = {"teacher_forced_heldout": "heldout", "target_beam_outputs_heldout_prompts": "heldout_beam"}
    report = {}
    for name, path in (("baseline", args.draft), ("distilled", out)):
        report[name] = {"draft": str(path)}
        for label, cached in sets.items():
            if cache.shards(cached):
                report[name][label] = evaluate_checkpoint(args.work_dir, path, cached, log, args.device)
    state = saved["state"]
    report["training"] = {"steps": state["step"], "planned_steps": args.steps, "tokens": state["tokens"],
                          "tokens_by_set": state["by_set"], "cached_tokens": state.get("cached_tokens"),
                          "seconds": round(state["seconds"], 1), "curve": state["curve"]}
    report["args"] = {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()}
    (args.work_dir / "report.json").write_text(json.dumps(report, indent=1) + "\n")
    log(f"[report] wrote {out} and {args.work_dir / 'report.json'}")


# ----------------------------------------------------------------------------- online (teacher in the loop)


def full_divergences(draft_logits: torch.Tensor, target_logits: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-position KL(p || q) and TV(p, q) over the whole vocabulary: two [...] tensors."""
    logp = F.log_softmax(target_logits.float(), -1)
    logq = F.log_softmax(draft_logits.float(), -1)
    p = logp.exp()
    return (p * (logp - logq)).sum(-1), 0.5 * (p - logq.exp()).abs().sum(-1)


@torch.no_grad()
def online_metrics(target, draft, rows: torch.Tensor, loss_from: int, chunk: int) -> dict:
    """Teacher-forced metrics of `draft` on rows [n, L + 1] from position `loss_from` on, float32."""
    draft.eval()
    positions = greedy = covered = 0
    kl_sum = tv_sum = 0.0
    for i in range(0, len(rows), chunk):
        ids = rows[i: i + chunk, :-1]
        lt, ld = logits_of(target, ids)[:, loss_from:], logits_of(draft, ids)[:, loss_from:]
        g, c = agreement_counts(ld, lt.topk(COVERAGE_B, dim=-1).indices)
        kl, tv = full_divergences(ld, lt)
        positions += kl.numel()
        greedy, covered = greedy + g, covered + c
        kl_sum, tv_sum = kl_sum + kl.sum().item(), tv_sum + tv.sum().item()
    return {"positions": positions, "greedy_agreement": greedy / positions,
            f"top{COVERAGE_B}_in_top{2 * COVERAGE_B}": covered / (COVERAGE_B * positions),
            "kl_full": kl_sum / positions, "tv_full": tv_sum / positions}


def policy_sets(target, draft, train: torch.Tensor, args, log) -> dict[str, tuple[torch.Tensor, int]]:
    """The on-policy training sets, generated on the device: {name: (rows [n, L], loss_from)}."""
    prompts = random_windows(train.cpu(), args.policy_prompts, args.prompt_len, args.seed + 1)
    per = max(1, args.policy_prompts // len(args.beams))
    t0 = time.monotonic()
    beam = [beam_sequences(target, chunk, b, args.new_tokens)
            for i, b in enumerate(args.beams)
            for chunk in prompts[i * per: (i + 1) * per].split(max(1, args.gen_batch // b))]
    sample = [draft_samples(draft, chunk, args.new_tokens, args.seed + j)
              for j, chunk in enumerate(prompts.split(args.gen_batch))]
    sets = {"beam": torch.cat(beam), "sample": torch.cat(sample)}
    log(f"[online] on-policy sets in {time.monotonic() - t0:.0f} s: "
        + ", ".join(f"{k} {tuple(v.shape)}" for k, v in sets.items()))
    return {k: (v.to(train.device), args.prompt_len - 1) for k, v in sets.items()}


def online(args, log) -> dict:
    """Distil the draft with the target in the loop (GPU); resumable; writes report.json and draft/."""
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        raise CliError("--device cuda: no CUDA device is visible to torch; use --device cpu (slow) or a GPU machine")
    device = torch.device(args.device)
    work = Path(args.work_dir)
    ckpt_path = work / "checkpoint.pt"
    target = load_lm(args.target, device).eval()
    target.requires_grad_(False)
    draft = load_lm(args.draft, device)
    train_stream = load_stream(args.data_dir, "train").to(device)
    heldout = heldout_windows(load_stream(args.data_dir, "heldout"), args.seq_len)
    if args.heldout_windows:
        heldout = heldout[:: max(1, len(heldout) // args.heldout_windows)][: args.heldout_windows]
    heldout = heldout.to(device)
    starts = random_windows(load_stream(args.data_dir, "heldout"), args.eval_beam_prompts, args.prompt_len,
                            args.seed + 2)
    heldout_beam = torch.cat([beam_sequences(target, c, COVERAGE_B, args.new_tokens)
                              for c in starts.split(max(1, args.gen_batch // COVERAGE_B))]).to(device)
    eval_sets = {"teacher_forced_heldout": (heldout, 0),
                 "target_beam_outputs_heldout_prompts": (heldout_beam, args.prompt_len - 1)}
    chunk = max(1, args.batch_tokens // args.seq_len)

    def metrics() -> dict:
        out = {name: online_metrics(target, draft, rows, start, chunk) for name, (rows, start) in eval_sets.items()}
        draft.train()
        return out

    opt = adamw(draft, args.lr, args.weight_decay, fused=device.type == "cuda")
    if ckpt_path.is_file():
        saved = torch.load(ckpt_path, map_location=device)
        draft.load_state_dict(saved["model"])
        opt.load_state_dict(saved["optimizer"])
        state = saved["state"]
        log(f"[online] resumed at step {state['step']} ({state['tokens']:,} tokens, {state['seconds']:.0f} s)")
    else:
        state = {"step": 0, "tokens": 0, "seconds": 0.0, "curve": [], "by_set": {}, "baseline": metrics()}
        log(f"[online] baseline {json.dumps(state['baseline'])}")
    sets = {"text": (None, 0), **policy_sets(target, draft, train_stream, args, log)}
    weights = {"text": args.w_text, "beam": args.w_beam, "sample": args.w_sample}
    names = [n for n in sets if weights[n] > 0]
    probs = torch.tensor([weights[n] for n in names])
    monitor = heldout[:: max(1, len(heldout) // args.monitor_shards)][: args.monitor_shards] if args.monitor_shards else None
    autocast = torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda")
    offsets = torch.arange(args.seq_len + 1, device=device)
    budget_s = args.minutes * 60

    def save() -> None:
        tmp = ckpt_path.with_suffix(".tmp")
        torch.save({"model": draft.state_dict(), "optimizer": opt.state_dict(), "state": state}, tmp)
        tmp.replace(ckpt_path)
        draft.save_pretrained(str(work / "draft"))

    def batch(step: int) -> tuple[str, torch.Tensor, int]:
        gen = torch.Generator().manual_seed(args.seed * 1_000_003 + step)
        name = names[torch.multinomial(probs, 1, generator=gen).item()]
        if name == "text":
            count = max(1, args.batch_tokens // args.seq_len)
            starts = torch.randint(0, len(train_stream) - args.seq_len - 1, (count,), generator=gen).to(device)
            return name, train_stream[starts[:, None] + offsets], 0
        rows, loss_from = sets[name]
        count = max(1, args.batch_tokens // (rows.shape[1] - 1))
        return name, rows[torch.randint(0, len(rows), (count,), generator=gen).to(device)], loss_from

    log(f"[online] {args.minutes} min or {args.steps} steps, ~{args.batch_tokens} tokens/step, "
        f"weights {dict(zip(names, probs.tolist()))}, lr {args.lr} (warm-up {args.warmup} steps), tv {args.tv_weight}")
    draft.train()
    last_save = last_log = time.monotonic()
    loss_sum, loss_n = torch.zeros((), device=device), 0
    while state["step"] < args.steps and state["seconds"] < budget_s:
        t0 = time.monotonic()
        step = state["step"]
        progress = max(state["seconds"] / budget_s, step / args.steps)
        lr = (args.lr * (step + 1) / args.warmup if step < args.warmup
              else args.lr * (args.lr_floor + (1 - args.lr_floor) * 0.5 * (1 + math.cos(math.pi * progress))))
        for group in opt.param_groups:
            group["lr"] = lr
        name, rows, loss_from = batch(step)
        ids = rows[:, :-1]
        with autocast:
            with torch.no_grad():
                teacher = target(input_ids=ids, use_cache=False).logits[:, loss_from:]
            student = draft(input_ids=ids, use_cache=False).logits[:, loss_from:]
            kl, tv = full_divergences(student, teacher)
            loss = (kl + args.tv_weight * tv).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(draft.parameters(), 1.0)
        opt.step()
        loss_sum += loss.detach()
        loss_n += 1
        state["step"] += 1
        state["tokens"] += kl.numel()
        state["by_set"][name] = state["by_set"].get(name, 0) + kl.numel()
        if device.type == "cuda" and state["step"] % 50 == 0:
            torch.cuda.synchronize()  # the clock below counts work done, not work queued
        state["seconds"] += time.monotonic() - t0
        if time.monotonic() - last_log > args.log_seconds or state["step"] >= args.steps:
            point = {"step": state["step"], "tokens": state["tokens"], "seconds": round(state["seconds"], 1),
                     "lr": lr, "loss": round((loss_sum / loss_n).item(), 4)}
            if monitor is not None:
                point["monitor"] = {k: round(v, 4) for k, v in
                                    online_metrics(target, draft, monitor, 0, chunk).items() if k != "positions"}
                draft.train()
            state["curve"].append(point)
            log(f"[online] {json.dumps(point)} ({state['tokens'] / max(state['seconds'], 1e-9):,.0f} tok/s)")
            loss_sum, loss_n, last_log = torch.zeros((), device=device), 0, time.monotonic()
        if time.monotonic() - last_save > args.save_seconds:
            save()
            last_save = time.monotonic()
    save()
    report = {"baseline": state["baseline"], "distilled": metrics(),
              "training": {k: state[k] for k in ("step", "tokens", "seconds", "by_set", "curve")},
              "device": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
              "versions": {"torch": torch.__version__, "transformers": __import__("transformers").__version__},
              "args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()}}
    (work / "report.json").write_text(json.dumps(report, indent=1) + "\n")
    log(f"[online] distilled {json.dumps(report['distilled'])}")
    log(f"[online] wrote {work / 'draft'} and {work / 'report.json'}")
    return report


# ----------------------------------------------------------------------------- CLI


def add_common(p) -> None:
    p.add_argument("--work-dir", type=Path, default=DEFAULT_WORK_DIR, help="caches, checkpoint, outputs")
    p.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR, help="models/corpus.py's token streams")
    p.add_argument("--target", type=Path, default=DEFAULT_TARGET, help="target HF checkpoint (read only)")
    p.add_argument("--draft", type=Path, default=DEFAULT_DRAFT, help="draft HF checkpoint to start from")
    p.add_argument("--device", default="cpu", help="cpu or cuda (float32 either way)")
    p.add_argument("--threads", type=int, default=1, help="torch threads (a shared 2-core machine: 1)")
    p.add_argument("--seed", type=int, default=1234)


def add_cache_args(p) -> None:
    p.add_argument("--seq-len", type=int, default=1024, help="window length (held-out and text)")
    p.add_argument("--top-k", type=int, default=32, help="target log-probs kept per position")
    p.add_argument("--batch-windows", type=int, default=4, help="windows per target forward (one shard)")
    p.add_argument("--heldout-windows", type=int, default=0, help="evaluate on this many windows (0: all)")
    p.add_argument("--text-windows", type=int, default=512, help="training-text windows to cache")
    p.add_argument("--policy-prompts", type=int, default=96,
                   help="training-text prompts for the on-policy sets (split across --beams for beam)")
    p.add_argument("--prompt-len", type=int, default=64)
    p.add_argument("--new-tokens", type=int, default=96)
    p.add_argument("--beams", type=int, nargs="+", default=[2, 4, 8])
    p.add_argument("--eval-beam-prompts", type=int, default=32,
                   help="held-out prompts whose target beam outputs (B = 4) make the on-policy evaluation set")
    p.add_argument("--sets", nargs="+", choices=SETS, default=None,
                   help="cache: which sets, in this order (default all); eval: default heldout heldout_beam")


def add_train_args(p) -> None:
    p.add_argument("--minutes", type=float, default=30, help="wall-clock limit of this invocation's training")
    p.add_argument("--steps", type=int, default=1500, help="schedule length (the whole run, over all chunks)")
    p.add_argument("--chunk-steps", type=int, default=0, help="stop this invocation after N steps (0: no limit)")
    p.add_argument("--batch-tokens", type=int, default=4096)
    p.add_argument("--lr", type=float, default=1e-4, help="peak; the draft ended its first training at 3e-4")
    p.add_argument("--warmup", type=int, default=50)
    p.add_argument("--weight-decay", type=float, default=0.1)
    p.add_argument("--tv-weight", type=float, default=1.0)
    p.add_argument("--w-text", type=float, default=0.7, help="share of batches from training text")
    p.add_argument("--w-beam", type=float, default=0.2, help="share from the target's beam outputs")
    p.add_argument("--w-sample", type=float, default=0.1, help="share from the draft's samples")
    p.add_argument("--log-every", type=int, default=25)
    p.add_argument("--monitor-every", type=int, default=4, help="held-out monitor every N log lines")
    p.add_argument("--monitor-shards", type=int, default=8, help="held-out shards in the monitor (0: none)")


def add_online_args(p) -> None:
    p.add_argument("--gen-batch", type=int, default=64, help="rows per generate call (on-policy sets)")
    p.add_argument("--lr-floor", type=float, default=0.05, help="the cosine ends at this share of --lr")
    p.add_argument("--log-seconds", type=float, default=20, help="log (and monitor) every N seconds")
    p.add_argument("--save-seconds", type=float, default=60, help="checkpoint every N seconds")


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command", required=True)
    for name, helptext, parts in (
            ("cache", "write the teacher caches", (add_cache_args,)),
            ("train", "train (or resume) for --minutes", (add_cache_args, add_train_args)),
            ("eval", "held-out metrics of --draft (and --compare)", (add_cache_args,)),
            ("report", "baseline vs trained draft on the held-out cache; save the draft",
             (add_cache_args, add_train_args)),
            ("run", "cache, train, report", (add_cache_args, add_train_args)),
            ("online", "GPU: distil with the target in the loop (no cache), resumable",
             (add_cache_args, add_train_args, add_online_args))):
        p = sub.add_parser(name, help=helptext)
        add_common(p)
        for part in parts:
            part(p)
        if name == "eval":
            p.add_argument("--compare", type=Path, nargs="*", default=[], help="more drafts to evaluate")
    args = ap.parse_args(argv)
    if args.sets is None:
        args.sets = ["heldout", "heldout_beam"] if args.command == "eval" else list(SETS)
    if args.threads < 1:
        raise CliError(f"--threads must be >= 1, got {args.threads}")
    return args


def main(argv=None) -> None:
    args = parse_args(argv)
    quiet_libraries()
    torch.set_num_threads(args.threads)
    args.work_dir.mkdir(parents=True, exist_ok=True)
    log_file = open(args.work_dir / "log.txt", "a")

    def log(msg: str) -> None:
        line = f"{time.strftime('%H:%M:%S')} {msg}"
        print(line, flush=True)
        log_file.write(line + "\n")
        log_file.flush()

    if args.command == "cache":
        build_cache(args, log, args.sets)
    elif args.command == "eval":
        build_cache(args, log, args.sets)
        for path in [args.draft, *args.compare]:
            for name in args.sets:
                evaluate_checkpoint(args.work_dir, path, name, log, args.device)
    elif args.command == "train":
        train(args, log)
    elif args.command == "report":
        write_report(args, log)
    elif args.command == "online":
        online(args, log)
    else:  # run
        build_cache(args, log)
        train(args, log)
        write_report(args, log)
    log_file.close()


if __name__ == "__main__":
    sys.exit(run_cli(main))
