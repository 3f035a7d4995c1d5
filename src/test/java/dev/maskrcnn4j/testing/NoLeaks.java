package dev.maskrcnn4j.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.maskrcnn4j.memory.Allocator;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * JUnit extension: after each test, no device memory may be left allocated.
 * Use with {@code @ExtendWith(NoLeaks.class)} on every test class that allocates.
 */
public final class NoLeaks implements AfterEachCallback {
    @Override
    public void afterEach(ExtensionContext context) {
        Allocator a = Allocator.global();
        assertEquals(0L, a.bytesInUse(), () -> "bytes left allocated after " + context.getDisplayName()
                + ": " + a.liveBuffers());
    }
}
