package specbeam.model;

import java.util.Arrays;

/**
 * {@link TreeState} on ONNX Runtime: per prompt one cache row ({@link OnnxCacheState} holds the buffers) whose
 * slots hold the nodes of a token tree. Every forward feeds only the new nodes; the mask lets each see its
 * ancestors' slots, and positions are explicit, so slot order carries no meaning. Beams are node ids, so
 * re-choosing beams copies nothing. A dropped node's slot is free at once and the next new node is stored
 * there — the new keys/values are copied out of the forward's output anyway, so reusing a hole costs nothing
 * and no live entry ever moves. The cache grows (by half, copying the used slots once) only when the live
 * nodes and a forward's new ones do not fit.
 */
final class OnnxTreeState extends OnnxCacheState implements TreeState {
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

    OnnxTreeState(OnnxCausalLm model, int rows, int capacity, int maxCapacity, OnnxCausalLm.OrtTimer timer) {
        super(model, rows, Math.max(1, Math.min(capacity, maxCapacity)), timer);
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
        fillInputs(tokens, parents, q);
        LmState.Logits out = run(0, rows, q, fed);
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j < tokens[r].length; j++) {
                int slot = callSlots[r][j];
                storePresent(r, j, q, r, slot, 1);
                slotNode[r][slot] = -1;
            }
            nextId[r] += tokens[r].length;
        }
        timer.kvBytes(slotBytes(fed));
        return out;
    }

    /** Grows the cache (all rows share one stride) when a row's live nodes plus its new ones do not fit. */
    private void makeRoom(int[][] tokens) {
        int need = 0;
        for (int r = 0; r < rows; r++) {
            int count = tokens[r].length;
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
        int width = capacity + q;
        int filler = m.fillerTokenId();
        for (int r = 0; r < rows; r++) {
            int count = tokens[r].length;
            int firstId = nextId[r];
            if (idSlot[r].length < firstId + count) {
                idSlot[r] = Arrays.copyOf(idSlot[r], Math.max(firstId + count, idSlot[r].length * 2));
            }
            for (int j = 0; j < q; j++) {
                int at = r * q + j;
                int base = at * width;
                mask.put(base, hiddenRow, 0, width);
                if (j >= count) {   // padding: sees only itself, its result is ignored
                    inputIds.put(at, filler);
                    positionIds.put(at, 0);
                    mask.put(base + capacity + j, 0f);
                    continue;
                }
                int parentSlot = parentSlot(r, parents[r][j], firstId, j);
                int slot = freeCount[r] > 0 ? free[r][--freeCount[r]] : used[r]++;
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
                for (int a = slot; a >= 0; a = slotParent[r][a]) {
                    int node = slotNode[r][a];
                    if (node >= 0) {
                        mask.put(base + capacity + node, 0f);   // a node of this forward
                    } else if (a < rootChain[r]) {
                        mask.put(base, zeros, 0, a + 1);        // the whole chain above: one bulk write
                        break;
                    } else {
                        mask.put(base + a, 0f);
                    }
                }
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
        for (int s = 0; s < used[row]; s++) {
            if (!flags[s]) {
                free[row][freeCount[row]++] = s;
            }
        }
        if (count == 0) {
            rootChain[row] = 0;
        }
    }
}
