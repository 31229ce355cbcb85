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

    /**
     * Speculative beam search only, called right before {@link #round} for the same round: every beam's draft
     * tree and where each new beam came from.
     */
    default void beamRound(int prompt, BeamRound round) {
    }

    /**
     * One round of speculative beam search for one prompt.
     *
     * @param treeTokens    per beam at the round's start, its tree's tokens (node 0 = the beam's pending token)
     * @param treeParents   per beam, each node's parent node (-1 for node 0)
     * @param keptFromBeam  per new beam, the beam whose tree it walked
     * @param keptPath      per new beam, the tree nodes it walked (node 0 first): all target-verified
     * @param nextToken     per new beam, the token the target chose after leaving the tree (the next pending one)
     */
    record BeamRound(int[][] treeTokens, int[][] treeParents, int[] keptFromBeam, int[][] keptPath, int[] nextToken) {
    }
}
