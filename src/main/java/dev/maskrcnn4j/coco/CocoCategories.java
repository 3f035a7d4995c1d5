package dev.maskrcnn4j.coco;

import dev.maskrcnn4j.InvalidArgumentException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The 91 labels of torchvision's COCO detection models, index = label id, exactly as torchvision
 * 0.14's {@code _COCO_CATEGORIES} (the {@code categories} of {@code MaskRCNN_ResNet50_FPN_Weights.COCO_V1}).
 *
 * <p>Label 0 is {@code "__background__"}; the ids COCO leaves unused (12, 26, 29, 30, 45, 66, 68,
 * 69, 71, 83) are {@code "N/A"}. Because of those placeholders a label id is also the COCO
 * {@code category_id} of the 2017 annotations: a detection's label goes into a COCO results file
 * unchanged.
 */
public final class CocoCategories {
    /** Number of labels, background and placeholders included: 91. */
    public static final int COUNT = 91;

    /** Label 0. */
    public static final String BACKGROUND = "__background__";

    /** The name of an id COCO does not use. */
    public static final String UNUSED = "N/A";

    private static final List<String> NAMES = List.of(
            "__background__", "person", "bicycle", "car", "motorcycle", "airplane", "bus", "train",
            "truck", "boat", "traffic light", "fire hydrant", "N/A", "stop sign", "parking meter",
            "bench", "bird", "cat", "dog", "horse", "sheep", "cow", "elephant", "bear", "zebra",
            "giraffe", "N/A", "backpack", "umbrella", "N/A", "N/A", "handbag", "tie", "suitcase",
            "frisbee", "skis", "snowboard", "sports ball", "kite", "baseball bat",
            "baseball glove", "skateboard", "surfboard", "tennis racket", "bottle", "N/A",
            "wine glass", "cup", "fork", "knife", "spoon", "bowl", "banana", "apple", "sandwich",
            "orange", "broccoli", "carrot", "hot dog", "pizza", "donut", "cake", "chair", "couch",
            "potted plant", "bed", "N/A", "dining table", "N/A", "N/A", "toilet", "N/A", "tv",
            "laptop", "mouse", "remote", "keyboard", "cell phone", "microwave", "oven", "toaster",
            "sink", "refrigerator", "N/A", "book", "clock", "vase", "scissors", "teddy bear",
            "hair drier", "toothbrush");

    private static final Map<String, Integer> IDS = new HashMap<>();

    static {
        if (NAMES.size() != COUNT) {
            throw new AssertionError("COCO category list has " + NAMES.size() + " entries");
        }
        for (int i = 1; i < COUNT; i++) {
            if (!NAMES.get(i).equals(UNUSED)) {
                IDS.put(NAMES.get(i), i);
            }
        }
    }

    private CocoCategories() {
    }

    /** All 91 names, index = label id (unmodifiable). */
    public static List<String> names() {
        return NAMES;
    }

    /** The name of a label id in [0, 91); throws {@link InvalidArgumentException} otherwise. */
    public static String name(int labelId) {
        if (labelId < 0 || labelId >= COUNT) {
            throw new InvalidArgumentException("COCO label id " + labelId + " is outside [0, " + COUNT + ")");
        }
        return NAMES.get(labelId);
    }

    /** True for the 80 ids that name an object class (not the background, not an unused "N/A" id). */
    public static boolean isObjectClass(int labelId) {
        return labelId > 0 && labelId < COUNT && !NAMES.get(labelId).equals(UNUSED);
    }

    /**
     * The label id of an object class name ("person" -> 1, "toothbrush" -> 90), matched exactly;
     * throws {@link InvalidArgumentException} for any other string, "__background__" and "N/A" included.
     */
    public static int labelId(String name) {
        Integer id = name == null ? null : IDS.get(name);
        if (id == null) {
            throw new InvalidArgumentException("not a COCO object class name: "
                    + (name == null ? "null" : '"' + name + '"'));
        }
        return id;
    }
}
