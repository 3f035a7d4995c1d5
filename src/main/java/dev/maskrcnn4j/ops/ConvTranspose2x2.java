package dev.maskrcnn4j.ops;

import dev.maskrcnn4j.Device;
import dev.maskrcnn4j.InvalidArgumentException;
import dev.maskrcnn4j.memory.Scope;
import dev.maskrcnn4j.tensor.DType;
import dev.maskrcnn4j.tensor.Tensor;
import java.util.Arrays;

/**
 * {@code torch.nn.ConvTranspose2d(cIn, cOut, kernel_size=2, stride=2, padding=0)}, optionally
 * followed by torch.relu, on NHWC activations: torchvision's {@code MaskRCNNPredictor.conv5_mask}
 * (+ the ReLU that follows it). Input {@code [N, H, W, cIn]}, output {@code [N, 2H, 2W, cOut]}.
 *
 * <p>No kernel of its own: a stride-2 2x2 transposed convolution has no overlapping taps, so
 * <pre>
 *   out[n][2y+dy][2x+dx][co] = bias[co] + sum_ci in[n][y][x][ci] * W_t[ci][co][dy][dx]
 * </pre>
 * is a 1x1 {@link Conv2d} from cIn to 4*cOut channels with the rearranged weight
 * {@code W'[(dy*2+dx)*cOut + co][ci] = W_t[ci][co][dy][dx]} (see {@link #rearrangeWeight}) and the
 * bias repeated four times, producing {@code [N, H, W, 4*cOut]} (the ReLU fused there, as it
 * commutes with the permutation), followed by {@link DepthToSpace2x2}. This class owns that
 * packed 1x1 layer (in a child scope of the scope given, freed by {@link #close()}); the
 * intermediate {@code [N, H, W, 4*cOut]} tensor is a workspace the caller passes or {@link
 * #run(Scope, Tensor)} allocates. Products are summed by the conv2d kernel in its own order, so
 * results agree with torch to conv2d's tolerance, not bit for bit.
 */
public final class ConvTranspose2x2 implements AutoCloseable {
    private final int cIn;
    private final int cOut;
    private final boolean relu;
    private final Conv2d conv;

    /**
     * @param weightIohw torch's ConvTranspose2d weight {@code [cIn][cOut][2][2]} (cIn*cOut*4 floats)
     * @param bias       {@code cOut} floats, or null
     */
    public ConvTranspose2x2(Scope owner, Device device, float[] weightIohw, int cIn, int cOut, float[] bias,
                            boolean relu) {
        if (cIn < 1 || cOut < 1) {
            throw new InvalidArgumentException("conv_transpose2x2: channels must be >= 1, got " + cIn + " -> " + cOut);
        }
        if ((long) cOut * 4 > Integer.MAX_VALUE / 4) {
            throw new InvalidArgumentException("conv_transpose2x2: " + cOut + " output channels are too many");
        }
        if (bias != null && bias.length != cOut) {
            throw new InvalidArgumentException("conv_transpose2x2: bias has " + bias.length + " elements for " + cOut
                    + " output channels");
        }
        this.cIn = cIn;
        this.cOut = cOut;
        this.relu = relu;
        float[] bias4 = null;
        if (bias != null) {
            bias4 = new float[4 * cOut];
            for (int k = 0; k < 4; k++) {
                System.arraycopy(bias, 0, bias4, k * cOut, cOut);
            }
        }
        this.conv = new Conv2d(owner, device, rearrangeWeight(weightIohw, cIn, cOut), 4 * cOut, cIn, 1, 1, bias4,
                Conv2d.Spec.of(1, 0, 1, relu));
    }

    /** The same from tensors: weight {@code [cIn, cOut, 2, 2]} and bias {@code [cOut]} (or null), FLOAT32, any device. */
    public ConvTranspose2x2(Scope owner, Device device, Tensor weightIohw, Tensor bias, boolean relu) {
        this(owner, device, hostWeight(weightIohw), dim(weightIohw, 0), dim(weightIohw, 1), hostBias(bias), relu);
    }

