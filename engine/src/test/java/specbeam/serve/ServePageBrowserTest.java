package specbeam.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.Select;
import org.openqa.selenium.support.ui.WebDriverWait;
import specbeam.Engine;
import specbeam.EngineOptions;
import specbeam.TestModels;

import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The demo page in headless Chromium (Debian's {@code chromium} and {@code chromium-driver}; Selenium is pointed at
 * {@code /usr/bin/chromedriver}, so Selenium Manager never downloads a driver). Tagged {@code browser}: it runs with
 * {@code mvn test -Pbrowser}, which {@code .ci/run} passes after installing chromium, and it fails (never skips)
 * when chromium is missing. Saves {@code engine/target/serve.png} (the README's {@code docs/serve.png}).
 */
@Tag("browser")
class ServePageBrowserTest {
    private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    private static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
    private static final String STUDY_PROMPT = "def fibonacci(n):";

    private static Engine engine;
    private static SpecbeamServer server;
    private static ChromeDriver browser;

    @BeforeAll
    static void start() {
        if (!Files.isExecutable(CHROMIUM) || !Files.isExecutable(CHROMEDRIVER)) {
            fail("the browser test needs " + CHROMIUM + " and " + CHROMEDRIVER
                    + ": apt-get install chromium chromium-driver (.ci/run does), or run mvn test without -Pbrowser");
        }
        engine = Engine.open(EngineOptions.of(TestModels.pairTarget(), TestModels.pairDraft()));
        server = SpecbeamServer.start(engine, new SpecbeamServer.Settings("127.0.0.1", 0, 128, 2),
                List.of(STUDY_PROMPT, "class Stack:"));
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        // --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start
        options.addArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1400,1700", "--hide-scrollbars");
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(CHROMEDRIVER.toFile()).usingAnyFreePort().build();
        browser = new ChromeDriver(service, options);
    }

    @AfterAll
    static void stop() {
        if (browser != null) {
            browser.quit();
        }
        if (server != null) {
            server.close();
        }
        if (engine != null) {
            engine.close();
        }
    }

    @Test
    void speculativeBeamSearchShowsTheBeamsTheApiReturnsAndTheyEqualTheBaseline() throws Exception {
        browser.get(server.url());
        WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(180));
        wait.until(d -> d.findElement(By.id("models")).getText().startsWith("target:"));

        new Select(browser.findElement(By.id("examples"))).selectByValue(STUDY_PROMPT);
        new Select(browser.findElement(By.id("mode"))).selectByValue("speculative_beam");
        setNumber("beam_width", 4);
        setNumber("k", 3);
        setNumber("max_new_tokens", 40);
        WebElement compare = browser.findElement(By.id("compare"));
        if (!compare.isSelected()) {
            compare.click();
        }
        clickGenerateAndWait(wait);   // the first run after start warms the JIT up ...
        clickGenerateAndWait(wait);   // ... so the times on the page (and in the screenshot) are the warm ones

        JsonNode api = api("mode=speculative_beam&beam_width=4&num_return_sequences=4&k=3&max_new_tokens=40"
                + "&length_penalty=1.0&early_stopping=false&prompt=" + URLEncoder.encode(STUDY_PROMPT, StandardCharsets.UTF_8));
        List<WebElement> beams = browser.findElements(By.cssSelector("#output .beam"));
        assertThat(beams).hasSize(4);
        List<String> shownTokens = new ArrayList<>();
        List<String> shownTexts = new ArrayList<>();
        for (WebElement beam : beams) {
            shownTokens.add(beam.getDomAttribute("data-tokens"));
            shownTexts.add(beam.findElement(By.className("beam-text")).getDomProperty("textContent"));
        }
        List<String> apiTokens = new ArrayList<>();
        List<String> apiTexts = new ArrayList<>();
        for (int i = 0; i < api.get("sequences").size(); i++) {
            List<String> ids = new ArrayList<>();
            api.get("sequences").get(i).forEach(t -> ids.add(t.asText()));
            apiTokens.add(String.join(",", ids));
            apiTexts.add(api.get("texts").get(i).asText());
        }
        assertThat(shownTokens).containsExactlyElementsOf(apiTokens);
        assertThat(shownTexts).containsExactlyElementsOf(apiTexts);
        assertThat(browser.findElements(By.cssSelector("#rounds li.round"))).hasSize(api.get("trace").size());
        assertThat(browser.findElements(By.cssSelector("#rounds .tok.kept"))).isNotEmpty();
        assertTreesShowTheApisTrees(api.get("trace"));

        WebElement verdict = browser.findElement(By.id("verdict"));
        assertThat(verdict.getDomAttribute("class")).contains("same");
        assertThat(verdict.getText()).startsWith("✓ identical outputs");
        assertThat(browser.findElement(By.id("compare-result")).getText()).contains("speculative_beam").contains("beam");

        browser.executeScript("window.scrollTo(0, 0)");   // the rounds scrolled the page while they arrived
        Path shot = Path.of("target", "serve.png");
        Files.write(shot, browser.getScreenshotAs(OutputType.BYTES));
        assertThat(Files.size(shot)).isPositive();
    }

    /**
     * Every round shows the B draft trees of the API's trace: per tree its nodes (kept where some new beam walked
     * them, rejected elsewhere, the root apart) and one target token per new beam that walked it.
     */
    private static void assertTreesShowTheApisTrees(JsonNode trace) {
        List<WebElement> rounds = browser.findElements(By.cssSelector("#rounds li.round"));
        for (int r = 0; r < trace.size(); r++) {
            JsonNode beams = trace.get(r).get("beams");
            List<WebElement> trees = rounds.get(r).findElements(By.cssSelector(".trees > .tree"));
            assertThat(trees).as("round %d", r).hasSize(beams.get("trees").size());
            for (int b = 0; b < trees.size(); b++) {
                JsonNode tree = beams.get("trees").get(b);
                Set<Integer> kept = new HashSet<>();
                int walkers = 0;
                for (JsonNode beam : beams.get("new_beams")) {
                    if (beam.get("from_beam").asInt() == b) {
                        beam.get("path").forEach(node -> kept.add(node.asInt()));
                        walkers++;
                    }
                }
                kept.remove(0);
                WebElement shown = trees.get(b);
                String where = "round " + r + ", beam " + b;
                assertThat(shown.findElements(By.cssSelector(".tok.root"))).as(where).hasSize(1);
                assertThat(shown.findElements(By.cssSelector(".tok.kept"))).as(where).hasSize(kept.size());
                assertThat(shown.findElements(By.cssSelector(".tok.rejected"))).as(where)
                        .hasSize(tree.get("tokens").size() - 1 - kept.size());
                assertThat(shown.findElements(By.cssSelector(".tok.target"))).as(where).hasSize(walkers);
            }
        }
    }

    private static void clickGenerateAndWait(WebDriverWait wait) {
        browser.findElement(By.id("run")).click();
        try {
            wait.until(d -> !d.findElement(By.id("status")).getDomAttribute("data-state").equals("running")
                    && !d.findElement(By.id("status")).getDomAttribute("data-state").equals("idle")
                    && d.findElement(By.id("run")).isEnabled());
        } catch (org.openqa.selenium.TimeoutException e) {
            fail("the page showed no result: status " + browser.findElement(By.id("status")).getText());
        }
        assertThat(browser.findElement(By.id("status")).getDomAttribute("data-state"))
                .as(browser.findElement(By.id("status")).getText()).isEqualTo("done");
    }

    private static void setNumber(String id, int value) {
        WebElement input = browser.findElement(By.id(id));
        input.clear();
        input.sendKeys(String.valueOf(value));
    }

    private static JsonNode api(String query) throws Exception {
        HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + server.port() + "/api/generate?" + query)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        return new ObjectMapper().readTree(response.body());
    }
}
