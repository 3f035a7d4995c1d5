package dev.maskrcnn4j.ops;

import dev.maskrcnn4j.Device;
import dev.maskrcnn4j.InvalidArgumentException;
import dev.maskrcnn4j.memory.DeviceBuffer;
import dev.maskrcnn4j.memory.Scope;
import dev.maskrcnn4j.nativelib.NativeLibrary;
import dev.maskrcnn4j.nativelib.NativeStatus;
import dev.maskrcnn4j.tensor.DType;
import dev.maskrcnn4j.tensor.Tensor;
import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.Name;
import org.bytedeco.javacpp.annotation.Platform;

/**
 * Non-maximum suppression with torchvision 0.14 semantics (native/include/mrcnn/nms.h has the
 * exact definitions).
 *
 * <ul>
 * <li>{@link #nms} is {@code torchvision.ops.nms}: boxes {@code [N, 4]} (x1, y1, x2, y2) ranked by
 *     score descending, ties broken by the lower index (torchvision's CPU sort is stable); a box is
 *     dropped when its IoU (float32, no +1) with a kept, higher-ranked box is greater than
 *     {@code iouThreshold}. Returns the kept indices in rank order.</li>
 * <li>{@link #batchedNms} is {@code torchvision.ops.batched_nms}: boxes of different {@code idxs}
 *     never suppress each other. Like torchvision on the CPU, up to 1000 boxes use its
 *     coordinate-offset trick (whose float rounding can flip an IoU lying at the threshold), more
 *     boxes run per class.</li>
 * <li>{@link #softNms} is Soft-NMS (Bodla et al. 2017; linear or Gaussian decay of the scores of
 *     overlapping boxes instead of removal), which torchvision does not have.</li>
 * </ul>
 * {@code maxKeep > 0} caps the number of kept boxes (the first {@code maxKeep} of the uncapped
 * result); 0 means no cap. The threshold is compared as torchvision compares it: the float32 IoU
 * against the double threshold (the native code receives the largest float not above it).
 *
 * <p>Inputs: boxes FLOAT32 {@code [N, 4]} with finite coordinates and {@code x2 >= x1},
 * {@code y2 >= y1} (zero-area boxes are allowed: they suppress nothing and are never suppressed);
 * scores FLOAT32 {@code [N]} without NaN (Soft-NMS: finite); idxs INT64 {@code [N]}; all dense, on
 * one device. Everything is checked before any native call ({@link InvalidArgumentException}).
 * The scratch memory comes from a child of the caller's scope and is freed before returning; the
 * results are owned by the caller's scope. Reading the kept count makes a CUDA call wait for the
 * stream.
 */
@Platform(include = "mrcnn/nms.h", library = NativeLibrary.NAME)
public final class Nms {
    static {
        NativeLibrary.load();
    }

    /** Soft-NMS score decay. */
    public enum SoftMethod {
        /** score *= 1 - IoU when IoU &gt; iouThreshold. */
        LINEAR(1),
        /** score *= exp(-IoU^2 / sigma), whatever the IoU. */
        GAUSSIAN(2);

        final int code;

        SoftMethod(int code) {
            this.code = code;
        }
    }

    /** Soft-NMS result: kept indices (INT64 [K]) in selection order and their decayed scores (FLOAT32 [K]). */
    public record SoftResult(Tensor indices, Tensor scores) implements AutoCloseable {
        @Override
        public void close() {
            indices.close();
            scores.close();
        }
    }

    private Nms() {
    }

    /**
     * {@code torchvision.ops.nms(boxes, scores, iouThreshold)[:maxKeep]}: a new INT64 tensor of the
     * kept indices, owned by {@code scope}, on the boxes' device.
     */
    public static Tensor nms(Scope scope, Tensor boxes, Tensor scores, double iouThreshold, int maxKeep) {
        return hard("nms", scope, boxes, scores, null, iouThreshold, maxKeep);
    }

    /** {@code torchvision.ops.batched_nms(boxes, scores, idxs, iouThreshold)[:maxKeep]}, as {@link #nms}. */
    public static Tensor batchedNms(Scope scope, Tensor boxes, Tensor scores, Tensor idxs, double iouThreshold,
            int maxKeep) {
        if (idxs == null) {
            throw new InvalidArgumentException("batched_nms: idxs is null");
        }
        return hard("batched_nms", scope, boxes, scores, idxs, iouThreshold, maxKeep);
    }

