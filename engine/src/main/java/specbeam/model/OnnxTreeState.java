package specbeam.model;

import java.nio.FloatBuffer;

import java.util.Arrays;

/**
 * {@link TreeState} on ONNX Runtime: per prompt one cache row ({@link OnnxCacheState} holds the buffers) whose
 * slots hold the nodes of a token tree. Every forward feeds only the new nodes; the mask lets each see its
 * ancestors' slots, and positions are explicit, so slot order carries no meaning. Beams are node ids, so
 * re-choosing beams copies nothing.
 *
 * <p>Where the model has an in-place graph, new nodes are appended after the row's highest used slot, where
 * ONNX Runtime writes their keys/values itself and attention covers only the used slots. Dropped nodes leave
 * holes; a row is compacted in place when its holes reach {@link #COMPACT_HOLES} and half its live nodes, or
 * when new nodes would not fit: the topmost live slots move into the holes, so every slot moved removes a hole,
 * at most one move per node ever appended. Rows get half their requested capacity again as room for holes, so
 * that compaction waits for the threshold instead of being forced early: on the bundled pair at B = 4 this moved
 * 24-27 KB per token instead of 40 (compacting at a quarter in rows without the room), at the same speed, since
 * the holes attention still covers cost less than a few percent of a forward. Without an
 * in-place graph the keys/values are copied out of the forward's outputs anyway, so a dropped node's slot is
 * reused by the next new node and no live entry ever moves. Either way the cache grows (by half, copying the
 * used slots once) only when the live nodes and a forward's new ones do not fit.
 */
final class OnnxTreeState extends OnnxCacheState implements TreeState {
    /** Holes a row tolerates before it is compacted (in place, and at least half its live nodes). */
    static final int COMPACT_HOLES = 16;
    private final int maxCapacity;
    private final int[] used;          // per row: high-water mark of slots in use
    private final int[] live;          // per row: slots holding retained nodes
    private final int[] nextId;        // per row: id of the next new node
    private final int[] rootChain;     // per row: slots 0..rootChain-1 form a chain that every node descends from
    private final int[] freeCount;     // per row: free slots below used
    private int[][] free;              // (rows, capacity): stack of free slots below used
    private int[][] slotParent;        // (rows, capacity): parent slot, -1 for a root
    private int[][] slotDepth;         // (rows, capacity): depth below the root = position id
    private int[][] slotId;            // (rows, capacity): node id held by the slot
    private int[][] slotNode;          // (rows, capacity): node index in the forward being filled, else -1
    private boolean[][] slotLive;      // (rows, capacity): retained (or an ancestor of a retained node)
    private final int[][] idSlot;      // per row, per id: slot, -1 once dropped
    private int[][] callSlots;         // (rows, q): slot of each node of the current forward
    private final int[] callBases;     // per row: used before the current forward (its first appended slot)
    private final int[] callCounts;    // per row: nodes of the current forward

    OnnxTreeState(OnnxCausalLm model, int rows, int capacity, int maxCapacity, OnnxCausalLm.OrtTimer timer) {
        super(model, rows, Math.max(1, Math.min(withRoomForHoles(model, capacity), maxCapacity)), timer);
        if (maxCapacity < 1) {
            throw new IllegalArgumentException("a tree state needs at least one slot per row");
        }
        this.maxCapacity = maxCapacity;
        this.used = new int[rows];
        this.live = new int[rows];
        this.nextId = new int[rows];
        this.rootChain = new int[rows];
        this.freeCount = new int[rows];
        this.free = new int[rows][this.capacity];
        this.slotParent = new int[rows][this.capacity];
        this.slotDepth = new int[rows][this.capacity];
        this.slotId = new int[rows][this.capacity];
        this.slotNode = new int[rows][this.capacity];
        for (int[] row : slotNode) {
            Arrays.fill(row, -1);
        }
        this.slotLive = new boolean[rows][this.capacity];
        this.idSlot = new int[rows][64];
        this.callSlots = new int[rows][8];
        this.callBases = new int[rows];
        this.callCounts = new int[rows];
    }

