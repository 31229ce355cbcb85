package specbeam.model;

/** A model the strategies can decode with: the ONNX Runtime one, or a fake with fixed logits in tests. */
public interface LanguageModel {

    ModelManifest manifest();

    /** A fresh decoding state of {@code rows} rows holding up to {@code capacity} positions each. */
    LmState newState(int rows, int capacity, OnnxCausalLm.OrtTimer timer);

    /**
     * A fresh tree-structured decoding state: one row per prompt, {@code capacity} cache slots per row to start
     * with, growing up to {@code maxCapacity} slots when compaction cannot make room.
     */
    TreeState newTreeState(int rows, int capacity, int maxCapacity, OnnxCausalLm.OrtTimer timer);
}
