package dev.maskrcnn4j.testing;

import dev.maskrcnn4j.Device;
import dev.maskrcnn4j.emulation.CudaEmulator;
import dev.maskrcnn4j.emulation.CudaEmulator.Schedule;
import java.util.Arrays;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;

/**
 * How op tests reach the backends:
 * <ul>
 * <li>CPU against torchvision goldens;</li>
 * <li>the emulated CUDA backend against the CPU, once per emulator schedule
 *     ({@code @ParameterizedTest @MethodSource("dev.maskrcnn4j.testing.Backends#emulatorSchedules")}
 *     then {@link #useSchedule(Schedule)});</li>
 * <li>real CUDA against the CPU, skipped with the device's own reason where there is no GPU
 *     ({@link #assumeCuda()}).</li>
 * </ul>
 */
public final class Backends {
    private Backends() {
    }

    public static Stream<Schedule> emulatorSchedules() {
        return Arrays.stream(CudaEmulator.TEST_SCHEDULES);
    }

    /** Sets the schedule and returns the emulator's error count, to compare after the launches. */
    public static long useSchedule(Schedule s) {
        CudaEmulator.setSchedule(s);
        return CudaEmulator.errorCount();
    }

    /** Skips the calling test, visibly, unless a real CUDA device is usable. */
    public static void assumeCuda() {
        String reason = Device.CUDA.unavailableReason();
        Assumptions.assumeTrue(reason.isEmpty(), () -> "needs a CUDA GPU: " + reason);
    }
}
