package dev.maskrcnn4j.checkpoint;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** The fixtures of src/test/resources/checkpoints (written by tools/checkpoints/make_fixtures.py). */
final class Fixtures {
    static final String PAYLOAD_MARKER = "/tmp/maskrcnn4j-pickle-payload-ran";

    private Fixtures() {
    }

    static Path path(String name) {
        URL url = Fixtures.class.getResource("/checkpoints/" + name);
        if (url == null) {
            throw new IllegalStateException("missing fixture " + name + " (run /usr/bin/python3 tools/checkpoints/make_fixtures.py)");
        }
        try {
            return Path.of(url.toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    static byte[] bytes(String name) {
        try {
            return Files.readAllBytes(path(name));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> json(String name) {
        return (Map<String, Object>) Json.parse(new String(bytes(name), StandardCharsets.UTF_8));
    }

    static long[] longs(Object jsonList) {
        List<?> l = (List<?>) jsonList;
        long[] out = new long[l.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = (Long) l.get(i);
        }
        return out;
    }

    /** Writes {@code data} to a new file in {@code dir}. */
    static Path write(Path dir, String name, byte[] data) {
        try {
            return Files.write(dir.resolve(name), data);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
