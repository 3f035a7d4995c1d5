package dev.maskrcnn4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.maskrcnn4j.Device;
import dev.maskrcnn4j.MaskRcnnConfig;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class PredictOptionsTest {

    private static PredictOptions parse(String... args) throws Exception {
        return PredictOptions.parse(args);
    }

    private static String usageError(String... args) {
        CommandFailure f = assertThrows(CommandFailure.class, () -> PredictOptions.parse(args), String.join(" ", args));
        assertEquals(CommandFailure.USAGE, f.exitCode());
        return f.getMessage();
    }

    @Test
    void defaults() throws Exception {
        PredictOptions o = parse("--weights", "w.pth", "a.jpg");
        assertEquals("w.pth", o.weights());
        assertEquals("maskrcnn_resnet50_fpn", o.config().arch());
        assertEquals(MaskRcnnConfig.maskrcnnResnet50Fpn().boxScoreThresh(), o.config().boxScoreThresh());
        assertEquals(Device.CPU, o.device());
        assertNull(o.output());
        assertNull(o.overlayDir());
        assertEquals(List.of(Path.of("a.jpg")), o.images());
        assertFalse(o.weightsIsUrl());
    }

    @Test
    void everyOption() throws Exception {
        PredictOptions o = parse("x.png", "--arch", "resnet18_fpn", "--weights=https://host/m.pth", "--device",
                "cuda-emulated", "--score-threshold", "0.3", "--output", "out/r.json", "--overlay=ov", "y.jpg");
        assertEquals("resnet18_fpn", o.config().arch());
        assertEquals(18, o.config().depth());
        assertEquals(0.3, o.config().boxScoreThresh());
        assertEquals(Device.CUDA_EMULATED, o.device());
        assertEquals(Path.of("out/r.json"), o.output());
        assertEquals(Path.of("ov"), o.overlayDir());
        assertEquals(List.of(Path.of("x.png"), Path.of("y.jpg")), o.images());
        assertTrue(o.weightsIsUrl());
        for (String arch : MaskRcnnConfig.ARCHS) {
            assertEquals(arch, parse("--weights", "w", "--arch", arch, "i").config().arch());
        }
        assertEquals(0.0, parse("--weights", "w", "--score-threshold", "0", "i").config().boxScoreThresh());
        assertEquals(1.0, parse("--weights", "w", "--score-threshold", "1", "i").config().boxScoreThresh());
    }

    @Test
    void doubleDashEndsOptions() throws Exception {
        PredictOptions o = parse("--weights", "w", "--", "--help", "-x.jpg");
        assertEquals(List.of(Path.of("--help"), Path.of("-x.jpg")), o.images());
    }

    @Test
    void helpWinsOverEverythingElse() {
        assertThrows(PredictOptions.HelpRequested.class, () -> parse("--help"));
        assertThrows(PredictOptions.HelpRequested.class, () -> parse("-h", "--bogus"));
        assertTrue(PredictOptions.USAGE.contains("--score-threshold"));
    }

    @Test
    void usageErrorsNameTheOption() {
        assertTrue(usageError("--weights", "w", "--bogus", "a.jpg").contains("unknown option '--bogus'"));
        assertTrue(usageError("--weights", "w", "-v", "a.jpg").contains("'-v'"));
        assertTrue(usageError("a.jpg").contains("missing --weights"));
        assertTrue(usageError("--weights", "w").contains("no images"));
        assertTrue(usageError("--weights").contains("--weights needs a value"));
        assertTrue(usageError("--weights", "--arch", "resnet18_fpn", "a.jpg").contains("--weights needs a value"));
        assertTrue(usageError("--weights=", "a.jpg").contains("--weights needs a value"));
        assertTrue(usageError("--weights", "w", "--weights", "v", "a.jpg").contains("--weights given twice"));
        String arch = usageError("--weights", "w", "--arch", "resnet77_fpn", "a.jpg");
        assertTrue(arch.contains("--arch") && arch.contains("resnet77_fpn") && arch.contains("resnet152_fpn"), arch);
        assertTrue(usageError("--weights", "w", "--device", "tpu", "a.jpg").contains("--device: unknown device 'tpu'"));
        for (String bad : new String[] {"1.5", "-0.1", "NaN", "abc", "Infinity", ""}) {
            String m = usageError("--weights", "w", "--score-threshold=" + bad, "a.jpg");
            assertTrue(m.contains(bad.isEmpty() ? "needs a value" : "--score-threshold must be a number from 0 to 1"), m);
        }
    }
}
