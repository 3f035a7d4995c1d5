package dev.maskrcnn4j.weights;

/** The server answered with an HTTP status other than success (404, 500, ...). */
public class WeightsHttpException extends WeightsException {
    private final int statusCode;

    public WeightsHttpException(String url, int statusCode, String message) {
        super(url, message);
        this.statusCode = statusCode;
    }

    public int statusCode() {
        return statusCode;
    }
}
