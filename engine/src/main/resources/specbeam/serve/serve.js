// The specbeam demo page: runs one generation through /api/generate/stream (server-sent events, one per
// speculative round), shows each round as it arrives, then the returned sequences and the stats; with "compare"
// it also runs the target-only baseline through /api/generate and checks the outputs are identical.
"use strict";

const SPECULATIVE_OF = { greedy: "speculative", beam: "speculative_beam", sampling: "speculative_sampling" };
const BASELINE_OF = { speculative: "greedy", speculative_beam: "beam", speculative_sampling: "sampling" };
const $ = (id) => document.getElementById(id);

let info = null;

function isSpeculative(mode) { return mode in BASELINE_OF; }
function isBeam(mode) { return mode === "beam" || mode === "speculative_beam"; }
function isSampling(mode) { return mode === "sampling" || mode === "speculative_sampling"; }

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v; else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c);
  return node;
}

/** A token as a chip: newlines, tabs and spaces made visible (the exact text in its tooltip). */
function chip(text, kind) {
  return el("span", { class: "tok " + kind, title: JSON.stringify(text) },
      text.replace(/\n/g, "↵").replace(/\t/g, "⇥").replace(/ /g, "·"));
}

function setStatus(text, state) {
  $("status").textContent = text;
  $("status").dataset.state = state;
}

function showOptionsFor(mode) {
  for (const node of document.querySelectorAll(".opt-spec")) node.classList.toggle("hidden-option", !isSpeculative(mode) && !$("compare").checked);
  for (const node of document.querySelectorAll(".opt-beam")) node.classList.toggle("hidden-option", !isBeam(mode));
  for (const node of document.querySelectorAll(".opt-sampling")) node.classList.toggle("hidden-option", !isSampling(mode));
}

/** The query of one request: the form's options that apply to this mode. Beam modes return all their beams. */
function query(mode) {
  const q = promptQuery();
  q.set("mode", mode);
  q.set("max_new_tokens", $("max_new_tokens").value);
  if (isSpeculative(mode)) {
    q.set("k", $("k").value);
    if ($("adaptive").checked) q.set("adaptive", "true");
  }
  if (isBeam(mode)) {
    q.set("beam_width", $("beam_width").value);
    q.set("num_return_sequences", $("beam_width").value);
    q.set("length_penalty", $("length_penalty").value);
    q.set("early_stopping", $("early_stopping").value);
  }
  if (isSampling(mode)) {
    for (const name of ["temperature", "top_k", "top_p", "seed"]) q.set(name, $(name).value);
  }
  return q;
}

/** The prompt and, when the model has a chat template, the chat options: what /api/render and /api/generate share. */
function promptQuery() {
  const q = new URLSearchParams({ prompt: $("prompt").value });
  if (info && info.chat_template) {
    q.set("chat", $("chat").checked ? "true" : "false");
    if ($("chat").checked && $("system").value) q.set("system", $("system").value);
  }
  return q;
}

/** "show rendered prompt": the text the model reads (after the template) and its token ids. */
async function showPrompt() {
  try {
    const response = await fetch("api/render?" + promptQuery());
    if (!response.ok) await failure(response);
    const rendered = await response.json();
    $("rendered").textContent = rendered.rendered;
    $("rendered-ids").textContent = rendered.ids.join(", ");
    $("rendered-note").textContent = (rendered.chat ? `— chat template of ${rendered.template}` : "— raw text, no template")
        + `, ${rendered.ids.length} tokens`;
    $("rendered-panel").hidden = false;
    setStatus("", "idle");
  } catch (e) {
    setStatus(e.message, "error");
  }
}

async function failure(response) {
  let message = "HTTP " + response.status;
  try { message = (await response.json()).error || message; } catch (e) { /* not JSON */ }
  throw new Error(message);
}

