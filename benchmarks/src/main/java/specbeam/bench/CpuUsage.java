package specbeam.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * How busy the rest of the machine is, from {@code /proc}: a snapshot of the machine's busy CPU time and this
 * process's, and from two snapshots the cores other processes kept busy in between. Unlike the 1-minute load
 * average, this is exact for a window of a second or two, so it can be told per benchmark iteration.
 *
 * @param busyTicks  all CPUs' busy time (user, nice, system, irq, softirq, steal) in clock ticks, {@code /proc/stat}
 * @param totalTicks all CPUs' time, idle and iowait included
 * @param selfTicks  this process's user + system time in clock ticks, {@code /proc/self/stat}
 * @param cpus       CPUs counted in {@code /proc/stat}
 */
record CpuUsage(long busyTicks, long totalTicks, long selfTicks, int cpus) {
    private static final CpuUsage UNKNOWN = new CpuUsage(-1, -1, -1, 0);

    /** Now; {@link #UNKNOWN} where {@code /proc} is missing (not Linux). */
    static CpuUsage now() {
        try {
            List<String> stat = Files.readAllLines(Path.of("/proc/stat"));
            String[] cpu = stat.get(0).trim().split("\\s+");
            int cpus = (int) stat.stream().filter(l -> l.matches("cpu\\d+ .*")).count();
            // cpu user nice system idle iowait irq softirq steal [guest guest_nice: already inside user/nice]
            long[] t = new long[8];
            for (int i = 0; i < 8 && i + 1 < cpu.length; i++) {
                t[i] = Long.parseLong(cpu[i + 1]);
            }
            long busy = t[0] + t[1] + t[2] + t[5] + t[6] + t[7];
            long total = busy + t[3] + t[4];
            String self = Files.readString(Path.of("/proc/self/stat"));
            // the command name (field 2) may hold spaces: count fields from its closing parenthesis
            String[] f = self.substring(self.lastIndexOf(')') + 2).trim().split("\\s+");
            long selfTicks = Long.parseLong(f[11]) + Long.parseLong(f[12]); // utime, stime (fields 14, 15)
            return new CpuUsage(busy, total, selfTicks, cpus);
        } catch (IOException | RuntimeException e) {
            return UNKNOWN;
        }
    }

    /**
     * Cores that other processes kept busy, on average, between this snapshot and {@code later}: their share
     * of all CPU time times the number of CPUs. NaN when either snapshot is unknown or no time passed.
     */
    double otherCores(CpuUsage later) {
        if (this == UNKNOWN || later == UNKNOWN || later.totalTicks <= totalTicks) {
            return Double.NaN;
        }
        long others = (later.busyTicks - busyTicks) - (later.selfTicks - selfTicks);
        return Math.max(0, (double) others / (later.totalTicks - totalTicks) * cpus);
    }
}
