"""Train the bundled demo pair: a ~8M-parameter Llama target and a ~1M draft distilled from it.

One job: given the token streams that `models/corpus.py` wrote, train the target on next-token
cross-entropy, distil the draft from it (KL(target || draft) on the same text, optionally mixed
with cross-entropy), evaluate both on the held-out files and save two Hugging Face checkpoints.

    python models/corpus.py                                   # tokenizer + token streams (CPU, ~30 s)
    python models/train_pair.py --device cuda --target-minutes 4.5 --draft-minutes 2.5
    python models/train_pair.py --device cpu --target-minutes 15 --draft-minutes 8 \
        --batch-size 8 --seq-len 256                          # CPU fallback (weaker models)
    python models/train_pair.py --smoke                       # tiny models, a few steps, CPU

The committed pair (models/pair/MODEL_CARD.md) came from the GPU line with
`--target-minutes 1.5 --target-max-epochs 8 --deadline-minutes 3.8 --reserve-seconds 20
--hf-dir /tmp/pair-hf`, carried back with models/pair_bundle.py.

Training stops on wall-clock budgets (or an epoch cap, whichever comes first); the learning
rate follows a cosine over that progress, and the checkpoint kept is the best one on a fixed
held-out subset (target: lowest loss; draft: highest greedy agreement with the target).
Writes `<hf-dir>/target/`, `<hf-dir>/draft/` (config, generation config, model.safetensors,
tokenizer) and `<hf-dir>/run.json` (hyper-parameters, sizes, timings, metrics, samples).
"""

import argparse
import json
import math
import platform
import shutil
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from corpus import DEFAULT_DATA_DIR, DEFAULT_TOKENIZER_DIR, VOCAB_SIZE
from distill_topb import COVERAGE_B, agreement_counts

BOS_ID, EOS_ID, PAD_ID = 1, 1, 0  # corpus.SPECIAL_TOKENS order: <|pad|>=0, <|endoftext|>=1


@dataclass(frozen=True)
class Arch:
    hidden: int
    layers: int
    heads: int
    head_dim: int
    intermediate: int
    max_positions: int = 1024


TARGET_ARCH = Arch(hidden=320, layers=6, heads=5, head_dim=64, intermediate=768)
DRAFT_ARCH = Arch(hidden=128, layers=2, heads=2, head_dim=64, intermediate=384)
SMOKE_TARGET_ARCH = Arch(hidden=64, layers=2, heads=2, head_dim=32, intermediate=128)
SMOKE_DRAFT_ARCH = Arch(hidden=32, layers=1, heads=1, head_dim=32, intermediate=64)


@dataclass(frozen=True)
class Schedule:
    minutes: float
    max_epochs: float
    peak_lr: float
    warmup_steps: int = 200
    min_lr_ratio: float = 0.1
    max_steps: int | None = None  # smoke runs

    def lr(self, step: int, progress: float) -> float:
        if step < self.warmup_steps:
            return self.peak_lr * (step + 1) / self.warmup_steps
        cosine = 0.5 * (1 + math.cos(math.pi * min(progress, 1.0)))
        return self.peak_lr * (self.min_lr_ratio + (1 - self.min_lr_ratio) * cosine)


def llama_config(arch: Arch):
    from transformers import LlamaConfig

    return LlamaConfig(
        vocab_size=VOCAB_SIZE, hidden_size=arch.hidden, intermediate_size=arch.intermediate,
        num_hidden_layers=arch.layers, num_attention_heads=arch.heads, num_key_value_heads=arch.heads,
        head_dim=arch.head_dim, max_position_embeddings=arch.max_positions, tie_word_embeddings=True,
        bos_token_id=BOS_ID, eos_token_id=EOS_ID, pad_token_id=PAD_ID,
    )


def new_model(arch: Arch, seed: int, device: str):
    from transformers import LlamaForCausalLM

    torch.manual_seed(seed)
    model = LlamaForCausalLM._from_config(llama_config(arch), attn_implementation="sdpa")
    return model.to(device)


def size_report(model) -> dict:
    """Parameters (tied embedding counted once) and FLOPs/token = 2 * (non-embedding + hidden * vocab)."""
    cfg = model.config
    params = sum(p.numel() for p in model.parameters())
    embedding = cfg.vocab_size * cfg.hidden_size
    non_embedding = params - embedding
    return {"parameters": params, "non_embedding_parameters": non_embedding,
            "fp32_bytes": 4 * params,
            "flops_per_token": 2 * (non_embedding + cfg.hidden_size * cfg.vocab_size)}


