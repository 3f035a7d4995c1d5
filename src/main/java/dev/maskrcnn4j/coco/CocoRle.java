package dev.maskrcnn4j.coco;

import dev.maskrcnn4j.InvalidArgumentException;
import java.util.Arrays;

/**
 * A binary mask in COCO's run-length encoding (RLE), as the cocoapi ({@code pycocotools.mask})
 * writes it: the "segmentation" of an instance in a COCO results file.
 *
 * <p>The format. A mask of {@code height} rows and {@code width} columns is read in column-major
 * (Fortran) order — pixel (row y, column x) is element {@code x * height + y} — and
 * {@link #counts()} are the lengths of the alternating runs of zeros and ones of that sequence,
 * starting with a run of zeros (of length 0 when the first pixel is set); their sum is
 * {@code height * width}. The compressed form ({@link #countsString()}, the "counts" string of
 * COCO JSON) writes each count, after count {@code i} is replaced by {@code count[i] - count[i-2]}
 * for {@code i >= 3}, as the fewest little-endian signed 5-bit groups that hold it, one character
 * {@code 48 + group + (32 if another group follows)} each (characters '0' to 'o').
 *
 * <p>Inputs are row-major ({@code mask[y * width + x]}), any nonzero byte (or {@code true}) is
 * foreground. Instances are immutable.
 *
 * <pre>{@code
 * CocoRle rle = CocoRle.encode(mask, h, w);
 * String json = rle.toJson();          // {"size":[h,w],"counts":"..."}
 * long area = rle.area();
 * byte[] back = CocoRle.fromString(h, w, rle.countsString()).decode();
 * }</pre>
 */
public final class CocoRle {
    /** Groups of 5 bits that any count or difference of counts (|v| < 2^32) needs at most. */
    private static final int MAX_GROUPS = 7;

    private final int height;
    private final int width;
    private final int[] counts;

    private CocoRle(int height, int width, int[] counts) {
        this.height = height;
        this.width = width;
        this.counts = counts;
    }

    // ---------------------------------------------------------------------------------------
    // Construction

    /**
     * Encodes a row-major mask ({@code mask[y * width + x]}, nonzero = foreground).
     *
     * <p>Works on the row-major bytes directly, without transposing: a run of the column-major
     * sequence ends where a pixel differs from the one above it (or, at the top of a column, from
     * the bottom of the previous column), and each row is compared with the one above by
     * {@link Arrays#mismatch} (vectorised by the JVM, fast even before this code is compiled), so
     * the cost is one streaming pass over the mask plus a little per run.
     */
    public static CocoRle encode(byte[] mask, int height, int width) {
        int n = checkedArea(height, width);
        checkLength(mask == null ? -1 : mask.length, n, "mask");
        return encodeAt(mask, 0, height, width, n);
    }

    /**
     * Encodes the row-major mask at {@code masks[offset .. offset + height * width)}, e.g. one mask
     * of a batch {@code [N, height, width]} at {@code offset = i * height * width}.
     */
    public static CocoRle encode(byte[] masks, int offset, int height, int width) {
        int n = checkedArea(height, width);
        if (masks == null) {
            throw new InvalidArgumentException("mask is null");
        }
        if (offset < 0 || (long) offset + n > masks.length) {
            throw new InvalidArgumentException("mask of " + height + "x" + width + " at offset " + offset
                    + " does not fit in an array of " + masks.length);
        }
        return encodeAt(masks, offset, height, width, n);
    }

    private static CocoRle encodeAt(byte[] mask, int offset, int height, int width, int n) {
        if (n == 0) {
            return new CocoRle(height, width, new int[] {0});
        }
        int h = height;
        int w = width;
        Edges e = new Edges(w);
        boolean above = false; // the pixel before the top of column x: the bottom of column x - 1
        int bottom = offset + (h - 1) * w;
        for (int x = 0; x < w; x++) {
            if ((mask[offset + x] != 0) != above) {
                e.add(x, 0);
            }
            above = mask[bottom + x] != 0;
        }
        for (int y = 1; y < h; y++) {
            int row = offset + y * w;
            int up = row - w;
            int x = 0;
            while (x < w) { // jump from one differing byte to the next (a vectorised intrinsic)
                int k = Arrays.mismatch(mask, row + x, row + w, mask, up + x, up + w);
                if (k < 0) {
                    break;
                }
                x += k;
                if ((mask[row + x] != 0) != (mask[up + x] != 0)) { // (bytes 1 and 2 differ, yet are both set)
                    e.add(x, y);
                }
                x++;
            }
        }
        return new CocoRle(height, width, e.counts(h, n));
    }

