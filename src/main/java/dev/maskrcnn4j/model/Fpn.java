package dev.maskrcnn4j.model;

import dev.maskrcnn4j.Device;
import dev.maskrcnn4j.InvalidArgumentException;
import dev.maskrcnn4j.checkpoint.StateDict;
import dev.maskrcnn4j.memory.Scope;
import dev.maskrcnn4j.ops.Conv2d;
import dev.maskrcnn4j.ops.MaxPool2d;
import dev.maskrcnn4j.ops.UpsampleNearestAdd;
import dev.maskrcnn4j.tensor.Tensor;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * torchvision's {@code FeaturePyramidNetwork} with {@code LastLevelMaxPool} ({@code backbone.fpn.*}):
 * <pre>
 *   inner_5 = lateral_5(C5);  inner_i = lateral_i(C_i) + nearest(inner_{i+1}, size of lateral_i(C_i))
 *   P_i = output_i(inner_i);  P6 = max_pool2d(P5, kernel 1, stride 2)
 * </pre>
 * with 1x1 lateral ({@code inner_blocks.i.0}) and 3x3 output ({@code layer_blocks.i.0}) convolutions,
 * both with bias. The nearest upsampling targets the lateral's exact size, so odd sizes work.
 */
public final class Fpn implements AutoCloseable {
    static final String PREFIX = "backbone.fpn.";
    private static final MaxPool2d.Spec LAST_LEVEL_POOL = MaxPool2d.Spec.of(1, 2, 0);

    private final Scope scope;
    private final int outChannels;
    private final int[] inChannels;
    private final Conv2d[] laterals;
    private final Conv2d[] outputs;

    /** An FPN over maps of {@code inChannels} channels (finest first) producing {@code outChannels}. */
    public Fpn(Scope owner, Device device, StateDict weights, int[] inChannels, int outChannels) {
        if (owner == null || device == null || weights == null || inChannels == null || inChannels.length == 0) {
            throw new InvalidArgumentException("fpn: owner, device, weights and a non-empty inChannels are required");
        }
        this.inChannels = inChannels.clone();
        this.outChannels = outChannels;
        this.laterals = new Conv2d[inChannels.length];
        this.outputs = new Conv2d[inChannels.length];
        this.scope = owner.child("fpn");
        try {
            for (int i = 0; i < inChannels.length; i++) {
                laterals[i] = conv(device, weights, PREFIX + "inner_blocks." + i + ".0", inChannels[i], 1);
                outputs[i] = conv(device, weights, PREFIX + "layer_blocks." + i + ".0", outChannels, 3);
            }
        } catch (RuntimeException e) {
            scope.release();
            throw e;
        }
    }

    private Conv2d conv(Device device, StateDict weights, String prefix, int cIn, int kernel) {
        float[] w = weights.require(prefix + ".weight", outChannels, cIn, kernel, kernel).toFloatArray();
        float[] b = weights.require(prefix + ".bias", outChannels).toFloatArray();
        return new Conv2d(scope, device, w, outChannels, cIn, kernel, kernel, b, Conv2d.Spec.of(1, kernel / 2, 1, false));
    }

    /** Adds every {@code backbone.fpn.*} key with its shape, in torchvision's order. */
    public static void expectedShapes(int[] inChannels, int outChannels, Map<String, long[]> out) {
        for (int i = 0; i < inChannels.length; i++) {
            out.put(PREFIX + "inner_blocks." + i + ".0.weight", new long[] {outChannels, inChannels[i], 1, 1});
            out.put(PREFIX + "inner_blocks." + i + ".0.bias", new long[] {outChannels});
        }
        for (int i = 0; i < inChannels.length; i++) {
            out.put(PREFIX + "layer_blocks." + i + ".0.weight", new long[] {outChannels, outChannels, 3, 3});
            out.put(PREFIX + "layer_blocks." + i + ".0.bias", new long[] {outChannels});
        }
    }

    public int outChannels() {
        return outChannels;
    }

    /**
     * P_2..P_{k+1} and the max-pooled extra level for the NHWC maps {@code features} (finest first,
     * each half the size of the previous, rounded either way), allocated from {@code scope}. With
     * {@code closeInputs} each input map is closed as soon as its lateral is computed (the caller
     * hands them over to keep the peak memory low); otherwise the inputs are left alone.
     */
    public List<Tensor> forward(Scope scope, List<Tensor> features, boolean closeInputs) {
        if (features == null || features.size() != laterals.length) {
            throw new InvalidArgumentException("fpn: expected " + laterals.length + " feature maps, got "
                    + (features == null ? "null" : features.size()));
        }
        for (int i = 0; i < features.size(); i++) {
            Tensor f = features.get(i);
            if (f == null || f.rank() != 4 || f.shape(3) != inChannels[i]) {
                throw new InvalidArgumentException("fpn: feature map " + i + " must be NHWC with " + inChannels[i]
                        + " channels, got " + f);
            }
        }
        int levels = laterals.length;
        Tensor[] results = new Tensor[levels + 1];
        Scope temp = scope.child("fpn temporaries");
        try {
            Tensor last = lateral(temp, levels - 1, features, closeInputs);
            for (int i = levels - 1; i >= 0; i--) {
                if (i < levels - 1) {
                    Tensor inner = lateral(temp, i, features, closeInputs);
                    UpsampleNearestAdd.run(last, inner, inner); // inner += nearest(last, inner's size)
                    last.close();
                    last = inner;
                }
                results[i] = outputs[i].allocateOutput(scope, last);
                outputs[i].run(last, results[i]);
                if (i == levels - 1) {
                    results[levels] = MaxPool2d.run(scope, results[i], LAST_LEVEL_POOL);
                }
            }
            last.close();
            return List.of(results);
        } catch (RuntimeException e) {
            for (Tensor t : results) {
                if (t != null) {
                    t.close();
                }
            }
            throw e;
        } finally {
            temp.release();
        }
    }

    private Tensor lateral(Scope temp, int level, List<Tensor> features, boolean closeInput) {
        Tensor f = features.get(level);
        Tensor inner = laterals[level].allocateOutput(temp, f);
        laterals[level].run(f, inner);
        if (closeInput) {
            f.close();
        }
        return inner;
    }

    @Override
    public void close() {
        scope.release();
    }

    @Override
    public String toString() {
        return "Fpn" + Arrays.toString(inChannels) + "->" + outChannels;
    }
}
