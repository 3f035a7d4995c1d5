package dev.maskrcnn4j.coco;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.maskrcnn4j.InvalidArgumentException;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class CocoRleTest {

    /** One line of src/test/resources/coco/rle_fixtures.tsv (tools/coco/make_rle_fixtures.py). */
    record Fixture(String name, int h, int w, byte[] mask, int[] counts, String string) {
    }

    private static List<Fixture> cached;

    static synchronized List<Fixture> fixtures() throws IOException {
        if (cached == null) {
            cached = List.copyOf(readFixtures());
        }
        return cached;
    }

    private static List<Fixture> readFixtures() throws IOException {
        List<Fixture> out = new ArrayList<>();
        try (InputStream in = CocoRleTest.class.getResourceAsStream("/coco/rle_fixtures.tsv")) {
            if (in == null) {
                throw new IOException("missing resource /coco/rle_fixtures.tsv");
            }
            BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.US_ASCII));
            for (String line; (line = r.readLine()) != null; ) {
                if (line.startsWith("#")) {
                    continue;
                }
                String[] f = line.split("\t", -1);
                assertEquals(6, f.length, line);
                int h = Integer.parseInt(f[1]);
                int w = Integer.parseInt(f[2]);
                int[] counts = Arrays.stream(f[4].split(",")).mapToInt(Integer::parseInt).toArray();
                out.add(new Fixture(f[0], h, w, buildMask(f[3], h, w), counts, f[5]));
            }
        }
        assertTrue(out.size() > 50, "fixtures: " + out.size());
        return out;
    }

    private static byte[] buildMask(String spec, int h, int w) {
        byte[] m = new byte[h * w];
        if (spec.startsWith("bits:")) {
            String hex = spec.substring(5);
            for (int i = 0; i < m.length; i++) {
                int b = Integer.parseInt(hex.substring((i / 8) * 2, (i / 8) * 2 + 2), 16);
                m[i] = (byte) ((b >> (7 - i % 8)) & 1);
            }
        } else if (spec.startsWith("rects:")) {
            String body = spec.substring(6);
            if (!body.isEmpty()) {
                for (String rect : body.split(";")) {
                    int[] v = Arrays.stream(rect.split(",")).mapToInt(Integer::parseInt).toArray();
                    for (int y = v[0]; y < v[1]; y++) {
                        Arrays.fill(m, y * w + v[2], y * w + v[3], (byte) 1);
                    }
                }
            }
        } else {
            throw new AssertionError("bad mask spec " + spec);
        }
        return m;
    }

    private static boolean[] toBooleans(byte[] m) {
        boolean[] b = new boolean[m.length];
        for (int i = 0; i < m.length; i++) {
            b[i] = m[i] != 0;
        }
        return b;
    }

    /** Straightforward bbox [x, y, w, h] of a row-major mask. */
    private static int[] naiveBbox(byte[] m, int h, int w) {
        int xs = w;
        int ys = h;
        int xe = -1;
        int ye = -1;
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                if (m[y * w + x] != 0) {
                    xs = Math.min(xs, x);
                    xe = Math.max(xe, x);
                    ys = Math.min(ys, y);
                    ye = Math.max(ye, y);
                }
            }
        }
        return xe < 0 ? new int[] {0, 0, 0, 0} : new int[] {xs, ys, xe - xs + 1, ye - ys + 1};
    }

    private static long ones(byte[] m) {
        long a = 0;
        for (byte b : m) {
            a += b != 0 ? 1 : 0;
        }
        return a;
    }

    // ---------------------------------------------------------------------------------------

    @Test
    void matchesIndependentPythonReference() throws IOException {
        for (Fixture f : fixtures()) {
            CocoRle rle = CocoRle.encode(f.mask(), f.h(), f.w());
            assertArrayEquals(f.counts(), rle.counts(), f.name());
            assertEquals(f.string(), rle.countsString(), f.name());
            assertEquals(rle, CocoRle.encode(toBooleans(f.mask()), f.h(), f.w()), f.name() + " (boolean[])");
            assertEquals(rle, CocoRle.ofCounts(f.h(), f.w(), f.counts()), f.name());

            CocoRle parsed = CocoRle.fromString(f.h(), f.w(), f.string());
            assertEquals(rle, parsed, f.name());
            assertArrayEquals(f.mask(), parsed.decode(), f.name() + " decode");
            assertEquals(ones(f.mask()), parsed.area(), f.name() + " area");
            assertArrayEquals(naiveBbox(f.mask(), f.h(), f.w()), parsed.bbox(), f.name() + " bbox");
            assertArrayEquals(new int[] {f.h(), f.w()}, parsed.size());
        }
    }

    @Test
    void anyNonzeroByteIsForeground() throws IOException {
        Random rnd = new Random(7);
        for (Fixture f : fixtures()) {
            if (f.mask().length > 100_000) {
                continue;
            }
            byte[] m = f.mask().clone();
            for (int i = 0; i < m.length; i++) {
                if (m[i] != 0) {
                    m[i] = (byte) (1 + rnd.nextInt(255)); // 1..255, negative bytes included
                }
            }
            assertEquals(f.string(), CocoRle.encode(m, f.h(), f.w()).countsString(), f.name());
        }
    }

    @Test
    void publishedExamples() {
        // Uncompressed counts [5, 2, 2, 2, 5] of a 4x4 mask <-> "52203" (5, 2, 2, then 2-2 and 5-2).
        CocoRle small = CocoRle.fromString(4, 4, "52203");
        assertArrayEquals(new int[] {5, 2, 2, 2, 5}, small.counts());
        assertEquals("52203", CocoRle.ofCounts(4, 4, 5, 2, 2, 2, 5).countsString());
        assertEquals(4, small.area());

        // A 5x5 square in a 25x25 mask at three places (worked by hand: e.g. 130 = 2 + 4*32 -> 'R' '4',
        // 20 -> 'd' '0' since bit 4 of the group reads as a sign, 520 = 8 + 16*32 -> 'X' '`' '0').
        assertEquals("05d00000000d?", square25(0).countsString());
        assertEquals("R45d00000000b;", square25(5).countsString());
        assertEquals("X`05d00000000", square25(20).countsString());

        // cocoapi's toBbox tests.
        assertArrayEquals(new int[] {0, 0, 2, 2}, CocoRle.encode(new byte[] {0, 1, 1, 1}, 2, 2).bbox());
        byte[] m = new byte[100];
        for (int y = 2; y < 4; y++) {
            for (int x = 3; x < 6; x++) {
                m[y * 10 + x] = 1;
            }
        }
        assertArrayEquals(new int[] {3, 2, 3, 2}, CocoRle.encode(m, 10, 10).bbox());
    }

    private static CocoRle square25(int at) {
        byte[] m = new byte[25 * 25];
        for (int y = at; y < at + 5; y++) {
            for (int x = at; x < at + 5; x++) {
                m[y * 25 + x] = 1;
            }
        }
        return CocoRle.encode(m, 25, 25);
    }

    /** cocoapi's regression input "with 3 leading zeros": counts 0, 0, 0, 764, ... (a zero-length foreground run). */
    private static final String ZERO_LEADING = "000lg0Zb01O00001O00001O001O00001O00001O001O00001O01O2N3M3M3M2N3M3N2M3M2N1O1O1O1O2N1O1O1O2N1O1O101N1O1O1O2N1O1O1O2N3M2N1O2N1O2O0O2N1O1O2N1O2N1O2N1O2N1O2N1O2O0O2N1O3M2N1O2N2N2N2N2N1O2N2N2N2N1O2N2N2N2N2N1N3N2N00O1O1O1O100000000000000O100000000000000001O0000001O00001O0O5L7I5K4L4L3M2N2N2N1O2m]OoXOm`0Sg0j^OVYOTa0lf0c^O]YO[a0ef0\\^OdYOba0bg0N2N2N2N2N2N2N2N2N2N2N2N2N2N2N2N2N3M2M4M2N3M2N3M2N3M2N3M2N3M2N3M2N3M2N3M2M4M2N2N3M2M4M2N2N3M2M3N3M2N3M2M3N3M2N2N3L3N2N3M2N3L3N2N3M5J4M3M4L3M3L5L3M3M4L3L4\\EXTOd6jo0K6J5K6I4M1O1O1O1N2O1O1O001N2O00001O0O101O000O2O00001N101N101N2N101N101N101N2O0O2O0O2O0O2O1N101N2N2O1N2O1N2O1N101N2O1N2O1N2O0O2O1N2N2O1N2O0O2O1N2O1N2N2N1N4M2N2M4M2N3L3N2N3L3N3L3N2N3L3N2N3L3M4L3M3M4L3M5K5K5K6J5K5K6J7I7I7Ibijn0";

    @Test
    void zeroLengthRunsDecode() {
        CocoRle rle = CocoRle.fromString(1350, 1080, ZERO_LEADING);
        int[] c = rle.counts();
        assertArrayEquals(new int[] {0, 0, 0, 764}, Arrays.copyOf(c, 4));
        assertEquals(152584, rle.area()); // independent Python decode (tools/coco/make_rle_fixtures.from_string)
        assertArrayEquals(new int[] {0, 0, 331, 776}, rle.bbox());
        byte[] mask = rle.decode();
        assertEquals(152584, ones(mask));
        assertArrayEquals(new int[] {0, 0, 331, 776}, naiveBbox(mask, 1350, 1080));
        CocoRle canonical = CocoRle.encode(mask, 1350, 1080);
        assertArrayEquals(Arrays.copyOfRange(c, 2, c.length), canonical.counts()); // the empty runs collapse
        assertNotEquals(rle, canonical);
        assertArrayEquals(mask, CocoRle.fromString(1350, 1080, canonical.countsString()).decode());
    }

    /** The string of cocoapi's "invalid RLE counts" test, whose source doubled three backslashes. */
    private static final String INVALID_1024 = "jd`0=`o06J5L4M3L3N2N2N2N2N1O2N2N101N1O2O0O1O2N100O1O2N100O1O1O1O1O101N1O1O1O1O1O1O101N1O100O101O0O100000000000000001O00001O1O0O2O1N3N1N3N3L5Kh0XO6J4K5L5Id[o5N]dPJ7K4K4M3N2M3N2N1O2N100O2O0O1000O01000O101N1O1O2N2N2M3M3M4J7Inml5H[RSJ6L2N2N2N2O000000000000O2O1N2N2Mkm81SRG6L3L3N2O1N2N2O0O2O00001O0000000000O2O001N2O0O2N2N3M3L5JRjf6MPVYI8J4L3N3M2N1O2O1N101N1000000O10000001O000O101N101N1O2N2N2N3L4L7FWZ_50ne`J0000001O000000001O0000001O1O0N3M3N1O2N2N2O1N2O001N2`RO^O`k0c0[TOEak0;\\\\TOJbk07\\\\TOLck03[TO0dk01ZTO2dk0OYTO4gk0KXTO7gk0IXTO8ik0HUTO:kk0ETTO=lk0CRTO>Pl0@oSOb0Rl0\\\\OmSOe0Tl0[OjSOg0Ul0YOiSOi0Wl0XOgSOi0Yl0WOeSOk0[l0VOaSOn0kh0cNmYO";

    @Test
    void invalidPublishedStringIsRejectedAndItsUnescapedFormIsValid() {
        InvalidArgumentException e = assertThrows(InvalidArgumentException.class,
                () -> CocoRle.fromString(1024, 1024, INVALID_1024));
        assertTrue(e.getMessage().contains("outside [0, 1048576]"), e.getMessage());
        // With each doubled backslash single, as it was in the JSON it came from, the string is a valid
        // mask that re-encodes to itself (values from the independent Python decoder).
        String valid = INVALID_1024.replace("\\\\", "\\");
        CocoRle rle = CocoRle.fromString(1024, 1024, valid);
        assertEquals(497, rle.runCount());
        assertEquals(8318, rle.area());
        assertArrayEquals(new int[] {16, 0, 1008, 1024}, rle.bbox());
        assertEquals(valid, CocoRle.encode(rle.decode(), 1024, 1024).countsString());
    }

    @Test
    void jsonEscapesBackslash() throws IOException {
        Fixture f = fixtures().stream().filter(x -> x.name().equals("large_negative_delta")).findFirst().orElseThrow();
        assertEquals("0PlcT15ST\\kNS\\QP1", f.string());
        assertEquals("{\"size\":[1500,1500],\"counts\":\"0PlcT15ST\\\\kNS\\\\QP1\"}",
                CocoRle.encode(f.mask(), 1500, 1500).toJson());
        assertEquals("{\"size\":[0,0],\"counts\":\"0\"}", CocoRle.encode(new byte[0], 0, 0).toJson());
    }

    @Test
    void randomRoundTrips() {
        Random rnd = new Random(12345);
        for (int iter = 0; iter < 300; iter++) {
            int h = 1 + rnd.nextInt(iter < 100 ? 9 : 200);
            int w = 1 + rnd.nextInt(iter < 100 ? 9 : 200);
            byte[] m = new byte[h * w];
            switch (iter % 3) {
                case 0 -> { // independent pixels
                    double p = rnd.nextDouble();
                    for (int i = 0; i < m.length; i++) {
                        m[i] = rnd.nextDouble() < p ? (byte) 1 : 0;
                    }
                }
                case 1 -> { // rectangles (long runs)
                    for (int k = rnd.nextInt(5); k >= 0; k--) {
                        int y0 = rnd.nextInt(h);
                        int x0 = rnd.nextInt(w);
                        int y1 = y0 + 1 + rnd.nextInt(h - y0);
                        int x1 = x0 + 1 + rnd.nextInt(w - x0);
                        byte v = (byte) (rnd.nextInt(4) == 0 ? 0 : 1);
                        for (int y = y0; y < y1; y++) {
                            Arrays.fill(m, y * w + x0, y * w + x1, v);
                        }
                    }
                }
                default -> { // row-wise runs of random lengths
                    int i = 0;
                    byte v = (byte) rnd.nextInt(2);
                    while (i < m.length) {
                        int len = 1 + rnd.nextInt(3 * w);
                        Arrays.fill(m, i, Math.min(m.length, i + len), v);
                        i += len;
                        v ^= 1;
                    }
                }
            }
            CocoRle rle = CocoRle.encode(m, h, w);
            long sum = Arrays.stream(rle.counts()).asLongStream().sum();
            assertEquals((long) h * w, sum);
            int[] counts = rle.counts();
            for (int i = 1; i < counts.length; i++) {
                assertTrue(counts[i] > 0, "encode writes no empty run after the first");
            }
            CocoRle back = CocoRle.fromString(h, w, rle.countsString());
            assertEquals(rle, back);
            assertArrayEquals(m, back.decode(), h + "x" + w);
            assertEquals(ones(m), back.area());
            assertArrayEquals(naiveBbox(m, h, w), back.bbox());
        }
    }

    @Test
    void encodesOneMaskOfABatch() throws IOException {
        List<Fixture> small = fixtures().stream().filter(f -> f.h() == 13 && f.w() == 17).toList();
        int n = 13 * 17;
        byte[] batch = new byte[small.size() * n + 3];
        for (int i = 0; i < small.size(); i++) {
            System.arraycopy(small.get(i).mask(), 0, batch, 3 + i * n, n);
        }
        for (int i = 0; i < small.size(); i++) {
            assertEquals(small.get(i).string(), CocoRle.encode(batch, 3 + i * n, 13, 17).countsString(), small.get(i).name());
        }
        assertThrows(InvalidArgumentException.class, () -> CocoRle.encode(batch, 4 + (small.size() - 1) * n, 13, 17));
        assertThrows(InvalidArgumentException.class, () -> CocoRle.encode(batch, -1, 13, 17));
    }

    @Test
    void decodeIntoOverwritesEveryByte() {
        byte[] m = {0, 1, 1, 0, 0, 1};
        CocoRle rle = CocoRle.encode(m, 2, 3);
        byte[] out = new byte[6];
        Arrays.fill(out, (byte) 7);
        rle.decodeInto(out);
        assertArrayEquals(m, out);
        byte[] row = new byte[6];
        Arrays.fill(row, (byte) 7);
        CocoRle.encode(m, 1, 6).decodeInto(row);
        assertArrayEquals(m, row);
        assertThrows(InvalidArgumentException.class, () -> rle.decodeInto(new byte[5]));
    }

    @Test
    void rejectsBadInput() {
        assertThrows(InvalidArgumentException.class, () -> CocoRle.encode(new byte[5], 2, 3));
        assertThrows(InvalidArgumentException.class, () -> CocoRle.encode((byte[]) null, 2, 3));
        assertThrows(InvalidArgumentException.class, () -> CocoRle.encode(new boolean[7], 2, 3));
        assertThrows(InvalidArgumentException.class, () -> CocoRle.encode(new byte[0], -1, 0));
        assertThrows(InvalidArgumentException.class, () -> CocoRle.fromString(65536, 65536, "0"));
        assertThrows(InvalidArgumentException.class, () -> CocoRle.ofCounts(2, 2, 1, 2));
        assertThrows(InvalidArgumentException.class, () -> CocoRle.ofCounts(2, 2, 5, -1));
        assertThrows(InvalidArgumentException.class, () -> CocoRle.fromString(2, 2, null));
        assertThrows(InvalidArgumentException.class, () -> CocoRle.fromString(2, 2, "3"));   // sums to 3
        assertThrows(InvalidArgumentException.class, () -> CocoRle.fromString(2, 2, "14"));  // sums to 5
        assertThrows(InvalidArgumentException.class, () -> CocoRle.fromString(2, 2, "4p"));  // 'p' > 'o'
        assertThrows(InvalidArgumentException.class, () -> CocoRle.fromString(2, 2, "4/"));  // '/' < '0'
        assertThrows(InvalidArgumentException.class, () -> CocoRle.fromString(2, 2, "4 "));
        assertThrows(InvalidArgumentException.class, () -> CocoRle.fromString(2, 2, "4P"));  // ends inside a value
        assertThrows(InvalidArgumentException.class, () -> CocoRle.fromString(2, 2, "?"));   // -1
        assertThrows(InvalidArgumentException.class, () -> CocoRle.fromString(2, 2, "PPPPPPPP0"));
        assertEquals(4, CocoRle.fromString(2, 2, "04").area());
        assertEquals(0, CocoRle.fromString(2, 2, "4").area());
    }
}
