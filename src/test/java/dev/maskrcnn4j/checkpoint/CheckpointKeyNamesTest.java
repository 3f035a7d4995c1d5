package dev.maskrcnn4j.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Key spellings against torchvision 0.14's Mask R-CNN state dict (maskrcnn_keys.json: the keys it
 * writes, and the pre-0.13 keys its _load_from_state_dict accepts, checked by the generator with
 * torchvision itself).
 */
class CheckpointKeyNamesTest {
    @SuppressWarnings("unchecked")
    private static Map<String, long[]> keys(String spelling) {
        Map<String, long[]> out = new LinkedHashMap<>();
        for (Object o : (List<Object>) Fixtures.json("maskrcnn_keys.json").get(spelling)) {
            List<Object> kv = (List<Object>) o;
            out.put((String) kv.get(0), Fixtures.longs(kv.get(1)));
        }
        return out;
    }

    @Test
    void mapsTorchvisionSpellingsBothWays() {
        List<String> canonical = new ArrayList<>(keys("canonical").keySet());
        List<String> legacy = new ArrayList<>(keys("legacy").keySet());
        assertEquals(canonical.size(), legacy.size());
        int renamed = 0;
        for (int i = 0; i < canonical.size(); i++) {
            String c = canonical.get(i);
            String l = legacy.get(i);
            assertEquals(c, KeyNames.canonical(l), l);
            assertEquals(c, KeyNames.canonical(c), "canonical keys are fixed points: " + c);
            assertEquals(l, KeyNames.legacy(c), c);
            assertEquals(l, KeyNames.legacy(l), "legacy keys are fixed points: " + l);
            assertEquals(!c.equals(l), KeyNames.isLegacy(l));
            assertFalse(KeyNames.isLegacy(c));
            renamed += c.equals(l) ? 0 : 1;
        }
        assertEquals(2 + 16 + 8, renamed, "rpn conv, fpn inner/layer blocks 0-3, mask_fcn1-4 (weight and bias)");
        assertEquals("rpn.head.conv.0.0.weight", KeyNames.canonical("rpn.head.conv.weight"));
        assertEquals("backbone.fpn.inner_blocks.0.0.weight", KeyNames.canonical("backbone.fpn.inner_blocks.0.weight"));
        assertEquals("backbone.fpn.layer_blocks.3.0.bias", KeyNames.canonical("backbone.fpn.layer_blocks.3.bias"));
        assertEquals("roi_heads.mask_head.0.0.weight", KeyNames.canonical("roi_heads.mask_head.mask_fcn1.weight"));
        assertEquals("roi_heads.mask_head.3.0.bias", KeyNames.canonical("roi_heads.mask_head.mask_fcn4.bias"));
        assertEquals("roi_heads.mask_head.mask_fcn0.weight", KeyNames.canonical("roi_heads.mask_head.mask_fcn0.weight"),
                "no mask_fcn0 in torchvision");
        // v2 keys without a legacy form stay as they are
        assertEquals("rpn.head.conv.1.0.weight", KeyNames.legacy("rpn.head.conv.1.0.weight"));
        assertEquals("roi_heads.mask_head.0.1.weight", KeyNames.legacy("roi_heads.mask_head.0.1.weight"));
        assertTrue(KeyNames.isUnusedAtInference("backbone.body.bn1.num_batches_tracked"));
        assertFalse(KeyNames.isUnusedAtInference("backbone.body.bn1.running_var"));
    }

    /** A file like the official one: legacy format, legacy spelling, real shapes (stride-0 values). */
    @Test
    void legacySkeletonNormalisesToTheModelsKeys() {
        Map<String, long[]> expected = keys("canonical");
        StateDict raw = Checkpoint.load(Fixtures.path("maskrcnn_legacy_skeleton.pth"));
        assertEquals(Checkpoint.Format.TORCH_LEGACY, raw.format());
        assertEquals(new ArrayList<>(keys("legacy").keySet()), new ArrayList<>(raw.keys()));
        CheckpointException e = assertThrows(CheckpointException.class, () -> raw.validate(expected));
        assertEquals(2 * 26, e.problems().size(), "26 missing + 26 unexpected");
        assertTrue(e.getMessage().contains("pre-0.13 torchvision key spelling"), e.getMessage());
        assertTrue(e.getMessage().contains("maskrcnn_legacy_skeleton.pth"));

        StateDict sd = raw.normalized();
        sd.validate(expected);
        assertEquals(new ArrayList<>(expected.keySet()), new ArrayList<>(sd.keys()));
        // values follow their tensors through the renaming: tensor i holds i + 0.5 everywhere
        List<String> names = new ArrayList<>(expected.keySet());
        for (String k : List.of("rpn.head.conv.0.0.weight", "roi_heads.mask_head.3.0.bias", "backbone.fpn.layer_blocks.2.0.bias",
                "roi_heads.box_predictor.bbox_pred.bias")) {
            HostTensor t = sd.require(k, expected.get(k));
            float[] v = t.toFloatArray();
            assertEquals(t.numel(), v.length);
            float want = names.indexOf(k) + 0.5f;
            for (float f : v) {
                assertEquals(want, f, k);
            }
        }
        assertEquals("rpn.head.conv.0.0.weight", sd.get("rpn.head.conv.0.0.weight").name());
        // a lookup in the wrong spelling says so
        CheckpointException hint = assertThrows(CheckpointException.class, () -> raw.get("rpn.head.conv.0.0.weight"));
        assertTrue(hint.getMessage().contains("rpn.head.conv.weight") && hint.getMessage().contains("normalized()"),
                hint.getMessage());
    }

    @Test
    void zipSkeletonInTheCanonicalSpellingIsUnchanged() {
        Map<String, long[]> expected = keys("canonical");
        StateDict sd = Checkpoint.load(Fixtures.path("maskrcnn_zip_skeleton.pth"));
        sd.validate(expected);
        StateDict n = sd.normalized();
        assertEquals(new ArrayList<>(sd.keys()), new ArrayList<>(n.keys()));
        assertArrayEquals(sd.get("backbone.body.conv1.weight").toFloatArray(), n.get("backbone.body.conv1.weight").toFloatArray());
    }

    @Test
    void normalizedDropsBatchCountersAndRefusesBothSpellings(@TempDir Path dir) {
        StateDict tiny = Checkpoint.load(Fixtures.path("tiny_zip.pth"));
        assertTrue(tiny.contains("bn.num_batches_tracked"));
        assertFalse(tiny.normalized().contains("bn.num_batches_tracked"));
        assertEquals(tiny.size() - 1, tiny.normalized().size());

        // a safetensors file holding a tensor under both spellings
        String header = "{\"rpn.head.conv.weight\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                + "\"rpn.head.conv.0.0.weight\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}";
        Path both = Fixtures.write(dir, "both.safetensors", CheckpointCorruptionTest.safetensors(header, new byte[8]));
        StateDict sd = Checkpoint.load(both);
        CheckpointException e = assertThrows(CheckpointException.class, sd::normalized);
        assertTrue(e.getMessage().contains("'rpn.head.conv.weight'") && e.getMessage().contains("'rpn.head.conv.0.0.weight'")
                && e.getMessage().contains("both.safetensors"), e.getMessage());
    }
}
