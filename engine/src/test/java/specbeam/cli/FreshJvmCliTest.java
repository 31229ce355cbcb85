package specbeam.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import specbeam.TestModels;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.StringJoiner;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The CLI in a child JVM, for what only a fresh process shows. Issue 28: {@code generate --prompt-ids} with
 * ~1,000 ids killed the JVM with SIGSEGV before any model loaded: ONNX Runtime 1.29's telemetry client matched
 * regexes against the command line and overflowed the stack ({@code OrtTelemetry}). That needs a long command
 * line and none of the CI variables that also switch the client off (CI sets {@code CI=true}). And a JVM whose
 * direct-memory limit is too small for the KV cache must say so instead of dying.
 */
class FreshJvmCliTest {
    /** Variables under which ONNX Runtime never starts its telemetry client: the child must see none of them. */
    private static final List<String> TELEMETRY_OFF_VARIABLES = List.of("ORT_DISABLE_TELEMETRY", "ORT_RUNNING_UNIT_TESTS",
            "CI", "TF_BUILD", "GITHUB_ACTIONS", "GITLAB_CI", "CIRCLECI", "TRAVIS", "JENKINS_URL", "CODEBUILD_BUILD_ID",
            "BUILDKITE", "TEAMCITY_VERSION", "APPVEYOR", "BITBUCKET_BUILD_NUMBER", "SYSTEM_TEAMFOUNDATIONCOLLECTIONURI");

    @Test
    void beamSearchOnAThousandTokenPromptGivenOnTheCommandLineDoesNotCrash(@TempDir Path home) throws Exception {
        StringJoiner ids = new StringJoiner(",");
        Random random = new Random(28);
        for (int i = 0; i < 1000; i++) {
            ids.add(Integer.toString(3 + random.nextInt(4000)));
        }
        assertThat(ids.length()).as("a command line past the ~4 KB that crashed").isGreaterThan(4000);
        String target = TestModels.pairTarget().toString();
        Child child = runCli(home, List.of(), "generate", "--target", target, "--mode", "beam", "--beam-width", "4",
                "--max-new-tokens", "4", "--prompt-ids", ids.toString(), "--json");

        assertThat(child.code()).as("exit status (139 = SIGSEGV); stderr: %s", child.err()).isZero();
        JsonNode json = new ObjectMapper().readTree(child.out());
        assertThat(json.get("sequences").get(0).size()).isEqualTo(1004);
        assertThat(home.resolve(".cache/Microsoft")).as("ONNX Runtime's telemetry cache").doesNotExist();
    }

    @Test
    void aDirectMemoryLimitTooSmallForTheCacheIsOneClearError(@TempDir Path home) throws Exception {
        // direct buffers (-Dspecbeam.kv=host): the bound cache lives in ONNX Runtime's memory, outside this limit
        Child child = runCli(home, List.of("-XX:MaxDirectMemorySize=4m", "-Dspecbeam.kv=host"), "generate", "--target",
                TestModels.pairTarget().toString(), "--mode", "beam", "--beam-width", "4", "--max-new-tokens", "900",
                "--prompt-ids", "5,17,9", "--json");

        assertThat(child.code()).as("stderr: %s", child.err()).isEqualTo(2);
        assertThat(child.out()).isEmpty();
        assertThat(child.err().strip()).startsWith("specbeam: error: ").contains("direct-memory limit is 4 MiB")
                .contains("-XX:MaxDirectMemorySize").doesNotContain("\n").doesNotContain("Exception");
    }

    @Test
    void aBoundCacheLimitTooSmallForTheCacheIsOneClearError(@TempDir Path home) throws Exception {
        Child child = runCli(home, List.of("-Dspecbeam.kv=bound", "-Dspecbeam.kv.maxBytes=1m"), "generate", "--target",
                TestModels.pairTarget().toString(), "--mode", "beam", "--beam-width", "4", "--max-new-tokens", "900",
                "--prompt-ids", "5,17,9", "--json");

        assertThat(child.code()).as("stderr: %s", child.err()).isEqualTo(2);
        assertThat(child.out()).isEmpty();
        assertThat(child.err().strip()).startsWith("specbeam: error: ").contains("limit of 1 MiB")
                .contains("-Dspecbeam.kv.maxBytes").doesNotContain("\n").doesNotContain("Exception");
    }

    private record Child(int code, String out, String err) {
    }

    /** The CLI in a fresh JVM on this test's classpath, with HOME in a temporary folder. */
    private static Child runCli(Path home, List<String> jvmOptions, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.addAll(jvmOptions);
        command.add(SpecbeamCli.class.getName());
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command);
        Map<String, String> env = builder.environment();
        TELEMETRY_OFF_VARIABLES.forEach(env::remove);
        env.put("HOME", home.toString());
        Path out = home.resolve("stdout.txt");
        Path err = home.resolve("stderr.txt");
        Process process = builder.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        if (!process.waitFor(180, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("the CLI did not finish in 180 s");
        }
        return new Child(process.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                Files.readString(err, StandardCharsets.UTF_8));
    }
}
