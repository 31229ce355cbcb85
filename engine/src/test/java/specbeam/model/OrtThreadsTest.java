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
        OrtThreads t = OrtThreads.fromProperties();
        assertThat(t.sharedPool()).isTrue();
        assertThat(t.stopSpinning()).as("spinning workers must not take the cores between runs").isTrue();
        assertThat(t.forDraft(2)).isEqualTo(1);
        assertThat(t.spinReason()).startsWith("auto: ");
        assertThat(t.label()).startsWith("global").contains("draft 1 thread (auto: ");
    }

    @Test
    void theAutomaticChoiceReadsOtherProcessesCpuUse() {
        double busy = OrtThreads.otherProcessesBusyCores(100);
        assertThat(busy).as("Linux /proc is readable here").isNotNaN()
                .isBetween(0.0, Runtime.getRuntime().availableProcessors() + 0.5);
        OrtThreads t = OrtThreads.fromProperties();
        assertThat(t.spinReason()).matches("auto: other processes used \\d+\\.\\d\\d cores \\(least of [1-5] x 200 ms\\)");
        // it spins when one of its looks found the cores free
        double least = Double.parseDouble(t.spinReason().replaceAll(".*used (\\S+) cores.*", "$1"));
        assertThat(t.spin()).isEqualTo(least < OrtThreads.AUTO_BUSY_LIMIT);
    }

    @Test
    void propertiesOverrideEachPart() {
        System.setProperty("specbeam.ort.pool", "session");
        System.setProperty("specbeam.ort.spin", "false");
        System.setProperty("specbeam.ort.spinStop", "false");
        System.setProperty("specbeam.ort.draftThreads", "0");
        OrtThreads t = OrtThreads.fromProperties();
        assertThat(t).isEqualTo(new OrtThreads(false, false, false, 0, "-Dspecbeam.ort.spin=false"));
        assertThat(t.forDraft(2)).as("0 = as many as the target").isEqualTo(2);
        assertThat(t.label()).isEqualTo("session (-Dspecbeam.ort.spin=false)");
        System.setProperty("specbeam.ort.spin", "true");
        System.setProperty("specbeam.ort.spinStop", "true");
        assertThat(OrtThreads.fromProperties().label()).isEqualTo("session+spin+stop (-Dspecbeam.ort.spin=true)");
    }

    @Test
    void badValuesSayWhatIsAllowed() {
        System.setProperty("specbeam.ort.pool", "shared");
        assertThatThrownBy(OrtThreads::fromProperties).hasMessageContaining("'global' or 'session'");
        System.clearProperty("specbeam.ort.pool");
        System.setProperty("specbeam.ort.draftThreads", "-1");
        assertThatThrownBy(OrtThreads::fromProperties).hasMessageContaining(">= 0");
        System.clearProperty("specbeam.ort.draftThreads");
        System.setProperty("specbeam.ort.spin", "yes");
        assertThatThrownBy(OrtThreads::fromProperties).hasMessageContaining("'auto', 'true' or 'false'");
    }
}
