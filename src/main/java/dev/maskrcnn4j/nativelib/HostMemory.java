package dev.maskrcnn4j.nativelib;

import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;

/** Copies between Java arrays and raw host addresses (CPU device memory or staging buffers). */
public final class HostMemory {
    private HostMemory() {
    }

    /** A JavaCPP view of raw memory that does not own it. */
    private static final class RawPointer extends Pointer {
        RawPointer(long address, long bytes) {
            this.address = address;
            this.position = 0;
            this.limit = bytes;
            this.capacity = bytes;
        }
    }

    public static void put(long address, float[] src, int offset, int length) {
        new FloatPointer(new RawPointer(address, (long) length * 4)).put(src, offset, length);
    }

    public static void put(long address, int[] src, int offset, int length) {
        new IntPointer(new RawPointer(address, (long) length * 4)).put(src, offset, length);
    }

    public static void put(long address, long[] src, int offset, int length) {
        new LongPointer(new RawPointer(address, (long) length * 8)).put(src, offset, length);
    }

    public static void put(long address, byte[] src, int offset, int length) {
        new BytePointer(new RawPointer(address, length)).put(src, offset, length);
    }

    public static void get(long address, float[] dst, int offset, int length) {
        new FloatPointer(new RawPointer(address, (long) length * 4)).get(dst, offset, length);
    }

    public static void get(long address, int[] dst, int offset, int length) {
        new IntPointer(new RawPointer(address, (long) length * 4)).get(dst, offset, length);
    }

    public static void get(long address, long[] dst, int offset, int length) {
        new LongPointer(new RawPointer(address, (long) length * 8)).get(dst, offset, length);
    }

    public static void get(long address, byte[] dst, int offset, int length) {
        new BytePointer(new RawPointer(address, length)).get(dst, offset, length);
    }
}
