package specbeam.model;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class OrtThreadsTest {
    private static final String[] PROPERTIES = {"specbeam.ort.pool", "specbeam.ort.spin", "specbeam.ort.spinStop",
            "specbeam.ort.draftThreads"};

    @AfterEach
    void clear() {
        for (String p : PROPERTIES) {
            System.clearProperty(p);
        }
    }

    @Test
    void withoutPropertiesTheMeasuredDefaultApplies() {
        assertThat(OrtThreads.current()).isEqualTo(OrtThreads.DEFAULT);
        assertThat(OrtThreads.DEFAULT.spin()).as("spinning loses 5x under load, see README").isFalse();
        assertThat(OrtThreads.DEFAULT.forDraft(2)).isEqualTo(1);
    }

    @Test
    void propertiesOverrideEachPart() {
        System.setProperty("specbeam.ort.pool", "session");
        System.setProperty("specbeam.ort.spin", "true");
        System.setProperty("specbeam.ort.spinStop", "true");
        System.setProperty("specbeam.ort.draftThreads", "0");
        OrtThreads t = OrtThreads.current();
        assertThat(t).isEqualTo(new OrtThreads(false, true, true, 0));
        assertThat(t.forDraft(2)).as("0 = as many as the target").isEqualTo(2);
        assertThat(t.label()).isEqualTo("session+spin+stop");
    }

    @Test
    void badValuesSayWhatIsAllowed() {
        System.setProperty("specbeam.ort.pool", "shared");
        assertThatThrownBy(OrtThreads::current).hasMessageContaining("'global' or 'session'");
        System.clearProperty("specbeam.ort.pool");
        System.setProperty("specbeam.ort.draftThreads", "-1");
        assertThatThrownBy(OrtThreads::current).hasMessageContaining(">= 0");
    }
}
