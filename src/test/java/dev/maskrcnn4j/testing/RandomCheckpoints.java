package dev.maskrcnn4j.testing;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
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
        StringBuilder header = new StringBuilder("{");
        long offset = 0;
        for (Map.Entry<String, long[]> e : shapes.entrySet()) {
            long n = numel(e.getValue());
            if (header.length() > 1) {
                header.append(',');
            }
            header.append('"').append(e.getKey()).append("\":{\"dtype\":\"F32\",\"shape\":[");
            for (int i = 0; i < e.getValue().length; i++) {
                header.append(i == 0 ? "" : ",").append(e.getValue()[i]);
            }
            header.append("],\"data_offsets\":[").append(offset).append(',').append(offset + 4 * n).append("]}");
            offset += 4 * n;
        }
        header.append('}');
        while ((header.length() + 8) % 8 != 0) {
            header.append(' ');
        }
        byte[] h = header.toString().getBytes(StandardCharsets.UTF_8);
        ByteBuffer buf = ByteBuffer.allocate((int) (8 + h.length + offset)).order(ByteOrder.LITTLE_ENDIAN);
        buf.putLong(h.length).put(h);
        for (Map.Entry<String, long[]> e : shapes.entrySet()) {
            String k = e.getKey();
            long[] s = e.getValue();
            long n = numel(s);
            long fanIn = s.length > 1 ? n / s[0] : 1;
            for (long i = 0; i < n; i++) {
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
                buf.putFloat(v);
            }
        }
        Files.write(file, buf.array());
        return file;
    }

    private static long numel(long[] shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }
}
