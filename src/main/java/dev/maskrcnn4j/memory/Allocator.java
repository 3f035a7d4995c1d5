package dev.maskrcnn4j.memory;

import dev.maskrcnn4j.Device;
import dev.maskrcnn4j.nativelib.DeviceRuntime;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Byte accounting for all device memory of the process. Buffers are only ever created through a
 * {@link Scope}; the allocator counts what is live so tests can assert that nothing is left.
 * Thread-safe.
 */
public final class Allocator {
    private static final Allocator GLOBAL = new Allocator();

    private final Map<Device, Long> bytesInUse = new EnumMap<>(Device.class);
    private final Set<DeviceBuffer> live = new LinkedHashSet<>();

    private Allocator() {
        for (Device d : Device.values()) {
            bytesInUse.put(d, 0L);
        }
    }

    /** The process-wide allocator. */
    public static Allocator global() {
        return GLOBAL;
    }

    /** Opens a root scope; close it (try-with-resources) to free what it still owns. */
    public Scope openScope(String name) {
        return new Scope(this, null, name, null);
    }

    /**
     * A pool that keeps freed memory for reuse by scopes opened from it, retaining at most
     * {@code maxRetainedBytes}; close it to free what it retains.
     */
    public BufferPool openPool(String name, long maxRetainedBytes) {
        return new BufferPool(this, name, maxRetainedBytes);
    }

    synchronized void retainedChanged(Device device, long delta) {
        bytesInUse.merge(device, delta, Long::sum);
    }

    public synchronized long bytesInUse() {
        long sum = 0;
        for (long b : bytesInUse.values()) {
            sum += b;
        }
        return sum;
    }

    public synchronized long bytesInUse(Device device) {
        return bytesInUse.get(device);
    }

    /** Descriptions of every live buffer, for leak messages. */
    public synchronized List<String> liveBuffers() {
        List<String> out = new ArrayList<>();
        for (DeviceBuffer b : live) {
            out.add(b.describe());
        }
        return out;
    }

    DeviceBuffer allocate(Scope owner, Device device, long bytes, String label, BufferPool pool) {
        if (bytes < 0) {
            throw new dev.maskrcnn4j.InvalidArgumentException("negative allocation size " + bytes + " for " + label);
        }
        device.requireAvailable();
        long capacity = pool == null ? bytes : BufferPool.sizeClass(bytes);
        long address = pool == null ? 0 : pool.take(device, capacity);
        if (address == 0) {
            address = DeviceRuntime.of(device).allocate(capacity);
        }
        DeviceBuffer buffer = new DeviceBuffer(this, owner, device, address, bytes, label, pool, capacity);
        synchronized (this) {
            live.add(buffer);
            bytesInUse.merge(device, bytes, Long::sum);
        }
        return buffer;
    }

    void release(DeviceBuffer buffer) {
        synchronized (this) {
            if (!live.remove(buffer)) {
                return;
            }
            bytesInUse.merge(buffer.device(), -buffer.bytes(), Long::sum);
        }
        BufferPool pool = buffer.pool();
        if (pool == null || !pool.give(buffer.device(), buffer.capacity(), buffer.rawAddress())) {
            DeviceRuntime.of(buffer.device()).release(buffer.rawAddress());
        }
    }
}
