package dev.maskrcnn4j.memory;

import dev.maskrcnn4j.Device;
import dev.maskrcnn4j.MaskRcnnException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * A named owner of device buffers. Everything allocated through a scope is freed when the scope
 * closes. Closing a scope that still owns buffers frees them and then throws
 * {@link LeakedBuffersException} listing them: a leak is a bug the caller must see, not a cost the
 * garbage collector hides. Buffers meant to outlive a scope are closed explicitly or moved with
 * {@link DeviceBuffer#moveTo(Scope)}; scopes meant to hand their buffers back are closed with
 * {@link #release()}. Thread-safe.
 */
public final class Scope implements AutoCloseable {
    private final Allocator allocator;
    private final Scope parent;
    private final String name;
    private final Set<DeviceBuffer> buffers = new LinkedHashSet<>();
    private final Set<Scope> children = new LinkedHashSet<>();
    private final BufferPool pool; // null: fresh memory, freed on close
    private boolean closed;

    Scope(Allocator allocator, Scope parent, String name, BufferPool pool) {
        if (name == null || name.isEmpty()) {
            throw new dev.maskrcnn4j.InvalidArgumentException("scope name must not be empty");
        }
        this.allocator = allocator;
        this.parent = parent;
        this.name = name;
        this.pool = pool;
    }

    public String name() {
        return name;
    }

    /** "root/child/grandchild". */
    public String path() {
        return parent == null ? name : parent.path() + "/" + name;
    }

    /** Opens a nested scope; closing this scope closes it too. */
    public synchronized Scope child(String childName) {
        ensureOpen();
        Scope c = new Scope(allocator, this, childName, pool);
        children.add(c);
        return c;
    }

    /** Allocates {@code bytes} on {@code device}, owned by this scope. */
    public DeviceBuffer allocate(Device device, long bytes, String label) {
        synchronized (this) {
            ensureOpen();
        }
        DeviceBuffer b = allocator.allocate(this, device, bytes, label, pool);
        synchronized (this) {
            if (closed) { // closed concurrently: do not leak the fresh buffer
                b.closeFromScope();
                throw new MaskRcnnException("scope " + path() + " was closed during allocation of " + label);
            }
            buffers.add(b);
        }
        return b;
    }

    /** Bytes currently owned by this scope and its open children. */
    public synchronized long bytesOwned() {
        long sum = 0;
        for (DeviceBuffer b : buffers) {
            sum += b.bytes();
        }
        for (Scope c : children) {
            sum += c.bytesOwned();
        }
        return sum;
    }

    public synchronized boolean isClosed() {
        return closed;
    }

    /** Frees every buffer still owned; throws {@link LeakedBuffersException} if there were any. */
    @Override
    public void close() {
        List<String> leaked = closeAll();
        if (!leaked.isEmpty()) {
            throw new LeakedBuffersException(path(), leaked);
        }
    }

    /** Frees every buffer still owned without treating them as leaks (they were meant to die here). */
    public void release() {
        closeAll();
    }

    private List<String> closeAll() {
        List<Scope> kids;
        List<DeviceBuffer> owned;
        synchronized (this) {
            if (closed) {
                return List.of();
            }
            closed = true;
            kids = new ArrayList<>(children);
            owned = new ArrayList<>(buffers);
            children.clear();
            buffers.clear();
        }
        List<String> leaked = new ArrayList<>();
        for (Scope k : kids) {
            leaked.addAll(k.closeAll());
        }
        for (DeviceBuffer b : owned) {
            leaked.add(b.describe());
            b.closeFromScope();
        }
        if (parent != null) {
            parent.childClosed(this);
        }
        return leaked;
    }

    synchronized void forget(DeviceBuffer b) {
        buffers.remove(b);
    }

    synchronized void adopt(DeviceBuffer b) {
        ensureOpen();
        buffers.add(b);
    }

    private synchronized void childClosed(Scope c) {
        children.remove(c);
    }

    private void ensureOpen() {
        if (closed) {
            throw new MaskRcnnException("scope " + path() + " is closed");
        }
    }

    @Override
    public String toString() {
        return "Scope[" + path() + "]";
    }
}
