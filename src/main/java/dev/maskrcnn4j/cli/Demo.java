package dev.maskrcnn4j.cli;

import dev.maskrcnn4j.Device;
import dev.maskrcnn4j.InvalidArgumentException;
import dev.maskrcnn4j.memory.Allocator;
import dev.maskrcnn4j.memory.Scope;
import dev.maskrcnn4j.ops.Conv2d;
import dev.maskrcnn4j.ops.Nms;
import dev.maskrcnn4j.ops.PasteMasks;
import dev.maskrcnn4j.ops.RoiAlign;
import dev.maskrcnn4j.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * {@code demo}: the four core kernels on a synthetic Mask R-CNN-sized workload — an FPN output
 * convolution on P2, NMS of RPN-like clustered proposals, multi-level RoIAlign of the survivors
 * over P2–P5, and the paste of 100 masks into the full image — with per-stage timings after a
 * warm-up. Inputs are random (this is not a trained model): it shows the kernels run and how fast.
 */
final class Demo {
    private Demo() {
    }

    static void run(String[] args) {
        Device device = Device.CPU;
        int repeat = 3;
        Boolean small = null;
        for (int i = 1; i < args.length; i++) {
            switch (args[i]) {
                case "--device":
                    device = Device.fromLabel(value(args, ++i, "--device"));
                    break;
                case "--repeat":
                    repeat = parseInt(value(args, ++i, "--repeat"), "--repeat");
                    if (repeat < 1) {
                        throw new InvalidArgumentException("--repeat must be >= 1");
                    }
                    break;
                case "--small":
                    small = true;
                    break;
                default:
                    throw new InvalidArgumentException("demo: unknown option '" + args[i] + "'");
            }
        }
        device.requireAvailable();
        // The emulator runs every CUDA thread as a fiber on the CPU: use a small image there.
        boolean reduced = small != null ? small : device == Device.CUDA_EMULATED;
        int imgH = reduced ? 96 : 800;
        int imgW = reduced ? 128 : 1216;
        int channels = reduced ? 16 : 256;
        int proposals = reduced ? 300 : 4000;
        int detections = reduced ? 20 : 100;
        System.out.printf("demo on %s: image %dx%d, FPN %d channels, %d proposals, %d masks%n",
                device, imgH, imgW, channels, proposals, detections);

        Random rng = new Random(0);
        try (Scope scope = Allocator.global().openScope("demo")) {
            List<Tensor> levels = new ArrayList<>();
            for (int l = 0; l < 4; l++) {
                int h = imgH >> (2 + l);
                int w = imgW >> (2 + l);
                levels.add(Tensor.fromFloats(scope, device, randoms(rng, h * w * channels), 1, h, w, channels));
            }
            Tensor p2 = levels.get(0);
            float[] weight = randoms(rng, channels * channels * 9);
            for (int i = 0; i < weight.length; i++) {
                weight[i] *= 0.05f;
            }
            Conv2d conv = new Conv2d(scope, device, weight, channels, channels, 3, 3, new float[channels],
                    Conv2d.Spec.of(1, 1, 1, true));
            Tensor convOut = conv.allocateOutput(scope, p2);

            float[][] boxesAndScores = clusteredBoxes(rng, proposals, imgH, imgW);
            Tensor boxes = Tensor.fromFloats(scope, device, boxesAndScores[0], proposals, 4);
            Tensor scores = Tensor.fromFloats(scope, device, boxesAndScores[1], proposals);

            long[] times = new long[4];
            long kept = 0;
            long maskPixels = 0;
            for (int r = 0; r <= repeat; r++) { // r == 0 is the warm-up
                long t0 = System.nanoTime();
                conv.run(p2, convOut);
                long t1 = System.nanoTime();
                long[] keep;
                try (Tensor keepT = Nms.nms(scope, boxes, scores, 0.7, 1000)) {
                    keep = keepT.toLongArray();
                }
                long t2 = System.nanoTime();
                float[] all = boxesAndScores[0];
                float[] rois = new float[keep.length * 5];
                for (int i = 0; i < keep.length; i++) {
                    System.arraycopy(all, (int) keep[i] * 4, rois, i * 5 + 1, 4);
                }
                try (Tensor roisT = Tensor.fromFloats(scope, device, rois, keep.length, 5);
                     Tensor pooled = RoiAlign.multiLevel(scope, levels, roisT, 7, 7, 2, imgH, imgW)) {
                    pooled.shape(0);
                }
                long t3 = System.nanoTime();
                int k = Math.min(detections, keep.length);
                float[] detBoxes = new float[k * 4];
                for (int i = 0; i < k; i++) {
                    System.arraycopy(all, (int) keep[i] * 4, detBoxes, i * 4, 4);
                }
                try (Tensor masks = Tensor.fromFloats(scope, device, randoms(rng, k * 28 * 28), k, 28, 28);
                     Tensor detT = Tensor.fromFloats(scope, device, detBoxes, k, 4);
                     Tensor binary = PasteMasks.pasteBinary(scope, masks, detT, imgH, imgW, 0.5f)) {
                    if (r == repeat) {
                        for (byte b : binary.toByteArray()) {
                            maskPixels += b;
                        }
                    }
                }
                long t4 = System.nanoTime();
                if (r > 0) {
                    times[0] += t1 - t0;
                    times[1] += t2 - t1;
                    times[2] += t3 - t2;
                    times[3] += t4 - t3;
                }
                kept = keep.length;
            }
            double flop = 2.0 * p2.shape(1) * p2.shape(2) * channels * channels * 9;
            System.out.printf("  conv3x3 %d->%d on P2 %dx%d     %8.2f ms  (%.0f GFLOP/s)%n", channels, channels,
                    p2.shape(1), p2.shape(2), ms(times[0], repeat), flop / (times[0] / (double) repeat));
            System.out.printf("  nms of %d proposals (iou 0.7)  %8.2f ms  (%d kept)%n", proposals,
                    ms(times[1], repeat), kept);
            System.out.printf("  multi-level roi_align to 7x7   %8.2f ms  (%d rois over P2-P5)%n",
                    ms(times[2], repeat), kept);
            System.out.printf("  paste %d masks into %dx%d    %8.2f ms  (%d mask pixels set)%n",
                    Math.min(detections, kept), imgH, imgW, ms(times[3], repeat), maskPixels);
            for (Tensor t : levels) {
                t.close();
            }
            convOut.close();
            conv.close();
            boxes.close();
            scores.close();
        }
        System.out.println("device memory left allocated: " + Allocator.global().bytesInUse() + " bytes");
    }

