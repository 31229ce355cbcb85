package specbeam.decode;

/**
 * One returned sequence.
 *
 * @param tokens       prompt followed by the generated tokens (as Hugging Face returns them, without padding)
 * @param promptLength number of leading prompt tokens in {@code tokens}
 * @param score        beam modes: Hugging Face's length-penalised score; other modes: sum of the target's
 *                     log-probabilities of the generated tokens (unwarped)
 * @param finishReason why it ended
 */
public record GeneratedSequence(int[] tokens, int promptLength, double score, FinishReason finishReason) {

    public int[] generated() {
        return java.util.Arrays.copyOfRange(tokens, promptLength, tokens.length);
    }

    public int generatedLength() {
        return tokens.length - promptLength;
    }
}
