package dev.maskrcnn4j.memory;

import dev.maskrcnn4j.Device;
import dev.maskrcnn4j.MaskRcnnException;

/**
 * One allocation on one device, owned by a {@link Scope}. Closing it frees the memory at once;
 * closing its scope frees it too. Using a closed buffer throws.
 */
public final class DeviceBuffer implements AutoCloseable {
    private final Allocator allocator;
    private final Device device;
    private final long address;
    private final long bytes;
    private final String label;
    private final BufferPool pool; // where the memory goes back to, or null
    private final long capacity;   // bytes really allocated (a pool's size class)
    private volatile Scope owner;
    private volatile boolean closed;

    DeviceBuffer(Allocator allocator, Scope owner, Device device, long address, long bytes, String label,
                 BufferPool pool, long capacity) {
        this.pool = pool;
        this.capacity = capacity;
        this.allocator = allocator;
        this.owner = owner;
        this.device = device;
        this.address = address;
        this.bytes = bytes;
        this.label = label;
    }

    /** The raw device address; valid until the buffer is closed. */
    public long address() {
        if (closed) {
            throw new MaskRcnnException("buffer '" + label + "' was already closed");
        }
        return address;
    }

    /** The address without the closed check, for the allocator's own bookkeeping. */
    long rawAddress() {
        return address;
    }

    BufferPool pool() {
        return pool;
    }

    long capacity() {
        return capacity;
    }

    public long bytes() {
        return bytes;
    }

    public Device device() {
        return device;
    }

    public String label() {
        return label;
    }

    public boolean isClosed() {
        return closed;
    }

    public Scope owner() {
        return owner;
    }

    /** Transfers ownership to another scope (e.g. a result that outlives the scope that made it). */
    public DeviceBuffer moveTo(Scope target) {
        if (closed) {
            throw new MaskRcnnException("buffer '" + label + "' was already closed");
        }
        Scope from = owner;
        if (from == target) {
            return this;
        }
        target.adopt(this);
        from.forget(this);
        owner = target;
        return this;
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        owner.forget(this);
        allocator.release(this);
    }

    /** Closes without telling the scope (the scope is closing and frees its list itself). */
    void closeFromScope() {
        if (!closed) {
            closed = true;
            allocator.release(this);
        }
    }

    String describe() {
        return "'" + label + "' " + bytes + " bytes on " + device + " (scope " + owner.path() + ")";
    }

    @Override
    public String toString() {
        return "DeviceBuffer[" + describe() + (closed ? ", closed" : "") + "]";
    }
}