    /** Encodes a row-major mask ({@code mask[y * width + x]}). */
    public static CocoRle encode(boolean[] mask, int height, int width) {
        int n = checkedArea(height, width);
        checkLength(mask == null ? -1 : mask.length, n, "mask");
        if (n == 0) {
            return new CocoRle(height, width, new int[] {0});
        }
        int h = height;
        int w = width;
        Edges e = new Edges(w);
        boolean above = false;
        int bottom = (h - 1) * w;
        for (int x = 0; x < w; x++) {
            if (mask[x] != above) {
                e.add(x, 0);
            }
            above = mask[bottom + x];
        }
        for (int y = 1; y < h; y++) {
            int row = y * w;
            int up = row - w;
            int x = 0;
            while (x < w) {
                int k = Arrays.mismatch(mask, row + x, row + w, mask, up + x, up + w);
                if (k < 0) {
                    break;
                }
                x += k;
                e.add(x, y);
                x++;
            }
        }
        return new CocoRle(height, width, e.counts(h, n));
    }

    /**
     * An RLE from its uncompressed counts (the "counts" list of an uncompressed COCO RLE): each
     * count must be non-negative and they must sum to {@code height * width}.
     */
    public static CocoRle ofCounts(int height, int width, int... counts) {
        int n = checkedArea(height, width);
        if (counts == null) {
            throw new InvalidArgumentException("RLE counts are null");
        }
        long sum = 0;
        for (int i = 0; i < counts.length; i++) {
            if (counts[i] < 0) {
                throw new InvalidArgumentException("RLE count " + i + " is negative: " + counts[i]);
            }
            sum += counts[i];
        }
        if (sum != n) {
            throw new InvalidArgumentException("RLE counts sum to " + sum + ", not " + height + "x" + width + " = " + n);
        }
        return new CocoRle(height, width, counts.clone());
    }

    /**
     * Decodes a compressed counts string (COCO JSON's "counts" for a mask of size [height, width]).
     * Throws {@link InvalidArgumentException} for a character outside '0'..'o', a truncated or
     * oversized value, a negative count, or counts that do not sum to {@code height * width}.
     */
    public static CocoRle fromString(int height, int width, String countsString) {
        int n = checkedArea(height, width);
        if (countsString == null) {
            throw new InvalidArgumentException("RLE counts string is null");
        }
        String s = countsString;
        int len = s.length();
        int[] cnts = new int[Math.max(1, len)];
        int m = 0;
        long sum = 0;
        int p = 0;
        while (p < len) {
            int first = p;
            long x = 0;
            int k = 0;
            boolean more;
            do {
                if (p >= len) {
                    throw invalidString(s, first, "ends inside a value");
                }
                if (k == MAX_GROUPS) {
                    throw invalidString(s, first, "has a value longer than " + MAX_GROUPS + " characters");
                }
                int c = s.charAt(p) - 48;
                if (c < 0 || c > 63) {
                    throw invalidString(s, p, "has a character outside '0'..'o': '" + s.charAt(p) + "'");
                }
                x |= (long) (c & 0x1f) << (5 * k);
                more = (c & 0x20) != 0;
                p++;
                k++;
                if (!more && (c & 0x10) != 0) {
                    x |= -1L << (5 * k); // sign-extend the last group
                }
            } while (more);
            if (m > 2) {
                x += cnts[m - 2];
            }
            if (x < 0 || x > n) {
                throw invalidString(s, first, "gives count " + m + " = " + x + ", outside [0, " + n + "]");
            }
            cnts[m++] = (int) x;
            sum += x;
        }
        if (sum != n) {
            throw new InvalidArgumentException("RLE counts string \"" + abbreviate(s) + "\" sums to " + sum
                    + " pixels, not " + height + "x" + width + " = " + n);
        }
        return new CocoRle(height, width, Arrays.copyOf(cnts, m));
    }

