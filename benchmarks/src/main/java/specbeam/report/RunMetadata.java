package specbeam.report;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Map;

/**
 * Where and with what a run was made; repeated on every CSV row so that a row stands on its own.
 *
 * @param date            start of the run, ISO-8601 UTC
 * @param cpuModel        {@code /proc/cpuinfo}'s model name (else the OS architecture)
 * @param cores           processors available to the JVM
 * @param jvm             JVM name and version
 * @param ortVersion      ONNX Runtime version
 * @param targetSha256    checksum of the target's model.onnx, from its manifest
 * @param draftSha256     checksum of the draft's model.onnx, from its manifest (empty without a draft)
 * @param jmhSettings     warm-up and measurement settings, e.g. {@code 2 x 2 s warm-up, 7 x 2 s measurement}
 */
public record RunMetadata(String date, String cpuModel, int cores, String jvm, String ortVersion,
                          String targetSha256, String draftSha256, String jmhSettings) {

    /** Collects the machine's facts; checksums come from the manifests' {@code files} maps. */
    public static RunMetadata collect(Instant start, String ortVersion, Map<String, String> targetFiles,
                                      Map<String, String> draftFiles, String jmhSettings) {
        return new RunMetadata(start.truncatedTo(ChronoUnit.SECONDS).toString(), readCpuModel(),
                Runtime.getRuntime().availableProcessors(),
                System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version"),
                ortVersion, checksum(targetFiles), checksum(draftFiles), jmhSettings);
    }

    static String checksum(Map<String, String> files) {
        if (files == null || files.isEmpty()) {
            return "";
        }
        String model = files.get("model.onnx");
        return model != null ? model : String.join(" ", files.values());
    }

    /** The 1-minute load average from {@code /proc/loadavg}, NaN where there is none. */
    public static double readLoadAverage() {
        try {
            return Double.parseDouble(Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+")[0]);
        } catch (IOException | RuntimeException e) {
            return Double.NaN;
        }
    }

    static String readCpuModel() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) {
                    return line.substring(line.indexOf(':') + 1).trim();
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux: fall through
        }
        return System.getProperty("os.arch");
    }
}
