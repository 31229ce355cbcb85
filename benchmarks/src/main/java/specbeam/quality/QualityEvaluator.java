package specbeam.quality;

import specbeam.decode.DecodeStats;
import specbeam.decode.FinishReason;
import specbeam.decode.GeneratedSequence;
import specbeam.decode.GenerationConfig;
import specbeam.decode.GenerationResult;
import specbeam.metrics.Bleu;
import specbeam.metrics.Diversity;
import specbeam.metrics.Perplexity;
import specbeam.metrics.Rouge;
import specbeam.suite.GridPoint;
import specbeam.tasks.TaskItem;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Computes {@link QualityResult}s: generates every study prompt and continuation item once per configuration
 * (outputs cached, so a baseline is generated once for all its speculative variants) and scores them.
 *
 * <p>Beam modes return all {@code beamWidth} beams here (the timed runs return one), so that identity covers
 * every beam and diversity has beams to compare; Hugging Face-style beam search returns the same best beam
 * either way.
 */
public final class QualityEvaluator {
    private final TextGenerator generator;
    private final List<TaskItem> items; // study prompts, then continuation items
    private final double nearTieTolerance;
    private final Map<GridPoint, Outputs> cache = new HashMap<>();

    /** Generated sequences per item and the decision gaps the engine reported. */
    private record Outputs(List<List<GeneratedSequence>> sequences, List<double[]> gaps, double[] levelCoverage) {
    }

    /**
     * @param generator        the engine (target + draft)
     * @param prompts          study prompts (identity, perplexity, diversity)
     * @param continuation     continuation items with references (also BLEU and ROUGE)
     * @param nearTieTolerance a divergence after a decision gap below this is a certified near-tie
     */
    public QualityEvaluator(TextGenerator generator, List<TaskItem> prompts, List<TaskItem> continuation,
                            double nearTieTolerance) {
        this.generator = generator;
        this.items = new ArrayList<>(prompts);
        this.items.addAll(continuation);
        this.nearTieTolerance = nearTieTolerance;
    }

    public QualityResult evaluate(GridPoint point) {
        Outputs own = outputs(point);
        double identical = Double.NaN;
        double ties = Double.NaN;
        if (point.mode().isSpeculative() && !point.mode().isSampling()) {
            Outputs base = outputs(point.baseline());
            int same = 0;
            int certified = 0;
            for (int i = 0; i < items.size(); i++) {
                int divergence = firstDivergence(own.sequences.get(i), base.sequences.get(i));
                if (divergence < 0) {
                    same++;
                } else if (nearTieBefore(base.gaps, i, divergence) || nearTieBefore(own.gaps, i, divergence)) {
                    certified++;
                }
            }
            identical = (double) same / items.size();
            ties = (double) certified / items.size();
        }

        List<double[]> logProbs = new ArrayList<>();
        List<String> hypotheses = new ArrayList<>();
        List<List<String>> references = new ArrayList<>();
        double r1 = 0;
        double r2 = 0;
        double rl = 0;
        double d1 = 0;
        double d2 = 0;
        double selfBleu = 0;
        int selfBleuCount = 0;
        for (int i = 0; i < items.size(); i++) {
            TaskItem item = items.get(i);
            List<GeneratedSequence> returned = own.sequences.get(i);
            int[] best = newTokens(returned.get(0));
            if (best.length > 0) {
                logProbs.add(generator.continuationLogProbs(item.promptIds(), best));
            }
            List<int[]> all = returned.stream().map(QualityEvaluator::newTokens).toList();
            d1 += Diversity.distinct(all, 1);
            d2 += Diversity.distinct(all, 2);
            if (all.size() > 1) {
                selfBleu += Diversity.selfBleu(all.stream().map(generator::decode).toList());
                selfBleuCount++;
            }
            if (item.hasReference()) {
                String hypothesis = generator.decode(best);
                hypotheses.add(hypothesis);
                references.add(List.of(item.reference()));
                Rouge.Scores rouge = Rouge.score(item.reference(), hypothesis);
                r1 += rouge.rouge1().f1();
                r2 += rouge.rouge2().f1();
                rl += rouge.rougeL().f1();
            }
        }
        int refs = hypotheses.size();
        int n = items.size();
        return new QualityResult(n, identical, ties, Perplexity.of(logProbs),
                refs == 0 ? Double.NaN : Bleu.corpus(hypotheses, references).score(),
                refs == 0 ? Double.NaN : r1 / refs, refs == 0 ? Double.NaN : r2 / refs, refs == 0 ? Double.NaN : rl / refs,
                d1 / n, d2 / n, selfBleuCount == 0 ? Double.NaN : selfBleu / selfBleuCount, generator.providerUsed(),
                own.levelCoverage);
    }

