package specbeam.decode;

/** Receives, for speculative modes, what the draft proposed and what the target kept (for the ✓/✗ trace). */
public interface SpeculationTrace {

    /**
     * One verification round of one prompt.
     *
     * @param prompt   index of the prompt in the batch
     * @param proposed draft tokens along the path that was checked (greedy/sampling: the draft sequence;
     *                 beam: the best beam's path through the tree)
     * @param accepted how many leading {@code proposed} tokens the target kept
     * @param emitted  tokens the target appended this round (accepted ones plus its correction or bonus)
     */
    void round(int prompt, int[] proposed, int accepted, int[] emitted);
}
