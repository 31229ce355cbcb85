package specbeam.cli;

import specbeam.Engine;
import specbeam.decode.GenerationConfig;
import specbeam.golden.GoldenCheck;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * {@code check-goldens --target DIR [--draft DIR] [--goldens FILE] [--k K]}: runs every case of a model's Hugging
 * Face goldens (models/goldens.py) through the engine target-only and, with a draft, speculatively (speculative
 * greedy for greedy cases; speculative beam search with a fixed tree and with the adaptive one for beam cases),
 * and compares each result with HF's ({@link GoldenCheck}). One line per run, then a count; exit 1 when a run
 * differs at a clear gap. models/real_shapes.py drives it on models built at test time.
 */
final class CheckGoldens {
    static final List<String> OPTIONS = List.of("--target", "--draft", "--goldens", "--k", "--provider", "--threads");

    private CheckGoldens() {
    }

    private record Run(String label, GenerationConfig config) {
    }

    static int run(Map<String, String> o, PrintStream out) {
        Path goldens = Path.of(o.getOrDefault("--goldens", Path.of(o.get("--target"), "goldens.json").toString()));
        List<GoldenCheck.Case> cases = GoldenCheck.read(goldens);
        int k = GenerateOptions.intOpt(o, "--k", 3);
        if (k < 1) {
            throw new IllegalArgumentException("--k must be >= 1 (got " + k + ")");
        }
        boolean speculative = o.containsKey("--draft");
        int passed = 0;
        int nearTies = 0;
        int failed = 0;
        double logitError = GoldenCheck.logitError(Path.of(o.get("--target")));
        out.printf("logit error of the export check %.2g: near-ties below %.2g%n", logitError,
                GoldenCheck.tieTolerance(logitError));
        try (Engine engine = Engine.open(SpecbeamCli.engineOptions(o))) {
            for (GoldenCheck.Case c : cases) {
                for (Run run : runs(c, speculative, k)) {
                    GoldenCheck.Outcome outcome = GoldenCheck.compare(c, engine.generate(List.of(c.prompt()), run.config()),
                            logitError);
                    switch (outcome.verdict()) {
                        case SAME -> passed++;
                        case NEAR_TIE -> {
                            passed++;
                            nearTies++;
                        }
                        case DIFFERENT -> failed++;
                    }
                    out.printf("%-9s %s [%s, prompt %d tokens]%s%n", outcome.verdict().name().toLowerCase(), c.id(),
                            run.label(), c.prompt().length, outcome.detail().isEmpty() ? "" : ": " + outcome.detail());
                }
            }
        }
        out.println("certified near-ties: " + nearTies);
        out.println("goldens: " + passed + " passed, " + failed + " failed");
        return failed == 0 ? 0 : 1;
    }

    private static List<Run> runs(GoldenCheck.Case c, boolean speculative, int k) {
        List<Run> runs = new ArrayList<>();
        runs.add(new Run("target only", c.config()));
        if (speculative) {
            runs.add(new Run("speculative k=" + k, GoldenCheck.speculative(c.config(), k, false)));
            if (c.config().beamWidth() > 1) {
                runs.add(new Run("speculative adaptive k=" + k, GoldenCheck.speculative(c.config(), k, true)));
            }
        }
        return runs;
    }
}