    // ---------------------------------------------------------------------------------------
    // Accessors

    public int height() {
        return height;
    }

    public int width() {
        return width;
    }

    /** COCO's "size": {@code [height, width]}. */
    public int[] size() {
        return new int[] {height, width};
    }

    /** The uncompressed counts (a copy): alternating runs, zeros first, column-major. */
    public int[] counts() {
        return counts.clone();
    }

    /** Number of runs (the length of {@link #counts()}). */
    public int runCount() {
        return counts.length;
    }

    /** Number of foreground pixels. */
    public long area() {
        long a = 0;
        for (int i = 1; i < counts.length; i += 2) {
            a += counts[i];
        }
        return a;
    }

    /**
     * The tight box of the foreground as COCO writes it, {@code [x, y, width, height]} in pixels
     * ({@code [0, 0, 0, 0]} for an empty mask).
     */
    public int[] bbox() {
        int xs = Integer.MAX_VALUE;
        int ys = Integer.MAX_VALUE;
        int xe = -1;
        int ye = -1;
        long pos = 0;
        for (int i = 0; i < counts.length; i++) {
            long start = pos;
            pos += counts[i];
            if ((i & 1) == 0 || counts[i] == 0) {
                continue;
            }
            long last = pos - 1;
            int x0 = (int) (start / height);
            int x1 = (int) (last / height);
            xs = Math.min(xs, x0);
            xe = Math.max(xe, x1);
            if (x0 != x1) { // the run wraps from the bottom of one column to the top of the next
                ys = 0;
                ye = height - 1;
            } else {
                ys = Math.min(ys, (int) (start % height));
                ye = Math.max(ye, (int) (last % height));
            }
        }
        if (xe < 0) {
            return new int[] {0, 0, 0, 0};
        }
        return new int[] {xs, ys, xe - xs + 1, ye - ys + 1};
    }

    /** The compressed counts string (COCO JSON's "counts"). */
    public String countsString() {
        StringBuilder sb = new StringBuilder(counts.length * 2 + 4);
        for (int i = 0; i < counts.length; i++) {
            long x = counts[i];
            if (i > 2) {
                x -= counts[i - 2];
            }
            boolean more;
            do {
                int c = (int) (x & 0x1f);
                x >>= 5;
                more = (c & 0x10) != 0 ? x != -1 : x != 0;
                if (more) {
                    c |= 0x20;
                }
                sb.append((char) (c + 48));
            } while (more);
        }
        return sb.toString();
    }

