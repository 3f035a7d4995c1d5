package dev.maskrcnn4j.memory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.maskrcnn4j.Device;
import dev.maskrcnn4j.MaskRcnnException;
import dev.maskrcnn4j.testing.NoLeaks;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(NoLeaks.class)
class BufferPoolTest {
    private final Allocator allocator = Allocator.global();

    @Test
    void sizeClassesRoundUpByAtMostAQuarter() {
        assertEquals(0, BufferPool.sizeClass(0));
        assertEquals(4096, BufferPool.sizeClass(1));
        assertEquals(256 * 1024, BufferPool.sizeClass(256 * 1024));
        for (long b = 256 * 1024 + 1; b < (1L << 34); b = b * 3 / 2 + 7) {
            long c = BufferPool.sizeClass(b);
            assertTrue(c >= b && c <= b + b / 4 + 1, b + " -> " + c);
            assertEquals(c, BufferPool.sizeClass(c), "a class is its own class");
        }
    }

    @Test
    void closedBuffersAreReusedByTheNextScope() {
        long before = allocator.bytesInUse(Device.CPU);
        try (BufferPool pool = allocator.openPool("test", 1L << 30)) {
            long first;
            try (Scope s = pool.openScope("run 1")) {
                first = s.allocate(Device.CPU, 1_000_000, "a").address();
                s.allocate(Device.CPU, 10, "small");
                s.release();
            }
            assertTrue(pool.retainedBytes() >= 1_000_010, "retained " + pool.retainedBytes());
            assertEquals(before + pool.retainedBytes(), allocator.bytesInUse(Device.CPU), "retained counts as in use");
            try (Scope s = pool.openScope("run 2"); Scope child = s.child("block")) {
                DeviceBuffer again = child.allocate(Device.CPU, 999_000, "same class");
                assertEquals(first, again.address(), "same memory for the same size class");
                assertEquals(999_000, again.bytes());
                again.close();
            }
            assertEquals(2, pool.misses());
            assertEquals(1, pool.hits());
        }
        assertEquals(before, allocator.bytesInUse(Device.CPU), "closing the pool frees what it kept");
    }

    @Test
    void retainedMemoryIsBounded() {
        long before = allocator.bytesInUse(Device.CPU);
        try (BufferPool pool = allocator.openPool("bounded", 3 * 4096)) {
            try (Scope s = pool.openScope("run")) {
                for (int i = 0; i < 5; i++) {
                    s.allocate(Device.CPU, 4096, "b" + i);
                }
                s.allocate(Device.CPU, 1 << 20, "too big to keep");
                s.release();
            }
            assertEquals(3 * 4096, pool.retainedBytes());
        }
        assertEquals(before, allocator.bytesInUse(Device.CPU));
    }

    @Test
    void buffersOutlivingThePoolAreFreedNormally() {
        long before = allocator.bytesInUse(Device.CPU);
        BufferPool pool = allocator.openPool("short-lived", 1 << 20);
        Scope s = pool.openScope("run");
        DeviceBuffer b = s.allocate(Device.CPU, 100, "late");
        pool.close();
        assertThrows(MaskRcnnException.class, () -> pool.openScope("after close"));
        b.close();
        s.close();
        assertEquals(before, allocator.bytesInUse(Device.CPU));
    }

    @Test
    void concurrentScopesGetDistinctBuffers() throws Exception {
        try (BufferPool pool = allocator.openPool("concurrent", 1L << 30)) {
            ExecutorService ex = Executors.newFixedThreadPool(4);
            try {
                List<Future<?>> fs = new ArrayList<>();
                for (int t = 0; t < 8; t++) {
                    fs.add(ex.submit(() -> {
                        for (int i = 0; i < 200; i++) {
                            try (Scope s = pool.openScope("worker")) {
                                DeviceBuffer a = s.allocate(Device.CPU, 64 * 1024, "a");
                                DeviceBuffer b = s.allocate(Device.CPU, 64 * 1024, "b");
                                assertNotEquals(a.address(), b.address());
                                s.release();
                            }
                        }
                        return null;
                    }));
                }
                for (Future<?> f : fs) {
                    f.get();
                }
            } finally {
                ex.shutdown();
            }
            assertTrue(pool.retainedBytes() <= 8L * 2 * 64 * 1024);
        }
    }
}
