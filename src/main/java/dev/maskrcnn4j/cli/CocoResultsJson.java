package dev.maskrcnn4j.cli;

import dev.maskrcnn4j.Detection;
import dev.maskrcnn4j.ImagePrediction;
import dev.maskrcnn4j.InvalidArgumentException;
import dev.maskrcnn4j.coco.CocoRle;
import java.io.IOException;
import java.io.Writer;

/**
 * Writes detections as a COCO results file, streaming: a JSON array with one object per detection,
 * one per line,
 * <pre>{"image_id": "a.jpg", "category_id": 1, "bbox": [x, y, w, h], "score": 0.98,
 *  "segmentation": {"size": [h, w], "counts": "..."}}</pre>
 * with the image's file name as image_id, the box in image pixels as COCO's [x, y, width, height],
 * and the mask as COCO's compressed RLE at the image's size. Floats are written with
 * {@link Float#toString}, which reads back as the same float32.
 */
final class CocoResultsJson {
    private final Writer out;
    private long written;
    private boolean finished;

    /** Starts the array on {@code out}; {@link #finish()} ends it. */
    CocoResultsJson(Writer out) throws IOException {
        this.out = out;
        out.write('[');
    }

    /** Appends every detection of {@code prediction}, best score first as the model orders them. */
    void add(String imageId, ImagePrediction prediction) throws IOException {
        if (finished) {
            throw new IllegalStateException("results already finished");
        }
        for (Detection d : prediction.detections()) {
            out.write(written == 0 ? "\n" : ",\n");
            out.write(detectionJson(imageId, prediction, d));
            written++;
        }
    }

    /** Ends the array and flushes; the writer stays open. */
    void finish() throws IOException {
        if (!finished) {
            out.write(written == 0 ? "]\n" : "\n]\n");
            out.flush();
            finished = true;
        }
    }

    /** Detections written so far. */
    long written() {
        return written;
    }

    /** One detection's object. */
    static String detectionJson(String imageId, ImagePrediction prediction, Detection d) {
        CocoRle mask = d.mask();
        if (mask.height() != prediction.height() || mask.width() != prediction.width()) {
            throw new InvalidArgumentException("detection mask is " + mask.height() + "x" + mask.width()
                    + " but its image is " + prediction.height() + "x" + prediction.width());
        }
        float[] xywh = d.box().xywh();
        StringBuilder sb = new StringBuilder(160 + mask.runCount() * 2);
        sb.append("{\"image_id\": ");
        appendString(sb, imageId);
        sb.append(", \"category_id\": ").append(d.label());
        sb.append(", \"bbox\": [");
        for (int i = 0; i < 4; i++) {
            sb.append(i == 0 ? "" : ", ").append(number(xywh[i], "bbox"));
        }
        sb.append("], \"score\": ").append(number(d.score(), "score"));
        sb.append(", \"segmentation\": {\"size\": [").append(mask.height()).append(", ").append(mask.width());
        sb.append("], \"counts\": ");
        appendString(sb, mask.countsString());
        return sb.append("}}").toString();
    }

    /** The shortest decimal that reads back as {@code v}; JSON has no NaN or infinity. */
    static String number(float v, String what) {
        if (!Float.isFinite(v)) {
            throw new InvalidArgumentException("detection " + what + " is " + v + ", which JSON cannot hold");
        }
        return Float.toString(v);
    }

    /** {@code s} as a JSON string (RFC 8259 escapes; non-ASCII written as is, the file is UTF-8). */
    static void appendString(StringBuilder sb, String s) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (c < 0x20 || Character.isSurrogate(c) && !validSurrogateAt(s, i)) {
                        sb.append(String.format("\\u%04x", (int) c)); // lone surrogates cannot be UTF-8
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        sb.append('"');
    }

    private static boolean validSurrogateAt(String s, int i) {
        char c = s.charAt(i);
        if (Character.isHighSurrogate(c)) {
            return i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1));
        }
        return i > 0 && Character.isHighSurrogate(s.charAt(i - 1));
    }
}
