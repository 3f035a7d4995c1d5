package dev.maskrcnn4j;

import java.util.List;

/** The detections of one image, best score first; height and width are the image's own. */
public record ImagePrediction(int height, int width, List<Detection> detections) {
    public ImagePrediction {
        detections = List.copyOf(detections);
    }
}
