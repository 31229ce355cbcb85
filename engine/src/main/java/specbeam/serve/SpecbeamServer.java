package specbeam.serve;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import specbeam.Engine;
import specbeam.cli.GenerateOptions;
import specbeam.decode.GenerationConfig;
import specbeam.decode.Mode;
import specbeam.model.ModelManifest;
import specbeam.text.ChatMessage;
import specbeam.text.PromptRequest;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;

/**
 * The {@code serve} command's HTTP server (the JDK's {@code com.sun.net.httpserver}) over one {@link Engine}:
 * <ul>
 *   <li>{@code GET /} the demo page (plain HTML/CSS/JS from the jar);</li>
 *   <li>{@code GET /api/info} the models, the modes they allow, the server's limits and the study prompts;</li>
 *   <li>{@code GET /api/generate?mode=...&prompt=...} the {@code generate --json} object plus {@code trace};</li>
 *   <li>{@code GET /api/generate/stream?...} the same as server-sent events: one {@code round} event per
 *       speculative round as it happens, then one {@code result} (or {@code error}) event;</li>
 *   <li>{@code GET /api/render?prompt=...} the prompt as the model will read it: {@code rendered} (after the chat
 *       template, or the raw text), {@code chat}, {@code template} (its file) and {@code ids}.</li>
 * </ul>
 * Query parameters are the {@code generate} options in snake case; none names a file. The chat options are
 * {@code chat=true|false} (default: the template when the model has one), {@code system=TEXT},
 * {@code messages=[{"role": ..., "content": ...}, ...]} (a conversation as JSON, instead of {@code prompt}) and
 * {@code enable_thinking=true|false}. Generations run one at a
 * time behind a bounded queue ({@link GenerationWorker}); a full queue answers 503.
 */
public final class SpecbeamServer implements AutoCloseable {
    /** Longest prompt text accepted, in characters (the model's positions bound it in tokens). */
    public static final int MAX_PROMPT_CHARS = 20_000;

    private static final ObjectMapper MAPPER = new ObjectMapper();

    /** API parameter -> the {@code generate} option it stands for. */
    private static final Map<String, String> PARAMETERS = parameters();

    /** The page's files: request path -> (resource, content type). Nothing else is served from the jar. */
    private static final Map<String, String[]> PAGE_FILES = Map.of(
            "/", new String[] {"index.html", "text/html; charset=utf-8"},
            "/serve.js", new String[] {"serve.js", "text/javascript; charset=utf-8"},
            "/serve.css", new String[] {"serve.css", "text/css; charset=utf-8"});

    /**
     * How the server listens and what it allows.
     *
     * @param host            address to bind (127.0.0.1 unless told otherwise)
     * @param port            TCP port, 0 = any free one
     * @param maxNewTokensCap largest {@code max_new_tokens} a request may ask for
     * @param queueCapacity   generations that may wait behind the running one before requests get 503
     */
    public record Settings(String host, int port, int maxNewTokensCap, int queueCapacity) {
        public static final String DEFAULT_HOST = "127.0.0.1";
        public static final int DEFAULT_PORT = 8080;
        public static final int DEFAULT_MAX_NEW_TOKENS_CAP = 256;
        public static final int DEFAULT_QUEUE_CAPACITY = 4;

