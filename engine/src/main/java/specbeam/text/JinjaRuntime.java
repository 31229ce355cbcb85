package specbeam.text;

import org.graalvm.polyglot.Context;
import org.graalvm.polyglot.PolyglotException;
import org.graalvm.polyglot.Source;
import org.graalvm.polyglot.Value;

import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Reader;
import java.nio.charset.StandardCharsets;

/**
 * Hugging Face's JavaScript Jinja ({@code @huggingface/jinja} 0.5.13, the renderer of transformers.js, MIT licence,
 * vendored as {@code resources/specbeam/text/jinja/hf-jinja-0.5.13.mjs}) running in GraalJS.
 *
 * <p>Why not a Java Jinja: Jinjava 2.8.2, the kept one on Maven Central, cannot render Qwen3's template
 * (measured on 2026-12-07: {@code namespace(a=1, b=messages|length - 1)} fails to coerce, {@code messages[::-1]} is a
 * syntax error, {@code str.lstrip/rstrip/startswith} do not exist and {@code {{-}} keeps the indentation before it;
 * its {@code LegacyOverrides.ALL} then stops parsing the template at all). {@code @huggingface/jinja} is written for
 * exactly these templates (trim_blocks and lstrip_blocks as transformers sets them, Python string methods, slicing,
 * namespace, tojson, raise_exception) and the fixtures of models/chat_templates.py hold it to transformers' output.
 *
 * <p>One JavaScript context serves the process: contexts are single-threaded, so every call holds this object's
 * lock (a warm render takes 1-6 ms in GraalJS's interpreter; the first one in a process about 1.2 s, loading
 * the module: results/tokenizers.json). The context has no host access: a template sees the JSON it is given and nothing else,
 * like transformers' sandboxed environment.
 */
final class JinjaRuntime {
    private static final String MODULE = "/specbeam/text/jinja/hf-jinja-0.5.13.mjs";
    private static JinjaRuntime instance;

    private final Context context;
    /** {@code compile(text) -> Template}. */
    private final Value compile;
    /** {@code render(template, contextJson) -> string}. */
    private final Value render;

    private JinjaRuntime() {
        context = Context.newBuilder("js")
                .allowExperimentalOptions(true)
                .option("engine.WarnInterpreterOnly", "false")
                .option("js.esm-eval-returns-exports", "true")
                .build();
        Value module;
        try (InputStream in = JinjaRuntime.class.getResourceAsStream(MODULE)) {
            if (in == null) {
                throw new IllegalStateException(MODULE + " is missing from the jar");
            }
            try (Reader reader = new InputStreamReader(in, StandardCharsets.UTF_8)) {
                module = context.eval(Source.newBuilder("js", reader, "hf-jinja.mjs")
                        .mimeType("application/javascript+module").build());
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + MODULE + ": " + e.getMessage(), e);
        }
        // raise_exception is the library's own global: it throws an Error whose message is the template's text
        Value glue = context.eval("js", """
                (function (mod) {
                  return {
                    compile: (text) => new mod.Template(text),
                    render: (template, json) => template.render(JSON.parse(json)),
                  };
                })""").execute(module);
        compile = glue.getMember("compile");
        render = glue.getMember("render");
    }

    static synchronized JinjaRuntime get() {
        if (instance == null) {
            instance = new JinjaRuntime();
        }
        return instance;
    }

    /** Parses a template; a syntax error surfaces as a {@link PolyglotException}. */
    synchronized Value compile(String templateText) {
        return compile.execute(templateText);
    }

    /** Renders a compiled template with the variables of {@code variablesJson} (a JSON object). */
    synchronized String render(Value template, String variablesJson) {
        return render.execute(template, variablesJson).asString();
    }
}