    /** In-place rows leave dropped slots as holes until compaction: half the requested capacity again for them. */
    private static int withRoomForHoles(OnnxCausalLm model, int capacity) {
        return model.inplaceSession() != null ? capacity + capacity / 2 : capacity;
    }

    @Override
    public int maxCapacity() {
        return maxCapacity;
    }

    @Override
    public int nextId(int row) {
        return nextId[row];
    }

    @Override
    public int liveSlots(int row) {
        return live[row];
    }

    @Override
    public int usedSlots(int row) {
        return used[row];
    }

    @Override
    public int depth(int row, int id) {
        return slotDepth[row][slotOf(row, id)];
    }

    private int slotOf(int row, int id) {
        int slot = id >= 0 && id < nextId[row] ? idSlot[row][id] : -1;
        if (slot < 0 || !slotLive[row][slot] || slotId[row][slot] != id) {
            throw new IllegalArgumentException("node " + id + " of row " + row + " is not a retained node of the tree"
                    + " (ids 0.." + (nextId[row] - 1) + " were given; dropped nodes cannot be extended)");
        }
        return slot;
    }

    @Override
    public LmState.Logits forwardPrompt(int[][] tokens) {
        keepLogitsFrom(lastTokenFrom(tokens));
        try {
            return TreeState.super.forwardPrompt(tokens);
        } finally {
            keepLogitsFrom(0);   // a forward that failed before running leaves no setting behind for the next one
        }
    }