    private static String value(String[] args, int i, String option) {
        if (i >= args.length) {
            throw new InvalidArgumentException(option + " needs a value");
        }
        return args[i];
    }

    private static int parseInt(String s, String option) {
        try {
            return Integer.parseInt(s);
        } catch (NumberFormatException e) {
            throw new InvalidArgumentException(option + " needs a whole number, got '" + s + "'");
        }
    }

    private static double ms(long nanos, int repeat) {
        return nanos / 1e6 / repeat;
    }

    private static float[] randoms(Random rng, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = rng.nextFloat();
        }
        return a;
    }

    /** Jittered copies of random boxes: the overlap NMS sees after the RPN. */
    private static float[][] clusteredBoxes(Random rng, int n, int imgH, int imgW) {
        float[] boxes = new float[n * 4];
        float[] scores = new float[n];
        float cx = 0;
        float cy = 0;
        float bw = 0;
        float bh = 0;
        for (int i = 0; i < n; i++) {
            if (i % 8 == 0) {
                bw = (float) Math.exp(Math.log(16) + rng.nextDouble() * Math.log(600.0 / 16)) * imgW / 1216f;
                bh = (float) Math.exp(Math.log(16) + rng.nextDouble() * Math.log(600.0 / 16)) * imgH / 800f;
                bw = Math.min(bw, imgW - 1);
                bh = Math.min(bh, imgH - 1);
                cx = bw / 2 + rng.nextFloat() * (imgW - bw);
                cy = bh / 2 + rng.nextFloat() * (imgH - bh);
            }
            float jx = 0.15f * bw * (float) rng.nextGaussian();
            float jy = 0.15f * bh * (float) rng.nextGaussian();
            float x1 = Math.max(0, cx - bw / 2 + jx);
            float y1 = Math.max(0, cy - bh / 2 + jy);
            boxes[i * 4] = x1;
            boxes[i * 4 + 1] = y1;
            boxes[i * 4 + 2] = Math.min(imgW, Math.max(x1 + 1, cx + bw / 2 + jx));
            boxes[i * 4 + 3] = Math.min(imgH, Math.max(y1 + 1, cy + bh / 2 + jy));
            scores[i] = rng.nextFloat();
        }
        return new float[][] {boxes, scores};
    }
}
