package dev.maskrcnn4j.weights;

import dev.maskrcnn4j.InvalidArgumentException;
import java.util.Map;
import java.util.TreeMap;

/**
 * The weights a model config uses when none are given: torchvision's published checkpoints.
 * These are URLs; {@link WeightsCache#resolve(String)} downloads one once and verifies it against
 * the SHA-256 prefix in its name.
 */
public final class DefaultWeights {
    /** The config name of torchvision's {@code maskrcnn_resnet50_fpn}. */
    public static final String MASKRCNN_RESNET50_FPN = "maskrcnn_resnet50_fpn";

    /**
     * torchvision's {@code MaskRCNN_ResNet50_FPN_Weights.COCO_V1} (= {@code DEFAULT}): Mask R-CNN
     * ResNet-50-FPN trained on COCO 2017, box AP 37.9, mask AP 34.6; SHA-256 starts with bf2d0c1e.
     */
    public static final String MASKRCNN_RESNET50_FPN_COCO_V1 =
            "https://download.pytorch.org/models/maskrcnn_resnet50_fpn_coco-bf2d0c1e.pth";

    private static final Map<String, String> BY_CONFIG = Map.of(MASKRCNN_RESNET50_FPN, MASKRCNN_RESNET50_FPN_COCO_V1);

    private DefaultWeights() {
    }

    /** The default weights URL of a config; throws {@link InvalidArgumentException} for an unknown config. */
    public static String forConfig(String config) {
        String url = config == null ? null : BY_CONFIG.get(config);
        if (url == null) {
            throw new InvalidArgumentException("no default weights for config " + config
                    + "; known: " + String.join(", ", new TreeMap<>(BY_CONFIG).keySet()));
        }
        return url;
    }

    /** Every config with default weights, mapped to its URL (sorted, unmodifiable). */
    public static Map<String, String> all() {
        return java.util.Collections.unmodifiableMap(new TreeMap<>(BY_CONFIG));
    }
}