    /**
     * torch's ConvTranspose2d weight {@code [cIn][cOut][2][2]} as the OIHW weight {@code [4*cOut][cIn][1][1]}
     * of the equivalent 1x1 convolution: {@code W'[(dy*2+dx)*cOut + co][ci] = W_t[ci][co][dy][dx]}.
     */
    public static float[] rearrangeWeight(float[] weightIohw, int cIn, int cOut) {
        if (weightIohw == null) {
            throw new InvalidArgumentException("conv_transpose2x2: weight is null");
        }
        if (cIn < 1 || cOut < 1 || (long) cIn * cOut * 4 != weightIohw.length) {
            throw new InvalidArgumentException("conv_transpose2x2: weight has " + weightIohw.length + " floats, expected "
                    + (long) cIn * cOut * 4 + " for [" + cIn + ", " + cOut + ", 2, 2]");
        }
        float[] w = new float[weightIohw.length];
        for (int ci = 0; ci < cIn; ci++) {
            for (int co = 0; co < cOut; co++) {
                for (int k = 0; k < 4; k++) { // k = dy*2 + dx
                    w[(k * cOut + co) * cIn + ci] = weightIohw[(ci * cOut + co) * 4 + k];
                }
            }
        }
        return w;
    }

    public int inChannels() {
        return cIn;
    }

    public int outChannels() {
        return cOut;
    }

    public boolean relu() {
        return relu;
    }

    public Device device() {
        return conv.device();
    }

    /** Output shape {@code [N, 2H, 2W, cOut]} for an input {@code [N, H, W, cIn]}. */
    public long[] outputShape(long... inputShape) {
        long[] depth = conv.outputShape(inputShape);
        return new long[] {depth[0], 2 * depth[1], 2 * depth[2], cOut};
    }

    /** Shape {@code [N, H, W, 4*cOut]} of the workspace {@link #run(Tensor, Tensor, Tensor)} needs. */
    public long[] workspaceShape(long... inputShape) {
        return conv.outputShape(inputShape);
    }

    /** The transposed convolution into a new tensor owned by {@code scope} (workspace allocated and freed here). */
    public Tensor run(Scope scope, Tensor input) {
        if (input == null) {
            throw new InvalidArgumentException("conv_transpose2x2: input is null");
        }
        long[] outShape = outputShape(input.shape());
        Tensor out = Tensor.allocate(scope, device(), DType.FLOAT32, outShape);
        Scope tmp = scope.child("conv_transpose2x2 workspace");
        try {
            run(input, Tensor.allocate(tmp, device(), DType.FLOAT32, workspaceShape(input.shape())), out);
        } catch (RuntimeException e) {
            out.close();
            throw e;
        } finally {
            tmp.release();
        }
        return out;
    }

    /**
     * The transposed convolution into {@code output} ({@link #outputShape}), through {@code workspace}
     * ({@link #workspaceShape}, dense float32 on this layer's device, overlapping neither input nor output).
     */
    public void run(Tensor input, Tensor workspace, Tensor output) {
        if (input == null || workspace == null || output == null) {
            throw new InvalidArgumentException("conv_transpose2x2: input, workspace and output must not be null");
        }
        long[] outShape = outputShape(input.shape());
        SmallOps.shaped("conv_transpose2x2", "output", output, outShape);
        SmallOps.sameDevice("conv_transpose2x2", workspace.device(), "output", output);
        SmallOps.disjoint("conv_transpose2x2", "the workspace", workspace, output);
        conv.run(input, workspace);
        DepthToSpace2x2.run(workspace, output, false); // the ReLU ran in the convolution
    }

    /** Frees the packed weight and bias. Idempotent. */
    @Override
    public void close() {
        conv.close();
    }

    @Override
    public String toString() {
        return "ConvTranspose2x2[" + cIn + " -> " + cOut + (relu ? ", relu" : "") + " on " + device() + "]";
    }

    private static float[] hostWeight(Tensor w) {
        if (w == null || w.dtype() != DType.FLOAT32 || w.rank() != 4 || w.shape(2) != 2 || w.shape(3) != 2) {
            throw new InvalidArgumentException("conv_transpose2x2: weight must be a FLOAT32 [cIn, cOut, 2, 2] tensor, got " + w);
        }
        return w.toFloatArray();
    }

    private static float[] hostBias(Tensor b) {
        if (b == null) {
            return null;
        }
        if (b.dtype() != DType.FLOAT32 || b.rank() != 1) {
            throw new InvalidArgumentException("conv_transpose2x2: bias must be a FLOAT32 [cOut] tensor, got " + b);
        }
        return b.toFloatArray();
    }

    private static int dim(Tensor w, int i) {
        long d = w.shape(i);
        if (d < 1 || d > Integer.MAX_VALUE) {
            throw new InvalidArgumentException("conv_transpose2x2: bad weight shape " + Arrays.toString(w.shape()));
        }
        return (int) d;
    }
}
