package specbeam.model;

import java.util.Arrays;

/**
 * {@link TreeState} on ONNX Runtime: per prompt one cache row ({@link OnnxCacheState} holds the buffers) whose
 * slots hold the nodes of a token tree in the order they were fed. Every forward feeds only the new nodes; the
 * mask lets each see its ancestors' slots. Beams are node ids, so re-choosing beams copies nothing; dropped
 * nodes are compacted away when a row is full, and the cache grows by half when compaction frees less than an
 * eighth of it.
 */
final class OnnxTreeState extends OnnxCacheState implements TreeState {
    private final int maxCapacity;
    private final int[] used;          // per row: slots in use (live or dropped, not compacted yet)
    private final int[] live;          // per row: slots holding retained nodes
    private final int[] nextId;        // per row: id of the next new node
    private final int[] rootChain;     // per row: slots 0..rootChain-1 form a chain that every node descends from
    private int[][] slotParent;        // (rows, capacity): parent slot, -1 for a root
    private int[][] slotDepth;         // (rows, capacity): depth below the root = position id
    private int[][] slotId;            // (rows, capacity): node id held by the slot
    private boolean[][] slotLive;      // (rows, capacity): retained (or an ancestor of a retained node)
    private final int[][] idSlot;      // per row, per id: slot, -1 once compacted away

