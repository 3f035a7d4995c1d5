package dev.maskrcnn4j.model;

import dev.maskrcnn4j.Device;
import dev.maskrcnn4j.InvalidArgumentException;
import dev.maskrcnn4j.checkpoint.StateDict;
import dev.maskrcnn4j.memory.Scope;
import dev.maskrcnn4j.ops.Conv2d;
import java.util.Map;

/**
 * torchvision's {@code FrozenBatchNorm2d}, {@code y = x * scale + shift} with
 * <pre>
 *   scale = weight * rsqrt(running_var + eps),   shift = bias - running_mean * scale
 * </pre>
 * computed in float32 as torchvision computes it, and folded into the bias-free convolution before
 * it: {@code conv(x, W) * scale + shift = conv(x, W * scale) + shift}. The fold changes only the
 * rounding (one multiply per weight instead of one per output). Immutable.
 */
public final class FrozenBatchNorm {
    private static final String[] PARAMS = {"weight", "bias", "running_mean", "running_var"};

    private final float[] scale;
    private final float[] shift;

    private FrozenBatchNorm(float[] scale, float[] shift) {
        this.scale = scale;
        this.shift = shift;
    }

    /**
     * From the four {@code [channels]} tensors of a FrozenBatchNorm2d ({@code weight}, {@code bias},
     * {@code running_mean}, {@code running_var}), with torchvision's float32 arithmetic: eps is a
     * Python float added to a float32 tensor, so it is rounded to float32 first, and
     * {@code rsqrt(v)} is {@code 1 / sqrt(v)} with both steps rounded (torch's CPU kernel).
     */
    public static FrozenBatchNorm of(float[] weight, float[] bias, float[] runningMean, float[] runningVar, double eps) {
        int c = weight.length;
        if (bias.length != c || runningMean.length != c || runningVar.length != c) {
            throw new InvalidArgumentException("frozen batch norm: weight, bias, running_mean and running_var differ in length ("
                    + c + ", " + bias.length + ", " + runningMean.length + ", " + runningVar.length + ")");
        }
        if (!(eps >= 0) || Double.isInfinite(eps)) {
            throw new InvalidArgumentException("frozen batch norm: eps must be finite and >= 0, got " + eps);
        }
        float epsF = (float) eps;
        float[] scale = new float[c];
        float[] shift = new float[c];
        for (int i = 0; i < c; i++) {
            float sqrt = (float) Math.sqrt(runningVar[i] + epsF); // float sum; sqrt correctly rounded to float
            float rsqrt = 1f / sqrt;
            scale[i] = weight[i] * rsqrt;
            float meanTimesScale = runningMean[i] * scale[i];
            shift[i] = bias[i] - meanTimesScale;
        }
        return new FrozenBatchNorm(scale, shift);
    }

    /** Reads {@code <prefix>.weight}, {@code .bias}, {@code .running_mean}, {@code .running_var}, each {@code [channels]}. */
    public static FrozenBatchNorm load(StateDict weights, String prefix, int channels, double eps) {
        return of(weights.require(prefix + ".weight", channels).toFloatArray(),
                weights.require(prefix + ".bias", channels).toFloatArray(),
                weights.require(prefix + ".running_mean", channels).toFloatArray(),
                weights.require(prefix + ".running_var", channels).toFloatArray(), eps);
    }

    /** Adds the four keys of a FrozenBatchNorm2d under {@code prefix} with their shape. */
    public static void expectedShapes(String prefix, int channels, Map<String, long[]> out) {
        for (String p : PARAMS) {
            out.put(prefix + "." + p, new long[] {channels});
        }
    }

    public int channels() {
        return scale.length;
    }

    /** The per-channel factor (a copy). */
    public float[] scale() {
        return scale.clone();
    }

    /** The per-channel offset, the folded convolution's bias (a copy). */
    public float[] shift() {
        return shift.clone();
    }

    /** A copy of {@code weightOihw} ({@code [channels][...]}) with output channel {@code o} multiplied by {@code scale[o]}. */
    public float[] foldIntoWeight(float[] weightOihw) {
        int c = scale.length;
        if (weightOihw.length % c != 0) {
            throw new InvalidArgumentException("frozen batch norm: a weight of " + weightOihw.length
                    + " floats has no " + c + " output channels");
        }
        int per = weightOihw.length / c;
        float[] out = new float[weightOihw.length];
        for (int o = 0; o < c; o++) {
            float s = scale[o];
            for (int i = o * per, end = i + per; i < end; i++) {
                out[i] = weightOihw[i] * s;
            }
        }
        return out;
    }

    /**
     * The bias-free convolution {@code <convKey>} ({@code [cOut][cIn][k][k]}) followed by the
     * FrozenBatchNorm2d {@code <bnPrefix>}, as one convolution with bias on {@code device}.
     */
    public static Conv2d foldedConv(Scope owner, Device device, StateDict weights, String convKey, String bnPrefix,
                                    int cOut, int cIn, int kernel, Conv2d.Spec spec, double eps) {
        float[] w = weights.require(convKey, cOut, cIn, kernel, kernel).toFloatArray();
        FrozenBatchNorm bn = load(weights, bnPrefix, cOut, eps);
        return new Conv2d(owner, device, bn.foldIntoWeight(w), cOut, cIn, kernel, kernel, bn.shift, spec);
    }
}
