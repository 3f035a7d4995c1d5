package dev.maskrcnn4j;

/** The requested device cannot be used here (library built without CUDA, no driver, no GPU); the message says why. */
public class DeviceUnavailableException extends MaskRcnnException {
    public DeviceUnavailableException(String message) {
        super(message);
    }
}
