package dev.maskrcnn4j.checkpoint;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * safetensors (https://github.com/huggingface/safetensors): an unsigned 64-bit little-endian
 * header length N, N bytes of UTF-8 JSON {"name": {"dtype": "F32", "shape": [..],
 * "data_offsets": [begin, end]}, ..., "__metadata__": {"k": "v"}} (possibly padded with spaces),
 * then the byte buffer the offsets index (relative to its start). Tensors are dense, row-major,
 * little endian, and do not overlap. Keys keep the header's order.
 */
final class SafetensorsReader {
    /** The reference implementation's limit on the header. */
    static final long MAX_HEADER = 100L << 20;

    private SafetensorsReader() {
    }

    static StateDict read(MappedFile file) {
        Path path = file.path();
        long headerLen = file.region(0, 8, "the safetensors header length").getLong(0);
        if (headerLen < 2 || headerLen > MAX_HEADER) {
            throw new CheckpointException(path, "corrupt: safetensors header length " + Long.toUnsignedString(headerLen)
                    + " (expected 2 to " + MAX_HEADER + " bytes)");
        }
        ByteBuffer headerBytes = file.region(8, headerLen, "the safetensors header");
        String header;
        try {
            header = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(headerBytes).toString();
        } catch (CharacterCodingException e) {
            throw new CheckpointException(path, "corrupt: the safetensors header is not UTF-8");
        }
        Object json;
        try {
            json = Json.parse(header);
        } catch (Json.JsonException e) {
            throw new CheckpointException(path, "corrupt: the safetensors header is not valid JSON: " + e.getMessage());
        }
        if (!(json instanceof Map)) {
            throw new CheckpointException(path, "corrupt: the safetensors header is not a JSON object");
        }
        long dataStart = 8 + headerLen;
        long dataLen = file.size() - dataStart;
        Map<String, String> metadata = new LinkedHashMap<>();
        Map<String, HostTensor> tensors = new LinkedHashMap<>();
        List<long[]> ranges = new ArrayList<>();
        List<String> rangeKeys = new ArrayList<>();
        for (Map.Entry<?, ?> e : ((Map<?, ?>) json).entrySet()) {
            String key = (String) e.getKey();
            if (key.equals("__metadata__")) {
                if (!(e.getValue() instanceof Map)) {
                    throw new CheckpointException(path, "corrupt: __metadata__ is not an object");
                }
                for (Map.Entry<?, ?> m : ((Map<?, ?>) e.getValue()).entrySet()) {
                    if (!(m.getValue() instanceof String)) {
                        throw new CheckpointException(path, "corrupt: __metadata__ value of '" + m.getKey() + "' is not a string");
                    }
                    metadata.put((String) m.getKey(), (String) m.getValue());
                }
                continue;
            }
            if (!(e.getValue() instanceof Map)) {
                throw new CheckpointException(path, "tensor '" + key + "': header entry is not an object");
            }
            Map<?, ?> info = (Map<?, ?>) e.getValue();
            Object dt = info.get("dtype");
            ElementType dtype = dt instanceof String ? ElementType.fromSafetensors((String) dt) : null;
            if (dtype == null) {
                throw new CheckpointException(path, "tensor '" + key + "': unsupported dtype " + describe(dt));
            }
            long[] shape = longs(path, key, "shape", info.get("shape"), -1);
            long[] offsets = longs(path, key, "data_offsets", info.get("data_offsets"), 2);
            long numel = 1;
            try {
                for (long d : shape) {
                    numel = Math.multiplyExact(numel, d);
                }
                Math.multiplyExact(numel, dtype.bytes());
            } catch (ArithmeticException ex) {
                throw new CheckpointException(path, "tensor '" + key + "': shape overflows");
            }
            long begin = offsets[0];
            long end = offsets[1];
            if (end < begin || end - begin != numel * dtype.bytes()) {
                throw new CheckpointException(path, "corrupt: tensor '" + key + "' (" + dtype + java.util.Arrays.toString(shape)
                        + ", " + numel * dtype.bytes() + " bytes) has data_offsets [" + begin + ", " + end + "]");
            }
            if (end > dataLen) {
                throw new CheckpointException(path, "truncated or corrupt: tensor '" + key + "' needs bytes [" + (dataStart + begin)
                        + ", " + (dataStart + end) + ") but the file has " + file.size() + " bytes");
            }
            Storage s = new Storage(key, dtype, numel);
            s.bind(file.region(dataStart + begin, end - begin, "tensor '" + key + "'"));
            long[] strides = new long[shape.length];
            long stride = 1;
            for (int d = shape.length - 1; d >= 0; d--) {
                strides[d] = stride;
                stride *= Math.max(shape[d], 1);
            }
            tensors.put(key, HostTensor.view(path, key, s, 0, shape, strides));
            ranges.add(new long[] {begin, end, ranges.size()});
            rangeKeys.add(key);
        }
        ranges.sort(Comparator.<long[]>comparingLong(r -> r[0]).thenComparingLong(r -> r[1]));
        for (int i = 1; i < ranges.size(); i++) {
            long[] a = ranges.get(i - 1);
            long[] b = ranges.get(i);
            if (b[0] < a[1]) {
                throw new CheckpointException(path, "corrupt: tensors '" + rangeKeys.get((int) a[2]) + "' and '"
                        + rangeKeys.get((int) b[2]) + "' overlap");
            }
        }
        return new StateDict(path, Checkpoint.Format.SAFETENSORS, tensors, Map.of(), metadata);
    }

    private static long[] longs(Path path, String key, String field, Object o, int length) {
        if (!(o instanceof List) || (length >= 0 && ((List<?>) o).size() != length)) {
            throw new CheckpointException(path, "tensor '" + key + "': " + field + " is " + describe(o)
                    + (length >= 0 ? ", not a list of " + length + " integers" : ", not a list of integers"));
        }
        List<?> l = (List<?>) o;
        long[] out = new long[l.size()];
        for (int i = 0; i < out.length; i++) {
            if (!(l.get(i) instanceof Long) || (Long) l.get(i) < 0) {
                throw new CheckpointException(path, "tensor '" + key + "': " + field + " holds " + describe(l.get(i))
                        + ", not a non-negative integer");
            }
            out[i] = (Long) l.get(i);
        }
        return out;
    }

    private static String describe(Object o) {
        return o instanceof String ? "\"" + o + "\"" : String.valueOf(o);
    }
}
