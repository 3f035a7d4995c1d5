package dev.maskrcnn4j.ops;

import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.maskrcnn4j.Device;
import dev.maskrcnn4j.InvalidArgumentException;
import dev.maskrcnn4j.memory.Allocator;
import dev.maskrcnn4j.memory.Scope;
import dev.maskrcnn4j.tensor.DType;
import dev.maskrcnn4j.tensor.Tensor;
import java.util.Random;
import org.junit.jupiter.api.function.Executable;

/** Shared helpers of the small ops' tests (MaxPool2dTest, UpsampleNearestAddTest, ...). */
final class SmallOpsTesting {
    /** 2^-23, the spacing of floats in [1, 2): twice the unit roundoff of float32. */
    static final double EPS32 = Math.ulp(1.0f);

    private SmallOpsTesting() {
    }

    static float[] uniform(Random r, int count, float lo, float hi) {
        float[] a = new float[count];
        for (int i = 0; i < count; i++) {
            a[i] = lo + (hi - lo) * r.nextFloat();
        }
        return a;
    }

    /** Equal floats bit for bit (+0 and -0 differ), any NaN equal to any NaN. */
    static void assertSameFloats(float[] expected, float[] actual, String what) {
        if (expected.length != actual.length) {
            throw new AssertionError(what + ": length " + actual.length + ", expected " + expected.length);
        }
        for (int i = 0; i < expected.length; i++) {
            if (Float.floatToIntBits(expected[i]) != Float.floatToIntBits(actual[i])) {
                throw new AssertionError(what + ": element " + i + " is " + actual[i] + ", expected " + expected[i]);
            }
        }
    }

    /** |expected - actual| <= relTol * |expected| + absTol per element; NaN only where NaN is expected. */
    static void assertClose(float[] expected, float[] actual, double relTol, double absTol, String what) {
        if (expected.length != actual.length) {
            throw new AssertionError(what + ": length " + actual.length + ", expected " + expected.length);
        }
        for (int i = 0; i < expected.length; i++) {
            float e = expected[i];
            float a = actual[i];
            if (Float.isNaN(e) || Float.isNaN(a)) {
                if (Float.isNaN(e) != Float.isNaN(a)) {
                    throw new AssertionError(what + ": element " + i + " is " + a + ", expected " + e);
                }
                continue;
            }
            if (e == a) { // also equal infinities
                continue;
            }
            double tol = relTol * Math.abs((double) e) + absTol;
            if (!(Math.abs((double) e - a) <= tol)) {
                throw new AssertionError(what + ": element " + i + " is " + a + ", expected " + e + " (|diff| "
                        + Math.abs((double) e - a) + " > tolerance " + tol + ")");
            }
        }
    }

    /** An op under test: takes its inputs on the device, returns its result tensor (allocated from {@code scope}). */
    interface Body {
        Tensor run(Scope scope, Tensor[] inputs);
    }

    /**
     * Copies each array to {@code device} as a dense tensor of the matching shape, applies {@code body}
     * inside a scope and returns the result's floats; everything is freed on return.
     */
    static float[] onDevice(Device device, String name, Body body, float[][] arrays, long[][] shapes) {
        Scope s = Allocator.global().openScope(name);
        try {
            Tensor[] ts = new Tensor[arrays.length];
            for (int i = 0; i < ts.length; i++) {
                if (arrays[i] == null) {
                    continue;
                }
                // Tensor.copyFrom rejects shapes like [4, 0] as non-contiguous: nothing to copy anyway.
                ts[i] = arrays[i].length == 0 ? Tensor.allocate(s, device, DType.FLOAT32, shapes[i])
                        : Tensor.fromFloats(s, device, arrays[i], shapes[i]);
            }
            Tensor out = body.run(s, ts);
            return out.numel() == 0 ? new float[0] : out.toFloatArray();
        } finally {
            s.release();
        }
    }

    /** Each call must throw {@link InvalidArgumentException}; the message names the failing call's index. */
    static void assertAllInvalid(Executable... calls) {
        for (int i = 0; i < calls.length; i++) {
            assertThrows(InvalidArgumentException.class, calls[i], "bad call #" + i);
        }
    }
}
