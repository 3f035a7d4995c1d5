package dev.maskrcnn4j.weights;

/** The server could not be reached, did not answer in time, or stopped sending (the URL is in the message). */
public class WeightsConnectionException extends WeightsException {
    public WeightsConnectionException(String url, String message, Throwable cause) {
        super(url, message, cause);
    }
}
