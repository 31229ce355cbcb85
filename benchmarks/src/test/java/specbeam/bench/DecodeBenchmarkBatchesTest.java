package specbeam.bench;

import org.junit.jupiter.api.Test;
import specbeam.tasks.TaskItem;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;

class DecodeBenchmarkBatchesTest {
    private static final List<TaskItem> FIVE = IntStream.range(0, 5)
            .mapToObj(i -> new TaskItem("p" + i, "", "", new int[] {i}, null, null)).toList();

    @Test
    void everyBatchIsFullAndEveryPromptIsDecodedEquallyOften() {
        for (int batch : new int[] {1, 2, 4, 5, 8}) {
            List<List<int[]>> batches = DecodeBenchmark.partition(FIVE, batch);
            assertThat(batches).as("batch %d", batch).allSatisfy(b -> assertThat(b).hasSize(batch));
            Map<Integer, Integer> uses = new HashMap<>();
            batches.forEach(b -> b.forEach(p -> uses.merge(p[0], 1, Integer::sum)));
            assertThat(uses).as("batch %d", batch).hasSize(5);
            assertThat(uses.values().stream().distinct()).as("batch %d", batch).hasSize(1);
        }
    }

    @Test
    void promptsAreTakenRoundRobin() {
        List<List<int[]>> batches = DecodeBenchmark.partition(FIVE, 4);
        assertThat(batches).hasSize(5);
        assertThat(batches.get(1)).extracting(p -> p[0]).containsExactly(4, 0, 1, 2);
    }

    @Test
    void aPairedPassDecodesEveryPromptWithFullBatchesInAsFewCallsAsTheSuiteCounts() {
        for (int batch : new int[] {1, 2, 4, 5, 8}) {
            List<List<int[]>> pass = DecodeBenchmark.onePass(FIVE, batch);
            assertThat(pass).as("batch %d", batch).hasSize((5 + batch - 1) / batch)
                    .allSatisfy(b -> assertThat(b).hasSize(batch));
            assertThat(pass.stream().flatMap(List::stream).map(p -> p[0]).distinct()).hasSize(5);
        }
    }
}