/** Streams one generation; calls onRound per round; resolves to the final JSON object. */
async function stream(mode, onRound) {
  const response = await fetch("api/generate/stream?" + query(mode));
  if (!response.ok) await failure(response);
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) throw new Error("the server closed the stream before the result");
    buffer += decoder.decode(value, { stream: true });
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event = /^event: (.*)$/m.exec(block)[1];
      const data = JSON.parse(/^data: (.*)$/m.exec(block)[1]);
      if (event === "round") onRound(data);
      else if (event === "result") return data;
      else if (event === "error") throw new Error(data.error);
    }
  }
}

async function generate(mode) {
  const response = await fetch("api/generate?" + query(mode));
  if (!response.ok) await failure(response);
  return response.json();
}

// ---- rendering ------------------------------------------------------------------------------------------

function renderRound(round, mode) {
  const item = el("li", { class: "round" }, el("span", { class: "n" }, "round " + (round.round + 1)));
  const beam = isBeam(mode);
  round.proposed_text.forEach((text, i) => item.append(chip(text, i < round.accepted ? "kept" : "rejected")));
  item.append(el("span", { class: "arrow" }, round.proposed.length ? "→" : "(no draft kept) →"));
  round.emitted_text.slice(round.accepted).forEach((text) => item.append(chip(text, "target")));
  const summary = beam
      ? `best beam walked ${round.accepted} draft node${round.accepted === 1 ? "" : "s"} · ${round.emitted.length} step${round.emitted.length === 1 ? "" : "s"} in 1 target forward`
      : `${round.accepted}/${round.proposed.length} kept · ${round.emitted.length} token${round.emitted.length === 1 ? "" : "s"} in 1 target forward`;
  item.append(el("span", { class: "summary" }, summary));
  if (round.beams) item.append(renderTrees(round.beams));
  $("rounds").append(item);
  item.scrollIntoView({ block: "nearest" });
}

/**
 * Speculative beam search: the round's B draft trees side by side, drawn sideways (a node, then its children in a
 * column to its right). A node is kept when some new beam walked it, rejected otherwise; after the end of each kept
 * path comes the token the target chose outside the tree, tagged with the new beam it started.
 */
function renderTrees(beams) {
  const row = el("div", { class: "trees" });
  beams.trees.forEach((tree, b) => {
    const children = tree.tokens.map(() => []);
    tree.parents.forEach((parent, node) => { if (parent >= 0) children[parent].push(node); });
    const kept = new Set();
    const endings = tree.tokens.map(() => []);   // per node, the new beams whose kept path ends there
    beams.new_beams.forEach((beam, j) => {
      if (beam.from_beam !== b) return;
      beam.path.forEach((node) => kept.add(node));
      endings[beam.path[beam.path.length - 1]].push(j);
    });
    const drawNode = (node) => {
      const kind = node === 0 ? "root" : kept.has(node) ? "kept" : "rejected";
      const kids = children[node].map(drawNode);
      for (const j of endings[node]) {
        const next = beams.new_beams[j];
        kids.push(el("div", { class: "tnode" }, chip(next.next_text, "target"),
            el("span", { class: "to-beam", title: `this path and token start new beam ${j + 1}` }, "→" + (j + 1))));
      }
      return el("div", { class: "tnode" }, chip(tree.tokens_text[node], kind),
          kids.length ? el("div", { class: "tkids" }, ...kids) : "");
    };
    const walkers = beams.new_beams.filter((beam) => beam.from_beam === b).length;
    row.append(el("div", { class: "tree" + (walkers ? "" : " dropped"), "data-beam": String(b) },
        el("div", { class: "tree-head" }, `beam ${b + 1} · ${tree.tokens.length - 1} drafted`
            + (walkers ? ` · kept by ${walkers} new beam${walkers === 1 ? "" : "s"}` : " · dropped")),
        drawNode(0)));
  });
  return row;
}

/** Non-beam modes: the text grows by what the target emitted each round. */
function growOutput(round, mode) {
  if (isBeam(mode) || round.row !== 0) return;
  const text = document.querySelector("#output .growing .beam-text");
  if (text) text.textContent += round.emitted_text.join("");
}

