package dev.maskrcnn4j.emulation;

import dev.maskrcnn4j.nativelib.NativeLibrary;
import dev.maskrcnn4j.nativelib.NativeStatus;
import org.bytedeco.javacpp.annotation.Name;
import org.bytedeco.javacpp.annotation.Platform;

/**
 * Controls of the CUDA emulation harness behind {@link dev.maskrcnn4j.Device#CUDA_EMULATED}.
 * Threads of a block run as fibers that switch only at barriers and warp collectives; the order
 * in which they run between those points decides which missing-barrier bugs show up, so tests run
 * every kernel under several schedules.
 */
@Platform(include = {"mrcnn/api.h", "mrcnn/device.h"}, library = NativeLibrary.NAME)
public final class CudaEmulator {
    static {
        NativeLibrary.load();
    }

    private CudaEmulator() {
    }

    /** Thread order inside a block between barriers, and whether blocks run in a shuffled order. */
    public enum Order { ASCENDING, DESCENDING, RANDOM }

    /** One emulator schedule; {@code seed} matters for RANDOM order and block shuffling. */
    public record Schedule(Order order, long seed, boolean shuffleBlocks) {
        @Override
        public String toString() {
            return order.name().toLowerCase() + (order == Order.RANDOM || shuffleBlocks ? "(seed " + seed + ")" : "")
                    + (shuffleBlocks ? "+shuffled-blocks" : "");
        }
    }

    /** Ascending hides "read what a lower thread wrote" races; descending and random orders expose them. */
    public static final Schedule[] TEST_SCHEDULES = {
        new Schedule(Order.ASCENDING, 0, false),
        new Schedule(Order.DESCENDING, 0, false),
        new Schedule(Order.RANDOM, 1, false),
        new Schedule(Order.RANDOM, 2, true),
        new Schedule(Order.RANDOM, 3, true),
    };

    /** Applies to every later emulated launch in the process. */
    public static synchronized void setSchedule(Schedule s) {
        NativeStatus.check(setSchedule(s.order().ordinal(), s.seed(), s.shuffleBlocks() ? 1 : 0), "emulator schedule");
    }

    /** Misuse reports (deadlock, divergent barrier, bad shuffle) since the process started. */
    public static long errorCount() {
        return errorCount0();
    }

    @Name("mrcnn_emu_set_schedule")
    private static native int setSchedule(int order, long seed, int shuffleBlocks);

    @Name("mrcnn_emu_error_count")
    private static native long errorCount0();
}