    OnnxTreeState(OnnxCausalLm model, int rows, int capacity, int maxCapacity, OnnxCausalLm.OrtTimer timer) {
        super(model, rows, Math.min(capacity, maxCapacity), timer);
        if (capacity < 1 || maxCapacity < 1) {
            throw new IllegalArgumentException("a tree state needs at least one slot per row");
        }
        this.maxCapacity = maxCapacity;
        this.used = new int[rows];
        this.live = new int[rows];
        this.nextId = new int[rows];
        this.rootChain = new int[rows];
        this.slotParent = new int[rows][this.capacity];
        this.slotDepth = new int[rows][this.capacity];
        this.slotId = new int[rows][this.capacity];
        this.slotLive = new boolean[rows][this.capacity];
        this.idSlot = new int[rows][64];
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
        if (slot < 0 || !slotLive[row][slot]) {
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
        fillInputs(tokens, parents, q);
        LmState.Logits out = run(0, rows, q, fed);
        long appended = 0;
        for (int r = 0; r < rows; r++) {
            int count = tokens[r].length;
            if (count > 0) {
                storePresent(r, 0, q, r, used[r], count);
                used[r] += count;
                live[r] += count;
                nextId[r] += count;
                appended += count;
            }
        }
        timer.kvBytes(slotBytes(appended));
        return out;
    }

    /**
     * 1. compacts each row that cannot take its new nodes; 2. grows the cache (all rows share one stride) when a
     * row still lacks room or would be left with less than an eighth of the cache free, so compaction stays rare.
     */
    private void makeRoom(int[][] tokens) {
        int need = 0;
        boolean compacted = false;
        for (int r = 0; r < rows; r++) {
            if (used[r] + tokens[r].length > capacity && used[r] > live[r]) {
                compact(r);
                compacted = true;
            }
            need = Math.max(need, used[r] + tokens[r].length);
        }
        if (need > maxCapacity) {
            throw new IllegalStateException("the token tree needs " + need + " cache slots in one row, over its limit of "
                    + maxCapacity + " slots (live nodes plus this forward's new ones): lower the beam width, k or "
                    + "maxNewTokens");
        }
        int slack = compacted ? capacity / 8 : 0;
        if (need + slack > capacity) {
            int grown = Math.min(maxCapacity, Math.max(need + slack, capacity + capacity / 2));
            allocateCache(grown, used);
            slotParent = resize(slotParent, grown);
            slotDepth = resize(slotDepth, grown);
            slotId = resize(slotId, grown);
            boolean[][] liveFlags = new boolean[rows][];
            for (int r = 0; r < rows; r++) {
                liveFlags[r] = Arrays.copyOf(slotLive[r], grown);
            }
            slotLive = liveFlags;
        }
    }

    private int[][] resize(int[][] perRow, int size) {
        int[][] out = new int[rows][];
        for (int r = 0; r < rows; r++) {
            out[r] = Arrays.copyOf(perRow[r], size);
        }
        return out;
    }

    /** Moves the row's live slots down over the dropped ones, keeping their order (parents stay before children). */
    private void compact(int row) {
        int[] parent = slotParent[row];
        int[] remap = new int[used[row]];
        int dst = 0;
        long moved = 0;
        int runFrom = -1;   // a run of live slots src runFrom.. moving to runTo..
        int runTo = -1;
        int runLength = 0;
        for (int src = 0; src < used[row]; src++) {
            if (!slotLive[row][src]) {
                idSlot[row][slotId[row][src]] = -1;
                remap[src] = -1;
                continue;
            }
            remap[src] = dst;
            if (src != dst) {
                if (runLength > 0 && runFrom + runLength == src && runTo + runLength == dst) {
                    runLength++;
                } else {
                    if (runLength > 0) {
                        moveSlots(row, runFrom, runTo, runLength);
                    }
                    runFrom = src;
                    runTo = dst;
                    runLength = 1;
                }
                moved++;
                parent[dst] = parent[src] < 0 ? -1 : remap[parent[src]];
                slotDepth[row][dst] = slotDepth[row][src];
                slotId[row][dst] = slotId[row][src];
                slotLive[row][dst] = true;
                idSlot[row][slotId[row][dst]] = dst;
            }
            dst++;
        }
        if (runLength > 0) {
            moveSlots(row, runFrom, runTo, runLength);
        }
        Arrays.fill(slotLive[row], dst, used[row], false);
        used[row] = dst;
        rootChain[row] = Math.min(rootChain[row], dst);
        timer.kvBytesMoved(slotBytes(moved));
    }

    /** Fills ids, positions and the tree mask; records each new node's slot, parent and depth. */
    private void fillInputs(int[][] tokens, int[][] parents, int q) {
        int width = capacity + q;
        int filler = m.fillerTokenId();
        for (int r = 0; r < rows; r++) {
            int count = tokens[r].length;
            int first = used[r];
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
                int slot = first + j;
                int parentSlot = parentSlot(r, parents[r][j], firstId, j, first);
                slotParent[r][slot] = parentSlot;
                slotDepth[r][slot] = parentSlot < 0 ? 0 : slotDepth[r][parentSlot] + 1;
                slotId[r][slot] = firstId + j;
                slotLive[r][slot] = true;
                idSlot[r][firstId + j] = slot;
                if (parentSlot == slot - 1 && rootChain[r] == slot) {
                    rootChain[r] = slot + 1;        // the chain goes on (the prompt, or one beam alone)
                } else if (parentSlot < rootChain[r] - 1) {
                    rootChain[r] = parentSlot + 1;  // a branch inside the chain: the chain ends above it
                }
                inputIds.put(at, tokens[r][j]);
                positionIds.put(at, Math.min(slotDepth[r][slot], m.maxPositions() - 1));
                for (int a = slot; a >= 0; a = slotParent[r][a]) {
                    if (a < first && a < rootChain[r]) {
                        mask.put(base, zeros, 0, a + 1);   // the whole chain above: one bulk write
                        break;
                    }
                    mask.put(a < first ? base + a : base + capacity + (a - first), 0f);
                }
            }
        }
    }

    private int parentSlot(int row, int parentId, int firstId, int node, int first) {
        if (parentId == -1) {
            return -1;
        }
        if (parentId >= firstId) {
            int earlier = parentId - firstId;
            if (earlier >= node) {
                throw new IllegalArgumentException("node " + node + " of row " + row + " has parent id " + parentId
                        + ", which is not an earlier node of this call: parents must precede children");
            }
            return first + earlier;
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
        if (count == 0) {
            rootChain[row] = 0;
        }
    }
}
