package dev.maskrcnn4j;

import dev.maskrcnn4j.nativelib.DeviceRuntime;

/**
 * Where tensors live and kernels run.
 *
 * <p>{@link #CUDA_EMULATED} runs the very same CUDA kernel sources compiled for the CPU against
 * the project's emulation harness (one fiber per CUDA thread). It exists so that the CUDA kernels
 * are tested on machines without a GPU; it is slow and never chosen implicitly.
 */
public enum Device {
    CPU("cpu"),
    CUDA("cuda"),
    CUDA_EMULATED("cuda-emulated");

    private final String label;
    private volatile String unavailableReason; // null until probed; "" when available

    Device(String label) {
        this.label = label;
    }

    /** The name used on command lines and in messages: cpu, cuda, cuda-emulated. */
    public String label() {
        return label;
    }

    public static Device fromLabel(String label) {
        for (Device d : values()) {
            if (d.label.equals(label)) {
                return d;
            }
        }
        throw new InvalidArgumentException("unknown device '" + label + "' (expected cpu, cuda or cuda-emulated)");
    }

    /** True when buffers can be allocated and kernels launched on this device. */
    public boolean isAvailable() {
        return unavailableReason().isEmpty();
    }

    /** Why this device cannot be used, or "" when it can. */
    public String unavailableReason() {
        String r = unavailableReason;
        if (r == null) {
            r = DeviceRuntime.of(this).probe();
            unavailableReason = r;
        }
        return r;
    }

    /** Throws {@link DeviceUnavailableException} naming the reason unless the device is usable. */
    public void requireAvailable() {
        String r = unavailableReason();
        if (!r.isEmpty()) {
            throw new DeviceUnavailableException("device " + label + " is not available: " + r);
        }
    }

    @Override
    public String toString() {
        return label;
    }
}
