package dev.maskrcnn4j.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The tiny state dict in the three formats against what torch sees in it (tiny_expected.json). */
class CheckpointLoadTest {
    private static final List<String> ORDER = List.of("conv.weight", "conv.bias", "base", "base_t", "base_row2",
            "base_cols", "flat_tail", "expanded", "half", "half_t", "half_table", "bf16", "double", "special", "int64",
            "int32", "int16", "int8", "uint8", "bool", "scalar", "empty", "bn.num_batches_tracked", "param");

    @ParameterizedTest
    @ValueSource(strings = {"tiny_zip.pth", "tiny_legacy.pth", "tiny.safetensors"})
    @SuppressWarnings("unchecked")
    void readsEveryTensorAsTorchSeesIt(String fixture) {
        StateDict sd = Checkpoint.load(Fixtures.path(fixture));
        boolean torchFile = !fixture.endsWith(".safetensors");
        Map<String, Object> expected = (Map<String, Object>) Fixtures.json("tiny_expected.json").get("tensors");
        assertEquals(ORDER, new ArrayList<>(sd.keys()), "keys in the file's order");
        assertEquals(new ArrayList<>(expected.keySet()), new ArrayList<>(sd.keys()));
        for (Map.Entry<String, Object> e : expected.entrySet()) {
            Map<String, Object> x = (Map<String, Object>) e.getValue();
            HostTensor t = sd.get(e.getKey());
            String key = e.getKey();
            assertEquals(key, t.name());
            assertEquals(x.get("dtype"), t.dtype().torchName(), key);
            assertArrayEquals(Fixtures.longs(x.get("shape")), t.shape(), key);
            if (torchFile) { // safetensors holds dense copies
                assertArrayEquals(Fixtures.longs(x.get("strides")), t.strides(), key);
                assertEquals((long) (Long) x.get("storage_offset"), t.storageOffset(), key);
            } else {
                assertEquals(0, t.storageOffset());
                assertTrue(t.isContiguous(), key);
            }
            if (x.containsKey("float_bits")) {
                long[] bits = Fixtures.longs(x.get("float_bits"));
                float[] v = t.toFloatArray();
                assertEquals(bits.length, v.length, key);
                for (int i = 0; i < v.length; i++) {
                    float want = Float.intBitsToFloat((int) bits[i]);
                    if (Float.isNaN(want)) {
                        assertTrue(Float.isNaN(v[i]), key + "[" + i + "] is NaN");
                    } else {
                        assertEquals(bits[i], Float.floatToRawIntBits(v[i]) & 0xffffffffL,
                                key + "[" + i + "]: " + want + " vs " + v[i]);
                    }
                }
                assertThrows(CheckpointException.class, t::toLongArray);
            } else {
                assertArrayEquals(Fixtures.longs(x.get("ints")), t.toLongArray(), key);
                CheckpointException ex = assertThrows(CheckpointException.class, t::toFloatArray);
                assertTrue(ex.getMessage().contains("'" + key + "'") && ex.getMessage().contains(fixture), ex.getMessage());
            }
        }
        if (torchFile) {
            assertEquals(Map.of("", 1L, "conv", 2L), sd.moduleVersions());
            assertTrue(sd.metadata().isEmpty());
        } else {
            assertEquals(Map.of("format", "pt", "source", "make_fixtures.py"), sd.metadata());
        }
        assertEquals(Fixtures.path(fixture), sd.file());
    }

    @ParameterizedTest
    @ValueSource(strings = {"tiny_zip.pth", "tiny_legacy.pth"})
    @SuppressWarnings("unchecked")
    void viewsShareTheirStorageAsInTorch(String fixture) {
        StateDict sd = Checkpoint.load(Fixtures.path(fixture));
        List<Object> groups = (List<Object>) Fixtures.json("tiny_expected.json").get("shares_storage");
        assertEquals(2, groups.size(), "base + its views, half + half_t");
        for (Object g : groups) {
            List<Object> keys = (List<Object>) g;
            HostTensor first = sd.get((String) keys.get(0));
            for (Object k : keys) {
                assertTrue(first.sharesStorageWith(sd.get((String) k)), k + " shares " + first.name() + "'s storage");
            }
        }
        assertFalse(sd.get("conv.weight").sharesStorageWith(sd.get("base")));
        // one copy of the shared data: base (24 floats) counted once
        long separate = 0;
        for (HostTensor t : sd.tensors().values()) {
            separate += t.numel() * t.dtype().bytes();
        }
        assertTrue(sd.storageBytes() < separate);
        assertFalse(sd.get("base_t").isContiguous());
        assertFalse(sd.get("base_cols").isContiguous());
        assertFalse(sd.get("expanded").isContiguous());
        assertTrue(sd.get("base_row2").isContiguous());
        assertEquals(12, sd.get("base_row2").storageOffset());
    }

