package specbeam.serve;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import specbeam.Engine;
import specbeam.cli.GenerateOptions;
import specbeam.cli.GenerationJson;
import specbeam.decode.GenerationConfig;
import specbeam.decode.GenerationResult;
import specbeam.decode.SpeculationTrace;

import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * Runs generations one at a time on a single thread (the engine is not thread-safe) behind a bounded queue:
 * {@link #submit} refuses a request when one generation runs and {@code queueCapacity} wait already.
 * Every use of the engine, the tokenizer included, happens on that thread.
 */
final class GenerationWorker implements AutoCloseable {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private final Engine engine;
    private final String[] tokenTexts;          // (target vocab) the text of each token id, decoded once
    private final ThreadPoolExecutor executor;  // one thread; queue of queueCapacity waiting generations

    /** One generation: a prompt (text or token ids, exactly one non-null) and a validated configuration. */
    record Request(GenerationConfig config, String promptText, int[] promptIds) {
    }

    /** What a job reports, in order: zero or more rounds, then exactly one {@link Done} or {@link Failed}. */
    sealed interface Event permits Round, Done, Failed {
    }

    /** One speculative round: what the draft proposed for one row and what the target kept and emitted. */
    record Round(ObjectNode json) implements Event {
    }

    /** The {@code generate --json} object with the trace of all rounds. */
    record Done(ObjectNode json) implements Event {
    }

    /** A user mistake (400) or an internal failure (500), with its one-line message. */
    record Failed(int status, String message) implements Event {
    }

    /** A submitted generation; its events arrive as the engine produces them. */
    static final class Job {
        private final BlockingQueue<Event> events = new LinkedBlockingQueue<>();
        private volatile boolean cancelled;

        /** Blocks until the next event. */
        Event next() throws InterruptedException {
            return events.take();
        }

        /** The client went away: the generation stops at its next round. */
        void cancel() {
            cancelled = true;
        }
    }

    /** Thrown from the trace callback to stop a generation whose client has gone. */
    private static final class Cancelled extends RuntimeException {
        Cancelled() {
            super("the client closed the connection", null, false, false);
        }
    }

    GenerationWorker(Engine engine, int queueCapacity) {
        this.engine = engine;
        this.tokenTexts = new String[engine.targetManifest().vocabSize()];
        for (int id = 0; id < tokenTexts.length; id++) {
            tokenTexts[id] = engine.tokenizer().tokenText(id);
        }
        BlockingQueue<Runnable> queue = queueCapacity == 0 ? new SynchronousQueue<>() : new ArrayBlockingQueue<>(queueCapacity);
        this.executor = new ThreadPoolExecutor(1, 1, 0, TimeUnit.MILLISECONDS, queue, r -> {
            Thread t = new Thread(r, "specbeam-generate");
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * Queues a generation.
     *
     * @throws RejectedExecutionException when a generation runs and the queue is full
     */
    Job submit(Request request) {
        Job job = new Job();
        executor.execute(() -> run(request, job));
        return job;
    }

    /** Generations waiting behind the running one. */
    int queued() {
        return executor.getQueue().size();
    }

    private void run(Request request, Job job) {
        try {
            int[] prompt = request.promptIds() != null ? request.promptIds()
                    : GenerateOptions.requireNonEmpty(engine.tokenizer().encode(request.promptText()));
            ArrayNode trace = MAPPER.createArrayNode();
            GenerationResult result = engine.generate(List.of(prompt), request.config(), new SpeculationTrace() {
                private ObjectNode beams;   // speculative beam search: this round's trees, until round() comes

                @Override
                public void beamRound(int row, BeamRound round) {
                    beams = beamsJson(round);
                }

                @Override
                public void round(int row, int[] proposed, int accepted, int[] emitted) {
                    if (job.cancelled) {
                        throw new Cancelled();
                    }
                    ObjectNode round = roundJson(trace.size(), row, proposed, accepted, emitted);
                    if (beams != null) {
                        round.set("beams", beams);
                        beams = null;
                    }
                    trace.add(round);
                    job.events.add(new Round(round));
                }
            });
            ObjectNode json = GenerationJson.of(result, engine.tokenizer(), engine.providerUsed(), engine.kvCacheUsed());
            json.set("trace", trace);
            job.events.add(new Done(json));
        } catch (Cancelled e) {
            job.events.add(new Failed(499, "specbeam: error: " + e.getMessage()));
        } catch (IllegalArgumentException e) {
            job.events.add(new Failed(400, "specbeam: error: " + e.getMessage()));
        } catch (RuntimeException | Error e) {
            job.events.add(new Failed(500, "specbeam: internal error: " + e));
        }
    }

    /**
     * {"round", "row", "proposed", "proposed_text", "accepted", "emitted", "emitted_text"}: for beam search the best
     * new beam's path; speculative beam search adds "beams" ({@link #beamsJson}).
     */
    private ObjectNode roundJson(int round, int row, int[] proposed, int accepted, int[] emitted) {
        ObjectNode node = MAPPER.createObjectNode();
        node.put("round", round);
        node.put("row", row);
        tokens(node, "proposed", proposed);
        node.put("accepted", accepted);
        tokens(node, "emitted", emitted);
        return node;
    }

    /**
     * {"trees": per beam at the round's start {"tokens", "tokens_text", "parents"} (node 0 = its pending token,
     * parent -1), "new_beams": per new beam {"from_beam", "path" (tree nodes walked, node 0 first, all kept),
     * "next", "next_text" (the target's token after leaving the tree)}}.
     */
    private ObjectNode beamsJson(SpeculationTrace.BeamRound round) {
        ObjectNode node = MAPPER.createObjectNode();
        ArrayNode trees = node.putArray("trees");
        for (int b = 0; b < round.treeTokens().length; b++) {
            ObjectNode tree = trees.addObject();
            tokens(tree, "tokens", round.treeTokens()[b]);
            ArrayNode parents = tree.putArray("parents");
            Arrays.stream(round.treeParents()[b]).forEach(parents::add);
        }
        ArrayNode newBeams = node.putArray("new_beams");
        for (int j = 0; j < round.keptFromBeam().length; j++) {
            ObjectNode beam = newBeams.addObject();
            beam.put("from_beam", round.keptFromBeam()[j]);
            ArrayNode path = beam.putArray("path");
            Arrays.stream(round.keptPath()[j]).forEach(path::add);
            beam.put("next", round.nextToken()[j]);
            beam.put("next_text", text(round.nextToken()[j]));
        }
        return node;
    }

    private String text(int id) {
        return id >= 0 && id < tokenTexts.length ? tokenTexts[id] : "";
    }

    private void tokens(ObjectNode node, String name, int[] ids) {
        ArrayNode idArray = node.putArray(name);
        ArrayNode textArray = node.putArray(name + "_text");
        for (int id : ids) {
            idArray.add(id);
            textArray.add(text(id));
        }
    }

    @Override
    public void close() {
        executor.shutdownNow();
        try {
            executor.awaitTermination(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
