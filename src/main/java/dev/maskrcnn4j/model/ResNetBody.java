package dev.maskrcnn4j.model;

import dev.maskrcnn4j.Device;
import dev.maskrcnn4j.InvalidArgumentException;
import dev.maskrcnn4j.MaskRcnnConfig;
import dev.maskrcnn4j.checkpoint.StateDict;
import dev.maskrcnn4j.memory.Scope;
import dev.maskrcnn4j.ops.Conv2d;
import dev.maskrcnn4j.ops.MaxPool2d;
import dev.maskrcnn4j.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The ResNet body of torchvision's {@code resnet_fpn_backbone} ({@code backbone.body.*}): the stem
 * (conv 7x7/2 + FrozenBatchNorm + ReLU, max pool 3x3/2 pad 1) and the four stages
 * {@code layer1..layer4}, returning their outputs C2..C5 (strides 4, 8, 16, 32). Stage i has
 * {@code planes = backboneWidth * 2^i} and outputs {@code planes * expansion} channels
 * (BasicBlock: 1, Bottleneck: 4); stages 2..4 start with stride 2. Every FrozenBatchNorm is
 * folded into its convolution at construction.
 */
public final class ResNetBody implements AutoCloseable {
    static final String PREFIX = "backbone.body.";
    private static final int STAGES = 4;
    private static final MaxPool2d.Spec STEM_POOL = MaxPool2d.Spec.of(3, 2, 1);

    private final Scope scope;
    private final Device device;
    private final Conv2d stem;
    private final List<List<ResidualBlock>> stages = new ArrayList<>();

    public ResNetBody(Scope owner, Device device, StateDict weights, MaskRcnnConfig config) {
        if (owner == null || device == null || weights == null || config == null) {
            throw new InvalidArgumentException("resnet body: owner, device, weights and config must not be null");
        }
        this.device = device;
        this.scope = owner.child("resnet" + config.depth() + " body");
        try {
            int width = config.backboneWidth();
            double eps = config.frozenBnEps();
            stem = FrozenBatchNorm.foldedConv(scope, device, weights, PREFIX + "conv1.weight", PREFIX + "bn1",
                    width, 3, 7, Conv2d.Spec.of(2, 3, 1, true), eps);
            boolean bottleneck = isBottleneck(config.depth());
            int[] blocks = blocksPerStage(config.depth());
            int inChannels = width;
            for (int s = 0; s < STAGES; s++) {
                int planes = width << s;
                List<ResidualBlock> stage = new ArrayList<>();
                stages.add(stage);
                for (int b = 0; b < blocks[s]; b++) {
                    int stride = b == 0 && s > 0 ? 2 : 1;
                    String prefix = PREFIX + "layer" + (s + 1) + "." + b;
                    stage.add(bottleneck
                            ? new Bottleneck(scope, device, weights, prefix, inChannels, planes, stride, eps)
                            : new BasicBlock(scope, device, weights, prefix, inChannels, planes, stride, eps));
                    inChannels = planes * expansion(config.depth());
                }
            }
        } catch (RuntimeException e) {
            scope.release();
            throw e;
        }
    }

    /** Blocks of each stage, as torchvision's {@code resnet18..resnet152}. */
    public static int[] blocksPerStage(int depth) {
        switch (depth) {
            case 18: return new int[] {2, 2, 2, 2};
            case 34: return new int[] {3, 4, 6, 3};
            case 50: return new int[] {3, 4, 6, 3};
            case 101: return new int[] {3, 4, 23, 3};
            case 152: return new int[] {3, 8, 36, 3};
            default: throw new InvalidArgumentException("resnet: depth must be 18, 34, 50, 101 or 152, got " + depth);
        }
    }

    /** ResNet-50 and deeper use Bottleneck blocks, 18 and 34 BasicBlock. */
    public static boolean isBottleneck(int depth) {
        blocksPerStage(depth);
        return depth >= 50;
    }

    private static int expansion(int depth) {
        return isBottleneck(depth) ? Bottleneck.EXPANSION : BasicBlock.EXPANSION;
    }

    /** Channels of C2..C5 (torchvision's FPN {@code in_channels_list}). */
    public static int[] stageChannels(MaskRcnnConfig config) {
        int[] c = new int[STAGES];
        for (int s = 0; s < STAGES; s++) {
            c[s] = (config.backboneWidth() << s) * expansion(config.depth());
        }
        return c;
    }

    /** Adds every {@code backbone.body.*} key this body reads with its shape, in torchvision's order. */
    public static void expectedShapes(MaskRcnnConfig config, Map<String, long[]> out) {
        int width = config.backboneWidth();
        out.put(PREFIX + "conv1.weight", new long[] {width, 3, 7, 7});
        FrozenBatchNorm.expectedShapes(PREFIX + "bn1", width, out);
        boolean bottleneck = isBottleneck(config.depth());
        int[] blocks = blocksPerStage(config.depth());
        int inChannels = width;
        for (int s = 0; s < STAGES; s++) {
            int planes = width << s;
            for (int b = 0; b < blocks[s]; b++) {
                int stride = b == 0 && s > 0 ? 2 : 1;
                String prefix = PREFIX + "layer" + (s + 1) + "." + b;
                if (bottleneck) {
                    Bottleneck.expectedShapes(prefix, inChannels, planes, stride, out);
                } else {
                    BasicBlock.expectedShapes(prefix, inChannels, planes, stride, out);
                }
                inChannels = planes * expansion(config.depth());
            }
        }
    }

    public Device device() {
        return device;
    }

    /**
     * C2..C5 of NHWC {@code images} ({@code [N, H, W, 3]} float32 on this body's device), each
     * NHWC and allocated from {@code scope}; every other activation is freed as soon as it is dead.
     */
    public List<Tensor> forward(Scope scope, Tensor images) {
        List<Tensor> outputs = new ArrayList<>(STAGES);
        Scope temp = scope.child("resnet body temporaries");
        try {
            Tensor x;
            try (Tensor stemOut = stem.allocateOutput(temp, images)) {
                stem.run(images, stemOut);
                x = MaxPool2d.run(temp, stemOut, STEM_POOL);
            }
            for (List<ResidualBlock> stage : stages) {
                for (int b = 0; b < stage.size(); b++) {
                    boolean last = b == stage.size() - 1;
                    Tensor y = stage.get(b).forward(last ? scope : temp, x);
                    if (x.buffer().owner() == temp) { // a stage output (owned by scope) stays for the FPN
                        x.close();
                    }
                    if (last) {
                        outputs.add(y);
                    }
                    x = y;
                }
            }
            return outputs;
        } catch (RuntimeException e) {
            outputs.forEach(Tensor::close);
            throw e;
        } finally {
            temp.release();
        }
    }

    @Override
    public void close() {
        scope.release();
    }
}