    @Test
    void detectsTheFormatByContent() {
        assertEquals(Checkpoint.Format.TORCH_ZIP, Checkpoint.detect(Fixtures.path("tiny_zip.pth")));
        assertEquals(Checkpoint.Format.TORCH_LEGACY, Checkpoint.detect(Fixtures.path("tiny_legacy.pth")));
        assertEquals(Checkpoint.Format.SAFETENSORS, Checkpoint.detect(Fixtures.path("tiny.safetensors")));
        assertEquals(Checkpoint.Format.TORCH_LEGACY, Checkpoint.load(Fixtures.path("tiny_legacy.pth")).format());
    }

    @Test
    void safetensorsHeaderLengthsThatLookLikePickleOpcodesAreSafetensors(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) {
        // header length 0x180: its first byte is 0x80, the pickle PROTO opcode
        StringBuilder h = new StringBuilder("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}");
        while (h.length() < 0x180) {
            h.append(' ');
        }
        java.nio.file.Path p = Fixtures.write(dir, "x.safetensors", CheckpointCorruptionTest.safetensors(h.toString(),
                new byte[] {0, 0, (byte) 0x80, 0x3f}));
        assertEquals(Checkpoint.Format.SAFETENSORS, Checkpoint.detect(p));
        assertArrayEquals(new float[] {1f}, Checkpoint.load(p).get("a").toFloatArray());
    }

    /** Files over 2 GiB are mapped region by region instead of at once: same result. */
    @ParameterizedTest
    @ValueSource(strings = {"tiny_zip.pth", "tiny_legacy.pth", "tiny.safetensors"})
    void regionByRegionMappingReadsTheSame(String fixture) {
        StateDict whole = Checkpoint.load(Fixtures.path(fixture));
        StateDict regions = Checkpoint.loadByRegions(Fixtures.path(fixture));
        assertEquals(new ArrayList<>(whole.keys()), new ArrayList<>(regions.keys()));
        for (String k : whole.keys()) {
            assertEquals(whole.get(k).contiguousBytes(), regions.get(k).contiguousBytes(), k);
        }
    }

    @Test
    void threeFormatsHoldTheSameValues() {
        StateDict zip = Checkpoint.load(Fixtures.path("tiny_zip.pth"));
        StateDict legacy = Checkpoint.load(Fixtures.path("tiny_legacy.pth"));
        StateDict st = Checkpoint.load(Fixtures.path("tiny.safetensors"));
        for (String k : ORDER) {
            HostTensor a = zip.get(k);
            for (HostTensor b : List.of(legacy.get(k), st.get(k))) {
                assertEquals(a.dtype(), b.dtype(), k);
                assertArrayEquals(a.shape(), b.shape(), k);
                assertEquals(a.contiguousBytes(), b.contiguousBytes(), k);
            }
        }
    }

    @Test
    void materialisesIntoCallerBuffersAndRawBytes() {
        StateDict sd = Checkpoint.load(Fixtures.path("tiny_zip.pth"));
        HostTensor t = sd.get("base_t");
        float[] want = t.toFloatArray();
        FloatBuffer direct = ByteBuffer.allocateDirect(4 * (want.length + 1)).order(java.nio.ByteOrder.nativeOrder()).asFloatBuffer();
        direct.put(-1f);
        t.copyFloatsTo(direct);
        assertEquals(want.length + 1, direct.position());
        for (int i = 0; i < want.length; i++) {
            assertEquals(want[i], direct.get(i + 1));
        }
        ByteBuffer raw = t.contiguousBytes();
        assertEquals(4L * t.numel(), raw.remaining());
        for (int i = 0; i < want.length; i++) {
            assertEquals(want[i], raw.getFloat(4 * i));
        }
        assertThrows(IllegalArgumentException.class, () -> t.copyFloatsTo(FloatBuffer.allocate(3)));
        // contiguous tensors are slices of the storage, not copies
        HostTensor row = sd.get("base_row2");
        assertTrue(row.contiguousBytes().isReadOnly());
        assertEquals(0, sd.get("empty").toFloatArray().length);
        assertEquals(0, sd.get("empty").contiguousBytes().remaining());
        assertArrayEquals(new float[] {3.25f}, sd.get("scalar").toFloatArray());
        assertEquals(0, sd.get("scalar").dim());
    }

