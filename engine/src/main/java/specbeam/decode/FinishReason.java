package specbeam.decode;

/** Why a returned sequence ended. */
public enum FinishReason {
    /** The sequence ends with an end-of-sequence token. */
    EOS,
    /** {@code maxNewTokens} tokens were generated. */
    LENGTH
}