class TokenWindows:
    """Random training windows and fixed held-out windows, all resident on the device."""

    def __init__(self, data_dir: Path, seq_len: int, device: str, seed: int):
        self.seq_len = seq_len
        self.train = torch.from_numpy(np.load(data_dir / "train.npy").astype(np.int64)).to(device)
        heldout = torch.from_numpy(np.load(data_dir / "heldout.npy").astype(np.int64))
        n = (len(heldout) - 1) // seq_len
        # [n, seq_len + 1]: non-overlapping windows, each with its next-token targets
        self.heldout = torch.stack([heldout[i * seq_len: (i + 1) * seq_len + 1] for i in range(n)]).to(device)
        self.generator = torch.Generator(device=device).manual_seed(seed)
        self.offsets = torch.arange(seq_len + 1, device=device)

    def batch(self, batch_size: int) -> torch.Tensor:
        """[batch, seq_len + 1] windows at random offsets of the train stream."""
        starts = torch.randint(0, len(self.train) - self.seq_len - 1, (batch_size,),
                               device=self.train.device, generator=self.generator)
        return self.train[starts[:, None] + self.offsets]

    def heldout_subset(self, count: int) -> torch.Tensor:
        stride = max(1, len(self.heldout) // count)
        return self.heldout[::stride][:count]


def logits_of(model, ids: torch.Tensor) -> torch.Tensor:
    return model(input_ids=ids, use_cache=False).logits.float()


def lm_loss(model, windows: torch.Tensor) -> torch.Tensor:
    logits = logits_of(model, windows[:, :-1])
    return F.cross_entropy(logits.flatten(0, 1), windows[:, 1:].flatten())


def distill_loss(draft, target, windows: torch.Tensor, temperature: float, ce_weight: float) -> torch.Tensor:
    ids = windows[:, :-1]
    with torch.no_grad():
        teacher = logits_of(target, ids)
    student = logits_of(draft, ids)
    t = temperature
    kl = F.kl_div(F.log_softmax(student / t, -1).flatten(0, 1), F.log_softmax(teacher / t, -1).flatten(0, 1),
                  log_target=True, reduction="batchmean") * t * t
    if ce_weight == 0:
        return kl
    ce = F.cross_entropy(student.flatten(0, 1), windows[:, 1:].flatten())
    return (1 - ce_weight) * kl + ce_weight * ce


@torch.no_grad()
def heldout_metrics(target, draft, windows: torch.Tensor, chunk: int) -> dict:
    """Teacher-forced: loss (nats/token) of each model, the share of positions where the argmaxes agree
    and top-B coverage (share of the target's top-4 among the draft's top-8)."""
    sums = {"target_nll": 0.0, "draft_nll": 0.0, "agree": 0, "covered": 0, "kl": 0.0}
    count = 0
    for i in range(0, len(windows), chunk):
        w = windows[i: i + chunk]
        ids, labels = w[:, :-1], w[:, 1:].flatten()
        lt = logits_of(target, ids).flatten(0, 1)
        sums["target_nll"] += F.cross_entropy(lt, labels, reduction="sum").item()
        if draft is not None:
            ld = logits_of(draft, ids).flatten(0, 1)
            sums["draft_nll"] += F.cross_entropy(ld, labels, reduction="sum").item()
            agree, covered = agreement_counts(ld, lt.topk(COVERAGE_B, dim=-1).indices, COVERAGE_B)
            sums["agree"] += agree
            sums["covered"] += covered
            sums["kl"] += F.kl_div(F.log_softmax(ld, -1), F.log_softmax(lt, -1), log_target=True,
                                   reduction="sum").item()
        count += labels.numel()
    out = {"positions": count, "target_loss": sums["target_nll"] / count}
    if draft is not None:
        out.update(draft_loss=sums["draft_nll"] / count, greedy_agreement=sums["agree"] / count,
                   **{f"top{COVERAGE_B}_in_top{2 * COVERAGE_B}": sums["covered"] / (COVERAGE_B * count)},
                   kl_target_draft=sums["kl"] / count)
    return out


@dataclass
class FitResult:
    steps: int = 0
    tokens: int = 0
    seconds: float = 0.0
    best_step: int = 0
    best_score: float = float("nan")
    curve: list | None = None


def fit(model, loss_fn, score_fn, higher_is_better: bool, windows: TokenWindows, schedule: Schedule,
        batch_size: int, weight_decay: float, name: str, log) -> FitResult:
    """Train `model` on loss_fn(batch) until the schedule's time or epoch budget is spent.

    Every ~1/12 of the budget, score_fn() scores the model on a held-out subset; the best state
    is kept on the device and loaded back at the end.
    """
    device = windows.train.device
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=schedule.peak_lr, betas=(0.9, 0.95), eps=1e-8, fused=device.type == "cuda")
    budget_s = schedule.minutes * 60
    budget_tokens = schedule.max_epochs * len(windows.train)
    tokens_per_step = batch_size * windows.seq_len
    eval_every_s = max(budget_s / 12, 1.0)
    autocast = torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda")

    result = FitResult(curve=[])
    best_state = None
    start = time.monotonic()
    next_eval = start + eval_every_s
    step, loss_sum, loss_n = 0, torch.zeros((), device=device), 0
    while True:
        elapsed = time.monotonic() - start
        progress = max(elapsed / budget_s, step * tokens_per_step / budget_tokens)
        done = progress >= 1.0 or (schedule.max_steps is not None and step >= schedule.max_steps)
        if done or time.monotonic() >= next_eval:
            model.eval()
            with autocast:
                score = score_fn()
            model.train()
            better = best_state is None or (score > result.best_score if higher_is_better
                                            else score < result.best_score)
            if better:
                best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
                result.best_step, result.best_score = step, score
            train_loss = (loss_sum / max(loss_n, 1)).item()
            loss_sum, loss_n = torch.zeros((), device=device), 0
            point = {"step": step, "seconds": round(elapsed, 1), "epochs": round(step * tokens_per_step / len(windows.train), 2),
                     "lr": schedule.lr(step, progress), "train_loss": round(train_loss, 4), "heldout_score": round(score, 4)}
            result.curve.append(point)
            log(f"[{name}] step {step} {elapsed:.0f}s ep {point['epochs']} lr {point['lr']:.2e} "
                f"train {train_loss:.4f} heldout {score:.4f} ({step * tokens_per_step / max(elapsed, 1e-9):,.0f} tok/s)"
                + (" *" if better else ""))
            next_eval = time.monotonic() + eval_every_s
        if done:
            break
        for group in opt.param_groups:
            group["lr"] = schedule.lr(step, progress)
        with autocast:
            loss = loss_fn(windows.batch(batch_size))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        loss_sum += loss.detach()
        loss_n += 1
        step += 1

    if device.type == "cuda":
        torch.cuda.synchronize()
    result.seconds = time.monotonic() - start
    result.steps, result.tokens = step, step * tokens_per_step
    model.load_state_dict(best_state)
    model.eval()
    return result


