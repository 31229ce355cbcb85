package specbeam.projection;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Time of one forward of a model, by rows (batch) and tokens fed per row, read from a curve file
 * ({@code benchmarks/cost-curves/README.md} documents the format):
 * <pre>
 *   {"device": "NVIDIA H200", "prefix": 512, "ms": {"llama7b/r1/q1": 27.4, "llama7b/r1/q2": 32.5, ..., "draft68m/r8/q32": 3.6}}
 * </pre>
 * Each shape must have every combination of its rows and tokens values, including one row and one token.
 * Shapes whose name starts with {@code draft} are drafts, the others targets.
 *
 * <p>Lookups interpolate linearly between measured rows and between measured token counts, and return NaN
 * outside the measured range (no extrapolation). Measured times are first made monotone — a forward over fewer
 * rows or tokens is taken to cost at most the cheapest measured forward over at least as many
 * ({@code c(r, q) = min over r' >= r, q' >= q of m(r', q')}) — because single timings of launch-bound shapes
 * are noisy (a first, clock-ramping measurement can exceed a larger shape's).
 */
public final class CostCurve {
    /** The curve bundled in benchmarks.jar, measured on an H200 ({@code benchmarks/cost-curves/h200.json}). */
    public static final String BUNDLED_RESOURCE = "/cost-curves/h200.json";
    public static final String BUNDLED_PATH = "benchmarks/cost-curves/h200.json";
    public static final String FORMAT_DOC = "benchmarks/cost-curves/README.md";
    private static final Pattern KEY = Pattern.compile("([A-Za-z0-9_.-]+)/r([0-9]+)/q([0-9]+)");

    /** One shape's monotone cost table: {@code ms[i][j]} for {@code rows[i]} rows and {@code tokens[j]} tokens. */
    private record Table(int[] rows, int[] tokens, double[][] ms) {
    }

    private final String source;
    private final String device;
    private final String framework;
    private final Integer prefix;
    private final Map<String, Table> shapes;

    private CostCurve(String source, String device, String framework, Integer prefix, Map<String, Table> shapes) {
        this.source = source;
        this.device = device;
        this.framework = framework;
        this.prefix = prefix;
        this.shapes = shapes;
    }

    /**
     * Reads a curve file.
     *
     * @throws CostCurveException when the file is missing, unreadable or not a valid curve (the message says which)
     */
    public static CostCurve read(Path file) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new CostCurveException("cost curve " + file + " does not exist: pass --cost-curve <file> "
                    + "(format: " + FORMAT_DOC + ")");
        } catch (IOException e) {
            throw new CostCurveException("cannot read the cost curve " + file + ": " + e.getMessage());
        }
        return parse(text, file.toString());
    }

    /** The curve bundled with the suite. */
    public static CostCurve bundled() {
        try (InputStream in = CostCurve.class.getResourceAsStream(BUNDLED_RESOURCE)) {
            if (in == null) {
                throw new CostCurveException("the bundled cost curve " + BUNDLED_RESOURCE + " is missing from the "
                        + "class path: rebuild with 'mvn package' or pass --cost-curve " + BUNDLED_PATH);
            }
            return parse(new String(in.readAllBytes(), StandardCharsets.UTF_8), BUNDLED_PATH);
        } catch (IOException e) {
            throw new CostCurveException("cannot read the bundled cost curve: " + e.getMessage());
        }
    }

    /** The given file, or the bundled curve when {@code file} is null. */
    public static CostCurve load(Path file) {
        return file == null ? bundled() : read(file);
    }

    /**
     * Parses a curve.
     *
     * @param source where it came from, for messages and the report
     * @throws CostCurveException naming the first problem
     */
    public static CostCurve parse(String json, String source) {
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(json);
        } catch (JsonProcessingException e) {
            throw bad(source, "not valid JSON (line " + e.getLocation().getLineNr() + ": "
                    + e.getOriginalMessage() + ")");
        }
        if (root == null || !root.isObject()) {
            throw bad(source, "expected a JSON object with an \"ms\" object");
        }
        JsonNode ms = root.get("ms");
        if (ms == null || !ms.isObject() || ms.isEmpty()) {
            throw bad(source, "no \"ms\" object of \"<shape>/r<rows>/q<tokens>\": milliseconds entries");
        }
        Map<String, Map<Integer, Map<Integer, Double>>> raw = new TreeMap<>();
        Iterator<Map.Entry<String, JsonNode>> it = ms.fields();
        while (it.hasNext()) {
            Map.Entry<String, JsonNode> e = it.next();
            Matcher m = KEY.matcher(e.getKey());
            if (!m.matches()) {
                throw bad(source, "key \"" + e.getKey() + "\" is not of the form <shape>/r<rows>/q<tokens>, "
                        + "e.g. llama7b/r4/q8");
            }
            int rows = Integer.parseInt(m.group(2));
            int tokens = Integer.parseInt(m.group(3));
            double value = e.getValue().isNumber() ? e.getValue().asDouble() : Double.NaN;
            if (rows < 1 || tokens < 1) {
                throw bad(source, "key \"" + e.getKey() + "\": rows and tokens must be at least 1");
            }
            if (!(value > 0) || Double.isInfinite(value)) {
                throw bad(source, "\"" + e.getKey() + "\" must be a positive number of milliseconds, got "
                        + e.getValue());
            }
            raw.computeIfAbsent(m.group(1), s -> new TreeMap<>()).computeIfAbsent(rows, r -> new TreeMap<>())
                    .put(tokens, value);
        }
        Map<String, Table> shapes = new TreeMap<>();
        raw.forEach((shape, byRows) -> shapes.put(shape, table(source, shape, byRows)));
        CostCurve curve = new CostCurve(source, text(root, "device"), text(root, "torch"),
                root.path("prefix").isInt() ? root.get("prefix").asInt() : null, shapes);
        if (curve.targets().isEmpty() || curve.drafts().isEmpty()) {
            throw bad(source, "needs at least one target shape and one draft shape (a shape whose name starts "
                    + "with \"draft\"), found " + shapes.keySet());
        }
        return curve;
    }

    private static Table table(String source, String shape, Map<Integer, Map<Integer, Double>> byRows) {
        int[] rows = byRows.keySet().stream().mapToInt(Integer::intValue).toArray();
        TreeSet<Integer> allTokens = new TreeSet<>();
        byRows.values().forEach(t -> allTokens.addAll(t.keySet()));
        int[] tokens = allTokens.stream().mapToInt(Integer::intValue).toArray();
        if (rows[0] != 1 || tokens[0] != 1) {
            throw bad(source, "shape " + shape + " needs an entry for 1 row and 1 token (" + shape + "/r1/q1): "
                    + "it is the cost of a plain decoding step");
        }
        double[][] ms = new double[rows.length][tokens.length];
        for (int i = 0; i < rows.length; i++) {
            for (int j = 0; j < tokens.length; j++) {
                Double v = byRows.get(rows[i]).get(tokens[j]);
                if (v == null) {
                    throw bad(source, "shape " + shape + " has no entry " + shape + "/r" + rows[i] + "/q" + tokens[j]
                            + ": every rows value needs every tokens value");
                }
                ms[i][j] = v;
            }
        }
        for (int i = rows.length - 1; i >= 0; i--) {         // monotone envelope, from the largest shape down
            for (int j = tokens.length - 1; j >= 0; j--) {
                if (i + 1 < rows.length) {
                    ms[i][j] = Math.min(ms[i][j], ms[i + 1][j]);
                }
                if (j + 1 < tokens.length) {
                    ms[i][j] = Math.min(ms[i][j], ms[i][j + 1]);
                }
            }
        }
        return new Table(rows, tokens, ms);
    }

    private static String text(JsonNode root, String field) {
        JsonNode n = root.get(field);
        return n != null && n.isTextual() ? n.asText() : null;
    }

    private static CostCurveException bad(String source, String problem) {
        return new CostCurveException("cost curve " + source + " is malformed: " + problem + " (format: "
                + FORMAT_DOC + ")");
    }

    /**
     * Milliseconds of one forward of {@code shape} over {@code rows} rows of {@code tokens} tokens each
     * (bilinear between measured values of the monotone table); NaN outside the measured range or for an
     * unknown shape.
     */
    public double ms(String shape, double rows, double tokens) {
        Table t = shapes.get(shape);
        if (t == null || !(rows >= 1) || !(tokens >= 1)) {
            return Double.NaN;
        }
        int i = lowerIndex(t.rows(), rows);
        int j = lowerIndex(t.tokens(), tokens);
        if (i < 0 || j < 0) {
            return Double.NaN;
        }
        int i2 = Math.min(i + 1, t.rows().length - 1);
        int j2 = Math.min(j + 1, t.tokens().length - 1);
        double u = fraction(t.rows()[i], t.rows()[i2], rows);
        double v = fraction(t.tokens()[j], t.tokens()[j2], tokens);
        double[][] m = t.ms();
        return (1 - u) * ((1 - v) * m[i][j] + v * m[i][j2]) + u * ((1 - v) * m[i2][j] + v * m[i2][j2]);
    }

    /** Index of the largest grid value at most x, or -1 when x lies beyond the last one. */
    private static int lowerIndex(int[] grid, double x) {
        if (x > grid[grid.length - 1] + 1e-9) {
            return -1;
        }
        int i = 0;
        while (i + 1 < grid.length && grid[i + 1] <= x) {
            i++;
        }
        return i;
    }

    private static double fraction(int lo, int hi, double x) {
        return hi == lo ? 0 : Math.min(1, (x - lo) / (hi - lo));
    }

    /** Largest rows value measured for a shape (0 for an unknown shape). */
    public int maxRows(String shape) {
        Table t = shapes.get(shape);
        return t == null ? 0 : t.rows()[t.rows().length - 1];
    }

    /** Largest tokens value measured for a shape (0 for an unknown shape). */
    public int maxTokens(String shape) {
        Table t = shapes.get(shape);
        return t == null ? 0 : t.tokens()[t.tokens().length - 1];
    }

    public List<String> targets() {
        return shapes.keySet().stream().filter(s -> !isDraft(s)).toList();
    }

    public List<String> drafts() {
        return shapes.keySet().stream().filter(CostCurve::isDraft).toList();
    }

    private static boolean isDraft(String shape) {
        return shape.startsWith("draft");
    }

    /** The file the curve came from, as given (the bundled one as its path in the repository). */
    public String source() {
        return source;
    }

    /** Device name, or null when the file does not say. */
    public String device() {
        return device;
    }

    /** Framework version ({@code "torch"} field), or null. */
    public String framework() {
        return framework;
    }

    /** KV prefix length the forwards ran over, or null. */
    public Integer prefix() {
        return prefix;
    }

    /** Every shape's rows and tokens values, for the report: {@code "rows 1, 4, 8 x tokens 1..32"}. */
    public String rangeDescription() {
        List<String> parts = new ArrayList<>();
        Table any = shapes.values().iterator().next();
        parts.add("rows " + join(any.rows()));
        parts.add("tokens per row " + join(any.tokens()));
        return String.join(" × ", parts);
    }

    private static String join(int[] values) {
        StringBuilder sb = new StringBuilder();
        for (int v : values) {
            sb.append(sb.length() == 0 ? "" : ", ").append(v);
        }
        return sb.toString();
    }
}
