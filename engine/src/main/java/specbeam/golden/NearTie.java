package specbeam.golden;

import specbeam.decode.GeneratedSequence;

import java.util.List;

/**
 * The near-tie rule: two decodings of the same model may differ only where a decision was a floating-point
 * near-tie. ONNX Runtime and PyTorch (or two ONNX Runtime forward shapes) agree on fp32 logits to about
 * 5e-5 (the export check measures it per model); beam scores add up to ~24-64 such log-probs, so a step
 * whose deciding gap is below {@link #TOLERANCE} = 1e-3 can legitimately go either way. A divergence
 * after a clear gap is a bug.
 */
public final class NearTie {
    public static final double TOLERANCE = 1e-3;

    private NearTie() {
    }

    /** First generated position where the two lists of sequences differ, or -1 if identical. */
    public static int firstDivergence(List<int[]> expected, List<GeneratedSequence> actual, int promptLength) {
        int first = -1;
        for (int s = 0; s < Math.max(expected.size(), actual.size()); s++) {
            if (s >= expected.size() || s >= actual.size()) {
                return 0;
            }
            int[] e = expected.get(s);
            int[] a = actual.get(s).tokens();
            int n = Math.max(e.length, a.length);
            for (int i = promptLength; i < n; i++) {
                if (i >= e.length || i >= a.length || e[i] != a[i]) {
                    int at = i - promptLength;
                    first = first < 0 ? at : Math.min(first, at);
                    break;
                }
            }
        }
        return first;
    }

    /** Whether some gap at a step {@code <= step} is below the tolerance. */
    public static boolean certified(double[] gaps, int step) {
        return certified(gaps, step, TOLERANCE);
    }

    /**
     * Whether some gap at a step {@code <= step} is below {@code tolerance}: {@link #TOLERANCE}, or more for a model
     * whose logits ONNX Runtime and PyTorch agree on less closely ({@link GoldenCheck#tieTolerance}).
     */
    public static boolean certified(double[] gaps, int step, double tolerance) {
        for (int s = 0; s <= Math.min(step, gaps.length - 1); s++) {
            if (gaps[s] < tolerance) {
                return true;
            }
        }
        return false;
    }
}