function startOutput(mode) {
  const output = $("output");
  output.replaceChildren();
  if (isBeam(mode)) {
    $("output-note").textContent = `— the ${$("beam_width").value} beams appear when the search ends; the rounds below show the best beam's path`
        + (isSpeculative(mode) ? " and every beam's draft tree" : "");
    return;
  }
  $("output-note").textContent = "— growing round by round";
  output.append(el("div", { class: "beam growing" }, el("h3", {}, "sequence"),
      el("pre", { class: "text" }, el("span", { class: "prompt-text" }, $("prompt").value), el("span", { class: "beam-text" }, ""))));
}

function renderSequences(result, mode) {
  const output = $("output");
  output.replaceChildren();
  $("output-note").textContent = isBeam(mode) ? `— ${result.sequences.length} beams, best first` : "";
  result.sequences.forEach((tokens, i) => {
    const label = isBeam(mode) ? "beam " + (i + 1) : result.sequences.length > 1 ? "sequence " + (i + 1) : "sequence";
    output.append(el("div", { class: "beam", "data-tokens": tokens.join(",") },
        el("h3", {}, el("b", {}, label), ` · score ${result.sequence_scores[i].toFixed(4)}`),
        el("pre", { class: "text" }, el("span", { class: "prompt-text" }, $("prompt").value),
            el("span", { class: "beam-text" }, result.texts[i]))));
  });
}

function number(value, digits) {
  return value === null || value === undefined || Number.isNaN(value) ? "–" : Number(value).toFixed(digits);
}

function tokensPerSecond(stats) {
  return stats.wall_ms > 0 ? stats.tokens_generated / (stats.wall_ms / 1000) : NaN;
}

function renderStats(result, mode) {
  const s = result.stats;
  const rows = [
    ["mode", mode],
    ["new tokens (steps)", `${s.tokens_generated} (${s.steps})`],
    ["target forwards", s.target_forwards],
    ["draft forwards", s.draft_forwards],
    ["steps per target forward", number(s.steps_per_target_forward, 2)],
    ["draft tokens kept / proposed", `${s.draft_tokens_accepted} / ${s.draft_tokens_proposed}`],
    ["acceptance", s.acceptance_rate === null ? "–" : (100 * s.acceptance_rate).toFixed(1) + " %"],
    ["time", number(s.wall_ms, 1) + " ms"],
    ["tokens/s", number(tokensPerSecond(s), 1)],
    ["time in ONNX Runtime", number(100 * s.ort_share, 0) + " %"],
    ["KV bytes copied", s.kv_bytes_copied.toLocaleString("en")],
    ["provider", s.provider],
  ];
  const dl = $("stats");
  dl.replaceChildren();
  for (const [name, value] of rows) {
    dl.append(el("dt", {}, name), el("dd", { "data-stat": name }, String(value)));
  }
  const hist = $("histogram");
  hist.replaceChildren();
  let last = 0;
  s.steps_histogram.forEach((n, i) => { if (n > 0) last = i; });
  const most = Math.max(1, ...s.steps_histogram);
  for (let i = 1; i <= last; i++) {
    const bar = el("div", { class: "bar", title: `${s.steps_histogram[i]} rounds advanced ${i} step(s)` }, el("span", {}, String(i)));
    bar.style.height = (100 * s.steps_histogram[i] / most) + "%";
    hist.append(bar);
  }
}

function sameOutputs(a, b) {
  return JSON.stringify(a.sequences) === JSON.stringify(b.sequences);
}

