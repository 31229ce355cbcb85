package specbeam.report;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.dataformat.csv.CsvGenerator;
import com.fasterxml.jackson.dataformat.csv.CsvMapper;
import com.fasterxml.jackson.dataformat.csv.CsvParser;
import com.fasterxml.jackson.dataformat.csv.CsvSchema;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** CSV reading and writing with jackson-dataformat-csv; every write is atomic. */
public final class CsvFiles {
    /** Columns in declaration order (CsvMapper sorts alphabetically by default); quoting decided per character. */
    private static final CsvMapper CSV = CsvMapper.builder()
            .disable(MapperFeature.SORT_PROPERTIES_ALPHABETICALLY)
            .enable(CsvGenerator.Feature.STRICT_CHECK_FOR_QUOTING)
            .build();

    private CsvFiles() {
    }

    public static void writeResults(Path file, List<ResultRow> rows) throws IOException {
        AtomicFiles.write(file, toCsv(rows, ResultRow.class));
    }

    public static void writeComparison(Path file, List<ComparisonRow> rows) throws IOException {
        AtomicFiles.write(file, toCsv(rows, ComparisonRow.class));
    }

    /** {@code rounds.csv}: every paired round, with the load during it. */
    public static void writeRounds(Path file, List<RoundRow> rows) throws IOException {
        AtomicFiles.write(file, toCsv(rows, RoundRow.class));
    }

    /** {@code hf_side_by_side.csv}: Hugging Face and specbeam timed in alternation. */
    public static void writeSideBySide(Path file, List<SideBySideRow> rows) throws IOException {
        AtomicFiles.write(file, toCsv(rows, SideBySideRow.class));
    }

    /** Reads a file written by {@link #writeSideBySide}. */
    public static List<SideBySideRow> readSideBySide(Path file) throws IOException {
        CsvSchema schema = CSV.schemaFor(SideBySideRow.class).withHeader();
        try (MappingIterator<SideBySideRow> it = CSV.readerFor(SideBySideRow.class).with(schema)
                .with(CsvParser.Feature.EMPTY_STRING_AS_NULL).readValues(file.toFile())) {
            return it.readAll();
        }
    }

    static <T> String toCsv(List<T> rows, Class<T> type) throws IOException {
        CsvSchema schema = CSV.schemaFor(type).withHeader();
        return CSV.writer(schema).writeValueAsString(rows);
    }

    /** Reads a results CSV written by {@link #writeResults} (to regenerate the report without measuring again). */
    public static List<ResultRow> readResults(Path file) throws IOException {
        CsvSchema schema = CsvSchema.emptySchema().withHeader();
        try (MappingIterator<ResultRow> it = CSV.readerFor(ResultRow.class).with(schema)
                .with(CsvParser.Feature.EMPTY_STRING_AS_NULL)
                .without(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES).readValues(file.toFile())) {
            return it.readAll();
        }
    }

    /**
     * Reads {@code hf_baseline.csv}: only the shared columns are used, extra ones are ignored, empty cells and
     * "nan" become nulls.
     *
     * @throws IOException when the file cannot be read or lacks the shared columns
     */
    public static List<ComparisonRow> readComparison(Path file) throws IOException {
        CsvSchema schema = CsvSchema.emptySchema().withHeader();
        List<ComparisonRow> rows = new ArrayList<>();
        try (MappingIterator<Map<String, String>> it = CSV.readerForMapOf(String.class).with(schema).readValues(file.toFile())) {
            int line = 1;
            while (it.hasNext()) {
                line++;
                Map<String, String> r = it.next();
                for (String required : List.of("engine", "mode", "latency_ms_mean")) {
                    if (!r.containsKey(required)) {
                        throw new IOException(file + " has no '" + required + "' column");
                    }
                }
                try {
                    rows.add(new ComparisonRow(r.get("engine"), r.get("mode"), integer(r.get("k")),
                            integer(r.get("beam_width")), integer(r.get("batch")), r.get("provider"),
                            integer(r.get("max_new_tokens")), decimal(r.get("latency_ms_mean")),
                            decimal(r.get("latency_ms_ci999")), decimal(r.get("tokens_per_s")),
                            decimal(r.get("acceptance_rate")), decimal(r.get("target_forwards_per_token")),
                            integer(r.get("n"))));
                } catch (NumberFormatException e) {
                    throw new IOException(file + " line " + line + ": not a number (" + e.getMessage() + ")");
                }
            }
        }
        return rows;
    }

    static Integer integer(String s) {
        Double d = decimal(s);
        return d == null ? null : (int) Math.round(d);
    }

    static Double decimal(String s) {
        if (s == null || s.isBlank() || s.trim().equalsIgnoreCase("nan") || s.trim().equalsIgnoreCase("none")) {
            return null;
        }
        return Double.parseDouble(s.trim());
    }

    public static boolean exists(Path file) {
        return Files.isRegularFile(file);
    }
}