    @Override
    public LmState.Logits forward(int[][] tokens, int[][] parents) {
        if (tokens.length != rows || parents.length != rows) {
            throw new IllegalArgumentException("a tree forward takes tokens and parents for all " + rows + " rows");
        }
        int q = 1;
        int fed = 0;
        for (int r = 0; r < rows; r++) {
            if (parents[r].length != tokens[r].length) {
                throw new IllegalArgumentException("row " + r + " has " + tokens[r].length + " tokens but "
                        + parents[r].length + " parents");
            }
            q = Math.max(q, tokens[r].length);
            fed += tokens[r].length;
        }
        makeRoom(tokens);
        ensureQ(q);
        if (callSlots[0].length < q) {
            callSlots = new int[rows][Math.max(q, 2 * callSlots[0].length)];
        }
        for (int r = 0; r < rows; r++) {
            callBases[r] = used[r];
            callCounts[r] = tokens[r].length;
        }
        planCall(rows, q, callBases);
        fillInputs(tokens, parents, q);
        LmState.Logits out = run(0, rows, q, fed);
        if (inplace) {   // appended: in place already, or copied to the same slots from model.onnx's outputs
            placePresent(0, rows, q, callCounts);
        } else {
            for (int r = 0; r < rows; r++) {
                for (int j = 0; j < tokens[r].length; j++) {
                    storePresent(r, j, q, r, callSlots[r][j], 1);
                }
            }
        }
        timer.kvBytes(slotBytes(fed));   // the new entries, whether ONNX Runtime wrote them in place or we copied
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j < tokens[r].length; j++) {
                slotNode[r][callSlots[r][j]] = -1;
            }
            nextId[r] += tokens[r].length;
        }
        return out;
    }

    /**
     * Compacts rows (in place) and grows the cache (all rows share one stride) when a row's live nodes plus its
     * new ones do not fit.
     */
    private void makeRoom(int[][] tokens) {
        int need = 0;
        for (int r = 0; r < rows; r++) {
            int count = tokens[r].length;
            if (inplace) {
                int holes = used[r] - live[r];
                if (holes > 0 && (used[r] + count > capacity || holes >= Math.max(COMPACT_HOLES, live[r] / 2))) {
                    compact(r);
                }
            }
            need = Math.max(need, used[r] + Math.max(0, count - freeCount[r]));
            if (live[r] + count > maxCapacity) {
                throw new IllegalStateException("the token tree needs " + (live[r] + count) + " cache slots in row "
                        + r + ", over its limit of " + maxCapacity + " slots (live nodes plus this forward's new "
                        + "ones): lower the beam width, k or maxNewTokens");
            }
        }
        if (need <= capacity) {
            return;
        }
        int grown = Math.min(maxCapacity, Math.max(need, capacity + capacity / 2));
        allocateCache(grown, used);
        free = resize(free, grown);
        slotParent = resize(slotParent, grown);
        slotDepth = resize(slotDepth, grown);
        slotId = resize(slotId, grown);
        slotNode = resize(slotNode, grown);
        boolean[][] liveFlags = new boolean[rows][];
        for (int r = 0; r < rows; r++) {
            liveFlags[r] = Arrays.copyOf(slotLive[r], grown);
        }
        slotLive = liveFlags;
    }

    /**
     * Fills a row's holes with its topmost live slots, so that the live nodes take slots {@code 0 .. live-1}: each
     * hole below that line costs one slot moved, the fewest any compaction can move (slot order has no meaning;
     * the prompt's chain at the bottom never moves).
     */
    private void compact(int r) {
        int[] to = new int[used[r]];
        boolean[] isLive = slotLive[r];
        int lo = 0;
        int hi = used[r] - 1;
        long moved = 0;
        for (int s = 0; s < used[r]; s++) {
            to[s] = isLive[s] ? s : -1;
        }
        while (true) {
            while (lo < hi && isLive[lo]) {
                lo++;
            }
            while (hi > lo && !isLive[hi]) {
                hi--;
            }
            if (lo >= hi) {
                break;
            }
            moveSlots(r, hi, lo, 1);
            to[hi] = lo;
            moved++;
            lo++;
            hi--;
        }
        int top = 0;
        for (int s = 0; s < used[r]; s++) {   // writes go to holes or to s itself: no live entry is read after it
            int d = to[s];
            if (d < 0) {
                continue;
            }
            int parent = slotParent[r][s];
            slotParent[r][d] = parent < 0 ? -1 : to[parent];
            slotDepth[r][d] = slotDepth[r][s];
            slotId[r][d] = slotId[r][s];
            idSlot[r][slotId[r][d]] = d;
            top = Math.max(top, d + 1);
        }
        Arrays.fill(isLive, 0, top, true);
        Arrays.fill(isLive, top, used[r], false);
        used[r] = top;
        freeCount[r] = 0;
        timer.kvBytesMoved(slotBytes(moved));
    }

    private int[][] resize(int[][] perRow, int size) {
        int[][] out = new int[rows][];
        for (int r = 0; r < rows; r++) {
            int old = perRow[r].length;
            out[r] = Arrays.copyOf(perRow[r], size);
            if (perRow == slotNode) {
                Arrays.fill(out[r], old, size, -1);
            }
        }
        return out;
    }

    /** Fills ids, positions and the tree mask; gives each new node a slot (a free one first) and its bookkeeping. */
    private void fillInputs(int[][] tokens, int[][] parents, int q) {
        int filler = m.fillerTokenId();
        for (int r = 0; r < rows; r++) {
            int col = newColumn(r);
            int count = tokens[r].length;
            int firstId = nextId[r];
            if (idSlot[r].length < firstId + count) {
                idSlot[r] = Arrays.copyOf(idSlot[r], Math.max(firstId + count, idSlot[r].length * 2));
            }
            for (int j = 0; j < q; j++) {
                int at = r * q + j;
                int base = at * width;
                if (j >= count) {   // padding: sees only itself, its result is ignored
                    inputIds.put(at, filler);
                    positionIds.put(at, 0);
                    markPadding(mask, base, col + j);
                    if (maskSliding != null) {
                        markPadding(maskSliding, base, col + j);
                    }
                    continue;
                }
                int parentSlot = parentSlot(r, parents[r][j], firstId, j);
                int slot = !inplace && freeCount[r] > 0 ? free[r][--freeCount[r]] : used[r]++;
                callSlots[r][j] = slot;
                slotNode[r][slot] = j;
                slotParent[r][slot] = parentSlot;
                slotDepth[r][slot] = parentSlot < 0 ? 0 : slotDepth[r][parentSlot] + 1;
                slotId[r][slot] = firstId + j;
                slotLive[r][slot] = true;
                idSlot[r][firstId + j] = slot;
                if (parentSlot == slot - 1 && rootChain[r] == slot && live[r] == slot) {
                    rootChain[r] = slot + 1;        // the chain goes on (the prompt, or one beam alone)
                } else if (parentSlot < rootChain[r] - 1) {
                    rootChain[r] = parentSlot + 1;  // a branch inside the chain: the chain ends above it
                }
                live[r]++;
                inputIds.put(at, tokens[r][j]);
                positionIds.put(at, Math.min(slotDepth[r][slot], m.maxPositions() - 1));
                markNode(mask, window, base, col, r, slot);
                if (maskSliding != null) {
                    markNode(maskSliding, slidingWindow, base, col, r, slot);
                }
            }
        }
    }

    private void markPadding(FloatBuffer target, int base, int self) {
        target.put(base, hiddenRow, 0, width);
        target.put(base + self, 0f);
    }

    /**
     * The mask row at {@code base} of the node in {@code slot} of row {@code r}: its ancestors' slots (and this
     * forward's nodes among them), those within {@code win} positions (a sliding window; MAX_VALUE for none).
     */
    private void markNode(FloatBuffer target, int win, int base, int col, int r, int slot) {
        target.put(base, hiddenRow, 0, width);
        int firstSeen = slotDepth[r][slot] - win + 1;   // the earliest position the window lets it see
        for (int a = slot; a >= 0 && slotDepth[r][a] >= firstSeen; a = slotParent[r][a]) {
            int node = slotNode[r][a];
            if (node >= 0) {
                target.put(base + col + node, 0f);   // a node of this forward
            } else if (a < rootChain[r]) {
                int from = Math.max(0, firstSeen);  // root-chain slot s holds position s
                target.put(base + from, zeros, 0, a + 1 - from);   // the chain above: one bulk write
                break;
            } else {
                target.put(base + a, 0f);
            }
        }
    }

    private int parentSlot(int row, int parentId, int firstId, int node) {
        if (parentId == -1) {
            return -1;
        }
        if (parentId >= firstId) {
            int earlier = parentId - firstId;
            if (earlier >= node) {
                throw new IllegalArgumentException("node " + node + " of row " + row + " has parent id " + parentId
                        + ", which is not an earlier node of this call: parents must precede children");
            }
            return callSlots[row][earlier];
        }
        return slotOf(row, parentId);
    }

    @Override
    public void retain(int row, int[] ids) {
        int[] slots = new int[ids.length];
        for (int i = 0; i < ids.length; i++) {
            slots[i] = slotOf(row, ids[i]);
        }
        boolean[] flags = slotLive[row];
        Arrays.fill(flags, 0, used[row], false);
        int count = 0;
        for (int s : slots) {
            for (int a = s; a >= 0 && !flags[a]; a = slotParent[row][a]) {
                flags[a] = true;
                count++;
            }
        }
        live[row] = count;
        for (int s = 0; s < used[row]; s++) {
            if (!flags[s]) {
                idSlot[row][slotId[row][s]] = -1;
            }
        }
        // every dropped slot is free; the high-water mark comes down over dropped slots at the top
        while (used[row] > 0 && !flags[used[row] - 1]) {
            used[row]--;
        }
        freeCount[row] = 0;
        for (int s = 0; !inplace && s < used[row]; s++) {   // appended rows are compacted instead
            if (!flags[s]) {
                free[row][freeCount[row]++] = s;
            }
        }
        if (count == 0) {
            rootChain[row] = 0;
        }
    }
}