    /**
     * Soft-NMS: repeatedly select the box with the highest current score (ties: lower index), then
     * decay the scores of the others by their IoU with it ({@link SoftMethod}); a box whose score
     * is below {@code scoreThreshold} (initially or after a decay) is dropped. {@code iouThreshold}
     * applies to {@link SoftMethod#LINEAR} only, {@code sigma} (&gt; 0) to {@link SoftMethod#GAUSSIAN}
     * only. Returns new tensors owned by {@code scope}.
     */
    public static SoftResult softNms(Scope scope, Tensor boxes, Tensor scores, SoftMethod method, double iouThreshold,
            float sigma, float scoreThreshold, int maxKeep) {
        String op = "soft_nms";
        int n = checkInputs(op, scope, boxes, scores, null, iouThreshold, maxKeep, true);
        if (method == null) {
            throw new InvalidArgumentException(op + ": method is null");
        }
        if (method == SoftMethod.GAUSSIAN && !(sigma > 0 && Float.isFinite(sigma))) {
            throw new InvalidArgumentException(op + ": gaussian sigma " + sigma + " must be finite and > 0");
        }
        if (Float.isNaN(scoreThreshold)) {
            throw new InvalidArgumentException(op + ": score threshold is NaN");
        }
        Device device = boxes.device();
        Tensor keep = Tensor.allocate(scope, device, DType.INT64, n);
        Tensor kept = null;
        Scope tmp = scope.child(op + "-scratch");
        try {
            kept = Tensor.allocate(scope, device, DType.FLOAT32, n);
            Tensor count = Tensor.allocate(tmp, device, DType.INT32, 1);
            DeviceBuffer ws = tmp.allocate(device, workspaceBytes(device, n), op + " workspace");
            float thr = thresholdAsFloat(iouThreshold);
            int status;
            switch (device) {
                case CPU:
                    status = cpuSoft(boxes.address(), scores.address(), n, method.code, thr, sigma, scoreThreshold, maxKeep,
                            keep.address(), kept.address(), count.address(), ws.address(), ws.bytes(), 0);
                    break;
                case CUDA:
                    status = cudaSoft(boxes.address(), scores.address(), n, method.code, thr, sigma, scoreThreshold, maxKeep,
                            keep.address(), kept.address(), count.address(), ws.address(), ws.bytes(), 0);
                    break;
                default:
                    status = emulatedSoft(boxes.address(), scores.address(), n, method.code, thr, sigma, scoreThreshold,
                            maxKeep, keep.address(), kept.address(), count.address(), ws.address(), ws.bytes(), 0);
                    break;
            }
            NativeStatus.check(status, op);
            int k = readCount(op, count, n);
            return new SoftResult(keep.narrow(0, 0, k), kept.narrow(0, 0, k));
        } catch (RuntimeException e) {
            keep.close();
            if (kept != null) {
                kept.close();
            }
            throw e;
        } finally {
            tmp.release();
        }
    }

