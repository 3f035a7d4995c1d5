package dev.maskrcnn4j.cli;

import dev.maskrcnn4j.Detection;
import dev.maskrcnn4j.Device;
import dev.maskrcnn4j.ImagePrediction;
import dev.maskrcnn4j.InputImage;
import dev.maskrcnn4j.MaskRcnn;
import dev.maskrcnn4j.MaskRcnnConfig;
import dev.maskrcnn4j.MaskRcnnException;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;
import javax.imageio.ImageIO;

/**
 * {@code predict}: runs Mask R-CNN on images and writes COCO results and/or overlay PNGs.
 *
 * <p>Everything that can be checked cheaply is checked before the model is loaded: the options,
 * the device, the weights file, that every image decodes, and that the outputs can be created.
 * Then the model is loaded and the images are predicted one by one (a summary line each on
 * stdout), their results streamed into staged outputs ({@link AtomicOutputs}) that are moved into
 * place only after the last image succeeded. Any failure prints one line on stderr and leaves no
 * output behind.
 */
final class PredictCommand {
    /** The model as this command uses it (an interface so tests can run the command with a stand-in). */
    interface Model extends AutoCloseable {
        ImagePrediction predict(InputImage image);

        @Override
        void close();
    }

    /** Loads a {@link Model}; throws the library's exceptions as {@link MaskRcnn#load} does. */
    interface ModelLoader {
        Model load(String weightsPathOrUrl, MaskRcnnConfig config, Device device);
    }

    /** The real model. */
    static final ModelLoader MASK_RCNN = (weights, config, device) -> {
        MaskRcnn model = MaskRcnn.load(weights, config, device);
        return new Model() {
            @Override
            public ImagePrediction predict(InputImage image) {
                return model.predict(image);
            }

            @Override
            public void close() {
                model.close();
            }
        };
    };

    private PredictCommand() {
    }

    /** Runs {@code predict ARGS} (the arguments after "predict"); returns the exit code. */
    static int run(String[] args, PrintStream out, PrintStream err) {
        return run(args, out, err, MASK_RCNN);
    }

    static int run(String[] args, PrintStream out, PrintStream err, ModelLoader loader) {
        try {
            PredictOptions options = PredictOptions.parse(args);
            checkInputs(options);
            predict(options, loader, out);
            return 0;
        } catch (PredictOptions.HelpRequested h) {
            out.println(PredictOptions.USAGE);
            return 0;
        } catch (CommandFailure f) {
            err.println("maskrcnn4j: " + CommandFailure.oneLine(f.getMessage()));
            return f.exitCode();
        } catch (MaskRcnnException | UnsupportedOperationException | UncheckedIOException e) {
            err.println("maskrcnn4j: " + CommandFailure.oneLine(e.getMessage()));
            return CommandFailure.FAILURE;
        } catch (OutOfMemoryError e) {
            err.println("maskrcnn4j: out of memory (give the JVM more with java -Xmx..., or pass fewer images per call)");
            return CommandFailure.FAILURE;
        } catch (RuntimeException e) { // a bug: still one line, the trace on request
            err.println("maskrcnn4j: internal error: " + CommandFailure.oneLine(e.toString())
                    + (System.getenv("MASKRCNN4J_DEBUG") == null ? " (set MASKRCNN4J_DEBUG=1 for the stack trace)" : ""));
            if (System.getenv("MASKRCNN4J_DEBUG") != null) {
                e.printStackTrace(err);
            }
            return CommandFailure.FAILURE;
        }
    }

