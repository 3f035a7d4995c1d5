package dev.maskrcnn4j.tensor;

/** Element types of tensors: float32 for activations, int32/int64 for indices, uint8 for binary masks. */
public enum DType {
    FLOAT32(4), INT32(4), INT64(8), UINT8(1);

    private final int bytes;

    DType(int bytes) {
        this.bytes = bytes;
    }

    public int bytes() {
        return bytes;
    }
}
