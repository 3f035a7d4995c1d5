package dev.maskrcnn4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.maskrcnn4j.emulation.CudaEmulator;
import dev.maskrcnn4j.emulation.CudaEmulator.Schedule;
import dev.maskrcnn4j.testing.Backends;
import dev.maskrcnn4j.testing.NoLeaks;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The CUDA backend's orchestration end to end (every block, the batch, the postprocess) through the
 * emulator on a tiny model, against the CPU backend on the same weights and images.
 */
@ExtendWith(NoLeaks.class)
class MaskRcnnEmulatedTest {
    @TempDir
    Path dir;

    private static void assertSamePredictions(ImagePrediction cpu, ImagePrediction gpu, String what) {
        assertEquals(cpu.height(), gpu.height(), what);
        assertEquals(cpu.width(), gpu.width(), what);
        assertTrue(cpu.detections().size() > 0, what + ": the tiny model should detect something");
        assertEquals(cpu.detections().size(), gpu.detections().size(), what + ": detection count");
        for (int i = 0; i < cpu.detections().size(); i++) {
            Detection a = cpu.detections().get(i);
            Detection b = gpu.detections().get(i);
            String at = what + " detection " + i;
            assertEquals(a.label(), b.label(), at + " label");
            assertEquals(a.score(), b.score(), 1e-4, at + " score");
            float[] ba = a.box().xyxy();
            float[] bb = b.box().xyxy();
            for (int k = 0; k < 4; k++) {
                assertEquals(ba[k], bb[k], 1e-3 * (1 + Math.abs(ba[k])), at + " box");
            }
            float[] ma = a.softMask();
            float[] mb = b.softMask();
            for (int k = 0; k < ma.length; k++) {
                assertEquals(ma[k], mb[k], 1e-4, at + " soft mask");
            }
            long inter = 0;
            byte[] xa = a.binaryMask();
            byte[] xb = b.binaryMask();
            for (int k = 0; k < xa.length; k++) {
                inter += xa[k] & xb[k];
            }
            long union = a.mask().area() + b.mask().area() - inter;
            assertTrue(union == 0 || inter >= 0.99 * union, at + " mask IoU " + (double) inter / union);
        }
    }

    @Test
    void emulatedCudaMatchesCpuOnATinyModel() throws Exception {
        for (int depth : new int[] {18, 50}) {
            MaskRcnnConfig config = TinyModels.config(depth);
            Path ckpt = TinyModels.checkpoint(dir, config, depth);
            List<InputImage> batch = List.of(TinyModels.image(70, 90, 1), TinyModels.image(83, 61, 2));
            List<ImagePrediction> cpu;
            try (MaskRcnn m = MaskRcnn.load(ckpt, config, Device.CPU)) {
                cpu = m.predict(batch);
            }
            Schedule schedule = Backends.emulatorSchedules().findFirst().orElseThrow();
            long errorsBefore = Backends.useSchedule(schedule);
            List<ImagePrediction> gpu;
            try (MaskRcnn m = MaskRcnn.load(ckpt, config, Device.CUDA_EMULATED)) {
                gpu = m.predict(batch);
            }
            assertEquals(errorsBefore, CudaEmulator.errorCount(), "emulator misuse reports");
            for (int i = 0; i < batch.size(); i++) {
                assertSamePredictions(cpu.get(i), gpu.get(i), "resnet" + depth + " image " + i);
            }
        }
    }

    @Test
    void realCudaMatchesCpuOnATinyModel() throws Exception {
        Backends.assumeCuda();
        MaskRcnnConfig config = TinyModels.config(50);
        Path ckpt = TinyModels.checkpoint(dir, config, 7);
        InputImage img = TinyModels.image(70, 90, 1);
        try (MaskRcnn cpu = MaskRcnn.load(ckpt, config, Device.CPU);
             MaskRcnn gpu = MaskRcnn.load(ckpt, config, Device.CUDA)) {
            assertSamePredictions(cpu.predict(img), gpu.predict(img), "resnet50");
        }
    }
}