        public Settings {
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("--port must be between 0 and 65535, 0 meaning any free port (got " + port + ")");
            }
            if (maxNewTokensCap < 1) {
                throw new IllegalArgumentException("--max-new-tokens-cap must be >= 1 (got " + maxNewTokensCap + ")");
            }
            if (queueCapacity < 0) {
                throw new IllegalArgumentException("--queue must be >= 0 (got " + queueCapacity + ")");
            }
        }
    }

    private final Engine engine;
    private final Settings settings;
    private final List<String> studyPrompts;
    /** {@code serve}'s own chat options ({@code --system}, {@code --raw}, ...): defaults for requests that omit them. */
    private final Map<String, String> chatDefaults;
    private final GenerationWorker worker;
    private final ExecutorService handlers;
    private final HttpServer http;

    private SpecbeamServer(Engine engine, Settings settings, List<String> studyPrompts, Map<String, String> chatDefaults)
            throws IOException {
        this.engine = engine;
        this.settings = settings;
        this.studyPrompts = List.copyOf(studyPrompts);
        this.chatDefaults = Map.copyOf(chatDefaults);
        this.worker = new GenerationWorker(engine, settings.queueCapacity());
        // one handler thread per admitted generation (running + queued) plus a few for pages and quick 400/503s
        this.handlers = Executors.newFixedThreadPool(settings.queueCapacity() + 5, r -> {
            Thread t = new Thread(r, "specbeam-http");
            t.setDaemon(true);
            return t;
        });
        this.http = HttpServer.create(new InetSocketAddress(settings.host(), settings.port()), 32);
        http.setExecutor(handlers);
        http.createContext("/", this::handle);
    }

    /**
     * Starts serving {@code engine}; the caller keeps ownership of the engine and closes it after the server.
     *
     * @param studyPrompts prompt texts the page offers as examples (may be empty)
     * @throws IllegalArgumentException when the address cannot be bound
     */
    public static SpecbeamServer start(Engine engine, Settings settings, List<String> studyPrompts) {
        return start(engine, settings, studyPrompts, Map.of());
    }

    /**
     * As {@link #start(Engine, Settings, List)}, with {@code serve}'s chat options ({@code --chat}, {@code --raw},
     * {@code --system}, {@code --enable-thinking} as keys, with their values) applied to requests that give none.
     */
    public static SpecbeamServer start(Engine engine, Settings settings, List<String> studyPrompts,
                                       Map<String, String> chatDefaults) {
        // the same checks as a request's, once, at start: e.g. --system on a model without a template
        GenerateOptions.promptRequest("x", null, chatDefaults).render(engine.chatTemplate(), "the target");
        SpecbeamServer server;
        try {
            server = new SpecbeamServer(engine, settings, studyPrompts, chatDefaults);
        } catch (BindException e) {
            throw new IllegalArgumentException("cannot listen on " + settings.host() + ":" + settings.port() + " ("
                    + e.getMessage() + "): pick another --port or --host");
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot start the server on " + settings.host() + ":" + settings.port()
                    + ": " + e.getMessage());
        }
        server.http.start();
        return server;
    }

    /** The port actually bound (useful with port 0). */
    public int port() {
        return http.getAddress().getPort();
    }

    /** The page's address. */
    public String url() {
        String host = settings.host().contains(":") ? "[" + settings.host() + "]" : settings.host();
        return "http://" + host + ":" + port() + "/";
    }

    @Override
    public void close() {
        http.stop(0);
        worker.close();
        handlers.shutdownNow();
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            if (!exchange.getRequestMethod().equals("GET")) {
                exchange.getResponseHeaders().set("Allow", "GET");
                sendError(exchange, 405, "specbeam: error: only GET is served here");
                return;
            }
            String path = exchange.getRequestURI().getPath();
            switch (path) {
                case "/api/info" -> sendJson(exchange, 200, info());
                case "/api/generate" -> generate(exchange, false);
                case "/api/generate/stream" -> generate(exchange, true);
                case "/api/render" -> render(exchange);
                default -> {
                    String[] file = PAGE_FILES.get(path);
                    if (file == null) {
                        sendError(exchange, 404, "specbeam: error: no such page " + path
                                + ": the API is /api/generate, /api/generate/stream and /api/info");
                    } else {
                        sendResource(exchange, file[0], file[1]);
                    }
                }
            }
        } catch (RuntimeException e) {
            // the response may be half sent; the connection is closed either way
            System.err.println("specbeam: internal error serving " + exchange.getRequestURI() + ": " + e);
        }
    }

    private void generate(HttpExchange exchange, boolean stream) throws IOException {
        GenerationWorker.Request request;
        try {
            request = request(exchange.getRequestURI());
        } catch (IllegalArgumentException e) {
            sendError(exchange, 400, "specbeam: error: " + e.getMessage());
            return;
        }
        GenerationWorker.Job job;
        try {
            job = worker.submit(request);
        } catch (RejectedExecutionException e) {
            exchange.getResponseHeaders().set("Retry-After", "1");
            sendError(exchange, 503, "specbeam: error: the server is busy (one generation running, "
                    + settings.queueCapacity() + " waiting, the most it queues): retry in a moment");
            return;
        }
        try {
            if (stream) {
                stream(exchange, job);
            } else {
                GenerationWorker.Event event = job.next();
                while (event instanceof GenerationWorker.Round) {
                    event = job.next();
                }
                finish(exchange, event);
            }
        } catch (InterruptedException e) {
            job.cancel();
            Thread.currentThread().interrupt();
        }
    }

    /** Sends the final event of a non-streamed request: the result, or the failure with its status. */
    private static void finish(HttpExchange exchange, GenerationWorker.Event event) throws IOException {
        if (event instanceof GenerationWorker.Done done) {
            sendJson(exchange, 200, done.json());
        } else if (event instanceof GenerationWorker.Failed failed) {
            sendError(exchange, failed.status(), failed.message());
        }
    }

    /**
     * Server-sent events. The status line waits for the first event, so a mistake found by the engine (an empty or
     * over-long prompt) is still a 400; once rounds flow, a late failure becomes an {@code error} event.
     */
    private static void stream(HttpExchange exchange, GenerationWorker.Job job) throws IOException, InterruptedException {
        GenerationWorker.Event event = job.next();
        if (event instanceof GenerationWorker.Failed) {
            finish(exchange, event);
            return;
        }
        exchange.getResponseHeaders().set("Content-Type", "text/event-stream; charset=utf-8");
        exchange.getResponseHeaders().set("Cache-Control", "no-store");
        exchange.sendResponseHeaders(200, 0);
        OutputStream body = exchange.getResponseBody();
        try {
            while (true) {
                if (event instanceof GenerationWorker.Round round) {
                    writeEvent(body, "round", round.json().toString());
                } else if (event instanceof GenerationWorker.Done done) {
                    writeEvent(body, "result", done.json().toString());
                    return;
                } else if (event instanceof GenerationWorker.Failed failed) {
                    writeEvent(body, "error", errorJson(failed.message()).toString());
                    return;
                }
                event = job.next();
            }
        } catch (IOException e) {
            job.cancel();   // the client went away: stop generating for nobody
        }
    }

    private static void writeEvent(OutputStream body, String name, String data) throws IOException {
        body.write(("event: " + name + "\ndata: " + data + "\n\n").getBytes(StandardCharsets.UTF_8));
        body.flush();
    }

    /** {@code /api/render}: the prompt of a query rendered and encoded, without generating. */
    private void render(HttpExchange exchange) throws IOException {
        Engine.RenderedPrompt prompt;
        try {
            Map<String, String> opts = options(exchange.getRequestURI());
            for (String key : opts.keySet()) {
                if (!RENDER_OPTIONS.contains(key)) {
                    throw new IllegalArgumentException("/api/render takes prompt or messages and the chat options"
                            + " (chat, system, enable_thinking), not '" + key.substring(2).replace('-', '_') + "'");
                }
            }
            prompt = engine.renderPrompt(promptRequest(opts));
        } catch (IllegalArgumentException e) {
            sendError(exchange, 400, "specbeam: error: " + e.getMessage());
            return;
        }
        ObjectNode json = MAPPER.createObjectNode();
        json.put("rendered", prompt.rendered().text());
        json.put("chat", prompt.rendered().chat());
        json.put("template", prompt.rendered().templateSource());
        ArrayNode ids = json.putArray("ids");
        for (int id : prompt.ids()) {
            ids.add(id);
        }
        sendJson(exchange, 200, json);
    }

    private static final String ONE_PROMPT = "give exactly one of prompt=text, messages=[{\"role\": ..., \"content\": ...}]"
            + " or prompt_ids=5,17,9";

    private static final List<String> RENDER_OPTIONS = List.of("--prompt", "--messages", "--chat", "--raw", "--system",
            "--enable-thinking");

    /** The query as {@code generate} options; {@code chat=true|false} becomes {@code --chat} or {@code --raw}. */
    private static Map<String, String> options(URI uri) {
        Map<String, String> query = query(uri.getRawQuery());
        Map<String, String> opts = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : query.entrySet()) {
            String option = PARAMETERS.get(e.getKey());
            if (option == null) {
                throw new IllegalArgumentException("unknown parameter '" + e.getKey() + "': use "
                        + String.join(", ", PARAMETERS.keySet()));
            }
            if (option.equals("--adaptive") || option.equals("--chat")) {
                if (!e.getValue().equals("true") && !e.getValue().equals("false")) {
                    throw new IllegalArgumentException(e.getKey() + " must be true or false (got '" + e.getValue() + "')");
                }
                if (e.getValue().equals("false")) {
                    if (option.equals("--chat")) {
                        opts.put("--raw", "true");
                    }
                    continue;
                }
            }
            opts.put(option, e.getValue());
        }
        return opts;
    }

    /** The prompt text or conversation of a query, with its chat options (serve's own where the query has none). */
    private PromptRequest promptRequest(Map<String, String> query) {
        Map<String, String> opts = new LinkedHashMap<>(query);
        boolean chatGiven = opts.containsKey("--chat") || opts.containsKey("--raw");
        boolean rawAsked = opts.containsKey("--raw");
        chatDefaults.forEach((key, value) -> {
            boolean isChatSwitch = key.equals("--chat") || key.equals("--raw");
            // serve's --system and --enable-thinking shape templated prompts; a request asking for raw text skips them
            if (isChatSwitch ? !chatGiven : !opts.containsKey(key) && !rawAsked) {
                opts.put(key, value);
            }
        });
        String text = opts.get("--prompt");
        String messages = opts.get("--messages");
        if (text != null && messages != null) {
            throw new IllegalArgumentException(ONE_PROMPT);
        }
        for (String value : new String[] {text, messages}) {
            if (value != null && value.length() > MAX_PROMPT_CHARS) {
                throw new IllegalArgumentException("the prompt has " + value.length() + " characters; this server takes "
                        + "at most " + MAX_PROMPT_CHARS + ": shorten it");
            }
        }
        if (text == null && messages == null) {
            throw new IllegalArgumentException(ONE_PROMPT);
        }
        List<ChatMessage> conversation = null;
        if (messages != null) {
            try {
                conversation = ChatMessage.parse(MAPPER.readTree(messages));
            } catch (JsonProcessingException e) {
                throw new IllegalArgumentException("messages is not JSON: " + e.getOriginalMessage());
            }
        }
        return GenerateOptions.promptRequest(text, conversation, opts);
    }

    /** Turns the query into a validated request, with the {@code generate} command's messages for its mistakes. */
    private GenerationWorker.Request request(URI uri) {
        Map<String, String> opts = options(uri);
        opts.putIfAbsent("--max-new-tokens", String.valueOf(
                Math.min(GenerationConfig.DEFAULT_MAX_NEW_TOKENS, settings.maxNewTokensCap())));
        GenerationConfig config = GenerateOptions.config(opts);
        if (config.maxNewTokens() > settings.maxNewTokensCap()) {
            throw new IllegalArgumentException("max_new_tokens=" + config.maxNewTokens() + " is above this server's cap of "
                    + settings.maxNewTokensCap() + ": ask for fewer (the cap is serve --max-new-tokens-cap)");
        }
        GenerateOptions.requireDraftFor(config, engine.draftManifest() != null);
        String ids = opts.get("--prompt-ids");
        if (ids != null) {
            if (opts.containsKey("--prompt") || opts.containsKey("--messages")) {
                throw new IllegalArgumentException(ONE_PROMPT);
            }
            GenerateOptions.refuseChatOptions(opts, "prompt_ids");
            return new GenerationWorker.Request(config, null, GenerateOptions.ids("--prompt-ids", ids));
        }
        // rendered here, on the request's thread: a template's mistake is this request's 400, before it queues
        Engine.RenderedPrompt prompt = engine.renderPrompt(promptRequest(opts));
        return new GenerationWorker.Request(config, null, GenerateOptions.requireNonEmpty(prompt.ids()));
    }

    private static Map<String, String> query(String raw) {
        Map<String, String> out = new LinkedHashMap<>();
        if (raw == null || raw.isEmpty()) {
            return out;
        }
        for (String pair : raw.split("&")) {
            if (pair.isEmpty()) {
                continue;
            }
            int eq = pair.indexOf('=');
            String key = decode(eq < 0 ? pair : pair.substring(0, eq));
            String value = eq < 0 ? "" : decode(pair.substring(eq + 1));
            if (out.put(key, value) != null) {
                throw new IllegalArgumentException("parameter '" + key + "' is given twice: give it once");
            }
        }
        return out;
    }

    private static String decode(String s) {
        try {
            return URLDecoder.decode(s, StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("the query is not valid URL encoding (" + e.getMessage() + ")");
        }
    }

    private static Map<String, String> parameters() {
        Map<String, String> p = new LinkedHashMap<>();
        for (String name : List.of("mode", "prompt", "prompt_ids", "max_new_tokens", "min_new_tokens", "beam_width", "k",
                "tree_branching", "tree_budget", "adaptive", "length_penalty", "early_stopping", "num_return_sequences",
                "temperature", "top_k", "top_p", "seed", "eos_ids", "messages", "chat", "system", "enable_thinking")) {
            p.put(name, "--" + name.replace('_', '-'));
        }
        return p;
    }

    private ObjectNode info() {
        ObjectNode root = MAPPER.createObjectNode();
        root.set("target", modelJson(engine.targetManifest()));
        if (engine.draftManifest() != null) {
            root.set("draft", modelJson(engine.draftManifest()));
        }
        ArrayNode modes = root.putArray("modes");
        for (Mode mode : Mode.values()) {
            if (!mode.isSpeculative() || engine.draftManifest() != null) {
                modes.add(mode.id());
            }
        }
        root.put("provider", engine.providerUsed().id());
        root.put("kv_cache", engine.kvCacheUsed());
        root.put("max_new_tokens_cap", settings.maxNewTokensCap());
        root.put("max_new_tokens_default", Math.min(GenerationConfig.DEFAULT_MAX_NEW_TOKENS, settings.maxNewTokensCap()));
        root.put("queue_capacity", settings.queueCapacity());
        root.put("chat_template", engine.chatTemplate().map(t -> t.source()).orElse(null));
        ArrayNode prompts = root.putArray("study_prompts");
        studyPrompts.forEach(prompts::add);
        return root;
    }

    private static ObjectNode modelJson(ModelManifest m) {
        ObjectNode node = MAPPER.createObjectNode();
        node.put("architecture", m.architecture());
        node.put("parameters", m.parameters());
        node.put("flops_per_token", m.flopsPerToken());
        node.put("vocab_size", m.vocabSize());
        node.put("max_positions", m.maxPositions());
        node.put("num_layers", m.numLayers());
        return node;
    }

    private static ObjectNode errorJson(String message) {
        return MAPPER.createObjectNode().put("error", message);
    }

    private static void sendError(HttpExchange exchange, int status, String message) throws IOException {
        sendJson(exchange, status, errorJson(message));
    }

    private static void sendJson(HttpExchange exchange, int status, ObjectNode json) throws IOException {
        send(exchange, status, "application/json; charset=utf-8", json.toString().getBytes(StandardCharsets.UTF_8));
    }

    private static void sendResource(HttpExchange exchange, String name, String contentType) throws IOException {
        try (InputStream in = SpecbeamServer.class.getResourceAsStream(name)) {
            if (in == null) {
                sendError(exchange, 500, "specbeam: internal error: the page resource " + name + " is missing from the jar");
                return;
            }
            send(exchange, 200, contentType, in.readAllBytes());
        }
    }

    private static void send(HttpExchange exchange, int status, String contentType, byte[] body) throws IOException {
        exchange.getResponseHeaders().set("Content-Type", contentType);
        exchange.getResponseHeaders().set("Cache-Control", "no-store");
        exchange.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
        }
    }
}
