package specbeam.projection;

/** A small cost curve with round numbers, for tests of the projection arithmetic. */
public final class SyntheticCurve {
    /** Target t: 10/11/13/17 ms at 1/2/4/8 tokens on one row, 14/15/17/21 on four rows; draft d: 1 ms flat. */
    public static final String JSON = """
            {"device": "Synthetic GPU", "prefix": 512, "ms": {
              "t/r1/q1": 10, "t/r1/q2": 11, "t/r1/q4": 13, "t/r1/q8": 17,
              "t/r4/q1": 14, "t/r4/q2": 15, "t/r4/q4": 17, "t/r4/q8": 21,
              "draft/r1/q1": 1, "draft/r1/q2": 1, "draft/r1/q4": 1, "draft/r1/q8": 1,
              "draft/r4/q1": 1, "draft/r4/q2": 1, "draft/r4/q4": 1, "draft/r4/q8": 1}}
            """;

    private SyntheticCurve() {
    }
}
