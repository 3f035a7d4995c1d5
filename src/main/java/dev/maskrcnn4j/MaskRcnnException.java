package dev.maskrcnn4j;

/** Base of every exception maskrcnn4j throws on purpose. */
public class MaskRcnnException extends RuntimeException {
    public MaskRcnnException(String message) {
        super(message);
    }

    public MaskRcnnException(String message, Throwable cause) {
        super(message, cause);
    }
}
