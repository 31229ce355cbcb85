package specbeam.suite;

import specbeam.decode.GenerationConfig;
import specbeam.decode.Mode;
import specbeam.model.ExecutionProvider;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Turns a profile and the user's {@code -p} values into the list of points to measure.
 *
 * <p>JMH would run the full cartesian product of its {@code @Param} values, nonsense included, so the suite
 * builds the grid itself and runs JMH once per point:
 * <ul>
 *   <li>{@code -p mode=...} keeps the profile's points of those modes (a mode the profile lacks gets one point
 *       with the engine's defaults);</li>
 *   <li>{@code -p k=...}, {@code -p beamWidth=...}, {@code -p adaptive=...} replace that value on every kept
 *       point (one copy per value);</li>
 *   <li>{@code -p provider=...}, {@code -p batch=...}, {@code -p maxNewTokens=...} run every point with each value;</li>
 *   <li>points are then made canonical (axes a mode ignores set neutral) and duplicates dropped, so "greedy
 *       with beamWidth 4" is measured once, as greedy;</li>
 *   <li>each speculative point's target-only baseline is added, so every speedup compares two
 *       measurements of the same run.</li>
 * </ul>
 */
public final class Grid {

    /** The points to run, in run order, and notes on what was merged or added. */
    public record Plan(List<GridPoint> points, List<String> notes) {
    }

    private Grid() {
    }

    /**
     * Builds the plan.
     *
     * @param profile   the base grid
     * @param overrides user values per axis ({@code -p}); absent axes keep the profile's values
     * @throws IllegalArgumentException for an unknown mode, a non-number, k &lt; 1 and the like
     */
    public static Plan plan(Profile profile, Map<Axis, List<String>> overrides) {
        List<String> notes = new ArrayList<>();
        List<GridPoint> points = selectModes(profile.points(), overrides.get(Axis.MODE));
        points = replace(points, Axis.K, overrides.get(Axis.K));
        points = replace(points, Axis.BEAM_WIDTH, overrides.get(Axis.BEAM_WIDTH));
        points = replace(points, Axis.ADAPTIVE, overrides.get(Axis.ADAPTIVE));
        points = replace(points, Axis.PROVIDER, overrides.get(Axis.PROVIDER));
        points = replace(points, Axis.BATCH, overrides.get(Axis.BATCH));
        points = replace(points, Axis.MAX_NEW_TOKENS, overrides.get(Axis.MAX_NEW_TOKENS));
        return new Plan(finish(points, notes), notes);
    }

    /**
     * Validates, canonicalises, de-duplicates, adds missing baselines and sorts.
     *
     * @param notes receives one line per merged or added point
     */
    public static List<GridPoint> finish(Collection<GridPoint> points, List<String> notes) {
        Set<GridPoint> unique = new LinkedHashSet<>();
        int merged = 0;
        for (GridPoint p : points) {
            if (!unique.add(p.validate().canonical())) {
                merged++;
            }
        }
        if (merged > 0) {
            notes.add(merged + " requested point(s) coincide with others once the axes their mode ignores are "
                    + "dropped (k without a draft, beamWidth without beams): each is measured once");
        }
        for (GridPoint p : List.copyOf(unique)) {
            GridPoint baseline = p.baseline();
            if (unique.add(baseline)) {
                notes.add("added " + baseline.label() + " as the baseline of " + p.label());
            }
        }
        List<GridPoint> sorted = new ArrayList<>(unique);
        sorted.sort(RUN_ORDER);
        return sorted;
    }

    /** Settings first, then each baseline followed by its speculative variants. */
    static final Comparator<GridPoint> RUN_ORDER = Comparator
            .comparing((GridPoint p) -> p.provider().ordinal())
            .thenComparingInt(GridPoint::batch)
            .thenComparingInt(GridPoint::maxNewTokens)
            .thenComparing(p -> p.mode().baseline().ordinal())
            .thenComparingInt(GridPoint::beamWidth)
            .thenComparing(p -> p.mode().isSpeculative())
            .thenComparing(GridPoint::adaptive)
            .thenComparingInt(GridPoint::k);

    private static List<GridPoint> selectModes(List<GridPoint> profilePoints, List<String> modes) {
        if (modes == null) {
            return profilePoints;
        }
        List<GridPoint> kept = new ArrayList<>();
        for (String text : modes) {
            Mode mode = Mode.parse(text);
            List<GridPoint> ofMode = profilePoints.stream().filter(p -> p.mode() == mode).toList();
            kept.addAll(ofMode.isEmpty()
                    ? List.of(Profile.point(mode, mode.isSpeculative() ? GenerationConfig.DEFAULT_K : 0,
                            mode.isBeam() ? GenerationConfig.DEFAULT_BEAM_WIDTH : 1, false))
                    : ofMode);
        }
        return kept;
    }

    private static List<GridPoint> replace(List<GridPoint> points, Axis axis, List<String> values) {
        if (values == null) {
            return points;
        }
        List<GridPoint> out = new ArrayList<>();
        for (GridPoint p : points) {
            for (String v : values) {
                out.add(with(p, axis, v));
            }
        }
        return out;
    }

    private static GridPoint with(GridPoint p, Axis axis, String v) {
        return switch (axis) {
            case MODE -> new GridPoint(Mode.parse(v), p.k(), p.beamWidth(), p.adaptive(), p.provider(), p.batch(), p.maxNewTokens());
            case K -> p.mode().isSpeculative()
                    ? new GridPoint(p.mode(), axis.parseInt(v), p.beamWidth(), p.adaptive(), p.provider(), p.batch(), p.maxNewTokens())
                    : p;
            case BEAM_WIDTH -> p.mode().isBeam()
                    ? new GridPoint(p.mode(), p.k(), axis.parseInt(v), p.adaptive(), p.provider(), p.batch(), p.maxNewTokens())
                    : p;
            case ADAPTIVE -> p.mode().isSpeculative()
                    ? new GridPoint(p.mode(), p.k(), p.beamWidth(), axis.parseBoolean(v), p.provider(), p.batch(), p.maxNewTokens())
                    : p;
            case PROVIDER -> new GridPoint(p.mode(), p.k(), p.beamWidth(), p.adaptive(), ExecutionProvider.parse(v), p.batch(), p.maxNewTokens());
            case BATCH -> new GridPoint(p.mode(), p.k(), p.beamWidth(), p.adaptive(), p.provider(), axis.parseInt(v), p.maxNewTokens());
            case MAX_NEW_TOKENS -> new GridPoint(p.mode(), p.k(), p.beamWidth(), p.adaptive(), p.provider(), p.batch(), axis.parseInt(v));
        };
    }

    /** Groups the user's {@code -p} values by axis; parameters that are not axes are left to JMH. */
    public static Map<Axis, List<String>> overrides(Map<String, ? extends Collection<String>> jmhParams) {
        Map<Axis, List<String>> out = new EnumMap<>(Axis.class);
        jmhParams.forEach((name, values) -> {
            Axis axis = Axis.byParam(name);
            if (axis != null) {
                out.put(axis, List.copyOf(values));
            }
        });
        return out;
    }
}
