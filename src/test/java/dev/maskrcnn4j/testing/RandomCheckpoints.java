package dev.maskrcnn4j.testing;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

/**
 * Random model weights of given shapes written as a safetensors file (float32), for tests of
 * models that have no torchvision counterpart (tiny widths). Values: N(0, 1/fan_in) for weights,
 * small biases, and FrozenBatchNorm statistics in a sane range (positive running_var).
 */
public final class RandomCheckpoints {
    private RandomCheckpoints() {
    }

    public static Path write(Path file, Map<String, long[]> shapes, long seed) throws IOException {
        Random r = new Random(seed);
        Map<String, SafetensorsFiles.Entry> tensors = new LinkedHashMap<>();
        for (Map.Entry<String, long[]> e : shapes.entrySet()) {
            String k = e.getKey();
            long[] s = e.getValue();
            long n = numel(s);
            long fanIn = s.length > 1 ? n / s[0] : 1;
            float[] values = new float[Math.toIntExact(n)];
            for (int i = 0; i < values.length; i++) {
                float v;
                if (k.endsWith("running_var")) {
                    v = 0.5f + r.nextFloat();
                } else if (k.endsWith("running_mean")) {
                    v = 0.1f * (float) r.nextGaussian();
                } else if (k.contains(".bn") || k.contains("downsample.1")) {
                    v = k.endsWith("weight") ? 0.8f + 0.4f * r.nextFloat() : 0.1f * (float) r.nextGaussian();
                } else if (k.endsWith("bias")) {
                    v = 0.05f * (float) r.nextGaussian();
                } else {
                    v = (float) (r.nextGaussian() / Math.sqrt(fanIn));
                }
                values[i] = v;
            }
            tensors.put(k, new SafetensorsFiles.Entry(s, values));
        }
        return SafetensorsFiles.write(file, tensors);
    }

    private static long numel(long[] shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }
}
