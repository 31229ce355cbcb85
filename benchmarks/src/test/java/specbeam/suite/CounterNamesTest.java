package specbeam.suite;

import org.junit.jupiter.api.Test;
import specbeam.bench.DecodeCounters;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.lang.reflect.RecordComponent;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;

class CounterNamesTest {

    @Test
    void everyJmhCounterHasACounterTotalsComponentOfTheSameName() {
        String[] counters = Arrays.stream(DecodeCounters.class.getFields())
                .filter(f -> !Modifier.isStatic(f.getModifiers())).map(Field::getName).toArray(String[]::new);
        String[] components = Arrays.stream(CounterTotals.class.getRecordComponents())
                .map(RecordComponent::getName).toArray(String[]::new);
        assertThat(counters).containsExactlyInAnyOrder(components);
    }
}