@torch.no_grad()
def greedy_continue(model, prompts: torch.Tensor, new_tokens: int) -> torch.Tensor:
    """[b, p] -> [b, new_tokens] greedy tokens, with the KV cache; EOS does not stop it."""
    out = model(input_ids=prompts, use_cache=True)
    past, nxt = out.past_key_values, out.logits[:, -1].argmax(-1, keepdim=True)
    generated = [nxt]
    for _ in range(new_tokens - 1):
        out = model(input_ids=nxt, past_key_values=past, use_cache=True)
        past, nxt = out.past_key_values, out.logits[:, -1].argmax(-1, keepdim=True)
        generated.append(nxt)
    return torch.cat(generated, dim=1)


@torch.no_grad()
def free_generation_agreement(target, draft, windows: TokenWindows, prompts: int, prompt_len: int,
                              new_tokens: int, draft_lengths=(1, 4, 8)) -> dict:
    """Target generates greedily from held-out prompts; the draft is teacher-forced on that text.

    Also simulates greedy speculative decoding on it: with k drafted tokens per round, the round
    yields the accepted run plus one target token, so tokens/round = mean(accepted + 1).
    """
    starts = windows.heldout_subset(prompts)[:, :prompt_len]
    gen = greedy_continue(target, starts, new_tokens)
    full = torch.cat([starts, gen], dim=1)
    draft_pred = logits_of(draft, full[:, :-1])[:, prompt_len - 1:].argmax(-1)
    match = (draft_pred == gen).cpu().numpy()
    out = {"prompts": prompts, "prompt_len": prompt_len, "new_tokens": new_tokens,
           "greedy_agreement": float(match.mean())}
    for k in draft_lengths:
        per_round = []
        for row in match:
            i = 0
            while i < len(row):
                accepted = 0
                while accepted < k and i + accepted < len(row) and row[i + accepted]:
                    accepted += 1
                per_round.append(accepted + 1)
                i += accepted + 1
        out[f"tokens_per_target_call_k{k}"] = float(np.mean(per_round))
    return out


