package dev.maskrcnn4j.memory;

import dev.maskrcnn4j.Device;
import dev.maskrcnn4j.InvalidArgumentException;
import dev.maskrcnn4j.MaskRcnnException;
import dev.maskrcnn4j.nativelib.DeviceRuntime;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Keeps freed device memory for reuse by later allocations of the same size class, so a model that
 * runs the same shapes again (the next prediction) touches no fresh pages: on these machines fresh
 * memory costs about 3 ms per MiB, more than many kernels. Scopes opened with {@link #openScope}
 * (and their children) allocate from the pool and give their buffers back to it when closed; the
 * buffers themselves behave exactly like any other (a closed one cannot be used).
 *
 * <p>Sizes are rounded up to classes (4 KiB steps below 256 KiB, then quarter-powers of two: at
 * most 25% slack) so that images of nearby sizes share buffers. Retained memory is bounded by
 * {@code maxRetainedBytes}: beyond it, the least recently returned buffers are freed. Retained
 * bytes count as in use in {@link Allocator#bytesInUse()} until {@link #close()} frees them.
 * Thread-safe: concurrent callers take distinct buffers.
 */
public final class BufferPool implements AutoCloseable {
    private final Allocator allocator;
    private final String name;
    private final long maxRetainedBytes;
    /** (device, class bytes) -> free addresses; access order = least recently returned first. */
    private final LinkedHashMap<Key, ArrayDeque<Long>> free = new LinkedHashMap<>(16, 0.75f, true);
    private final Map<Device, Long> retained = new HashMap<>();
    private long retainedTotal;
    private long hits;
    private long misses;
    private boolean closed;

    private record Key(Device device, long bytes) { }

    BufferPool(Allocator allocator, String name, long maxRetainedBytes) {
        if (maxRetainedBytes < 0) {
            throw new InvalidArgumentException("buffer pool " + name + ": maxRetainedBytes must be >= 0");
        }
        this.allocator = allocator;
        this.name = name;
        this.maxRetainedBytes = maxRetainedBytes;
    }

    /** Opens a root scope whose allocations (and its children's) come from this pool. */
    public Scope openScope(String scopeName) {
        synchronized (this) {
            if (closed) {
                throw new MaskRcnnException("buffer pool " + name + " is closed");
            }
        }
        return new Scope(allocator, null, scopeName, this);
    }

    /** The size an allocation of {@code bytes} really takes from the pool. */
    static long sizeClass(long bytes) {
        if (bytes <= 0) {
            return 0;
        }
        if (bytes <= 256 * 1024) {
            return (bytes + 4095) & ~4095L;
        }
        int shift = 63 - Long.numberOfLeadingZeros(bytes - 1); // 2^shift < bytes <= 2^(shift+1)
        long quarter = 1L << (shift - 2);
        return ((bytes + quarter - 1) / quarter) * quarter;
    }

    /** A retained address of exactly {@code classBytes} on {@code device}, or 0. */
    synchronized long take(Device device, long classBytes) {
        if (closed || classBytes == 0) {
            return 0;
        }
        ArrayDeque<Long> q = free.get(new Key(device, classBytes));
        if (q == null || q.isEmpty()) {
            misses++;
            return 0;
        }
        hits++;
        long address = q.pop();
        retained.merge(device, -classBytes, Long::sum);
        retainedTotal -= classBytes;
        allocator.retainedChanged(device, -classBytes);
        return address;
    }

    /** Keeps {@code address}; false if the pool is closed (the caller frees it). */
    boolean give(Device device, long classBytes, long address) {
        java.util.List<long[]> evicted = new java.util.ArrayList<>();
        java.util.List<Device> evictedDevices = new java.util.ArrayList<>();
        synchronized (this) {
            if (closed || classBytes == 0 || classBytes > maxRetainedBytes) {
                return false;
            }
            free.computeIfAbsent(new Key(device, classBytes), k -> new ArrayDeque<>()).push(address);
            retained.merge(device, classBytes, Long::sum);
            retainedTotal += classBytes;
            allocator.retainedChanged(device, classBytes);
            Iterator<Map.Entry<Key, ArrayDeque<Long>>> it = free.entrySet().iterator();
            while (retainedTotal > maxRetainedBytes && it.hasNext()) {
                Map.Entry<Key, ArrayDeque<Long>> e = it.next();
                Key k = e.getKey();
                while (retainedTotal > maxRetainedBytes && !e.getValue().isEmpty()) {
                    evicted.add(new long[] {e.getValue().removeLast(), k.bytes()});
                    evictedDevices.add(k.device());
                    retained.merge(k.device(), -k.bytes(), Long::sum);
                    retainedTotal -= k.bytes();
                    allocator.retainedChanged(k.device(), -k.bytes());
                }
                if (e.getValue().isEmpty()) {
                    it.remove();
                }
            }
        }
        for (int i = 0; i < evicted.size(); i++) {
            DeviceRuntime.of(evictedDevices.get(i)).release(evicted.get(i)[0]);
        }
        return true;
    }

    /** Bytes kept for reuse (not in any live buffer). */
    public synchronized long retainedBytes() {
        return retainedTotal;
    }

    /** Allocations served from retained memory / that needed fresh memory. */
    public synchronized long hits() {
        return hits;
    }

    public synchronized long misses() {
        return misses;
    }

    /** Frees the retained memory; buffers still live are freed normally when their scopes close. */
    @Override
    public void close() {
        Map<Key, ArrayDeque<Long>> all;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            all = new LinkedHashMap<>(free);
            free.clear();
            for (Map.Entry<Device, Long> e : retained.entrySet()) {
                allocator.retainedChanged(e.getKey(), -e.getValue());
            }
            retained.clear();
            retainedTotal = 0;
        }
        for (Map.Entry<Key, ArrayDeque<Long>> e : all.entrySet()) {
            for (long address : e.getValue()) {
                DeviceRuntime.of(e.getKey().device()).release(address);
            }
        }
    }

    @Override
    public String toString() {
        return "BufferPool[" + name + ", retained " + retainedBytes() + " bytes, hits " + hits() + ", misses " + misses() + "]";
    }
}