    private Outputs outputs(GridPoint point) {
        Outputs cached = cache.get(point);
        if (cached != null) {
            return cached;
        }
        GenerationConfig config = point.config();
        if (point.mode().isBeam()) {
            config = config.toBuilder().numReturnSequences(point.beamWidth()).build();
        }
        List<List<GeneratedSequence>> sequences = new ArrayList<>();
        List<double[]> gaps = new ArrayList<>();
        long[] reached = new long[DecodeStats.HISTOGRAM_SIZE];
        long[] covered = new long[DecodeStats.HISTOGRAM_SIZE];
        for (int start = 0; start < items.size(); start += point.batch()) {
            List<int[]> prompts = items.subList(start, Math.min(items.size(), start + point.batch())).stream()
                    .map(TaskItem::promptIds).toList();
            GenerationResult result = generator.generate(prompts, config);
            for (int l = 0; result.stats() != null && l < reached.length; l++) {
                reached[l] += result.stats().levelReached[l];
                covered[l] += result.stats().levelCovered[l];
            }
            for (int j = 0; j < prompts.size(); j++) {
                sequences.add(result.sequences().get(j));
                gaps.add(result.nearTieGaps() == null || result.nearTieGaps().size() <= j
                        ? null : result.nearTieGaps().get(j));
            }
        }
        int levels = 0;
        for (int l = 1; l < reached.length; l++) {
            levels = reached[l] > 0 ? l : levels;
        }
        double[] coverage = new double[levels];
        for (int l = 1; l <= levels; l++) {
            coverage[l - 1] = reached[l] == 0 ? Double.NaN : (double) covered[l] / reached[l];
        }
        Outputs outputs = new Outputs(sequences, gaps, coverage);
        cache.put(point, outputs);
        return outputs;
    }

    /** New tokens of a sequence, its final end-of-sequence token left out (it has no text). */
    static int[] newTokens(GeneratedSequence s) {
        int[] generated = s.generated();
        return s.finishReason() == FinishReason.EOS && generated.length > 0
                ? Arrays.copyOf(generated, generated.length - 1)
                : generated;
    }

    /**
     * The first decoding step at which two lists of returned sequences differ, or -1 when they are identical
     * (same number of sequences, same tokens).
     */
    static int firstDivergence(List<GeneratedSequence> a, List<GeneratedSequence> b) {
        int first = Integer.MAX_VALUE;
        for (int j = 0; j < Math.max(a.size(), b.size()); j++) {
            if (j >= a.size() || j >= b.size()) {
                first = Math.min(first, 0);
                continue;
            }
            int[] x = a.get(j).generated();
            int[] y = b.get(j).generated();
            int mismatch = Arrays.mismatch(x, y);
            if (mismatch >= 0) {
                first = Math.min(first, mismatch);
            }
        }
        return first == Integer.MAX_VALUE ? -1 : first;
    }

    /** Whether some decision gap at a step {@code <= step} is below the tolerance (FORMAT.md, "Goldens"). */
    private boolean nearTieBefore(List<double[]> gaps, int item, int step) {
        double[] g = gaps.get(item);
        if (g == null) {
            return false;
        }
        for (int s = 0; s <= Math.min(step, g.length - 1); s++) {
            if (g[s] < nearTieTolerance) {
                return true;
            }
        }
        return false;
    }
}