    /** {@code {"size":[height,width],"counts":"..."}}: the "segmentation" object of a COCO result. */
    public String toJson() {
        String s = countsString();
        StringBuilder sb = new StringBuilder(s.length() + 40);
        sb.append("{\"size\":[").append(height).append(',').append(width).append("],\"counts\":\"");
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' || c == '"') { // '\\' (92) occurs; '"' (34) cannot, but costs nothing
                sb.append('\\');
            }
            sb.append(c);
        }
        return sb.append("\"}").toString();
    }

    /** The mask, row-major ({@code [y * width + x]}), 1 for foreground, 0 elsewhere. */
    public byte[] decode() {
        byte[] out = new byte[checkedArea(height, width)];
        decodeInto(out);
        return out;
    }

    /** Writes the mask into {@code out} (length {@code height * width}), row-major, 0 or 1 each byte. */
    public void decodeInto(byte[] out) {
        int n = height * width;
        checkLength(out == null ? -1 : out.length, n, "output mask");
        if (n == 0) {
            return;
        }
        int h = height;
        int w = width;
        // Row 0 gets the value at the top of each column. Every run boundary below the top of a
        // column toggles its pixel relative to the pixel above; so each further row is a copy of
        // the row above with its toggles applied. Boundaries of empty runs coincide and cancel.
        Edges toggles = new Edges(h); // bucketed by row: (row, column) pairs
        int x = 0;
        int y = 0; // (x, y): where the current run starts
        for (int k = 0; k < counts.length; k++) {
            int c = counts[k];
            byte v = (byte) (k & 1);
            if (c > 0) {
                if (y == 0) {
                    out[x] = v;
                }
                if (c < h - y) {
                    y += c;
                } else {
                    int rest = c - (h - y);
                    x++;
                    y = 0;
                    while (rest > 0) { // the top of column x is inside this run
                        out[x] = v;
                        if (rest >= h) {
                            rest -= h;
                            x++;
                        } else {
                            y = rest;
                            rest = 0;
                        }
                    }
                }
            }
            if (y > 0) {
                toggles.add(y, x);
            }
        }
        int[] start = toggles.bucketStarts();
        int[] columns = toggles.sortedSecond();
        for (int r = 1; r < h; r++) {
            int row = r * w;
            System.arraycopy(out, row - w, out, row, w);
            for (int j = start[r]; j < start[r + 1]; j++) {
                out[row + columns[j]] ^= 1;
            }
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof CocoRle && ((CocoRle) o).height == height && ((CocoRle) o).width == width
                && Arrays.equals(((CocoRle) o).counts, counts);
    }

    @Override
    public int hashCode() {
        return (31 * height + width) * 31 + Arrays.hashCode(counts);
    }

    @Override
    public String toString() {
        return "CocoRle[" + height + "x" + width + ", area=" + area() + ", runs=" + counts.length + "]";
    }

    // ---------------------------------------------------------------------------------------
    // Internals

    private static int checkedArea(int height, int width) {
        if (height < 0 || width < 0) {
            throw new InvalidArgumentException("mask size must be non-negative, got " + height + "x" + width);
        }
        long n = (long) height * width;
        if (n > Integer.MAX_VALUE - 8) {
            throw new InvalidArgumentException("mask " + height + "x" + width + " has more than 2^31 pixels");
        }
        return (int) n;
    }

    private static void checkLength(int actual, int expected, String what) {
        if (actual < 0) {
            throw new InvalidArgumentException(what + " is null");
        }
        if (actual != expected) {
            throw new InvalidArgumentException(what + " has " + actual + " elements, expected " + expected);
        }
    }

    /** (bucket, value) pairs, bucketed by a stable counting sort: run boundaries by column, or toggles by row. */
    private static final class Edges {
        private final int[] perBucket;
        private int[] buckets = new int[256];
        private int[] values = new int[256];
        private int size;

        Edges(int bucketCount) {
            perBucket = new int[bucketCount];
        }

        void add(int bucket, int value) {
            if (size == buckets.length) {
                buckets = Arrays.copyOf(buckets, size * 2);
                values = Arrays.copyOf(values, size * 2);
            }
            buckets[size] = bucket;
            values[size] = value;
            size++;
            perBucket[bucket]++;
        }

        /** Start of each bucket in {@link #sortedSecond()}, plus the total at the end. */
        int[] bucketStarts() {
            int[] start = new int[perBucket.length + 1];
            for (int b = 0; b < perBucket.length; b++) {
                start[b + 1] = start[b] + perBucket[b];
            }
            return start;
        }

        /** The values, grouped by bucket (in order of addition within a bucket). */
        int[] sortedSecond() {
            int[] next = Arrays.copyOf(bucketStarts(), perBucket.length);
            int[] out = new int[size];
            for (int j = 0; j < size; j++) {
                out[next[buckets[j]]++] = values[j];
            }
            return out;
        }

        /**
         * For boundaries added as (column, row) in row order: their column-major positions
         * {@code column * h + row} in increasing order, turned into run lengths ending at {@code n}.
         */
        int[] counts(int h, int n) {
            int[] next = Arrays.copyOf(bucketStarts(), perBucket.length);
            int[] c = new int[size + 1];
            for (int j = 0; j < size; j++) {
                c[next[buckets[j]]++] = buckets[j] * h + values[j];
            }
            c[size] = n;
            for (int j = size; j > 0; j--) {
                c[j] -= c[j - 1];
            }
            return c;
        }
    }

    private static InvalidArgumentException invalidString(String s, int at, String what) {
        return new InvalidArgumentException("RLE counts string \"" + abbreviate(s) + "\" " + what
                + " (at character " + at + ")");
    }

    private static String abbreviate(String s) {
        return s.length() <= 60 ? s : s.substring(0, 57) + "...";
    }
}
