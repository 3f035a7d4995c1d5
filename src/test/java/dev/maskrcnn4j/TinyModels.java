package dev.maskrcnn4j;

import dev.maskrcnn4j.model.Backbone;
import dev.maskrcnn4j.model.RegionProposalNetwork;
import dev.maskrcnn4j.model.RoiHeads;
import dev.maskrcnn4j.testing.RandomCheckpoints;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

/** A Mask R-CNN of a few channels on small images: fast enough for the CUDA emulator. */
final class TinyModels {
    static final int CLASSES = 4;

    private TinyModels() {
    }

    static MaskRcnnConfig config(int depth) {
        return MaskRcnnConfig.forArch("resnet" + depth + "_fpn").toBuilder()
                .backboneWidth(4).fpnChannels(8).representationSize(16).maskHeadChannels(8)
                .minSize(64).maxSize(96).rpnPreNmsTopN(60).rpnPostNmsTopN(24).boxDetectionsPerImg(12)
                .boxScoreThresh(0.2).build();
    }

    static Map<String, long[]> shapes(MaskRcnnConfig config) {
        Map<String, long[]> shapes = new LinkedHashMap<>();
        Backbone.expectedShapes(config, shapes);
        RegionProposalNetwork.expectedShapes(config, shapes);
        RoiHeads.expectedShapes(config, CLASSES, shapes);
        return shapes;
    }

    static Path checkpoint(Path dir, MaskRcnnConfig config, long seed) throws IOException {
        return RandomCheckpoints.write(dir.resolve("tiny-" + config.depth() + "-" + seed + ".safetensors"),
                shapes(config), seed);
    }

    /** Smooth colour gradients and a few flat rectangles: objects of a sort for random weights. */
    static InputImage image(int h, int w, long seed) {
        Random r = new Random(seed);
        float[] chw = new float[3 * h * w];
        for (int c = 0; c < 3; c++) {
            double fx = 2 + 4 * r.nextDouble();
            double fy = 2 + 4 * r.nextDouble();
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    chw[(c * h + y) * w + x] = (float) (0.5 + 0.4 * Math.sin(fx * x / w + fy * y / h + c));
                }
            }
        }
        for (int k = 0; k < 5; k++) {
            int y0 = r.nextInt(h / 2);
            int x0 = r.nextInt(w / 2);
            int y1 = y0 + 4 + r.nextInt(h / 2);
            int x1 = x0 + 4 + r.nextInt(w / 2);
            for (int c = 0; c < 3; c++) {
                float v = r.nextFloat();
                for (int y = y0; y < Math.min(y1, h); y++) {
                    for (int x = x0; x < Math.min(x1, w); x++) {
                        chw[(c * h + y) * w + x] = v;
                    }
                }
            }
        }
        return InputImage.ofChw(chw, h, w);
    }
}
