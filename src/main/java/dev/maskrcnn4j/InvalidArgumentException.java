package dev.maskrcnn4j;

/** A caller passed a value an op cannot accept (shape, dtype, device, NaN box...). Thrown before any native call. */
public class InvalidArgumentException extends MaskRcnnException {
    public InvalidArgumentException(String message) {
        super(message);
    }
}
