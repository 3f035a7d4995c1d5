package dev.maskrcnn4j.ops;

import dev.maskrcnn4j.Device;
import dev.maskrcnn4j.InvalidArgumentException;
import dev.maskrcnn4j.memory.Scope;
import dev.maskrcnn4j.nativelib.NativeLibrary;
import dev.maskrcnn4j.nativelib.NativeStatus;
import dev.maskrcnn4j.tensor.DType;
import dev.maskrcnn4j.tensor.Tensor;
import java.util.Arrays;
import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.Name;
import org.bytedeco.javacpp.annotation.Platform;

/**
 * Gathers by a device index tensor (torch's advanced indexing), bound to
 * {@code mrcnn_<backend>_gather_rows} / {@code gather_channel} of native/include/mrcnn/gather.h:
 * <ul>
 * <li>{@link #rows}: {@code output[i] = input[indices[i]]} along dim 0 of a dense FLOAT32, INT32 or
 *     INT64 tensor of any rank, e.g. the boxes a top-k or an NMS kept;</li>
 * <li>{@link #channel}: {@code output[k][q] = input[k][q][channels[k]]} for FLOAT32 {@code [K, P, C]},
 *     e.g. the label's channel of NHWC mask logits {@code [K, 28*28, C]}.</li>
 * </ul>
 * Indices are INT64 on the input's device. They are not read on the host (that would synchronise a
 * GPU): an index out of range yields a zero row (element). Outputs must not overlap the inputs.
 */
@Platform(include = {"mrcnn/api.h", "mrcnn/gather.h"}, library = NativeLibrary.NAME)
public final class Gather {
    static {
        NativeLibrary.load();
    }

    private static final String OP = "gather";

    private Gather() {
    }

    /** {@code input[indices]} along dim 0, into a new tensor owned by {@code scope}. */
    public static Tensor rows(Scope scope, Tensor input, Tensor indices) {
        checkRowsInput(input, indices);
        long[] shape = input.shape().clone();
        shape[0] = indices.shape(0);
        Tensor out = Tensor.allocate(scope, input.device(), input.dtype(), shape);
        try {
            rows(input, indices, out);
        } catch (RuntimeException e) {
            out.close();
            throw e;
        }
        return out;
    }

    /** {@code output = input[indices]} along dim 0; {@code output} may be a dense slice of a larger tensor. */
    public static void rows(Tensor input, Tensor indices, Tensor output) {
        checkRowsInput(input, indices);
        long[] shape = input.shape().clone();
        shape[0] = indices.shape(0);
        SmallOps.dense(OP, "output", output, input.dtype(), shape);
        Device device = input.device();
        SmallOps.sameDevice(OP, device, "output", output);
        SmallOps.disjoint(OP, "the input", input, output);
        SmallOps.disjoint(OP, "the indices", indices, output);
        long count = shape[0];
        long rowWords = input.shape(0) == 0 ? rowElements(input) * input.dtype().bytes() / 4
                : input.bytes() / input.shape(0) / 4;
        if (count == 0 || rowWords == 0) {
            return;
        }
        int status;
        switch (device) {
            case CPU: status = cpuRows(input.address(), input.shape(0), rowWords, indices.address(), count, output.address(), 0); break;
            case CUDA: status = cudaRows(input.address(), input.shape(0), rowWords, indices.address(), count, output.address(), 0); break;
            default: status = emulatedRows(input.address(), input.shape(0), rowWords, indices.address(), count, output.address(), 0); break;
        }
        NativeStatus.check(status, "gather_rows");
    }

    /** {@code input[k, :, channels[k]]} of a FLOAT32 {@code [K, P, C]} tensor: a new {@code [K, P]} tensor. */
    public static Tensor channel(Scope scope, Tensor input, Tensor channels) {
        checkChannelInput(input, channels);
        return SmallOps.newOutput(scope, input.device(), new long[] {input.shape(0), input.shape(1)},
                o -> channel(input, channels, o));
    }

