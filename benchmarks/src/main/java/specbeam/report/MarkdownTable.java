package specbeam.report;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** A GitHub-flavoured Markdown table, built row by row; numbers formatted the same way everywhere. */
final class MarkdownTable {
    static final String NA = "–";

    private final List<String> header;
    private final List<List<String>> rows = new ArrayList<>();

    MarkdownTable(String... header) {
        this.header = List.of(header);
    }

    MarkdownTable row(Object... cells) {
        List<String> r = new ArrayList<>();
        for (Object c : cells) {
            r.add(c == null ? NA : c.toString().replace("|", "\\|"));
        }
        rows.add(r);
        return this;
    }

    boolean isEmpty() {
        return rows.isEmpty();
    }

    String render() {
        StringBuilder sb = new StringBuilder();
        sb.append("| ").append(String.join(" | ", header)).append(" |\n|");
        for (String ignored : header) {
            sb.append(" --- |");
        }
        sb.append('\n');
        for (List<String> r : rows) {
            sb.append("| ").append(String.join(" | ", r)).append(" |\n");
        }
        return sb.toString();
    }

    static String fixed(Double v, int decimals) {
        return v == null || !Double.isFinite(v) ? NA : String.format(Locale.ROOT, "%." + decimals + "f", v);
    }

    static String percent(Double share) {
        return share == null || !Double.isFinite(share) ? NA : String.format(Locale.ROOT, "%.0f%%", 100 * share);
    }

    static String times(Double ratio) {
        return ratio == null || !Double.isFinite(ratio) ? NA : String.format(Locale.ROOT, "%.2fx", ratio);
    }

    static String plusMinus(Double mean, Double ci, int decimals) {
        if (mean == null) {
            return NA;
        }
        return ci == null ? fixed(mean, decimals) : fixed(mean, decimals) + " ± " + fixed(ci, decimals);
    }
}
