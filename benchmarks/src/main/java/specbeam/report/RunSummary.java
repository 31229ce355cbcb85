package specbeam.report;

import java.util.List;

/**
 * Facts of a whole run that are not per row.
 *
 * @param profile     grid profile name (full, quick)
 * @param command     how the run was started
 * @param wallSeconds wall time of the whole run (measurement and quality)
 * @param failures    points that could not be measured, with the reason
 * @param notes       grid notes (merged or added points)
 */
public record RunSummary(String profile, String command, double wallSeconds, List<String> failures, List<String> notes) {
}
