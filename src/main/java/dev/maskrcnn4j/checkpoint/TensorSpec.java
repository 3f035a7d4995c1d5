package dev.maskrcnn4j.checkpoint;

import java.util.Arrays;
import java.util.Collections;
import java.util.EnumSet;
import java.util.Set;

/** What a model expects of one checkpoint tensor: an exact shape and the dtypes it accepts. */
public final class TensorSpec {
    private static final Set<ElementType> FLOATING =
            Collections.unmodifiableSet(EnumSet.of(ElementType.FLOAT32, ElementType.FLOAT64, ElementType.FLOAT16, ElementType.BFLOAT16));

    private final long[] shape;
    private final Set<ElementType> dtypes;

    private TensorSpec(long[] shape, Set<ElementType> dtypes) {
        this.shape = shape.clone();
        this.dtypes = dtypes;
    }

    /** A floating-point tensor (float32, float64, float16 or bfloat16: all convert to float32) of this shape. */
    public static TensorSpec floating(long... shape) {
        return new TensorSpec(shape, FLOATING);
    }

    /** A tensor of exactly this dtype and shape. */
    public static TensorSpec of(ElementType dtype, long... shape) {
        return new TensorSpec(shape, Collections.unmodifiableSet(EnumSet.of(dtype)));
    }

    /** A tensor of one of these dtypes and this shape. */
    public static TensorSpec anyOf(Set<ElementType> dtypes, long... shape) {
        if (dtypes.isEmpty()) {
            throw new IllegalArgumentException("no dtypes");
        }
        return new TensorSpec(shape, Collections.unmodifiableSet(EnumSet.copyOf(dtypes)));
    }

    public long[] shape() {
        return shape.clone();
    }

    public Set<ElementType> dtypes() {
        return dtypes;
    }

    /** Null if {@code t} fits, else what is wrong (without the key). */
    String mismatch(HostTensor t) {
        StringBuilder sb = new StringBuilder();
        if (!t.hasShape(shape)) {
            sb.append("shape ").append(Arrays.toString(t.shape())).append(", expected ").append(Arrays.toString(shape));
        }
        if (!dtypes.contains(t.dtype())) {
            if (sb.length() > 0) {
                sb.append("; ");
            }
            sb.append("dtype ").append(t.dtype()).append(", expected ").append(describeDtypes());
        }
        return sb.length() == 0 ? null : sb.toString();
    }

    String describeDtypes() {
        if (dtypes.equals(FLOATING)) {
            return "floating point";
        }
        return dtypes.size() == 1 ? dtypes.iterator().next().toString() : dtypes.toString();
    }

    @Override
    public String toString() {
        return describeDtypes() + Arrays.toString(shape);
    }
}
