package dev.maskrcnn4j.checkpoint;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The two spellings of torchvision Mask R-CNN state-dict keys, and the map between them.
 *
 * <p>torchvision 0.13 wrapped three groups of convolutions in {@code Conv2dNormActivation}
 * blocks, which added ".0" levels to their keys, and bumped those modules' {@code _version} to 2;
 * their {@code _load_from_state_dict} renames the old keys when a checkpoint's version is missing
 * or below 2 (torchvision 0.14: {@code models/detection/rpn.py} RPNHead,
 * {@code ops/feature_pyramid_network.py} FeaturePyramidNetwork,
 * {@code models/detection/mask_rcnn.py} MaskRCNNHeads):
 * <pre>
 * legacy (official maskrcnn_resnet50_fpn_coco-bf2d0c1e.pth)   canonical (torchvision &gt;= 0.13)
 * rpn.head.conv.{weight,bias}                                   rpn.head.conv.0.0.{weight,bias}
 * backbone.fpn.inner_blocks.{i}.{weight,bias}                   backbone.fpn.inner_blocks.{i}.0.{weight,bias}
 * backbone.fpn.layer_blocks.{i}.{weight,bias}                   backbone.fpn.layer_blocks.{i}.0.{weight,bias}
 * roi_heads.mask_head.mask_fcn{n}.{weight,bias}  (n = 1..4)     roi_heads.mask_head.{n-1}.0.{weight,bias}
 * </pre>
 * Every other key is spelled the same in both. The canonical spelling is torchvision 0.14's
 * ({@code model.state_dict()} keys). The rules are unambiguous: no canonical key has a legacy
 * form and vice versa, so {@link #canonical} is the identity on canonical keys.
 *
 * <p>{@code num_batches_tracked} buffers (written by {@code nn.BatchNorm2d}, counted only in
 * training) are not used at inference; torchvision's {@code FrozenBatchNorm2d} drops them when
 * loading, and {@link StateDict#normalized()} drops them everywhere.
 */
public final class KeyNames {
    private static final Pattern OLD_RPN = Pattern.compile("rpn\\.head\\.conv\\.(weight|bias)");
    private static final Pattern NEW_RPN = Pattern.compile("rpn\\.head\\.conv\\.0\\.0\\.(weight|bias)");
    private static final Pattern OLD_FPN = Pattern.compile("backbone\\.fpn\\.(inner_blocks|layer_blocks)\\.(\\d+)\\.(weight|bias)");
    private static final Pattern NEW_FPN = Pattern.compile("backbone\\.fpn\\.(inner_blocks|layer_blocks)\\.(\\d+)\\.0\\.(weight|bias)");
    private static final Pattern OLD_MASK = Pattern.compile("roi_heads\\.mask_head\\.mask_fcn([1-9]\\d*)\\.(weight|bias)");
    private static final Pattern NEW_MASK = Pattern.compile("roi_heads\\.mask_head\\.(\\d+)\\.0\\.(weight|bias)");

    private KeyNames() {
    }

    /** The torchvision >= 0.13 spelling of {@code key} (unchanged if it is already, or is common to both). */
    public static String canonical(String key) {
        Matcher m = OLD_RPN.matcher(key);
        if (m.matches()) {
            return "rpn.head.conv.0.0." + m.group(1);
        }
        m = OLD_FPN.matcher(key);
        if (m.matches()) {
            return "backbone.fpn." + m.group(1) + "." + m.group(2) + ".0." + m.group(3);
        }
        m = OLD_MASK.matcher(key);
        if (m.matches()) {
            return "roi_heads.mask_head." + (Integer.parseInt(m.group(1)) - 1) + ".0." + m.group(2);
        }
        return key;
    }

    /**
     * The pre-0.13 spelling of {@code key} (unchanged if it is already, is common to both, or has
     * no legacy form, such as the second RPN convolution of a v2 model).
     */
    public static String legacy(String key) {
        Matcher m = NEW_RPN.matcher(key);
        if (m.matches()) {
            return "rpn.head.conv." + m.group(1);
        }
        m = NEW_FPN.matcher(key);
        if (m.matches()) {
            return "backbone.fpn." + m.group(1) + "." + m.group(2) + "." + m.group(3);
        }
        m = NEW_MASK.matcher(key);
        if (m.matches()) {
            return "roi_heads.mask_head.mask_fcn" + (Long.parseLong(m.group(1)) + 1) + "." + m.group(2);
        }
        return key;
    }

    /** True for keys only the legacy spelling has. */
    public static boolean isLegacy(String key) {
        return !canonical(key).equals(key);
    }

    /** True for buffers inference never reads ({@code *.num_batches_tracked}). */
    public static boolean isUnusedAtInference(String key) {
        return key.equals("num_batches_tracked") || key.endsWith(".num_batches_tracked");
    }
}
