package specbeam.metrics;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * sacrebleu's default {@code 13a} tokenisation (mteval-v13a), as in sacrebleu 2.x
 * {@code tokenizer_13a.py} + {@code tokenizer_re.py}, including BLEU's {@code rstrip()} of each segment.
 */
public final class Tokenizer13a {
    // The four substitutions of TokenizerRegexp, in order, with Python's \1 written as $1.
    private static final Pattern SYMBOLS = Pattern.compile("([\\{-\\~\\[-\\` -\\&\\(-\\+\\:-\\@\\/])");
    private static final Pattern PERIOD_COMMA_AFTER_NON_DIGIT = Pattern.compile("([^0-9])([\\.,])");
    private static final Pattern PERIOD_COMMA_BEFORE_NON_DIGIT = Pattern.compile("([\\.,])([^0-9])");
    private static final Pattern DASH_AFTER_DIGIT = Pattern.compile("([0-9])(-)");

    private Tokenizer13a() {
    }

    /** Tokens of one segment, exactly as sacrebleu's BLEU sees them. */
    public static List<String> tokenize(String segment) {
        String line = PythonText.rstrip(segment)
                .replace("<skipped>", "")
                .replace("-\n", "")
                .replace("\n", " ");
        if (line.indexOf('&') >= 0) {
            line = line.replace("&quot;", "\"").replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">");
        }
        line = " " + line + " ";
        line = SYMBOLS.matcher(line).replaceAll(" $1 ");
        line = PERIOD_COMMA_AFTER_NON_DIGIT.matcher(line).replaceAll("$1 $2 ");
        line = PERIOD_COMMA_BEFORE_NON_DIGIT.matcher(line).replaceAll(" $1 $2");
        line = DASH_AFTER_DIGIT.matcher(line).replaceAll("$1 $2 ");
        return PythonText.split(line);
    }

    /** Python's {@code str} whitespace handling, which Java's {@code strip()} and {@code \s} do not match exactly. */
    static final class PythonText {
        private PythonText() {
        }

        /** Python's {@code str.isspace()} for one UTF-16 unit (all Python whitespace lies in the BMP). */
        static boolean isSpace(char c) {
            return Character.isWhitespace(c) || Character.isSpaceChar(c) || c == '\u0085';
        }

        /** {@code str.rstrip()}. */
        static String rstrip(String s) {
            int end = s.length();
            while (end > 0 && isSpace(s.charAt(end - 1))) {
                end--;
            }
            return s.substring(0, end);
        }

        /** {@code str.split()} without arguments: runs of whitespace separate, no empty tokens. */
        static List<String> split(String s) {
            List<String> out = new ArrayList<>();
            int start = -1;
            for (int i = 0; i < s.length(); i++) {
                if (isSpace(s.charAt(i))) {
                    if (start >= 0) {
                        out.add(s.substring(start, i));
                        start = -1;
                    }
                } else if (start < 0) {
                    start = i;
                }
            }
            if (start >= 0) {
                out.add(s.substring(start));
            }
            return out;
        }
    }
}
