package dev.maskrcnn4j.memory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.maskrcnn4j.Device;
import dev.maskrcnn4j.InvalidArgumentException;
import dev.maskrcnn4j.MaskRcnnException;
import dev.maskrcnn4j.testing.NoLeaks;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(NoLeaks.class)
class ScopeTest {
    private final Allocator allocator = Allocator.global();

    @Test
    void closedBuffersAreFreedAndCounted() {
        long before = allocator.bytesInUse(Device.CPU);
        try (Scope s = allocator.openScope("test")) {
            DeviceBuffer a = s.allocate(Device.CPU, 1000, "a");
            DeviceBuffer b = s.allocate(Device.CPU, 24, "b");
            assertEquals(before + 1024, allocator.bytesInUse(Device.CPU));
            assertEquals(1024, s.bytesOwned());
            a.close();
            a.close(); // idempotent
            b.close();
            assertEquals(before, allocator.bytesInUse(Device.CPU));
        }
    }

    @Test
    void closingAScopeWithLiveBuffersFreesThemAndNamesThem() {
        Scope s = allocator.openScope("leaky");
        Scope child = s.child("inner");
        s.allocate(Device.CPU, 64, "weights");
        child.allocate(Device.CPU, 32, "scratch");
        LeakedBuffersException e = assertThrows(LeakedBuffersException.class, s::close);
        assertEquals(2, e.buffers().size());
        assertTrue(e.getMessage().contains("'weights' 64 bytes on cpu (scope leaky)"), e.getMessage());
        assertTrue(e.getMessage().contains("'scratch' 32 bytes on cpu (scope leaky/inner)"), e.getMessage());
        assertEquals(0, allocator.bytesInUse());
        assertTrue(child.isClosed());
    }

    @Test
    void releaseFreesWithoutComplaint() {
        Scope s = allocator.openScope("bulk");
        s.allocate(Device.CPU, 128, "x");
        s.release();
        assertEquals(0, allocator.bytesInUse());
    }

    @Test
    void buffersCanMoveToALongerLivedScope() {
        try (Scope outer = allocator.openScope("outer")) {
            DeviceBuffer result;
            try (Scope inner = outer.child("inner")) {
                result = inner.allocate(Device.CPU, 16, "result").moveTo(outer);
            }
            assertEquals(16, outer.bytesOwned());
            assertEquals(16, result.address() == 0 ? -1 : 16);
            result.close();
        }
    }

    @Test
    void misuseIsATypedError() {
        Scope s = allocator.openScope("closed");
        s.close();
        assertThrows(MaskRcnnException.class, () -> s.allocate(Device.CPU, 8, "late"));
        try (Scope t = allocator.openScope("neg")) {
            assertThrows(InvalidArgumentException.class, () -> t.allocate(Device.CPU, -1, "negative"));
            DeviceBuffer b = t.allocate(Device.CPU, 8, "b");
            b.close();
            assertThrows(MaskRcnnException.class, b::address);
        }
        assertThrows(InvalidArgumentException.class, () -> allocator.openScope(""));
    }

    @Test
    void emulatedCudaMemoryIsAccountedPerDevice() {
        try (Scope s = allocator.openScope("emu")) {
            DeviceBuffer b = s.allocate(Device.CUDA_EMULATED, 256, "device");
            assertEquals(256, allocator.bytesInUse(Device.CUDA_EMULATED));
            assertEquals(0, allocator.bytesInUse(Device.CPU));
            b.close();
        }
    }
}
