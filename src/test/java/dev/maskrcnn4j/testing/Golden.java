package dev.maskrcnn4j.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reader of golden files written by tools/goldens/golden_io.py from torchvision (format described
 * there). Loaded from the test classpath: {@code Golden.load("roi_align")} reads
 * {@code /goldens/roi_align.golden}.
 */
public final class Golden {
    public static final int VERSION = 1;

    private final String op;
    private final String generator;
    private final List<Case> cases;

    private Golden(String op, String generator, List<Case> cases) {
        this.op = op;
        this.generator = generator;
        this.cases = cases;
    }

    public String op() {
        return op;
    }

    /** "torch=... torchvision=..." of the generating run. */
    public String generator() {
        return generator;
    }

    public List<Case> cases() {
        return cases;
    }

    public Case get(String name) {
        for (Case c : cases) {
            if (c.name.equals(name)) {
                return c;
            }
        }
        throw new IllegalArgumentException("golden " + op + " has no case " + name);
    }

    public static Golden load(String op) {
        String resource = "/goldens/" + op + ".golden";
        try (InputStream in = Golden.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("missing golden " + resource + " (generate it with tools/goldens/gen_" + op + ".py)");
            }
            return parse(op, in.readAllBytes());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Reads a golden file from anywhere (the whole-model parity cases under target/parity are
     * generated at build time, and large): the file is memory-mapped, arrays are views of it.
     */
    public static Golden read(Path path) {
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            ByteBuffer buf = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size());
            return parse(null, buf);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read golden " + path, e);
        }
    }

    static Golden parse(String op, byte[] bytes) {
        return parse(op, ByteBuffer.wrap(bytes));
    }

    /** {@code op} null accepts the file's own op. */
    static Golden parse(String op, ByteBuffer bytes) {
        int pos = 0;
        int limit = bytes.limit();
        List<String> lines = new ArrayList<>();
        while (true) {
            int end = pos;
            while (end < limit && bytes.get(end) != '\n') {
                end++;
            }
            if (end >= limit) {
                throw new IllegalStateException("golden " + op + ": header has no 'data' line");
            }
            byte[] lineBytes = new byte[end - pos];
            bytes.get(pos, lineBytes);
            String line = new String(lineBytes, StandardCharsets.UTF_8);
            pos = end + 1;
            if (line.equals("data")) {
                break;
            }
            lines.add(line);
        }
        if (lines.isEmpty() || !lines.get(0).equals("MRCNN4J-GOLDEN " + VERSION)) {
            throw new IllegalStateException("golden " + op + ": expected header 'MRCNN4J-GOLDEN " + VERSION + "', got "
                    + (lines.isEmpty() ? "nothing" : lines.get(0)));
        }
        ByteBuffer data = bytes.duplicate().position(pos).slice().order(ByteOrder.LITTLE_ENDIAN);
        String fileOp = null;
        String generator = "";
        List<Case> cases = new ArrayList<>();
        Case current = null;
        for (String line : lines.subList(1, lines.size())) {
            String[] t = line.split(" ");
            switch (t[0]) {
                case "op":
                    fileOp = t[1];
                    break;
                case "generator":
                    generator = line.substring("generator ".length());
                    break;
                case "case":
                    current = new Case(t[1]);
                    cases.add(current);
                    break;
                case "param":
                    current.params.put(t[1], t[2]);
                    break;
                case "array": {
                    int ndim = Integer.parseInt(t[3]);
                    long[] shape = new long[ndim];
                    long n = 1;
                    for (int i = 0; i < ndim; i++) {
                        shape[i] = Long.parseLong(t[4 + i]);
                        n *= shape[i];
                    }
                    Array a = new Array(t[1], t[2], shape);
                    int size = (int) (n * a.elementBytes());
                    ByteBuffer slice = data.slice().order(ByteOrder.LITTLE_ENDIAN);
                    slice.limit(size);
                    a.data = slice;
                    data.position(data.position() + size);
                    current.arrays.put(t[1], a);
                    break;
                }
                default:
                    throw new IllegalStateException("golden " + op + ": unknown header line '" + line + "'");
            }
        }
        if (data.hasRemaining()) {
            throw new IllegalStateException("golden " + op + ": " + data.remaining() + " bytes after the last array");
        }
        if (op == null) {
            op = fileOp;
        } else if (!op.equals(fileOp)) {
            throw new IllegalStateException("golden file for " + fileOp + " loaded as " + op);
        }
        return new Golden(op, generator, List.copyOf(cases));
    }

    /** One golden case: named parameters and arrays. */
    public static final class Case {
        private final String name;
        private final Map<String, String> params = new LinkedHashMap<>();
        private final Map<String, Array> arrays = new LinkedHashMap<>();

        Case(String name) {
            this.name = name;
        }

        public String name() {
            return name;
        }

        public boolean has(String param) {
            return params.containsKey(param);
        }

        public String param(String key) {
            String v = params.get(key);
            if (v == null) {
                throw new IllegalArgumentException("case " + name + " has no param " + key);
            }
            return v;
        }

        public double doubleParam(String key) {
            return Double.parseDouble(param(key));
        }

        public float floatParam(String key) {
            return (float) doubleParam(key);
        }

        public int intParam(String key) {
            return Integer.parseInt(param(key));
        }

        public boolean boolParam(String key) {
            String v = param(key);
            if (!v.equals("true") && !v.equals("false")) {
                throw new IllegalArgumentException("case " + name + " param " + key + " is not a boolean: " + v);
            }
            return v.equals("true");
        }

        public boolean hasArray(String key) {
            return arrays.containsKey(key);
        }

        public Array array(String key) {
            Array a = arrays.get(key);
            if (a == null) {
                throw new IllegalArgumentException("case " + name + " has no array " + key + " (has " + arrays.keySet() + ")");
            }
            return a;
        }

        @Override
        public String toString() {
            return name;
        }
    }

    /** One array of a case, in torch's layout and dtype. */
    public static final class Array {
        private final String name;
        private final String dtype;
        private final long[] shape;
        private ByteBuffer data;

        Array(String name, String dtype, long[] shape) {
            this.name = name;
            this.dtype = dtype;
            this.shape = shape;
        }

        public String dtype() {
            return dtype;
        }

        public long[] shape() {
            return shape.clone();
        }

        public int dim(int i) {
            return (int) shape[i];
        }

        public int numel() {
            long n = 1;
            for (long d : shape) {
                n *= d;
            }
            return (int) n;
        }

        int elementBytes() {
            switch (dtype) {
                case "f32":
                case "i32":
                    return 4;
                case "i64":
                    return 8;
                case "u8":
                    return 1;
                default:
                    throw new IllegalStateException("array " + name + ": unknown dtype " + dtype);
            }
        }

        public float[] floats() {
            require("f32");
            float[] out = new float[numel()];
            data.duplicate().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
            return out;
        }

        public int[] ints() {
            require("i32");
            int[] out = new int[numel()];
            data.duplicate().order(ByteOrder.LITTLE_ENDIAN).asIntBuffer().get(out);
            return out;
        }

        public long[] longs() {
            require("i64");
            long[] out = new long[numel()];
            data.duplicate().order(ByteOrder.LITTLE_ENDIAN).asLongBuffer().get(out);
            return out;
        }

        public byte[] bytes() {
            require("u8");
            byte[] out = new byte[numel()];
            data.duplicate().get(out);
            return out;
        }

        private void require(String expected) {
            if (!dtype.equals(expected)) {
                throw new IllegalStateException("array " + name + " is " + dtype + ", not " + expected);
            }
        }

        @Override
        public String toString() {
            return name + " " + dtype + Arrays.toString(shape);
        }
    }
}
