package dev.maskrcnn4j.ops;

import dev.maskrcnn4j.Device;
import dev.maskrcnn4j.InvalidArgumentException;
import dev.maskrcnn4j.memory.Scope;
import dev.maskrcnn4j.tensor.DType;
import dev.maskrcnn4j.tensor.Tensor;
import java.util.Arrays;

/**
 * {@code torch.nn.Linear(in, out)}: {@code y = x W^T + b} on {@code x [rows, in]}, {@code y [rows,
 * out]}, optionally followed by torch.relu (torchvision's TwoMLPHead applies {@code F.relu(fc6(x))},
 * {@code F.relu(fc7(x))}; FastRCNNPredictor's cls_score/bbox_pred have none).
 *
 * <p>No kernel of its own: the rows are run through {@link Conv2d} as a 1x1 convolution over the
 * NHWC "image" {@code [1, rows, 1, in]} (weight {@code [out][in][1][1]} is exactly torch's
 * {@code [out][in]}), whose output {@code [1, rows, 1, out]} is {@code y}. This class owns that packed
 * layer (in a child scope of the scope given, freed by {@link #close()}). Results agree with torch to
 * conv2d's summation tolerance ({@code in * 2^-23 * sum |x w| + |b|}), not bit for bit.
 */
public final class Linear implements AutoCloseable {
    private final int in;
    private final int out;
    private final Conv2d conv;

    /**
     * @param weight torch's {@code [out][in]} weight (out*in floats, row-major)
     * @param bias   {@code out} floats, or null
     */
    public Linear(Scope owner, Device device, float[] weight, int out, int in, float[] bias, boolean relu) {
        if (out < 1 || in < 1) {
            throw new InvalidArgumentException("linear: features must be >= 1, got in=" + in + " out=" + out);
        }
        this.in = in;
        this.out = out;
        this.conv = new Conv2d(owner, device, weight, out, in, 1, 1, bias, Conv2d.Spec.of(1, 0, 1, relu));
    }

    /** The same from tensors: weight {@code [out, in]} and bias {@code [out]} (or null), FLOAT32, any device. */
    public Linear(Scope owner, Device device, Tensor weight, Tensor bias, boolean relu) {
        this(owner, device, hostWeight(weight), dim(weight, 0), dim(weight, 1), hostBias(bias), relu);
    }

    /**
     * Reorders the input columns of a {@code [out][c*h*w]} weight that reads a flattened NCHW tensor
     * (torch's {@code x.flatten(1)} of {@code [rows, c, h, w]}, column {@code (ci*h + y)*w + x}) so that
     * it reads the same features flattened from NHWC ({@code [rows, h, w, c]}, column
     * {@code (y*w + x)*c + ci}): the form fc6 needs after an NHWC RoIAlign.
     */
    public static float[] chwToHwcColumns(float[] weight, int out, int c, int h, int w) {
        long in = (long) c * h * w;
        if (weight == null || out < 1 || c < 1 || h < 1 || w < 1 || (long) out * in != weight.length) {
            throw new InvalidArgumentException("linear: weight of " + (weight == null ? "null" : weight.length + " floats")
                    + " is not [" + out + "][" + c + "*" + h + "*" + w + "]");
        }
        float[] r = new float[weight.length];
        int inInt = (int) in;
        for (int o = 0; o < out; o++) {
            int row = o * inInt;
            for (int ci = 0; ci < c; ci++) {
                for (int y = 0; y < h; y++) {
                    for (int x = 0; x < w; x++) {
                        r[row + (y * w + x) * c + ci] = weight[row + (ci * h + y) * w + x];
                    }
                }
            }
        }
        return r;
    }

    public int inFeatures() {
        return in;
    }

    public int outFeatures() {
        return out;
    }

    public Device device() {
        return conv.device();
    }

    /** {@code y} for {@code x [rows, in]}, into a new {@code [rows, out]} tensor owned by {@code scope}. */
    public Tensor run(Scope scope, Tensor x) {
        checkInput(x);
        return SmallOps.newOutput(scope, device(), new long[] {x.shape(0), out}, o -> run(x, o));
    }

    /** {@code y = x W^T + b} (then ReLU if configured) into {@code y [rows, out]}, which must not overlap {@code x}. */
    public void run(Tensor x, Tensor y) {
        checkInput(x);
        long rows = x.shape(0);
        SmallOps.shaped("linear", "y", y, new long[] {rows, out});
        if (rows == 0) {
            return; // a 1 x 0 x 1 image is not a convolution input; the result is empty anyway
        }
        if (rows > Integer.MAX_VALUE / 4) {
            throw new InvalidArgumentException("linear: " + rows + " rows exceed the kernels' int range");
        }
        conv.run(x.reshape(1, rows, 1, in), y.reshape(1, rows, 1, out));
    }

    /** Frees the packed weight and the bias. Idempotent. */
    @Override
    public void close() {
        conv.close();
    }

    @Override
    public String toString() {
        return "Linear[" + in + " -> " + out + (conv.spec().relu() ? ", relu" : "") + " on " + device() + "]";
    }

    private void checkInput(Tensor x) {
        SmallOps.denseFloat("linear", "x", x, 2);
        if (x.shape(1) != in) {
            throw new InvalidArgumentException("linear: x has shape " + Arrays.toString(x.shape()) + ", the layer takes "
                    + in + " features");
        }
    }

    private static float[] hostWeight(Tensor w) {
        if (w == null || w.dtype() != DType.FLOAT32 || w.rank() != 2) {
            throw new InvalidArgumentException("linear: weight must be a FLOAT32 [out, in] tensor, got " + w);
        }
        return w.toFloatArray();
    }

    private static float[] hostBias(Tensor b) {
        if (b == null) {
            return null;
        }
        if (b.dtype() != DType.FLOAT32 || b.rank() != 1) {
            throw new InvalidArgumentException("linear: bias must be a FLOAT32 [out] tensor, got " + b);
        }
        return b.toFloatArray();
    }

    private static int dim(Tensor w, int i) {
        long d = w.shape(i);
        if (d < 1 || d > Integer.MAX_VALUE) {
            throw new InvalidArgumentException("linear: bad weight shape " + Arrays.toString(w.shape()));
        }
        return (int) d;
    }
}
