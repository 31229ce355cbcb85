package specbeam.metrics;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * The Java metrics against values computed in Python by {@code models/metric_fixtures.py}
 * (sacrebleu for BLEU; rouge-score, or its documented transcription, for ROUGE).
 */
class MetricFixturesTest {
    private static final double TOLERANCE = 1e-9;
    private static JsonNode fixtures;

    @BeforeAll
    static void load() throws IOException {
        try (InputStream in = MetricFixturesTest.class.getResourceAsStream("/metric_fixtures.json")) {
            assertThat(in).as("metric_fixtures.json on the test classpath").isNotNull();
            fixtures = new ObjectMapper().readTree(in);
        }
    }

    @Test
    void tokenizer13aSplitsLikeSacrebleu() {
        for (JsonNode c : fixtures.get("tokenize_13a")) {
            assertThat(Tokenizer13a.tokenize(c.get("text").asText()))
                    .as("13a tokens of %s", c.get("text"))
                    .containsExactlyElementsOf(strings(c.get("tokens")));
        }
    }

    @Test
    void sentenceBleuMatchesSacrebleuOnEveryPair() {
        for (JsonNode pair : fixtures.get("pairs")) {
            BleuScore bleu = Bleu.sentence(pair.get("hypothesis").asText(), List.of(pair.get("reference").asText()));
            assertBleu(bleu, pair.get("sentence_bleu"), pair.get("hypothesis").asText());
        }
    }

    @Test
    void corpusBleuMatchesSacrebleu() {
        List<String> hyps = new ArrayList<>();
        List<List<String>> refs = new ArrayList<>();
        for (JsonNode pair : fixtures.get("pairs")) {
            hyps.add(pair.get("hypothesis").asText());
            refs.add(List.of(pair.get("reference").asText()));
        }
        assertBleu(Bleu.corpus(hyps, refs), fixtures.get("corpus_bleu"), "corpus");
    }

    @Test
    void corpusBleuWithSeveralReferencesUsesClosestLengthAndMaxCounts() {
        JsonNode multi = fixtures.get("multi_ref");
        List<List<String>> refs = new ArrayList<>();
        multi.get("references").forEach(r -> refs.add(strings(r)));
        assertBleu(Bleu.corpus(strings(multi.get("hypotheses")), refs), multi.get("corpus_bleu"), "multi-ref");
    }

    @Test
    void rougeMatchesRougeScoreOnEveryPair() {
        for (JsonNode pair : fixtures.get("pairs")) {
            Rouge.Scores s = Rouge.score(pair.get("reference").asText(), pair.get("hypothesis").asText());
            JsonNode expected = pair.get("rouge");
            String what = pair.get("hypothesis").asText();
            assertPrf(s.rouge1(), expected.get("rouge1"), "rouge1 " + what);
            assertPrf(s.rouge2(), expected.get("rouge2"), "rouge2 " + what);
            assertPrf(s.rougeL(), expected.get("rougeL"), "rougeL " + what);
        }
    }

    @Test
    void distinctNPoolsNgramsOverSequences() {
        JsonNode d = fixtures.get("distinct");
        List<int[]> seqs = new ArrayList<>();
        d.get("sequences").forEach(s -> {
            int[] ids = new int[s.size()];
            for (int i = 0; i < ids.length; i++) {
                ids[i] = s.get(i).asInt();
            }
            seqs.add(ids);
        });
        assertThat(Diversity.distinct(seqs, 1)).isCloseTo(d.get("distinct1").asDouble(), within(TOLERANCE));
        assertThat(Diversity.distinct(seqs, 2)).isCloseTo(d.get("distinct2").asDouble(), within(TOLERANCE));
    }

    @Test
    void selfBleuAveragesSentenceBleuAgainstTheOthers() {
        for (JsonNode c : fixtures.get("self_bleu")) {
            assertThat(Diversity.selfBleu(strings(c.get("texts"))))
                    .as("self-BLEU of %s", c.get("texts"))
                    .isCloseTo(c.get("self_bleu").asDouble(), within(1e-7));
        }
    }

    @Test
    void perplexityPoolsLogProbsOverSequences() {
        JsonNode p = fixtures.get("perplexity");
        List<double[]> lps = new ArrayList<>();
        p.get("log_probs").forEach(s -> {
            double[] v = new double[s.size()];
            for (int i = 0; i < v.length; i++) {
                v[i] = s.get(i).asDouble();
            }
            lps.add(v);
        });
        assertThat(Perplexity.of(lps)).isCloseTo(p.get("perplexity").asDouble(), within(1e-9));
    }

    @Test
    void emptyInputsGiveZeroOrNaNRatherThanErrors() {
        assertThat(Bleu.corpus(List.of(""), List.of(List.of(""))).score()).isZero();
        assertThat(Rouge.score("", "anything").rougeL().f1()).isZero();
        assertThat(Diversity.distinct(List.of(new int[0]), 2)).isZero();
        assertThat(Diversity.selfBleu(List.of("only one"))).isNaN();
        assertThat(Perplexity.of(List.of())).isNaN();
    }

    private static void assertBleu(BleuScore actual, JsonNode expected, String what) {
        assertThat(actual.sysLen()).as("sys_len of %s", what).isEqualTo(expected.get("sys_len").asLong());
        assertThat(actual.refLen()).as("ref_len of %s", what).isEqualTo(expected.get("ref_len").asLong());
        for (int n = 0; n < Bleu.MAX_ORDER; n++) {
            assertThat(actual.counts()[n]).as("%d-gram matches of %s", n + 1, what)
                    .isEqualTo(expected.get("counts").get(n).asLong());
            assertThat(actual.totals()[n]).as("%d-gram totals of %s", n + 1, what)
                    .isEqualTo(expected.get("totals").get(n).asLong());
            assertThat(actual.precisions()[n]).as("%d-gram precision of %s", n + 1, what)
                    .isCloseTo(expected.get("precisions").get(n).asDouble(), within(TOLERANCE));
        }
        assertThat(actual.bp()).as("brevity penalty of %s", what).isCloseTo(expected.get("bp").asDouble(), within(TOLERANCE));
        assertThat(actual.score()).as("BLEU of %s", what).isCloseTo(expected.get("score").asDouble(), within(1e-7));
    }

    private static void assertPrf(Rouge.Prf actual, JsonNode expected, String what) {
        assertThat(actual.precision()).as("precision of %s", what).isCloseTo(expected.get("precision").asDouble(), within(TOLERANCE));
        assertThat(actual.recall()).as("recall of %s", what).isCloseTo(expected.get("recall").asDouble(), within(TOLERANCE));
        assertThat(actual.f1()).as("F1 of %s", what).isCloseTo(expected.get("f1").asDouble(), within(TOLERANCE));
    }

    private static List<String> strings(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }
}
