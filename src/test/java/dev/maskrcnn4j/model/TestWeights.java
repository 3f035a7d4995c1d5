package dev.maskrcnn4j.model;

import dev.maskrcnn4j.checkpoint.Checkpoint;
import dev.maskrcnn4j.checkpoint.StateDict;
import dev.maskrcnn4j.testing.SafetensorsFiles;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

/**
 * StateDicts for model tests: float32 tensors written as a safetensors file and read back through
 * {@link Checkpoint#load} (the path real weights take), normalized.
 */
final class TestWeights {
    private TestWeights() {
    }

    /** One tensor: shape and row-major values. */
    record Entry(long[] shape, float[] values) { }

    /** Writes {@code tensors} (key order kept) to {@code dir/name.safetensors} and loads it. */
    static StateDict write(Path dir, String name, Map<String, Entry> tensors) {
        Map<String, SafetensorsFiles.Entry> entries = new LinkedHashMap<>();
        tensors.forEach((k, e) -> entries.put(k, new SafetensorsFiles.Entry(e.shape(), e.values())));
        return Checkpoint.load(SafetensorsFiles.write(dir.resolve(name + ".safetensors"), entries)).normalized();
    }

    /**
     * Random weights for {@code shapes}: convolutions uniform with variance 2/fan_in (He), batch-norm
     * weights in [0.4, 0.8), biases and running means in [-0.1, 0.1), running variances in
     * [0.5, 1.5) (positive: eps may be 0). Activations keep roughly their scale through a deep body.
     */
    static StateDict random(Path dir, String name, Map<String, long[]> shapes, long seed) {
        Random r = new Random(seed);
        Map<String, Entry> tensors = new LinkedHashMap<>();
        for (Map.Entry<String, long[]> e : shapes.entrySet()) {
            long[] shape = e.getValue();
            long n = 1;
            for (long d : shape) {
                n *= d;
            }
            float[] v = new float[Math.toIntExact(n)];
            String key = e.getKey();
            for (int i = 0; i < v.length; i++) {
                float u = r.nextFloat();
                if (shape.length == 4) {
                    double limit = Math.sqrt(6.0 / (n / shape[0]));
                    v[i] = (float) ((2 * u - 1) * limit);
                } else if (key.endsWith("running_var")) {
                    v[i] = 0.5f + u;
                } else if (key.endsWith("running_mean") || key.endsWith("bias")) {
                    v[i] = 0.2f * u - 0.1f;
                } else {
                    v[i] = 0.4f + 0.4f * u;
                }
            }
            tensors.put(key, new Entry(shape, v));
        }
        return write(dir, name, tensors);
    }
}
