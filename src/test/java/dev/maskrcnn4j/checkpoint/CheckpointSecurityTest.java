package dev.maskrcnn4j.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Pickles that would run code in Python's unpickler are refused by the global they name; nothing runs. */
class CheckpointSecurityTest {
    @BeforeAll
    static void noMarker() throws Exception {
        Files.deleteIfExists(Path.of(Fixtures.PAYLOAD_MARKER));
    }

    @ParameterizedTest
    @CsvSource({
        "evil_system_zip.pth, posix.system",
        "evil_system_legacy.pth, posix.system",
        "evil_system_stack_global_zip.pth, posix.system",
        "evil_eval_zip.pth, __builtin__.eval",
        "evil_class_newobj_zip.pth, __main__.Payload",
        "evil_class_reduce_legacy.pth, __main__.Payload",
        "evil_system.pkl, posix.system",
        "evil_eval.pkl, builtins.eval",
    })
    void refusesNonWhitelistedGlobalsByName(String fixture, String global) {
        CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoint.load(Fixtures.path(fixture)));
        String m = e.getMessage();
        assertTrue(m.contains("refused pickle global '" + global + "'"), m);
        assertTrue(m.contains(fixture), m);
        assertTrue(m.contains("nothing was executed"), m);
        assertFalse(Files.exists(Path.of(Fixtures.PAYLOAD_MARKER)), "the payload ran");
    }

    @Test
    void refusesAtTheGlobalBeforeAnyCall(@TempDir Path dir) {
        // GLOBAL 'os system' then an unknown opcode: the global is refused first, so the
        // error never gets to REDUCE (or to the bad opcode after it)
        byte[] p = concat(new byte[] {(byte) 0x80, 2}, ascii("cos\nsystem\n"), new byte[] {(byte) 0xff});
        CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoint.load(Fixtures.write(dir, "g.pkl", p)));
        assertTrue(e.getMessage().contains("'os.system'") && e.getMessage().contains("byte 2"), e.getMessage());
    }

    @ParameterizedTest
    @CsvSource({
        "69, INST",     // 'i': instantiates a class named on the line
        "6f, OBJ",      // 'o'
        "50, PERSID",   // 'P': text persistent id
        "82, EXT1",     // extension registry
        "53, STRING",   // 'S': protocol 0 text
        "ff, unknown",
    })
    void refusesUnsupportedOpcodesByName(String hex, String name, @TempDir Path dir) {
        byte op = (byte) Integer.parseInt(hex, 16);
        byte[] p = {(byte) 0x80, 2, op, 'a', '\n', 'b', '\n', '.'};
        CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoint.load(Fixtures.write(dir, "op.pkl", p)));
        assertTrue(e.getMessage().contains(name) && e.getMessage().contains("op.pkl"), e.getMessage());
        assertTrue(e.getMessage().contains("0x" + hex) && e.getMessage().contains("byte 2"), e.getMessage());
    }

    @Test
    void callsOnlyWhatAStateDictCalls(@TempDir Path dir) {
        // torch.FloatStorage is whitelisted as a persistent-id argument, not as a callable
        byte[] p = concat(new byte[] {(byte) 0x80, 2}, ascii("ctorch\nFloatStorage\n"), new byte[] {')', 'R', '.'});
        CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoint.load(Fixtures.write(dir, "c.pkl", p)));
        assertTrue(e.getMessage().contains("torch.FloatStorage, which a state dict never calls"), e.getMessage());
        // BUILD on anything but an OrderedDict
        byte[] b = {(byte) 0x80, 2, ']', '}', 'b', '.'};
        e = assertThrows(CheckpointException.class, () -> Checkpoint.load(Fixtures.write(dir, "b.pkl", b)));
        assertTrue(e.getMessage().contains("BUILD of a list"), e.getMessage());
    }

    @Test
    void refusesKeysThatCannotBeHashedSafely(@TempDir Path dir) {
        // L = []; T = (L,); L.append(T); {T: 1}: hashing T would recurse forever
        byte[] cyclic = {(byte) 0x80, 2, '}', ']', 'q', 0, 'h', 0, (byte) 0x85, 'q', 1, 'a', '0', 'h', 1, 'K', 1, 's', '.'};
        CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoint.load(Fixtures.write(dir, "cyc.pkl", cyclic)));
        assertTrue(e.getMessage().contains("unhashable dict key a list"), e.getMessage());
        // a key of 10000 nested tuples
        ByteArrayOutputStream deep = new ByteArrayOutputStream();
        deep.writeBytes(new byte[] {(byte) 0x80, 2, '}', 'N'});
        for (int i = 0; i < 10000; i++) {
            deep.write(0x85);
        }
        deep.writeBytes(new byte[] {'N', 's', '.'});
        e = assertThrows(CheckpointException.class, () -> Checkpoint.load(Fixtures.write(dir, "deep.pkl", deep.toByteArray())));
        assertTrue(e.getMessage().contains("nested deeper than"), e.getMessage());
    }

    @Test
    void whitelistIsExactlyWhatAStateDictNeeds() {
        for (String name : RestrictedUnpickler.WHITELIST.keySet()) {
            assertTrue(name.equals("collections.OrderedDict") || name.startsWith("torch._utils._rebuild_")
                    || name.matches("torch\\.(cuda\\.)?[A-Za-z0-9]+Storage"), name);
        }
        assertEquals(5 + 2 * ElementType.values().length, RestrictedUnpickler.WHITELIST.size());
    }

    /** Plain data of pickle protocols 2 and 4 (make_fixtures.py plain_values): every value and the shared memo. */
    @ParameterizedTest
    @CsvSource({"plain_p2.pkl, false", "plain_p4.pkl, true"})
    @SuppressWarnings("unchecked")
    void readsPlainPickles(String fixture, boolean withBytes) {
        ByteBuffer in = ByteBuffer.wrap(Fixtures.bytes(fixture));
        Object o = new RestrictedUnpickler(Fixtures.path(fixture), fixture, in, 0, null).load();
        assertEquals(in.limit(), in.position(), "read up to STOP");
        Map<Object, Object> m = (Map<Object, Object>) o;
        assertEquals(Arrays.asList(0L, 1L, -1L, 255L, 256L, 65535L, 65536L, -(1L << 31), (1L << 31) - 1, 1L << 31,
                Long.MAX_VALUE, Long.MIN_VALUE, BigInteger.TWO.pow(70), BigInteger.TWO.pow(70).negate()), m.get("int"));
        List<Object> floats = (List<Object>) m.get("float");
        assertEquals(1.5, floats.get(0));
        assertEquals(Double.doubleToRawLongBits(-0.0), Double.doubleToRawLongBits((Double) floats.get(1)));
        assertEquals(1e300, floats.get(2));
        assertEquals(List.of("", "ascii", "\u00fcn\u00ef\u20ac\ud83d\ude00", "x".repeat(300)), m.get("str"));
        assertEquals(List.of(new RestrictedUnpickler.Tuple(), new RestrictedUnpickler.Tuple(1L),
                new RestrictedUnpickler.Tuple(1L, 2L), new RestrictedUnpickler.Tuple(1L, 2L, 3L),
                new RestrictedUnpickler.Tuple(1L, 2L, 3L, 4L)), m.get("tuple"));
        assertTrue(m.containsKey("none"));
        assertNull(m.get("none"));
        assertEquals(List.of(true, false), m.get("bools"));
        Map<Object, Object> nested = (Map<Object, Object>) m.get("nested");
        assertEquals(Map.of("b", List.of(1L, List.of(2L, List.of(3L)))), nested.get("a"));
        assertEquals("tuple key", nested.get(new RestrictedUnpickler.Tuple(1L, "k")));
        List<Object> shared = (List<Object>) m.get("shared");
        assertSame(shared.get(0), shared.get(1), "memo keeps shared references");
        if (withBytes) {
            List<Object> bytes = (List<Object>) m.get("bytes");
            assertArrayEquals(new byte[0], (byte[]) bytes.get(0));
            assertArrayEquals(new byte[] {0, (byte) 0xff}, (byte[]) bytes.get(1));
            assertEquals(300, ((byte[]) bytes.get(2)).length);
        } else {
            assertFalse(m.containsKey("bytes"));
        }
    }

    @Test
    void plainPickleIsNotACheckpoint() {
        CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoint.load(Fixtures.path("plain_p4.pkl")));
        assertTrue(e.getMessage().contains("not a torch checkpoint") && e.getMessage().contains("plain_p4.pkl"), e.getMessage());
    }

    static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }
}
