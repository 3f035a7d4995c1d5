package dev.maskrcnn4j.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.maskrcnn4j.Device;
import dev.maskrcnn4j.MaskRcnnConfig;
import dev.maskrcnn4j.checkpoint.Checkpoint;
import dev.maskrcnn4j.checkpoint.StateDict;
import dev.maskrcnn4j.memory.Allocator;
import dev.maskrcnn4j.memory.Scope;
import dev.maskrcnn4j.tensor.Tensor;
import dev.maskrcnn4j.testing.Golden;
import dev.maskrcnn4j.testing.Layouts;
import dev.maskrcnn4j.testing.NoLeaks;
import dev.maskrcnn4j.testing.ParityCase;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The backbone of the whole-model parity cases (full-size ResNet-50 with eps 0.0 as torchvision's
 * maskrcnn_resnet50_fpn, ResNet-101 with eps 1e-5 as resnet_fpn_backbone), on torchvision's own
 * transformed and padded batches, against torchvision's FPN maps P2..P6.
 *
 * <p>Tolerance: element-wise |ours - torch| <= the case's stage_deviation("features"), the largest
 * absolute change of any feature value that perturbing every weight by a relative 1e-5 causes in
 * torchvision itself. Our differences are float32 rounding in another order (the FrozenBatchNorm
 * fold rounds each weight once, relative 2^-24 = 6e-8, about 170x below that perturbation; the
 * convolutions sum in other orders), so they must stay inside what torchvision's own output does
 * under a perturbation it is insensitive to by construction (the cases are fitted so that it is).
 */
@ExtendWith(NoLeaks.class)
class BackboneParityTest {
    private static final String[] LEVELS = {"0", "1", "2", "3", "pool"};

    @ParameterizedTest
    @ValueSource(strings = {"r50_v1", "r101_c11"})
    void featuresMatchTorchvision(String name) {
        ParityCase pc = ParityCase.load(name);
        MaskRcnnConfig config = pc.config();
        StateDict weights = Checkpoint.load(pc.checkpoints().get(0).path()).normalized();
        Map<String, long[]> expected = new LinkedHashMap<>();
        Backbone.expectedShapes(config, expected);
        expected.forEach(weights::require); // every key present, every shape right
        double tolerance = pc.stageDeviation("features");
        Scope owner = Allocator.global().openScope("backbone-parity");
        try (Backbone backbone = new Backbone(owner, Device.CPU, weights, config)) {
            for (String batch : pc.batches()) {
                Golden.Case stages = pc.stages(batch);
                Golden.Array images = stages.array("images");
                int n = images.dim(0), h = images.dim(2), w = images.dim(3);
                try (Scope s = owner.child(batch)) {
                    Tensor x = Tensor.fromFloats(s, Device.CPU, Layouts.nchwToNhwc(images.floats(), n, 3, h, w), n, h, w, 3);
                    List<Tensor> maps = backbone.forward(s, x);
                    x.close();
                    for (int l = 0; l < LEVELS.length; l++) {
                        Golden.Array e = stages.array("features_" + LEVELS[l]);
                        Tensor m = maps.get(l);
                        String what = name + " " + batch + " map " + LEVELS[l];
                        assertArrayEquals(new long[] {e.dim(0), e.dim(2), e.dim(3), e.dim(1)}, m.shape(), what);
                        float[] torch = e.floats();
                        float[] ours = Layouts.nhwcToNchw(m.toFloatArray(), e.dim(0), e.dim(1), e.dim(2), e.dim(3));
                        m.close();
                        double worst = 0;
                        double scale = 0;
                        int at = 0;
                        for (int i = 0; i < torch.length; i++) {
                            double d = Math.abs((double) torch[i] - ours[i]);
                            if (!(d <= worst)) { // also catches NaN
                                worst = Double.isNaN(d) ? Double.POSITIVE_INFINITY : d;
                                at = i;
                            }
                            scale = Math.max(scale, Math.abs(torch[i]));
                        }
                        System.out.printf("%s: max |diff| %.3g (%.2g of max |torch| %.3g; tolerance %.3g)%n", what, worst,
                                worst / scale, scale, tolerance);
                        assertTrue(worst <= tolerance, what + ": |ours - torch| = " + worst + " at NCHW index " + at
                                + " (torch " + torch[at] + ", ours " + ours[at] + ") exceeds the case's feature deviation "
                                + tolerance);
                    }
                    s.release();
                }
            }
        } finally {
            owner.close();
        }
    }
}
