package dev.maskrcnn4j.weights;

/**
 * The connection ended before the announced length (Content-Length or Content-Range) arrived.
 * What arrived is kept in the cache's {@code .partial} file, and the next attempt resumes from it.
 */
public class WeightsTruncatedException extends WeightsException {
    private final long expectedBytes;
    private final long receivedBytes;

    public WeightsTruncatedException(String url, long expectedBytes, long receivedBytes, Throwable cause) {
        super(url, "download of " + url + " ended after " + receivedBytes
                + (expectedBytes >= 0 ? " of " + expectedBytes + " bytes" : " bytes (total length not announced)")
                + (cause == null || cause.getMessage() == null ? "" : ": " + cause.getMessage()), cause);
        this.expectedBytes = expectedBytes;
        this.receivedBytes = receivedBytes;
    }

    /** Size of the whole file as the server announced it, or -1 if it did not. */
    public long expectedBytes() {
        return expectedBytes;
    }

    /** Bytes of the file on disk when the connection ended (earlier attempts included). */
    public long receivedBytes() {
        return receivedBytes;
    }
}