SAMPLE_PROMPTS = [
    "def fibonacci(n):",
    "import os\nimport sys\n\n\ndef main():",
    'class Stack:\n    """A last-in, first-out container."""\n\n    def __init__(self):',
    "    for i, line in enumerate(",
    "def read_config(path):\n    with open(path",
]


@torch.no_grad()
def sample_generations(target, draft, tokenizer_dir: Path, new_tokens: int, device) -> list[dict]:
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(tokenizer_dir / "tokenizer.json"))
    samples = []
    for prompt in SAMPLE_PROMPTS:
        ids = torch.tensor([[BOS_ID] + tok.encode(prompt, add_special_tokens=False).ids], device=device)
        row = {"prompt": prompt}
        for name, model in (("target", target), ("draft", draft)):
            row[name] = tok.decode(greedy_continue(model, ids, new_tokens)[0].tolist(), skip_special_tokens=False)
        samples.append(row)
    return samples


def save_hf(model, tokenizer_dir: Path, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    model.to(torch.float32).save_pretrained(str(out))
    for f in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(tokenizer_dir / f, out / f)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    ap.add_argument("--tokenizer-dir", type=Path, default=DEFAULT_TOKENIZER_DIR)
    ap.add_argument("--hf-dir", type=Path, default=None, help="default models/pair/hf (smoke: .cache/pair-smoke)")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--seq-len", type=int, default=1024)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--weight-decay", type=float, default=0.1)
    ap.add_argument("--target-minutes", type=float, default=4.5)
    ap.add_argument("--target-max-epochs", type=float, default=40)
    ap.add_argument("--target-lr", type=float, default=2e-3)
    ap.add_argument("--draft-minutes", type=float, default=2.5)
    ap.add_argument("--draft-max-epochs", type=float, default=100)
    ap.add_argument("--draft-lr", type=float, default=3e-3)
    ap.add_argument("--distill-temperature", type=float, default=1.0)
    ap.add_argument("--distill-ce-weight", type=float, default=0.0,
                    help="loss = (1 - w) * KL(target || draft) + w * cross-entropy on the text")
    ap.add_argument("--deadline-minutes", type=float, default=None,
                    help="wall-clock limit for the whole run: the draft then gets the time the target left, "
                         "less --reserve-seconds for evaluation (--draft-minutes is ignored)")
    ap.add_argument("--reserve-seconds", type=float, default=45,
                    help="with --deadline-minutes: time kept for the final evaluation, generations and saving "
                         "(about 5 s on an H200)")
    ap.add_argument("--select-windows", type=int, default=64, help="held-out windows scored for checkpoint choice")
    ap.add_argument("--eval-windows", type=int, default=None, help="held-out windows in the final eval (default all)")
    ap.add_argument("--gen-prompts", type=int, default=64)
    ap.add_argument("--gen-tokens", type=int, default=128)
    ap.add_argument("--smoke", action="store_true", help="tiny models, a few steps: checks the pipeline end to end")
    args = ap.parse_args()
    run_start = time.monotonic()

    target_arch, draft_arch = TARGET_ARCH, DRAFT_ARCH
    target_sched = Schedule(args.target_minutes, args.target_max_epochs, args.target_lr)
    draft_sched = Schedule(args.draft_minutes, args.draft_max_epochs, args.draft_lr)
    if args.smoke:
        target_arch, draft_arch = SMOKE_TARGET_ARCH, SMOKE_DRAFT_ARCH
        target_sched = replace(target_sched, warmup_steps=5, max_steps=20)
        draft_sched = replace(draft_sched, warmup_steps=5, max_steps=20)
        args.seq_len, args.batch_size = 64, 4
        args.select_windows, args.eval_windows = 4, args.eval_windows or 8
        args.gen_prompts, args.gen_tokens = 4, 12
    hf_dir = args.hf_dir or Path(".cache/pair-smoke" if args.smoke else "models/pair/hf")
    hf_dir.mkdir(parents=True, exist_ok=True)
    log_lines = []

    def log(msg: str) -> None:
        print(msg, flush=True)
        log_lines.append(msg)

    device = torch.device(args.device)
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    windows = TokenWindows(args.data_dir, args.seq_len, device.type, args.seed)
    eval_windows = windows.heldout if args.eval_windows is None else windows.heldout_subset(args.eval_windows)
    select = windows.heldout_subset(args.select_windows)
    chunk = 16 if device.type == "cuda" else 2
    hardware = torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor() or "cpu"
    import transformers
    run = {
        "hardware": hardware, "device": str(device), "python": platform.python_version(),
        "torch": torch.__version__, "transformers": transformers.__version__, "smoke": args.smoke,
        "args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "tokens": {"train": len(windows.train), "heldout_eval": int(eval_windows[:, 1:].numel())},
    }

    def write_run() -> None:
        (hf_dir / "run.json").write_text(json.dumps(run, indent=1) + "\n")

    log(f"{hardware}: train {len(windows.train):,} tokens, held-out {windows.heldout.numel():,} "
        f"({len(windows.heldout)} windows of {args.seq_len})")

    # 1. target: next-token cross-entropy
    target = new_model(target_arch, args.seed, device).train()
    run["target"] = {"arch": asdict(target_arch), "schedule": asdict(target_sched), **size_report(target)}
    log(f"target {run['target']['parameters']:,} params, {run['target']['flops_per_token']:,} FLOPs/token")
    fitted = fit(target, lambda w: lm_loss(target, w), lambda: lm_loss(target, select).item(), False,
                 windows, target_sched, args.batch_size, args.weight_decay, "target", log)
    run["target"]["training"] = asdict(fitted)
    target.requires_grad_(False)
    save_hf(target, args.tokenizer_dir, hf_dir / "target")
    write_run()

    # 2. draft: distilled from the (frozen) target
    if args.deadline_minutes is not None:
        left_min = (args.deadline_minutes * 60 - (time.monotonic() - run_start) - args.reserve_seconds) / 60
        draft_sched = replace(draft_sched, minutes=max(0.2, left_min))
    draft = new_model(draft_arch, args.seed + 1, device).train()
    run["draft"] = {"arch": asdict(draft_arch), "schedule": asdict(draft_sched), **size_report(draft),
                    "distill": {"temperature": args.distill_temperature, "ce_weight": args.distill_ce_weight}}
    run["flops_ratio"] = run["target"]["flops_per_token"] / run["draft"]["flops_per_token"]
    log(f"draft {run['draft']['parameters']:,} params, {run['draft']['flops_per_token']:,} FLOPs/token, "
        f"target/draft FLOPs {run['flops_ratio']:.2f}x")

    def select_agreement() -> float:
        return heldout_metrics(target, draft, select, chunk)["greedy_agreement"]

    fitted = fit(draft, lambda w: distill_loss(draft, target, w, args.distill_temperature, args.distill_ce_weight),
                 select_agreement, True, windows, draft_sched, args.batch_size, args.weight_decay, "draft", log)
    run["draft"]["training"] = asdict(fitted)
    save_hf(draft, args.tokenizer_dir, hf_dir / "draft")
    write_run()

    # 3. final evaluation in float32 (no autocast, no TF32)
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
    t0 = time.monotonic()
    run["heldout"] = heldout_metrics(target, draft, eval_windows, chunk)
    log(f"held-out: {json.dumps(run['heldout'])}")
    run["free_generation"] = free_generation_agreement(target, draft, windows, args.gen_prompts, 32, args.gen_tokens)
    log(f"free generation: {json.dumps(run['free_generation'])}")
    run["samples"] = sample_generations(target, draft, args.tokenizer_dir, 48 if not args.smoke else 8, device)
    run["eval_seconds"] = round(time.monotonic() - t0, 1)
    run["total_seconds"] = round(time.monotonic() - run_start, 1)
    write_run()
    (hf_dir / "train.log").write_text("\n".join(log_lines) + "\n")
    log(f"done in {run['total_seconds']}s -> {hf_dir}")


if __name__ == "__main__":
    main()
