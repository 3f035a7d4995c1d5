package dev.maskrcnn4j.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Truncated, damaged and foreign files: one CheckpointException naming the file, never anything else. */
class CheckpointCorruptionTest {
    @TempDir
    Path dir;

    private int counter;

    private Path write(String name, byte[] data) {
        return Fixtures.write(dir, (counter++) + "-" + name, data);
    }

    private CheckpointException fails(String name, byte[] data) {
        Path p = write(name, data);
        CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoint.load(p));
        assertTrue(e.getMessage().startsWith(p.toString()), e.getMessage());
        assertEquals(p, e.file());
        return e;
    }

    private static void contains(CheckpointException e, String... parts) {
        for (String s : parts) {
            assertTrue(e.getMessage().contains(s), "'" + s + "' in: " + e.getMessage());
        }
    }

    /**
     * Every cut of a file (a prefix of 0 to n-1 bytes) fails with a CheckpointException naming
     * it (in memory: the readers are the same, without thousands of temporary files).
     */
    @ParameterizedTest
    @ValueSource(strings = {"tiny_zip.pth", "tiny_legacy.pth", "tiny.safetensors", "maskrcnn_legacy_skeleton.pth",
        "maskrcnn_zip_skeleton.pth"})
    void everyTruncationFailsCleanly(String fixture) {
        byte[] full = Fixtures.bytes(fixture);
        int step = full.length > 20000 ? 37 : 1;
        Path name = Path.of("cut-" + fixture);
        for (int n = 0; n < full.length; n += (n < 256 || n > full.length - 256) ? 1 : step) {
            try {
                Checkpoint.load(name, ByteBuffer.wrap(full, 0, n));
                fail(fixture + " cut to " + n + " of " + full.length + " bytes loaded");
            } catch (CheckpointException e) {
                if (!e.getMessage().startsWith(name + ": ")) {
                    fail("cut to " + n + ": message does not name the file: " + e.getMessage());
                }
            } catch (RuntimeException e) {
                throw new AssertionError(fixture + " cut to " + n + " bytes threw " + e, e);
            }
        }
    }

    /** Flipping any one byte either still loads (bytes of values, padding) or fails cleanly. */
    @ParameterizedTest
    @ValueSource(strings = {"tiny_zip.pth", "tiny_legacy.pth", "tiny.safetensors"})
    void everyByteFlipLoadsOrFailsCleanly(String fixture) {
        byte[] full = Fixtures.bytes(fixture);
        Path name = Path.of("flip-" + fixture);
        int failures = 0;
        for (int i = 0; i < full.length; i++) {
            for (int mask : new int[] {i % 2 == 0 ? 0x01 : 0x80, 0x5a}) {
                byte[] b = full.clone();
                b[i] ^= (byte) mask;
                try {
                    StateDict sd = Checkpoint.load(name, ByteBuffer.wrap(b));
                    for (HostTensor t : sd.tensors().values()) {
                        t.contiguousBytes();
                    }
                } catch (CheckpointException e) {
                    failures++;
                    if (!e.getMessage().startsWith(name + ": ")) {
                        fail("byte " + i + " flipped: message does not name the file: " + e.getMessage());
                    }
                } catch (RuntimeException | OutOfMemoryError e) {
                    throw new AssertionError(fixture + " with byte " + i + " ^ " + mask + " threw " + e, e);
                }
            }
        }
        assertTrue(failures > 0);
        if (fixture.endsWith("zip.pth")) {
            // every byte of data.pkl and of the storages is covered by a CRC
            assertTrue(failures > full.length, failures + " of " + 2 * full.length);
        }
    }

    @Test
    void truncationMessagesSayWhatIsMissing() {
        byte[] legacy = Fixtures.bytes("tiny_legacy.pth");
        contains(fails("legacy.pth", Arrays.copyOf(legacy, legacy.length - 1)), "truncated", "storage '");
        contains(fails("legacy.pth", Arrays.copyOf(legacy, 300)), "truncated", "pickle");
        byte[] zip = Fixtures.bytes("tiny_zip.pth");
        contains(fails("zip.pth", Arrays.copyOf(zip, zip.length - 10)), "end-of-central-directory");
        byte[] st = Fixtures.bytes("tiny.safetensors");
        contains(fails("t.safetensors", Arrays.copyOf(st, st.length - 1)), "truncated", "tensor 'param'");
        contains(fails("t.safetensors", Arrays.copyOf(st, 100)), "truncated", "safetensors header");
    }

    @Test
    void damagedZipRecordsFailTheirCrc() {
        byte[] zip = Fixtures.bytes("tiny_zip.pth");
        // the first storage record follows data.pkl; find data.pkl's end via the pickle's STOP opcode
        int pkl = indexOf(zip, "data.pkl".getBytes(StandardCharsets.US_ASCII));
        byte[] b = zip.clone();
        b[pkl + 200] ^= 1; // inside data.pkl
        contains(fails("crc.pth", b), "tiny_zip/data.pkl", "CRC-32");
        b = zip.clone();
        int rec = indexOf(zip, "tiny_zip/data/0".getBytes(StandardCharsets.US_ASCII));
        b[rec + 100] ^= 1; // inside storage 0, after its local header and padding
        contains(fails("crc.pth", b), "tiny_zip/data/", "CRC-32");
    }

    @Test
    void damagedZipStructureFails() {
        byte[] zip = Fixtures.bytes("tiny_zip.pth");
        int eocd = lastIndexOf(zip, new byte[] {0x50, 0x4b, 0x05, 0x06});
        byte[] b = zip.clone();
        b[eocd + 16] ^= 0x40; // central directory offset
        contains(fails("cd.pth", b), "corrupt");
        b = zip.clone();
        int cd = indexOf(zip, new byte[] {0x50, 0x4b, 0x01, 0x02});
        b[cd] = 0; // central directory signature
        contains(fails("cd.pth", b), "central directory entry 0");
        b = zip.clone();
        b[cd + 42] ^= 0x10; // local header offset of the first entry
        contains(fails("cd.pth", b), "local header");
    }

    @Test
    void foreignZipArchivesFail() throws IOException {
        contains(fails("plain.zip", zip(ZipEntry.STORED, "readme.txt", "hello")), "without <name>/data.pkl");
        contains(fails("script.pt", zip(ZipEntry.STORED, "m/constants.pkl", "x")), "TorchScript");
        // a torch checkpoint re-packed with compression
        byte[] repacked = zip(ZipEntry.DEFLATED, "a/data.pkl", "\u0080\u0002}q\u0000.");
        contains(fails("deflated.pth", repacked), "compressed");
    }

    @Test
    void wrongMagicFails() {
        contains(fails("empty.pth", new byte[0]), "empty file");
        contains(fails("text.pth", "hello, world\n".getBytes(StandardCharsets.US_ASCII)), "not a checkpoint",
                "68 65 6c 6c 6f");
        contains(fails("one.pth", new byte[] {1}), "not a checkpoint");
        byte[] tar = new byte[1024];
        System.arraycopy("ustar".getBytes(StandardCharsets.US_ASCII), 0, tar, 257, 5);
        contains(fails("old.tar", tar), "tar");
        // a pickle of another number where torch's magic number belongs
        byte[] legacy = Fixtures.bytes("tiny_legacy.pth");
        byte[] b = legacy.clone();
        b[5] ^= 1;
        contains(fails("magic.pth", b), "not a torch checkpoint", "magic number");
        Path missing = dir.resolve("missing.pth");
        CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoint.load(missing));
        contains(e, "missing.pth", "no such file");
        e = assertThrows(CheckpointException.class, () -> Checkpoint.load(dir));
        contains(e, "not a regular file");
    }

    @Test
    void corruptLegacyStoragesFail() {
        byte[] legacy = Fixtures.bytes("tiny_legacy.pth");
        // the element count before the first storage's bytes (right after the keys pickle's STOP)
        int countAt = storageCountOffset(legacy);
        byte[] b = legacy.clone();
        b[countAt] ^= 1;
        contains(fails("count.pth", b), "corrupt", "elements at byte " + countAt, "the pickle declares");
        b = legacy.clone();
        b[countAt + 7] = 0x7f; // an enormous count: refused before allocating anything
        contains(fails("count.pth", b), "corrupt");
    }

    @Test
    void corruptSafetensorsFail() {
        contains(fails("h.safetensors", safetensors("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", new byte[8])),
                "tensor 'a'", "data_offsets [0, 4]");
        contains(fails("h.safetensors", safetensors("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", new byte[4])),
                "truncated", "tensor 'a'");
        contains(fails("h.safetensors", safetensors("{\"a\":{\"dtype\":\"C64\",\"shape\":[1],\"data_offsets\":[0,8]}}", new byte[8])),
                "tensor 'a'", "unsupported dtype \"C64\"");
        contains(fails("h.safetensors", safetensors("{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", new byte[4])),
                "tensor 'a'", "shape");
        contains(fails("h.safetensors", safetensors("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", new byte[8])), "'a' and 'b' overlap");
        contains(fails("h.safetensors", safetensors("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},}", new byte[4])),
                "not valid JSON");
        contains(fails("h.safetensors", safetensors("{\"a\":1,\"a\":2}", new byte[0])), "duplicate");
        contains(fails("h.safetensors", safetensors("{\"__metadata__\":{\"k\":1}}", new byte[0])), "__metadata__");
        byte[] huge = safetensors("{}", new byte[0]);
        huge[7] = 0x7f;
        contains(fails("h.safetensors", huge), "header length");
        // a valid file with padding, metadata and an empty tensor
        StateDict sd = Checkpoint.load(write("ok.safetensors", safetensors(
                "{\"__metadata__\":{\"k\":\"v\"},\"e\":{\"dtype\":\"BF16\",\"shape\":[0,2],\"data_offsets\":[0,0]},"
                        + "\"s\":{\"dtype\":\"I8\",\"shape\":[],\"data_offsets\":[0,1]}}     ", new byte[] {-5})));
        assertEquals(0, sd.get("e").numel());
        assertEquals(-5L, sd.get("s").toLongArray()[0]);
        assertEquals("v", sd.metadata().get("k"));
    }

    static byte[] safetensors(String header, byte[] data) {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h).put(data);
        return b.array();
    }

    private static byte[] zip(int method, String name, String content) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (ZipOutputStream z = new ZipOutputStream(out)) {
            byte[] data = content.getBytes(StandardCharsets.ISO_8859_1);
            ZipEntry e = new ZipEntry(name);
            e.setMethod(method);
            if (method == ZipEntry.STORED) {
                CRC32 crc = new CRC32();
                crc.update(data);
                e.setSize(data.length);
                e.setCrc(crc.getValue());
            }
            z.putNextEntry(e);
            z.write(data);
            z.closeEntry();
        }
        return out.toByteArray();
    }

    /** Offset of the first storage's element count in a legacy file: after the fifth pickle's STOP. */
    private static int storageCountOffset(byte[] legacy) {
        ByteBuffer in = ByteBuffer.wrap(legacy);
        Path p = Path.of("tiny_legacy.pth");
        for (int i = 0; i < 5; i++) {
            new RestrictedUnpickler(p, "pickle " + i, in, 0, pid -> new Storage("x", ElementType.FLOAT32, 1 << 20)).load();
        }
        return in.position();
    }

    private static int indexOf(byte[] hay, byte[] needle) {
        for (int i = 0; i + needle.length <= hay.length; i++) {
            if (Arrays.equals(hay, i, i + needle.length, needle, 0, needle.length)) {
                return i;
            }
        }
        throw new AssertionError("not found");
    }

    private static int lastIndexOf(byte[] hay, byte[] needle) {
        for (int i = hay.length - needle.length; i >= 0; i--) {
            if (Arrays.equals(hay, i, i + needle.length, needle, 0, needle.length)) {
                return i;
            }
        }
        throw new AssertionError("not found");
    }
}
