package dev.maskrcnn4j.cli;

import dev.maskrcnn4j.Device;
import dev.maskrcnn4j.InvalidArgumentException;
import dev.maskrcnn4j.MaskRcnnConfig;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The command line of {@code predict}, parsed and checked for form (files are checked later).
 * Options take their value as the next argument or after '='; "--" ends the options.
 *
 * @param weights        checkpoint file or http(s) URL
 * @param config         the architecture's config with the score threshold applied
 * @param device         where the model runs
 * @param output         COCO results file to write, or null
 * @param overlayDir     directory for the overlay PNGs, or null
 * @param images         the images, in command-line order
 */
record PredictOptions(String weights, MaskRcnnConfig config, Device device, Path output, Path overlayDir,
        List<Path> images) {

    static final String DEFAULT_ARCH = "maskrcnn_resnet50_fpn";

    static final String USAGE = String.join("\n",
            "usage: java -jar maskrcnn4j.jar predict --weights FILE_OR_URL [--arch NAME] [--device cpu|cuda]",
            "                                       [--score-threshold F] [--output results.json] [--overlay DIR] IMAGE...",
            "  --weights FILE_OR_URL  torchvision checkpoint (.pth, .pt or .safetensors); an http(s) URL is",
            "                         downloaded once into ~/.cache/maskrcnn4j/weights (or $MASKRCNN4J_CACHE)",
            "  --arch NAME            " + String.join(", ", MaskRcnnConfig.ARCHS) + " (default " + DEFAULT_ARCH + ")",
            "  --device NAME          cpu (default), cuda, or cuda-emulated (CUDA kernels emulated on the CPU; slow)",
            "  --score-threshold F    keep detections scoring above F, 0 <= F <= 1 (torchvision's box_score_thresh, default 0.05)",
            "  --output FILE          write every detection as a COCO results JSON array (image_id = image file name,",
            "                         bbox = [x, y, w, h] in image pixels, segmentation = compressed RLE of the mask)",
            "  --overlay DIR          write each image with its masks, boxes and labels drawn as DIR/<name>.png",
            "  -h, --help             this text",
            "Outputs appear only when every image succeeded. Exit code 0 on success, 2 for a wrong command line,",
            "1 for any other failure (one line on stderr says which).");

    /** Thrown for {@code -h}/{@code --help}: the caller prints {@link #USAGE} and succeeds. */
    static final class HelpRequested extends Exception {
        private static final long serialVersionUID = 1L;

        HelpRequested() {
            super(null, null, false, false);
        }
    }

    /** Parses the arguments after "predict". */
    static PredictOptions parse(String[] args) throws CommandFailure, HelpRequested {
        String weights = null;
        String arch = null;
        String device = null;
        String threshold = null;
        String output = null;
        String overlay = null;
        List<String> images = new ArrayList<>();
        for (String arg : args) {
            if (arg.equals("--")) {
                break;
            }
            if (arg.equals("-h") || arg.equals("--help")) {
                throw new HelpRequested();
            }
        }
        boolean optionsEnded = false;
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            if (optionsEnded || !arg.startsWith("-") || arg.equals("-")) {
                images.add(arg);
                continue;
            }
            if (arg.equals("--")) {
                optionsEnded = true;
                continue;
            }
            int eq = arg.indexOf('=');
            String name = eq > 0 ? arg.substring(0, eq) : arg;
            String value;
            if (eq > 0) {
                value = arg.substring(eq + 1);
            } else if (i + 1 < args.length && !args[i + 1].startsWith("--")) {
                value = args[++i];
            } else {
                value = null;
            }
            switch (name) {
                case "--weights" -> weights = once(name, weights, value);
                case "--arch" -> arch = once(name, arch, value);
                case "--device" -> device = once(name, device, value);
                case "--score-threshold" -> threshold = once(name, threshold, value);
                case "--output" -> output = once(name, output, value);
                case "--overlay" -> overlay = once(name, overlay, value);
                default -> throw CommandFailure.usage("predict: unknown option '" + name + "' (see predict --help)");
            }
        }
        if (weights == null) {
            throw CommandFailure.usage("predict: missing --weights FILE_OR_URL (see predict --help)");
        }
        if (images.isEmpty()) {
            throw CommandFailure.usage("predict: no images given (see predict --help)");
        }
        MaskRcnnConfig config;
        try {
            config = MaskRcnnConfig.forArch(arch == null ? DEFAULT_ARCH : arch);
        } catch (InvalidArgumentException e) {
            throw CommandFailure.usage("--arch: " + e.getMessage());
        }
        if (threshold != null) {
            config = config.toBuilder().boxScoreThresh(scoreThreshold(threshold)).build();
        }
        Device dev;
        try {
            dev = device == null ? Device.CPU : Device.fromLabel(device);
        } catch (InvalidArgumentException e) {
            throw CommandFailure.usage("--device: " + e.getMessage());
        }
        List<Path> imagePaths = new ArrayList<>();
        for (String image : images) {
            imagePaths.add(path("image", image));
        }
        return new PredictOptions(weights, config, dev, output == null ? null : path("--output", output),
                overlay == null ? null : path("--overlay", overlay), List.copyOf(imagePaths));
    }

    /** True when {@link #weights()} is a URL to download rather than a file. */
    boolean weightsIsUrl() {
        String w = weights.toLowerCase(Locale.ROOT);
        return w.startsWith("http://") || w.startsWith("https://");
    }

    private static String once(String name, String previous, String value) throws CommandFailure {
        if (value == null || value.isEmpty()) {
            throw CommandFailure.usage("predict: " + name + " needs a value (see predict --help)");
        }
        if (previous != null) {
            throw CommandFailure.usage("predict: " + name + " given twice");
        }
        return value;
    }

    private static double scoreThreshold(String s) throws CommandFailure {
        double v;
        try {
            v = Double.parseDouble(s.strip());
        } catch (NumberFormatException e) {
            v = Double.NaN;
        }
        if (!(v >= 0 && v <= 1)) { // also rejects NaN
            throw CommandFailure.usage("--score-threshold must be a number from 0 to 1, got '" + s + "'");
        }
        return v;
    }

    private static Path path(String what, String s) throws CommandFailure {
        try {
            return Path.of(s);
        } catch (InvalidPathException e) {
            throw CommandFailure.usage(what + ": not a valid path '" + s + "': " + e.getReason());
        }
    }
}
