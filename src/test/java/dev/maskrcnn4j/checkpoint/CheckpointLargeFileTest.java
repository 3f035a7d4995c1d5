package dev.maskrcnn4j.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Full-size Mask R-CNN checkpoints (170 MB), written outside the repository by
 * {@code /usr/bin/python3 tools/checkpoints/make_fixtures.py --large DIR} and found through
 * {@code MRCNN4J_LARGE_CHECKPOINTS=DIR}; skipped without it. Checks every tensor's sums against
 * torch's and prints the time to load, to normalise and validate, and to materialise all floats.
 */
class CheckpointLargeFileTest {
    @Test
    @SuppressWarnings("unchecked")
    void loadsFullSizeCheckpoints() throws java.io.IOException {
        String dirName = System.getenv("MRCNN4J_LARGE_CHECKPOINTS");
        assumeTrue(dirName != null && Files.isDirectory(Path.of(dirName)),
                "MRCNN4J_LARGE_CHECKPOINTS unset (generate with tools/checkpoints/make_fixtures.py --large DIR)");
        Path dir = Path.of(dirName);
        Map<String, Object> sums = (Map<String, Object>) Json.parse(readString(dir.resolve("maskrcnn_sums.json")));
        Map<String, long[]> shapes = new LinkedHashMap<>();
        for (Object o : (List<Object>) Fixtures.json("maskrcnn_keys.json").get("canonical")) {
            List<Object> kv = (List<Object>) o;
            shapes.put((String) kv.get(0), Fixtures.longs(kv.get(1)));
        }
        for (String name : List.of("maskrcnn_legacy.pth", "maskrcnn_zip.pth", "maskrcnn.safetensors")) {
            Path p = dir.resolve(name);
            double bestLoad = Double.MAX_VALUE;
            double bestValidate = Double.MAX_VALUE;
            double bestFloats = Double.MAX_VALUE;
            for (int rep = 0; rep < 3; rep++) {
                java.lang.management.ThreadMXBean mx = java.lang.management.ManagementFactory.getThreadMXBean();
                long c0 = mx.getCurrentThreadCpuTime();
                long t0 = System.nanoTime();
                StateDict raw = Checkpoint.load(p);
                long t1 = System.nanoTime();
                long c1 = mx.getCurrentThreadCpuTime();
                StateDict sd = raw.normalized();
                sd.validate(shapes);
                long t2 = System.nanoTime();
                long floats = 0;
                for (HostTensor t : sd.tensors().values()) {
                    float[] v = t.toFloatArray();
                    floats += v.length;
                    if (rep == 0) {
                        double s = 0;
                        double s2 = 0;
                        for (float f : v) {
                            s += f;
                            s2 += (double) f * f;
                        }
                        List<Object> want = (List<Object>) sums.get(t.name());
                        double ws = ((Number) want.get(0)).doubleValue();
                        double ws2 = ((Number) want.get(1)).doubleValue();
                        assertEquals(ws, s, 1e-6 * Math.max(1, ws2), t.name());
                        assertEquals(ws2, s2, 1e-9 * ws2, t.name());
                    }
                }
                long t3 = System.nanoTime();
                assertEquals(shapes.size(), sd.size());
                assertTrue(floats > 44_000_000L, "floats: " + floats);
                System.out.printf("%s (%d MB): load %.1f ms (cpu %.1f ms), normalize+validate %.1f ms, toFloatArray of all %d tensors "
                        + "%.1f ms%s%n", name, Files.size(p) >> 20, (t1 - t0) / 1e6, (c1 - c0) / 1e6, (t2 - t1) / 1e6, sd.size(),
                        (t3 - t2) / 1e6, rep == 0 ? " (first, with sum checks)" : "");
                bestLoad = Math.min(bestLoad, (t1 - t0) / 1e6);
                bestValidate = Math.min(bestValidate, (t2 - t1) / 1e6);
                if (rep > 0) {
                    bestFloats = Math.min(bestFloats, (t3 - t2) / 1e6);
                }
            }
            System.out.printf("%s best: load %.1f ms, normalize+validate %.1f ms, all floats %.1f ms%n", name, bestLoad,
                    bestValidate, bestFloats);
        }
    }

    private static String readString(Path p) {
        try {
            return Files.readString(p);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
