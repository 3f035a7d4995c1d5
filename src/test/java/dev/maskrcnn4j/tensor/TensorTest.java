package dev.maskrcnn4j.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.maskrcnn4j.Device;
import dev.maskrcnn4j.InvalidArgumentException;
import dev.maskrcnn4j.memory.Allocator;
import dev.maskrcnn4j.memory.Scope;
import dev.maskrcnn4j.testing.NoLeaks;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

@ExtendWith(NoLeaks.class)
class TensorTest {
    @ParameterizedTest
    @EnumSource(value = Device.class, names = {"CPU", "CUDA_EMULATED"})
    void roundTripsEveryDtype(Device device) {
        try (Scope s = Allocator.global().openScope("tensor")) {
            float[] f = {1.5f, -2f, Float.NaN, 3e-8f, 7f, 8f};
            try (Tensor t = Tensor.fromFloats(s, device, f, 2, 3)) {
                assertArrayEquals(f, t.toFloatArray());
                assertEquals(device, t.device());
            }
            int[] i = {1, -2, Integer.MAX_VALUE};
            try (Tensor t = Tensor.fromInts(s, device, i, 3)) {
                assertArrayEquals(i, t.toIntArray());
            }
            long[] l = {Long.MIN_VALUE, 0, 42};
            try (Tensor t = Tensor.fromLongs(s, device, l, 3, 1)) {
                assertArrayEquals(l, t.toLongArray());
            }
            byte[] b = {0, 1, (byte) 255};
            try (Tensor t = Tensor.fromBytes(s, device, b, 3)) {
                assertArrayEquals(b, t.toByteArray());
            }
        }
    }

    @Test
    void copiesBetweenDevices() {
        try (Scope s = Allocator.global().openScope("copy")) {
            float[] f = {1, 2, 3, 4};
            try (Tensor host = Tensor.fromFloats(s, Device.CPU, f, 4);
                 Tensor dev = Tensor.allocate(s, Device.CUDA_EMULATED, DType.FLOAT32, 4);
                 Tensor back = Tensor.allocate(s, Device.CPU, DType.FLOAT32, 2, 2)) {
                dev.copyFrom(host);
                back.copyFrom(dev);
                assertArrayEquals(f, back.toFloatArray());
                dev.zero();
                assertArrayEquals(new float[4], dev.toFloatArray());
            }
        }
    }

    @Test
    void viewsShareStorage() {
        try (Scope s = Allocator.global().openScope("views")) {
            try (Tensor t = Tensor.fromFloats(s, Device.CPU, new float[] {0, 1, 2, 3, 4, 5}, 2, 3)) {
                Tensor row = t.narrow(0, 1, 1);
                assertArrayEquals(new float[] {3, 4, 5}, row.toFloatArray());
                Tensor col = t.narrow(1, 1, 1);
                assertFalse(col.isContiguous());
                assertThrows(InvalidArgumentException.class, col::toFloatArray);
                Tensor flat = t.reshape(6);
                assertTrue(flat.isContiguous());
                assertArrayEquals(new long[] {3, 1}, t.strides());
                assertThrows(InvalidArgumentException.class, () -> t.reshape(4));
                assertThrows(InvalidArgumentException.class, () -> t.narrow(1, 2, 2));
            }
        }
    }

    @Test
    void badShapesAndSizesAreTypedErrors() {
        try (Scope s = Allocator.global().openScope("bad")) {
            assertThrows(InvalidArgumentException.class, () -> Tensor.allocate(s, Device.CPU, DType.FLOAT32, 2, -1));
            assertThrows(InvalidArgumentException.class, () -> Tensor.fromFloats(s, Device.CPU, new float[3], 2, 2));
            assertThrows(ArithmeticException.class,
                    () -> Tensor.allocate(s, Device.CPU, DType.FLOAT32, Long.MAX_VALUE, 4));
            try (Tensor t = Tensor.allocate(s, Device.CPU, DType.INT32, 2)) {
                assertThrows(InvalidArgumentException.class, t::toFloatArray);
            }
            try (Tensor empty = Tensor.allocate(s, Device.CPU, DType.FLOAT32, 0, 5)) {
                assertEquals(0, empty.toFloatArray().length);
            }
        }
    }
}
