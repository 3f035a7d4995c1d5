package dev.maskrcnn4j.weights;

import java.nio.file.Path;

/** Run by WeightsCacheTest in a separate JVM: resolves args[1] into cache folder args[0]. */
public final class WeightsCacheChildProcess {
    private WeightsCacheChildProcess() {
    }

    public static void main(String[] args) {
        Path p = WeightsCache.builder().directory(Path.of(args[0])).progress(WeightsCache.Progress.LINES)
                .progressStream(System.out).build().resolve(args[1]);
        System.out.println("resolved " + p);
    }
}
