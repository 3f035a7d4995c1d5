package dev.maskrcnn4j.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/** Writes float32 tensors as a safetensors file: the one writer the tests' made-up weights use. */
public final class SafetensorsFiles {
    private SafetensorsFiles() {
    }

    /** One tensor: shape and row-major values. */
    public record Entry(long[] shape, float[] values) { }

    /** Writes {@code tensors} (key order kept) to {@code file}; the data starts 8-byte aligned. */
    public static Path write(Path file, Map<String, Entry> tensors) {
        StringBuilder header = new StringBuilder("{");
        long offset = 0;
        for (Map.Entry<String, Entry> e : tensors.entrySet()) {
            long bytes = 4L * e.getValue().values().length;
            if (header.length() > 1) {
                header.append(',');
            }
            header.append('"').append(e.getKey()).append("\":{\"dtype\":\"F32\",\"shape\":[");
            long[] shape = e.getValue().shape();
            for (int i = 0; i < shape.length; i++) {
                header.append(i == 0 ? "" : ",").append(shape[i]);
            }
            header.append("],\"data_offsets\":[").append(offset).append(',').append(offset + bytes).append("]}");
            offset += bytes;
        }
        header.append('}');
        while ((8 + header.length()) % 8 != 0) {
            header.append(' ');
        }
        byte[] json = header.toString().getBytes(StandardCharsets.UTF_8);
        ByteBuffer out = ByteBuffer.allocate(Math.toIntExact(8 + json.length + offset)).order(ByteOrder.LITTLE_ENDIAN);
        out.putLong(json.length).put(json);
        for (Entry e : tensors.values()) {
            for (float v : e.values()) {
                out.putFloat(v);
            }
        }
        try {
            Files.write(file, out.array());
        } catch (IOException ex) {
            throw new UncheckedIOException(ex);
        }
        return file;
    }
}