    @Test
    void halfAndBfloat16ConvertExactly() {
        for (int bits = 0; bits < 0x10000; bits++) {
            float f = HostTensor.halfToFloat((short) bits);
            int exp = (bits >>> 10) & 0x1f;
            int mant = bits & 0x3ff;
            double sign = (bits & 0x8000) != 0 ? -1 : 1;
            if (exp == 0x1f) {
                assertTrue(mant == 0 ? Float.isInfinite(f) : Float.isNaN(f), Integer.toHexString(bits));
                continue;
            }
            double want = exp == 0 ? sign * mant * Math.pow(2, -24) : sign * (1 + mant / 1024.0) * Math.pow(2, exp - 15);
            assertEquals((float) want, f, 0f, Integer.toHexString(bits));
            assertEquals((bits & 0x8000) != 0, (Float.floatToRawIntBits(f) & 0x80000000) != 0);
        }
        assertEquals(1.0f, HostTensor.bfloat16ToFloat((short) 0x3f80));
        assertEquals(-2.0f, HostTensor.bfloat16ToFloat((short) 0xc000));
    }

    @Test
    void requireChecksShapeAndDtype() {
        StateDict sd = Checkpoint.load(Fixtures.path("tiny_zip.pth"));
        assertSame(sd.get("conv.weight"), sd.require("conv.weight", 2, 3, 3, 3));
        sd.require("half", 2, 5); // float16 is floating point
        CheckpointException wrongShape = assertThrows(CheckpointException.class, () -> sd.require("conv.weight", 2, 3, 3));
        assertTrue(wrongShape.getMessage().contains("'conv.weight'") && wrongShape.getMessage().contains("[2, 3, 3, 3]")
                && wrongShape.getMessage().contains("tiny_zip.pth"), wrongShape.getMessage());
        CheckpointException wrongDtype = assertThrows(CheckpointException.class, () -> sd.require("int64", 5));
        assertTrue(wrongDtype.getMessage().contains("int64") && wrongDtype.getMessage().contains("floating point"),
                wrongDtype.getMessage());
        sd.require("int64", TensorSpec.of(ElementType.INT64, 5));
        CheckpointException missing = assertThrows(CheckpointException.class, () -> sd.get("nope"));
        assertTrue(missing.getMessage().contains("'nope'") && missing.getMessage().contains("tiny_zip.pth"));
        assertEquals(sd.file(), missing.file());
    }

    @Test
    void validateReportsEveryProblemAtOnce() {
        StateDict sd = Checkpoint.load(Fixtures.path("tiny.safetensors"));
        Map<String, TensorSpec> expected = new LinkedHashMap<>();
        for (HostTensor t : sd.tensors().values()) {
            expected.put(t.name(), TensorSpec.of(t.dtype(), t.shape()));
        }
        sd.validateSpecs(expected); // exact match passes
        expected.remove("param");                                             // unexpected key
        expected.put("missing.weight", TensorSpec.floating(3, 3));            // missing key
        expected.put("conv.bias", TensorSpec.floating(3));                    // wrong shape
        expected.put("int64", TensorSpec.floating(5));                        // wrong dtype
        CheckpointException e = assertThrows(CheckpointException.class, () -> sd.validateSpecs(expected));
        assertEquals(4, e.problems().size(), e.problems().toString());
        String m = e.getMessage();
        for (String s : List.of("tiny.safetensors", "1 missing key", "1 unexpected key", "2 wrong shapes or dtypes",
                "missing key 'missing.weight'", "unexpected key 'param'", "key 'conv.bias': shape [2], expected [3]",
                "key 'int64': dtype int64, expected floating point")) {
            assertTrue(m.contains(s), "'" + s + "' in: " + m);
        }
        Map<String, long[]> shapes = new LinkedHashMap<>();
        shapes.put("conv.weight", new long[] {2, 3, 3, 3});
        CheckpointException onlyShapes = assertThrows(CheckpointException.class, () -> sd.validate(shapes));
        assertEquals(sd.size() - 1, onlyShapes.problems().size());
        assertTrue(onlyShapes.getMessage().contains("unexpected key 'conv.bias'"));
    }
}