    /** Every check that needs neither the model nor writing: device, weights file, images, output locations. */
    static void checkInputs(PredictOptions o) throws CommandFailure {
        try {
            o.device().requireAvailable();
        } catch (MaskRcnnException | LinkageError e) { // LinkageError: the native library failed to load
            throw CommandFailure.failure(e instanceof MaskRcnnException ? e.getMessage()
                    : "device " + o.device().label() + " is not available: " + e);
        }
        if (!o.weightsIsUrl()) {
            checkReadableFile("weights", Path.of(o.weights()));
        }
        Map<String, Path> byImageId = new HashMap<>();
        Map<String, Path> byOverlay = new HashMap<>();
        for (Path image : o.images()) {
            ImageFiles.readRgb(image); // decodes it fully once, so a bad image fails now, not after an hour
            Path sameId = byImageId.putIfAbsent(ImageFiles.imageId(image), image);
            if (sameId != null && o.output() != null) {
                throw CommandFailure.usage("images " + sameId + " and " + image
                        + " have the same file name, which is their image_id in the results");
            }
            Path sameOverlay = byOverlay.putIfAbsent(ImageFiles.overlayName(image), image);
            if (sameOverlay != null && o.overlayDir() != null) {
                throw CommandFailure.usage("images " + sameOverlay + " and " + image + " would both be drawn to "
                        + o.overlayDir().resolve(ImageFiles.overlayName(image)));
            }
        }
        if (o.output() != null) {
            if (Files.isDirectory(o.output())) {
                throw CommandFailure.failure("--output " + o.output() + " is a directory");
            }
            checkWritableDir("--output " + o.output(), o.output().toAbsolutePath().getParent());
        }
        if (o.overlayDir() != null) {
            Path dir = o.overlayDir();
            if (Files.exists(dir)) {
                if (!Files.isDirectory(dir)) {
                    throw CommandFailure.failure("--overlay " + dir + " exists and is not a directory");
                }
                checkWritableDir("--overlay " + dir, dir);
                for (Path image : o.images()) {
                    Path target = dir.resolve(ImageFiles.overlayName(image));
                    if (Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS)) {
                        throw CommandFailure.failure("--overlay: " + target + " is a directory");
                    }
                }
            } else {
                checkWritableDir("--overlay " + dir, dir.toAbsolutePath().getParent());
            }
        }
    }

    private static void predict(PredictOptions o, ModelLoader loader, PrintStream out) throws CommandFailure {
        Model model;
        try {
            model = loader.load(o.weights(), o.config(), o.device());
        } catch (MaskRcnnException | UnsupportedOperationException | UncheckedIOException e) {
            throw CommandFailure.failure(loadFailure(o.weights(), e));
        }
        try (Model m = model; AtomicOutputs outputs = AtomicOutputs.begin(o.output(), o.overlayDir())) {
            long detections = 0;
            try (Writer writer = outputs.resultsFile() == null ? null
                    : Files.newBufferedWriter(outputs.resultsFile(), StandardCharsets.UTF_8)) {
                CocoResultsJson results = writer == null ? null : new CocoResultsJson(writer);
                for (Path image : o.images()) {
                    BufferedImage rgb = ImageFiles.readRgb(image);
                    long start = System.nanoTime();
                    ImagePrediction prediction;
                    try {
                        prediction = m.predict(InputImage.of(rgb));
                    } catch (MaskRcnnException | UnsupportedOperationException | UncheckedIOException e) {
                        throw CommandFailure.failure("prediction failed on image " + image + ": "
                                + CommandFailure.oneLine(e.getMessage()));
                    }
                    long nanos = System.nanoTime() - start;
                    out.println(summary(image, prediction, nanos));
                    detections += prediction.detections().size();
                    if (results != null) {
                        results.add(ImageFiles.imageId(image), prediction);
                    }
                    if (o.overlayDir() != null) {
                        writePng(OverlayRenderer.render(rgb, prediction),
                                outputs.overlayFile(ImageFiles.overlayName(image)));
                    }
                }
                if (results != null) {
                    results.finish();
                }
            }
            outputs.commit();
            if (o.output() != null) {
                out.println("wrote " + detections + " detection" + (detections == 1 ? "" : "s") + " of "
                        + o.images().size() + " image" + (o.images().size() == 1 ? "" : "s") + " to " + o.output());
            }
            if (o.overlayDir() != null) {
                out.println("wrote " + o.images().size() + " overlay" + (o.images().size() == 1 ? "" : "s")
                        + " to " + o.overlayDir());
            }
        } catch (IOException e) {
            throw CommandFailure.failure("writing outputs: " + describe(e));
        }
    }

    /** "a.jpg: 3 detections (2 person, 1 dog) in 812 ms". */
    static String summary(Path image, ImagePrediction p, long nanos) {
        int n = p.detections().size();
        String ms = String.format(Locale.ROOT, "%.0f ms", nanos / 1e6);
        if (n == 0) {
            return image + ": no detections in " + ms;
        }
        Map<String, Integer> perCategory = new LinkedHashMap<>();
        for (Detection d : p.detections()) {
            perCategory.merge(d.categoryName(), 1, Integer::sum);
        }
        String categories = perCategory.entrySet().stream()
                .sorted((a, b) -> b.getValue() - a.getValue())
                .limit(6)
                .map(e -> e.getValue() + " " + e.getKey())
                .collect(Collectors.joining(", ", "", perCategory.size() > 6 ? ", ..." : ""));
        return image + ": " + n + " detection" + (n == 1 ? "" : "s") + " (" + categories + ") in " + ms;
    }

    private static void writePng(BufferedImage image, Path file) throws IOException {
        try (OutputStream os = Files.newOutputStream(file)) {
            if (!ImageIO.write(image, "png", os)) {
                throw new IOException("this JVM has no PNG writer");
            }
        }
    }

    /** The load failure as one line naming the weights (the library's messages usually do already). */
    static String loadFailure(String weights, RuntimeException e) {
        String m = CommandFailure.oneLine(e.getMessage());
        if (e instanceof UnsupportedOperationException) {
            m = "loading a model is not supported by this build (" + m + ")";
        }
        return m.contains(weights) ? m : "cannot load weights " + weights + ": " + m;
    }

    private static void checkReadableFile(String what, Path file) throws CommandFailure {
        if (!Files.exists(file)) {
            throw CommandFailure.failure(what + " " + file + ": no such file");
        }
        if (!Files.isRegularFile(file)) {
            throw CommandFailure.failure(what + " " + file + ": not a regular file");
        }
        if (!Files.isReadable(file)) {
            throw CommandFailure.failure(what + " " + file + ": not readable");
        }
    }

    private static void checkWritableDir(String what, Path dir) throws CommandFailure {
        if (!Files.isDirectory(dir)) {
            throw CommandFailure.failure(what + ": directory " + dir + " does not exist");
        }
        if (!Files.isWritable(dir)) {
            throw CommandFailure.failure(what + ": directory " + dir + " is not writable");
        }
    }

    /** An IOException as words: the JDK's messages for file errors are often just the path. */
    static String describe(IOException e) {
        if (e instanceof NoSuchFileException f) {
            return f.getFile() + ": no such file or directory";
        }
        if (e instanceof AccessDeniedException f) {
            return f.getFile() + ": permission denied";
        }
        if (e instanceof FileSystemException f && f.getReason() != null) {
            return f.getMessage();
        }
        return CommandFailure.oneLine(e.getMessage() != null ? e.getMessage() : e.toString());
    }
}
