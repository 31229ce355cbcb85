package specbeam.suite;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class ProfileTest {

    @Test
    void pairedWarmupCoversTenCallsPerSideInWholePassesWhateverTheBatch() {
        assertThat(Profile.FULL.pairedWarmupRounds(5)).isEqualTo(2);    // 5 prompts, one per call: 10 calls
        assertThat(Profile.FULL.pairedWarmupRounds(2)).isEqualTo(5);    // batch 4: two calls per pass
        assertThat(Profile.FULL.pairedWarmupRounds(1)).isEqualTo(10);
        assertThat(Profile.FULL.pairedWarmupRounds(4)).isEqualTo(3);    // rounded up: 12 calls
    }

    @Test
    void quickProfileWarmsUpOnePass() {
        assertThat(Profile.QUICK.pairedWarmupRounds(5)).isEqualTo(1);
        assertThat(Profile.QUICK.pairedWarmupRounds(1)).isEqualTo(1);
    }
}
