package dev.maskrcnn4j.checkpoint;

import dev.maskrcnn4j.tensor.DType;
import java.util.Optional;

/** Element types a checkpoint tensor can have (torch's names in {@link #torchName()}). */
public enum ElementType {
    FLOAT64(8, "float64", "F64", "DoubleStorage", true),
    FLOAT32(4, "float32", "F32", "FloatStorage", true),
    FLOAT16(2, "float16", "F16", "HalfStorage", true),
    BFLOAT16(2, "bfloat16", "BF16", "BFloat16Storage", true),
    INT64(8, "int64", "I64", "LongStorage", false),
    INT32(4, "int32", "I32", "IntStorage", false),
    INT16(2, "int16", "I16", "ShortStorage", false),
    INT8(1, "int8", "I8", "CharStorage", false),
    UINT8(1, "uint8", "U8", "ByteStorage", false),
    BOOL(1, "bool", "BOOL", "BoolStorage", false);

    private final int bytes;
    private final String torchName;
    private final String safetensorsName;
    private final String storageClass;
    private final boolean floatingPoint;

    ElementType(int bytes, String torchName, String safetensorsName, String storageClass, boolean floatingPoint) {
        this.bytes = bytes;
        this.torchName = torchName;
        this.safetensorsName = safetensorsName;
        this.storageClass = storageClass;
        this.floatingPoint = floatingPoint;
    }

    /** Bytes per element. */
    public int bytes() {
        return bytes;
    }

    /** torch's name of the dtype: "float32", "bfloat16", ... */
    public String torchName() {
        return torchName;
    }

    /** The dtype's name in a safetensors header: "F32", "BF16", ... */
    public String safetensorsName() {
        return safetensorsName;
    }

    /** The torch storage class pickled for this dtype: "FloatStorage", ... */
    public String storageClass() {
        return storageClass;
    }

    public boolean isFloatingPoint() {
        return floatingPoint;
    }

    /** The device tensor dtype holding these values without conversion, if there is one. */
    public Optional<DType> tensorDType() {
        switch (this) {
            case FLOAT32:
                return Optional.of(DType.FLOAT32);
            case INT32:
                return Optional.of(DType.INT32);
            case INT64:
                return Optional.of(DType.INT64);
            case UINT8:
            case BOOL:
                return Optional.of(DType.UINT8);
            default:
                return Optional.empty();
        }
    }

    static ElementType fromSafetensors(String name) {
        for (ElementType t : values()) {
            if (t.safetensorsName.equals(name)) {
                return t;
            }
        }
        return null;
    }

    static ElementType fromStorageClass(String name) {
        for (ElementType t : values()) {
            if (t.storageClass.equals(name)) {
                return t;
            }
        }
        return null;
    }

    @Override
    public String toString() {
        return torchName;
    }
}
