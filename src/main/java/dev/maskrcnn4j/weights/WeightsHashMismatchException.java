package dev.maskrcnn4j.weights;

/**
 * The SHA-256 of the downloaded (or given) file does not match the expected one: the full hash,
 * or the prefix a torchvision-style file name carries. A downloaded file that fails is deleted.
 */
public class WeightsHashMismatchException extends WeightsException {
    private final String expected;
    private final String actual;

    public WeightsHashMismatchException(String source, String expected, String actual, String message) {
        super(source, message);
        this.expected = expected;
        this.actual = actual;
    }

    /** The expected SHA-256 in lowercase hex: 64 digits, or the prefix taken from the file name. */
    public String expected() {
        return expected;
    }

    /** The SHA-256 of the data, 64 lowercase hex digits. */
    public String actual() {
        return actual;
    }
}
