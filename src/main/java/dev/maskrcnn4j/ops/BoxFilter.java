package dev.maskrcnn4j.ops;

import dev.maskrcnn4j.Device;
import dev.maskrcnn4j.InvalidArgumentException;
import dev.maskrcnn4j.memory.Scope;
import dev.maskrcnn4j.nativelib.NativeLibrary;
import dev.maskrcnn4j.nativelib.NativeStatus;
import dev.maskrcnn4j.tensor.DType;
import dev.maskrcnn4j.tensor.Tensor;
import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.Name;
import org.bytedeco.javacpp.annotation.Platform;

/**
 * torchvision 0.14's {@code box_ops.remove_small_boxes} fused with a score threshold, bound to
 * {@code mrcnn_<backend>_box_filter} of native/include/mrcnn/box_filter.h: the indices i, in
 * ascending order, with {@code x2 - x1 >= minSize}, {@code y2 - y1 >= minSize} and
 * {@code scores[i] >= scoreThresh} ({@link Criteria#RPN}: filter_proposals) or
 * {@code scores[i] > scoreThresh} ({@link Criteria#ROI_HEADS}: postprocess_detections). torch
 * compares float32 tensors with Python floats in float32, so both thresholds are used as the
 * nearest float. NaN coordinates or scores drop the box.
 *
 * <p>Boxes FLOAT32 {@code [N, 4]}, scores FLOAT32 {@code [N]} or null (size test only), dense, on
 * one device; the result is an INT64 {@code [K]} view of an {@code [N]} tensor. Reading K makes a
 * CUDA call wait for the stream; the {@link #run(Tensor, Tensor, Criteria, Tensor, Tensor, Tensor)
 * out-variant} leaves the count in device memory.
 */
@Platform(include = "mrcnn/box_filter.h", library = NativeLibrary.NAME)
public final class BoxFilter {
    static {
        NativeLibrary.load();
    }

    private static final String OP = "box_filter";

    private BoxFilter() {
    }

    /** What to keep: both sides {@code >= minSize} and a score {@code >= scoreThresh} (or {@code >} when strict). */
    public record Criteria(double minSize, double scoreThresh, boolean strict) {
        /** RPN.filter_proposals: min_size 1e-3, {@code scores >= 0.0} (torchvision's defaults). */
        public static final Criteria RPN = new Criteria(1e-3, 0.0, false);
        /** RoIHeads.postprocess_detections: {@code scores > 0.05}, min_size 1e-2. */
        public static final Criteria ROI_HEADS = new Criteria(1e-2, 0.05, true);

        public Criteria {
            if (Double.isNaN(minSize) || Double.isNaN(scoreThresh)) {
                throw new InvalidArgumentException(OP + ": minSize " + minSize + " or scoreThresh " + scoreThresh + " is NaN");
            }
        }
    }

    /** Scratch bytes one call on {@code device} needs for n boxes. */
    public static long workspaceBytes(Device device, int n) {
        if (device == null || n < 0) {
            throw new InvalidArgumentException(OP + ": workspace for device " + device + " and n=" + n);
        }
        switch (device) {
            case CPU:
                return cpuWorkspaceSize(n);
            case CUDA:
                return cudaWorkspaceSize(n);
            default:
                return emulatedWorkspaceSize(n);
        }
    }

    /** The kept indices as a new INT64 tensor owned by {@code scope} (scratch from a child scope). */
    public static Tensor run(Scope scope, Tensor boxes, Tensor scores, Criteria criteria) {
        if (scope == null) {
            throw new InvalidArgumentException(OP + ": scope is null");
        }
        int n = checkInputs(boxes, scores, criteria);
        Device device = boxes.device();
        Tensor keep = Tensor.allocate(scope, device, DType.INT64, n);
        Scope tmp = scope.child(OP + "-scratch");
        try {
            Tensor count = Tensor.allocate(tmp, device, DType.INT32, 1);
            long bytes = workspaceBytes(device, n);
            Tensor ws = bytes == 0 ? null : Tensor.allocate(tmp, device, DType.UINT8, bytes);
            run(boxes, scores, criteria, keep, count, ws);
            int k = count.toIntArray()[0];
            if (k < 0 || k > n) {
                throw NativeStatus.exception(NativeStatus.INTERNAL, OP + " kept " + k + " of " + n + " boxes");
            }
            return keep.narrow(0, 0, k);
        } catch (RuntimeException e) {
            keep.close();
            throw e;
        } finally {
            tmp.release();
        }
    }

