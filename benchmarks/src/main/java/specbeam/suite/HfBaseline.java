package specbeam.suite;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Whether and where Hugging Face {@code generate} can be timed ({@code models/hf_baseline.py}, measured by
 * {@link HfSideBySide}), and the provenance line under the report's HF table. It runs when a Python with torch and
 * transformers is found ({@code $SPECBEAM_PYTHON}, else {@code python3}); otherwise, or with {@code --no-hf} or
 * {@code --quick}, the report keeps the committed baseline and says when it was measured.
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

    /** The line under the report's HF table: when, under what load and with which versions HF was measured. */
    static String provenance(Path csv, boolean measuredInThisRun, String skipReason) {
        Map<String, String> meta = csv == null ? Map.of() : firstRowMeta(csv);
        String when = meta.getOrDefault("measured_at", "");
        String details = (when.isEmpty() ? "date not recorded" : "measured " + when)
                + (meta.getOrDefault("loadavg", "").isEmpty() ? "" : ", load average " + meta.get("loadavg"))
                + (meta.getOrDefault("torch", "").isEmpty() ? "" : ", torch " + meta.get("torch")
                + ", transformers " + meta.get("transformers"));
        return measuredInThisRun
                ? "_HF baseline measured in this run after the grid, alternating call by call with specbeam (" + details
                + ")._"
                : "_HF baseline **not measured in this run** (" + skipReason + "): the numbers are those of " + csv
                + " (" + details + ")._";
    }

    /** When the HF numbers in {@code csv} were measured (its first row's {@code measured_at}), for rows that carry them. */
    static String measuredAt(Path csv) {
        String when = csv == null ? "" : firstRowMeta(csv).getOrDefault("measured_at", "");
        return when.isEmpty() ? "at an unrecorded date" : when;
    }

    static Map<String, String> firstRowMeta(Path csv) {
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

    static String python() {
        String env = System.getenv("SPECBEAM_PYTHON");
        return env == null || env.isBlank() ? "python3" : env;
    }
}