function renderComparison(spec, specMode, base, baseMode) {
  const same = sameOutputs(spec, base);
  const speedup = base.stats.wall_ms / spec.stats.wall_ms;
  const row = (mode, r) => el("tr", {}, el("td", {}, mode), el("td", {}, number(r.stats.wall_ms, 1)),
      el("td", {}, String(r.stats.target_forwards)), el("td", {}, number(r.stats.steps_per_target_forward, 2)),
      el("td", {}, number(tokensPerSecond(r.stats), 1)));
  $("compare-result").replaceChildren(
      el("p", { class: "verdict " + (same ? "same" : "different"), id: "verdict" },
          same ? `✓ identical outputs: ${spec.sequences.length} sequence(s), token for token`
               : "✗ the outputs differ (see the README's exactness contract: only certified near-ties may)"),
      el("table", {},
          el("tr", {}, el("th", {}, "mode"), el("th", {}, "ms"), el("th", {}, "target forwards"),
              el("th", {}, "steps / target forward"), el("th", {}, "tokens/s")),
          row(specMode, spec), row(baseMode, base)),
      el("p", { class: "legend" }, `${specMode} took ${number(spec.stats.wall_ms, 1)} ms, ${baseMode} `
          + `${number(base.stats.wall_ms, 1)} ms: ${number(speedup, 2)}× — one run each, on this machine, now `
          + "(the first runs after the server starts include JIT warm-up)"));
  $("compare-panel").hidden = false;
}

// ---- the run --------------------------------------------------------------------------------------------

async function run(event) {
  event.preventDefault();
  const chosen = $("mode").value;
  const compare = $("compare").checked;
  const mode = compare && !isSpeculative(chosen) ? SPECULATIVE_OF[chosen] : chosen;
  $("run").disabled = true;
  $("rounds").replaceChildren();
  $("stats").replaceChildren();
  $("histogram").replaceChildren();
  $("compare-panel").hidden = true;
  setStatus(`generating with ${mode}…`, "running");
  try {
    startOutput(mode);
    const result = await stream(mode, (round) => { renderRound(round, mode); growOutput(round, mode); });
    renderSequences(result, mode);
    renderStats(result, mode);
    if (!isSpeculative(mode)) {
      $("rounds").append(el("li", { class: "legend" }, `${mode} is target-only: one target forward per step, no draft`));
    }
    if (compare) {
      const baseMode = BASELINE_OF[mode];
      setStatus(`running the baseline ${baseMode}…`, "running");
      const base = await generate(baseMode);
      renderComparison(result, mode, base, baseMode);
    }
    setStatus("done", "done");
  } catch (e) {
    setStatus(e.message, "error");
    $("output-note").textContent = "";
  } finally {
    $("run").disabled = false;
  }
}

async function init() {
  $("form").addEventListener("submit", run);
  $("mode").addEventListener("change", () => showOptionsFor($("mode").value));
  $("compare").addEventListener("change", () => showOptionsFor($("mode").value));
  $("examples").addEventListener("change", () => { if ($("examples").value) $("prompt").value = $("examples").value; });
  $("show-prompt").addEventListener("click", showPrompt);
  $("chat").addEventListener("change", () => { $("system").disabled = !$("chat").checked; });
  showOptionsFor($("mode").value);
  try {
    const response = await fetch("api/info");
    info = await response.json();
  } catch (e) {
    setStatus("cannot reach the server: " + e.message, "error");
    return;
  }
  const t = info.target;
  const d = info.draft;
  $("models").textContent = `target: ${t.architecture}, ${(t.parameters / 1e6).toFixed(1)}M parameters`
      + (d ? ` · draft: ${(d.parameters / 1e6).toFixed(2)}M parameters (${(t.flops_per_token / d.flops_per_token).toFixed(1)}× fewer FLOPs per token)`
           : " · no draft (speculative modes need serve --draft DIR)")
      + ` · ${info.provider} · max new tokens ≤ ${info.max_new_tokens_cap}`;
  $("max_new_tokens").max = info.max_new_tokens_cap;
  if (Number($("max_new_tokens").value) > info.max_new_tokens_cap) $("max_new_tokens").value = info.max_new_tokens_cap;
  for (const option of $("mode").options) option.disabled = !info.modes.includes(option.value);
  if ($("mode").selectedOptions[0].disabled) { $("mode").value = "beam"; showOptionsFor("beam"); }
  if (info.chat_template) {
    $("chat-row").hidden = false;
    $("template-source").textContent = "(" + info.chat_template + ")";
  }
  for (const text of info.study_prompts) {
    $("examples").append(el("option", { value: text }, text.replace(/\n/g, "↵")));
  }
}

init();
