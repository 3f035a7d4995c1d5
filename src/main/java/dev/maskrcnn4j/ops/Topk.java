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
 * Per-row top-k, {@code torch.topk(input, k, dim=1)} (largest, sorted), bound to
 * {@code mrcnn_<backend>_topk} of native/include/mrcnn/topk.h: for each row of a FLOAT32
 * {@code [rows, n]} matrix, the k largest values sorted descending and their INT64 column indices.
 * NaN counts as larger than every number and -0 as equal to +0, as in torch. Equal values are
 * listed lower index first on every backend; torch's CPU kernel leaves their order to
 * {@code std::partial_sort} / {@code std::nth_element} (unspecified), so with ties the values
 * equal torch's and the indices may name other, equal elements.
 *
 * <p>The input may be a column slice of a wider matrix (the RPN's per-level view of its
 * objectness row): unit column stride and a row stride of at least n. Used by the RPN's
 * pre-NMS top-n per level (k up to 1000 of up to ~200k anchors) and caps on detections.
 */
@Platform(include = "mrcnn/topk.h", library = NativeLibrary.NAME)
public final class Topk {
    static {
        NativeLibrary.load();
    }

    private static final String OP = "topk";

    private Topk() {
    }

    /** The k largest values {@code [rows, k]} (FLOAT32) and their column indices {@code [rows, k]} (INT64). */
    public record Result(Tensor values, Tensor indices) implements AutoCloseable {
        @Override
        public void close() {
            values.close();
            indices.close();
        }
    }

    /** Scratch bytes one call needs on {@code device} (a UINT8 tensor of at least this size). */
    public static long workspaceBytes(Device device, int rows, int n, int k) {
        if (device == null || rows < 0 || n < 0 || k < 0 || k > n) {
            throw new InvalidArgumentException(OP + ": workspace for device " + device + ", rows=" + rows + ", n=" + n
                    + ", k=" + k);
        }
        switch (device) {
            case CPU:
                return cpuWorkspaceSize(rows, n, k);
            case CUDA:
                return cudaWorkspaceSize(rows, n, k);
            default:
                return emulatedWorkspaceSize(rows, n, k);
        }
    }

    /** Top-k of each row into new tensors owned by {@code scope} (scratch from a child scope, freed on return). */
    public static Result run(Scope scope, Tensor input, int k) {
        if (scope == null) {
            throw new InvalidArgumentException(OP + ": scope is null");
        }
        int[] dims = checkInput(input, k);
        Device device = input.device();
        Tensor values = Tensor.allocate(scope, device, DType.FLOAT32, dims[0], k);
        Tensor indices = null;
        Scope tmp = scope.child(OP + "-scratch");
        try {
            indices = Tensor.allocate(scope, device, DType.INT64, dims[0], k);
            long bytes = workspaceBytes(device, dims[0], dims[1], k);
            Tensor ws = bytes == 0 ? null : Tensor.allocate(tmp, device, DType.UINT8, bytes);
            run(input, k, values, indices, ws);
            return new Result(values, indices);
        } catch (RuntimeException e) {
            values.close();
            if (indices != null) {
                indices.close();
            }
            throw e;
        } finally {
            tmp.release();
        }
    }

    /**
     * Top-k of each row into {@code values} (FLOAT32 {@code [rows, k]}) and {@code indices} (INT64
     * {@code [rows, k]}), dense, on the input's device, using {@code workspace} (a dense UINT8 tensor
     * of at least {@link #workspaceBytes} bytes on that device; may be null when that is 0).
     */
    public static void run(Tensor input, int k, Tensor values, Tensor indices, Tensor workspace) {
        int[] dims = checkInput(input, k);
        int rows = dims[0];
        int n = dims[1];
        int ld = dims[2];
        Device device = input.device();
        SmallOps.shaped(OP, "values", values, new long[] {rows, k});
        SmallOps.sameDevice(OP, device, "values", values);
        SmallOps.dense(OP, "indices", indices, DType.INT64, new long[] {rows, k});
        SmallOps.sameDevice(OP, device, "indices", indices);
        long needed = workspaceBytes(device, rows, n, k);
        long wsBytes = SmallOps.workspace(OP, device, workspace, needed);
        long wsAddress = workspace == null ? 0 : workspace.address();
        Tensor[] all = {input, values, indices, workspace};
        String[] names = {"the input", "the values", "the indices", "the workspace"};
        for (int a = 0; a < all.length; a++) {
            for (int b = a + 1; b < all.length; b++) {
                if (all[a] != null && all[b] != null && overlaps(all[a], all[b])) {
                    throw new InvalidArgumentException(OP + ": " + names[a] + " overlaps " + names[b]);
                }
            }
        }
        if (rows == 0 || k == 0) {
            return;
        }
        int status;
        switch (device) {
            case CPU:
                status = cpu(input.address(), rows, n, ld, k, values.address(), indices.address(), wsAddress, wsBytes, 0);
                break;
            case CUDA:
                status = cuda(input.address(), rows, n, ld, k, values.address(), indices.address(), wsAddress, wsBytes, 0);
                break;
            default:
                status = emulated(input.address(), rows, n, ld, k, values.address(), indices.address(), wsAddress, wsBytes,
                        0);
                break;
        }
        NativeStatus.check(status, OP);
    }

