package dev.maskrcnn4j;

/** A native call returned a failure status; {@link #status()} is the mrcnn_status code. */
public class NativeException extends MaskRcnnException {
    private final int status;

    public NativeException(int status, String message) {
        super(message);
        this.status = status;
    }

    public int status() {
        return status;
    }
}
