package dev.maskrcnn4j.checkpoint;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The bytes behind one or more checkpoint tensors: {@code numel} elements of one dtype, little
 * endian. Tensors sharing a storage in torch share one {@code Storage} here. The bytes are bound
 * once, after the file region holding them has been checked (legacy files store them after the
 * pickle that declares them); usually a slice of a read-only mapping of the file.
 */
final class Storage {
    final String key;
    final ElementType dtype;
    final long numel;
    private ByteBuffer data;

    Storage(String key, ElementType dtype, long numel) {
        this.key = key;
        this.dtype = dtype;
        this.numel = numel;
    }

    long nbytes() {
        return numel * dtype.bytes();
    }

    boolean isBound() {
        return data != null;
    }

    void bind(ByteBuffer bytes) {
        if (data != null) {
            throw new IllegalStateException("storage " + key + " bound twice");
        }
        if (bytes.remaining() != nbytes()) {
            throw new IllegalStateException("storage " + key + ": " + bytes.remaining() + " bytes for " + nbytes());
        }
        data = bytes.slice().asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
    }

    /** The bytes, position 0, little endian; callers must not change its position or limit (use duplicate()). */
    ByteBuffer data() {
        if (data == null) {
            throw new IllegalStateException("storage " + key + " has no data");
        }
        return data;
    }
}
