package specbeam.report;

/** Hand-made result rows for tests. */
final class Rows {
    private Rows() {
    }

    static ResultRow greedy() {
        return row("greedy", 0, 1, false, 100.0, null, null, null, 1.0, 0.9);
    }

    static ResultRow speculative() {
        return row("speculative", 4, 1, false, 50.0, "greedy", 2.0, 0.8, 0.35, 0.7);
    }

    static ResultRow row(String mode, int k, int beamWidth, boolean adaptive, double latency, String baseline,
                         Double speedup, Double acceptance, double forwardsPerToken, double ortShare) {
        return row(mode, k, beamWidth, 1, adaptive, latency, baseline, speedup, acceptance, forwardsPerToken, ortShare);
    }

    /**
     * A row of {@code batch} prompts per call; speculative rows (with an acceptance) feed 1 + k tokens per row to a
     * verifying forward and run k one-token draft forwards per round.
     */
    static ResultRow row(String mode, int k, int beamWidth, int batch, boolean adaptive, double latency,
                         String baseline, Double speedup, Double acceptance, double forwardsPerToken, double ortShare) {
        return new ResultRow(ResultRow.ENGINE, mode, k, beamWidth, batch, "cpu", 64, latency, latency * 0.02,
                64_000.0 * batch / latency, acceptance, forwardsPerToken, 5, adaptive, latency * 0.01, 0.02,
                acceptance == null ? null : 2.5, acceptance == null ? null : 1.0 * k, acceptance == null ? null : 1.0 * k,
                ortShare, 1.8, acceptance == null ? null : 0.11, 1024.0, 64.0, 0.0, baseline, speedup, speedup == null ? null : 0.03,
                speedup == null ? null : 0.7, speedup == null ? null : 2.2, speedup == null ? null : 2.1,
                baseline == null ? null : 1.0, baseline == null ? null : 0.0, 9, 3.5, 12.5, 0.4, 0.2, 0.35, 0.8, 0.9,
                null, mode.equals("speculative_beam") ? "0.75/0.50" : null, "2026-01-01T00:00:00Z", "AMD EPYC", 2, "OpenJDK 17", "1.29.0", "cpu", "sha256:t", "sha256:d",
                "2 x 2 s warm-up", 0.1, speedup == null ? null : speedup / 1.03, speedup == null ? null : speedup * 1.03,
                speedup == null ? null : 12, speedup == null ? null : 2,
                speedup == null ? null : speedup / 1.03 > 1 ? "faster" : speedup * 1.03 < 1 ? "slower" : "not a win",
                speedup == null ? null : 1, speedup == null ? null : 0.6,
                acceptance == null ? 1.0 : 1.0 + k, acceptance == null ? null : 1.0 * k,
                acceptance == null ? null : 1.0, 1.0, 2.0, acceptance == null ? null : 2.5,
                acceptance == null ? null : 1.7, "bound", 0.0, 2048.0);
    }
}
