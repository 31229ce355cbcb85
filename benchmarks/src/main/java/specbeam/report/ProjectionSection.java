package specbeam.report;

import specbeam.projection.CostCurve;
import specbeam.projection.Projection;

import java.util.ArrayList;
import java.util.List;

import static specbeam.report.MarkdownTable.fixed;
import static specbeam.report.MarkdownTable.times;

/** The "projection" block: each speculative point's speedup projected with a forward-cost curve of other hardware. */
public final class ProjectionSection {

    private ProjectionSection() {
    }

    /**
     * @param rows  this run's rows (every speculative row with the decode-phase counters is projected)
     * @param curve the forward-cost curve
     */
    public static String render(List<ResultRow> rows, CostCurve curve) {
        List<String> header = new ArrayList<>(List.of("point", "measured speedup (this machine)",
                "steps / target forward", "tokens / row per verify", "draft forwards / round", "draft tokens / row"));
        for (String target : curve.targets()) {
            for (String draft : curve.drafts()) {
                header.add(target + " + " + draft + ": round ms ÷ step ms");
                header.add(target + " + " + draft + ": projected speedup");
            }
        }
        MarkdownTable t = new MarkdownTable(header.toArray(String[]::new));
        List<String> outside = new ArrayList<>();
        List<String> unrecorded = new ArrayList<>();
        for (ResultRow r : rows) {
            if (r.baseline() == null) {
                continue;
            }
            Projection p = Projection.of(r);
            if (!p.isComplete()) {
                unrecorded.add(r.label());
                continue;
            }
            List<Object> cells = new ArrayList<>(List.of(r.label(), times(r.speedupVsBaseline()),
                    fixed(p.stepsPerForward(), 2), fixed(p.targetTokensPerRow(), 2), fixed(p.draftForwardsPerRound(), 2),
                    fixed(p.draftTokensPerRow(), 2)));
            boolean inRange = false;
            for (String target : curve.targets()) {
                for (String draft : curve.drafts()) {
                    Projection.Costs c = p.costs(curve, target, draft);
                    double speedup = p.speedup(curve, target, draft);
                    inRange |= Double.isFinite(speedup);
                    cells.add(Double.isFinite(speedup) ? fixed(c.verifyMs(), 1) + " + " + fixed(c.draftMsPerRound(), 1)
                            + " ÷ " + fixed(c.baselineMsPerStep(), 1) : null);
                    cells.add(times(speedup));
                }
            }
            if (inRange) {
                t.row(cells.toArray());
            } else {
                outside.add(r.label() + " (" + p.rows() + " rows)");
            }
        }
        StringBuilder sb = new StringBuilder();
        sb.append("Forward costs from `").append(curve.source()).append("`");
        if (curve.device() != null) {
            sb.append(": ").append(curve.device());
        }
        if (curve.framework() != null) {
            sb.append(", PyTorch ").append(curve.framework());
        }
        if (curve.prefix() != null) {
            sb.append(", forwards over a ").append(curve.prefix()).append("-token KV prefix");
        }
        sb.append("; measured shapes: ").append(curve.rangeDescription()).append(".\n\n");
        if (t.isEmpty()) {
            sb.append("_No speculative point of this run can be projected._\n");
        } else {
            sb.append(t.render());
        }
        if (!outside.isEmpty()) {
            sb.append("\nNot projected (outside the curve's measured rows or tokens; no extrapolation): ")
                    .append(String.join(", ", outside)).append(".\n");
        }
        if (!unrecorded.isEmpty()) {
            sb.append("\nNot projected (the run did not record fed tokens): ").append(String.join(", ", unrecorded))
                    .append(".\n");
        }
        sb.append("""

                *How to read this:* projected speedup = s × c_T(R, 1) ÷ (c_T(R, q_T) + d × c_D(R, q_D)), decode phase \
                only: one target-only step costs a one-token forward c_T(R, 1); one speculative round costs a \
                verifying forward of q_T tokens per row plus d draft forwards of q_D tokens per row, and advances s \
                steps. R = rows per forward (prompts × beams); c_T and c_D are read from the curve (bilinear \
                between its measured rows and tokens, after making it monotone: a smaller forward never costs more \
                than the cheapest measured larger one). The column "round ms ÷ step ms" shows verify + draft \
                milliseconds of one round against one baseline step.

                *Measured* (this run, this machine, the bundled pair): s, q_T, d and q_D — how many steps a \
                verifying forward buys and what the engine feeds to get them. *Assumed*: (1) the acceptance of the \
                bundled 8M/1M pair carries over to the curve's target and draft shapes (a real 7B target with a \
                68M draft accepts differently — the projection answers "what would this acceptance be worth on that \
                hardware"); (2) a forward costs what PyTorch eager (bf16, SDPA) took on the curve's device — ONNX \
                Runtime's CUDA provider may be faster or slower, and a tree mask costs as much as the curve's \
                causal block; (3) q_T and q_D are mean real tokens per row: padding to a batch's longest row is not \
                counted; (4) everything between forwards (the engine's Java work, KV-cache bookkeeping, the prompt's \
                forward) is left out on both sides. The curve's format is documented in \
                `benchmarks/cost-curves/README.md`; measure your own GPU with `benchmarks/cost-curves/cost_curve.py` \
                and pass `--cost-curve FILE` (with `--report-only` to re-project an existing run).
                """);
        return sb.toString();
    }
}
