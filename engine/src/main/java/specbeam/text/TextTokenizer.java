package specbeam.text;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import specbeam.model.ModelLoadException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/** Text to token ids and back, through DJL's binding of Hugging Face {@code tokenizers}. */
public final class TextTokenizer implements AutoCloseable {
    private final HuggingFaceTokenizer tokenizer;

    private TextTokenizer(HuggingFaceTokenizer tokenizer) {
        this.tokenizer = tokenizer;
    }

    /** Loads {@code dir/tokenizer.json}; special tokens are not added (prompts are rendered by models/tasks.py). */
    public static TextTokenizer load(Path dir) {
        Path file = dir.resolve("tokenizer.json");
        if (!Files.isRegularFile(file)) {
            throw new ModelLoadException(dir + " has no tokenizer.json (re-export the model with models/export.py)");
        }
        try {
            return new TextTokenizer(HuggingFaceTokenizer.newInstance(file, Map.of(
                    "addSpecialTokens", "false", "padding", "false", "truncation", "false")));
        } catch (IOException | RuntimeException e) {
            throw new ModelLoadException(file + " cannot be read as a Hugging Face tokenizer: " + e.getMessage(), e);
        }
    }

    public int[] encode(String text) {
        Encoding encoding = tokenizer.encode(text, false, false);
        long[] ids = encoding.getIds();
        int[] out = new int[ids.length];
        for (int i = 0; i < ids.length; i++) {
            out[i] = Math.toIntExact(ids[i]);
        }
        return out;
    }

    public String decode(int[] ids) {
        long[] longs = new long[ids.length];
        for (int i = 0; i < ids.length; i++) {
            longs[i] = ids[i];
        }
        return tokenizer.decode(longs, false);
    }

    /** The text of one token, special tokens shown as they are. */
    public String tokenText(int id) {
        return decode(new int[] {id});
    }

    @Override
    public void close() {
        tokenizer.close();
    }
}
