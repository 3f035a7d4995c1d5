package dev.maskrcnn4j.testing;

import dev.maskrcnn4j.InputImage;
import dev.maskrcnn4j.MaskRcnnConfig;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Assumptions;

/**
 * A whole-model parity case made by torchvision (tools/parity/gen_cases.py, run by Maven at
 * generate-test-resources into {@code target/parity}): a checkpoint in several formats and key
 * spellings, PNG images, and per batch of images torchvision's stages and detections
 * ({@code stages_<batch>.golden}; array names in tools/parity/README.md).
 *
 * <p>The directory is the system property {@code mrcnn4j.parity.dir} (default
 * {@code target/parity} under the working directory). A missing case aborts the test (a visible
 * skip) only when the generator wrote {@code SKIPPED} there because torchvision is not installed;
 * otherwise it fails, so a machine with torchvision can never skip silently.
 */
public final class ParityCase {
    public static final String DIR_PROPERTY = "mrcnn4j.parity.dir";
    /** The cases the generator makes. */
    public static final List<String> NAMES = List.of("r50_v1", "r101_c11");

    private static final Map<Path, ParityCase> LOADED = new ConcurrentHashMap<>();

    /** A checkpoint file of the case: format "torch_legacy", "torch_zip" or "safetensors"; spelling "legacy" or "v0.13". */
    public record CheckpointFile(Path path, String format, String spelling) {
    }

    private final String name;
    private final Path dir;
    private final Map<String, Object> json;
    private final Map<String, Golden.Case> stages = new ConcurrentHashMap<>();

    private ParityCase(String name, Path dir, Map<String, Object> json) {
        this.name = name;
        this.dir = dir;
        this.json = json;
    }

    /** The directory holding the cases. */
    public static Path root() {
        String p = System.getProperty(DIR_PROPERTY);
        return (p != null && !p.isEmpty() ? Paths.get(p) : Paths.get(System.getProperty("user.dir"), "target", "parity"))
                .toAbsolutePath().normalize();
    }

    /** Loads (once per JVM) the named case; see the class comment for a missing one. */
    public static ParityCase load(String name) {
        Path dir = root().resolve(name);
        return LOADED.computeIfAbsent(dir, d -> read(name, d));
    }

