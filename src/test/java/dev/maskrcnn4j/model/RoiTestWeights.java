package dev.maskrcnn4j.model;

import dev.maskrcnn4j.checkpoint.Checkpoint;
import dev.maskrcnn4j.checkpoint.StateDict;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.stream.Collectors;

/** Float32 state dicts for model-block tests, written as a safetensors file and read back by {@link Checkpoint#load}. */
final class RoiTestWeights {
    private RoiTestWeights() {
    }

    /** A float32 tensor of a state dict. */
    record Entry(long[] shape, float[] values) {
    }

    /** Writes {@code tensors} (key -> shape and values) to {@code dir} and loads them, normalized. */
    static StateDict write(Path dir, Map<String, Entry> tensors) {
        StringBuilder header = new StringBuilder("{");
        long offset = 0;
        for (Map.Entry<String, Entry> e : tensors.entrySet()) {
            long bytes = 4L * e.getValue().values().length;
            if (header.length() > 1) {
                header.append(',');
            }
            header.append('"').append(e.getKey()).append("\":{\"dtype\":\"F32\",\"shape\":[")
                    .append(Arrays.stream(e.getValue().shape()).mapToObj(Long::toString).collect(Collectors.joining(",")))
                    .append("],\"data_offsets\":[").append(offset).append(',').append(offset + bytes).append("]}");
            offset += bytes;
        }
        header.append('}');
        byte[] json = header.toString().getBytes(StandardCharsets.UTF_8);
        ByteBuffer file = ByteBuffer.allocate(Math.toIntExact(8 + json.length + offset)).order(ByteOrder.LITTLE_ENDIAN);
        file.putLong(json.length).put(json);
        for (Entry e : tensors.values()) {
            for (float v : e.values()) {
                file.putFloat(v);
            }
        }
        try {
            Path path = Files.createTempFile(dir, "weights", ".safetensors");
            Files.write(path, file.array());
            return Checkpoint.load(path).normalized();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Random weights of the given shapes: N(0, 2 / fan_in) for weights, N(0, 0.1^2) for biases. */
    static StateDict random(Path dir, Map<String, long[]> shapes, long seed) {
        Random random = new Random(seed);
        Map<String, Entry> tensors = new LinkedHashMap<>();
        for (Map.Entry<String, long[]> e : shapes.entrySet()) {
            long[] shape = e.getValue();
            long n = Arrays.stream(shape).reduce(1, (a, b) -> a * b);
            double scale = shape.length > 1 ? Math.sqrt(2.0 / (n / shape[0])) : 0.1;
            float[] v = new float[Math.toIntExact(n)];
            for (int i = 0; i < v.length; i++) {
                v[i] = (float) (random.nextGaussian() * scale);
            }
            tensors.put(e.getKey(), new Entry(shape, v));
        }
        return write(dir, tensors);
    }
}
