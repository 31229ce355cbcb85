package specbeam.report;

import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ReportFileTest {
    private static final String HAND_WRITTEN = """
            # My report

            Analysis written by hand: *keep me*, including `<!-- an ordinary comment -->`.

            ## Speed

            <!-- specbeam:begin speed -->
            old table
            <!-- specbeam:end speed -->

            More hand-written text after the table.
            """;

    @Test
    void replacesOnlyTheTextBetweenMarkers() {
        String updated = ReportFile.update(HAND_WRITTEN, Map.of("speed", "| new | table |"));
        assertThat(updated).contains("| new | table |").doesNotContain("old table");
        assertThat(updated).startsWith("""
                # My report

                Analysis written by hand: *keep me*, including `<!-- an ordinary comment -->`.
                """);
        assertThat(updated).endsWith("""
                <!-- specbeam:end speed -->

                More hand-written text after the table.
                """);
    }

    @Test
    void regeneratingWithTheSameContentChangesNothing() {
        Map<String, String> blocks = new LinkedHashMap<>();
        blocks.put("speed", "| a |\n| --- |\n| 1 |\n");
        blocks.put("quality", "quality table");
        String once = ReportFile.update(HAND_WRITTEN, blocks);
        String twice = ReportFile.update(once, blocks);
        assertThat(twice).isEqualTo(once);
    }

    @Test
    void blocksWithoutMarkersAreAppendedUnderTheirTitle() {
        String updated = ReportFile.update(HAND_WRITTEN, Map.of("speed", "s", "quality", "q"));
        assertThat(updated).contains("More hand-written text after the table.\n\n## Quality\n\n"
                + "<!-- specbeam:begin quality -->\nq\n<!-- specbeam:end quality -->\n");
        assertThat(ReportFile.update(updated, Map.of("speed", "s", "quality", "q"))).isEqualTo(updated);
    }

    @Test
    void blocksNotRegeneratedKeepTheirContent() {
        String text = ReportFile.update(HAND_WRITTEN, Map.of("run", "run facts"));
        String updated = ReportFile.update(text, Map.of("speed", "new"));
        assertThat(updated).contains("run facts").contains("\nnew\n");
    }

    @Test
    void skeletonHasAnEmptyMarkerPairPerBlock() {
        String skeleton = ReportFile.skeleton();
        for (ReportFile.Block b : ReportFile.BLOCKS) {
            assertThat(skeleton).contains(ReportFile.begin(b.name()) + "\n" + ReportFile.end(b.name()));
        }
        ReportFile.check(skeleton);
    }

    @Test
    void brokenMarkersAreReportedWithTheirLine() {
        assertThatThrownBy(() -> ReportFile.update("a\n<!-- specbeam:begin speed -->\nb\n", Map.of("speed", "x")))
                .isInstanceOf(ReportFormatException.class).hasMessageContaining("speed").hasMessageContaining("no");
        assertThatThrownBy(() -> ReportFile.check("<!-- specbeam:end speed -->"))
                .isInstanceOf(ReportFormatException.class).hasMessageContaining("line 1");
        String twice = "<!-- specbeam:begin speed -->\n<!-- specbeam:end speed -->\n"
                + "<!-- specbeam:begin speed -->\n<!-- specbeam:end speed -->\n";
        assertThatThrownBy(() -> ReportFile.check(twice)).hasMessageContaining("appears twice");
        String nested = "<!-- specbeam:begin a -->\n<!-- specbeam:begin b -->\n<!-- specbeam:end b -->\n<!-- specbeam:end a -->";
        assertThatThrownBy(() -> ReportFile.check(nested)).hasMessageContaining("inside block 'a'");
    }
}