    @SuppressWarnings("unchecked")
    private static ParityCase read(String name, Path dir) {
        Path caseJson = dir.resolve("case.json");
        if (!Files.isRegularFile(caseJson)) {
            Path skipped = dir.getParent().resolve("SKIPPED");
            if (Files.isRegularFile(skipped)) {
                String reason;
                try {
                    reason = Files.readString(skipped, StandardCharsets.UTF_8).trim();
                } catch (IOException e) {
                    reason = "see " + skipped;
                }
                Assumptions.abort("parity case " + name + " not generated: " + reason);
            }
            throw new AssertionError("parity case " + name + " is missing: no " + caseJson + " (generate it with "
                    + "`mvn generate-test-resources`, or `bash tools/parity/generate.sh " + dir.getParent()
                    + "`, which needs /usr/bin/python3 with torchvision)");
        }
        try {
            Object parsed = TinyJson.parse(Files.readString(caseJson, StandardCharsets.UTF_8));
            ParityCase c = new ParityCase(name, dir, (Map<String, Object>) parsed);
            if (!name.equals(c.json.get("name"))) {
                throw new AssertionError(caseJson + " names case " + c.json.get("name") + ", not " + name);
            }
            return c;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public String name() {
        return name;
    }

    public Path dir() {
        return dir;
    }

    /** The architecture name ({@link MaskRcnnConfig#forArch}). */
    public String arch() {
        return (String) json.get("arch");
    }

    public int numClasses() {
        return intValue(json.get("num_classes"));
    }

    /** {@code MaskRcnnConfig.forArch(arch)} with the case's overrides (case.json "config": Builder method names). */
    public MaskRcnnConfig config() {
        MaskRcnnConfig.Builder b = MaskRcnnConfig.forArch(arch()).toBuilder();
        for (Map.Entry<String, Object> e : object("config").entrySet()) {
            apply(b, e.getKey(), e.getValue());
        }
        return b.build();
    }

    private static void apply(MaskRcnnConfig.Builder b, String key, Object value) {
        for (Method m : MaskRcnnConfig.Builder.class.getMethods()) {
            if (!m.getName().equals(key) || m.getParameterCount() != 1) {
                continue;
            }
            Class<?> t = m.getParameterTypes()[0];
            Object arg;
            if (t == int.class) {
                arg = intValue(value);
            } else if (t == double.class) {
                arg = ((Number) value).doubleValue();
            } else if (t == double[].class) {
                List<?> l = (List<?>) value;
                double[] d = new double[l.size()];
                for (int i = 0; i < d.length; i++) {
                    d[i] = ((Number) l.get(i)).doubleValue();
                }
                arg = d;
            } else {
                throw new IllegalStateException("case.json config " + key + ": unsupported parameter type " + t);
            }
            try {
                m.invoke(b, arg);
                return;
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException("case.json config " + key + " = " + value, e);
            }
        }
        throw new IllegalStateException("case.json config " + key + ": MaskRcnnConfig.Builder has no such method");
    }

    /** Every checkpoint file of the case; they hold the same weights. */
    public List<CheckpointFile> checkpoints() {
        List<CheckpointFile> out = new ArrayList<>();
        for (Object o : list("checkpoints")) {
            Map<?, ?> m = (Map<?, ?>) o;
            out.add(new CheckpointFile(dir.resolve((String) m.get("file")), (String) m.get("format"), (String) m.get("spelling")));
        }
        return out;
    }

    public int imageCount() {
        return list("images").size();
    }

    public Path imagePath(int i) {
        return dir.resolve((String) imageEntry(i).get("file"));
    }

    /** The original size of image i, {height, width}, as case.json records it. */
    public int[] imageSize(int i) {
        Map<?, ?> m = imageEntry(i);
        return new int[] {intValue(m.get("height")), intValue(m.get("width"))};
    }

    /** Image i as the model takes it: read with ImageIO, channels / 255f (torchvision's to_tensor of the PNG). */
    public InputImage image(int i) {
        Path p = imagePath(i);
        try {
            BufferedImage img = ImageIO.read(p.toFile());
            if (img == null) {
                throw new IllegalStateException("ImageIO cannot read " + p);
            }
            return InputImage.of(img);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Names of the batches ("single", "pair"): images run together in one forward. */
    public List<String> batches() {
        List<String> out = new ArrayList<>();
        for (Object o : list("batches")) {
            out.add((String) ((Map<?, ?>) o).get("name"));
        }
        return out;
    }

    /** Indices of the images of a batch, in batch order. */
    public int[] batchImages(String batch) {
        for (Object o : list("batches")) {
            Map<?, ?> m = (Map<?, ?>) o;
            if (batch.equals(m.get("name"))) {
                List<?> l = (List<?>) m.get("images");
                int[] out = new int[l.size()];
                for (int i = 0; i < out.length; i++) {
                    out[i] = intValue(l.get(i));
                }
                return out;
            }
        }
        throw new IllegalArgumentException("parity case " + name + " has no batch " + batch + " (has " + batches() + ")");
    }

    /** The images of a batch, in batch order. */
    public List<InputImage> batchInputs(String batch) {
        List<InputImage> out = new ArrayList<>();
        for (int i : batchImages(batch)) {
            out.add(image(i));
        }
        return out;
    }

    /** torchvision's stages and detections for a batch (memory-mapped, loaded once). */
    public Golden.Case stages(String batch) {
        batchImages(batch); // names the batches when this one does not exist
        return stages.computeIfAbsent(batch, b -> Golden.read(dir.resolve("stages_" + b + ".golden")).get("stages"));
    }

    /** The seed the generator settled on. */
    public long seed() {
        return ((Number) json.get("seed")).longValue();
    }

    /**
     * The fitness check's figures: torchvision against itself with every weight perturbed by a
     * relative 1e-5 ("matched_fraction", "worst_box_iou", "worst_score_diff", "worst_mask_iou", ...).
     */
    public Map<String, Object> fitness() {
        return object("fitness");
    }

    /**
     * Per stage, the largest absolute deviation the 1e-5 weight perturbation caused in torchvision
     * ("features", "proposals", "class_logits", "box_regression", "boxes", "scores", "mask_probs";
     * null where a count changed): the scale of an honest element-wise tolerance.
     */
    public double stageDeviation(String stage) {
        Object v = object("stage_deviation").get(stage);
        if (!(v instanceof Number)) {
            throw new IllegalStateException("parity case " + name + ": no stage deviation for " + stage + " (" + v + ")");
        }
        return ((Number) v).doubleValue();
    }

    /** The parsed case.json (Map/List/Long/Double/String/Boolean). */
    public Map<String, Object> json() {
        return Collections.unmodifiableMap(json);
    }

    @SuppressWarnings("unchecked")
    private Map<String, Object> object(String key) {
        Object o = json.get(key);
        return o == null ? new LinkedHashMap<>() : (Map<String, Object>) o;
    }

    private List<?> list(String key) {
        Object o = json.get(key);
        if (!(o instanceof List)) {
            throw new IllegalStateException("parity case " + name + ": case.json has no list " + key);
        }
        return (List<?>) o;
    }

    private Map<?, ?> imageEntry(int i) {
        List<?> images = list("images");
        if (i < 0 || i >= images.size()) {
            throw new IndexOutOfBoundsException("parity case " + name + " has " + images.size() + " images, not " + i);
        }
        return (Map<?, ?>) images.get(i);
    }

    private static int intValue(Object o) {
        return Math.toIntExact(((Number) o).longValue());
    }

    @Override
    public String toString() {
        return "ParityCase(" + name + " at " + dir + ")";
    }
}
