package specbeam.bench;

import org.junit.jupiter.api.Test;
import org.openjdk.jmh.runner.options.CommandLineOptions;

import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

class JitWarmUpTest {

    @Test
    void forksGetTheJitFlagsUnlessTheUserPrependsTheirOwn() throws Exception {
        assertThat(JmhPointRunner.forkJvmArgsPrepend(new CommandLineOptions()))
                .containsExactly("-XX:CompileThresholdScaling=0.1", "-Xbatch");
        // -jvmArgsAppend leaves them in place (and may override one, coming later on the command line)
        assertThat(JmhPointRunner.forkJvmArgsPrepend(new CommandLineOptions("-jvmArgsAppend", "-Dx=1")))
                .containsExactly(JitWarmUp.COMPILE_SOONER, JitWarmUp.COMPILE_IN_CALLER);
        assertThat(JmhPointRunner.forkJvmArgsPrepend(new CommandLineOptions("-jvmArgsPrepend", "-Xint")))
                .containsExactly("-Xint");
    }

    @Test
    void stopsOnceAWholeWindowPassesWithoutCompilation() {
        AtomicInteger passes = new AtomicInteger();
        // a pass that sleeps compiles nothing: quiet as soon as one 0.2 s window is behind
        double seconds = JitWarmUp.run(() -> {
            passes.incrementAndGet();
            sleep(20);
        }, 30, 0.2, 1e9);
        assertThat(seconds).isBetween(0.2, 5.0);
        assertThat(passes.get()).isGreaterThanOrEqualTo(10);
    }

    @Test
    void givesUpAtTheLongestWarmUpWhenTheJitNeverQuietsDown() {
        // a quiet rate below zero is never reached
        double seconds = JitWarmUp.run(() -> sleep(20), 0.3, 0.1, -1);
        assertThat(seconds).isBetween(0.3, 5.0);
    }

    @Test
    void noWarmUpAtZeroSeconds() {
        AtomicInteger passes = new AtomicInteger();
        assertThat(JitWarmUp.run(passes::incrementAndGet, 0)).isZero();
        assertThat(passes.get()).isZero();
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
