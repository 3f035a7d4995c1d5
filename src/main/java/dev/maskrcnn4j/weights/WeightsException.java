package dev.maskrcnn4j.weights;

import dev.maskrcnn4j.MaskRcnnException;

/**
 * Weights could not be found, fetched, verified or stored. The message always names the URL (or
 * the local path) that was asked for; {@link #source()} returns it.
 *
 * <p>Subclasses say what went wrong: {@link WeightsConnectionException} (no connection, timeout,
 * stall), {@link WeightsTruncatedException} (the body ended early), {@link WeightsHttpException}
 * (an HTTP error status), {@link WeightsHashMismatchException} (the SHA-256 disagrees). This
 * class itself is used for local files that are missing and for disk errors.
 */
public class WeightsException extends MaskRcnnException {
    private final String source;

    public WeightsException(String source, String message) {
        super(withSource(source, message));
        this.source = source;
    }

    public WeightsException(String source, String message, Throwable cause) {
        super(withSource(source, message), cause);
        this.source = source;
    }

    /** The URL or path that was asked for. */
    public String source() {
        return source;
    }

    private static String withSource(String source, String message) {
        return source == null || message.contains(source) ? message : message + " (" + source + ")";
    }
}
