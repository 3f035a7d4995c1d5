package dev.maskrcnn4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.maskrcnn4j.memory.Allocator;
import dev.maskrcnn4j.memory.Scope;
import dev.maskrcnn4j.nativelib.NativeLibrary;
import dev.maskrcnn4j.testing.NoLeaks;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(NoLeaks.class)
class DeviceTest {
    @Test
    void cpuAndEmulatorAreAlwaysAvailable() {
        assertTrue(Device.CPU.isAvailable(), Device.CPU.unavailableReason());
        assertTrue(Device.CUDA_EMULATED.isAvailable(), Device.CUDA_EMULATED.unavailableReason());
    }

    /** Without a GPU, asking for CUDA must throw with the reason: never crash, never fall back. */
    @Test
    void unavailableCudaSaysWhy() {
        if (Device.CUDA.isAvailable()) {
            return; // a GPU machine: nothing to check here
        }
        String reason = Device.CUDA.unavailableReason();
        if (NativeLibrary.cudaBuilt() == 0) {
            assertTrue(reason.contains("built without"), reason);
        } else {
            assertTrue(reason.contains("no usable CUDA device"), reason);
        }
        DeviceUnavailableException e = assertThrows(DeviceUnavailableException.class, Device.CUDA::requireAvailable);
        assertTrue(e.getMessage().contains(reason), e.getMessage());
        try (Scope s = Allocator.global().openScope("cuda")) {
            assertThrows(DeviceUnavailableException.class, () -> s.allocate(Device.CUDA, 16, "x"));
        }
        assertEquals(0, Allocator.global().bytesInUse(Device.CUDA));
    }

    @Test
    void labelsRoundTrip() {
        for (Device d : Device.values()) {
            assertEquals(d, Device.fromLabel(d.label()));
        }
        assertThrows(InvalidArgumentException.class, () -> Device.fromLabel("tpu"));
        assertFalse(Device.CPU.label().isEmpty());
    }
}
