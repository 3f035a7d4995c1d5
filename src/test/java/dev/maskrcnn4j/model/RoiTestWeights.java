package dev.maskrcnn4j.model;

import dev.maskrcnn4j.checkpoint.StateDict;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

/** Float32 state dicts for model-block tests, written as a safetensors file and read back by {@link Checkpoint#load}. */
final class RoiTestWeights {
    private RoiTestWeights() {
    }

    /** Writes {@code tensors} (key -> shape and values) to a new file in {@code dir} and loads them, normalized. */
    static StateDict write(Path dir, Map<String, TestWeights.Entry> tensors) {
        try {
            String name = Files.createTempFile(dir, "weights", ".safetensors").getFileName().toString();
            return TestWeights.write(dir, name.substring(0, name.length() - ".safetensors".length()), tensors);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Random weights of the given shapes: N(0, 2 / fan_in) for weights, N(0, 0.1^2) for biases. */
    static StateDict random(Path dir, Map<String, long[]> shapes, long seed) {
        Random random = new Random(seed);
        Map<String, TestWeights.Entry> tensors = new LinkedHashMap<>();
        for (Map.Entry<String, long[]> e : shapes.entrySet()) {
            long[] shape = e.getValue();
            long n = Arrays.stream(shape).reduce(1, (a, b) -> a * b);
            double scale = shape.length > 1 ? Math.sqrt(2.0 / (n / shape[0])) : 0.1;
            float[] v = new float[Math.toIntExact(n)];
            for (int i = 0; i < v.length; i++) {
                v[i] = (float) (random.nextGaussian() * scale);
            }
            tensors.put(e.getKey(), new TestWeights.Entry(shape, v));
        }
        return write(dir, tensors);
    }
}
