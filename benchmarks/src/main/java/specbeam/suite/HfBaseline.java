package specbeam.suite;

import specbeam.decode.Mode;
import specbeam.tasks.ModelPair;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

/**
 * Hugging Face {@code generate} timed by {@code models/hf_baseline.py} in the same run as the grid, so the
 * comparison in the report is between two measurements taken minutes apart on the same load. Runs when a
 * Python with torch and transformers is found ({@code $SPECBEAM_PYTHON}, else {@code python3}); otherwise, or
 * with {@code --no-hf} or {@code --quick}, the report keeps the committed baseline and says when it was measured.
 */
final class HfBaseline {
    static final Path SCRIPT = Path.of("models", "hf_baseline.py");

    private HfBaseline() {
    }

    /** Why the baseline is not measured in this run, or {@code null} when it can be. */
    static String skipReason(SuiteOptions options) {
        if (options.noHf()) {
            return "--no-hf";
        }
        if (options.quick()) {
            return "--quick keeps CI fast";
        }
        if (!Files.isRegularFile(SCRIPT)) {
            return SCRIPT + " not found (run from the repository root)";
        }
        try {
            Process p = new ProcessBuilder(python(), "-c", "import torch, transformers").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
                p.destroy();
                return python() + " has no torch + transformers";
            }
        } catch (IOException e) {
            return "no " + python() + " on the PATH (set SPECBEAM_PYTHON)";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        }
        return null;
    }

    /**
     * Runs the baseline for the grid's modes (greedy, the beam widths and k of its points) into
     * {@code <out>/hf_baseline.csv}; its output lines are echoed with a prefix.
     *
     * @return {@code null} on success, else what went wrong (the committed baseline is then reported)
     */
    static String measure(SuiteOptions options, ModelPair pair, List<GridPoint> points, PrintStream out) {
        TreeSet<Integer> beams = new TreeSet<>();
        TreeSet<Integer> ks = new TreeSet<>();
        int maxNew = 64;
        for (GridPoint p : points) {
            if (p.mode() == Mode.BEAM) {
                beams.add(p.beamWidth());
            }
            if (p.mode() == Mode.SPECULATIVE) {
                ks.add(p.k());
            }
            maxNew = p.maxNewTokens();
        }
        List<String> cmd = new ArrayList<>(List.of(python(), SCRIPT.toString(), "--target", pair.target().toString(),
                "--draft", pair.draft().toString(), "--max-new-tokens", Integer.toString(maxNew),
                "--out", options.out().resolve(SuiteOptions.HF_BASELINE).toString(), "--beams"));
        beams.forEach(b -> cmd.add(b.toString()));
        cmd.add("--k");
        ks.forEach(k -> cmd.add(k.toString()));
        out.println("[hf] " + String.join(" ", cmd));
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    out.println("[hf] " + line);
                }
            }
            return p.waitFor() == 0 ? null : "hf_baseline.py exited with status " + p.exitValue();
        } catch (IOException e) {
            return "cannot run " + python() + ": " + e.getMessage();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        }
    }

    /** The line under the report's HF table: when, under what load and with which versions HF was measured. */
    static String provenance(Path csv, boolean measuredInThisRun, String skipReason) {
        Map<String, String> meta = csv == null ? Map.of() : firstRowMeta(csv);
        String when = meta.getOrDefault("measured_at", "");
        String details = (when.isEmpty() ? "date not recorded" : "measured " + when)
                + (meta.getOrDefault("loadavg", "").isEmpty() ? "" : ", load average " + meta.get("loadavg"))
                + (meta.getOrDefault("torch", "").isEmpty() ? "" : ", torch " + meta.get("torch")
                + ", transformers " + meta.get("transformers"));
        return measuredInThisRun
                ? "_HF baseline measured in this run, right after the grid (" + details + ")._"
                : "_HF baseline **not measured in this run** (" + skipReason + "): the numbers are those of " + csv
                + " (" + details + ")._";
    }

    private static Map<String, String> firstRowMeta(Path csv) {
        try {
            List<String> lines = Files.readAllLines(csv, StandardCharsets.UTF_8);
            if (lines.size() < 2) {
                return Map.of();
            }
            String[] head = lines.get(0).split(",", -1);
            String[] row = lines.get(1).split(",", -1);
            Map<String, String> m = new java.util.HashMap<>();
            for (int i = 0; i < head.length && i < row.length; i++) {
                m.put(head[i].strip(), row[i].strip());
            }
            return m;
        } catch (IOException e) {
            return Map.of();
        }
    }

    private static String python() {
        String env = System.getenv("SPECBEAM_PYTHON");
        return env == null || env.isBlank() ? "python3" : env;
    }
}