    /** {@code output[k][q] = input[k][q][channels[k]]}; output FLOAT32 {@code [K, P]}. */
    public static void channel(Tensor input, Tensor channels, Tensor output) {
        checkChannelInput(input, channels);
        long k = input.shape(0);
        long p = input.shape(1);
        long c = input.shape(2);
        SmallOps.dense(OP, "output", output, DType.FLOAT32, new long[] {k, p});
        Device device = input.device();
        SmallOps.sameDevice(OP, device, "output", output);
        SmallOps.disjoint(OP, "the input", input, output);
        SmallOps.disjoint(OP, "the channels", channels, output);
        if (k == 0 || p == 0) {
            return;
        }
        int status;
        switch (device) {
            case CPU: status = cpuChannel(input.address(), k, p, c, channels.address(), output.address(), 0); break;
            case CUDA: status = cudaChannel(input.address(), k, p, c, channels.address(), output.address(), 0); break;
            default: status = emulatedChannel(input.address(), k, p, c, channels.address(), output.address(), 0); break;
        }
        NativeStatus.check(status, "gather_channel");
    }

    private static long rowElements(Tensor t) {
        long n = 1;
        for (int d = 1; d < t.rank(); d++) {
            n *= t.shape(d);
        }
        return n;
    }

    private static void checkRowsInput(Tensor input, Tensor indices) {
        if (input == null) {
            throw new InvalidArgumentException(OP + ": input is null");
        }
        if (input.dtype() == DType.UINT8) {
            throw new InvalidArgumentException(OP + ": input must be FLOAT32, INT32 or INT64, got " + input);
        }
        if (input.rank() < 1) {
            throw new InvalidArgumentException(OP + ": input must have rank >= 1, got " + input);
        }
        SmallOps.dense(OP, "input", input, input.dtype(), input.shape());
        checkIndices(input, indices, "indices");
    }

    private static void checkChannelInput(Tensor input, Tensor channels) {
        if (input == null || input.rank() != 3) {
            throw new InvalidArgumentException(OP + ": input must be FLOAT32 [K, P, C], got " + input);
        }
        SmallOps.dense(OP, "input", input, DType.FLOAT32, input.shape());
        if (input.shape(2) < 1) {
            throw new InvalidArgumentException(OP + ": input must have at least one channel, got " + input);
        }
        checkIndices(input, channels, "channels");
        if (channels.shape(0) != input.shape(0)) {
            throw new InvalidArgumentException(OP + ": " + channels.shape(0) + " channels for " + input.shape(0)
                    + " rows of " + Arrays.toString(input.shape()));
        }
    }

    private static void checkIndices(Tensor input, Tensor indices, String what) {
        if (indices == null) {
            throw new InvalidArgumentException(OP + ": " + what + " is null");
        }
        if (indices.rank() != 1) {
            throw new InvalidArgumentException(OP + ": " + what + " must be INT64 [n], got " + indices);
        }
        SmallOps.dense(OP, what, indices, DType.INT64, indices.shape());
        SmallOps.sameDevice(OP, input.device(), what, indices);
    }

    @Name("mrcnn_cpu_gather_rows")
    private static native int cpuRows(@Cast("const void*") long input, long rows, long rowWords,
                                      @Cast("const int64_t*") long indices, long count, @Cast("void*") long output,
                                      @Cast("void*") long stream);

    @Name("mrcnn_cuda_gather_rows")
    private static native int cudaRows(@Cast("const void*") long input, long rows, long rowWords,
                                       @Cast("const int64_t*") long indices, long count, @Cast("void*") long output,
                                       @Cast("void*") long stream);

    @Name("mrcnn_emu_gather_rows")
    private static native int emulatedRows(@Cast("const void*") long input, long rows, long rowWords,
                                           @Cast("const int64_t*") long indices, long count,
                                           @Cast("void*") long output, @Cast("void*") long stream);

    @Name("mrcnn_cpu_gather_channel")
    private static native int cpuChannel(@Cast("const float*") long input, long k, long p, long c,
                                         @Cast("const int64_t*") long channels, @Cast("float*") long output,
                                         @Cast("void*") long stream);

    @Name("mrcnn_cuda_gather_channel")
    private static native int cudaChannel(@Cast("const float*") long input, long k, long p, long c,
                                          @Cast("const int64_t*") long channels, @Cast("float*") long output,
                                          @Cast("void*") long stream);

    @Name("mrcnn_emu_gather_channel")
    private static native int emulatedChannel(@Cast("const float*") long input, long k, long p, long c,
                                              @Cast("const int64_t*") long channels, @Cast("float*") long output,
                                              @Cast("void*") long stream);
}