    /** Scratch bytes one call on {@code device} needs for {@code n} boxes (any of the three ops). */
    public static long workspaceBytes(Device device, int n) {
        if (device == null || n < 0) {
            throw new InvalidArgumentException("nms: workspace for device " + device + " and n=" + n);
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

    /**
     * The float the native code compares the float32 IoU with: the largest float {@code <= t}, so
     * that {@code iou > result} exactly when {@code (double) iou > t}, torchvision's comparison.
     */
    public static float thresholdAsFloat(double t) {
        float f = (float) t;
        if ((double) f > t) {
            f = Math.nextDown(f);
        }
        return f;
    }

    // ---- implementation -------------------------------------------------------------------

    private static Tensor hard(String op, Scope scope, Tensor boxes, Tensor scores, Tensor idxs, double iouThreshold,
            int maxKeep) {
        int n = checkInputs(op, scope, boxes, scores, idxs, iouThreshold, maxKeep, false);
        Device device = boxes.device();
        Tensor keep = Tensor.allocate(scope, device, DType.INT64, n);
        Scope tmp = scope.child(op + "-scratch");
        try {
            Tensor count = Tensor.allocate(tmp, device, DType.INT32, 1);
            DeviceBuffer ws = tmp.allocate(device, workspaceBytes(device, n), op + " workspace");
            float thr = thresholdAsFloat(iouThreshold);
            int status;
            if (idxs == null) {
                switch (device) {
                    case CPU:
                        status = cpuNms(boxes.address(), scores.address(), n, thr, maxKeep, keep.address(), count.address(),
                                ws.address(), ws.bytes(), 0);
                        break;
                    case CUDA:
                        status = cudaNms(boxes.address(), scores.address(), n, thr, maxKeep, keep.address(),
                                count.address(), ws.address(), ws.bytes(), 0);
                        break;
                    default:
                        status = emulatedNms(boxes.address(), scores.address(), n, thr, maxKeep, keep.address(),
                                count.address(), ws.address(), ws.bytes(), 0);
                        break;
                }
            } else {
                switch (device) {
                    case CPU:
                        status = cpuBatched(boxes.address(), scores.address(), idxs.address(), n, thr, maxKeep,
                                keep.address(), count.address(), ws.address(), ws.bytes(), 0);
                        break;
                    case CUDA:
                        status = cudaBatched(boxes.address(), scores.address(), idxs.address(), n, thr, maxKeep,
                                keep.address(), count.address(), ws.address(), ws.bytes(), 0);
                        break;
                    default:
                        status = emulatedBatched(boxes.address(), scores.address(), idxs.address(), n, thr, maxKeep,
                                keep.address(), count.address(), ws.address(), ws.bytes(), 0);
                        break;
                }
            }
            NativeStatus.check(status, op);
            return keep.narrow(0, 0, readCount(op, count, n));
        } catch (RuntimeException e) {
            keep.close();
            throw e;
        } finally {
            tmp.release();
        }
    }

    private static int readCount(String op, Tensor count, int n) {
        int k = count.toIntArray()[0];
        if (k < 0 || k > n) {
            throw NativeStatus.exception(NativeStatus.INTERNAL, op + " kept " + k + " of " + n + " boxes");
        }
        return k;
    }

    /** Validates everything (reading the values back if they live on a GPU); returns N. */
    private static int checkInputs(String op, Scope scope, Tensor boxes, Tensor scores, Tensor idxs, double iouThreshold,
            int maxKeep, boolean finiteScores) {
        if (scope == null) {
            throw new InvalidArgumentException(op + ": scope is null");
        }
        SmallOps.denseFloat(op, "boxes", boxes, 2);
        if (boxes.shape(1) != 4) {
            throw new InvalidArgumentException(op + ": boxes must be [N, 4], got " + boxes);
        }
        long n = boxes.shape(0);
        if (n > Integer.MAX_VALUE / 4) {
            throw new InvalidArgumentException(op + ": " + n + " boxes is too many");
        }
        SmallOps.shaped(op, "scores", scores, new long[] {n});
        Device device = boxes.device();
        SmallOps.sameDevice(op, device, "scores", scores);
        if (idxs != null) {
            if (idxs.dtype() != DType.INT64 || idxs.rank() != 1 || idxs.shape(0) != n) {
                throw new InvalidArgumentException(op + ": idxs must be an INT64 [" + n + "] tensor, got " + idxs);
            }
            if (n > 0) {
                idxs.requireContiguous(op + " idxs");
            }
            if (idxs.buffer().isClosed()) {
                throw new InvalidArgumentException(op + ": idxs is closed");
            }
            SmallOps.sameDevice(op, device, "idxs", idxs);
        }
        if (!(iouThreshold >= 0.0 && iouThreshold <= 1.0)) {
            throw new InvalidArgumentException(op + ": iou threshold " + iouThreshold + " must be in [0, 1]");
        }
        if (maxKeep < 0) {
            throw new InvalidArgumentException(op + ": maxKeep " + maxKeep + " must be >= 0 (0: no cap)");
        }
        if (n == 0) {
            return 0;
        }
        float[] b = boxes.toFloatArray();
        for (int i = 0; i < b.length; i += 4) {
            if (!Float.isFinite(b[i]) || !Float.isFinite(b[i + 1]) || !Float.isFinite(b[i + 2]) || !Float.isFinite(b[i + 3])) {
                throw new InvalidArgumentException(op + ": box " + (i / 4) + " has a non-finite coordinate");
            }
            if (b[i + 2] < b[i] || b[i + 3] < b[i + 1]) {
                throw new InvalidArgumentException(op + ": box " + (i / 4) + " (" + b[i] + ", " + b[i + 1] + ", "
                        + b[i + 2] + ", " + b[i + 3] + ") has x2 < x1 or y2 < y1");
            }
        }
        float[] s = scores.toFloatArray();
        for (int i = 0; i < s.length; i++) {
            if (finiteScores ? !Float.isFinite(s[i]) : Float.isNaN(s[i])) {
                throw new InvalidArgumentException(op + ": score " + i + " is " + s[i]);
            }
        }
        return (int) n;
    }

    // ---- native -----------------------------------------------------------------------------

    @Name("mrcnn_cpu_nms_workspace_size")
    private static native @Cast("size_t") long cpuWorkspaceSize(int n);

    @Name("mrcnn_cuda_nms_workspace_size")
    private static native @Cast("size_t") long cudaWorkspaceSize(int n);

    @Name("mrcnn_emu_nms_workspace_size")
    private static native @Cast("size_t") long emulatedWorkspaceSize(int n);

    @Name("mrcnn_cpu_nms")
    private static native int cpuNms(@Cast("const float*") long boxes, @Cast("const float*") long scores, int n,
            float iouThreshold, int maxKeep, @Cast("int64_t*") long keep, @Cast("int*") long numKept,
            @Cast("void*") long workspace, @Cast("size_t") long workspaceBytes, @Cast("void*") long stream);

    @Name("mrcnn_cuda_nms")
    private static native int cudaNms(@Cast("const float*") long boxes, @Cast("const float*") long scores, int n,
            float iouThreshold, int maxKeep, @Cast("int64_t*") long keep, @Cast("int*") long numKept,
            @Cast("void*") long workspace, @Cast("size_t") long workspaceBytes, @Cast("void*") long stream);

    @Name("mrcnn_emu_nms")
    private static native int emulatedNms(@Cast("const float*") long boxes, @Cast("const float*") long scores, int n,
            float iouThreshold, int maxKeep, @Cast("int64_t*") long keep, @Cast("int*") long numKept,
            @Cast("void*") long workspace, @Cast("size_t") long workspaceBytes, @Cast("void*") long stream);

    @Name("mrcnn_cpu_batched_nms")
    private static native int cpuBatched(@Cast("const float*") long boxes, @Cast("const float*") long scores,
            @Cast("const int64_t*") long idxs, int n, float iouThreshold, int maxKeep, @Cast("int64_t*") long keep,
            @Cast("int*") long numKept, @Cast("void*") long workspace, @Cast("size_t") long workspaceBytes,
            @Cast("void*") long stream);

    @Name("mrcnn_cuda_batched_nms")
    private static native int cudaBatched(@Cast("const float*") long boxes, @Cast("const float*") long scores,
            @Cast("const int64_t*") long idxs, int n, float iouThreshold, int maxKeep, @Cast("int64_t*") long keep,
            @Cast("int*") long numKept, @Cast("void*") long workspace, @Cast("size_t") long workspaceBytes,
            @Cast("void*") long stream);

    @Name("mrcnn_emu_batched_nms")
    private static native int emulatedBatched(@Cast("const float*") long boxes, @Cast("const float*") long scores,
            @Cast("const int64_t*") long idxs, int n, float iouThreshold, int maxKeep, @Cast("int64_t*") long keep,
            @Cast("int*") long numKept, @Cast("void*") long workspace, @Cast("size_t") long workspaceBytes,
            @Cast("void*") long stream);

    @Name("mrcnn_cpu_soft_nms")
    private static native int cpuSoft(@Cast("const float*") long boxes, @Cast("const float*") long scores, int n,
            int method, float iouThreshold, float sigma, float scoreThreshold, int maxKeep, @Cast("int64_t*") long keep,
            @Cast("float*") long outScores, @Cast("int*") long numKept, @Cast("void*") long workspace,
            @Cast("size_t") long workspaceBytes, @Cast("void*") long stream);

    @Name("mrcnn_cuda_soft_nms")
    private static native int cudaSoft(@Cast("const float*") long boxes, @Cast("const float*") long scores, int n,
            int method, float iouThreshold, float sigma, float scoreThreshold, int maxKeep, @Cast("int64_t*") long keep,
            @Cast("float*") long outScores, @Cast("int*") long numKept, @Cast("void*") long workspace,
            @Cast("size_t") long workspaceBytes, @Cast("void*") long stream);

    @Name("mrcnn_emu_soft_nms")
    private static native int emulatedSoft(@Cast("const float*") long boxes, @Cast("const float*") long scores, int n,
            int method, float iouThreshold, float sigma, float scoreThreshold, int maxKeep, @Cast("int64_t*") long keep,
            @Cast("float*") long outScores, @Cast("int*") long numKept, @Cast("void*") long workspace,
            @Cast("size_t") long workspaceBytes, @Cast("void*") long stream);
}