    /** Checks the input matrix and k; returns {rows, n, row stride}. */
    private static int[] checkInput(Tensor input, int k) {
        if (input == null) {
            throw new InvalidArgumentException(OP + ": input is null");
        }
        if (input.dtype() != DType.FLOAT32 || input.rank() != 2) {
            throw new InvalidArgumentException(OP + ": input must be a FLOAT32 [rows, n] matrix, got " + input);
        }
        if (input.buffer().isClosed()) {
            throw new InvalidArgumentException(OP + ": input is closed");
        }
        long rows = input.shape(0);
        long n = input.shape(1);
        long[] strides = input.strides();
        long ld = rows <= 1 ? Math.max(n, 1) : strides[0];
        if (n > 1 && strides[1] != 1 || ld < n) {
            throw new InvalidArgumentException(OP + ": input rows must be dense (column stride 1, row stride >= n), got "
                    + "strides " + java.util.Arrays.toString(strides) + " for " + input);
        }
        if (rows > Integer.MAX_VALUE || n > Integer.MAX_VALUE || ld > Integer.MAX_VALUE || rows * ld > (1L << 40)) {
            throw new InvalidArgumentException(OP + ": input " + input + " is too large");
        }
        if (k < 0 || k > n) {
            throw new InvalidArgumentException(OP + ": k=" + k + " must be in [0, " + n + "]");
        }
        return new int[] {(int) rows, (int) n, (int) ld};
    }

    /** Byte ranges of two views (the input's from its first to its last element) intersect. */
    private static boolean overlaps(Tensor a, Tensor b) {
        if (a.buffer() != b.buffer() || a.numel() == 0 || b.numel() == 0) {
            return false;
        }
        long a0 = a.address();
        long a1 = a0 + span(a);
        long b0 = b.address();
        long b1 = b0 + span(b);
        return a0 < b1 && b0 < a1;
    }

    private static long span(Tensor t) {
        long last = 0;
        long[] s = t.shape();
        long[] st = t.strides();
        for (int i = 0; i < s.length; i++) {
            last += (s[i] - 1) * st[i];
        }
        return (last + 1) * t.dtype().bytes();
    }

    @Name("mrcnn_cpu_topk_workspace_size")
    private static native @Cast("size_t") long cpuWorkspaceSize(int rows, int n, int k);

    @Name("mrcnn_cuda_topk_workspace_size")
    private static native @Cast("size_t") long cudaWorkspaceSize(int rows, int n, int k);

    @Name("mrcnn_emu_topk_workspace_size")
    private static native @Cast("size_t") long emulatedWorkspaceSize(int rows, int n, int k);

    @Name("mrcnn_cpu_topk")
    private static native int cpu(@Cast("const float*") long input, int rows, int n, int ld, int k,
            @Cast("float*") long values, @Cast("int64_t*") long indices, @Cast("void*") long workspace,
            @Cast("size_t") long workspaceBytes, @Cast("void*") long stream);

    @Name("mrcnn_cuda_topk")
    private static native int cuda(@Cast("const float*") long input, int rows, int n, int ld, int k,
            @Cast("float*") long values, @Cast("int64_t*") long indices, @Cast("void*") long workspace,
            @Cast("size_t") long workspaceBytes, @Cast("void*") long stream);

    @Name("mrcnn_emu_topk")
    private static native int emulated(@Cast("const float*") long input, int rows, int n, int ld, int k,
            @Cast("float*") long values, @Cast("int64_t*") long indices, @Cast("void*") long workspace,
            @Cast("size_t") long workspaceBytes, @Cast("void*") long stream);
}
