package specbeam.tasks;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * One line of a task file ({@code <model dir>/tasks/*.jsonl}, see models/FORMAT.md).
 *
 * @param id           stable name of the item
 * @param text         the prompt as written
 * @param rendered     the prompt after the chat template (or {@code text} when there is none)
 * @param promptIds    token ids of {@code rendered}
 * @param reference    continuation task only: the held-out text that follows, else {@code null}
 * @param referenceIds continuation task only: its token ids, else {@code null}
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record TaskItem(
        @JsonProperty("id") String id,
        @JsonProperty("text") String text,
        @JsonProperty("rendered") String rendered,
        @JsonProperty("prompt_ids") int[] promptIds,
        @JsonProperty("reference") String reference,
        @JsonProperty("reference_ids") int[] referenceIds) {

    public boolean hasReference() {
        return reference != null;
    }
}
