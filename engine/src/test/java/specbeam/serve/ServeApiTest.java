package specbeam.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import specbeam.Engine;
import specbeam.EngineOptions;
import specbeam.TestModels;
import specbeam.cli.SpecbeamCli;
import specbeam.decode.EarlyStopping;
import specbeam.decode.GeneratedSequence;
import specbeam.decode.GenerationConfig;
import specbeam.decode.GenerationResult;
import specbeam.decode.Mode;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The {@code serve} API on a real server (loopback, ephemeral port) over the bundled pair: its outputs equal
 * {@link Engine#generate} and {@code generate --json}, bad input gets 400 with the command line's message, and
 * concurrent requests either complete correctly or get 503.
 */
class ServeApiTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String PROMPT = "def fibonacci(n):";
    private static final int CAP = 64;
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    private static Engine serverEngine;
    private static Engine expectedEngine;
    private static SpecbeamServer server;

    @BeforeAll
    static void start() {
        serverEngine = Engine.open(EngineOptions.of(TestModels.pairTarget(), TestModels.pairDraft()));
        expectedEngine = Engine.open(EngineOptions.of(TestModels.pairTarget(), TestModels.pairDraft()));
        server = SpecbeamServer.start(serverEngine, new SpecbeamServer.Settings("127.0.0.1", 0, CAP, 4), List.of(PROMPT));
    }

    @AfterAll
    static void stop() {
        server.close();
        serverEngine.close();
        expectedEngine.close();
    }

    private record Reply(int status, String body) {
        JsonNode json() throws Exception {
            return JSON.readTree(body);
        }
    }

    private static Reply get(SpecbeamServer on, String pathAndQuery) throws Exception {
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + on.port() + pathAndQuery))
                .timeout(Duration.ofSeconds(120)).GET().build();
        HttpResponse<String> response = HTTP.send(request, HttpResponse.BodyHandlers.ofString());
        return new Reply(response.statusCode(), response.body());
    }

    private static String query(Map<String, String> params) {
        return params.entrySet().stream()
                .map(e -> e.getKey() + "=" + URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8))
                .collect(Collectors.joining("&"));
    }

    /** The same options as API parameters and as {@code generate} arguments. */
    private static Map<String, String> params(Mode mode) {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("mode", mode.id());
        p.put("prompt", PROMPT);
        p.put("max_new_tokens", "16");
        if (mode.isSpeculative()) {
            p.put("k", "3");
        }
        if (mode.isBeam()) {
            p.put("beam_width", "3");
            p.put("num_return_sequences", "3");
            p.put("length_penalty", "0.8");
        }
        if (mode.isSampling()) {
            p.put("num_return_sequences", "2");
            p.put("temperature", "0.8");
            p.put("top_k", "50");
            p.put("seed", "7");
        }
        return p;
    }

    private static GenerationConfig config(Mode mode) {
        GenerationConfig.Builder b = GenerationConfig.builder(mode).maxNewTokens(16);
        if (mode.isSpeculative()) {
            b.k(3);
        }
        if (mode.isBeam()) {
            b.beamWidth(3).numReturnSequences(3).lengthPenalty(0.8).earlyStopping(EarlyStopping.FALSE);
        } else {
            b.beamWidth(1);
        }
        if (mode.isSampling()) {
            b.numReturnSequences(2).temperature(0.8).topK(50).seed(7);
        }
        return b.build();
    }

    private static List<int[]> sequencesOf(JsonNode json) {
        List<int[]> out = new ArrayList<>();
        for (JsonNode seq : json.get("sequences")) {
            int[] ids = new int[seq.size()];
            for (int i = 0; i < ids.length; i++) {
                ids[i] = seq.get(i).asInt();
            }
            out.add(ids);
        }
        return out;
    }

    private record CliRun(int code, String out, String err) {
    }

    private static CliRun cli(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = SpecbeamCli.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new CliRun(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    /** {@code generate} arguments for API parameters: {@code beam_width=3} becomes {@code --beam-width 3}. */
    private static List<String> cliArgs(Map<String, String> params, boolean withDraft) {
        List<String> args = new ArrayList<>(List.of("generate", "--target", TestModels.pairTarget().toString()));
        if (withDraft) {
            args.addAll(List.of("--draft", TestModels.pairDraft().toString()));
        }
        params.forEach((k, v) -> {
            args.add("--" + k.replace('_', '-'));
            args.add(v);
        });
        return args;
    }

    @Test
    void everyModeReturnsWhatEngineGenerateReturns() throws Exception {
        int[] prompt = expectedEngine.tokenizer().encode(PROMPT);
        for (Mode mode : Mode.values()) {
            Reply reply = get(server, "/api/generate?" + query(params(mode)));
            assertThat(reply.status()).as(mode + ": " + reply.body()).isEqualTo(200);
            JsonNode json = reply.json();

            GenerationResult expected = expectedEngine.generate(List.of(prompt), config(mode));
            List<GeneratedSequence> seqs = expected.sequences().get(0);
            assertThat(sequencesOf(json)).as(mode.id()).usingRecursiveFieldByFieldElementComparator()
                    .containsExactlyElementsOf(seqs.stream().map(GeneratedSequence::tokens).toList());
            for (int i = 0; i < seqs.size(); i++) {
                assertThat(json.get("sequence_scores").get(i).asDouble()).as(mode.id()).isEqualTo(seqs.get(i).score());
                assertThat(json.get("texts").get(i).asText()).isEqualTo(expectedEngine.tokenizer().decode(seqs.get(i).generated()));
            }
            assertThat(json.get("stats").get("target_forwards").asLong()).isEqualTo(expected.stats().targetForwards);
            assertThat(json.get("stats").get("draft_tokens_accepted").asLong()).isEqualTo(expected.stats().draftAccepted);
            assertThat(json.get("trace").size()).as(mode.id() + " has a trace exactly when speculative")
                    .matches(n -> mode.isSpeculative() == (n > 0));
        }
    }

    @Test
    void speculativeGreedyTraceAddsUpToTheGeneratedTokens() throws Exception {
        JsonNode json = get(server, "/api/generate?" + query(params(Mode.SPECULATIVE))).json();
        int[] tokens = sequencesOf(json).get(0);
        int promptLength = expectedEngine.tokenizer().encode(PROMPT).length;
        List<Integer> emitted = new ArrayList<>();
        for (JsonNode round : json.get("trace")) {
            round.get("emitted").forEach(t -> emitted.add(t.asInt()));
            assertThat(round.get("accepted").asInt()).isBetween(0, round.get("proposed").size());
            assertThat(round.get("emitted_text")).hasSameSizeAs(round.get("emitted"));
        }
        // every new token was emitted by exactly one round, in order
        assertThat(emitted).containsExactlyElementsOf(
                Arrays.stream(tokens, promptLength, tokens.length).boxed().toList());
    }

    /**
     * Speculative beam search: each round shows every beam's draft tree and, per new beam, the tree path it kept and
     * the target's next token. Replaying those from the first pending tokens rebuilds the running beams round by
     * round; the rebuilt beams must lead to the returned sequences.
     */
    @Test
    void speculativeBeamRoundsShowEveryBeamsTreeAndWhatTheNewBeamsKept() throws Exception {
        int width = 3;
        JsonNode json = get(server, "/api/generate?" + query(params(Mode.SPECULATIVE_BEAM))).json();
        int[] prompt = expectedEngine.tokenizer().encode(PROMPT);
        List<List<Integer>> beams = null;   // per running beam, its generated tokens (the last one: its pending token)
        assertThat(json.get("trace")).isNotEmpty();
        for (JsonNode round : json.get("trace")) {
            JsonNode trees = round.get("beams").get("trees");
            assertThat(trees).hasSize(width);
            if (beams == null) {
                beams = new ArrayList<>();
                for (JsonNode tree : trees) {
                    beams.add(new ArrayList<>(List.of(tree.get("tokens").get(0).asInt())));
                }
            }
            for (int b = 0; b < width; b++) {
                JsonNode tree = trees.get(b);
                JsonNode tokens = tree.get("tokens");
                JsonNode parents = tree.get("parents");
                assertThat(parents).hasSameSizeAs(tokens);
                assertThat(tree.get("tokens_text")).hasSameSizeAs(tokens);
                assertThat(tokens.get(0).asInt()).as("round %d, beam %d: the root is the beam's pending token",
                        round.get("round").asInt(), b).isEqualTo(beams.get(b).get(beams.get(b).size() - 1));
                assertThat(parents.get(0).asInt()).isEqualTo(-1);
                for (int node = 1; node < tokens.size(); node++) {
                    assertThat(parents.get(node).asInt()).as("a parent comes before its child").isBetween(0, node - 1);
                    assertThat(tree.get("tokens_text").get(node).asText())
                            .isEqualTo(expectedEngine.tokenizer().tokenText(tokens.get(node).asInt()));
                }
            }
            JsonNode newBeams = round.get("beams").get("new_beams");
            assertThat(newBeams).hasSize(width);
            List<List<Integer>> grown = new ArrayList<>();
            for (JsonNode beam : newBeams) {
                int from = beam.get("from_beam").asInt();
                assertThat(from).isBetween(0, width - 1);
                JsonNode tree = trees.get(from);
                JsonNode path = beam.get("path");
                assertThat(path.get(0).asInt()).as("a kept path starts at the root").isZero();
                List<Integer> tokens = new ArrayList<>(beams.get(from));
                for (int s = 1; s < path.size(); s++) {
                    int node = path.get(s).asInt();
                    assertThat(node).isBetween(1, tree.get("tokens").size() - 1);
                    assertThat(tree.get("parents").get(node).asInt()).as("a kept path is a root path of its tree")
                            .isEqualTo(path.get(s - 1).asInt());
                    tokens.add(tree.get("tokens").get(node).asInt());
                }
                tokens.add(beam.get("next").asInt());
                assertThat(beam.get("next_text").asText()).isEqualTo(expectedEngine.tokenizer().tokenText(beam.get("next").asInt()));
                grown.add(tokens);
            }
            // the best-path fields are the best new beam's path and next token
            List<Integer> best = grown.get(0);
            int walked = newBeams.get(0).get("path").size() - 1;
            assertThat(ints(round.get("proposed"))).containsExactlyElementsOf(best.subList(best.size() - 1 - walked, best.size() - 1));
            assertThat(ints(round.get("emitted"))).containsExactlyElementsOf(best.subList(best.size() - 1 - walked, best.size()));
            beams = grown;
        }
        // the last round ends the search inside the tree, untraced: every returned sequence that ran to the length
        // limit continues one of the beams rebuilt after the last traced round
        int checked = 0;
        for (int[] sequence : sequencesOf(json)) {
            if (sequence.length < prompt.length + 16) {
                continue;  // finished on EOS, possibly rounds earlier
            }
            List<Integer> generated = Arrays.stream(sequence, prompt.length, sequence.length).boxed().toList();
            assertThat(beams).as("a rebuilt beam is a prefix of " + generated)
                    .anyMatch(beam -> generated.subList(0, beam.size()).equals(beam));
            checked++;
        }
        assertThat(checked).as("sequences that ran to the length limit").isPositive();

        for (Mode mode : List.of(Mode.SPECULATIVE, Mode.SPECULATIVE_SAMPLING)) {
            JsonNode other = get(server, "/api/generate?" + query(params(mode))).json();
            assertThat(other.get("trace")).as(mode.id()).isNotEmpty().noneMatch(round -> round.has("beams"));
        }
    }

    private static List<Integer> ints(JsonNode array) {
        List<Integer> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asInt()));
        return out;
    }

    @Test
    void answerIsTheGenerateJsonObjectPlusTheTrace() throws Exception {
        Map<String, String> p = params(Mode.SPECULATIVE_BEAM);
        ObjectNode api = (ObjectNode) get(server, "/api/generate?" + query(p)).json();
        List<String> args = cliArgs(p, true);
        args.add("--json");
        CliRun run = cli(args.toArray(String[]::new));
        assertThat(run.code()).as(run.err()).isZero();
        ObjectNode cli = (ObjectNode) JSON.readTree(run.out());

        assertThat(api.remove("trace")).isNotEmpty();
        for (ObjectNode json : List.of(api, cli)) {
            ObjectNode stats = (ObjectNode) json.get("stats");
            double verify = stats.get("verify_ms").asDouble();
            assertThat(verify).as("a speculative beam call times its verifications").isPositive()
                    .isGreaterThanOrEqualTo(stats.get("verify_ort_ms").asDouble())
                    .isLessThanOrEqualTo(stats.get("wall_ms").asDouble());
            assertThat(stats.get("verify_forwards").asLong()).isEqualTo(stats.get("target_forwards").asLong() - 1);
            for (String timing : List.of("wall_ms", "ort_ms", "ort_share", "prefill_ms", "logits_ms", "verify_ms",
                    "verify_ort_ms")) {
                assertThat(stats.remove(timing)).as(timing).isNotNull();
            }
        }
        assertThat(api).isEqualTo(cli);
    }

    @Test
    void streamSendsOneEventPerRoundThenTheResult() throws Exception {
        for (Mode mode : List.of(Mode.SPECULATIVE, Mode.SPECULATIVE_BEAM, Mode.BEAM)) {
            JsonNode whole = get(server, "/api/generate?" + query(params(mode))).json();
            HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port()
                    + "/api/generate/stream?" + query(params(mode)))).timeout(Duration.ofSeconds(120)).build();
            HttpResponse<java.util.stream.Stream<String>> response = HTTP.send(request, HttpResponse.BodyHandlers.ofLines());
            assertThat(response.statusCode()).isEqualTo(200);
            assertThat(response.headers().firstValue("Content-Type")).hasValueSatisfying(v -> assertThat(v).startsWith("text/event-stream"));
            List<String> names = new ArrayList<>();
            List<JsonNode> data = new ArrayList<>();
            Iterator<String> lines = response.body().iterator();
            while (lines.hasNext()) {
                String line = lines.next();
                if (line.startsWith("event: ")) {
                    names.add(line.substring(7));
                } else if (line.startsWith("data: ")) {
                    data.add(JSON.readTree(line.substring(6)));
                }
            }
            assertThat(names).as(mode.id()).hasSize(data.size()).last().isEqualTo("result");
            assertThat(names.subList(0, names.size() - 1)).allMatch("round"::equals);
            JsonNode result = data.get(data.size() - 1);
            assertThat(result.get("sequences")).isEqualTo(whole.get("sequences"));
            JsonNode rounds = JSON.createArrayNode().addAll(data.subList(0, data.size() - 1));
            assertThat(rounds).isEqualTo(whole.get("trace"));
            assertThat(result.get("trace")).isEqualTo(whole.get("trace"));
        }
    }

    @Test
    void badInputGets400WithTheMessageTheCommandLinePrints() throws Exception {
        List<Map<String, String>> cases = List.of(
                Map.of("mode", "nonsense", "prompt", PROMPT),
                Map.of("mode", "speculative", "k", "0", "prompt", PROMPT),
                Map.of("mode", "speculative_beam", "k", "-2", "prompt", PROMPT),
                Map.of("mode", "beam", "beam_width", "0", "prompt", PROMPT),
                Map.of("mode", "beam", "beam_width", "abc", "prompt", PROMPT),
                Map.of("mode", "beam", "beam_width", "2", "num_return_sequences", "3", "prompt", PROMPT),
                Map.of("mode", "greedy", "prompt", ""),
                Map.of("mode", "greedy", "prompt_ids", longPrompt(1000)),
                Map.of("mode", "sampling", "top_p", "0", "prompt", PROMPT),
                Map.of("mode", "beam", "early_stopping", "sometimes", "prompt", PROMPT),
                Map.of("prompt", PROMPT));
        for (Map<String, String> c : cases) {
            Reply reply = get(server, "/api/generate?" + query(c));
            CliRun run = cli(cliArgs(c, true).toArray(String[]::new));
            assertThat(run.code()).as("CLI " + c).isEqualTo(2);
            assertThat(reply.status()).as(c.toString()).isEqualTo(400);
            assertThat(reply.json().get("error").asText()).as(c.toString()).isEqualTo(run.err().strip()).doesNotContain("\n");
            assertThat(get(server, "/api/generate/stream?" + query(c)).status()).as("stream " + c).isEqualTo(400);
        }
    }

    private static String longPrompt(int tokens) {
        return IntStream.range(0, tokens).mapToObj(i -> String.valueOf(100 + i % 50)).collect(Collectors.joining(","));
    }

    @Test
    void aSpeculativeModeWithoutADraftGets400WithTheCommandLinesMessage() throws Exception {
        try (Engine targetOnly = Engine.open(EngineOptions.of(TestModels.pairTarget(), null));
             SpecbeamServer noDraft = SpecbeamServer.start(targetOnly, new SpecbeamServer.Settings("127.0.0.1", 0, CAP, 1), List.of())) {
            Map<String, String> p = params(Mode.SPECULATIVE_BEAM);
            Reply reply = get(noDraft, "/api/generate?" + query(p));
            CliRun run = cli(cliArgs(p, false).toArray(String[]::new));
            assertThat(reply.status()).isEqualTo(400);
            assertThat(reply.json().get("error").asText()).isEqualTo(run.err().strip()).contains("needs --draft");
            assertThat(get(noDraft, "/api/info").json().get("modes").toString()).doesNotContain("speculative");
            assertThat(get(noDraft, "/api/generate?" + query(params(Mode.BEAM))).status()).isEqualTo(200);
        }
    }

    @Test
    void serverLimitsAndUnknownParametersGet400AndNothingNamesAFile() throws Exception {
        Map<String, String> expected = new LinkedHashMap<>();
        expected.put("mode=greedy&prompt=x&max_new_tokens=" + (CAP + 1), "is above this server's cap of " + CAP);
        expected.put("mode=greedy&prompt=x&target=%2Fetc", "unknown parameter 'target'");
        expected.put("mode=greedy&prompt=x&task=%2Fetc%2Fpasswd", "unknown parameter 'task'");
        expected.put("mode=greedy&prompt=x&draft=models", "unknown parameter 'draft'");
        expected.put("mode=greedy", "give exactly one of prompt=text, messages=[{\"role\": ..., \"content\": ...}] or prompt_ids=5,17,9");
        expected.put("mode=greedy&prompt=x&prompt_ids=5", "give exactly one of prompt=text, messages=[{\"role\": ..., \"content\": ...}] or prompt_ids=5,17,9");
        expected.put("mode=greedy&prompt=x&prompt=y", "parameter 'prompt' is given twice");
        expected.put("mode=greedy&prompt=x&system=s", "--system needs the chat template");
        expected.put("mode=greedy&prompt=x&chat=true", "has no chat template");
        expected.put("mode=greedy&messages=%5B%7B%22role%22%3A%22bot%22%2C%22content%22%3A%22x%22%7D%5D", "role 'bot'");
        expected.put("mode=greedy&messages=nope", "messages is not JSON");
        expected.put("mode=speculative&prompt=x&adaptive=yes", "adaptive must be true or false");
        expected.put("mode=greedy&prompt=" + "a".repeat(SpecbeamServer.MAX_PROMPT_CHARS + 1), "characters; this server takes at most");
        for (Map.Entry<String, String> e : expected.entrySet()) {
            Reply reply = get(server, "/api/generate?" + e.getKey());
            assertThat(reply.status()).as(e.getKey()).isEqualTo(400);
            assertThat(reply.json().get("error").asText()).as(e.getKey())
                    .startsWith("specbeam: error: ").contains(e.getValue()).doesNotContain("\n");
        }
        assertThat(get(server, "/etc/passwd").status()).isEqualTo(404);
        assertThat(get(server, "/../pom.xml").status()).isEqualTo(404);
        assertThat(get(server, "/index.html/../serve.js").status()).isEqualTo(404);
        Reply post = new Reply(HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/api/generate"))
                .POST(HttpRequest.BodyPublishers.ofString("mode=greedy")).build(), HttpResponse.BodyHandlers.ofString()).statusCode(), "");
        assertThat(post.status()).isEqualTo(405);
        assertThat(get(server, "/").body()).contains("<title>specbeam");
        assertThat(get(server, "/serve.js").status()).isEqualTo(200);
        assertThat(get(server, "/api/info").json().get("max_new_tokens_cap").asInt()).isEqualTo(CAP);
    }

    @Test
    void serveCommandMistakesExitWithTwoAndOneLine() throws Exception {
        String target = TestModels.tiny("llama").toString();
        try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            String[][] cases = {
                    {"serve"},
                    {"serve", "--target", target, "--port", "99999"},
                    {"serve", "--target", target, "--max-new-tokens-cap", "0"},
                    {"serve", "--target", target, "--queue", "-1"},
                    {"serve", "--target", target, "--mode", "greedy"},
                    {"serve", "--target", target, "--port", String.valueOf(taken.getLocalPort())},
            };
            for (String[] args : cases) {
                CliRun run = org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(Duration.ofSeconds(60), () -> cli(args));
                assertThat(run.code()).as(String.join(" ", args)).isEqualTo(2);
                assertThat(run.err()).as(String.join(" ", args)).startsWith("specbeam: error: ").doesNotContain("Exception");
            }
            CliRun busy = cli("serve", "--target", target, "--port", String.valueOf(taken.getLocalPort()));
            assertThat(busy.err()).contains("cannot listen on 127.0.0.1:" + taken.getLocalPort()).contains("pick another --port");
        }
    }

    @Test
    void concurrentRequestsAllCompleteOrGet503AndNoneIsCorrupted() throws Exception {
        List<String> prompts = List.of("def fibonacci(n):", "import os\n", "class Stack:", "The future of AI is");
        Map<String, List<int[]>> expected = new LinkedHashMap<>();
        for (String prompt : prompts) {
            GenerationConfig config = GenerationConfig.builder(Mode.SPECULATIVE_BEAM).maxNewTokens(32).beamWidth(4)
                    .numReturnSequences(2).k(3).build();
            expected.put(prompt, expectedEngine.generate(List.of(expectedEngine.tokenizer().encode(prompt)), config)
                    .sequences().get(0).stream().map(GeneratedSequence::tokens).toList());
        }
        int requests = 10;
        int queue = 1;
        try (SpecbeamServer small = SpecbeamServer.start(serverEngine, new SpecbeamServer.Settings("127.0.0.1", 0, CAP, queue), List.of())) {
            ExecutorService clients = Executors.newFixedThreadPool(requests);
            CountDownLatch go = new CountDownLatch(1);
            List<Future<Reply>> replies = new ArrayList<>();
            for (int i = 0; i < requests; i++) {
                String prompt = prompts.get(i % prompts.size());
                boolean stream = i % 2 == 1;
                String path = (stream ? "/api/generate/stream?" : "/api/generate?") + query(Map.of("mode", "speculative_beam",
                        "prompt", prompt, "max_new_tokens", "32", "beam_width", "4", "num_return_sequences", "2", "k", "3"));
                replies.add(clients.submit(() -> {
                    go.await();
                    return get(small, path);
                }));
            }
            go.countDown();
            int ok = 0;
            int busy = 0;
            for (int i = 0; i < requests; i++) {
                Reply reply = replies.get(i).get(180, TimeUnit.SECONDS);
                String prompt = prompts.get(i % prompts.size());
                if (reply.status() == 503) {
                    busy++;
                    assertThat(JSON.readTree(reply.body()).get("error").asText()).startsWith("specbeam: error: the server is busy");
                    continue;
                }
                assertThat(reply.status()).as(reply.body()).isEqualTo(200);
                ok++;
                String body = reply.body();
                if (body.startsWith("event:")) {   // the streamed form: its last event carries the result
                    body = body.substring(body.lastIndexOf("data: ") + 6).strip();
                }
                assertThat(sequencesOf(JSON.readTree(body))).as("request " + i + " (" + prompt + ")")
                        .usingRecursiveFieldByFieldElementComparator().containsExactlyElementsOf(expected.get(prompt));
            }
            clients.shutdown();
            assertThat(ok + busy).isEqualTo(requests);
            assertThat(ok).as("one runs, " + queue + " waits").isGreaterThanOrEqualTo(1 + queue);
            assertThat(busy).as("10 requests at once against a queue of 1").isPositive();
            // the server is free again afterwards
            Reply after = get(small, "/api/generate?" + query(Map.of("mode", "greedy", "prompt", PROMPT, "max_new_tokens", "4")));
            assertThat(after.status()).isEqualTo(200);
        }
    }
}
