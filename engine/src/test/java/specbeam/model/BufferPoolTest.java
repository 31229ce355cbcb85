package specbeam.model;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import static org.assertj.core.api.Assertions.assertThat;

class BufferPoolTest {

    @Test
    void aBufferHandedBackServesTheNextTakeZeroFilled() {
        BufferPool pool = new BufferPool();
        ByteBuffer first = pool.take(1 << 20);
        assertThat(first.capacity()).isEqualTo(1 << 20);
        assertThat(first.isDirect()).isTrue();
        assertThat(first.order()).isEqualTo(ByteOrder.nativeOrder());
        for (int i = 0; i < first.capacity(); i += 4) {
            first.putFloat(i, 7.5f);   // what a KV cache leaves behind
        }
        pool.give(first);
        assertThat(pool.idleBytes()).isEqualTo(1 << 20);

        ByteBuffer second = pool.take(3 << 18);   // smaller, within 2x: the same memory, zeroed
        assertThat(pool.idleBytes()).isZero();
        assertThat(second.capacity()).isEqualTo(3 << 18);
        for (int i = 0; i < second.capacity(); i += 4) {
            assertThat(second.getFloat(i)).isZero();
        }
    }

    @Test
    void aMuchLargerIdleBufferIsNotUsedForASmallRequest() {
        BufferPool pool = new BufferPool();
        pool.give(pool.take(1 << 20));
        ByteBuffer small = pool.take(1024);
        assertThat(small.capacity()).isEqualTo(1024);
        assertThat(pool.idleBytes()).isEqualTo(1 << 20);
    }

    @Test
    void thePoolKeepsAtMostItsLimit() {
        BufferPool pool = new BufferPool();
        pool.give(ByteBuffer.allocateDirect(1024));
        pool.give(ByteBuffer.allocate(1024));   // a heap buffer is never pooled
        assertThat(pool.idleBytes()).isEqualTo(1024);
        assertThat(BufferPool.MAX_POOLED_BYTES).isPositive();
    }
}
