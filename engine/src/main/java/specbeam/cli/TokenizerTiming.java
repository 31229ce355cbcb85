package specbeam.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import specbeam.text.ChatMessage;
import specbeam.text.ChatTemplate;
import specbeam.text.TextTokenizer;

import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Arrays;
import java.util.Map;
import java.util.Optional;

/**
 * {@code java -cp benchmarks.jar specbeam.cli.TokenizerTiming DIR...}: for each tokenizer directory, the time to load
 * tokenizer.json (DJL, median of 5 fresh loads), to encode a text of 1,000 tokens (median of 30, after 10 untimed),
 * and to render a two-message conversation with its chat template (the process's first render, which loads the
 * JavaScript runtime, and the median of 30 after it). Prints one JSON object; the report's setup section cites it.
 */
public final class TokenizerTiming {
    private static final int LOADS = 5;
    private static final int REPS = 30;
    private static final int ENCODE_TOKENS = 1000;

    private TokenizerTiming() {
    }

    public static void main(String[] args) {
        if (args.length == 0) {
            System.err.println("usage: java -cp benchmarks.jar specbeam.cli.TokenizerTiming DIR...");
            System.exit(2);
        }
        ObjectMapper json = new ObjectMapper();
        ObjectNode root = json.createObjectNode();
        root.put("measured_at", Instant.now().toString());
        root.put("loadavg_at_start", ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
        root.put("jvm", System.getProperty("java.vm.name") + " " + System.getProperty("java.vm.version"));
        root.put("cores", Runtime.getRuntime().availableProcessors());
        ArrayNode rows = root.putArray("tokenizers");
        for (String arg : args) {
            rows.add(time(Path.of(arg), json));
        }
        System.out.println(root.toPrettyString());
    }

    private static ObjectNode time(Path dir, ObjectMapper json) {
        ObjectNode row = json.createObjectNode();
        row.put("dir", dir.toString());
        double[] loads = new double[LOADS];
        for (int i = 0; i < LOADS; i++) {
            long t0 = System.nanoTime();
            TextTokenizer.load(dir).close();
            loads[i] = (System.nanoTime() - t0) / 1e6;
        }
        row.put("load_ms_median", median(loads));
        try (TextTokenizer tokenizer = TextTokenizer.load(dir)) {
            String text = thousandTokens(tokenizer);
            row.put("encode_tokens", tokenizer.encode(text).length);
            for (int i = 0; i < 10; i++) {
                tokenizer.encode(text);
            }
            double[] encodes = new double[REPS];
            for (int i = 0; i < REPS; i++) {
                long t0 = System.nanoTime();
                tokenizer.encode(text);
                encodes[i] = (System.nanoTime() - t0) / 1e6;
            }
            row.put("encode_ms_median", median(encodes));
        }
        Optional<ChatTemplate> template = ChatTemplate.load(dir);
        if (template.isPresent()) {
            var messages = ChatMessage.prompt("You are a concise assistant.", "What is speculative decoding?");
            long t0 = System.nanoTime();
            template.get().render(messages, true, Map.of());
            row.put("first_render_ms", (System.nanoTime() - t0) / 1e6);
            double[] renders = new double[REPS];
            for (int i = 0; i < REPS; i++) {
                long t1 = System.nanoTime();
                template.get().render(messages, true, Map.of());
                renders[i] = (System.nanoTime() - t1) / 1e6;
            }
            row.put("render_ms_median", median(renders));
        }
        return row;
    }

    /** English prose and Python source, repeated and cut to the first 1,000 tokens. */
    private static String thousandTokens(TextTokenizer tokenizer) {
        String unit = "Speculative decoding lets a small draft model propose tokens that a large target verifies in "
                + "one forward pass.\ndef merge(a, b):\n    out = []\n    while a and b:\n        out.append(a.pop(0) "
                + "if a[0] <= b[0] else b.pop(0))\n    return out + a + b\n";
        String text = unit.repeat(60);
        int[] ids = tokenizer.encode(text);
        return tokenizer.decode(Arrays.copyOf(ids, Math.min(ENCODE_TOKENS, ids.length)));
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }
}