    /**
     * Writes the kept indices to the front of {@code keep} (INT64 {@code [N]}) and their count to
     * {@code count} (INT32 {@code [1]}), both on the boxes' device, using {@code workspace} (UINT8, at
     * least {@link #workspaceBytes}; may be null when that is 0).
     */
    public static void run(Tensor boxes, Tensor scores, Criteria criteria, Tensor keep, Tensor count, Tensor workspace) {
        int n = checkInputs(boxes, scores, criteria);
        Device device = boxes.device();
        SmallOps.dense(OP, "keep", keep, DType.INT64, new long[] {n});
        SmallOps.dense(OP, "count", count, DType.INT32, new long[] {1});
        SmallOps.sameDevice(OP, device, "keep", keep);
        SmallOps.sameDevice(OP, device, "count", count);
        long needed = workspaceBytes(device, n);
        long wsBytes = SmallOps.workspace(OP, device, workspace, needed);
        long wsAddress = workspace == null ? 0 : workspace.address();
        Tensor[] outs = {keep, count, workspace};
        Tensor[] all = {boxes, scores, keep, count, workspace};
        for (Tensor o : outs) {
            for (Tensor t : all) {
                if (o != null && t != null && o != t && SmallOps.overlaps(o, t)) {
                    throw new InvalidArgumentException(OP + ": outputs and workspace must not overlap the inputs or each other");
                }
            }
        }
        float minSize = (float) criteria.minSize();
        float thresh = (float) criteria.scoreThresh();
        int strict = criteria.strict() ? 1 : 0;
        long s = scores == null ? 0 : scores.address();
        int status;
        switch (device) {
            case CPU:
                status = cpu(boxes.address(), s, n, minSize, thresh, strict, keep.address(), count.address(), wsAddress,
                        wsBytes, 0);
                break;
            case CUDA:
                status = cuda(boxes.address(), s, n, minSize, thresh, strict, keep.address(), count.address(), wsAddress,
                        wsBytes, 0);
                break;
            default:
                status = emulated(boxes.address(), s, n, minSize, thresh, strict, keep.address(), count.address(),
                        wsAddress, wsBytes, 0);
                break;
        }
        NativeStatus.check(status, OP);
    }

    private static int checkInputs(Tensor boxes, Tensor scores, Criteria criteria) {
        if (criteria == null) {
            throw new InvalidArgumentException(OP + ": criteria is null");
        }
        SmallOps.denseFloat(OP, "boxes", boxes, 2);
        if (boxes.shape(1) != 4) {
            throw new InvalidArgumentException(OP + ": boxes must be [N, 4], got " + boxes);
        }
        long n = boxes.shape(0);
        if (n > Integer.MAX_VALUE / 4) {
            throw new InvalidArgumentException(OP + ": " + n + " boxes is too many");
        }
        if (scores != null) {
            SmallOps.shaped(OP, "scores", scores, new long[] {n});
            SmallOps.sameDevice(OP, boxes.device(), "scores", scores);
        }
        return (int) n;
    }

    @Name("mrcnn_cpu_box_filter_workspace_size")
    private static native @Cast("size_t") long cpuWorkspaceSize(int n);

    @Name("mrcnn_cuda_box_filter_workspace_size")
    private static native @Cast("size_t") long cudaWorkspaceSize(int n);

    @Name("mrcnn_emu_box_filter_workspace_size")
    private static native @Cast("size_t") long emulatedWorkspaceSize(int n);

    @Name("mrcnn_cpu_box_filter")
    private static native int cpu(@Cast("const float*") long boxes, @Cast("const float*") long scores, int n,
            float minSize, float scoreThresh, int strict, @Cast("int64_t*") long keep, @Cast("int*") long numKept,
            @Cast("void*") long workspace, @Cast("size_t") long workspaceBytes, @Cast("void*") long stream);

    @Name("mrcnn_cuda_box_filter")
    private static native int cuda(@Cast("const float*") long boxes, @Cast("const float*") long scores, int n,
            float minSize, float scoreThresh, int strict, @Cast("int64_t*") long keep, @Cast("int*") long numKept,
            @Cast("void*") long workspace, @Cast("size_t") long workspaceBytes, @Cast("void*") long stream);

    @Name("mrcnn_emu_box_filter")
    private static native int emulated(@Cast("const float*") long boxes, @Cast("const float*") long scores, int n,
            float minSize, float scoreThresh, int strict, @Cast("int64_t*") long keep, @Cast("int*") long numKept,
            @Cast("void*") long workspace, @Cast("size_t") long workspaceBytes, @Cast("void*") long stream);
}
