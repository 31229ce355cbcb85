package specbeam.model;

/** A model the strategies can decode with: the ONNX Runtime one, or a fake with fixed logits in tests. */
public interface LanguageModel {

    ModelManifest manifest();

    /** A fresh decoding state of {@code rows} rows holding up to {@code capacity} positions each. */
    LmState newState(int rows, int capacity, OnnxCausalLm.OrtTimer timer);
}
