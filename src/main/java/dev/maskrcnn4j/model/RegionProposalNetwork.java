package dev.maskrcnn4j.model;

import dev.maskrcnn4j.Device;
import dev.maskrcnn4j.InvalidArgumentException;
import dev.maskrcnn4j.MaskRcnnConfig;
import dev.maskrcnn4j.MaskRcnnException;
import dev.maskrcnn4j.checkpoint.StateDict;
import dev.maskrcnn4j.memory.Scope;
import dev.maskrcnn4j.ops.Anchors;
import dev.maskrcnn4j.ops.BoxDecode;
import dev.maskrcnn4j.ops.BoxFilter;
import dev.maskrcnn4j.ops.Gather;
import dev.maskrcnn4j.ops.Nms;
import dev.maskrcnn4j.ops.Sigmoid;
import dev.maskrcnn4j.ops.Topk;
import dev.maskrcnn4j.tensor.DType;
import dev.maskrcnn4j.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * torchvision 0.14's {@code RegionProposalNetwork} at inference (eval mode), over the five FPN
 * levels P2..P6:
 * <ol>
 * <li>{@link RpnHead} on every level: objectness logits and box deltas per anchor;</li>
 * <li>{@code AnchorGenerator}: one anchor size per level, every aspect ratio, strides from the
 *     padded batch size ({@link Anchors#generate});</li>
 * <li>{@code filter_proposals}, per image: the top {@code rpnPreNmsTopN} logits of each level;
 *     their deltas decoded against their anchors ({@link BoxDecode.Coder#RPN}, dw/dh clamped at
 *     log(1000/16)) and clipped to the image; sigmoid; boxes with a side below 1e-3 or a
 *     probability below {@code rpnScoreThresh} dropped; NMS per level; the first
 *     {@code rpnPostNmsTopN}.</li>
 * </ol>
 * torchvision decodes every anchor and then selects the top-n; decoding is per box, so decoding
 * only the selected anchors gives the same boxes.
 *
 * <p>Device to host syncs per call: per image, the count the box filter kept and the NMS (which
 * checks its boxes on the host and reads its kept count). Everything else stays on the device.
 */
public final class RegionProposalNetwork implements AutoCloseable {
    /** torchvision's {@code RegionProposalNetwork.min_size}, hard-coded there. */
    static final double MIN_SIZE = 1e-3;

    private final Scope scope;
    private final Device device;
    private final RpnHead head;
    private final float[][] cellAnchors;
    private final int preNmsTopN;
    private final int postNmsTopN;
    private final double nmsThresh;
    private final BoxFilter.Criteria filter;
    private boolean closed;

    /**
     * Adds the keys this block reads (torchvision 0.14 spelling): rpn.head.conv.0.0.weight
     * [C,C,3,3], rpn.head.conv.0.0.bias, rpn.head.cls_logits.weight [A,C,1,1] (+bias),
     * rpn.head.bbox_pred.weight [4A,C,1,1] (+bias).
     */
    public static void expectedShapes(MaskRcnnConfig config, Map<String, long[]> out) {
        if (config == null || out == null) {
            throw new InvalidArgumentException("rpn: config and out must not be null");
        }
        RpnHead.expectedShapes(config.fpnChannels(), anchorsPerLocation(config), out);
    }

    public RegionProposalNetwork(Scope owner, Device device, StateDict weights, MaskRcnnConfig config) {
        if (owner == null || device == null || weights == null || config == null) {
            throw new InvalidArgumentException("rpn: owner scope, device, weights and config must not be null");
        }
        double[] sizes = config.anchorSizes();
        double[] ratios = config.aspectRatios();
        this.cellAnchors = new float[sizes.length][];
        for (int l = 0; l < sizes.length; l++) {
            cellAnchors[l] = Anchors.cellAnchors(new double[] {sizes[l]}, ratios);
        }
        this.device = device;
        this.preNmsTopN = config.rpnPreNmsTopN();
        this.postNmsTopN = config.rpnPostNmsTopN();
        this.nmsThresh = config.rpnNmsThresh();
        if (!(nmsThresh >= 0 && nmsThresh <= 1)) {
            throw new InvalidArgumentException("rpn: nms threshold " + nmsThresh + " must be in [0, 1]");
        }
        this.filter = new BoxFilter.Criteria(MIN_SIZE, config.rpnScoreThresh(), false);
        this.scope = owner.child("rpn");
        try {
            this.head = new RpnHead(scope, device, weights, config.fpnChannels(), anchorsPerLocation(config));
        } catch (RuntimeException e) {
            scope.release();
            throw e;
        }
    }

    /** torchvision's RPNHead num_anchors: one size per level times the aspect ratios. */
    private static int anchorsPerLocation(MaskRcnnConfig config) {
        return config.aspectRatios().length;
    }

    /**
     * features: the 5 FPN maps P2..P6, NHWC [N,h,w,C] on the device; paddedH/paddedW: the batch
     * tensor's size (anchor strides); imageSizes[i] = {h, w} of image i after resize, before
     * padding (proposals are clipped to it). Returns per image its proposals FLOAT32 [K_i, 4]
     * (x1,y1,x2,y2) in torchvision's order (descending objectness after batched NMS, at most
     * rpnPostNmsTopN), allocated from scope, on the device.
     */
    public List<Tensor> forward(Scope scope, List<Tensor> features, int paddedH, int paddedW, int[][] imageSizes) {
        List<Proposals> all = run(scope, features, paddedH, paddedW, imageSizes, false);
        List<Tensor> boxes = new ArrayList<>(all.size());
        for (Proposals p : all) {
            boxes.add(p.boxes());
        }
        return boxes;
    }

    /** One image's proposals {@code [K, 4]} and, when asked for, their objectness probabilities {@code [K]}. */
    record Proposals(Tensor boxes, Tensor scores) implements AutoCloseable {
        @Override
        public void close() {
            boxes.close();
            if (scores != null) {
                scores.close();
            }
        }
    }

    /** {@link #forward} with the scores {@code filter_proposals} also returns (tests compare orders of near-ties with them). */
    List<Proposals> forwardWithScores(Scope scope, List<Tensor> features, int paddedH, int paddedW, int[][] imageSizes) {
        return run(scope, features, paddedH, paddedW, imageSizes, true);
    }

    private List<Proposals> run(Scope scope, List<Tensor> features, int paddedH, int paddedW, int[][] imageSizes,
            boolean withScores) {
        if (closed) {
            throw new InvalidArgumentException("rpn: the block is closed");
        }
        Levels lv = checkInputs(scope, features, paddedH, paddedW, imageSizes);
        int batch = imageSizes.length;
        List<Proposals> proposals = new ArrayList<>(batch);
        Scope work = scope.child("rpn forward");
        try {
            Candidates cand = selectTopN(work, features, lv, paddedH, paddedW);
            // All images' logits become probabilities at once; the order (and so the top-n) was taken on logits.
            Sigmoid.run(cand.scores, cand.scores);
            Tensor levelIds = Tensor.fromLongs(work, device, lv.levelOfCandidate(), lv.candidates);
            Filtered f = new Filtered(work, device, lv.candidates);
            for (int i = 0; i < batch; i++) {
                proposals.add(filterImage(scope, work, cand, i, levelIds, f, imageSizes[i], withScores));
            }
            return proposals;
        } catch (RuntimeException e) {
            for (Proposals p : proposals) {
                p.close();
            }
            throw e;
        } finally {
            work.release();
        }
    }

    /** Feature map sizes, anchors and pre-NMS candidates per level (the same for every image). */
    private static final class Levels {
        final int[][] grids;
        final long[] anchors;      // anchors of the level: h * w * A
        final int[] topN;          // candidates kept of the level: min(preNmsTopN, anchors)
        final int[] offset;        // first candidate of the level in an image's candidate list
        final int candidates;      // all levels' candidates of one image

        Levels(int[][] grids, long[] anchors, int[] topN) {
            this.grids = grids;
            this.anchors = anchors;
            this.topN = topN;
            this.offset = new int[topN.length];
            int sum = 0;
            for (int l = 0; l < topN.length; l++) {
                offset[l] = sum;
                sum += topN[l];
            }
            this.candidates = sum;
        }

        long[] levelOfCandidate() {
            long[] ids = new long[candidates];
            for (int l = 0; l < topN.length; l++) {
                java.util.Arrays.fill(ids, offset[l], offset[l] + topN[l], l);
            }
            return ids;
        }
    }

    /** Per image, its candidates of all levels side by side: logits (then probabilities), anchors and deltas. */
    private static final class Candidates {
        final Tensor scores;  // [N, K]
        final Tensor anchors; // [N, K, 4]
        final Tensor deltas;  // [N, K, 4]

        Candidates(Scope scope, Device device, int batch, int k) {
            scores = Tensor.allocate(scope, device, DType.FLOAT32, batch, k);
            anchors = Tensor.allocate(scope, device, DType.FLOAT32, batch, k, 4);
            deltas = Tensor.allocate(scope, device, DType.FLOAT32, batch, k, 4);
        }

        Tensor scores(int image) {
            return scores.narrow(0, image, 1).reshape(scores.shape(1));
        }

        Tensor anchors(int image) {
            return anchors.narrow(0, image, 1).reshape(anchors.shape(1), 4);
        }

        Tensor deltas(int image) {
            return deltas.narrow(0, image, 1).reshape(deltas.shape(1), 4);
        }
    }

    /** One image's buffers after the top-n, reused by every image (sized for all K candidates). */
    private static final class Filtered {
        final Tensor boxes;       // [K, 1, 4] decoded and clipped
        final Tensor keep;        // INT64 [K] kept by the box filter
        final Tensor count;       // INT32 [1] how many
        final Tensor workspace;   // box filter scratch, or null
        final Tensor keptBoxes;   // [K, 4]
        final Tensor keptScores;  // [K]
        final Tensor keptLevels;  // INT64 [K]

        Filtered(Scope scope, Device device, int k) {
            boxes = Tensor.allocate(scope, device, DType.FLOAT32, k, 1, 4);
            keep = Tensor.allocate(scope, device, DType.INT64, k);
            count = Tensor.allocate(scope, device, DType.INT32, 1);
            long ws = BoxFilter.workspaceBytes(device, k);
            workspace = ws == 0 ? null : Tensor.allocate(scope, device, DType.UINT8, ws);
            keptBoxes = Tensor.allocate(scope, device, DType.FLOAT32, k, 4);
            keptScores = Tensor.allocate(scope, device, DType.FLOAT32, k);
            keptLevels = Tensor.allocate(scope, device, DType.INT64, k);
        }
    }

    /**
     * The head, level by level (its outputs freed before the next level), and per image the top-n
     * logits of the level with their anchors and deltas ({@code _get_top_n_idx} and the gathers of
     * {@code filter_proposals}).
     */
    private Candidates selectTopN(Scope work, List<Tensor> features, Levels lv, int paddedH, int paddedW) {
        int batch = (int) features.get(0).shape(0);
        Candidates cand = new Candidates(work, device, batch, lv.candidates);
        Tensor anchors = Anchors.generate(work, device, cellAnchors, paddedH, paddedW, lv.grids);
        int maxTopN = 0;
        long wsBytes = 0;
        for (int l = 0; l < lv.topN.length; l++) {
            maxTopN = Math.max(maxTopN, lv.topN[l]);
            wsBytes = Math.max(wsBytes, Topk.workspaceBytes(device, 1, (int) lv.anchors[l], lv.topN[l]));
        }
        Tensor topIdx = Tensor.allocate(work, device, DType.INT64, maxTopN);
        Tensor topWs = wsBytes == 0 ? null : Tensor.allocate(work, device, DType.UINT8, wsBytes);
        long anchorOffset = 0;
        for (int l = 0; l < lv.topN.length; l++) {
            int n = (int) lv.anchors[l];
            int k = lv.topN[l];
            int off = lv.offset[l];
            Tensor levelAnchors = anchors.narrow(0, anchorOffset, n);
            anchorOffset += n;
            Tensor idx = topIdx.narrow(0, 0, k);
            Scope levelScope = work.child("rpn level " + l);
            try (RpnHead.Output out = head.forward(levelScope, features.get(l))) {
                Tensor logits = out.objectness().reshape(batch, n);
                Tensor deltas = out.deltas().reshape((long) batch * n, 4);
                for (int i = 0; i < batch; i++) {
                    Topk.run(logits.narrow(0, i, 1), k, cand.scores.narrow(0, i, 1).narrow(1, off, k),
                            idx.reshape(1, k), topWs);
                    Gather.rows(levelAnchors, idx, cand.anchors(i).narrow(0, off, k));
                    Gather.rows(deltas.narrow(0, (long) i * n, n), idx, cand.deltas(i).narrow(0, off, k));
                }
            } finally {
                levelScope.release();
            }
        }
        return cand;
    }

    /** {@code filter_proposals} for image i: its proposals, allocated from {@code out}. */
    private Proposals filterImage(Scope out, Scope work, Candidates cand, int i, Tensor levelIds, Filtered f,
            int[] imageSize, boolean withScores) {
        Tensor scores = cand.scores(i);
        BoxDecode.run(cand.deltas(i), cand.anchors(i), BoxDecode.Coder.RPN, true, imageSize[0], imageSize[1], f.boxes);
        Tensor boxes = f.boxes.reshape(f.boxes.shape(0), 4);
        BoxFilter.run(boxes, scores, filter, f.keep, f.count, f.workspace);
        int m = f.count.toIntArray()[0]; // device -> host sync: the shapes below depend on it
        if (m < 0 || m > boxes.shape(0)) {
            throw new MaskRcnnException("rpn: the box filter kept " + m + " of " + boxes.shape(0) + " boxes");
        }
        if (m == 0) {
            Tensor none = Tensor.allocate(out, device, DType.FLOAT32, 0, 4);
            return new Proposals(none, withScores ? Tensor.allocate(out, device, DType.FLOAT32, 0) : null);
        }
        Tensor keep = f.keep.narrow(0, 0, m);
        Tensor keptBoxes = f.keptBoxes.narrow(0, 0, m);
        Tensor keptScores = f.keptScores.narrow(0, 0, m);
        Tensor keptLevels = f.keptLevels.narrow(0, 0, m);
        Gather.rows(boxes, keep, keptBoxes);
        Gather.rows(scores, keep, keptScores);
        Gather.rows(levelIds, keep, keptLevels);
        Scope nmsScope = work.child("rpn nms " + i);
        try {
            Tensor kept = Nms.batchedNms(nmsScope, keptBoxes, keptScores, keptLevels, nmsThresh, postNmsTopN);
            Tensor boxesOut = Gather.rows(out, keptBoxes, kept);
            try {
                return new Proposals(boxesOut, withScores ? Gather.rows(out, keptScores, kept) : null);
            } catch (RuntimeException e) {
                boxesOut.close();
                throw e;
            }
        } finally {
            nmsScope.release();
        }
    }

    private Levels checkInputs(Scope scope, List<Tensor> features, int paddedH, int paddedW, int[][] imageSizes) {
        if (scope == null || features == null || imageSizes == null) {
            throw new InvalidArgumentException("rpn: scope, features and imageSizes must not be null");
        }
        int levels = cellAnchors.length;
        if (features.size() != levels) {
            throw new InvalidArgumentException("rpn: " + features.size() + " feature maps, expected " + levels
                    + " (P2..P6, one per anchor size)");
        }
        if (paddedH < 1 || paddedW < 1) {
            throw new InvalidArgumentException("rpn: padded batch size " + paddedH + "x" + paddedW + " must be positive");
        }
        long batch = -1;
        int[][] grids = new int[levels][];
        long[] anchors = new long[levels];
        int[] topN = new int[levels];
        long candidates = 0;
        int a = head.anchorsPerLocation();
        for (int l = 0; l < levels; l++) {
            Tensor t = features.get(l);
            String what = "rpn: feature map " + l;
            if (t == null) {
                throw new InvalidArgumentException(what + " is null");
            }
            if (t.dtype() != DType.FLOAT32 || t.rank() != 4) {
                throw new InvalidArgumentException(what + " must be a FLOAT32 NHWC tensor, got " + t);
            }
            if (t.device() != device) {
                throw new InvalidArgumentException(what + " is on " + t.device() + ", the block on " + device);
            }
            long[] s = t.shape();
            if (s[3] != head.channels()) {
                throw new InvalidArgumentException(what + " has " + s[3] + " channels, the RPN head takes "
                        + head.channels());
            }
            if (batch < 0) {
                batch = s[0];
            } else if (s[0] != batch) {
                throw new InvalidArgumentException(what + " has batch " + s[0] + ", feature map 0 has " + batch);
            }
            if (s[1] < 1 || s[2] < 1 || s[1] > paddedH || s[2] > paddedW) {
                throw new InvalidArgumentException(what + " is " + s[1] + "x" + s[2] + ", which must be 1.."
                        + paddedH + " x 1.." + paddedW + " (the padded batch size)");
            }
            grids[l] = new int[] {(int) s[1], (int) s[2]};
            anchors[l] = s[1] * s[2] * a;
            topN[l] = (int) Math.min(preNmsTopN, anchors[l]);
            candidates += topN[l];
            if (anchors[l] > Integer.MAX_VALUE || batch * anchors[l] > Integer.MAX_VALUE) {
                throw new InvalidArgumentException(what + " yields " + anchors[l] + " anchors per image: too many");
            }
        }
        if (imageSizes.length != batch) {
            throw new InvalidArgumentException("rpn: " + imageSizes.length + " image sizes for a batch of " + batch);
        }
        for (int i = 0; i < imageSizes.length; i++) {
            int[] hw = imageSizes[i];
            if (hw == null || hw.length != 2 || hw[0] < 1 || hw[1] < 1 || hw[0] > paddedH || hw[1] > paddedW) {
                throw new InvalidArgumentException("rpn: image size " + i + " must be {h, w} within the padded "
                        + paddedH + "x" + paddedW + ", got " + (hw == null ? "null" : java.util.Arrays.toString(hw)));
            }
        }
        if (batch * candidates > Integer.MAX_VALUE / 4) {
            throw new InvalidArgumentException("rpn: " + candidates + " candidates per image is too many");
        }
        return new Levels(grids, anchors, topN);
    }

    @Override
    public void close() {
        closed = true;
        scope.release();
    }
}
